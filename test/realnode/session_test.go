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
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
	"github.com/learning-sandbox/learning-sandbox-operator/test/cluster"
)

// databases is the stage of the session: PostgreSQL, Redis, the sample app
// behind Nginx, and MongoDB (left out: see cluster.WithoutPublicImages).
const databases = "databases"

// TestALearnersSession is the README's walkthrough as a learner does it, with
// the kubeconfig their sandbox gives them and nothing more: a shell in the
// workspace, psql, redis-cli and curl with the connection Secret's variables, the
// stage's exercises from 0 to all passed, and then what an instructor's
// suspend, resume, stage change and reset do to what the learner made.
func TestALearnersSession(t *testing.T) {
	g := NewWithT(t)
	name := "real-ada"
	var stage sandboxv1.RoadmapStage
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Name: databases}, &stage)).To(Succeed())
	newSandbox(t, g, &sandboxv1.LearningSandbox{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: sandboxv1.LearningSandboxSpec{
			Stage: databases, Access: sandboxv1.Access{Kubeconfig: true}, Components: cluster.WithoutPublicImages(&stage),
		},
	})
	waitReady(g, name)
	ada := learnerOf(t, g, name)
	ada.startShell(g)
	at := requestCheck(g, name)
	g.Eventually(progress(name, at), time.Minute, poll).Should(Equal("0/4"))

	// Every name the connection Secret gives resolves in the sandbox.
	for key, value := range ada.connection(g) {
		if strings.HasSuffix(key, "_HOST") {
			g.Expect(ada.must(g, "getent hosts "+value)).To(ContainSubstring(value), key)
		}
	}

	// psql with no arguments: the libpq variables say where and who.
	ada.must(g, `psql -v ON_ERROR_STOP=1 -c 'CREATE TABLE notes (id bigserial primary key, body text not null, created_at timestamptz not null default now())'`)
	ada.must(g, `psql -v ON_ERROR_STOP=1 -c "INSERT INTO notes (body) VALUES ('my first note')"`)
	g.Expect(ada.must(g, `psql -Atc 'SELECT body FROM notes'`)).To(Equal("my first note"))

	// redis-cli with REDIS_URL; without the password Redis refuses.
	g.Expect(ada.must(g, `redis-cli --no-auth-warning -u "$REDIS_URL" SET practice:hello world`)).To(Equal("OK"))
	g.Expect(ada.must(g, `redis-cli --no-auth-warning -u "$REDIS_URL" GET practice:hello`)).To(Equal("world"))
	g.Expect(ada.must(g, `redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" GET practice:hello`)).To(ContainSubstring("NOAUTH"))

	// curl through Nginx to the app: register, log in, create and list todos.
	api := `curl -sS -m 10 -H 'Content-Type: application/json' `
	ada.must(g, api+`-d '{"email":"ada@example.edu","password":"correct horse battery"}' "$WEB_URL/api/v1/auth/register"`)
	token := ada.must(g, api+`-d '{"email":"ada@example.edu","password":"correct horse battery"}' "$WEB_URL/api/v1/auth/login" | jq -er .token`)
	g.Expect(token).NotTo(BeEmpty())
	auth := `-H 'Authorization: Bearer ` + token + `' `
	ada.must(g, api+auth+`-d '{"title":"learn SQL joins"}' "$WEB_URL/api/v1/todos"`)
	g.Expect(ada.must(g, api+auth+`"$WEB_URL/api/v1/todos" | jq -er '.items[].title'`)).To(Equal("learn SQL joins"))
	// The todo is a row in Postgres, and its first page is cached in Redis.
	g.Expect(ada.must(g, `psql -Atc 'SELECT title FROM todos'`)).To(Equal("learn SQL joins"))
	g.Expect(ada.must(g, `redis-cli --no-auth-warning -u "$REDIS_URL" --scan --pattern 'sampleapp:todos:*'`)).NotTo(BeEmpty())

	// A backend of her own in the workspace, as the README writes it: it
	// answers at WORKSPACE_URL and through Nginx's /dev/ route.
	app, err := os.ReadFile(filepath.Join("testdata", "notes", "app.py"))
	g.Expect(err).NotTo(HaveOccurred())
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(readme)).To(ContainSubstring("cat > ~/notes/app.py <<'EOF'\n"+string(app)+"EOF\n"),
		"the README's program is the one tested here")
	out, err := local.RunAs(ada.kubeconfig, string(app), "exec", "-i", workspace, "--", "bash", "-c", "mkdir -p ~/notes && cat > ~/notes/app.py")
	g.Expect(err).NotTo(HaveOccurred(), out)
	ada.must(g, background("python3 ~/notes/app.py", "~/notes/app.log"))
	g.Eventually(func() (string, error) {
		return ada.sh(`curl -fsS -m 5 "$WORKSPACE_URL/"`)
	}, time.Minute, poll).Should(Equal(`{"notes": ["my first note"], "hits": 1}`))
	g.Expect(ada.must(g, `curl -fsS -m 5 "$WEB_URL/dev/"`)).To(Equal(`{"notes": ["my first note"], "hits": 2}`))

	// The exercises: two done above, two more now; the instructor asks for a
	// check instead of waiting for the stage's interval.
	at = requestCheck(g, name)
	g.Eventually(progress(name, at), time.Minute, poll).Should(Equal("2/4"))
	ada.must(g, `psql -v ON_ERROR_STOP=1 -c 'CREATE INDEX notes_created_at_idx ON notes (created_at DESC)'`)
	ada.must(g, `psql -v ON_ERROR_STOP=1 -c 'CREATE VIEW open_todos AS SELECT t.title, u.email FROM todos t JOIN users u ON u.id = t.user_id WHERE NOT t.done'`)
	at = requestCheck(g, name)
	g.Eventually(progress(name, at), time.Minute, poll).Should(Equal("4/4"))
	// The learner sees it too, in their namespace.
	out, err = ada.kubectl("get", "configmap", stack.ProgressConfigMapName, "-o", "jsonpath={.data."+stack.ProgressSummaryKey+"}")
	g.Expect(err).NotTo(HaveOccurred(), out)
	g.Expect(out).To(Equal("4/4"))
	// And with the kubectl plugin: their own line, and psql and redis-cli on
	// this machine, through a port-forward to the real node's pods.
	out, errOut, err := local.Sandbox(ada.kubeconfig, "", "status")
	g.Expect(err).NotTo(HaveOccurred(), errOut)
	g.Expect(out).To(MatchRegexp(`(?m)^real-ada\s+real-ada\s+databases\s+Ready\s+5/5\s+4/4\s+never\s*$`))
	out, errOut, err = local.Sandbox(ada.kubeconfig, "", "psql", "--", "-Atc", "SELECT body FROM notes")
	g.Expect(err).NotTo(HaveOccurred(), errOut)
	g.Expect(out).To(Equal("my first note\n"))
	out, errOut, err = local.Sandbox(ada.kubeconfig, "", "redis-cli", "--", "GET", "practice:hello")
	g.Expect(err).NotTo(HaveOccurred(), errOut)
	g.Expect(out).To(Equal("world\n"))
	// Undoing one takes it back.
	ada.must(g, `psql -v ON_ERROR_STOP=1 -c 'DROP VIEW open_todos'`)
	at = requestCheck(g, name)
	g.Eventually(progress(name, at), time.Minute, poll).Should(Equal("3/4"))

	// Suspend scales the stack to zero; resume brings the same data back.
	update(g, name, func(sb *sandboxv1.LearningSandbox) { sb.Spec.Suspend = true })
	g.Eventually(func() (sandboxv1.Phase, error) {
		sb := &sandboxv1.LearningSandbox{}
		err := k8sClient.Get(context.Background(), client.ObjectKey{Name: name}, sb)
		return sb.Status.Phase, err
	}, readyTimeout, poll).Should(Equal(sandboxv1.PhaseSuspended))
	// The workspace sleeps too: nothing of the sandbox runs.
	g.Eventually(func() ([]corev1.Pod, error) {
		var pods corev1.PodList
		err := k8sClient.List(context.Background(), &pods, client.InNamespace(namespaceOf(name)))
		return pods.Items, err
	}, time.Minute, poll).Should(BeEmpty(), "no pod runs while suspended")
	update(g, name, func(sb *sandboxv1.LearningSandbox) { sb.Spec.Suspend = false })
	waitReady(g, name)
	ada.eventuallyShows(g, `psql -Atc 'SELECT body FROM notes'`, Equal("my first note"))

	// From databases to caching: Postgres is shared, so its data stays.
	update(g, name, func(sb *sandboxv1.LearningSandbox) { sb.Spec.Stage, sb.Spec.Components = "caching", nil })
	waitReady(g, name)
	ada.eventuallyShows(g, `psql -Atc 'SELECT body FROM notes'`, Equal("my first note"))

	// A reset wipes the data; the learner's access stays.
	update(g, name, func(sb *sandboxv1.LearningSandbox) { sb.Spec.ResetGeneration++ })
	g.Eventually(func(g Gomega) {
		sb := waitReady(g, name)
		g.Expect(sb.Status.LastResetGeneration).To(Equal(sb.Spec.ResetGeneration))
	}, readyTimeout, poll).Should(Succeed())
	ada.startShell(g)
	ada.eventuallyShows(g, `psql -Atc "SELECT to_regclass('notes') IS NULL"`, Equal("t"))
}

// requestCheck asks for the sandbox's exercises to be checked now, as an
// instructor's kubectl annotate does, and returns the request's stamp.
func requestCheck(g Gomega, name string) string {
	at := time.Now().UTC().Format(time.RFC3339Nano)
	update(g, name, func(sb *sandboxv1.LearningSandbox) {
		if sb.Annotations == nil {
			sb.Annotations = map[string]string{}
		}
		sb.Annotations[sandboxv1.CheckRequestedAtAnnotation] = at
	})
	return at
}

// progress is the sandbox's exercises passed, as kubectl get shows them,
// once the check requested at the stamp has run.
func progress(name, requested string) func() (string, error) {
	return func() (string, error) {
		sb := &sandboxv1.LearningSandbox{}
		if err := k8sClient.Get(context.Background(), client.ObjectKey{Name: name}, sb); err != nil {
			return "", err
		}
		if sb.Status.LastHandledCheckAt != requested {
			return "not checked yet", nil
		}
		return sb.Status.ExercisesDone, nil
	}
}
