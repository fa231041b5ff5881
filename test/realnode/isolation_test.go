//go:build realnode

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

package realnode

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// TestNeighboursCannotReachEachOther proves the NetworkPolicies where they
// are enforced: from the neighbour's namespace, a sandbox's PostgreSQL,
// Redis and app resolve but do not connect; from the sandbox, nothing but
// its own namespace and the cluster's DNS connects: not the neighbour, not
// the node, not the API server. Each refusal has its own positive control,
// the same connection within the sandbox, so that the test fails when a
// fence is removed as well as when the stack is down.
func TestNeighboursCannotReachEachOther(t *testing.T) {
	g := NewWithT(t)
	for _, sb := range []*sandboxv1.LearningSandbox{
		{ObjectMeta: metav1.ObjectMeta{Name: "real-alan"}, Spec: sandboxv1.LearningSandboxSpec{Stage: "caching"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "real-bob"}, Spec: sandboxv1.LearningSandboxSpec{Stage: "fundamentals"}},
	} {
		sb.Spec.Access = sandboxv1.Access{Kubeconfig: true}
		newSandbox(t, g, sb)
	}
	waitReady(g, "real-alan")
	waitReady(g, "real-bob")
	alan, bob := learnerOf(t, g, "real-alan"), learnerOf(t, g, "real-bob")
	alan.startShell(g)
	bob.startShell(g)

	alansServers := map[string]int{"postgres": 5432, "redis": 6379, "app": 8080}
	for host, port := range alansServers {
		g.Expect(alan.connects(g, host, port)).To(BeTrue(), "alan reaches his own %s", host)
		g.Expect(bob.connects(g, host+"."+alan.namespace+".svc", port)).To(BeFalse(), "bob reaches alan's %s", host)
	}
	g.Expect(bob.connects(g, "web", 80)).To(BeTrue(), "bob reaches his own web")
	g.Expect(alan.connects(g, "web."+bob.namespace+".svc", 80)).To(BeFalse(), "alan reaches bob's web")
	// The node's own address (its kubelet, the API server behind the
	// kubernetes Service) is outside the sandbox too.
	g.Expect(alan.connects(g, "kubernetes.default.svc", 443)).To(BeFalse(), "alan reaches the API server")
	g.Expect(alan.must(g, "timeout 3 bash -c '</dev/tcp/10.88.0.1/10250' 2>/dev/null && echo open || echo closed")).To(Equal("closed"),
		"alan reaches the node's kubelet")
}
