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
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"

	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// TestProvisioningWritesEachObjectOnce: from its creation to Ready, a sandbox
// costs one write per object it is made of (the namespace is created whole,
// never patched after; the learner's progress ConfigMap is made with the
// first check's results, not before), two to its status (Provisioning, then
// Ready), and no event: neither "not ready yet" nor the first Ready says
// anything that the status does not.
func TestProvisioningWritesEachObjectOnce(t *testing.T) {
	g := newG(t)
	stage := ensureBuiltinStage(t, "apis")
	sb := createSandbox(t, "writes", "apis")
	ready := waitReady(t, g, sb.Name)
	expectNoWritesAfterReconcile(t, g, sb.Name)

	perPath := map[string]int{}
	for _, w := range writes.about(sb.Name, namespaceOf(sb.Name)) {
		perPath[w]++
	}
	ns := namespaceOf(sb.Name)
	g.Expect(perPath).To(HaveKeyWithValue("POST /api/v1/namespaces/"+ns+"/secrets", 1), "the credentials, created once")
	g.Expect(perPath).NotTo(HaveKey("PATCH /api/v1/namespaces/"+ns), "the namespace is created whole")
	for path, n := range perPath {
		if strings.HasSuffix(path, "/status") {
			g.Expect(n).To(Equal(2), "status writes of %s", path)
			continue
		}
		g.Expect(n).To(Equal(1), "writes of %s", path)
	}
	g.Expect(perPath).To(HaveLen(len(render(g, ready, stage).Objects)+2), "every object, the credentials and the status")
	g.Expect(perPath).To(HaveKey(HaveSuffix("/configmaps/"+stack.ProgressConfigMapName)), "the progress ConfigMap, with the first results")
	g.Expect(progressSummary(g, ns)).To(Equal(ready.Status.ExercisesDone))

	var events eventsv1.EventList
	g.Expect(k8sClient.List(t.Context(), &events)).To(Succeed())
	about := slices.DeleteFunc(events.Items, func(e eventsv1.Event) bool { return e.Regarding.UID != sb.UID })
	g.Expect(about).To(BeEmpty(), "no event while provisioning")
	g.Expect(ready.Status.ProvisionedAt).NotTo(BeNil(), "the first Ready is recorded in the status")
}
