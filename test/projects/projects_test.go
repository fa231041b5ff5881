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

// Package projects proves that each project stage of the catalog can be
// passed, and that a broken endpoint fails exactly its exercise: the
// reference solutions (test/realnode/testdata/projects, in Python and Go)
// run here against real PostgreSQL and Redis servers, and the operator's own
// checker runs each stage's exercises against them. The real-node suite
// does the same in a learner's workspace.
package projects

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/exercise"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/testservices"
)

// Stages are the project stages of the catalog.
var Stages = []string{"project-todo-api", "project-url-shortener", "project-blog"}

// solutionDir holds the reference solutions.
const solutionDir = "../realnode/testdata/projects"

var (
	pg *testservices.Postgres
	rd *testservices.Redis
)

func TestMain(m *testing.M) {
	var err error
	if pg, err = testservices.StartPostgres(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if rd, err = testservices.StartRedis(); err != nil {
		_ = pg.Stop()
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = rd.Stop()
	_ = pg.Stop()
	os.Exit(code)
}

func loadStage(t *testing.T, name string) *sandboxv1.RoadmapStage {
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "stages", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	stage := &sandboxv1.RoadmapStage{}
	if err := yaml.UnmarshalStrict(raw, stage); err != nil {
		t.Fatal(err)
	}
	return stage
}

// solution is how one reference solution is started.
type solution struct {
	name string
	// command starts it in dir; build, when set, builds it first.
	build   func(t *testing.T, dir string) string
	command func(bin string) *exec.Cmd
}

var solutions = []solution{
	{name: "python", command: func(string) *exec.Cmd {
		// Debian's python3, with Debian's psycopg2 and redis, as in the workspace-python image.
		return exec.Command("/usr/bin/python3", filepath.Join(solutionDir, "app.py"))
	}},
	{name: "go", build: buildGo, command: func(bin string) *exec.Cmd { return exec.Command(bin) }},
}

// buildGo builds the Go solution with the modules this repository already uses.
func buildGo(t *testing.T, dir string) string {
	bin := filepath.Join(dir, "reference")
	cmd := exec.Command("go", "build", "-o", bin, filepath.Join(solutionDir, "main.go"))
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// sandbox is one project stage's servers: a database of its own, the shared
// Redis, and the reference solution listening on a port of its own.
type sandbox struct {
	target exercise.Target
	port   int
	env    []string
}

func newSandbox(t *testing.T, stage *sandboxv1.RoadmapStage) *sandbox {
	dbURL, err := pg.CreateDatabase()
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(dbURL)
	pw, _ := u.User.Password()
	ru, _ := url.Parse(rd.URL())
	rpw, _ := ru.User.Password()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	s := &sandbox{port: port, target: exercise.Target{Namespace: "sandbox-" + stage.Name, Components: map[string]exercise.Endpoint{
		"postgres":  {Address: u.Host, User: u.User.Username(), Password: pw, Database: strings.TrimPrefix(u.Path, "/")},
		"workspace": {Address: fmt.Sprintf("127.0.0.1:%d", port), Host: "workspace"},
	}}}
	s.env = []string{"PORT=" + fmt.Sprint(port), "DATABASE_URL=" + dbURL}
	for _, c := range stage.Spec.Components {
		if c.Type == sandboxv1.ComponentRedis {
			s.target.Components[c.Name] = exercise.Endpoint{Address: ru.Host, Password: rpw}
			s.env = append(s.env, "REDIS_URL="+rd.URL())
		}
	}
	return s
}

// start runs the solution until the test ends, and waits until it answers.
func (s *sandbox) start(t *testing.T, g Gomega, sol solution, bin string, extra ...string) {
	cmd := sol.command(bin)
	cmd.Env = append(append(os.Environ(), s.env...), extra...)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s said:\n%s", sol.name, log.String())
		}
	})
	g.Eventually(func() error {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/v1/none", s.port))
		if err == nil {
			_ = resp.Body.Close()
		}
		return err
	}, 30*time.Second, 100*time.Millisecond).Should(Succeed(), "the %s solution answers", sol.name)
}

// check runs every exercise of the stage, as the operator does, and returns
// the messages of those that fail, by name.
func (s *sandbox) check(ctx context.Context, stage *sandboxv1.RoadmapStage) map[string]string {
	jobs := []exercise.Job{{Target: s.target}}
	for _, e := range stage.Spec.Exercises {
		jobs[0].Checks = append(jobs[0].Checks, e.Check)
	}
	failed := map[string]string{}
	for i, res := range exercise.Round(ctx, &exercise.Runner{}, 16, jobs)[0] {
		if !res.Passed {
			failed[stage.Spec.Exercises[i].Name] = res.Message
		}
	}
	return failed
}

// TestEachProjectCanBePassed: a fresh sandbox passes none of a project's
// exercises, and every one once a reference solution runs, in each language.
func TestEachProjectCanBePassed(t *testing.T) {
	for _, sol := range solutions {
		t.Run(sol.name, func(t *testing.T) {
			bin := ""
			if sol.build != nil {
				bin = sol.build(t, t.TempDir())
			}
			for _, name := range Stages {
				t.Run(name, func(t *testing.T) {
					g := NewWithT(t)
					stage := loadStage(t, name)
					g.Expect(len(stage.Spec.Exercises)).To(BeNumerically(">=", 4))
					g.Expect(len(stage.Spec.Exercises)).To(BeNumerically("<=", 8))
					s := newSandbox(t, stage)
					g.Expect(s.check(t.Context(), stage)).To(HaveLen(len(stage.Spec.Exercises)), "0/N before the learner's service runs")
					s.start(t, g, sol, bin)
					g.Expect(s.check(t.Context(), stage)).To(BeEmpty(), "N/N with the reference solution")
					// Twice: a check's data never gets in the way of the next check.
					g.Expect(s.check(t.Context(), stage)).To(BeEmpty())
				})
			}
		})
	}
}

// TestABrokenEndpointFailsExactlyItsExercise: a solution that stores
// passwords in clear fails the exercise that checks it, and says at which
// step, and no other.
func TestABrokenEndpointFailsExactlyItsExercise(t *testing.T) {
	for _, sol := range solutions {
		t.Run(sol.name, func(t *testing.T) {
			g := NewWithT(t)
			bin := ""
			if sol.build != nil {
				bin = sol.build(t, t.TempDir())
			}
			stage := loadStage(t, "project-todo-api")
			s := newSandbox(t, stage)
			s.start(t, g, sol, bin, "REFERENCE_BREAK=clear-password")
			g.Expect(s.check(t.Context(), stage)).To(Equal(map[string]string{
				"password-hashed": "step 2 postgres check: the query returned false, want true",
			}))
		})
	}
}
