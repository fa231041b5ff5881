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

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// Kinds that every sandbox has besides its rendered objects.
const (
	kindNamespace = "Namespace"
	kindSecret    = "Secret"
)

// The workloads' kinds, whose readiness makes a sandbox Ready.
const (
	kindDeployment  = "Deployment"
	kindStatefulSet = "StatefulSet"
)

// cohortCRD is the file that holds the LearningCohort CRD, when the API exists.
const cohortCRD = "config/crd/bases/sandbox.learning.dev_learningcohorts.yaml"

// env is what every scenario shares: the repository, the work directory, the
// toolchain's kubectl, the manager binary and what one sandbox of the stage is.
type env struct {
	cfg     config
	root    string
	tmp     string
	kubectl string
	manager string
	// stage is the RoadmapStage every sandbox runs, as config/stages has it.
	stage *sandboxv1.RoadmapStage
	// perSandbox counts, by kind, the objects the operator makes for one sandbox.
	perSandbox map[string]int
	// podsPerSandbox is how many pods one sandbox runs.
	podsPerSandbox int
	// hasCohortCRD says whether config/crd/bases holds the LearningCohort CRD.
	hasCohortCRD bool
	machine      string
}

// newEnv finds the repository, builds the manager and renders one sandbox.
func newEnv(ctx context.Context, cfg config) (*env, error) {
	root, err := findRoot()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "learning-sandbox-bench-")
	if err != nil {
		return nil, fmt.Errorf("making the work directory: %w", err)
	}
	e := &env{cfg: cfg, root: root, tmp: tmp, machine: machine()}
	if err := e.prepare(ctx); err != nil {
		e.cleanup()
		return nil, err
	}
	logf("Work directory %s; %s", tmp, e.machine)
	return e, nil
}

// prepare finds kubectl, reads the stage, counts what a sandbox makes and builds the manager.
func (e *env) prepare(ctx context.Context) error {
	version, err := output(ctx, filepath.Join(e.root, "hack", "controlplane"),
		"go", "list", "-m", "-f", "{{.Version}}", "k8s.io/kubernetes")
	if err != nil {
		return fmt.Errorf("reading the control plane's version: %w", err)
	}
	e.kubectl = filepath.Join(e.root, "bin", "k8s",
		strings.TrimPrefix(version, "v")+"-"+runtime.GOOS+"-"+runtime.GOARCH, "kubectl")
	if _, err := os.Stat(e.kubectl); err != nil {
		return fmt.Errorf("the toolchain's kubectl is missing (run `make controlplane`): %w", err)
	}
	if e.stage, err = readStage(e.root, e.cfg.stage); err != nil {
		return err
	}
	if e.perSandbox, e.podsPerSandbox, err = expectedObjects(e.stage); err != nil {
		return err
	}
	if e.cfg.pprofDir != "" {
		if err := os.MkdirAll(e.cfg.pprofDir, 0o755); err != nil {
			return fmt.Errorf("making the profile directory: %w", err)
		}
	}
	_, err = os.Stat(filepath.Join(e.root, cohortCRD))
	e.hasCohortCRD = err == nil
	e.manager, err = buildManager(ctx, e.root, e.tmp, e.cfg.pprofDir != "")
	return err
}

// cleanup removes the work directory, unless asked to keep it.
func (e *env) cleanup() {
	if e.cfg.keep {
		logf("Kept %s", e.tmp)
		return
	}
	_ = os.RemoveAll(e.tmp)
}

// objectsPerSandbox is how many objects the operator makes for one sandbox.
func (e *env) objectsPerSandbox() int {
	total := 0
	for _, n := range e.perSandbox {
		total += n
	}
	return total
}

// kinds are the kinds the operator makes for a sandbox, sorted.
func (e *env) kinds() []string {
	return slices.Sorted(maps.Keys(e.perSandbox))
}

// nodesFor is how many fake nodes the pods of n sandboxes need.
func (e *env) nodesFor(n int) int {
	return max(1, (n*e.podsPerSandbox+e.cfg.podsPerNode-1)/e.cfg.podsPerNode)
}

// findRoot is the directory of the go.mod above the working directory.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("reading the working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "hack", "local-cluster.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the bench inside the repository: hack/local-cluster.sh not found")
		}
		dir = parent
	}
}

// readStage reads config/stages/<name>.yaml.
func readStage(root, name string) (*sandboxv1.RoadmapStage, error) {
	raw, err := os.ReadFile(filepath.Join(root, "config", "stages", name+".yaml"))
	if err != nil {
		return nil, fmt.Errorf("reading stage %q: %w", name, err)
	}
	stage := &sandboxv1.RoadmapStage{}
	if err := yaml.Unmarshal(raw, stage); err != nil {
		return nil, fmt.Errorf("parsing stage %q: %w", name, err)
	}
	return stage, nil
}

// expectedObjects renders one sandbox of the stage and counts, by kind, what
// the operator makes for it: the namespace, the rendered objects and the
// credentials Secret; and the pods it runs.
func expectedObjects(stage *sandboxv1.RoadmapStage) (map[string]int, int, error) {
	st, err := stack.Render(stack.Input{
		Sandbox:     fakeSandbox("count", stage.Name),
		Stage:       stage,
		Credentials: fakeCredentials(),
	}, stack.DefaultSettings())
	if err != nil {
		return nil, 0, fmt.Errorf("rendering a sandbox of stage %q: %w", stage.Name, err)
	}
	counts := map[string]int{kindNamespace: 1, kindSecret: 1}
	for _, obj := range st.Objects {
		counts[*obj.GetKind()]++
	}
	pods := 0
	for _, c := range st.Components {
		pods += int(c.Replicas)
	}
	return counts, pods, nil
}

// fakeSandbox is a sandbox of the stage, as rendering needs one.
func fakeSandbox(name, stage string) *sandboxv1.LearningSandbox {
	return &sandboxv1.LearningSandbox{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: "00000000-0000-0000-0000-0000000bench"},
		Spec: sandboxv1.LearningSandboxSpec{
			Learner: sandboxv1.Learner{Name: name},
			Stage:   stage,
		},
	}
}

// fakeCredentials fill every credential a stack may need.
func fakeCredentials() map[string]string {
	return map[string]string{
		stack.PostgresPasswordKey: "bench-postgres-password",
		stack.RedisPasswordKey:    "bench-redis-password",
		stack.JWTSecretKey:        "bench-jwt-secret-bench-jwt-secret-bench-jwt-secret",
	}
}

// machine describes where the bench runs: CPUs, memory, Go and the kernel.
func machine() string {
	model, mem := "", ""
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		model = firstField(f, "model name", ":")
		_ = f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		mem = firstField(f, "MemTotal", ":")
		_ = f.Close()
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return fmt.Sprintf("nproc %d (%s), MemTotal %s, %s, Linux %s", runtime.NumCPU(), model, mem,
		runtime.Version(), strings.TrimSpace(string(kernel)))
}

// firstField is the value of the first "key<sep> value" line of f.
func firstField(f *os.File, key, sep string) string {
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), sep)
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// output runs a command in dir and returns its trimmed stdout.
func output(ctx context.Context, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

// sh runs a command in dir, its output going to stderr.
func sh(ctx context.Context, dir, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}
