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
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// reconcileReset wipes the sandbox's data once per new spec.resetGeneration.
// Whatever holds data (a StatefulSet and its PersistentVolumeClaims) carries
// the reset generation it was made for; those of an older one are deleted,
// and the stack is provisioned again only once they are gone. Because the
// generation lives on the objects, a reset happens exactly once per bump, also
// when the operator restarts half way. Credentials are kept: a reset wipes
// data, not access, so what the learner saved keeps working. It reports
// whether the reset is still waiting for old objects to go. sets are the
// sandbox's StatefulSets (see statefulSets).
func (r *LearningSandboxReconciler) reconcileReset(ctx context.Context, sb *sandboxv1.LearningSandbox, ns string,
	sets *appsv1.StatefulSetList) (bool, error) {
	want := strconv.FormatInt(sb.Spec.ResetGeneration, 10)
	inSandbox := []client.ListOption{client.InNamespace(ns), client.MatchingLabels{sandboxv1.SandboxLabel: sb.Name}}

	var stale []client.Object
	for i := range sets.Items {
		if sets.Items[i].Labels[sandboxv1.ResetGenerationLabel] != want {
			stale = append(stale, &sets.Items[i])
		}
	}
	var claims corev1.PersistentVolumeClaimList
	if err := r.List(ctx, &claims, inSandbox...); err != nil {
		return false, fmt.Errorf("listing PersistentVolumeClaims: %w", err)
	}
	for i := range claims.Items {
		if claims.Items[i].Labels[sandboxv1.ResetGenerationLabel] != want {
			stale = append(stale, &claims.Items[i])
		}
	}
	if len(stale) == 0 {
		if ready := apimeta.FindStatusCondition(sb.Status.Conditions, sandboxv1.ReadyCondition); ready != nil && ready.Reason == sandboxv1.ReasonResetting {
			r.Recorder.Eventf(sb, nil, corev1.EventTypeNormal, sandboxv1.ReasonResetting, "Reset",
				"Data wiped for resetGeneration %d; the stack is provisioned again", sb.Spec.ResetGeneration)
		}
		sb.Status.LastResetGeneration = sb.Spec.ResetGeneration
		return false, nil
	}

	names := make([]string, 0, len(stale))
	for _, obj := range stale {
		kind := kindStatefulSet
		if _, ok := obj.(*corev1.PersistentVolumeClaim); ok {
			kind = "PersistentVolumeClaim"
		}
		names = append(names, kind+"/"+obj.GetName())
		if obj.GetDeletionTimestamp() != nil {
			continue
		}
		if err := r.Delete(ctx, obj, client.PropagationPolicy(metav1.DeletePropagationBackground)); client.IgnoreNotFound(err) != nil {
			return false, fmt.Errorf("deleting %s %s for reset: %w", kind, klog.KObj(obj), err)
		}
		ctrl.LoggerFrom(ctx).Info("Deleted for reset", "kind", kind, "object", klog.KObj(obj), "resetGeneration", sb.Spec.ResetGeneration)
	}
	msg := fmt.Sprintf("Resetting to resetGeneration %d: waiting for %s to be deleted", sb.Spec.ResetGeneration, strings.Join(names, ", "))
	setCondition(sb, sandboxv1.ReadyCondition, metav1.ConditionFalse, sandboxv1.ReasonResetting, msg)
	setCondition(sb, sandboxv1.ReconcilingCondition, metav1.ConditionTrue, sandboxv1.ReasonResetting, msg)
	return true, nil
}

// statefulSets are the sandbox's StatefulSets, as the cache holds them: the
// reset looks at the generation they were made for, the rendering at their
// data volumes.
func (r *LearningSandboxReconciler) statefulSets(ctx context.Context, sb *sandboxv1.LearningSandbox, ns string) (*appsv1.StatefulSetList, error) {
	sets := &appsv1.StatefulSetList{}
	if err := r.List(ctx, sets, client.InNamespace(ns), client.MatchingLabels{sandboxv1.SandboxLabel: sb.Name}); err != nil {
		return nil, fmt.Errorf("listing StatefulSets: %w", err)
	}
	return sets, nil
}

// dataVolumes is the data volume each StatefulSet was made with, by name. A
// StatefulSet's claim templates cannot change, so the stack is rendered with
// these until a reset makes the StatefulSet anew.
func dataVolumes(sets *appsv1.StatefulSetList) map[string]stack.DataVolume {
	out := make(map[string]stack.DataVolume, len(sets.Items))
	for i := range sets.Items {
		if sets.Items[i].DeletionTimestamp.IsZero() {
			out[sets.Items[i].Name] = stack.DataVolumeOf(&sets.Items[i])
		}
	}
	return out
}

// serviceNames is the serviceName each StatefulSet was made with, by name. A
// StatefulSet's serviceName cannot change, so the stack is rendered with
// these until a reset makes the StatefulSet anew.
func serviceNames(sets *appsv1.StatefulSetList) map[string]string {
	out := make(map[string]string, len(sets.Items))
	for i := range sets.Items {
		if sets.Items[i].DeletionTimestamp.IsZero() {
			out[sets.Items[i].Name] = sets.Items[i].Spec.ServiceName
		}
	}
	return out
}

// terminatingMessage says what keeps a terminating namespace from going, from
// the conditions the namespace controller sets on it.
func terminatingMessage(ns *corev1.Namespace) string {
	var blockers []string
	for _, c := range ns.Status.Conditions {
		if c.Status == corev1.ConditionTrue && c.Message != "" {
			blockers = append(blockers, c.Message)
		}
	}
	msg := fmt.Sprintf("namespace %s is terminating", ns.Name)
	if len(blockers) > 0 {
		msg += ": " + strings.Join(blockers, "; ")
	}
	return msg
}
