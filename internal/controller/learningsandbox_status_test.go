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
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// Table tests of the pure status setters: no API server involved.

// statusSandbox is a sandbox at generation 3 with the given conditions.
func statusSandbox(conditions ...metav1.Condition) *sandboxv1.LearningSandbox {
	sb := &sandboxv1.LearningSandbox{ObjectMeta: metav1.ObjectMeta{Name: "ada", Generation: 3}}
	for _, c := range conditions {
		c.ObservedGeneration = 2
		c.LastTransitionTime = metav1.Now()
		sb.Status.Conditions = append(sb.Status.Conditions, c)
	}
	return sb
}

func cond(typ string, status metav1.ConditionStatus, reason string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: reason}
}

// conditionsOf is type -> status/reason/message of each condition, for comparing.
type wantCondition struct {
	Status  metav1.ConditionStatus
	Reason  string
	Message string
}

func conditionsOf(sb *sandboxv1.LearningSandbox) map[string]wantCondition {
	out := map[string]wantCondition{}
	for _, c := range sb.Status.Conditions {
		out[c.Type] = wantCondition{Status: c.Status, Reason: c.Reason, Message: c.Message}
	}
	return out
}

func comp(name string, ready bool, message string) sandboxv1.ComponentStatus {
	return sandboxv1.ComponentStatus{Name: name, Type: sandboxv1.ComponentRedis, Ready: ready, Message: message}
}

func TestSetComponents(t *testing.T) {
	stalled := cond(sandboxv1.StalledCondition, metav1.ConditionTrue, sandboxv1.ReasonStageNotFound)
	reconciling := cond(sandboxv1.ReconcilingCondition, metav1.ConditionTrue, sandboxv1.ReasonProgressing)
	tests := []struct {
		name           string
		suspend        bool
		before         []metav1.Condition
		components     []sandboxv1.ComponentStatus
		wantReady      int32
		wantTotal      int32
		wantPrinted    string
		wantConditions map[string]wantCondition
	}{
		{
			name:        "all ready",
			before:      []metav1.Condition{reconciling},
			components:  []sandboxv1.ComponentStatus{comp("postgres", true, ""), comp("app", true, "")},
			wantReady:   2,
			wantTotal:   2,
			wantPrinted: "2/2",
			wantConditions: map[string]wantCondition{
				sandboxv1.ReadyCondition: {metav1.ConditionTrue, sandboxv1.ReasonAllComponentsReady, "All 2 components are ready"},
			},
		},
		{
			name:        "suspended, all scaled to zero",
			suspend:     true,
			components:  []sandboxv1.ComponentStatus{comp("postgres", true, ""), comp("app", true, "")},
			wantReady:   2,
			wantTotal:   2,
			wantPrinted: "2/2",
			wantConditions: map[string]wantCondition{
				sandboxv1.ReadyCondition: {metav1.ConditionTrue, sandboxv1.ReasonSuspended,
					"Suspended: every workload is scaled to zero, data is kept"},
			},
		},
		{
			name:        "some waiting",
			components:  []sandboxv1.ComponentStatus{comp("postgres", true, ""), comp("app", false, "Ready: 0/1")},
			wantReady:   1,
			wantTotal:   2,
			wantPrinted: "1/2",
			wantConditions: map[string]wantCondition{
				sandboxv1.ReadyCondition: {metav1.ConditionFalse, sandboxv1.ReasonComponentsNotReady,
					"1 of 2 components ready; waiting for app (Ready: 0/1)"},
				sandboxv1.ReconcilingCondition: {metav1.ConditionTrue, sandboxv1.ReasonProgressing,
					"1 of 2 components ready; waiting for app (Ready: 0/1)"},
			},
		},
		{
			name:   "more waiting than the message lists",
			before: []metav1.Condition{stalled},
			components: []sandboxv1.ComponentStatus{
				comp("a", false, "x"), comp("b", false, "x"), comp("c", false, "x"), comp("d", false, "x"),
				comp("e", false, "x"), comp("f", false, "x"), comp("g", false, "x"),
			},
			wantReady:   0,
			wantTotal:   7,
			wantPrinted: "0/7",
			wantConditions: map[string]wantCondition{
				sandboxv1.ReadyCondition: {metav1.ConditionFalse, sandboxv1.ReasonComponentsNotReady,
					"0 of 7 components ready; waiting for a (x), b (x), c (x), d (x), e (x), and 2 more"},
				sandboxv1.ReconcilingCondition: {metav1.ConditionTrue, sandboxv1.ReasonProgressing,
					"0 of 7 components ready; waiting for a (x), b (x), c (x), d (x), e (x), and 2 more"},
			},
		},
		{
			name:        "a stall is over once components are observed",
			before:      []metav1.Condition{stalled, cond(sandboxv1.ReadyCondition, metav1.ConditionFalse, sandboxv1.ReasonStageNotFound)},
			components:  []sandboxv1.ComponentStatus{comp("web", true, "")},
			wantReady:   1,
			wantTotal:   1,
			wantPrinted: "1/1",
			wantConditions: map[string]wantCondition{
				sandboxv1.ReadyCondition: {metav1.ConditionTrue, sandboxv1.ReasonAllComponentsReady, "All 1 components are ready"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			sb := statusSandbox(tt.before...)
			sb.Spec.Suspend = tt.suspend
			setComponents(sb, tt.components)
			g.Expect(sb.Status.Components).To(Equal(tt.components))
			g.Expect(sb.Status.ReadyComponents).To(Equal(tt.wantReady))
			g.Expect(sb.Status.TotalComponents).To(Equal(tt.wantTotal))
			g.Expect(sb.Status.ComponentsReady).To(Equal(tt.wantPrinted))
			g.Expect(conditionsOf(sb)).To(Equal(tt.wantConditions))
			for _, c := range sb.Status.Conditions {
				g.Expect(c.ObservedGeneration).To(Equal(sb.Generation), "condition %s", c.Type)
			}
		})
	}
}

func TestMarkStalled(t *testing.T) {
	tests := []struct {
		name   string
		before []metav1.Condition
	}{
		{"from nothing", nil},
		{"while reconciling", []metav1.Condition{
			cond(sandboxv1.ReadyCondition, metav1.ConditionFalse, sandboxv1.ReasonComponentsNotReady),
			cond(sandboxv1.ReconcilingCondition, metav1.ConditionTrue, sandboxv1.ReasonProgressing),
		}},
		{"when ready", []metav1.Condition{
			cond(sandboxv1.ReadyCondition, metav1.ConditionTrue, sandboxv1.ReasonAllComponentsReady),
		}},
		{"after a failure", []metav1.Condition{
			cond(sandboxv1.ReadyCondition, metav1.ConditionFalse, sandboxv1.ReasonReconciliationFailed),
			cond(sandboxv1.ReconcilingCondition, metav1.ConditionTrue, sandboxv1.ReasonReconciliationFailed),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			sb := statusSandbox(tt.before...)
			markStalled(sb, sandboxv1.ReasonStageNotFound, `RoadmapStage "x" does not exist`)
			want := wantCondition{metav1.ConditionTrue, sandboxv1.ReasonStageNotFound, `RoadmapStage "x" does not exist`}
			notReady := want
			notReady.Status = metav1.ConditionFalse
			g.Expect(conditionsOf(sb)).To(Equal(map[string]wantCondition{
				sandboxv1.StalledCondition: want,
				sandboxv1.ReadyCondition:   notReady,
			}))
			for _, c := range sb.Status.Conditions {
				g.Expect(c.ObservedGeneration).To(Equal(sb.Generation), "condition %s", c.Type)
			}
		})
	}
}

func TestMarkFailed(t *testing.T) {
	tests := []struct {
		name   string
		before []metav1.Condition
	}{
		{"from nothing", nil},
		{"when stalled", []metav1.Condition{
			cond(sandboxv1.StalledCondition, metav1.ConditionTrue, sandboxv1.ReasonNamespaceConflict),
			cond(sandboxv1.ReadyCondition, metav1.ConditionFalse, sandboxv1.ReasonNamespaceConflict),
		}},
		{"when ready", []metav1.Condition{
			cond(sandboxv1.ReadyCondition, metav1.ConditionTrue, sandboxv1.ReasonAllComponentsReady),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			sb := statusSandbox(tt.before...)
			markFailed(sb, errors.New("applying Deployment sandbox-ada/app: connection refused"))
			want := wantCondition{metav1.ConditionFalse, sandboxv1.ReasonReconciliationFailed,
				"applying Deployment sandbox-ada/app: connection refused"}
			reconciling := want
			reconciling.Status = metav1.ConditionTrue
			g.Expect(conditionsOf(sb)).To(Equal(map[string]wantCondition{
				sandboxv1.ReadyCondition:       want,
				sandboxv1.ReconcilingCondition: reconciling,
			}))
		})
	}
}

func TestSetPhase(t *testing.T) {
	now := metav1.Now()
	ready := cond(sandboxv1.ReadyCondition, metav1.ConditionTrue, sandboxv1.ReasonAllComponentsReady)
	notReady := cond(sandboxv1.ReadyCondition, metav1.ConditionFalse, sandboxv1.ReasonComponentsNotReady)
	stalled := cond(sandboxv1.StalledCondition, metav1.ConditionTrue, sandboxv1.ReasonStageNotFound)
	tests := []struct {
		name       string
		deleting   bool
		suspend    bool
		namespace  string
		conditions []metav1.Condition
		want       sandboxv1.Phase
	}{
		{name: "new", want: sandboxv1.PhasePending},
		{name: "stalled before its namespace exists", conditions: []metav1.Condition{stalled, notReady}, want: sandboxv1.PhaseFailed},
		{name: "namespace made, components waiting", namespace: "sandbox-ada", conditions: []metav1.Condition{notReady},
			want: sandboxv1.PhaseProvisioning},
		{name: "ready", namespace: "sandbox-ada", conditions: []metav1.Condition{ready}, want: sandboxv1.PhaseReady},
		{name: "suspended and scaled down", suspend: true, namespace: "sandbox-ada", conditions: []metav1.Condition{ready},
			want: sandboxv1.PhaseSuspended},
		{name: "suspended, still scaling down", suspend: true, namespace: "sandbox-ada", conditions: []metav1.Condition{notReady},
			want: sandboxv1.PhaseProvisioning},
		{name: "stalled with a namespace", namespace: "sandbox-ada", conditions: []metav1.Condition{stalled, notReady},
			want: sandboxv1.PhaseFailed},
		{name: "being deleted wins over everything", deleting: true, namespace: "sandbox-ada",
			conditions: []metav1.Condition{stalled, ready}, want: sandboxv1.PhaseTerminating},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			sb := statusSandbox(tt.conditions...)
			sb.Spec.Suspend = tt.suspend
			sb.Status.Namespace = tt.namespace
			if tt.deleting {
				sb.DeletionTimestamp = &now
			}
			setPhase(sb)
			g.Expect(sb.Status.Phase).To(Equal(tt.want))
		})
	}
}

// A status that only says how far provisioning got waits, early in the
// phase; a change of phase, of reason or of anything else is written now.
func TestProgressWait(t *testing.T) {
	g := NewWithT(t)
	provisioning := func(ready int32, since time.Time) *sandboxv1.LearningSandbox {
		sb := &sandboxv1.LearningSandbox{}
		setComponents(sb, []sandboxv1.ComponentStatus{
			{Name: "app", Ready: ready > 0, Message: "applying Deployment"},
			{Name: "web", Ready: ready > 1, Message: "Deployment not available"},
		})
		for i := range sb.Status.Conditions {
			sb.Status.Conditions[i].LastTransitionTime = metav1.NewTime(since)
		}
		setPhase(sb)
		return sb
	}
	now := time.Now()
	started := now.Add(-10 * time.Second)

	g.Expect(progressWait(provisioning(0, started), provisioning(1, started), now)).
		To(BeNumerically("~", progressInterval-10*time.Second, time.Second), "one more component ready: progress")
	g.Expect(progressWait(provisioning(0, now.Add(-time.Minute)), provisioning(1, now.Add(-time.Minute)), now)).
		To(BeZero(), "a slow sandbox shows its progress")
	g.Expect(progressWait(provisioning(1, started), provisioning(2, started), now)).
		To(BeZero(), "Ready is a change of phase")
	g.Expect(progressWait(&sandboxv1.LearningSandbox{}, provisioning(0, started), now)).
		To(BeZero(), "the first status is written at once")
	moved := provisioning(1, started)
	moved.Status.ObservedGeneration = 7
	g.Expect(progressWait(provisioning(0, started), moved, now)).To(BeZero(), "more than progress changed")
}
