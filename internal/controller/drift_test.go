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
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// handEdit is a hand edit of a field the operator manages, on one object of
// each kind whose content the cache leaves out (see cache.go).
type handEdit struct {
	kind, name string
	object     func() client.Object
	// edit changes a managed field; managed reads it back.
	edit    func(client.Object)
	managed func(client.Object) any
}

var handEdits = []handEdit{
	{"Deployment", "web", func() client.Object { return &appsv1.Deployment{} },
		func(o client.Object) {
			o.(*appsv1.Deployment).Spec.Template.Spec.Containers[0].Image = "example.com/other:1"
		},
		func(o client.Object) any { return o.(*appsv1.Deployment).Spec.Template.Spec.Containers[0].Image }},
	{"Deployment label", "app", func() client.Object { return &appsv1.Deployment{} },
		func(o client.Object) { o.GetLabels()[stack.PartOfLabel] = "something-else" },
		func(o client.Object) any { return o.GetLabels()[stack.PartOfLabel] }},
	{"StatefulSet", "postgres", func() client.Object { return &appsv1.StatefulSet{} },
		func(o client.Object) {
			o.(*appsv1.StatefulSet).Spec.Template.Spec.Containers[0].Image = "example.com/other:1"
		},
		func(o client.Object) any { return o.(*appsv1.StatefulSet).Spec.Template.Spec.Containers[0].Image }},
	{"Service", "app", func() client.Object { return &corev1.Service{} },
		func(o client.Object) { o.(*corev1.Service).Spec.Selector[sandboxv1.ComponentLabel] = "elsewhere" },
		func(o client.Object) any { return o.(*corev1.Service).Spec.Selector }},
	{"ConfigMap", "web", func() client.Object { return &corev1.ConfigMap{} },
		func(o client.Object) {
			for k := range o.(*corev1.ConfigMap).Data {
				o.(*corev1.ConfigMap).Data[k] = "edited by hand"
			}
		},
		func(o client.Object) any { return o.(*corev1.ConfigMap).Data }},
	{"Secret", stack.ConnectionSecretName, func() client.Object { return &corev1.Secret{} },
		func(o client.Object) { o.(*corev1.Secret).Data["DATABASE_URL"] = []byte("postgres://elsewhere") },
		func(o client.Object) any { return o.(*corev1.Secret).Data }},
	{"NetworkPolicy", "allow-within-sandbox", func() client.Object { return &networkingv1.NetworkPolicy{} },
		func(o client.Object) {
			o.(*networkingv1.NetworkPolicy).Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{}}
		},
		func(o client.Object) any { return o.(*networkingv1.NetworkPolicy).Spec }},
	{"RoleBinding", stack.LearnerName, func() client.Object { return &rbacv1.RoleBinding{} },
		func(o client.Object) {
			o.(*rbacv1.RoleBinding).Subjects = []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "mallory@example.edu"}}
		},
		func(o client.Object) any { return o.(*rbacv1.RoleBinding).Subjects }},
	{"LimitRange", "sandbox-limits", func() client.Object { return &corev1.LimitRange{} },
		func(o client.Object) {
			o.(*corev1.LimitRange).Spec.Limits[0].Max = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64")}
		},
		func(o client.Object) any { return o.(*corev1.LimitRange).Spec.Limits }},
}

// TestHandEditsAreRevertedPerKind: of every kind whose content the cache
// does not hold, a hand edit of a managed field is reverted, both while the
// operator knows the object (its ledger holds the version it applied) and as
// after a restart (the ledger knows nothing); and a reconcile of a sandbox
// the operator does not know yet writes nothing when nothing drifted.
func TestHandEditsAreRevertedPerKind(t *testing.T) {
	g := newG(t)
	ensureBuiltinStage(t, "apis")
	sb := createSandbox(t, "handedit", "apis")
	waitReady(t, g, sb.Name)
	ns := namespaceOf(sb.Name)

	t.Run("after a restart, nothing in sync is written", func(t *testing.T) {
		g := newG(t)
		sandboxReconciler.ledger.ForgetNamespace(ns)
		expectNoWritesAfterReconcile(t, g, sb.Name)
	})

	for _, restarted := range []bool{false, true} {
		for _, tc := range handEdits {
			name := tc.kind
			if restarted {
				name += " after a restart"
			}
			t.Run(name, func(t *testing.T) {
				g := newG(t)
				key := client.ObjectKey{Namespace: ns, Name: tc.name}
				want := tc.object()
				g.Expect(k8sClient.Get(t.Context(), key, want)).To(Succeed())
				if restarted {
					sandboxReconciler.ledger.ForgetNamespace(ns)
				}
				g.Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
					cur := tc.object()
					if err := k8sClient.Get(t.Context(), key, cur); err != nil {
						return err
					}
					tc.edit(cur)
					return k8sClient.Update(t.Context(), cur)
				})).To(Succeed())
				g.Eventually(func(g Gomega) {
					cur := tc.object()
					g.Expect(k8sClient.Get(t.Context(), key, cur)).To(Succeed())
					g.Expect(equality.Semantic.DeepEqual(tc.managed(cur), tc.managed(want))).To(BeTrue(),
						"%s %s is reverted: %v, want %v", tc.kind, tc.name, tc.managed(cur), tc.managed(want))
				}).Should(Succeed())
			})
		}
	}
}

// TestFieldTheOperatorNoLongerSetsIsRemoved: the operator creates what does
// not exist (cheaper for the API server than an apply) and applies what
// drifted; a field that it set when it created an object and sets no more is
// removed by the next apply, as if it had always applied, and only the
// operator's own apply owns the object's fields after.
func TestFieldTheOperatorNoLongerSetsIsRemoved(t *testing.T) {
	g := newG(t)
	stage := createStage(t, "unset", sandboxv1.Component{Name: "web", Type: sandboxv1.ComponentNginx})
	limits := sandboxv1.ComponentOverride{Name: "web", Resources: &corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("32Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")},
	}}
	sb := createSandbox(t, "unset", stage.Name, func(sb *sandboxv1.LearningSandbox) {
		sb.Spec.Components = []sandboxv1.ComponentOverride{limits}
	})
	waitReady(t, g, sb.Name)
	ns := namespaceOf(sb.Name)
	web := func(g Gomega) *appsv1.Deployment {
		d := &appsv1.Deployment{}
		g.Expect(k8sClient.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "web"}, d)).To(Succeed())
		return d
	}
	g.Expect(web(g).Spec.Template.Spec.Containers[0].Resources.Limits).To(HaveKey(corev1.ResourceMemory))

	g.Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		current := getSandbox(g, sb.Name)
		current.Spec.Components[0].Resources.Limits = nil
		return k8sClient.Update(t.Context(), current)
	})).To(Succeed())

	g.Eventually(func(g Gomega) {
		d := web(g)
		g.Expect(d.Spec.Template.Spec.Containers[0].Resources.Limits).To(BeEmpty(), "the limits the sandbox no longer sets")
		g.Expect(d.Spec.Template.Spec.Containers[0].Resources.Requests).To(HaveKeyWithValue(
			corev1.ResourceMemory, resource.MustParse("32Mi")))
		var ours []metav1.ManagedFieldsEntry
		for _, m := range d.ManagedFields {
			if m.Manager == stack.FieldOwner {
				ours = append(ours, m)
			}
		}
		g.Expect(ours).To(ConsistOf(HaveField("Operation", metav1.ManagedFieldsOperationApply)),
			"the create's fields were handed to the apply")
	}).Should(Succeed())
}
