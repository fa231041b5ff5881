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
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// TestTheFundamentalsExercisesAreDoneByPublishingPages: none passes before
// the learner acts; each passes once they have done what its hint says.
func TestTheFundamentalsExercisesAreDoneByPublishingPages(t *testing.T) {
	g := NewWithT(t)
	name := "real-site"
	newSandbox(t, g, &sandboxv1.LearningSandbox{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       sandboxv1.LearningSandboxSpec{Stage: "fundamentals", Access: sandboxv1.Access{Kubeconfig: true}},
	})
	waitReady(g, name)
	learner := learnerOf(t, g, name)
	check := func() string {
		out, errOut, err := local.Sandbox(local.Kubeconfig, "", "check", name)
		g.Expect(err).NotTo(HaveOccurred(), errOut)
		return out
	}
	g.Expect(check()).To(MatchRegexp(`(?m)^own-page\s+no\s`), "nothing passes untouched")

	// The hints, as the learner follows them.
	dir := t.TempDir()
	index, about := filepath.Join(dir, "index.html"), filepath.Join(dir, "about.html")
	g.Expect(os.WriteFile(index, []byte(`<h1>Hello from me</h1> <a href="about.html">About me</a>`), 0o600)).To(Succeed())
	g.Expect(os.WriteFile(about, []byte(`<p>About me</p>`), 0o600)).To(Succeed())
	out, err := learner.kubectl("create", "configmap", "web-site", "--from-file="+index, "--from-file="+about)
	g.Expect(err).NotTo(HaveOccurred(), out)

	// The kubelet adds the files to the running pod within its sync period.
	g.Eventually(check, 3*time.Minute, 5*time.Second).Should(And(
		MatchRegexp(`(?m)^own-page\s+yes\s`), MatchRegexp(`(?m)^about-page\s+yes\s`), MatchRegexp(`(?m)^link-pages\s+yes\s`)))
	learner.startShell(g)
	g.Expect(learner.must(g, `curl -sS -m 10 "$WEB_URL/site/about.html"`)).To(Equal("<p>About me</p>"))
}
