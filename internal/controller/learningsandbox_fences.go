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
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/fields"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// The cluster-scoped objects that a learner's access depends on, which the
// operator does not make (config/learner, or the Helm chart's learnerAccess):
// without the ClusterRole the learner's RoleBinding grants nothing, without a
// policy or its binding a fence is down. A sandbox is not Ready while one is
// missing, and its Ready condition names it and says how to install it.

// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=get;list;watch
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingadmissionpolicies;validatingadmissionpolicybindings,verbs=get;list;watch

// installFences is how to install what is missing, in every message.
const installFences = "install it with `kubectl apply -k config/learner` from the operator's source " +
	"(dist/install.yaml has it too), or with the Helm chart's learnerAccess.enabled=true"

// learnerFence is one object that must exist, and what its absence means.
type learnerFence struct {
	object  client.Object
	kind    string
	name    string
	without string
}

func learnerFences(settings stack.Settings) []learnerFence {
	return []learnerFence{
		{&rbacv1.ClusterRole{}, "ClusterRole", settings.LearnerClusterRole,
			"so the learner can do nothing in their namespace"},
		{&admissionregistrationv1.ValidatingAdmissionPolicy{}, "ValidatingAdmissionPolicy", stack.NoLongLivedTokensPolicy,
			"so nothing stops a learner from making a long-lived token"},
		{&admissionregistrationv1.ValidatingAdmissionPolicyBinding{}, "ValidatingAdmissionPolicyBinding", stack.NoLongLivedTokensPolicy,
			"so the policy of that name is not enforced"},
		{&admissionregistrationv1.ValidatingAdmissionPolicy{}, "ValidatingAdmissionPolicy", stack.NoExternalIPsPolicy,
			"so nothing stops a learner from giving a Service external IPs"},
		{&admissionregistrationv1.ValidatingAdmissionPolicyBinding{}, "ValidatingAdmissionPolicyBinding", stack.NoExternalIPsPolicy,
			"so the policy of that name is not enforced"},
	}
}

// fenceCacheOptions caches only the learner ClusterRole of all the cluster's
// ClusterRoles; admission policies are few, and cached whole.
func fenceCacheOptions(settings stack.Settings, byObject map[client.Object]cache.ByObject) {
	byObject[&rbacv1.ClusterRole{}] = cache.ByObject{
		Field: fields.OneTermEqualSelector("metadata.name", settings.LearnerClusterRole),
	}
}

// checkLearnerFences marks the sandbox stalled when an object of its learner's
// access is missing, naming each one.
func (r *LearningSandboxReconciler) checkLearnerFences(ctx context.Context, sb *sandboxv1.LearningSandbox) error {
	var missing []string
	for _, f := range learnerFences(r.Settings) {
		obj, ok := f.object.DeepCopyObject().(client.Object)
		if !ok {
			return fmt.Errorf("%s is not a client.Object", f.kind)
		}
		err := r.Get(ctx, client.ObjectKey{Name: f.name}, obj)
		if apierrors.IsNotFound(err) {
			missing = append(missing, fmt.Sprintf("%s %s does not exist, %s", f.kind, f.name, f.without))
			continue
		}
		if err != nil {
			return fmt.Errorf("reading %s %s: %w", f.kind, f.name, err)
		}
	}
	if len(missing) > 0 {
		markStalled(sb, sandboxv1.ReasonLearnerAccessMissing, strings.Join(missing, "; ")+": "+installFences)
	}
	return nil
}

// fenceChanged passes the creation and deletion of a learner fence, the only
// events that change whether it exists.
func fenceChanged(settings stack.Settings) predicate.Predicate {
	names := map[string]bool{}
	for _, f := range learnerFences(settings) {
		names[f.name] = true
	}
	return predicate.Funcs{
		CreateFunc:  func(e event.CreateEvent) bool { return names[e.Object.GetName()] },
		DeleteFunc:  func(e event.DeleteEvent) bool { return names[e.Object.GetName()] },
		UpdateFunc:  func(event.UpdateEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

// allSandboxes enqueues every sandbox: a fence concerns them all.
func (r *LearningSandboxReconciler) allSandboxes(ctx context.Context, _ client.Object) []reconcile.Request {
	var list sandboxv1.LearningSandboxList
	if err := r.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Failed to list the sandboxes to check their learner access")
		return nil
	}
	return requestsFor(list.Items)
}
