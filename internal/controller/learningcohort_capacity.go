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

package controller

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/capacity"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// The operator reads the nodes to know what they can still give a class.
// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;list

// CapacityInterval is how often, at most, the cluster's capacity is measured
// (one list of the nodes and one, in pages, of the pods, shared by every
// class), and how often a class that is not yet all Ready is compared again.
const CapacityInterval = time.Minute

// reconcileCapacity says in the cohort's status whether the class fits:
// before its sandboxes are created, and while some are not Ready. A class
// whose sandboxes are all Ready is not measured again (it runs), so a class
// at rest reads and writes nothing for it. It returns when to look again.
func (r *LearningCohortReconciler) reconcileCapacity(ctx context.Context, c *sandboxv1.LearningCohort,
	owned map[string]*sandboxv1.LearningSandbox) (time.Duration, error) {
	if r.Capacity == nil || len(c.Spec.Learners) == 0 || allReady(c, owned) {
		return 0, nil
	}
	stage := &sandboxv1.RoadmapStage{}
	if err := r.Get(ctx, client.ObjectKey{Name: c.Spec.Stage}, stage); err != nil {
		// The sandboxes say that their stage is missing; nothing to measure.
		return 0, client.IgnoreNotFound(err)
	}
	snap, err := r.Capacity.Get(ctx)
	if err != nil {
		// Not knowing whether the class fits never holds it back: the
		// condition says why it is unknown (the operator's RBAC, say), and
		// the class is measured again in a minute.
		ctrl.LoggerFrom(ctx).Error(err, "Failed to measure the cluster's capacity")
		apimeta.SetStatusCondition(&c.Status.Conditions, metav1.Condition{Type: sandboxv1.CapacityShortCondition,
			Status: metav1.ConditionUnknown, Reason: sandboxv1.ReasonCapacityUnknown, ObservedGeneration: c.Generation,
			Message: "cannot measure what the nodes can give: " + err.Error()})
		return CapacityInterval, nil
	}
	// A cohort reconciles at every change of one of its sandboxes; what it
	// needs and what the nodes give change only with the roster, the stage
	// or a new measurement, so the same three are compared only once.
	mark := capacityMark{cohort: c.Generation, stage: stage.Generation, measured: snap.TakenAt}
	if r.capacityMarks.same(c.Name, mark) &&
		apimeta.FindStatusCondition(c.Status.Conditions, sandboxv1.CapacityShortCondition) != nil {
		return CapacityInterval, nil
	}
	needed := r.classNeeds(c, stage)
	namespaces := make([]string, 0, len(c.Spec.Learners))
	for _, l := range c.Spec.Learners {
		namespaces = append(namespaces, r.Settings.NamespaceName(c.SandboxName(l.Name)))
	}
	available := snap.AvailableTo(namespaces)
	setCapacity(c, &sandboxv1.CohortCapacity{Needed: needed, Available: available, Nodes: int32(snap.Nodes)},
		r.NodeAutoscaler)
	r.capacityMarks.set(c.Name, mark)
	return CapacityInterval, nil
}

// capacityMark is what a cohort's capacity was last compared for: the
// cohort's and its stage's generations, and the measurement's time.
type capacityMark struct {
	cohort, stage int64
	measured      time.Time
}

// capacityMarks are the marks of the cohorts, by name.
type capacityMarks struct {
	mu    sync.Mutex
	marks map[string]capacityMark
}

// same reports whether the cohort was last compared for this mark.
func (m *capacityMarks) same(name string, mark capacityMark) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	last, ok := m.marks[name]
	return ok && last == mark
}

func (m *capacityMarks) set(name string, mark capacityMark) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.marks == nil {
		m.marks = map[string]capacityMark{}
	}
	m.marks[name] = mark
}

func (m *capacityMarks) forget(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.marks, name)
}

// allReady reports whether every learner on the roster has a Ready sandbox.
func allReady(c *sandboxv1.LearningCohort, owned map[string]*sandboxv1.LearningSandbox) bool {
	for _, l := range c.Spec.Learners {
		sb, ok := owned[c.SandboxName(l.Name)]
		if !ok || !sandboxReady(sb) {
			return false
		}
	}
	return true
}

// classNeeds sums the quotas of the learners' sandboxes as the cohort makes
// them: requests of cpu and memory, pods and storage. A sandbox whose budget
// is refused stalls and runs nothing (its own status says why): it needs
// nothing.
func (r *LearningCohortReconciler) classNeeds(c *sandboxv1.LearningCohort, stage *sandboxv1.RoadmapStage) corev1.ResourceList {
	var cpu, memory, storage resource.Quantity
	var pods int64
	for _, l := range c.Spec.Learners {
		sb := &sandboxv1.LearningSandbox{Spec: desiredSandboxSpec(c, l)}
		b, err := stack.ResolveBudget(sb, stage, r.Settings)
		if err != nil {
			continue
		}
		cpu.Add(*b.CPU)
		memory.Add(*b.Memory)
		storage.Add(*b.Storage)
		pods += int64(*b.Pods)
	}
	return corev1.ResourceList{
		corev1.ResourceCPU: cpu, corev1.ResourceMemory: memory, corev1.ResourceStorage: storage,
		corev1.ResourcePods: *resource.NewQuantity(pods, resource.DecimalSI),
	}
}

// setCapacity records the figures and the CapacityShort condition. While the
// verdict, the class's needs and the number of nodes stay the same, the
// figures of the last write are kept: a status write per change that
// matters, not per pod scheduled somewhere in the cluster.
func setCapacity(c *sandboxv1.LearningCohort, figures *sandboxv1.CohortCapacity, autoscaler bool) {
	short := capacity.Short(figures.Needed, figures.Available)
	reason, status := sandboxv1.ReasonCapacityFits, metav1.ConditionFalse
	switch {
	case len(short) > 0 && autoscaler:
		reason, status = sandboxv1.ReasonAutoscalerAddsNodes, metav1.ConditionTrue
	case len(short) > 0:
		reason, status = sandboxv1.ReasonNodesShort, metav1.ConditionTrue
	}
	prev := apimeta.FindStatusCondition(c.Status.Conditions, sandboxv1.CapacityShortCondition)
	if prev != nil && prev.Status == status && prev.Reason == reason && c.Status.Capacity != nil &&
		apiequality.Semantic.DeepEqual(c.Status.Capacity.Needed, figures.Needed) &&
		c.Status.Capacity.Nodes == figures.Nodes {
		// The same verdict for the same class on the same nodes: leave the
		// figures of the last write, so that the status is not written each
		// time a pod comes or goes.
		return
	}
	c.Status.Capacity = figures
	message := capacity.Describe(len(c.Spec.Learners), figures.Needed, figures.Available, int(figures.Nodes))
	switch reason {
	case sandboxv1.ReasonNodesShort:
		message += "; sandboxes will wait for room: add nodes, lower the stage's budget, or split the class"
	case sandboxv1.ReasonAutoscalerAddsNodes:
		message += "; the cluster's node autoscaler is expected to add nodes"
	}
	apimeta.SetStatusCondition(&c.Status.Conditions, metav1.Condition{Type: sandboxv1.CapacityShortCondition,
		Status: status, Reason: reason, Message: message, ObservedGeneration: c.Generation})
}

// capacityChanged is the CapacityShort condition after a reconcile, when it
// turned True or turned False from True.
func capacityChanged(before, after *sandboxv1.LearningCohort) *metav1.Condition {
	now := apimeta.FindStatusCondition(after.Status.Conditions, sandboxv1.CapacityShortCondition)
	if now == nil {
		return nil
	}
	was := apimeta.FindStatusCondition(before.Status.Conditions, sandboxv1.CapacityShortCondition)
	switch {
	case now.Status == metav1.ConditionTrue && (was == nil || was.Status != metav1.ConditionTrue || was.Reason != now.Reason):
		return now
	case now.Status != metav1.ConditionTrue && was != nil && was.Status == metav1.ConditionTrue:
		return now
	}
	return nil
}
