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
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/drift"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// stageIndex indexes sandboxes by spec.stage, so that an edited stage reaches its sandboxes.
const stageIndex = ".spec.stage"

// The operator's permissions, each for a reason:
// sandboxes are read, deleted at expiry, and have their status written;
// +kubebuilder:rbac:groups=sandbox.learning.dev,resources=learningsandboxes,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=sandbox.learning.dev,resources=learningsandboxes/status,verbs=get;update;patch
// ownerReferences with blockOwnerDeletion to a sandbox need update on its finalizers;
// +kubebuilder:rbac:groups=sandbox.learning.dev,resources=learningsandboxes/finalizers,verbs=update
// stages are only read;
// +kubebuilder:rbac:groups=sandbox.learning.dev,resources=roadmapstages,verbs=get;list;watch
// namespaces are created and labelled; garbage collection deletes them with their sandbox;
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create;patch
// the stack's objects and the sandbox's fences are applied (create and patch) and pruned (delete);
// +kubebuilder:rbac:groups="",resources=services;configmaps;secrets;serviceaccounts,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups="",resources=resourcequotas;limitranges,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=rolebindings,verbs=get;list;watch;create;patch;delete
// binding the learner ClusterRole needs bind on it, by name: never escalate, never another role;
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=bind,resourceNames=learning-sandbox-learner
// the learner's kubeconfig holds a short-lived token of the learner ServiceAccount,
// the one ServiceAccount whose tokens the operator may ask for (stack.LearnerName);
// +kubebuilder:rbac:groups="",resources=serviceaccounts/token,verbs=create,resourceNames=learner
// a reset deletes the Postgres data volumes;
// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=get;list;watch;delete
// exercise checks find the ready pods of a component, read past the cache, at each check;
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list
// events tell people what happened.
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

const kindStatefulSet = "StatefulSet"

// managedKind is a kind of object the operator makes in a sandbox namespace,
// watches as the sandbox's child, and deletes when the sandbox no longer wants it.
type managedKind struct {
	kind    string
	object  client.Object
	newList func() client.ObjectList
}

var managedKinds = []managedKind{
	{"Deployment", &appsv1.Deployment{}, func() client.ObjectList { return &appsv1.DeploymentList{} }},
	{kindStatefulSet, &appsv1.StatefulSet{}, func() client.ObjectList { return &appsv1.StatefulSetList{} }},
	{"Service", &corev1.Service{}, func() client.ObjectList { return &corev1.ServiceList{} }},
	{"ConfigMap", &corev1.ConfigMap{}, func() client.ObjectList { return &corev1.ConfigMapList{} }},
	{"Secret", &corev1.Secret{}, func() client.ObjectList { return &corev1.SecretList{} }},
	{"ServiceAccount", &corev1.ServiceAccount{}, func() client.ObjectList { return &corev1.ServiceAccountList{} }},
	{"ResourceQuota", &corev1.ResourceQuota{}, func() client.ObjectList { return &corev1.ResourceQuotaList{} }},
	{"LimitRange", &corev1.LimitRange{}, func() client.ObjectList { return &corev1.LimitRangeList{} }},
	{"NetworkPolicy", &networkingv1.NetworkPolicy{}, func() client.ObjectList { return &networkingv1.NetworkPolicyList{} }},
	{"RoleBinding", &rbacv1.RoleBinding{}, func() client.ObjectList { return &rbacv1.RoleBindingList{} }},
}

// CacheOptions keeps the cache to what the operator manages: of the kinds it
// makes, only the objects that carry its managed-by label, without their
// managedFields; of the cluster's ClusterRoles, only the learner's. Memory then
// grows with the sandboxes, not with the cluster.
func CacheOptions(settings stack.Settings) cache.Options {
	managed := cache.ByObject{Label: labels.SelectorFromSet(labels.Set{stack.ManagedByLabel: stack.ManagedBy})}
	byObject := map[client.Object]cache.ByObject{
		&corev1.Namespace{}: managed,
		// Made by StatefulSets from templates that carry the label.
		&corev1.PersistentVolumeClaim{}: managed,
	}
	for _, k := range managedKinds {
		byObject[k.object] = managed
	}
	fenceCacheOptions(settings, byObject)
	return cache.Options{DefaultTransform: transformCached(), ByObject: byObject}
}

// Options tune the controller.
type Options struct {
	MaxConcurrentReconciles int
}

// SetupWithManager registers the controller, its index and its watches.
func (r *LearningSandboxReconciler) SetupWithManager(mgr ctrl.Manager, opts Options) error {
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	r.schedule.init(cmp.Or(r.CheckWorkers, DefaultCheckWorkers))
	r.ledger = drift.NewLedger()
	r.admission = newAdmissionQueue()
	// A deleted object is forgotten at once, so that it is made again (see cacheLags).
	for _, k := range append([]managedKind{{kind: "Namespace", object: &corev1.Namespace{}}}, managedKinds...) {
		informer, err := mgr.GetCache().GetInformer(context.Background(), k.object)
		if err != nil {
			return fmt.Errorf("getting the informer of %ss: %w", k.kind, err)
		}
		if _, err := informer.AddEventHandler(r.forgetDeleted(k.kind)); err != nil {
			return fmt.Errorf("watching deleted %ss: %w", k.kind, err)
		}
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &sandboxv1.LearningSandbox{}, stageIndex,
		func(o client.Object) []string { return []string{o.(*sandboxv1.LearningSandbox).Spec.Stage} }); err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(mgr)
	for _, k := range managedKinds {
		b = b.Owns(k.object, builder.WithPredicates(cachedChange))
	}
	return b.
		// An annotation change may ask for the exercises to be checked now; a
		// new sandbox is admitted at a priority of its own (admission.go).
		For(&sandboxv1.LearningSandbox{}, builder.WithPredicates(notAdmission,
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&sandboxv1.LearningSandbox{}, r.admission.handler(), builder.WithPredicates(admissionEvents)).
		Owns(&corev1.Namespace{}).
		Watches(&sandboxv1.RoadmapStage{}, handler.EnqueueRequestsFromMapFunc(r.sandboxesOfStage)).
		// Claims are owned by their StatefulSet, not the sandbox: a reset waits for them by label.
		Watches(&corev1.PersistentVolumeClaim{}, handler.EnqueueRequestsFromMapFunc(sandboxOfLabel)).
		Watches(&rbacv1.ClusterRole{}, handler.EnqueueRequestsFromMapFunc(r.allSandboxes),
			builder.WithPredicates(fenceChanged(r.Settings))).
		Watches(&admissionregistrationv1.ValidatingAdmissionPolicy{}, handler.EnqueueRequestsFromMapFunc(r.allSandboxes),
			builder.WithPredicates(fenceChanged(r.Settings))).
		Watches(&admissionregistrationv1.ValidatingAdmissionPolicyBinding{}, handler.EnqueueRequestsFromMapFunc(r.allSandboxes),
			builder.WithPredicates(fenceChanged(r.Settings))).
		WithOptions(controller.Options{MaxConcurrentReconciles: opts.MaxConcurrentReconciles}).
		Named("learningsandbox").
		Complete(r)
}

// sandboxesOfStage maps a stage to the sandboxes that run it.
func (r *LearningSandboxReconciler) sandboxesOfStage(ctx context.Context, stage client.Object) []reconcile.Request {
	var list sandboxv1.LearningSandboxList
	if err := r.List(ctx, &list, client.MatchingFields{stageIndex: stage.GetName()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Failed to list the sandboxes of a stage", "stage", stage.GetName())
		return nil
	}
	return requestsFor(list.Items)
}

// requestsFor is a reconcile request for each sandbox.
func requestsFor(sandboxes []sandboxv1.LearningSandbox) []reconcile.Request {
	reqs := make([]reconcile.Request, 0, len(sandboxes))
	for i := range sandboxes {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&sandboxes[i])})
	}
	return reqs
}

// sandboxOfLabel maps an object to the sandbox its sandbox label names.
func sandboxOfLabel(_ context.Context, obj client.Object) []reconcile.Request {
	name := obj.GetLabels()[sandboxv1.SandboxLabel]
	if name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: name}}}
}
