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
	"context"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
	"github.com/learning-sandbox/learning-sandbox-operator/test/cluster"
)

// The internet, as the real node's pods see it: a network namespace of this
// test behind a veth pair, with an address of TEST-NET-2 (RFC 5737), outside
// every range of the cluster, and a listener on 443. The namespace belongs to
// a process of the test (unshare), not to /run/netns: `ip netns add` would
// bind-mount /run/netns over itself and hide the CNI's namespaces there from
// the node's clean-up.
const (
	internetHost = "lso-inet0"
	internetPeer = "lso-inet1"
	internetIP   = "198.51.100.2"
	hostSideCIDR = "198.51.100.1/30"
	peerSideCIDR = "198.51.100.2/30"
)

// startInternet makes the stand-in for the internet and removes it when the
// test ends.
func startInternet(t *testing.T, g Gomega) {
	run := func(args ...string) {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		g.ExpectWithOffset(1, err).NotTo(HaveOccurred(), "%v: %s", args, out)
	}
	// The namespace lives as long as the listener, which is its first process.
	server := exec.Command("unshare", "--net", "sh", "-c", "while ! ip addr show "+internetPeer+" 2>/dev/null | grep -q "+internetIP+"; do sleep 0.2; done; "+
		"exec python3 -m http.server 443 --bind "+internetIP)
	g.Expect(server.Start()).To(Succeed())
	t.Cleanup(func() {
		_ = server.Process.Kill()
		_ = server.Wait()
		_ = exec.Command("ip", "link", "del", internetHost).Run()
	})
	netns := fmt.Sprintf("/proc/%d/ns/net", server.Process.Pid)
	run("ip", "link", "add", internetHost, "type", "veth", "peer", "name", internetPeer)
	run("ip", "link", "set", internetPeer, "netns", strconv.Itoa(server.Process.Pid))
	run("ip", "addr", "add", hostSideCIDR, "dev", internetHost)
	run("ip", "link", "set", internetHost, "up")
	run("nsenter", "--net="+netns, "ip", "link", "set", "lo", "up")
	run("nsenter", "--net="+netns, "ip", "link", "set", internetPeer, "up")
	run("nsenter", "--net="+netns, "ip", "addr", "add", peerSideCIDR, "dev", internetPeer)
	// The positive control: the host reaches it.
	g.Eventually(func() error {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(internetIP, "443"), time.Second)
		if err == nil {
			_ = conn.Close()
		}
		return err
	}, 30*time.Second, poll).Should(Succeed(), "the stand-in for the internet listens")
}

// runOperatorWith replaces the suite's operator by one with more flags, and
// returns the function that puts the suite's own back (also run when the
// test ends).
func runOperatorWith(t *testing.T, g Gomega, flags ...string) func() {
	operator.Stop()
	changed := &cluster.Operator{Binary: operator.Binary, Log: operator.Log, Args: append(slices.Clone(operator.Args), flags...)}
	g.Expect(changed.Start()).To(Succeed())
	restored := false
	restore := func() {
		if restored {
			return
		}
		restored = true
		changed.Stop()
		if err := operator.Start(); err != nil {
			t.Errorf("restarting the operator: %v", err)
		}
	}
	t.Cleanup(restore)
	return restore
}

// TestWorkspaceEgressIsOffUnlessThePlatformTurnsItOn: by default a workspace
// reaches nothing outside its sandbox. With --workspace-egress, the workspace
// (and only it) reaches the internet on 443, and still not the API server,
// the node's kubelet, a neighbour's workspace or the metadata address.
func TestWorkspaceEgressIsOffUnlessThePlatformTurnsItOn(t *testing.T) {
	g := NewWithT(t)
	startInternet(t, g)
	for _, name := range []string{"real-egress", "real-egress-nb"} {
		newSandbox(t, g, &sandboxv1.LearningSandbox{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       sandboxv1.LearningSandboxSpec{Stage: "fundamentals", Access: sandboxv1.Access{Kubeconfig: true}},
		})
	}
	waitReady(g, "real-egress")
	waitReady(g, "real-egress-nb")
	ada, neighbour := learnerOf(t, g, "real-egress"), learnerOf(t, g, "real-egress-nb")
	ada.startShell(g)
	neighbour.startShell(g)
	// The neighbour runs a program in their workspace; they reach it themselves.
	neighbour.must(g, "cd /tmp && "+background(`python3 -m http.server "$PORT"`, "/dev/null"))
	g.Eventually(func() error {
		_, err := neighbour.sh(`curl -fsS -m 3 -o /dev/null "$WORKSPACE_URL/"`)
		return err
	}, time.Minute, poll).Should(Succeed(), "the neighbour reaches their own program")
	neighboursWorkspace := "workspace." + neighbour.namespace + ".svc"

	reaches := func(host, port string) bool {
		_, err := ada.sh("timeout 3 bash -c '</dev/tcp/" + host + "/" + port + "'")
		return err == nil
	}
	g.Consistently(func() bool { return reaches(internetIP, "443") }, 10*time.Second, 2*time.Second).Should(BeFalse(),
		"egress is off by default")

	restore := runOperatorWith(t, g, "--workspace-egress")
	g.Eventually(func() error {
		return k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ada.namespace, Name: stack.AllowWorkspaceEgress},
			&networkingv1.NetworkPolicy{})
	}, readyTimeout, poll).Should(Succeed(), "the operator lets the workspace out")
	g.Eventually(func() (string, error) {
		return ada.sh(`curl -sS -m 3 -o /dev/null -w '%{http_code}' http://` + internetIP + `:443/`)
	}, time.Minute, 2*time.Second).Should(Equal("200"), "the workspace reaches the internet on 443")

	// The cluster stays out of reach, each behind its own positive control.
	g.Expect(reaches("kubernetes.default.svc", "443")).To(BeFalse(), "the API server")
	g.Expect(reaches("10.88.0.1", "10250")).To(BeFalse(), "the node's kubelet")
	g.Expect(reaches(neighboursWorkspace, "8080")).To(BeFalse(), "the neighbour's workspace")
	g.Expect(reaches("169.254.169.254", "80")).To(BeFalse(), "the metadata address")
	g.Expect(reaches("web", "80")).To(BeTrue(), "its own sandbox")

	// Back to the default: the operator takes the way out away again.
	restore()
	g.Eventually(func() bool {
		return reaches(internetIP, "443")
	}, readyTimeout, 2*time.Second).Should(BeFalse(), "egress is off again")
}
