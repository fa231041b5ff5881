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
	"testing"

	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// TestMissingLearnerAccessIsReported: without the learner ClusterRole a
// sandbox's learner can do nothing, and without a token policy's binding the
// fence is down; either makes the sandbox not Ready, naming what is missing
// and how to install it. Restoring it makes the sandbox Ready again.
func TestMissingLearnerAccessIsReported(t *testing.T) {
	for _, tc := range []struct {
		name     string
		object   client.Object
		expected string
	}{
		{"learner ClusterRole", &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: stack.DefaultLearnerClusterRole}},
			"ClusterRole learning-sandbox-learner does not exist, so the learner can do nothing"},
		{"token policy binding", &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
			ObjectMeta: metav1.ObjectMeta{Name: stack.NoLongLivedTokensPolicy}},
			"ValidatingAdmissionPolicyBinding learning-sandbox-no-long-lived-tokens does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newG(t)
			stage := nginxStage(t, "fences", "web")
			sb := createSandbox(t, "fences", stage.Name)
			markSandboxesReady(t, g, sb.Name)

			g.Expect(k8sClient.Get(t.Context(), client.ObjectKeyFromObject(tc.object), tc.object)).To(Succeed())
			kept, ok := tc.object.DeepCopyObject().(client.Object)
			g.Expect(ok).To(BeTrue())
			g.Expect(k8sClient.Delete(t.Context(), tc.object)).To(Succeed())
			restore := func() {
				again, _ := kept.DeepCopyObject().(client.Object)
				again.SetResourceVersion("")
				again.SetUID("")
				if err := k8sClient.Create(context.Background(), again); err != nil && !apierrors.IsAlreadyExists(err) {
					t.Errorf("restoring %s %s: %v", tc.name, again.GetName(), err)
				}
			}
			t.Cleanup(restore)

			g.Eventually(func(g Gomega) {
				cur := getSandbox(g, sb.Name)
				ready := condition(cur, sandboxv1.ReadyCondition)
				g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
				g.Expect(ready.Reason).To(Equal(sandboxv1.ReasonLearnerAccessMissing))
				g.Expect(ready.Message).To(ContainSubstring(tc.expected))
				g.Expect(ready.Message).To(ContainSubstring("kubectl apply -k config/learner"))
				g.Expect(cur.Status.Phase).To(Equal(sandboxv1.PhaseFailed))
				g.Expect(sandboxEvents(g, sb)).To(ContainElement(HaveField("Reason", sandboxv1.ReasonLearnerAccessMissing)))
			}).Should(Succeed())

			restore()
			g.Eventually(func(g Gomega) {
				cur := getSandbox(g, sb.Name)
				g.Expect(condition(cur, sandboxv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
				g.Expect(cur.Status.Phase).To(Equal(sandboxv1.PhaseReady))
			}).Should(Succeed())
		})
	}
}
