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
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
)

// TestCachedChange: a ResourceQuota whose usage alone changed reaches the
// cache without its status, and wakes no reconcile; a change of its spec
// does, and so does any change of a workload's status, which readiness reads.
func TestCachedChange(t *testing.T) {
	quota := func(rv, pods, used string) *corev1.ResourceQuota {
		return &corev1.ResourceQuota{
			ObjectMeta: metav1.ObjectMeta{Name: "sandbox-quota", ResourceVersion: rv,
				ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kube-controller-manager"}}},
			Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse(pods)}},
			Status: corev1.ResourceQuotaStatus{
				Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse(pods)},
				Used: corev1.ResourceList{corev1.ResourcePods: resource.MustParse(used)},
			},
		}
	}
	deployment := func(rv string, ready int32) *appsv1.Deployment {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "app", ResourceVersion: rv},
			Status: appsv1.DeploymentStatus{ReadyReplicas: ready}}
	}
	cached := func(g Gomega, obj client.Object) client.Object {
		out, err := transformCached()(obj)
		g.Expect(err).NotTo(HaveOccurred())
		return out.(client.Object)
	}
	for _, tc := range []struct {
		name     string
		old, new client.Object
		passes   bool
	}{
		{"quota usage only", quota("1", "10", "1"), quota("2", "10", "3"), false},
		{"quota spec", quota("1", "10", "1"), quota("2", "20", "1"), true},
		{"deployment status", deployment("1", 0), deployment("2", 1), true},
		{"nothing but the resourceVersion", deployment("1", 1), deployment("2", 1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			old, updated := cached(g, tc.old), cached(g, tc.new)
			g.Expect(old.GetManagedFields()).To(BeNil())
			if q, ok := updated.(*corev1.ResourceQuota); ok {
				g.Expect(q.Status).To(Equal(corev1.ResourceQuotaStatus{}), "the cache holds no quota usage")
			}
			g.Expect(cachedChange.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: updated})).To(Equal(tc.passes))
			g.Expect(updated.GetResourceVersion()).To(Equal(tc.new.GetResourceVersion()), "the event's object is left as it was")
		})
	}
}
