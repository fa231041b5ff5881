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
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// What the sandbox and cohort controllers share: kstatus conditions set in
// memory, and one status patch at the end of a reconcile, only if it changed.

// conditioned is one of our kinds, whose status holds kstatus conditions.
type conditioned interface {
	client.Object
	GetConditions() []metav1.Condition
	SetConditions([]metav1.Condition)
}

// setCondition sets one condition for the object's current generation.
func setCondition(obj conditioned, typ string, status metav1.ConditionStatus, reason, message string) {
	conditions := obj.GetConditions()
	apimeta.SetStatusCondition(&conditions, metav1.Condition{
		Type:               typ,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: obj.GetGeneration(),
	})
	obj.SetConditions(conditions)
}

// removeCondition removes a condition of the given type, if there is one.
func removeCondition(obj conditioned, typ string) {
	conditions := obj.GetConditions()
	apimeta.RemoveStatusCondition(&conditions, typ)
	obj.SetConditions(conditions)
}

// markStalled says the object cannot progress until its spec or its
// surroundings change, and why.
func markStalled(obj conditioned, reason, message string) {
	setCondition(obj, sandboxv1.StalledCondition, metav1.ConditionTrue, reason, message)
	setCondition(obj, sandboxv1.ReadyCondition, metav1.ConditionFalse, reason, message)
	removeCondition(obj, sandboxv1.ReconcilingCondition)
}

// readyChanged returns the Ready condition of after when its status or reason
// differs from before's: the moments worth an event.
func readyChanged(before, after conditioned) *metav1.Condition {
	now := apimeta.FindStatusCondition(after.GetConditions(), sandboxv1.ReadyCondition)
	if now == nil {
		return nil
	}
	was := apimeta.FindStatusCondition(before.GetConditions(), sandboxv1.ReadyCondition)
	if was != nil && was.Status == now.Status && was.Reason == now.Reason {
		return nil
	}
	return now
}

// readyReason is the reason of the object's Ready condition, a bounded set
// fit for a metric label.
func readyReason(obj conditioned) string {
	if ready := apimeta.FindStatusCondition(obj.GetConditions(), sandboxv1.ReadyCondition); ready != nil {
		return ready.Reason
	}
	return sandboxv1.ReasonReconciliationFailed
}

// patchStatus writes obj's status as a merge patch against original, and
// makes no request when nothing changed. A reconcile changes only the status
// of the object it reconciles, so comparing the whole objects compares that.
// With opts, client.MergeFromWithOptimisticLock{}, the patch is refused (a
// conflict) when the object changed since original was read.
func patchStatus(ctx context.Context, c client.StatusClient, original, obj client.Object, opts ...client.MergeFromOption) error {
	if equality.Semantic.DeepEqual(original, obj) {
		return nil
	}
	if err := c.Status().Patch(ctx, obj, client.MergeFromWithOptions(original, opts...)); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("patching status: %w", err))
	}
	return nil
}
