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
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// language is how a learner writes and starts the visits service
// (testdata/visits) in one of the built-in languages.
type language struct {
	name string
	// files are copied from testdata/visits into ~/visits.
	files []string
	// start builds and starts the service in ~/visits, in the background.
	start string
}

// background starts a command that outlives the kubectl exec it was started
// from: immune to hangups, and holding none of the exec's descriptors, which
// would keep the exec open. The braces put only the command in the
// background, not the list before it.
func background(cmd, log string) string {
	return "{ nohup " + cmd + " >" + log + " 2>&1 </dev/null & }"
}

// visits starts a command in ~/visits, in the background.
func visits(cmd string) string { return "cd ~/visits && " + background(cmd, "visits.log") }

var languages = []language{
	{name: "python", files: []string{"main.py"}, start: visits("python3 main.py")},
	{name: "node", files: []string{"server.js"}, start: visits("node server.js")},
	// The modules come from the image's module cache: no internet.
	{name: "go", files: []string{"main.go"},
		start: "cd ~/visits && go mod init visits && go mod tidy && go build -o visits . && " + visits("./visits")},
	{name: "java", files: []string{"Main.java"}, start: visits("java Main.java")},
}

// workspaceStage is a stage with what the visits service needs, and a
// workspace with room for a compiler.
func workspaceStage(t *testing.T, g Gomega) string {
	stage := &sandboxv1.RoadmapStage{
		ObjectMeta: metav1.ObjectMeta{Name: "real-workspace"},
		Spec: sandboxv1.RoadmapStageSpec{
			Title: "Your own backend",
			Budget: sandboxv1.Budget{CPU: new(resource.MustParse("4")), Memory: new(resource.MustParse("6Gi")),
				Storage: new(resource.MustParse("4Gi")), Pods: new(int32(10))},
			Components: []sandboxv1.Component{
				{Name: "postgres", Type: sandboxv1.ComponentPostgres},
				{Name: "redis", Type: sandboxv1.ComponentRedis},
				{Name: "web", Type: sandboxv1.ComponentNginx},
				{Name: "workspace", Type: sandboxv1.ComponentWorkspace, Resources: &corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("2Gi")},
				}},
			},
		},
	}
	g.Expect(client.IgnoreAlreadyExists(k8sClient.Create(context.Background(), stage))).To(Succeed())
	// After the subtests, which run in parallel once this test's function returns.
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), stage) })
	return stage.Name
}

// TestALearnerWritesTheirOwnServiceInEachLanguage is the workspace as a
// learner uses it, with their kubeconfig only, in every built-in language:
// the code goes into the home with kubectl exec, the service runs there and
// reads and writes PostgreSQL and Redis through the image's libraries; it
// answers at WORKSPACE_URL and through Nginx's /dev/ route; the code is still
// there after the pod is deleted and after a suspend and resume, and gone
// after a reset.
func TestALearnerWritesTheirOwnServiceInEachLanguage(t *testing.T) {
	stage := workspaceStage(t, NewWithT(t))
	for _, lang := range languages {
		t.Run(lang.name, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			name := "real-ws-" + lang.name
			newSandbox(t, g, &sandboxv1.LearningSandbox{
				ObjectMeta: metav1.ObjectMeta{Name: name},
				Spec: sandboxv1.LearningSandboxSpec{Stage: stage, Access: sandboxv1.Access{Kubeconfig: true},
					Workspace: &sandboxv1.Workspace{Language: lang.name}},
			})
			waitReady(g, name)
			l := learnerOf(t, g, name)
			l.startShell(g)
			g.Expect(l.must(g, `echo "$WORKSPACE_LANGUAGE $HOME $(pwd) $(id -u)"`)).To(Equal(lang.name + " /home/learner /home/learner 1000"))
			g.Expect(l.must(g, `touch /usr/local/x 2>&1 || echo read-only`)).To(ContainSubstring("read-only"))
			// The plugin's way in is the same workspace.
			out, errOut, err := local.Sandbox(l.kubeconfig, "", "shell", "--", "bash", "-c", `echo "$WORKSPACE_LANGUAGE" in "$PWD"`)
			g.Expect(err).NotTo(HaveOccurred(), errOut)
			g.Expect(out).To(Equal(lang.name + " in /home/learner\n"))
			g.Expect(l.must(g, `for t in git curl psql redis-cli vi; do command -v $t >/dev/null || echo "no $t"; done`)).To(BeEmpty())

			for _, f := range lang.files {
				code, err := os.ReadFile(filepath.Join("testdata", "visits", f))
				g.Expect(err).NotTo(HaveOccurred())
				out, err := local.RunAs(l.kubeconfig, string(code), "exec", "-i", workspace, "--",
					"bash", "-c", "mkdir -p ~/visits && cat >~/visits/"+f)
				g.Expect(err).NotTo(HaveOccurred(), out)
			}
			out, err = l.sh(lang.start)
			g.Expect(err).NotTo(HaveOccurred(), "%s\n%s", lang.start, out)

			// From the sandbox: through the workspace's Service, then through Nginx.
			first := regexp.MustCompile(`^` + lang.name + ` (\d+) (\d+)$`)
			g.Eventually(func() string {
				out, err := l.sh(`curl -fsS -m 5 "$WORKSPACE_URL/"`)
				if err != nil {
					// Not up yet, or failed: what it says, for the failure message.
					log, _ := l.sh("cat ~/visits/visits.log")
					return out + log
				}
				return strings.TrimSpace(out)
			}, 6*time.Minute, 2*time.Second).Should(MatchRegexp(first.String()), "the service answers at WORKSPACE_URL")
			viaNginx := l.must(g, `curl -fsS -m 5 "$WEB_URL/dev/"`)
			g.Expect(viaNginx).To(MatchRegexp(first.String()), "the service answers through Nginx")
			n := first.FindStringSubmatch(viaNginx)
			g.Expect(n[1]).To(Equal(n[2]), "the count in Redis is the count in PostgreSQL")
			g.Expect(l.must(g, `psql -Atc "SELECT n FROM visits WHERE lang = '`+lang.name+`'"`)).To(Equal(n[1]))
			g.Expect(l.must(g, `redis-cli --no-auth-warning -u "$REDIS_URL" GET visits:`+lang.name)).To(Equal(n[1]))

			codeIsThere := `cat ~/visits/` + lang.files[0] + ` | wc -c`
			size := l.must(g, codeIsThere)
			g.Expect(size).NotTo(Equal("0"))

			// The learner deletes their workspace's pod: a new one has the same home.
			out, err = l.kubectl("delete", "pod", "workspace-0", "--wait=false")
			g.Expect(err).NotTo(HaveOccurred(), out)
			g.Eventually(func() (string, error) {
				out, err := l.sh(codeIsThere)
				return out, err
			}, readyTimeout, poll).Should(Equal(size+"\n"), "the code is still there after the pod is replaced")

			// Suspend and resume: the home is kept.
			update(g, name, func(sb *sandboxv1.LearningSandbox) { sb.Spec.Suspend = true })
			g.Eventually(func() (sandboxv1.Phase, error) {
				sb := &sandboxv1.LearningSandbox{}
				err := k8sClient.Get(context.Background(), client.ObjectKey{Name: name}, sb)
				return sb.Status.Phase, err
			}, readyTimeout, poll).Should(Equal(sandboxv1.PhaseSuspended))
			update(g, name, func(sb *sandboxv1.LearningSandbox) { sb.Spec.Suspend = false })
			waitReady(g, name)
			l.startShell(g)
			g.Expect(l.must(g, codeIsThere)).To(Equal(size), "the code is still there after a suspend and resume")

			// A reset wipes the home, as it wipes the database.
			update(g, name, func(sb *sandboxv1.LearningSandbox) { sb.Spec.ResetGeneration++ })
			g.Eventually(func(g Gomega) {
				sb := waitReady(g, name)
				g.Expect(sb.Status.LastResetGeneration).To(Equal(sb.Spec.ResetGeneration))
			}, readyTimeout, poll).Should(Succeed())
			l.startShell(g)
			g.Expect(l.must(g, `ls -A "$HOME" | wc -l`)).To(Equal("0"), "the home is empty after a reset")
		})
	}
}
