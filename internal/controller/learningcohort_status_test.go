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
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// Table tests of the cohort's pure status setters: no API server involved.

// cohortSandbox is a sandbox at generation 2 whose Ready condition is as given,
// for generation observed.
func cohortSandbox(ready metav1.ConditionStatus, reason string, observed int64, mutate ...func(*sandboxv1.LearningSandbox)) *sandboxv1.LearningSandbox {
	sb := &sandboxv1.LearningSandbox{ObjectMeta: metav1.ObjectMeta{Generation: 2}}
	sb.Status.ObservedGeneration = observed
	sb.Status.Conditions = []metav1.Condition{{Type: sandboxv1.ReadyCondition, Status: ready, Reason: reason,
		Message: "message of " + reason, ObservedGeneration: observed, LastTransitionTime: metav1.Now()}}
	for _, m := range mutate {
		m(sb)
	}
	return sb
}

func withSuspend(sb *sandboxv1.LearningSandbox) { sb.Spec.Suspend = true }

func withStalled(sb *sandboxv1.LearningSandbox) {
	sb.Status.Conditions = append(sb.Status.Conditions, metav1.Condition{Type: sandboxv1.StalledCondition,
		Status: metav1.ConditionTrue, Reason: sandboxv1.ReasonBudgetExceeded, ObservedGeneration: 2, LastTransitionTime: metav1.Now()})
}

// learnerSandboxes is n learners' sandboxes named s0, s1, ..., each made by of.
func learnerSandboxes(n int, of func(i int) learnerSandbox) []learnerSandbox {
	out := make([]learnerSandbox, n)
	for i := range out {
		out[i] = of(i)
		out[i].name = fmt.Sprintf("s%d", i)
		out[i].learner = sandboxv1.CohortLearner{Name: out[i].name}
	}
	return out
}

func readyUpdated(int) learnerSandbox {
	return learnerSandbox{state: stateObserved, updated: true,
		sandbox: cohortSandbox(metav1.ConditionTrue, sandboxv1.ReasonAllComponentsReady, 2)}
}

type cohortCondition struct {
	Status metav1.ConditionStatus
	Reason string
}

func cohortConditions(c *sandboxv1.LearningCohort) map[string]cohortCondition {
	out := map[string]cohortCondition{}
	for _, cond := range c.Status.Conditions {
		out[cond.Type] = cohortCondition{Status: cond.Status, Reason: cond.Reason}
	}
	return out
}

func TestSetCohortSandboxes(t *testing.T) {
	ready := func(reason string) map[string]cohortCondition {
		return map[string]cohortCondition{sandboxv1.ReadyCondition: {metav1.ConditionTrue, reason}}
	}
	progressing := func(reason string) map[string]cohortCondition {
		return map[string]cohortCondition{
			sandboxv1.ReadyCondition:       {metav1.ConditionFalse, reason},
			sandboxv1.ReconcilingCondition: {metav1.ConditionTrue, reason},
		}
	}
	stalledWith := func(reason string) map[string]cohortCondition {
		return map[string]cohortCondition{
			sandboxv1.ReadyCondition:   {metav1.ConditionFalse, reason},
			sandboxv1.StalledCondition: {metav1.ConditionTrue, reason},
		}
	}
	tests := []struct {
		name           string
		sandboxes      []learnerSandbox
		want           sandboxv1.LearningCohortStatus // counts, ready and the lists
		wantConditions map[string]cohortCondition
		wantMessage    string // a part of the Ready condition's message
	}{
		{
			name:           "all ready",
			sandboxes:      learnerSandboxes(3, readyUpdated),
			want:           sandboxv1.LearningCohortStatus{Learners: 3, ReadySandboxes: 3, UpdatedSandboxes: 3, Ready: "3/3"},
			wantConditions: ready(sandboxv1.ReasonAllSandboxesReady),
			wantMessage:    "All 3 sandboxes are ready",
		},
		{
			name:           "empty roster",
			want:           sandboxv1.LearningCohortStatus{Ready: "0/0"},
			wantConditions: ready(sandboxv1.ReasonAllSandboxesReady),
			wantMessage:    "The roster is empty",
		},
		{
			name: "all suspended",
			sandboxes: learnerSandboxes(2, func(int) learnerSandbox {
				return learnerSandbox{state: stateObserved, updated: true,
					sandbox: cohortSandbox(metav1.ConditionTrue, sandboxv1.ReasonSuspended, 2, withSuspend)}
			}),
			want: sandboxv1.LearningCohortStatus{Learners: 2, ReadySandboxes: 2, SuspendedSandboxes: 2,
				UpdatedSandboxes: 2, Ready: "2/2"},
			wantConditions: ready(sandboxv1.ReasonSuspended),
			wantMessage:    "All 2 sandboxes are suspended",
		},
		{
			name: "provisioning",
			sandboxes: learnerSandboxes(4, func(i int) learnerSandbox {
				switch i {
				case 0:
					return readyUpdated(i)
				case 1:
					return learnerSandbox{state: statePending, updated: true}
				case 2:
					return learnerSandbox{state: stateObserved, updated: true,
						sandbox: cohortSandbox(metav1.ConditionFalse, sandboxv1.ReasonComponentsNotReady, 2)}
				default:
					// Ready, but for a generation it has left behind.
					return learnerSandbox{state: stateObserved, updated: true,
						sandbox: cohortSandbox(metav1.ConditionTrue, sandboxv1.ReasonAllComponentsReady, 1)}
				}
			}),
			want: sandboxv1.LearningCohortStatus{Learners: 4, ReadySandboxes: 1, UpdatedSandboxes: 4, Ready: "1/4",
				NotReady: []sandboxv1.SandboxNotReady{
					{Sandbox: "s1", Reason: sandboxv1.ReasonProgressing, Message: "being applied"},
					{Sandbox: "s2", Reason: sandboxv1.ReasonComponentsNotReady, Message: "message of ComponentsNotReady"},
					{Sandbox: "s3", Reason: sandboxv1.ReasonProgressing, Message: "waiting for the sandbox controller"},
				}},
			wantConditions: progressing(sandboxv1.ReasonSandboxesNotReady),
			wantMessage:    "1 of 4 sandboxes ready; waiting for s1 (Progressing), s2 (ComponentsNotReady), s3 (Progressing)",
		},
		{
			name: "rolling out",
			sandboxes: learnerSandboxes(4, func(i int) learnerSandbox {
				if i < 2 {
					return learnerSandbox{state: stateObserved, updated: true,
						sandbox: cohortSandbox(metav1.ConditionFalse, sandboxv1.ReasonComponentsNotReady, 2)}
				}
				return learnerSandbox{state: stateHeldBack,
					sandbox: cohortSandbox(metav1.ConditionTrue, sandboxv1.ReasonAllComponentsReady, 2)}
			}),
			want: sandboxv1.LearningCohortStatus{Learners: 4, ReadySandboxes: 2, UpdatedSandboxes: 2, Ready: "2/4",
				NotReady: []sandboxv1.SandboxNotReady{
					{Sandbox: "s0", Reason: sandboxv1.ReasonComponentsNotReady, Message: "message of ComponentsNotReady"},
					{Sandbox: "s1", Reason: sandboxv1.ReasonComponentsNotReady, Message: "message of ComponentsNotReady"},
				}},
			wantConditions: progressing(sandboxv1.ReasonRollingOut),
			wantMessage:    "2 sandboxes at a time: 2 of 4 updated, 2 of 4 ready",
		},
		{
			name: "a rollout stuck on failed sandboxes",
			sandboxes: learnerSandboxes(3, func(i int) learnerSandbox {
				if i == 0 {
					return learnerSandbox{state: stateObserved, updated: true,
						sandbox: cohortSandbox(metav1.ConditionFalse, sandboxv1.ReasonBudgetExceeded, 2, withStalled)}
				}
				return learnerSandbox{state: stateHeldBack,
					sandbox: cohortSandbox(metav1.ConditionTrue, sandboxv1.ReasonAllComponentsReady, 2)}
			}),
			want: sandboxv1.LearningCohortStatus{Learners: 3, ReadySandboxes: 2, FailedSandboxes: 1, UpdatedSandboxes: 1, Ready: "2/3",
				NotReady: []sandboxv1.SandboxNotReady{
					{Sandbox: "s0", Reason: sandboxv1.ReasonBudgetExceeded, Message: "message of BudgetExceeded"},
				}},
			wantConditions: stalledWith(sandboxv1.ReasonSandboxesFailed),
			wantMessage:    "1 of 3 sandboxes failed; the rollout waits for them with 1 of 3 updated",
		},
		{
			name: "expired",
			sandboxes: learnerSandboxes(2, func(i int) learnerSandbox {
				if i == 0 {
					return readyUpdated(i)
				}
				return learnerSandbox{state: stateExpired}
			}),
			want: sandboxv1.LearningCohortStatus{Learners: 2, ReadySandboxes: 1, UpdatedSandboxes: 1, Ready: "1/2",
				NotReady: []sandboxv1.SandboxNotReady{{Sandbox: "s1", Reason: sandboxv1.ReasonExpired,
					Message: "the template's ttl has passed since the class started: the sandbox is not created again"}}},
			wantConditions: stalledWith(sandboxv1.ReasonExpired),
			wantMessage:    "1 of 2 sandboxes ready; not ready: s1 (Expired)",
		},
		{
			name: "conflict",
			sandboxes: learnerSandboxes(2, func(i int) learnerSandbox {
				if i == 0 {
					return readyUpdated(i)
				}
				return learnerSandbox{state: stateConflict}
			}),
			want: sandboxv1.LearningCohortStatus{Learners: 2, ReadySandboxes: 1, UpdatedSandboxes: 1, Ready: "1/2",
				NotReady: []sandboxv1.SandboxNotReady{{Sandbox: "s1", Reason: sandboxv1.ReasonSandboxConflict,
					Message: "a sandbox of this name exists and belongs to someone else: it is left alone"}},
				Conflicts: []string{"s1"}},
			wantConditions: stalledWith(sandboxv1.ReasonSandboxConflict),
			wantMessage:    "1 sandboxes of the roster exist and belong to someone else, so they are left alone: s1;",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			c := &sandboxv1.LearningCohort{ObjectMeta: metav1.ObjectMeta{Name: "fall26", Generation: 5}}
			c.Spec.Stage = "apis"
			// A condition of an earlier reconcile, which the new ones replace.
			setCondition(c, sandboxv1.ReconcilingCondition, metav1.ConditionTrue, sandboxv1.ReasonProgressing, "before")

			setCohortSandboxes(c, tt.sandboxes, 2)

			got := c.Status
			got.Conditions = nil
			g.Expect(got).To(Equal(tt.want))
			g.Expect(cohortConditions(c)).To(Equal(tt.wantConditions))
			for _, cond := range c.Status.Conditions {
				g.Expect(cond.ObservedGeneration).To(Equal(int64(5)))
			}
			g.Expect(readyCondition(c).Message).To(ContainSubstring(tt.wantMessage))
		})
	}
}

func readyCondition(c *sandboxv1.LearningCohort) metav1.Condition {
	for _, cond := range c.Status.Conditions {
		if cond.Type == sandboxv1.ReadyCondition {
			return cond
		}
	}
	return metav1.Condition{}
}

// TestCohortStatusIsBounded: a class of a thousand makes a status of at most
// twenty sandboxes in each list, and a message that names five.
func TestCohortStatusIsBounded(t *testing.T) {
	g := NewWithT(t)
	c := &sandboxv1.LearningCohort{ObjectMeta: metav1.ObjectMeta{Name: "big"}}
	notReady := learnerSandboxes(1000, func(i int) learnerSandbox {
		if i%2 == 0 {
			return learnerSandbox{state: stateConflict}
		}
		return learnerSandbox{state: statePending, updated: true}
	})
	setCohortSandboxes(c, notReady, 100)
	g.Expect(c.Status.Learners).To(BeNumerically("==", 1000))
	g.Expect(c.Status.NotReady).To(HaveLen(sandboxv1.MaxCohortStatusEntries))
	g.Expect(c.Status.Conflicts).To(HaveLen(sandboxv1.MaxCohortStatusEntries))
	g.Expect(readyCondition(c).Message).To(HavePrefix("500 sandboxes of the roster exist"))
	g.Expect(len(readyCondition(c).Message)).To(BeNumerically("<", 300))

	c = &sandboxv1.LearningCohort{ObjectMeta: metav1.ObjectMeta{Name: "big"}}
	setCohortSandboxes(c, learnerSandboxes(1000, func(int) learnerSandbox {
		return learnerSandbox{state: statePending, updated: true}
	}), 100)
	g.Expect(c.Status.NotReady).To(HaveLen(sandboxv1.MaxCohortStatusEntries))
	g.Expect(c.Status.Conflicts).To(BeNil())
	g.Expect(readyCondition(c).Message).To(HaveSuffix("s4 (Progressing) and 995 more"))
}

func TestNotReadyMessagesAreShortened(t *testing.T) {
	g := NewWithT(t)
	c := &sandboxv1.LearningCohort{ObjectMeta: metav1.ObjectMeta{Name: "fall26"}}
	sb := cohortSandbox(metav1.ConditionFalse, sandboxv1.ReasonApplyFailed, 2)
	sb.Status.Conditions[0].Message = strings.Repeat("é", 5000)
	setCohortSandboxes(c, []learnerSandbox{{name: "fall26-ada", state: stateObserved, updated: true, sandbox: sb}}, 1)
	g.Expect(c.Status.NotReady).To(HaveLen(1))
	g.Expect([]rune(c.Status.NotReady[0].Message)).To(HaveLen(maxNotReadyMessage))
	g.Expect(c.Status.NotReady[0].Message).To(HaveSuffix("é…"))
}

func TestMarkCohortScheduledAndEnded(t *testing.T) {
	g := NewWithT(t)
	startsAt := metav1.NewTime(time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC))
	endsAt := metav1.NewTime(time.Date(2026, 12, 18, 17, 0, 0, 0, time.UTC))
	c := &sandboxv1.LearningCohort{ObjectMeta: metav1.ObjectMeta{Name: "fall26", Generation: 2}}
	c.Spec.Learners = []sandboxv1.CohortLearner{{Name: "ada"}, {Name: "linus"}}
	c.Spec.StartsAt, c.Spec.EndsAt = &startsAt, &endsAt
	c.Status = sandboxv1.LearningCohortStatus{ObservedGeneration: 1, Learners: 2, ReadySandboxes: 2, Ready: "2/2",
		NotReady: []sandboxv1.SandboxNotReady{{Sandbox: "fall26-ada"}}}
	markCohortFailed(c, errors.New("boom"))

	markCohortScheduled(c, startsAt.Add(-time.Hour))
	g.Expect(c.Status.ObservedGeneration).To(BeNumerically("==", 1), "the reconciler sets it")
	g.Expect(c.Status.Ready).To(Equal("0/2"))
	g.Expect(c.Status.ReadySandboxes).To(BeZero())
	g.Expect(c.Status.NotReady).To(BeNil())
	g.Expect(cohortConditions(c)).To(Equal(map[string]cohortCondition{
		sandboxv1.ReadyCondition: {metav1.ConditionFalse, sandboxv1.ReasonScheduled},
	}))
	g.Expect(readyCondition(c).Message).To(Equal(
		"The class starts at 2026-09-01T09:00:00Z: its sandboxes are created from 2026-09-01T08:00:00Z"))

	markCohortEnded(c, 2)
	g.Expect(cohortConditions(c)).To(Equal(map[string]cohortCondition{
		sandboxv1.ReadyCondition:   {metav1.ConditionFalse, sandboxv1.ReasonEnded},
		sandboxv1.StalledCondition: {metav1.ConditionTrue, sandboxv1.ReasonEnded},
	}))
	g.Expect(readyCondition(c).Message).To(Equal("The class ended at 2026-12-18T17:00:00Z: its 2 sandboxes are being deleted"))
	markCohortEnded(c, 0)
	g.Expect(readyCondition(c).Message).To(Equal("The class ended at 2026-12-18T17:00:00Z: its sandboxes were deleted"))
}

func TestMaxUnavailable(t *testing.T) {
	tests := []struct {
		learners int
		value    *intstr.IntOrString
		want     int
	}{
		{50, nil, 5},
		{3, nil, 1},
		{0, nil, 1},
		{6, new(intstr.FromString("25%")), 2},
		{6, new(intstr.FromInt32(2)), 2},
		{6, new(intstr.FromInt32(10)), 10},
		{1000, new(intstr.FromString("1%")), 10},
		{10, new(intstr.FromString("100%")), 10},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d learners, %v", tt.learners, tt.value), func(t *testing.T) {
			c := &sandboxv1.LearningCohort{}
			c.Spec.Learners = make([]sandboxv1.CohortLearner, tt.learners)
			c.Spec.MaxUnavailable = tt.value
			NewWithT(t).Expect(maxUnavailable(c)).To(Equal(tt.want))
		})
	}
}

// TestHeldBackSpec: a sandbox that waits for its turn keeps its stage and
// template, and gets the cohort's learner and suspend at once.
func TestHeldBackSpec(t *testing.T) {
	g := NewWithT(t)
	current := sandboxv1.LearningSandboxSpec{
		Learner: sandboxv1.Learner{Name: "ada"}, Stage: "apis", ResetGeneration: 1,
		Access: sandboxv1.Access{Kubeconfig: true},
	}
	desired := sandboxv1.LearningSandboxSpec{
		Learner: sandboxv1.Learner{Name: "ada", Users: []string{"ada@example.edu"}}, Stage: "databases",
		Suspend: true, ResetGeneration: 2,
	}
	g.Expect(sameTemplate(current, desired)).To(BeFalse())
	held := heldBackSpec(desired, current)
	g.Expect(held).To(Equal(sandboxv1.LearningSandboxSpec{
		Learner: sandboxv1.Learner{Name: "ada", Users: []string{"ada@example.edu"}}, Stage: "apis",
		Suspend: true, ResetGeneration: 1, Access: sandboxv1.Access{Kubeconfig: true},
	}))
	g.Expect(sameTemplate(held, current)).To(BeTrue(), "suspend and the learner are not the template")
}
