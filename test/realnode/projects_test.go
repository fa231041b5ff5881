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
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// project is how a learner runs a reference solution (testdata/projects) of
// a project stage in their workspace.
type project struct {
	stage, language, file string
	// start builds and starts it in ~/project, in the background, with the
	// environment variables before it; its PID goes to ~/project/app.pid.
	start func(env string) string
}

func inProject(env, cmd string) string {
	return "cd ~/project && { " + env + " nohup " + cmd + " >app.log 2>&1 </dev/null & echo $! >app.pid; }"
}

var projects = []project{
	{stage: "project-todo-api", language: "python", file: "app.py",
		start: func(env string) string { return inProject(env, "python3 app.py") }},
	// The modules come from the image's module cache: no internet.
	{stage: "project-url-shortener", language: "go", file: "main.go",
		start: func(env string) string {
			return "cd ~/project && { [ -x reference ] || { go mod init reference && go mod tidy && go build -o reference .; } } && " +
				inProject(env, "./reference")
		}},
	{stage: "project-blog", language: "python", file: "app.py",
		start: func(env string) string { return inProject(env, "python3 app.py") }},
}

// TestEachProjectPassesWithAReferenceSolution is a project stage as a
// learner does it, with their kubeconfig only: a fresh sandbox passes none
// of the stage's exercises; the learner copies a reference solution into
// their workspace and starts it, and every exercise passes. Then the learner
// breaks one endpoint (the Todo API stores passwords in clear): exactly
// that exercise fails, and the learner reads which step failed in their
// progress ConfigMap, as the instructor does in kubectl sandbox check and status.
func TestEachProjectPassesWithAReferenceSolution(t *testing.T) {
	for _, p := range projects {
		t.Run(p.stage, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			name := "real-" + p.stage
			newSandbox(t, g, &sandboxv1.LearningSandbox{
				ObjectMeta: metav1.ObjectMeta{Name: name + "-ref"},
				Spec: sandboxv1.LearningSandboxSpec{Stage: p.stage, Access: sandboxv1.Access{Kubeconfig: true},
					Workspace: &sandboxv1.Workspace{Language: p.language}},
			})
			name += "-ref"
			stage := &sandboxv1.RoadmapStage{}
			g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Name: p.stage}, stage)).To(Succeed())
			all := fmt.Sprintf("%d/%d", len(stage.Spec.Exercises), len(stage.Spec.Exercises))
			waitReady(g, name)
			g.Eventually(progress(name, requestCheck(g, name)), time.Minute, poll).Should(
				Equal(fmt.Sprintf("0/%d", len(stage.Spec.Exercises))), "a fresh sandbox passes nothing")

			l := learnerOf(t, g, name)
			l.startShell(g)
			code, err := os.ReadFile(filepath.Join("testdata", "projects", p.file))
			g.Expect(err).NotTo(HaveOccurred())
			out, err := local.RunAs(l.kubeconfig, string(code), "exec", "-i", workspace, "--",
				"bash", "-c", "mkdir -p ~/project && cat >~/project/"+p.file)
			g.Expect(err).NotTo(HaveOccurred(), out)
			out, err = l.sh(p.start(""))
			g.Expect(err).NotTo(HaveOccurred(), out)
			g.Eventually(func() string {
				out, err := l.sh(`curl -sS -m 5 -o /dev/null -w '%{http_code}' "$WORKSPACE_URL/api/v1/none"`)
				if err != nil {
					log, _ := l.sh("cat ~/project/app.log")
					return out + log
				}
				return out
			}, 6*time.Minute, 2*time.Second).Should(Equal("404"), "the learner's service answers")

			check := func() string {
				out, errOut, err := local.Sandbox(local.Kubeconfig, "", "check", name)
				g.Expect(err).NotTo(HaveOccurred(), errOut)
				return out
			}
			out = check()
			g.Expect(progress(name, lastHandled(g, name))()).To(Equal(all), "every exercise passes:\n%s", out)
			out, errOut, err := local.Sandbox(local.Kubeconfig, "", "status", name)
			g.Expect(err).NotTo(HaveOccurred(), errOut)
			g.Expect(out).To(MatchRegexp(`(?m)^` + name + `\s+\S+\s+` + p.stage + `\s+Ready\s+\S+\s+` + all + `\s`))

			if p.stage != "project-todo-api" {
				return
			}
			// The learner breaks an endpoint: passwords in clear.
			out, err = l.sh("kill $(cat ~/project/app.pid) && " + p.start("REFERENCE_BREAK=clear-password"))
			g.Expect(err).NotTo(HaveOccurred(), out)
			broken := `(?m)^password-hashed\s+no\s+step 2 postgres check: the query returned false, want true$`
			g.Eventually(check, 2*time.Minute, 2*time.Second).Should(MatchRegexp(broken))
			g.Expect(progress(name, lastHandled(g, name))()).To(Equal(fmt.Sprintf("%d/%d", len(stage.Spec.Exercises)-1, len(stage.Spec.Exercises))),
				"exactly that exercise fails")
			progressText, err := l.kubectl("get", "configmap", stack.ProgressConfigMapName, "-o", "jsonpath={.data.progress\\.txt}")
			g.Expect(err).NotTo(HaveOccurred(), progressText)
			g.Expect(progressText).To(ContainSubstring("not passed: step 2 postgres check: the query returned false, want true"))
			openapi, err := l.kubectl("get", "configmap", stack.ProgressConfigMapName, "-o", "jsonpath={.data.openapi\\.yaml}")
			g.Expect(err).NotTo(HaveOccurred(), openapi)
			g.Expect(openapi).To(ContainSubstring("/api/v1/auth/register:"), "the learner reads the API to build")
		})
	}
}

// lastHandled is the stamp of the sandbox's last check request, for progress.
func lastHandled(g Gomega, name string) string {
	sb := &sandboxv1.LearningSandbox{}
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Name: name}, sb)).To(Succeed())
	return sb.Status.LastHandledCheckAt
}
