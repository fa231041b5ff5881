/*
Copyright 2026.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

	http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/
package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// MaxCohortStatusEntries bounds the lists of sandboxes in a cohort's status,
// so that a class of a thousand does not make a status of a thousand entries.
const MaxCohortStatusEntries = 20

// LearningCohortSpec is a class: one LearningSandbox per learner on the roster,
// all of one stage and one template.
// +kubebuilder:validation:XValidation:rule="!has(self.startsAt) || !has(self.endsAt) || self.endsAt > self.startsAt",message="endsAt is when the class ends, after startsAt: set endsAt later than startsAt, or remove one of them"
type LearningCohortSpec struct {
	// stage is the name of the RoadmapStage every sandbox of the class runs.
	// Changing it moves the sandboxes to that stage, maxUnavailable at a time.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +required
	Stage string `json:"stage"`

	// learners is the roster: each gets a sandbox named <cohort>-<learner>.
	// A learner removed from it loses their sandbox.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=1000
	// +optional
	Learners []CohortLearner `json:"learners,omitempty"`

	// template is what every sandbox of the class gets.
	// +optional
	Template SandboxTemplate `json:"template,omitzero"`

	// suspend scales every sandbox of the class to zero and keeps the data,
	// for nights and weekends; false brings them all back.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// startsAt is when the class starts. The sandboxes are created ahead of
	// it, by the operator's lead time (one hour by default), so that they are
	// ready when the class starts. Unset: they are created at once.
	// +optional
	StartsAt *metav1.Time `json:"startsAt,omitempty"`

	// endsAt is when the class ends: then every sandbox of the class is
	// deleted, with its data. Unset: the class runs until the cohort is deleted.
	// +optional
	EndsAt *metav1.Time `json:"endsAt,omitempty"`

	// maxUnavailable is how many sandboxes a change of stage or template may
	// take away from their learners at once: a number, or a percentage of the
	// learners rounded up. At least one. Sandboxes of new learners, and
	// suspending or resuming, are not held back by it.
	// +kubebuilder:default="10%"
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 1 : self.matches('^(100|[1-9][0-9]?)%$')",message="maxUnavailable is a number of sandboxes of at least 1, such as 5, or a percentage from 1% to 100%, such as 10%"
	// +optional
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`

	// export writes the class roster into a Secret: which sandbox, namespace
	// and Secrets each learner has. It holds the names of Secrets only, never
	// a password or a token.
	// +optional
	Export *RosterExport `json:"export,omitempty"`
}

// CohortLearner is one learner on a cohort's roster.
type CohortLearner struct {
	// name of the learner, a DNS label; their sandbox is named <cohort>-<name>.
	// Renaming a learner gives them a new sandbox and deletes the old one.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=53
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +required
	Name string `json:"name"`

	// users (as the cluster authenticates them) who get the learner Role in
	// the learner's sandbox.
	// +listType=set
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.all(u, !u.startsWith('system:'))",message="users cannot name a system: user (such as system:anonymous or a ServiceAccount): name the learner's own user, as the cluster authenticates them"
	// +optional
	Users []string `json:"users,omitempty"`

	// groups whose members get the learner Role in the learner's sandbox.
	// +listType=set
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.all(g, !g.startsWith('system:'))",message="groups cannot name a system: group (such as system:authenticated, which is everyone): name a group of learners"
	// +optional
	Groups []string `json:"groups,omitempty"`

	// workspace is this learner's choice for their Workspace, such as their
	// language; it replaces the template's.
	// +optional
	Workspace *Workspace `json:"workspace,omitempty"`
}

// SandboxTemplate is what every sandbox of a cohort gets: the fields of a
// LearningSandbox's spec that are the same for the whole class.
type SandboxTemplate struct {
	// ttl is how long each sandbox lives after it was created. A sandbox that
	// expired is not created again: once ttl has passed since the class
	// started, the cohort creates no more sandboxes. Unset: they live until
	// the class ends.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m') && duration(self) <= duration('8760h')",message="ttl is a duration from 1m to 8760h (a year), for example 336h"
	// +optional
	TTL *metav1.Duration `json:"ttl,omitempty"`

	// access says how the learners get in.
	// +optional
	Access Access `json:"access,omitzero"`

	// components overrides components of the stage by name, in every sandbox.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=20
	// +optional
	Components []ComponentOverride `json:"components,omitempty"`

	// workspace is the class's choice for the stage's Workspace, such as the
	// language every learner writes in; a learner's own choice on the roster
	// replaces it.
	// +optional
	Workspace *Workspace `json:"workspace,omitempty"`

	// budget lowers the stage's budget for every sandbox; it cannot raise it.
	// +optional
	Budget *Budget `json:"budget,omitempty"`

	// resetGeneration, when raised, wipes every sandbox's data and provisions
	// its stack again from scratch, maxUnavailable sandboxes at a time.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:XValidation:rule="self >= oldSelf",message="resetGeneration only goes up: set it to a higher number to reset again"
	// +kubebuilder:default=0
	// +optional
	ResetGeneration int64 `json:"resetGeneration,omitempty"`
}

// RosterExport says where a cohort's roster Secret goes.
type RosterExport struct {
	// namespace of the roster Secret; it must exist.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +required
	Namespace string `json:"namespace"`

	// name of the roster Secret; <cohort>-roster when unset.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +optional
	Name string `json:"name,omitempty"`
}

// SandboxNotReady says why one sandbox of a cohort is not ready.
type SandboxNotReady struct {
	// sandbox is the name of the LearningSandbox.
	Sandbox string `json:"sandbox"`
	// reason is the reason of the sandbox's Ready condition, or why the cohort
	// has not made it (yet).
	Reason string `json:"reason"`
	// message says what the sandbox is waiting for.
	// +optional
	Message string `json:"message,omitempty"`
}

// LearningCohortStatus is what the operator observed of a cohort.
type LearningCohortStatus struct {
	// observedGeneration is the generation the status was computed for.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// learners counts the learners on the roster.
	// +optional
	Learners int32 `json:"learners,omitempty"`

	// readySandboxes counts the learners' sandboxes that are ready at their
	// current spec, suspended ones included.
	// +optional
	ReadySandboxes int32 `json:"readySandboxes,omitempty"`

	// suspendedSandboxes counts the ready sandboxes that are suspended.
	// +optional
	SuspendedSandboxes int32 `json:"suspendedSandboxes,omitempty"`

	// failedSandboxes counts the sandboxes that are stalled: they cannot
	// progress until their spec or their surroundings change.
	// +optional
	FailedSandboxes int32 `json:"failedSandboxes,omitempty"`

	// updatedSandboxes counts the sandboxes that have the cohort's current
	// stage and template; a change of them rolls out until all have.
	// +optional
	UpdatedSandboxes int32 `json:"updatedSandboxes,omitempty"`

	// ready is readySandboxes/learners, for printing.
	// +optional
	Ready string `json:"ready,omitempty"`

	// notReady names sandboxes that are not ready and why: the first 20 in
	// roster order; the Ready condition counts them all.
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=20
	// +optional
	NotReady []SandboxNotReady `json:"notReady,omitempty"`

	// conflicts names sandboxes that the roster asks for but that exist and
	// belong to someone else: they are left alone, and their learners have no
	// sandbox until they are deleted or the learners renamed. The first 20.
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=20
	// +optional
	Conflicts []string `json:"conflicts,omitempty"`

	// learnersCompleted counts the learners who passed every exercise of the stage.
	// +optional
	LearnersCompleted int32 `json:"learnersCompleted,omitempty"`

	// exercises counts, for each exercise of the stage, the learners who passed it.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=20
	// +optional
	Exercises []CohortExerciseStatus `json:"exercises,omitempty"`

	// lastHandledCheckAt is the value of the check-requested-at annotation
	// that was last passed on to the sandboxes.
	// +optional
	LastHandledCheckAt string `json:"lastHandledCheckAt,omitempty"`

	// capacity is whether the class fits in the cluster, measured before its
	// sandboxes are created and again while they are provisioned: the
	// condition CapacityShort says it in words.
	// +optional
	Capacity *CohortCapacity `json:"capacity,omitempty"`

	// conditions: Ready, Reconciling and Stalled, with kstatus semantics, and
	// CapacityShort, True when the class needs more than the nodes can give.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// CohortCapacity compares what a class may use with what the cluster can give it.
type CohortCapacity struct {
	// needed is the sum of the quotas of the cohort's sandboxes: cpu and
	// memory (requests), pods and storage.
	// +optional
	Needed corev1.ResourceList `json:"needed,omitempty"`

	// available is what the schedulable nodes can give the class: their
	// allocatable cpu, memory and pods less the requests of the pods bound to
	// them, the class's own pods excepted. Storage comes from the storage
	// class, not the nodes, and is not compared.
	// +optional
	Available corev1.ResourceList `json:"available,omitempty"`

	// nodes counts the schedulable nodes: Ready, not cordoned, without a
	// NoSchedule or NoExecute taint.
	// +optional
	Nodes int32 `json:"nodes,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=lcohort,categories=learning
// +kubebuilder:printcolumn:name="Stage",type=string,JSONPath=`.spec.stage`
// +kubebuilder:printcolumn:name="Learners",type=integer,JSONPath=`.status.learners`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.ready`
// +kubebuilder:printcolumn:name="Completed",type=integer,JSONPath=`.status.learnersCompleted`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// LearningCohort is a class: it provisions, edits and tears down one
// LearningSandbox per learner on its roster.
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && self.metadata.name.size() <= 53",message="a cohort name starts its sandboxes' names: use lowercase letters, digits and '-' only, starting and ending with a letter or digit, at most 53 characters, for example fall26"
// +kubebuilder:validation:XValidation:rule="!has(self.spec.learners) || self.spec.learners.all(l, self.metadata.name.size() + 1 + l.name.size() <= 55)",message="every sandbox is named <cohort>-<learner> and has at most 55 characters, so that its namespace sandbox-<name> fits in 63: shorten the cohort name or the learner's name"
type LearningCohort struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is a standard object metadata
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// spec is the roster, the stage, the template and the schedule.
	// +required
	Spec LearningCohortSpec `json:"spec"`

	// status is what the operator observed.
	// +optional
	Status LearningCohortStatus `json:"status,omitzero"`
}

// GetConditions returns the cohort's conditions.
func (in *LearningCohort) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the cohort's conditions.
func (in *LearningCohort) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// SandboxName is the name of the learner's sandbox in this cohort.
func (in *LearningCohort) SandboxName(learner string) string {
	return in.Name + "-" + learner
}

// +kubebuilder:object:root=true

// LearningCohortList contains a list of LearningCohort
type LearningCohortList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []LearningCohort `json:"items"`
}

func init() {
	SchemeBuilder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(SchemeGroupVersion, &LearningCohort{}, &LearningCohortList{})
		return nil
	})
}
