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
	"encoding/base64"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// learner is a learner at their keyboard: kubectl with the kubeconfig that
// their sandbox's learner-kubeconfig Secret holds (what the instructor hands
// out), and a shell in their sandbox's workspace.
type learner struct {
	t          *testing.T
	namespace  string
	kubeconfig string
}

// learnerOf writes the kubeconfig of the sandbox's learner and returns them.
func learnerOf(t *testing.T, g Gomega, sandbox string) *learner {
	t.Helper()
	ns := namespaceOf(sandbox)
	var secret corev1.Secret
	g.Eventually(func() error {
		return k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: stack.KubeconfigSecretName}, &secret)
	}, readyTimeout, poll).Should(Succeed(), "the sandbox's learner-kubeconfig Secret")
	path := filepath.Join(t.TempDir(), sandbox+".kubeconfig")
	g.Expect(os.WriteFile(path, secret.Data[stack.KubeconfigKey], 0o600)).To(Succeed())
	return &learner{t: t, namespace: ns, kubeconfig: path}
}

// kubectl runs kubectl as the learner, in their namespace (the kubeconfig's).
func (l *learner) kubectl(args ...string) (string, error) {
	return local.RunAs(l.kubeconfig, "", args...)
}

// workspace is what the README's session execs into.
const workspace = "sts/workspace"

// startShell waits until commands run in the learner's workspace, as the
// README's `kubectl exec -it sts/workspace -- bash` does.
func (l *learner) startShell(g Gomega) {
	g.Eventually(func() (string, error) {
		return l.kubectl("exec", workspace, "--", "true")
	}, readyTimeout, poll).Should(BeEmpty(), "a shell in the workspace")
}

// sh runs a shell script in the learner's workspace.
func (l *learner) sh(script string) (string, error) {
	return l.kubectl("exec", workspace, "--", "bash", "-c", script)
}

// must runs a script that has to succeed and returns its output, trimmed.
func (l *learner) must(g Gomega, script string) string {
	out, err := l.sh(script)
	g.ExpectWithOffset(1, err).NotTo(HaveOccurred(), "%s\n%s", script, out)
	return strings.TrimSpace(out)
}

// connects reports whether a TCP connection from the learner's shell to
// host:port is made within a few seconds; the name must resolve first, so
// that a DNS failure is not taken for a fence.
func (l *learner) connects(g Gomega, host string, port int) bool {
	g.ExpectWithOffset(1, l.must(g, "getent hosts "+host)).NotTo(BeEmpty(), "%s resolves", host)
	_, err := l.sh("timeout 3 bash -c '</dev/tcp/" + host + "/" + strconv.Itoa(port) + "'")
	return err == nil
}

// connection is the sandbox's connection Secret, as the learner reads it.
func (l *learner) connection(g Gomega) map[string]string {
	out, err := l.kubectl("get", "secret", stack.ConnectionSecretName, "-o", "go-template={{range $k, $v := .data}}{{$k}}={{$v}}\n{{end}}")
	g.Expect(err).NotTo(HaveOccurred(), out)
	values := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		k, v, _ := strings.Cut(line, "=")
		raw, err := base64.StdEncoding.DecodeString(v)
		g.Expect(err).NotTo(HaveOccurred())
		values[k] = string(raw)
	}
	return values
}

// eventuallyShows waits until the learner's script prints what is expected:
// right after a restart, a server may take a moment to answer.
func (l *learner) eventuallyShows(g Gomega, script string, matcher types.GomegaMatcher) {
	g.EventuallyWithOffset(1, func() (string, error) {
		out, err := l.sh(script)
		return strings.TrimSpace(out), err
	}, 2*time.Minute, 2*time.Second).Should(matcher, script)
}
