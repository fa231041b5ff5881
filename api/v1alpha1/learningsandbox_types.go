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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// LearningSandboxSpec is one learner's practice environment for one stage.
type LearningSandboxSpec struct {
	// learner the sandbox is for; their users and groups get the learner Role
	// in the sandbox namespace.
	// +required
	Learner Learner `json:"learner"`

	// stage is the name of the RoadmapStage whose stack the sandbox runs.
	// Changing it moves the sandbox to that stage: components the two stages
	// share keep their data, new ones are added and the rest removed.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +required
	Stage string `json:"stage"`

	// ttl is how long the sandbox lives after it was created; it deletes itself
	// at status.expiresAt. Unset: it lives until deleted.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m') && duration(self) <= duration('8760h')",message="ttl is a duration from 1m to 8760h (a year), for example 72h"
	// +optional
	TTL *metav1.Duration `json:"ttl,omitempty"`

	// suspend scales every workload to zero and keeps the data; false brings the
	// stack back with the same data.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// resetGeneration, when raised, wipes the sandbox's data and provisions the
	// stack again from scratch, once per new value.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:XValidation:rule="self >= oldSelf",message="resetGeneration only goes up: set it to a higher number to reset again"
	// +kubebuilder:default=0
	// +optional
	ResetGeneration int64 `json:"resetGeneration,omitempty"`

	// budget lowers the stage's budget for this sandbox; it cannot raise it.
	// +optional
	Budget *Budget `json:"budget,omitempty"`

	// access says how the learner gets in.
	// +optional
	Access Access `json:"access,omitzero"`

	// components overrides components of the stage by name.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=20
	// +optional
	Components []ComponentOverride `json:"components,omitempty"`

	// workspace is the learner's choice for the stage's Workspace component,
	// such as its language.
	// +optional
	Workspace *Workspace `json:"workspace,omitempty"`
}

// Learner is the person a sandbox is for.
type Learner struct {
	// name of the learner, a DNS label; it cannot change once the sandbox exists.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="learner.name cannot change: create a new sandbox for another learner"
	// +required
	Name string `json:"name"`

	// users (as the cluster authenticates them) who get the learner Role.
	// +listType=set
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.all(u, !u.startsWith('system:'))",message="users cannot name a system: user (such as system:anonymous or a ServiceAccount): name the learner's own user, as the cluster authenticates them"
	// +optional
	Users []string `json:"users,omitempty"`

	// groups whose members get the learner Role.
	// +listType=set
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.all(g, !g.startsWith('system:'))",message="groups cannot name a system: group (such as system:authenticated, which is everyone): name a group of learners"
	// +optional
	Groups []string `json:"groups,omitempty"`
}

// Access says how a learner gets into their sandbox.
type Access struct {
	// kubeconfig: when true, a Secret in the sandbox namespace holds a kubeconfig
	// for the learner ServiceAccount with a short-lived token.
	// +optional
	Kubeconfig bool `json:"kubeconfig,omitempty"`
}

// Phase is a one-word summary of a sandbox for people; conditions are the API.
// +kubebuilder:validation:Enum=Pending;Provisioning;Ready;Suspended;Failed;Terminating
type Phase string

const (
	PhasePending      Phase = "Pending"
	PhaseProvisioning Phase = "Provisioning"
	PhaseReady        Phase = "Ready"
	PhaseSuspended    Phase = "Suspended"
	PhaseFailed       Phase = "Failed"
	PhaseTerminating  Phase = "Terminating"
)

// ComponentStatus is what the operator observed of one component.
type ComponentStatus struct {
	// name of the component.
	Name string `json:"name"`
	// type of the component.
	Type ComponentType `json:"type"`
	// ready is true when the component's workload is available at its desired scale.
	Ready bool `json:"ready"`
	// endpoint is host:port of the component's Service inside the cluster.
	// +optional
	Endpoint string `json:"endpoint,omitempty"`
	// message says what the component is waiting for, when it is not ready.
	// +optional
	Message string `json:"message,omitempty"`
}

// LearningSandboxStatus is what the operator observed of a sandbox.
type LearningSandboxStatus struct {
	// observedGeneration is the generation the status was computed for.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// phase summarises the conditions in one word.
	// +optional
	Phase Phase `json:"phase,omitempty"`

	// namespace the sandbox runs in.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// readyComponents counts the components that are ready.
	// +optional
	ReadyComponents int32 `json:"readyComponents,omitempty"`

	// totalComponents counts the components the sandbox runs.
	// +optional
	TotalComponents int32 `json:"totalComponents,omitempty"`

	// componentsReady is readyComponents/totalComponents, for printing.
	// +optional
	ComponentsReady string `json:"componentsReady,omitempty"`

	// components is the state of each component.
	// +listType=map
	// +listMapKey=name
	// +optional
	Components []ComponentStatus `json:"components,omitempty"`

	// connectionSecret is the Secret in the sandbox namespace with the URLs,
	// hosts, ports, users and passwords of the stack.
	// +optional
	ConnectionSecret string `json:"connectionSecret,omitempty"`

	// kubeconfigSecret is the Secret in the sandbox namespace with the learner's kubeconfig.
	// +optional
	KubeconfigSecret string `json:"kubeconfigSecret,omitempty"`

	// lastResetGeneration is the spec.resetGeneration whose reset was last
	// done: its data was wiped and the stack provisioned again.
	// +optional
	LastResetGeneration int64 `json:"lastResetGeneration,omitempty"`

	// expiresAt is when the sandbox deletes itself.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`

	// provisionedAt is when every component of the sandbox was first ready:
	// the end of its provisioning. It is kept through suspensions and resets.
	// +optional
	ProvisionedAt *metav1.Time `json:"provisionedAt,omitempty"`

	// exercisesPassed counts the stage's exercises whose last check passed.
	// +optional
	ExercisesPassed int32 `json:"exercisesPassed,omitempty"`

	// exercisesTotal counts the stage's exercises.
	// +optional
	ExercisesTotal int32 `json:"exercisesTotal,omitempty"`

	// exercisesDone is exercisesPassed/exercisesTotal, for printing.
	// +optional
	ExercisesDone string `json:"exercisesDone,omitempty"`

	// exercises is the last result of each exercise's check.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=20
	// +optional
	Exercises []ExerciseStatus `json:"exercises,omitempty"`

	// lastHandledCheckAt is the value of the check-requested-at annotation
	// that was last handled.
	// +optional
	LastHandledCheckAt string `json:"lastHandledCheckAt,omitempty"`

	// conditions: Ready, Reconciling and Stalled, with kstatus semantics.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=lsb,categories=learning
// +kubebuilder:printcolumn:name="Learner",type=string,JSONPath=`.spec.learner.name`
// +kubebuilder:printcolumn:name="Stage",type=string,JSONPath=`.spec.stage`
// +kubebuilder:printcolumn:name="Namespace",type=string,JSONPath=`.status.namespace`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.componentsReady`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Exercises",type=string,JSONPath=`.status.exercisesDone`
// +kubebuilder:printcolumn:name="Expires",type=string,JSONPath=`.status.expiresAt`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// LearningSandbox is one learner's disposable practice environment: a namespace
// running the stack of one RoadmapStage.
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="a sandbox name becomes part of a namespace name: use lowercase letters, digits and '-' only, starting and ending with a letter or digit, for example fall26-ada"
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 55",message="a sandbox name has at most 55 characters, so that the namespace sandbox-<name> fits in 63"
type LearningSandbox struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is a standard object metadata
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// spec is the learner, the stage and what to change of it.
	// +required
	Spec LearningSandboxSpec `json:"spec"`

	// status is what the operator observed.
	// +optional
	Status LearningSandboxStatus `json:"status,omitzero"`
}

// GetConditions returns the sandbox's conditions.
func (in *LearningSandbox) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the sandbox's conditions.
func (in *LearningSandbox) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// +kubebuilder:object:root=true

// LearningSandboxList contains a list of LearningSandbox
type LearningSandboxList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []LearningSandbox `json:"items"`
}

func init() {
	SchemeBuilder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(SchemeGroupVersion, &LearningSandbox{}, &LearningSandboxList{})
		return nil
	})
}
