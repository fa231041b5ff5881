//go:build e2e

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

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// TestAnInstructorsDayWithThePlugin runs a class with `kubectl sandbox`
// against the operator: the instructor sees it, hands out kubeconfigs,
// suspends, resumes, checks and resets it; a learner, with the kubeconfig
// handed out, sees their own sandbox and its connection details.
func TestAnInstructorsDayWithThePlugin(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	cohort := &sandboxv1.LearningCohort{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-plugin"},
		Spec: sandboxv1.LearningCohortSpec{Stage: "fundamentals",
			Template: sandboxv1.SandboxTemplate{Access: sandboxv1.Access{Kubeconfig: true}}},
	}
	for _, l := range []string{"ada", "grace", "linus"} {
		cohort.Spec.Learners = append(cohort.Spec.Learners, sandboxv1.CohortLearner{Name: l})
	}
	g.Expect(k8sClient.Create(ctx, cohort)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), cohort) })
	sandbox := func(args ...string) (string, string, error) { return local.Sandbox(kubeconfig, "", args...) }

	g.Eventually(func(g Gomega) {
		out, errOut, err := sandbox("status", "-c", "e2e-plugin")
		g.Expect(err).NotTo(HaveOccurred(), errOut)
		g.Expect(out).To(ContainSubstring("cohort e2e-plugin: 3 learners, 3 ready"))
		g.Expect(out).To(MatchRegexp(`(?m)^e2e-plugin-ada\s+ada\s+fundamentals\s+Ready\s+2/2\s+\d/3\s+never\s*$`))
	}, readyTimeout, poll).Should(Succeed())

	// One kubeconfig per learner, and each lets its learner in.
	dir := filepath.Join(t.TempDir(), "kubeconfigs")
	out, errOut, err := sandbox("kubeconfigs", "-c", "e2e-plugin", "-d", dir)
	g.Expect(err).NotTo(HaveOccurred(), errOut)
	g.Expect(out).To(HavePrefix("wrote 3 of 3 kubeconfigs of cohort e2e-plugin"))
	index, err := os.ReadFile(filepath.Join(dir, "kubeconfigs.csv"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(strings.Split(strings.TrimSpace(string(index)), "\n")).To(HaveLen(4))
	ada := filepath.Join(dir, "ada.kubeconfig")
	out, errOut, err = local.Sandbox(ada, "", "status")
	g.Expect(err).NotTo(HaveOccurred(), errOut)
	g.Expect(out).To(MatchRegexp(`(?m)^e2e-plugin-ada\s+ada\s+fundamentals\s+Ready\s+2/2\s`), "a learner sees their own sandbox")
	g.Expect(out).NotTo(ContainSubstring("grace"))
	out, errOut, err = local.Sandbox(ada, "", "env")
	g.Expect(err).NotTo(HaveOccurred(), errOut)
	g.Expect(out).To(ContainSubstring("export WEB_URL='http://web.sandbox-e2e-plugin-ada.svc"))
	_, errOut, err = local.Sandbox(ada, "", "kubeconfigs", "-c", "e2e-plugin", "-d", t.TempDir())
	g.Expect(err).To(HaveOccurred())
	g.Expect(errOut).To(ContainSubstring("you may not get learningcohorts"))

	// Friday evening and Monday morning, with progress.
	_, errOut, err = sandbox("suspend", "-c", "e2e-plugin")
	g.Expect(err).NotTo(HaveOccurred(), errOut)
	g.Expect(errOut).To(HaveSuffix("3/3 suspended\n"))
	_, errOut, err = sandbox("resume", "-c", "e2e-plugin")
	g.Expect(err).NotTo(HaveOccurred(), errOut)
	g.Expect(errOut).To(HaveSuffix("3/3 resumed\n"))

	// A check now: every learner's line and every exercise's count.
	out, errOut, err = sandbox("check", "-c", "e2e-plugin")
	g.Expect(err).NotTo(HaveOccurred(), errOut)
	g.Expect(errOut).To(HaveSuffix("3/3 checked\n"))
	g.Expect(out).To(MatchRegexp(`(?m)^LEARNER\s+SANDBOX\s+EXERCISES\s+NOT PASSED$`))
	g.Expect(out).To(MatchRegexp(`(?m)^ada\s+e2e-plugin-ada\s+\d/3`))

	// A reset of the class: it asks, then rolls out with progress.
	_, errOut, err = local.Sandbox(kubeconfig, "no\n", "reset", "-c", "e2e-plugin")
	g.Expect(err).NotTo(HaveOccurred(), errOut)
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(cohort), cohort)).To(Succeed())
	g.Expect(cohort.Spec.Template.ResetGeneration).To(BeZero())
	_, errOut, err = sandbox("reset", "-c", "e2e-plugin", "--yes")
	g.Expect(err).NotTo(HaveOccurred(), errOut)
	g.Expect(errOut).To(HaveSuffix("3/3 reset\n"))
	var sandboxes sandboxv1.LearningSandboxList
	g.Expect(k8sClient.List(ctx, &sandboxes, client.MatchingLabels{sandboxv1.CohortLabel: "e2e-plugin"})).To(Succeed())
	for _, sb := range sandboxes.Items {
		g.Expect(sb.Status.LastResetGeneration).To(Equal(int64(1)), sb.Name)
	}

	out, errOut, err = sandbox("stages")
	g.Expect(err).NotTo(HaveOccurred(), errOut)
	g.Expect(out).To(MatchRegexp(`(?m)^fundamentals\s+Understanding the Fundamentals\s+web,workspace\s`))
	// The project stages: the learner's own service, graded.
	g.Expect(out).To(MatchRegexp(`(?m)^project-todo-api\s+Project: a Todo API with user authentication\s+postgres,web,workspace\s`))
	g.Expect(out).To(MatchRegexp(`(?m)^project-url-shortener\s+Project: a URL shortener\s+postgres,redis,web,workspace\s`))
	g.Expect(out).To(MatchRegexp(`(?m)^project-blog\s+Project: a blog platform with comments\s+postgres,web,workspace\s`))
	_, errOut, err = sandbox("status", "e2e-plugin-adaa")
	g.Expect(err).To(HaveOccurred())
	g.Expect(errOut).To(ContainSubstring(fmt.Sprintf("did you mean %s?", "e2e-plugin-ada")))
}
