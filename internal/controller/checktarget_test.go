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
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/utils/ptr"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// TestChecksGoOnlyToTheSandboxsOwnReadyPods: the learner edits their
// Services to make the operator's checks go elsewhere, and the checks go to
// the component's own ready pod, or fail saying why.
//
// The attacks, each tried here:
//   - the Service's selector points at another pod, and a hand-made
//     EndpointSlice at an address outside the namespace (the API server
//     already refuses link-local ones): the check still goes to the component's pod;
//   - a pod of the learner's carries the component's labels but runs on the
//     node's network (where Pod Security allows it), or is not Ready: never chosen;
//   - the Service is retyped to ExternalName: the check fails and says so.
func TestChecksGoOnlyToTheSandboxsOwnReadyPods(t *testing.T) {
	g := newG(t)
	ctx := t.Context()
	ns := uniqueName("checks")
	g.Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	labels := func(component string) map[string]string {
		return map[string]string{stack.ManagedByLabel: stack.ManagedBy, sandboxv1.SandboxLabel: "ada", sandboxv1.ComponentLabel: component}
	}
	pod := func(name, component, ip string, ready, hostNetwork bool) {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels(component)},
			Spec: corev1.PodSpec{HostNetwork: hostNetwork,
				Containers: []corev1.Container{{Name: "c", Image: "example.org/app:1"}}},
		}
		g.Expect(k8sClient.Create(ctx, p)).To(Succeed())
		status := corev1.ConditionFalse
		if ready {
			status = corev1.ConditionTrue
		}
		p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}, HostIP: "10.88.0.1",
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}}
		g.Expect(k8sClient.Status().Update(ctx, p)).To(Succeed())
	}
	pod("workspace-0", "workspace", "10.88.0.20", true, false)
	pod("a-learners-pod-on-the-node", "workspace", "10.88.0.1", true, true)
	pod("web-starting", "web", "10.88.0.31", false, false)
	pod("evil", "evil", "10.88.0.66", true, false)

	// The workspace Service selects the learner's pod, and a hand-made
	// EndpointSlice of it points at an address outside the namespace.
	g.Expect(k8sClient.Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "workspace", Namespace: ns, Labels: labels("workspace")},
		Spec: corev1.ServiceSpec{Selector: map[string]string{sandboxv1.ComponentLabel: "evil"},
			Ports: []corev1.ServicePort{{Port: 8080, TargetPort: intstr.FromInt32(80)}}},
	})).To(Succeed())
	g.Expect(k8sClient.Create(ctx, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "workspace-metadata", Namespace: ns, Labels: map[string]string{discoveryv1.LabelServiceName: "workspace"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"192.168.1.10"}}},
		Ports:       []discoveryv1.EndpointPort{{Port: ptr.To[int32](80)}},
	})).To(Succeed())
	// The redis Service is retyped to ExternalName.
	g.Expect(k8sClient.Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "redis", Namespace: ns, Labels: labels("redis")},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "metadata.google.internal"},
	})).To(Succeed())
	pod("redis-1", "redis", "10.88.0.40", true, false)

	r := &LearningSandboxReconciler{Client: k8sClient, APIReader: k8sClient}
	component := func(name string, typ sandboxv1.ComponentType, port int32) stack.Component {
		return stack.Component{Component: sandboxv1.Component{Name: name, Type: typ}, Port: port}
	}
	st := &stack.Stack{Namespace: corev1ac.Namespace(ns), Components: []stack.Component{
		component("workspace", sandboxv1.ComponentWorkspace, 8080),
		component("web", sandboxv1.ComponentNginx, 80),
		component("redis", sandboxv1.ComponentRedis, 6379),
		component("postgres", sandboxv1.ComponentPostgres, 5432),
	}}
	g.Eventually(func(g Gomega) {
		target := r.checkTarget(ctx, st, map[string]string{stack.RedisPasswordKey: "pw"})
		g.Expect(target.Namespace).To(Equal(ns))
		g.Expect(target.Components["workspace"].Address).To(Equal("10.88.0.20:8080"))
		g.Expect(target.Components["workspace"].Host).To(Equal("workspace"))
		g.Expect(target.Components["web"].Problem).To(Equal("component web has no ready pod"))
		g.Expect(target.Components["postgres"].Problem).To(Equal("component postgres has no ready pod"))
		g.Expect(target.Components["redis"].Address).To(BeEmpty())
		g.Expect(target.Components["redis"].Problem).To(Equal("the Service redis was changed to type ExternalName: " +
			"a check reaches only the pods of this sandbox, and the operator restores the Service"))
	}).Should(Succeed())
}
