//go:build e2e

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

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// TestCohortOfFifty: a class of 50 becomes Ready; removing a learner deletes
// exactly their namespace; deleting the class removes every sandbox and namespace.
func TestCohortOfFifty(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	const size = 50
	cohort := &sandboxv1.LearningCohort{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-class"},
		Spec:       sandboxv1.LearningCohortSpec{Stage: "fundamentals"},
	}
	for i := range size {
		name := fmt.Sprintf("l%02d", i)
		cohort.Spec.Learners = append(cohort.Spec.Learners, sandboxv1.CohortLearner{Name: name, Users: []string{name + "@example.edu"}})
	}
	g.Expect(k8sClient.Create(ctx, cohort)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), cohort) })

	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(cohort), cohort)).To(Succeed())
		g.Expect(cohort.Status.ReadySandboxes).To(Equal(int32(size)))
		g.Expect(apimeta.IsStatusConditionTrue(cohort.Status.Conditions, sandboxv1.ReadyCondition)).To(BeTrue())
	}, readyTimeout, poll).Should(Succeed())
	g.Expect(classNamespaces(g)).To(HaveLen(size))

	// Learner l07 leaves: exactly their namespace goes.
	g.Eventually(func() error {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(cohort), cohort); err != nil {
			return err
		}
		cohort.Spec.Learners = append(cohort.Spec.Learners[:7:7], cohort.Spec.Learners[8:]...)
		return k8sClient.Update(ctx, cohort)
	}, readyTimeout, poll).Should(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Name: namespaceOf("e2e-class-l07")}, &corev1.Namespace{}))
	}, readyTimeout, poll).Should(BeTrue(), "the leaver's namespace is gone")
	g.Expect(classNamespaces(g)).To(HaveLen(size-1), "nobody else's namespace went")

	g.Expect(k8sClient.Delete(ctx, cohort)).To(Succeed())
	g.Eventually(func(g Gomega) {
		var sandboxes sandboxv1.LearningSandboxList
		g.Expect(k8sClient.List(ctx, &sandboxes, client.MatchingLabels{sandboxv1.CohortLabel: "e2e-class"})).To(Succeed())
		g.Expect(sandboxes.Items).To(BeEmpty())
		g.Expect(classNamespaces(g)).To(BeEmpty())
	}, readyTimeout, poll).Should(Succeed(), "the class's sandboxes and namespaces are gone")
}

// classNamespaces are the namespaces of the e2e-class sandboxes that are not terminating.
func classNamespaces(g Gomega) []string {
	var nss corev1.NamespaceList
	g.Expect(k8sClient.List(context.Background(), &nss, client.HasLabels{sandboxv1.SandboxLabel})).To(Succeed())
	var names []string
	for _, ns := range nss.Items {
		if ns.DeletionTimestamp == nil && strings.HasPrefix(ns.Name, namespaceOf("e2e-class-")) {
			names = append(names, ns.Name)
		}
	}
	return names
}

// A class scheduled for tomorrow that the local cluster's nodes cannot hold
// says so in its status at once, with the figures and a warning event,
// before any of its sandboxes exists to wait for room.
func TestClassThatDoesNotFitSaysSoBeforeItStarts(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	const size = 500
	tomorrow := metav1.NewTime(time.Now().Add(24 * time.Hour))
	cohort := &sandboxv1.LearningCohort{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-too-big"},
		Spec:       sandboxv1.LearningCohortSpec{Stage: "apis", StartsAt: &tomorrow},
	}
	for i := range size {
		cohort.Spec.Learners = append(cohort.Spec.Learners, sandboxv1.CohortLearner{Name: fmt.Sprintf("l%03d", i)})
	}
	g.Expect(k8sClient.Create(ctx, cohort)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), cohort) })

	var message string
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(cohort), cohort)).To(Succeed())
		c := apimeta.FindStatusCondition(cohort.Status.Conditions, sandboxv1.CapacityShortCondition)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Reason).To(Equal(sandboxv1.ReasonNodesShort))
		message = c.Message
	}, readyTimeout, poll).Should(Succeed())
	g.Expect(message).To(MatchRegexp(`^500 sandboxes may use \d+ CPU, \d+Gi of memory and \d+ pods; the \d+ schedulable ` +
		`nodes? ha(s|ve) .* left for them: short of .*; sandboxes will wait for room`))
	g.Expect(apimeta.FindStatusCondition(cohort.Status.Conditions, sandboxv1.ReadyCondition).Reason).
		To(Equal(sandboxv1.ReasonScheduled))
	var sandboxes sandboxv1.LearningSandboxList
	g.Expect(k8sClient.List(ctx, &sandboxes, client.MatchingLabels{sandboxv1.CohortLabel: cohort.Name})).To(Succeed())
	g.Expect(sandboxes.Items).To(BeEmpty(), "the class has not started: no sandbox exists yet")
	g.Eventually(func(g Gomega) []string {
		var list eventsv1.EventList
		g.Expect(k8sClient.List(ctx, &list)).To(Succeed())
		var reasons []string
		for _, e := range list.Items {
			if e.Regarding.Kind == "LearningCohort" && e.Regarding.Name == cohort.Name {
				reasons = append(reasons, e.Type+"/"+e.Reason)
			}
		}
		return reasons
	}, readyTimeout, poll).Should(ContainElement(corev1.EventTypeWarning + "/" + sandboxv1.ReasonNodesShort))
}
