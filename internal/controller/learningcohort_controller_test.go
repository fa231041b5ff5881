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
	"crypto/rand"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/yaml"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/applytest"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// The acceptance tests of the LearningCohort controller, against a real API
// server, with the sandbox controller running too. Each test uses cohorts,
// and stages, of its own; stages of one Nginx component keep them quick.

// cohortLeadTime is the suite's --cohort-lead-time.
const cohortLeadTime = time.Hour

// newCohort is a cohort of the stage with the learners, not yet created, with a unique name.
func newCohort(prefix, stage string, learners ...string) *sandboxv1.LearningCohort {
	c := &sandboxv1.LearningCohort{
		ObjectMeta: metav1.ObjectMeta{Name: uniqueName(prefix)},
		Spec:       sandboxv1.LearningCohortSpec{Stage: stage},
	}
	for _, l := range learners {
		c.Spec.Learners = append(c.Spec.Learners, sandboxv1.CohortLearner{Name: l})
	}
	return c
}

// createCohort creates the cohort and, when the test ends, deletes it and its
// sandboxes: envtest runs no garbage collector.
func createCohort(t *testing.T, c *sandboxv1.LearningCohort) {
	t.Helper()
	if err := k8sClient.Create(t.Context(), c); err != nil {
		t.Fatalf("creating cohort %s: %v", c.Name, err)
	}
	t.Cleanup(func() {
		deleteIgnoringNotFound(t, c)
		err := k8sClient.DeleteAllOf(context.Background(), &sandboxv1.LearningSandbox{},
			client.MatchingLabels{sandboxv1.CohortLabel: c.Name})
		if err != nil {
			t.Errorf("deleting the sandboxes of cohort %s: %v", c.Name, err)
		}
	})
}

func getCohort(g Gomega, name string) *sandboxv1.LearningCohort {
	c := &sandboxv1.LearningCohort{}
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Name: name}, c)).To(Succeed())
	return c
}

// updateCohort changes the cohort as the cluster holds it.
func updateCohort(t *testing.T, name string, mutate func(*sandboxv1.LearningCohort)) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		c := &sandboxv1.LearningCohort{}
		if err := k8sClient.Get(t.Context(), client.ObjectKey{Name: name}, c); err != nil {
			return err
		}
		mutate(c)
		return k8sClient.Update(t.Context(), c)
	})
	if err != nil {
		t.Fatalf("updating cohort %s: %v", name, err)
	}
}

// pokeCohort changes an annotation of the cohort, which reconciles it: after
// the test's clock moved, for one.
func pokeCohort(t *testing.T, name string) {
	t.Helper()
	updateCohort(t, name, func(c *sandboxv1.LearningCohort) {
		metav1.SetMetaDataAnnotation(&c.ObjectMeta, "test.sandbox.learning.dev/poked", rand.Text())
	})
}

// cohortSandboxes are the sandboxes that carry the cohort's label, by name.
func cohortSandboxes(g Gomega, cohort string) map[string]sandboxv1.LearningSandbox {
	list := &sandboxv1.LearningSandboxList{}
	g.Expect(k8sClient.List(context.Background(), list, client.MatchingLabels{sandboxv1.CohortLabel: cohort})).To(Succeed())
	out := map[string]sandboxv1.LearningSandbox{}
	for _, sb := range list.Items {
		out[sb.Name] = sb
	}
	return out
}

func sandboxNamesOf(c *sandboxv1.LearningCohort, learners ...string) []string {
	names := make([]string, 0, len(learners))
	for _, l := range learners {
		names = append(names, c.SandboxName(l))
	}
	return names
}

// markSandboxesReady marks the workloads of each sandbox ready, as
// kube-controller-manager would, until the sandbox is ready at its current spec.
func markSandboxesReady(t *testing.T, g *WithT, names ...string) {
	t.Helper()
	for _, name := range names {
		g.Eventually(func(g Gomega) {
			sb := getSandbox(g, name)
			g.Expect(sb.Status.ObservedGeneration).To(Equal(sb.Generation))
			g.Expect(sb.Status.TotalComponents).To(BeNumerically(">", 0))
			markWorkloadsReady(t, namespaceOf(name))
			g.Expect(sandboxReady(getSandbox(g, name))).To(BeTrue(), "sandbox %s is ready", name)
		}).WithPolling(200 * time.Millisecond).Should(Succeed())
	}
}

// expectCohortReady waits until the cohort is ready with every learner's sandbox.
func expectCohortReady(g *WithT, name string, learners int) {
	g.Eventually(func(g Gomega) {
		c := getCohort(g, name)
		ready := apimetaCondition(c, sandboxv1.ReadyCondition)
		g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), "Ready condition: %+v", c.Status.Conditions)
		g.Expect(c.Status.ObservedGeneration).To(Equal(c.Generation))
		g.Expect(c.Status.Learners).To(BeNumerically("==", learners))
		g.Expect(c.Status.ReadySandboxes).To(BeNumerically("==", learners))
		g.Expect(c.Status.UpdatedSandboxes).To(BeNumerically("==", learners))
		g.Expect(c.Status.Ready).To(Equal(fmt.Sprintf("%d/%d", learners, learners)))
		g.Expect(c.Status.NotReady).To(BeEmpty())
	}).Should(Succeed())
}

func apimetaCondition(c *sandboxv1.LearningCohort, typ string) metav1.Condition {
	for _, cond := range c.Status.Conditions {
		if cond.Type == typ {
			return cond
		}
	}
	return metav1.Condition{}
}

// cohortEvents are the events about the cohort.
func cohortEvents(g Gomega, c *sandboxv1.LearningCohort) []eventsv1.Event {
	list := &eventsv1.EventList{}
	g.Expect(k8sClient.List(context.Background(), list)).To(Succeed())
	return slices.DeleteFunc(list.Items, func(e eventsv1.Event) bool {
		return e.Regarding.Kind != "LearningCohort" || e.Regarding.Name != c.Name || e.Regarding.UID != c.UID
	})
}

// reconcilesOf is how many reconciles the named controller has finished.
func reconcilesOf(g Gomega, controller string) float64 {
	families, err := metrics.Registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	var total float64
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == controller {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}

// restoreClockAfter puts the shared fake clock back, when the test ends, as
// far ahead of real time as it is now. The test may step it forwards; other
// tests give sandboxes a ttl from their creation, as the API server's clock
// stamps it, and expect the clock not to have run far ahead of it.
// Call it before creating anything, so that it runs after every other cleanup.
func restoreClockAfter(t *testing.T) {
	skew := testClock.Since(time.Now())
	t.Cleanup(func() { testClock.SetTime(time.Now().Add(skew)) })
}

// nginxStage is a stage of the test's own with one Nginx component.
func nginxStage(t *testing.T, prefix, component string) *sandboxv1.RoadmapStage {
	return createStage(t, prefix, sandboxv1.Component{Name: component, Type: sandboxv1.ComponentNginx})
}

// TestCohortProvisionsTheRoster: one sandbox per learner, named, labelled,
// owned and specified as the cohort says; a learner added gets one, a learner
// removed loses theirs, and a renamed learner is both.
func TestCohortProvisionsTheRoster(t *testing.T) {
	g := newG(t)
	stage := nginxStage(t, "cohort", "web")
	c := newCohort("roster", stage.Name, "ada", "linus", "grace")
	c.Spec.Learners[0].Users = []string{"ada@example.edu"}
	c.Spec.Learners[1].Groups = []string{"kernel"}
	c.Spec.Template = sandboxv1.SandboxTemplate{
		TTL:        &metav1.Duration{Duration: 336 * time.Hour},
		Access:     sandboxv1.Access{Kubeconfig: true},
		Components: []sandboxv1.ComponentOverride{{Name: "web", Replicas: ptr.To[int32](2)}},
		Budget:     &sandboxv1.Budget{Memory: new(resource.MustParse("2Gi"))},
	}
	createCohort(t, c)
	c = getCohort(g, c.Name)

	g.Eventually(func(g Gomega) []string {
		return slices.Sorted(maps.Keys(cohortSandboxes(g, c.Name)))
	}).Should(ConsistOf(sandboxNamesOf(c, "ada", "linus", "grace")))
	for _, sb := range cohortSandboxes(g, c.Name) {
		g.Expect(sb.Labels).To(HaveKeyWithValue(stack.ManagedByLabel, stack.ManagedBy))
		g.Expect(sb.Labels).To(HaveKeyWithValue(stack.PartOfLabel, stack.PartOf))
		g.Expect(sb.Labels).To(HaveKeyWithValue(sandboxv1.CohortLabel, c.Name))
		g.Expect(metav1.IsControlledBy(&sb, c)).To(BeTrue(), "%s is controlled by the cohort", sb.Name)
		g.Expect(sb.OwnerReferences[0].BlockOwnerDeletion).To(HaveValue(BeTrue()))
		g.Expect(sb.Spec.Stage).To(Equal(stage.Name))
		g.Expect(sb.Spec.TTL.Duration).To(Equal(336 * time.Hour))
		g.Expect(sb.Spec.Access.Kubeconfig).To(BeTrue())
		g.Expect(sb.Spec.Components).To(Equal(c.Spec.Template.Components))
		g.Expect(sb.Spec.Budget.Memory.String()).To(Equal("2Gi"))
		g.Expect(sb.Spec.Suspend).To(BeFalse())
	}
	ada := getSandbox(g, c.SandboxName("ada"))
	g.Expect(ada.Spec.Learner).To(Equal(sandboxv1.Learner{Name: "ada", Users: []string{"ada@example.edu"}}))
	g.Expect(getSandbox(g, c.SandboxName("linus")).Spec.Learner).To(Equal(sandboxv1.Learner{Name: "linus", Groups: []string{"kernel"}}))
	g.Eventually(func(g Gomega) {
		c := getCohort(g, c.Name)
		g.Expect(c.Status.ObservedGeneration).To(Equal(c.Generation))
		g.Expect(c.Status.Learners).To(BeNumerically("==", 3))
		g.Expect(c.Status.UpdatedSandboxes).To(BeNumerically("==", 3))
		g.Expect(c.Status.Ready).To(Equal("0/3"))
		g.Expect(apimetaCondition(c, sandboxv1.ReadyCondition).Reason).To(Equal(sandboxv1.ReasonSandboxesNotReady))
		g.Expect(c.Status.NotReady).To(HaveLen(3))
	}).Should(Succeed())
	g.Eventually(func(g Gomega) []eventsv1.Event { return cohortEvents(g, c) }).Should(ContainElement(And(
		HaveField("Reason", sandboxv1.ReasonSandboxesCreated),
		HaveField("Note", ContainSubstring("Created 3 sandboxes")),
	)))

	markSandboxesReady(t, g, sandboxNamesOf(c, "ada", "linus", "grace")...)
	expectCohortReady(g, c.Name, 3)

	// grace leaves, linus is renamed linus-t, alan joins; ada's users change.
	updateCohort(t, c.Name, func(c *sandboxv1.LearningCohort) {
		c.Spec.Learners = []sandboxv1.CohortLearner{
			{Name: "ada", Users: []string{"ada@example.edu", "ada@home.example"}},
			{Name: "linus-t", Groups: []string{"kernel"}},
			{Name: "alan"},
		}
	})
	g.Eventually(func(g Gomega) []string {
		return slices.Sorted(maps.Keys(cohortSandboxes(g, c.Name)))
	}).Should(ConsistOf(sandboxNamesOf(c, "ada", "linus-t", "alan")))
	g.Eventually(func(g Gomega) []string { return getSandbox(g, ada.Name).Spec.Learner.Users }).
		Should(Equal([]string{"ada@example.edu", "ada@home.example"}))
	g.Expect(getSandbox(g, ada.Name).UID).To(Equal(ada.UID), "ada keeps her sandbox")
	g.Eventually(func(g Gomega) []eventsv1.Event { return cohortEvents(g, c) }).Should(ContainElement(And(
		HaveField("Reason", sandboxv1.ReasonSandboxesDeleted),
		HaveField("Note", And(ContainSubstring(c.SandboxName("grace")), ContainSubstring(c.SandboxName("linus")))),
	)))
	markSandboxesReady(t, g, sandboxNamesOf(c, "ada", "linus-t", "alan")...)
	expectCohortReady(g, c.Name, 3)
}

// TestCohortRollsOutInBatches: a change of stage, or of the template, reaches
// the sandboxes maxUnavailable at a time; the next ones move once those are ready.
func TestCohortRollsOutInBatches(t *testing.T) {
	to := nginxStage(t, "cohort-to", "site")
	webImage := sandboxv1.ComponentOverride{Name: "web", Image: "nginxinc/nginx-unprivileged:1.29-alpine"}
	for _, tc := range []struct {
		name    string
		change  func(*sandboxv1.LearningCohort)
		applied func(sandboxv1.LearningSandbox) bool
	}{
		{
			name:    "stage",
			change:  func(c *sandboxv1.LearningCohort) { c.Spec.Stage = to.Name },
			applied: func(sb sandboxv1.LearningSandbox) bool { return sb.Spec.Stage == to.Name },
		},
		{
			name: "template",
			change: func(c *sandboxv1.LearningCohort) {
				c.Spec.Template.Components = []sandboxv1.ComponentOverride{webImage}
			},
			applied: func(sb sandboxv1.LearningSandbox) bool { return slices.Contains(sb.Spec.Components, webImage) },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newG(t)
			from := nginxStage(t, "cohort-from", "web")
			learners := []string{"l1", "l2", "l3", "l4", "l5", "l6"}
			c := newCohort("rollout", from.Name, learners...)
			c.Spec.MaxUnavailable = new(intstr.FromInt32(2))
			createCohort(t, c)
			names := sandboxNamesOf(c, learners...)
			g.Eventually(func(g Gomega) []string {
				return slices.Sorted(maps.Keys(cohortSandboxes(g, c.Name)))
			}).Should(ConsistOf(names))
			markSandboxesReady(t, g, names...)
			expectCohortReady(g, c.Name, 6)

			updateCohort(t, c.Name, tc.change)
			moved := func(g Gomega) []string {
				var out []string
				for name, sb := range cohortSandboxes(g, c.Name) {
					if tc.applied(sb) {
						out = append(out, name)
					}
				}
				slices.Sort(out)
				return out
			}
			var done []string
			for batch := 1; batch <= 3; batch++ {
				g.Eventually(moved).Should(HaveLen(2 * batch))
				g.Consistently(moved).WithTimeout(time.Second).Should(HaveLen(2*batch), "batch %d: no more than 2 in update", batch)
				if batch < 3 {
					g.Eventually(func(g Gomega) {
						cur := getCohort(g, c.Name)
						g.Expect(cur.Status.UpdatedSandboxes).To(BeNumerically("==", 2*batch))
						g.Expect(cur.Status.ReadySandboxes).To(BeNumerically("==", 6-2))
						g.Expect(apimetaCondition(cur, sandboxv1.ReadyCondition).Reason).To(Equal(sandboxv1.ReasonRollingOut))
						g.Expect(apimetaCondition(cur, sandboxv1.ReconcilingCondition).Status).To(Equal(metav1.ConditionTrue))
					}).Should(Succeed())
				}
				var batchNames []string
				for _, name := range moved(g) {
					if !slices.Contains(done, name) {
						batchNames = append(batchNames, name)
					}
				}
				g.Expect(batchNames).To(HaveLen(2))
				markSandboxesReady(t, g, batchNames...)
				done = append(done, batchNames...)
			}
			expectCohortReady(g, c.Name, 6)
			for _, sb := range cohortSandboxes(g, c.Name) {
				g.Expect(tc.applied(sb)).To(BeTrue(), "%s has the change", sb.Name)
			}
		})
	}
}

// TestCohortRemovesWhatItsTemplateNoLongerSets: the cohort creates its
// sandboxes, and a field its template then drops goes from every sandbox,
// which the cohort's server-side apply alone manages from then on.
func TestCohortRemovesWhatItsTemplateNoLongerSets(t *testing.T) {
	g := newG(t)
	stage := nginxStage(t, "cohort-unset", "web")
	c := newCohort("unset", stage.Name, "l1", "l2")
	c.Spec.Template.Components = []sandboxv1.ComponentOverride{{Name: "web", Replicas: new(int32(2))}}
	c.Spec.MaxUnavailable = new(intstr.FromInt32(2))
	createCohort(t, c)
	names := sandboxNamesOf(c, "l1", "l2")
	g.Eventually(func(g Gomega) {
		sandboxes := cohortSandboxes(g, c.Name)
		g.Expect(slices.Sorted(maps.Keys(sandboxes))).To(ConsistOf(names))
		for _, sb := range sandboxes {
			g.Expect(sb.Spec.Components).To(HaveLen(1))
		}
	}).Should(Succeed())
	markSandboxesReady(t, g, names...)
	expectCohortReady(g, c.Name, 2)

	updateCohort(t, c.Name, func(c *sandboxv1.LearningCohort) { c.Spec.Template.Components = nil })

	g.Eventually(func(g Gomega) {
		sandboxes := cohortSandboxes(g, c.Name)
		g.Expect(sandboxes).To(HaveLen(2))
		for _, sb := range sandboxes {
			g.Expect(sb.Spec.Components).To(BeEmpty(), "%s: the override the template no longer sets", sb.Name)
			var ours []metav1.ManagedFieldsEntry
			for _, m := range sb.ManagedFields {
				if m.Manager == stack.FieldOwner && m.Subresource == "" {
					ours = append(ours, m)
				}
			}
			g.Expect(ours).To(ConsistOf(HaveField("Operation", metav1.ManagedFieldsOperationApply)),
				"%s: the create's fields were handed to the apply", sb.Name)
		}
	}).Should(Succeed())
}

// TestCohortCountsFailedSandboxes: sandboxes that cannot progress (here: their
// stage does not exist yet) are counted as failed, named with their reason,
// and the cohort is not Ready; once the stage exists they become Ready.
func TestCohortCountsFailedSandboxes(t *testing.T) {
	g := newG(t)
	stage := uniqueName("cohort-later")
	c := newCohort("failing", stage, "ada", "linus")
	createCohort(t, c)
	g.Eventually(func(g Gomega) {
		cur := getCohort(g, c.Name)
		g.Expect(cur.Status.FailedSandboxes).To(BeNumerically("==", 2))
		g.Expect(cur.Status.ReadySandboxes).To(BeZero())
		g.Expect(cur.Status.NotReady).To(ConsistOf(
			HaveField("Reason", sandboxv1.ReasonStageNotFound), HaveField("Reason", sandboxv1.ReasonStageNotFound)))
		g.Expect(apimetaCondition(cur, sandboxv1.ReadyCondition).Status).To(Equal(metav1.ConditionFalse))
	}).Should(Succeed())

	created := &sandboxv1.RoadmapStage{
		ObjectMeta: metav1.ObjectMeta{Name: stage},
		Spec: sandboxv1.RoadmapStageSpec{Title: "Later", Components: []sandboxv1.Component{
			{Name: "web", Type: sandboxv1.ComponentNginx}}},
	}
	g.Expect(k8sClient.Create(t.Context(), created)).To(Succeed())
	t.Cleanup(func() { deleteIgnoringNotFound(t, created) })
	g.Eventually(func(g Gomega) {
		g.Expect(getCohort(g, c.Name).Status.FailedSandboxes).To(BeZero())
	}).Should(Succeed())
	markSandboxesReady(t, g, sandboxNamesOf(c, "ada", "linus")...)
	expectCohortReady(g, c.Name, 2)
}

// TestCohortSuspendsAndResumesAtOnce: suspend reaches every sandbox at once,
// whatever maxUnavailable; the cohort is then ready as suspended; resume too.
func TestCohortSuspendsAndResumesAtOnce(t *testing.T) {
	g := newG(t)
	stage := nginxStage(t, "cohort", "web")
	learners := []string{"ada", "linus", "grace"}
	c := newCohort("suspend", stage.Name, learners...)
	c.Spec.MaxUnavailable = new(intstr.FromInt32(1))
	createCohort(t, c)
	names := sandboxNamesOf(c, learners...)
	g.Eventually(func(g Gomega) map[string]sandboxv1.LearningSandbox { return cohortSandboxes(g, c.Name) }).Should(HaveLen(3))
	markSandboxesReady(t, g, names...)
	expectCohortReady(g, c.Name, 3)

	suspendedOnes := func(want bool) func(g Gomega) int {
		return func(g Gomega) int {
			n := 0
			for _, sb := range cohortSandboxes(g, c.Name) {
				if sb.Spec.Suspend == want {
					n++
				}
			}
			return n
		}
	}
	updateCohort(t, c.Name, func(c *sandboxv1.LearningCohort) { c.Spec.Suspend = true })
	// None is marked ready in between: all three move without waiting for a slot.
	g.Eventually(suspendedOnes(true)).Should(Equal(3))
	markSandboxesReady(t, g, names...)
	g.Eventually(func(g Gomega) {
		cur := getCohort(g, c.Name)
		ready := apimetaCondition(cur, sandboxv1.ReadyCondition)
		g.Expect(ready.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(ready.Reason).To(Equal(sandboxv1.ReasonSuspended))
		g.Expect(cur.Status.SuspendedSandboxes).To(BeNumerically("==", 3))
		g.Expect(cur.Status.ReadySandboxes).To(BeNumerically("==", 3))
	}).Should(Succeed())

	updateCohort(t, c.Name, func(c *sandboxv1.LearningCohort) { c.Spec.Suspend = false })
	g.Eventually(suspendedOnes(false)).Should(Equal(3))
	markSandboxesReady(t, g, names...)
	expectCohortReady(g, c.Name, 3)
	g.Expect(getCohort(g, c.Name).Status.SuspendedSandboxes).To(BeZero())
}

// TestCohortExportsTheRoster: the roster Secret names each learner's sandbox,
// namespace and Secrets, and holds no credential; it follows spec.export, and
// a Secret of someone else is never overwritten.
func TestCohortExportsTheRoster(t *testing.T) {
	g := newG(t)
	stage := createStage(t, "cohort-redis",
		sandboxv1.Component{Name: "cache", Type: sandboxv1.ComponentRedis},
		sandboxv1.Component{Name: "web", Type: sandboxv1.ComponentNginx})
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("rosters")}}
	g.Expect(k8sClient.Create(t.Context(), ns)).To(Succeed())
	t.Cleanup(func() { deleteIgnoringNotFound(t, ns) })

	c := newCohort("export", stage.Name, "ada", "linus")
	c.Spec.Learners[0].Users = []string{"ada@example.edu", "ada@home.example"}
	c.Spec.Template.Access.Kubeconfig = true
	c.Spec.Export = &sandboxv1.RosterExport{Namespace: ns.Name}
	createCohort(t, c)
	c = getCohort(g, c.Name)
	key := client.ObjectKey{Namespace: ns.Name, Name: c.Name + "-roster"}

	roster := &corev1.Secret{}
	g.Eventually(func() error { return k8sClient.Get(t.Context(), key, roster) }).Should(Succeed())
	g.Expect(roster.Labels).To(HaveKeyWithValue(stack.ManagedByLabel, stack.ManagedBy))
	g.Expect(roster.Labels).To(HaveKeyWithValue(sandboxv1.CohortLabel, c.Name))
	g.Expect(metav1.IsControlledBy(roster, c)).To(BeTrue())
	g.Expect(roster.Data).To(HaveLen(2))

	markSandboxesReady(t, g, sandboxNamesOf(c, "ada", "linus")...)
	expectCohortReady(g, c.Name, 2)
	g.Eventually(func(g Gomega) [][]string {
		g.Expect(k8sClient.Get(t.Context(), key, roster)).To(Succeed())
		rows, err := csv.NewReader(strings.NewReader(string(roster.Data[RosterCSVKey]))).ReadAll()
		g.Expect(err).NotTo(HaveOccurred())
		return rows
	}).Should(Equal([][]string{
		{"learner", "users", "sandbox", "namespace", "connectionSecret", "kubeconfigSecret", "exercisesPassed", "note"},
		{"ada", "ada@example.edu;ada@home.example", c.SandboxName("ada"), namespaceOf(c.SandboxName("ada")),
			stack.ConnectionSecretName, stack.KubeconfigSecretName, "0", ""},
		{"linus", "", c.SandboxName("linus"), namespaceOf(c.SandboxName("linus")),
			stack.ConnectionSecretName, stack.KubeconfigSecretName, "0", ""},
	}))
	var parsed struct {
		Cohort   string           `json:"cohort"`
		Stage    string           `json:"stage"`
		Learners []map[string]any `json:"learners"`
	}
	g.Expect(json.Unmarshal(roster.Data[RosterJSONKey], &parsed)).To(Succeed())
	g.Expect(parsed.Cohort).To(Equal(c.Name))
	g.Expect(parsed.Stage).To(Equal(stage.Name))
	g.Expect(parsed.Learners).To(HaveLen(2))
	g.Expect(parsed.Learners[0]).To(Equal(map[string]any{
		"learner": "ada", "users": []any{"ada@example.edu", "ada@home.example"}, "sandbox": c.SandboxName("ada"),
		"namespace": namespaceOf(c.SandboxName("ada")), "connectionSecret": stack.ConnectionSecretName,
		"kubeconfigSecret": stack.KubeconfigSecretName, "exercisesPassed": float64(0),
	}))

	// No credential that the sandboxes hold is in the roster: neither the
	// generated passwords nor the learner's token.
	for _, learner := range []string{"ada", "linus"} {
		sandboxNS := namespaceOf(c.SandboxName(learner))
		credentials := getSecretData(g, sandboxNS, stack.CredentialsSecretName)
		g.Expect(credentials).To(HaveKey(stack.RedisPasswordKey), "the test looks at real credentials")
		kubeconfig := getSecretData(g, sandboxNS, stack.KubeconfigSecretName)
		g.Expect(kubeconfig).NotTo(BeEmpty())
		for _, secret := range []map[string][]byte{credentials, kubeconfig} {
			for k, v := range secret {
				for _, data := range roster.Data {
					g.Expect(string(data)).NotTo(ContainSubstring(string(v)), "%s of %s is in the roster", k, sandboxNS)
				}
			}
		}
	}
	for _, data := range roster.Data {
		g.Expect(strings.ToLower(string(data))).NotTo(Or(ContainSubstring("password"), ContainSubstring("token")))
	}

	// Renamed: the new one is written, the old one deleted.
	updateCohort(t, c.Name, func(c *sandboxv1.LearningCohort) { c.Spec.Export.Name = "class-list" })
	renamed := client.ObjectKey{Namespace: ns.Name, Name: "class-list"}
	g.Eventually(func() error { return k8sClient.Get(t.Context(), renamed, &corev1.Secret{}) }).Should(Succeed())
	g.Eventually(func() error { return k8sClient.Get(t.Context(), key, &corev1.Secret{}) }).Should(Satisfy(apierrors.IsNotFound))

	// Someone else's Secret of that name is left alone, and the cohort says so.
	foreign := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "not-a-roster"},
		StringData: map[string]string{"note": "mine"},
	}
	g.Expect(k8sClient.Create(t.Context(), foreign)).To(Succeed())
	updateCohort(t, c.Name, func(c *sandboxv1.LearningCohort) { c.Spec.Export.Name = foreign.Name })
	g.Eventually(func(g Gomega) {
		cur := getCohort(g, c.Name)
		stalled := apimetaCondition(cur, sandboxv1.StalledCondition)
		g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(stalled.Reason).To(Equal(sandboxv1.ReasonExportConflict))
		g.Expect(stalled.Message).To(ContainSubstring(foreign.Name))
		g.Expect(apimetaCondition(cur, sandboxv1.ReadyCondition).Status).To(Equal(metav1.ConditionFalse))
	}).Should(Succeed())
	g.Consistently(func(g Gomega) {
		cur := &corev1.Secret{}
		g.Expect(k8sClient.Get(t.Context(), client.ObjectKeyFromObject(foreign), cur)).To(Succeed())
		g.Expect(cur.Data).To(Equal(map[string][]byte{"note": []byte("mine")}))
		g.Expect(cur.OwnerReferences).To(BeEmpty())
		g.Expect(cur.Labels).To(BeEmpty())
	}).Should(Succeed())

	// No export: no roster.
	updateCohort(t, c.Name, func(c *sandboxv1.LearningCohort) { c.Spec.Export = nil })
	g.Eventually(func() error { return k8sClient.Get(t.Context(), renamed, &corev1.Secret{}) }).Should(Satisfy(apierrors.IsNotFound))
	expectCohortReady(g, c.Name, 2)
	g.Expect(k8sClient.Get(t.Context(), client.ObjectKeyFromObject(foreign), &corev1.Secret{})).To(Succeed())
}

// TestCohortLeavesForeignSandboxAlone: a sandbox of a roster's name that is
// not the cohort's is neither changed nor deleted; the cohort reports it, and
// makes its own once it is gone.
func TestCohortLeavesForeignSandboxAlone(t *testing.T) {
	g := newG(t)
	stage := nginxStage(t, "cohort", "web")
	c := newCohort("conflict", stage.Name, "ada", "linus")
	foreign := createSandbox(t, "unused", stage.Name, func(sb *sandboxv1.LearningSandbox) {
		sb.Name = c.SandboxName("ada")
		sb.Labels = map[string]string{"owner": "someone-else"}
	})
	createCohort(t, c)
	c = getCohort(g, c.Name)

	g.Eventually(func(g Gomega) {
		cur := getCohort(g, c.Name)
		g.Expect(cur.Status.Conflicts).To(Equal([]string{foreign.Name}))
		ready := apimetaCondition(cur, sandboxv1.ReadyCondition)
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ready.Reason).To(Equal(sandboxv1.ReasonSandboxConflict))
		g.Expect(ready.Message).To(ContainSubstring(foreign.Name))
		g.Expect(apimetaCondition(cur, sandboxv1.StalledCondition).Status).To(Equal(metav1.ConditionTrue))
	}).Should(Succeed())
	g.Eventually(func(g Gomega) []string {
		return slices.Collect(maps.Keys(cohortSandboxes(g, c.Name)))
	}).Should(ConsistOf(c.SandboxName("linus")), "linus gets his sandbox all the same")
	g.Eventually(func(g Gomega) []eventsv1.Event { return cohortEvents(g, c) }).Should(ContainElement(And(
		HaveField("Reason", sandboxv1.ReasonSandboxConflict),
		HaveField("Type", corev1.EventTypeWarning),
		HaveField("Note", ContainSubstring(foreign.Name)),
	)))
	g.Consistently(func(g Gomega) {
		cur := getSandbox(g, foreign.Name)
		g.Expect(cur.UID).To(Equal(foreign.UID))
		g.Expect(cur.Generation).To(Equal(foreign.Generation))
		g.Expect(cur.Spec).To(Equal(foreign.Spec))
		g.Expect(cur.Labels).To(Equal(map[string]string{"owner": "someone-else"}))
		g.Expect(cur.OwnerReferences).To(BeEmpty())
	}).Should(Succeed())

	g.Expect(k8sClient.Delete(t.Context(), foreign)).To(Succeed())
	g.Eventually(func(g Gomega) {
		sb := getSandbox(g, foreign.Name)
		g.Expect(metav1.IsControlledBy(sb, c)).To(BeTrue())
		g.Expect(getCohort(g, c.Name).Status.Conflicts).To(BeEmpty())
	}).Should(Succeed())
}

// TestInvalidCohortIsRefused: the API server itself refuses bad cohorts, with
// a message that says what to write instead; a class of 1,000 fits.
func TestInvalidCohortIsRefused(t *testing.T) {
	valid := func() *sandboxv1.LearningCohort { return newCohort("valid", "apis", "ada") }
	start := metav1.NewTime(time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC))
	cases := []struct {
		name   string
		mutate func(*sandboxv1.LearningCohort)
		want   string
	}{
		{"learner listed twice", func(c *sandboxv1.LearningCohort) {
			c.Spec.Learners = []sandboxv1.CohortLearner{{Name: "ada"}, {Name: "linus"}, {Name: "ada"}}
		}, `spec.learners[2]: Duplicate value: {"name":"ada"}`},
		{"sandbox name of 56 characters", func(c *sandboxv1.LearningCohort) {
			c.Name = nameOfLength("long", 40)
			c.Spec.Learners = []sandboxv1.CohortLearner{{Name: "ada"}, {Name: strings.Repeat("l", 15)}}
		}, "every sandbox is named <cohort>-<learner> and has at most 55 characters"},
		{"cohort name of 54 characters", func(c *sandboxv1.LearningCohort) {
			c.Name = nameOfLength("long", 54)
			c.Spec.Learners = nil
		}, "a cohort name starts its sandboxes' names"},
		{"cohort name with a dot", func(c *sandboxv1.LearningCohort) { c.Name = uniqueName("dot") + ".fall" },
			"a cohort name starts its sandboxes' names: use lowercase letters, digits and '-' only"},
		{"learner user system:anonymous", func(c *sandboxv1.LearningCohort) {
			c.Spec.Learners[0].Users = []string{"system:anonymous"}
		}, "users cannot name a system: user"},
		{"learner name with uppercase", func(c *sandboxv1.LearningCohort) { c.Spec.Learners[0].Name = "Ada" },
			"spec.learners[0].name in body should match"},
		{"stage name with uppercase", func(c *sandboxv1.LearningCohort) { c.Spec.Stage = "APIs" },
			"spec.stage in body should match"},
		{"ends before it starts", func(c *sandboxv1.LearningCohort) {
			c.Spec.StartsAt = &start
			c.Spec.EndsAt = new(metav1.NewTime(start.Add(-time.Hour)))
		}, "endsAt is when the class ends, after startsAt"},
		{"maxUnavailable 0", func(c *sandboxv1.LearningCohort) { c.Spec.MaxUnavailable = new(intstr.FromInt32(0)) },
			"maxUnavailable is a number of sandboxes of at least 1"},
		{"maxUnavailable 0%", func(c *sandboxv1.LearningCohort) { c.Spec.MaxUnavailable = new(intstr.FromString("0%")) },
			"maxUnavailable is a number of sandboxes of at least 1, such as 5, or a percentage from 1% to 100%"},
		{"maxUnavailable a word", func(c *sandboxv1.LearningCohort) { c.Spec.MaxUnavailable = new(intstr.FromString("half")) },
			"maxUnavailable is a number of sandboxes of at least 1"},
		{"ttl over a year", func(c *sandboxv1.LearningCohort) {
			c.Spec.Template.TTL = &metav1.Duration{Duration: 9000 * time.Hour}
		}, "ttl is a duration from 1m to 8760h"},
		{"override with only a name", func(c *sandboxv1.LearningCohort) {
			c.Spec.Template.Components = []sandboxv1.ComponentOverride{{Name: "app"}}
		}, "an override changes something"},
		{"export without a namespace", func(c *sandboxv1.LearningCohort) { c.Spec.Export = &sandboxv1.RosterExport{} },
			"spec.export.namespace"},
		{"1,001 learners", func(c *sandboxv1.LearningCohort) {
			c.Spec.Learners = make([]sandboxv1.CohortLearner, 1001)
			for i := range c.Spec.Learners {
				c.Spec.Learners[i].Name = fmt.Sprintf("learner-%04d", i)
			}
		}, "Too many: 1001: must have at most 1000 items"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newG(t)
			c := valid()
			tc.mutate(c)
			err := k8sClient.Create(t.Context(), c, client.DryRunAll)
			g.Expect(err).To(HaveOccurred())
			g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "not an Invalid error: %v", err)
			g.Expect(err.Error()).To(ContainSubstring(tc.want))
		})
	}

	t.Run("the sample", func(t *testing.T) {
		g := newG(t)
		raw, err := os.ReadFile(filepath.Join("..", "..", "config", "samples", "sandbox_v1alpha1_learningcohort.yaml"))
		g.Expect(err).NotTo(HaveOccurred())
		sample := &sandboxv1.LearningCohort{}
		g.Expect(yaml.UnmarshalStrict(raw, sample)).To(Succeed())
		g.Expect(sample.Spec.Learners).To(HaveLen(3))
		g.Expect(k8sClient.Create(t.Context(), sample, client.DryRunAll)).To(Succeed())
	})

	t.Run("resetGeneration going down", func(t *testing.T) {
		g := newG(t)
		c := valid()
		c.Spec.Template.ResetGeneration = 2
		c.Spec.Stage = uniqueName("missing") // no sandbox gets far
		createCohort(t, c)
		c.Spec.Template.ResetGeneration = 1
		err := k8sClient.Update(t.Context(), c)
		g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "not an Invalid error: %v", err)
		g.Expect(err.Error()).To(ContainSubstring("resetGeneration only goes up"))
	})

	t.Run("a class of 1,000 with the longest names fits", func(t *testing.T) {
		g := newG(t)
		c := valid()
		c.Name = nameOfLength("big", 20)
		c.Spec.Learners = make([]sandboxv1.CohortLearner, 1000)
		for i := range c.Spec.Learners {
			l := &c.Spec.Learners[i]
			l.Name = fmt.Sprintf("%s-%04d", strings.Repeat("l", 55-20-1-5), i)
			l.Users = []string{fmt.Sprintf("learner-%04d@example.edu", i)}
		}
		c.Spec.StartsAt = &start
		c.Spec.EndsAt = new(metav1.NewTime(start.Add(100 * 24 * time.Hour)))
		g.Expect(k8sClient.Create(t.Context(), c, client.DryRunAll)).To(Succeed())
		g.Expect(c.Spec.MaxUnavailable).To(Equal(new(intstr.FromString("10%"))), "defaulted")
	})
}

// TestCohortWaitsForItsStart: before startsAt, less the lead time, nothing is
// created and the cohort says when it will be; then the sandboxes are made.
func TestCohortWaitsForItsStart(t *testing.T) {
	g := newG(t)
	restoreClockAfter(t)
	stage := nginxStage(t, "cohort", "web")
	c := newCohort("scheduled", stage.Name, "ada", "linus")
	startsAt := metav1.NewTime(testClock.Now().Add(3 * time.Hour).Truncate(time.Second))
	c.Spec.StartsAt = &startsAt
	createCohort(t, c)

	g.Eventually(func(g Gomega) {
		cur := getCohort(g, c.Name)
		g.Expect(cur.Status.ObservedGeneration).To(Equal(cur.Generation))
		ready := apimetaCondition(cur, sandboxv1.ReadyCondition)
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ready.Reason).To(Equal(sandboxv1.ReasonScheduled))
		g.Expect(ready.Message).To(ContainSubstring(startsAt.UTC().Add(-cohortLeadTime).Format(time.RFC3339)))
		g.Expect(cur.Status.Learners).To(BeNumerically("==", 2))
		g.Expect(cur.Status.Ready).To(Equal("0/2"))
	}).Should(Succeed())
	pokeCohort(t, c.Name)
	g.Consistently(func(g Gomega) map[string]sandboxv1.LearningSandbox {
		return cohortSandboxes(g, c.Name)
	}).WithTimeout(time.Second).Should(BeEmpty())

	// An hour and a minute before the start: the lead time has begun.
	testClock.Step(2*time.Hour + time.Minute)
	pokeCohort(t, c.Name)
	g.Eventually(func(g Gomega) []string {
		return slices.Collect(maps.Keys(cohortSandboxes(g, c.Name)))
	}).Should(ConsistOf(sandboxNamesOf(c, "ada", "linus")))
	g.Eventually(func(g Gomega) string {
		return apimetaCondition(getCohort(g, c.Name), sandboxv1.ReadyCondition).Reason
	}).Should(Equal(sandboxv1.ReasonSandboxesNotReady))
}

// TestCohortEnds: at endsAt every sandbox of the class is deleted, none is
// made again, and the cohort says the class ended.
func TestCohortEnds(t *testing.T) {
	g := newG(t)
	restoreClockAfter(t)
	stage := nginxStage(t, "cohort", "web")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("rosters")}}
	g.Expect(k8sClient.Create(t.Context(), ns)).To(Succeed())
	t.Cleanup(func() { deleteIgnoringNotFound(t, ns) })
	c := newCohort("ends", stage.Name, "ada", "linus")
	endsAt := metav1.NewTime(testClock.Now().Add(time.Hour).Truncate(time.Second))
	c.Spec.EndsAt = &endsAt
	c.Spec.Export = &sandboxv1.RosterExport{Namespace: ns.Name}
	createCohort(t, c)
	c = getCohort(g, c.Name)
	g.Eventually(func(g Gomega) map[string]sandboxv1.LearningSandbox { return cohortSandboxes(g, c.Name) }).Should(HaveLen(2))
	roster := client.ObjectKey{Namespace: ns.Name, Name: c.Name + "-roster"}
	g.Eventually(func() error { return k8sClient.Get(t.Context(), roster, &corev1.Secret{}) }).Should(Succeed())

	testClock.Step(2 * time.Hour)
	pokeCohort(t, c.Name)
	g.Eventually(func(g Gomega) map[string]sandboxv1.LearningSandbox { return cohortSandboxes(g, c.Name) }).Should(BeEmpty())
	g.Eventually(func(g Gomega) {
		cur := getCohort(g, c.Name)
		ready := apimetaCondition(cur, sandboxv1.ReadyCondition)
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ready.Reason).To(Equal(sandboxv1.ReasonEnded))
		g.Expect(ready.Message).To(Equal(fmt.Sprintf("The class ended at %s: its sandboxes were deleted", endsAt.UTC().Format(time.RFC3339))))
		g.Expect(apimetaCondition(cur, sandboxv1.StalledCondition).Reason).To(Equal(sandboxv1.ReasonEnded))
	}).Should(Succeed())
	g.Eventually(func(g Gomega) []eventsv1.Event { return cohortEvents(g, c) }).Should(ContainElement(
		HaveField("Reason", sandboxv1.ReasonEnded)))
	g.Eventually(func() error { return k8sClient.Get(t.Context(), roster, &corev1.Secret{}) }).Should(Satisfy(apierrors.IsNotFound))
	pokeCohort(t, c.Name)
	g.Consistently(func(g Gomega) map[string]sandboxv1.LearningSandbox {
		return cohortSandboxes(g, c.Name)
	}).WithTimeout(time.Second).Should(BeEmpty())
}

// TestCohortDoesNotRemakeExpiredSandboxes: a sandbox that expired after the
// template's ttl is not made again, and the cohort says why.
func TestCohortDoesNotRemakeExpiredSandboxes(t *testing.T) {
	g := newG(t)
	restoreClockAfter(t)
	stage := nginxStage(t, "cohort", "web")
	c := newCohort("ttl", stage.Name, "ada")
	// Sandboxes expire ttl after their creation, as the API server's clock
	// stamped it, by the test's clock, which earlier tests moved ahead.
	ttl := testClock.Since(time.Now()).Truncate(time.Minute) + 2*time.Hour
	c.Spec.Template.TTL = &metav1.Duration{Duration: ttl}
	createCohort(t, c)
	name := c.SandboxName("ada")
	g.Eventually(func(g Gomega) map[string]sandboxv1.LearningSandbox { return cohortSandboxes(g, c.Name) }).Should(HaveKey(name))
	g.Eventually(func() error {
		return k8sClient.Get(t.Context(), client.ObjectKey{Namespace: namespaceOf(name), Name: stack.ConnectionSecretName}, &corev1.Secret{})
	}).Should(Succeed())

	testClock.Step(3 * time.Hour)
	touchConnectionSecret(t, name) // the sandbox expires on its next reconcile
	g.Eventually(func(g Gomega) {
		cur := getCohort(g, c.Name)
		g.Expect(cur.Status.NotReady).To(ConsistOf(HaveField("Reason", sandboxv1.ReasonExpired)))
		stalled := apimetaCondition(cur, sandboxv1.StalledCondition)
		g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(stalled.Reason).To(Equal(sandboxv1.ReasonExpired))
	}).Should(Succeed())
	pokeCohort(t, c.Name)
	g.Consistently(func(g Gomega) map[string]sandboxv1.LearningSandbox {
		return cohortSandboxes(g, c.Name)
	}).WithTimeout(time.Second).Should(BeEmpty())
}

// TestSteadyCohortMakesNoWrites: reconciling a cohort that is as it should be
// writes nothing: neither its sandboxes, nor the roster, nor its status.
func TestSteadyCohortMakesNoWrites(t *testing.T) {
	g := newG(t)
	stage := nginxStage(t, "cohort", "web")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("rosters")}}
	g.Expect(k8sClient.Create(t.Context(), ns)).To(Succeed())
	t.Cleanup(func() { deleteIgnoringNotFound(t, ns) })
	c := newCohort("steady", stage.Name, "ada", "linus")
	c.Spec.Export = &sandboxv1.RosterExport{Namespace: ns.Name, Name: uniqueName("roster")}
	createCohort(t, c)
	names := sandboxNamesOf(c, "ada", "linus")
	g.Eventually(func(g Gomega) map[string]sandboxv1.LearningSandbox { return cohortSandboxes(g, c.Name) }).Should(HaveLen(2))
	markSandboxesReady(t, g, names...)
	expectCohortReady(g, c.Name, 2)

	words := append([]string{c.Name, c.Spec.Export.Name}, names...)
	about := func() []string { return writes.about(words...) }
	var settled []string
	g.Eventually(func(g Gomega) {
		settled = about()
		g.Consistently(about).WithTimeout(time.Second).Should(Equal(settled))
	}).Should(Succeed())
	g.Expect(settled).NotTo(BeEmpty(), "the recorder saw the operator provision the cohort")

	for range 3 {
		reconciles := reconcilesOf(g, "learningcohort")
		pokeCohort(t, c.Name)
		g.Eventually(func(g Gomega) float64 { return reconcilesOf(g, "learningcohort") }).
			Should(BeNumerically(">", reconciles), "the change reconciles the cohort")
	}
	g.Consistently(about).Should(Equal(settled))
	expectCohortReady(g, c.Name, 2)
}

// TestSandboxApplyConfigurationSharesNothingWithTheCohort reads the API
// server's answer into the sandbox a cohort applies, as a server-side apply
// does: the cohort, a cached object, must not change with it.
func TestSandboxApplyConfigurationSharesNothingWithTheCohort(t *testing.T) {
	g := NewWithT(t)
	c := newCohort("shares", "web", "ada")
	c.Annotations = map[string]string{sandboxv1.CheckRequestedAtAnnotation: "2026-12-07T00:00:00Z"}
	c.Spec.Template.Budget = &sandboxv1.Budget{CPU: new(resource.MustParse("1"))}
	c.Spec.Template.Components = []sandboxv1.ComponentOverride{{
		Name:     "web",
		Replicas: ptr.To[int32](2),
		Resources: &corev1.ResourceRequirements{
			Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")},
		},
	}}
	before := c.DeepCopy()

	desired := sandboxApplyConfiguration(c, "shares-ada", desiredSandboxSpec(c, c.Spec.Learners[0]))
	g.Expect(applytest.ReadAnswer(desired)).To(Succeed())
	g.Expect(*desired.Spec.Components[0].Replicas).To(Equal(int32(3)), "the answer was read into the apply configuration")
	g.Expect(c).To(Equal(before))
}
