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
	"slices"
	"testing"

	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// TestProvisioningWritesEachObjectOnce: from its creation to Ready, a sandbox
// costs one write per object it is made of, a create, never an apply after
// (the learner's progress ConfigMap is made with the first check's results,
// not before), two to its status (Provisioning, then
// Ready), and no event: neither "not ready yet" nor the first Ready says
// anything that the status does not.
func TestProvisioningWritesEachObjectOnce(t *testing.T) {
	g := newG(t)
	stage := ensureBuiltinStage(t, "apis")
	sb := createSandbox(t, "writes", "apis")
	ready := waitReady(t, g, sb.Name)
	expectNoWritesAfterReconcile(t, g, sb.Name)

	ns := namespaceOf(sb.Name)
	perPath := map[string]int{}
	for _, w := range writes.about(sb.Name, ns) {
		perPath[w]++
	}
	want := map[string]int{
		"PATCH /apis/sandbox.learning.dev/v1alpha1/learningsandboxes/" + sb.Name + "/status": 2,
		"POST /api/v1/namespaces/" + ns + "/secrets":                                         1, // the credentials
	}
	for _, obj := range render(g, ready, stage).Objects {
		want["POST "+collectionPath(g, obj, ns)]++
	}
	g.Expect(perPath).To(Equal(want), "a create of each object, no apply after, and two status writes")
	g.Expect(progressSummary(g, ns)).To(Equal(ready.Status.ExercisesDone))

	var events eventsv1.EventList
	g.Expect(k8sClient.List(t.Context(), &events)).To(Succeed())
	about := slices.DeleteFunc(events.Items, func(e eventsv1.Event) bool { return e.Regarding.UID != sb.UID })
	g.Expect(about).To(BeEmpty(), "no event while provisioning")
	g.Expect(ready.Status.ProvisionedAt).NotTo(BeNil(), "the first Ready is recorded in the status")
}

// collectionPath is the path that objects like obj are created at in the namespace.
func collectionPath(g Gomega, obj stack.Object, ns string) string {
	gvk := schema.FromAPIVersionAndKind(*obj.GetAPIVersion(), *obj.GetKind())
	mapping, err := k8sClient.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
	g.Expect(err).NotTo(HaveOccurred())
	prefix := "/apis/" + gvk.Group + "/" + gvk.Version
	if gvk.Group == "" {
		prefix = "/api/" + gvk.Version
	}
	return prefix + "/namespaces/" + ns + "/" + mapping.Resource.Resource
}
