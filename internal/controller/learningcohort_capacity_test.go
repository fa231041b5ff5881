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
	"errors"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/capacity"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// createNode makes a Ready node with this allocatable cpu and memory, and 110 pods;
// envtest runs no kubelet and no node controller, so the test writes its
// status and lifts the not-ready taint that admission put on it.
func createNode(t *testing.T, g *WithT, cpu, memory string, mutate ...func(*corev1.Node)) *corev1.Node {
	t.Helper()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("capacity-node")}}
	g.Expect(k8sClient.Create(t.Context(), node)).To(Succeed())
	t.Cleanup(func() { deleteIgnoringNotFound(t, node) })
	node.Spec.Taints = nil
	for _, m := range mutate {
		m(node)
	}
	g.Expect(k8sClient.Update(t.Context(), node)).To(Succeed())
	alloc := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu),
		corev1.ResourceMemory: resource.MustParse(memory), corev1.ResourcePods: resource.MustParse("110")}
	node.Status = corev1.NodeStatus{Capacity: alloc, Allocatable: alloc,
		Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}
	g.Expect(k8sClient.Status().Update(t.Context(), node)).To(Succeed())
	return node
}

// createBoundPod makes a pod of someone else's, bound to the node, requesting cpu and memory.
func createBoundPod(t *testing.T, g *WithT, node, cpu, memory string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("capacity-other")}}
	g.Expect(k8sClient.Create(t.Context(), ns)).To(Succeed())
	t.Cleanup(func() { deleteIgnoringNotFound(t, ns) })
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "tenant", Namespace: ns.Name},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "main", Image: "busybox",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory)}}}}}}
	g.Expect(k8sClient.Create(t.Context(), pod)).To(Succeed())
	t.Cleanup(func() { deleteIgnoringNotFound(t, pod) })
}

// A class whose sandboxes' quotas add up to more than the nodes have left
// says so, with the figures, in the status that also counts its learners,
// and with a warning event; once a node is added, it says that it fits.
// Nodes are cluster-wide, so this test alone makes any.
func TestClassThatDoesNotFitSaysSoWithTheFigures(t *testing.T) {
	g := newG(t)
	node := createNode(t, g, "8", "16Gi")
	createBoundPod(t, g, node.Name, "2", "4Gi")
	// Neither a cordoned node nor a tainted one can take the class.
	createNode(t, g, "64", "256Gi", func(n *corev1.Node) { n.Spec.Unschedulable = true })
	createNode(t, g, "64", "256Gi", func(n *corev1.Node) {
		n.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
	})
	cpu, memory, storage, pods := resource.MustParse("3"), resource.MustParse("6Gi"), resource.MustParse("1Gi"), int32(10)
	stage := &sandboxv1.RoadmapStage{
		ObjectMeta: metav1.ObjectMeta{Name: uniqueName("capacity")},
		Spec: sandboxv1.RoadmapStageSpec{Title: "Capacity", Components: []sandboxv1.Component{
			{Name: "web", Type: sandboxv1.ComponentNginx}},
			Budget: sandboxv1.Budget{CPU: &cpu, Memory: &memory, Storage: &storage, Pods: &pods}},
	}
	g.Expect(k8sClient.Create(t.Context(), stage)).To(Succeed())
	t.Cleanup(func() { deleteIgnoringNotFound(t, stage) })

	c := newCohort("capacity", stage.Name, "ada", "linus", "grace")
	createCohort(t, c)
	short := "3 sandboxes may use 9 CPU, 18Gi of memory and 30 pods; the 1 schedulable node has 6 CPU, " +
		"12Gi of memory and 109 pods left for them: short of 3 CPU and 6Gi of memory; sandboxes will wait for " +
		"room: add nodes, lower the stage's budget, or split the class"
	g.Eventually(func(g Gomega) {
		cur := getCohort(g, c.Name)
		cond := apimeta.FindStatusCondition(cur.Status.Conditions, sandboxv1.CapacityShortCondition)
		g.Expect(cond).NotTo(BeNil())
		g.Expect(cond.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(cond.Reason).To(Equal(sandboxv1.ReasonNodesShort))
		g.Expect(cond.Message).To(Equal(short))
		g.Expect(cur.Status.Capacity.Needed.Storage().String()).To(Equal("3Gi"))
		g.Expect(cur.Status.Capacity.Nodes).To(BeNumerically("==", 1))
	}).Should(Succeed())
	g.Eventually(func(g Gomega) []eventsv1.Event { return cohortEvents(g, c) }).Should(ContainElement(And(
		HaveField("Type", corev1.EventTypeWarning),
		HaveField("Reason", sandboxv1.ReasonNodesShort),
		HaveField("Note", Equal(short)),
	)))

	createNode(t, g, "8", "16Gi")
	pokeCohort(t, c.Name)
	fits := "3 sandboxes may use 9 CPU, 18Gi of memory and 30 pods; the 2 schedulable nodes have 14 CPU, " +
		"28Gi of memory and 219 pods left for them"
	g.Eventually(func(g Gomega) {
		cond := apimeta.FindStatusCondition(getCohort(g, c.Name).Status.Conditions, sandboxv1.CapacityShortCondition)
		g.Expect(cond).NotTo(BeNil())
		g.Expect(cond.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(cond.Reason).To(Equal(sandboxv1.ReasonCapacityFits))
		g.Expect(cond.Message).To(Equal(fits))
	}).Should(Succeed())
	g.Eventually(func(g Gomega) []eventsv1.Event { return cohortEvents(g, c) }).Should(ContainElement(And(
		HaveField("Type", corev1.EventTypeNormal),
		HaveField("Reason", sandboxv1.ReasonCapacityFits),
	)))
}

// With a node autoscaler the verdict only informs: the condition is True
// with its own reason, and the figures are the same.
func TestWithANodeAutoscalerAShortClassIsToldNotWarned(t *testing.T) {
	g := NewWithT(t)
	c := &sandboxv1.LearningCohort{Spec: sandboxv1.LearningCohortSpec{Learners: []sandboxv1.CohortLearner{{Name: "ada"}}}}
	figures := &sandboxv1.CohortCapacity{
		Needed:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4")},
		Available: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}, Nodes: 1,
	}
	setCapacity(c, figures, true)
	cond := apimeta.FindStatusCondition(c.Status.Conditions, sandboxv1.CapacityShortCondition)
	g.Expect(cond.Status).To(Equal(metav1.ConditionTrue))
	g.Expect(cond.Reason).To(Equal(sandboxv1.ReasonAutoscalerAddsNodes))
	g.Expect(cond.Message).To(Equal("1 sandbox may use 4 CPU; the 1 schedulable node has 0.5 CPU left for them: " +
		"short of 3.5 CPU; the cluster's node autoscaler is expected to add nodes"))

	// The same verdict with other figures of what is left is not a new status.
	before := c.Status.DeepCopy()
	setCapacity(c, &sandboxv1.CohortCapacity{Needed: figures.Needed,
		Available: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}, Nodes: 1}, true)
	g.Expect(c.Status).To(Equal(*before))
}

// An operator that may not read the nodes still provisions the class; the
// condition says why the capacity is unknown.
func TestCapacityThatCannotBeMeasuredHoldsNothingBack(t *testing.T) {
	g := NewWithT(t)
	stage := &sandboxv1.RoadmapStage{ObjectMeta: metav1.ObjectMeta{Name: "fenced"},
		Spec: sandboxv1.RoadmapStageSpec{Components: []sandboxv1.Component{{Name: "web", Type: sandboxv1.ComponentNginx}}}}
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "nodes"}, "", errors.New("no RBAC"))
	reader := fake.NewClientBuilder().WithInterceptorFuncs(interceptor.Funcs{
		List: func(context.Context, client.WithWatch, client.ObjectList, ...client.ListOption) error {
			return forbidden
		},
	}).Build()
	r := &LearningCohortReconciler{Client: fake.NewClientBuilder().WithScheme(k8sClient.Scheme()).WithObjects(stage).Build(),
		Settings: stack.DefaultSettings(), Capacity: &capacity.Source{Reader: reader, Clock: clock.RealClock{}}}
	c := &sandboxv1.LearningCohort{Spec: sandboxv1.LearningCohortSpec{Stage: "fenced",
		Learners: []sandboxv1.CohortLearner{{Name: "ada"}}}}
	again, err := r.reconcileCapacity(t.Context(), c, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again).To(Equal(CapacityInterval))
	cond := apimeta.FindStatusCondition(c.Status.Conditions, sandboxv1.CapacityShortCondition)
	g.Expect(cond.Status).To(Equal(metav1.ConditionUnknown))
	g.Expect(cond.Reason).To(Equal(sandboxv1.ReasonCapacityUnknown))
	g.Expect(cond.Message).To(Equal("cannot measure what the nodes can give: listing the nodes: nodes is forbidden: no RBAC"))
}
