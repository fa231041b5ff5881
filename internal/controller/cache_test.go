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
	"reflect"
	"strings"
	"testing"
	"unsafe"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/event"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// The cache keeps what the operator reads back, and nothing it does not.
func TestCacheKeepsWhatIsReadBack(t *testing.T) {
	g := NewWithT(t)
	transform := transformCached()
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: "sandbox-" + strings.Repeat("a", 3),
			Labels:        map[string]string{sandboxv1.SandboxLabel: "aaa", stack.ManagedByLabel: stack.ManagedBy},
			Annotations:   map[string]string{lastAppliedAnnotation: "{...}", "kept": "yes"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "someone"}}}
	}

	d := &appsv1.Deployment{ObjectMeta: meta("app"), Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](1),
		Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1"}}}},
	}, Status: appsv1.DeploymentStatus{ReadyReplicas: 1}}
	out, err := transform(d)
	g.Expect(err).NotTo(HaveOccurred())
	cached := out.(*appsv1.Deployment)
	g.Expect(cached.Spec.Template.Spec.Containers).To(BeEmpty(), "the pod template is never read back")
	g.Expect(cached.Spec.Replicas).To(HaveValue(BeEquivalentTo(1)), "kstatus reads the replicas")
	g.Expect(cached.Status.ReadyReplicas).To(BeEquivalentTo(1), "and the status")
	g.Expect(cached.ManagedFields).To(BeEmpty())
	g.Expect(cached.Annotations).To(Equal(map[string]string{"kept": "yes"}))

	connection := &corev1.Secret{ObjectMeta: meta(stack.ConnectionSecretName), Data: map[string][]byte{"DATABASE_URL": []byte("x")}}
	credentials := &corev1.Secret{ObjectMeta: meta(stack.CredentialsSecretName), Data: map[string][]byte{"postgres-password": []byte("x")}}
	for _, s := range []*corev1.Secret{connection, credentials} {
		_, err := transform(s)
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(connection.Data).To(BeNil(), "the connection Secret is derived, never read back")
	g.Expect(credentials.Data).To(HaveKey("postgres-password"), "the credentials are read back")

	svc := &corev1.Service{ObjectMeta: meta("app"), Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.10",
		Type: corev1.ServiceTypeExternalName, Ports: []corev1.ServicePort{{Port: 8080}}}}
	_, err = transform(svc)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(svc.Spec.Ports).To(BeEmpty())
	g.Expect(svc.Spec.ClusterIP).To(BeEmpty(), "checks go to pods, never to a Service")
	g.Expect(svc.Spec.Type).To(Equal(corev1.ServiceTypeExternalName), "a retyped Service fails its component's checks")

	// The quotas of a stage's sandboxes share one copy of their figures.
	quota := func() *corev1.ResourceQuota {
		return &corev1.ResourceQuota{ObjectMeta: meta("sandbox"), Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
			corev1.ResourceLimitsCPU: resource.MustParse("2"), corev1.ResourceRequestsMemory: resource.MustParse("3Gi")}}}
	}
	q1, q2 := quota(), quota()
	for _, q := range []*corev1.ResourceQuota{q1, q2} {
		_, err := transform(q)
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(reflect.ValueOf(q1.Spec.Hard).UnsafePointer()).To(Equal(reflect.ValueOf(q2.Spec.Hard).UnsafePointer()))
	g.Expect(q1.Spec.Hard).To(HaveKeyWithValue(corev1.ResourceLimitsCPU, resource.MustParse("2")))

	// Two objects of a sandbox share one copy of their namespace and labels.
	a, b := &corev1.ConfigMap{ObjectMeta: meta("a")}, &corev1.ConfigMap{ObjectMeta: meta("b")}
	for _, cm := range []*corev1.ConfigMap{a, b} {
		_, err := transform(cm)
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(unsafe.StringData(a.Namespace)).To(Equal(unsafe.StringData(b.Namespace)))
	g.Expect(unsafe.StringData(a.Labels[sandboxv1.SandboxLabel])).To(Equal(unsafe.StringData(b.Labels[sandboxv1.SandboxLabel])))
}

// A hand edit of what the cache leaves out still reaches the controller; a
// ResourceQuota's new usage figures do not.
func TestCachedChangePassesEditsOfWhatIsLeftOut(t *testing.T) {
	g := NewWithT(t)
	old := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "web", ResourceVersion: "1"}}
	edited := old.DeepCopy()
	edited.ResourceVersion = "2"
	g.Expect(cachedChange.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: edited})).To(BeTrue())

	quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "q", ResourceVersion: "1"}}
	used := quota.DeepCopy()
	used.ResourceVersion = "2"
	g.Expect(cachedChange.Update(event.UpdateEvent{ObjectOld: quota, ObjectNew: used})).To(BeFalse())

	app := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "app", ResourceVersion: "1", Generation: 1}}
	respec := app.DeepCopy()
	respec.ResourceVersion, respec.Generation = "2", 2
	g.Expect(cachedChange.Update(event.UpdateEvent{ObjectOld: app, ObjectNew: respec})).To(BeTrue(),
		"a change of the pod template moves the generation")
}
