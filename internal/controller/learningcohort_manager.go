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
	"cmp"
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

const (
	// cohortOwnerIndex indexes sandboxes by the cohort that controls them.
	cohortOwnerIndex = ".metadata.ownerReferences.cohort"
	// cohortSandboxIndex indexes cohorts by the names of the sandboxes their
	// rosters ask for, so that a sandbox of someone else that takes one of
	// those names reaches the cohort, and so does its deletion.
	cohortSandboxIndex = ".spec.learners.sandbox"
)

// The cohort controller's permissions, each for a reason:
// cohorts are read, and their status written;
// +kubebuilder:rbac:groups=sandbox.learning.dev,resources=learningcohorts,verbs=get;list;watch
// +kubebuilder:rbac:groups=sandbox.learning.dev,resources=learningcohorts/status,verbs=get;update;patch
// ownerReferences with blockOwnerDeletion to a cohort (its sandboxes, its roster) need update on its finalizers;
// +kubebuilder:rbac:groups=sandbox.learning.dev,resources=learningcohorts/finalizers,verbs=update
// a cohort applies its learners' sandboxes (create and patch) and deletes those of learners who left, and all at the end;
// +kubebuilder:rbac:groups=sandbox.learning.dev,resources=learningsandboxes,verbs=get;list;watch;create;patch;delete
// the roster Secret is applied where spec.export says and deleted when no longer asked for.
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;patch;delete

// SetupWithManager registers the cohort controller, its indexes and its watches.
func (r *LearningCohortReconciler) SetupWithManager(mgr ctrl.Manager, opts Options) error {
	r.progressInterval = cmp.Or(r.ProgressInterval, CohortProgressInterval)
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	ctx := context.Background()
	if err := mgr.GetFieldIndexer().IndexField(ctx, &sandboxv1.LearningSandbox{}, cohortOwnerIndex, controllingCohort); err != nil {
		return err
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &sandboxv1.LearningCohort{}, cohortSandboxIndex, rosterSandboxes); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		// An annotation change asks for a reconcile, as after a clock change in tests
		// or, for people, `kubectl annotate --overwrite lcohort <name> reconcile=now`.
		For(&sandboxv1.LearningCohort{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		// Every change of a sandbox's status may change the cohort's, and move a rollout on.
		Watches(&sandboxv1.LearningSandbox{}, handler.EnqueueRequestsFromMapFunc(r.cohortsOfSandbox)).
		Owns(&corev1.Secret{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: opts.MaxConcurrentReconciles}).
		Named("learningcohort").
		Complete(r)
}

// controllingCohort is the name of the cohort that controls a sandbox, if any.
func controllingCohort(o client.Object) []string {
	ref := metav1.GetControllerOf(o)
	if ref == nil || ref.Kind != "LearningCohort" {
		return nil
	}
	if gv, err := schema.ParseGroupVersion(ref.APIVersion); err != nil || gv.Group != sandboxv1.GroupVersion.Group {
		return nil
	}
	return []string{ref.Name}
}

// rosterSandboxes are the names of the sandboxes a cohort's roster asks for.
func rosterSandboxes(o client.Object) []string {
	c := o.(*sandboxv1.LearningCohort)
	names := make([]string, 0, len(c.Spec.Learners))
	for _, l := range c.Spec.Learners {
		names = append(names, c.SandboxName(l.Name))
	}
	return names
}

// cohortsOfSandbox maps a sandbox to the cohort that controls it and to any
// cohort whose roster asks for its name.
func (r *LearningCohortReconciler) cohortsOfSandbox(ctx context.Context, sb client.Object) []reconcile.Request {
	var reqs []reconcile.Request
	owner := controllingCohort(sb)
	for _, name := range owner {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKey{Name: name}})
	}
	var list sandboxv1.LearningCohortList
	// Names are all it reads: no need to copy the (large) rosters.
	if err := r.List(ctx, &list, client.MatchingFields{cohortSandboxIndex: sb.GetName()}, client.UnsafeDisableDeepCopy); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Failed to list the cohorts that ask for a sandbox", "sandbox", sb.GetName())
		return reqs
	}
	for _, c := range list.Items {
		if len(owner) == 0 || owner[0] != c.Name {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKey{Name: c.Name}})
		}
	}
	return reqs
}
