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
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// The status setters below are pure: they change only the sandbox in memory,
// and the reconciler patches the status once, at the end.

// maxNotReadyListed bounds how many waiting components the Ready message names.
const maxNotReadyListed = 5

// markFailed says a reconcile failed on something that may pass on a retry.
func markFailed(sb *sandboxv1.LearningSandbox, err error) {
	msg := err.Error()
	setCondition(sb, sandboxv1.ReadyCondition, metav1.ConditionFalse, sandboxv1.ReasonReconciliationFailed, msg)
	setCondition(sb, sandboxv1.ReconcilingCondition, metav1.ConditionTrue, sandboxv1.ReasonReconciliationFailed, msg)
	removeCondition(sb, sandboxv1.StalledCondition)
}

// setComponents records the observed components and sets Ready and
// Reconciling from them.
func setComponents(sb *sandboxv1.LearningSandbox, components []sandboxv1.ComponentStatus) {
	sb.Status.Components = components
	var ready int32
	var waiting []string
	for _, c := range components {
		if c.Ready {
			ready++
			continue
		}
		waiting = append(waiting, fmt.Sprintf("%s (%s)", c.Name, c.Message))
	}
	total := int32(len(components))
	sb.Status.ReadyComponents = ready
	sb.Status.TotalComponents = total
	sb.Status.ComponentsReady = fmt.Sprintf("%d/%d", ready, total)
	removeCondition(sb, sandboxv1.StalledCondition)

	if ready == total {
		reason, msg := sandboxv1.ReasonAllComponentsReady, fmt.Sprintf("All %d components are ready", total)
		if sb.Spec.Suspend {
			reason, msg = sandboxv1.ReasonSuspended, "Suspended: every workload is scaled to zero, data is kept"
		}
		setCondition(sb, sandboxv1.ReadyCondition, metav1.ConditionTrue, reason, msg)
		removeCondition(sb, sandboxv1.ReconcilingCondition)
		return
	}
	if len(waiting) > maxNotReadyListed {
		waiting = append(waiting[:maxNotReadyListed], fmt.Sprintf("and %d more", len(waiting)-maxNotReadyListed))
	}
	msg := fmt.Sprintf("%d of %d components ready; waiting for %s", ready, total, strings.Join(waiting, ", "))
	setCondition(sb, sandboxv1.ReadyCondition, metav1.ConditionFalse, sandboxv1.ReasonComponentsNotReady, msg)
	setCondition(sb, sandboxv1.ReconcilingCondition, metav1.ConditionTrue, sandboxv1.ReasonProgressing, msg)
}

// markProvisioned records when the sandbox was first Ready (suspended does
// not count: its workloads are scaled to zero).
func markProvisioned(sb *sandboxv1.LearningSandbox, now time.Time) {
	if sb.Status.ProvisionedAt != nil || sb.Spec.Suspend ||
		!apimeta.IsStatusConditionTrue(sb.Status.Conditions, sandboxv1.ReadyCondition) {
		return
	}
	at := metav1.NewTime(now)
	sb.Status.ProvisionedAt = &at
}

// setPhase summarises the conditions in one word for people.
func setPhase(sb *sandboxv1.LearningSandbox) {
	switch {
	case !sb.DeletionTimestamp.IsZero():
		sb.Status.Phase = sandboxv1.PhaseTerminating
	case apimeta.IsStatusConditionTrue(sb.Status.Conditions, sandboxv1.StalledCondition):
		sb.Status.Phase = sandboxv1.PhaseFailed
	case apimeta.IsStatusConditionTrue(sb.Status.Conditions, sandboxv1.ReadyCondition) && sb.Spec.Suspend:
		sb.Status.Phase = sandboxv1.PhaseSuspended
	case apimeta.IsStatusConditionTrue(sb.Status.Conditions, sandboxv1.ReadyCondition):
		sb.Status.Phase = sandboxv1.PhaseReady
	case sb.Status.Namespace != "":
		sb.Status.Phase = sandboxv1.PhaseProvisioning
	default:
		sb.Status.Phase = sandboxv1.PhasePending
	}
}

// progressInterval is how long after a sandbox starts provisioning (or stops
// being Ready) its status is written only when its phase changes: a sandbox
// Ready within it costs two status writes, Provisioning and Ready. After it,
// the progress of each component is written as it changes.
const progressInterval = 30 * time.Second

// progressWait says how long to hold back a status that differs from the one
// written before only in the progress of its components (which are ready,
// what each waits for, and the messages that list them), or zero to write it
// now.
func progressWait(before, after *sandboxv1.LearningSandbox, now time.Time) time.Duration {
	ready := apimeta.FindStatusCondition(after.Status.Conditions, sandboxv1.ReadyCondition)
	if ready == nil || ready.Status == metav1.ConditionTrue || !progressOnly(before, after) {
		return 0
	}
	return max(ready.LastTransitionTime.Add(progressInterval).Sub(now), 0)
}

// progressOnly reports whether two statuses differ at most in the progress
// of the components.
func progressOnly(before, after *sandboxv1.LearningSandbox) bool {
	b, a := before.Status.DeepCopy(), after.Status.DeepCopy()
	for _, s := range []*sandboxv1.LearningSandboxStatus{b, a} {
		s.Components, s.ReadyComponents, s.ComponentsReady = nil, 0, ""
		for i := range s.Conditions {
			s.Conditions[i].Message = ""
		}
	}
	return equality.Semantic.DeepEqual(b, a)
}
