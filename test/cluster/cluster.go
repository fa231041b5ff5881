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

// Package cluster is what the end-to-end suites share: the local cluster's
// set-up (hack/local-cluster.sh), the operator run out of cluster as the
// binary the Dockerfile ships, and the toolchain's kubectl.
package cluster

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Cluster is a local cluster that a suite started, with its kubeconfig.
type Cluster struct {
	Root       string // the repository
	Name       string
	WorkDir    string // the cluster's and the operator's files
	Kubeconfig string
	Kubectl    string // the toolchain's kubectl
	RealNode   bool   // with a real worker node (hack/realnode)
	// NoInstall leaves the CRDs, the learner fences and the catalog to the
	// suite (a Helm install of the operator brings them).
	NoInstall bool
}

// Up starts the cluster (or reuses it) with nodes fake nodes, and installs
// the CRDs, the learner ClusterRole and the stage catalog unless NoInstall.
func (c *Cluster) Up(nodes int) error {
	env := os.Environ()
	if c.RealNode {
		env = append(env, "REAL_NODE=1")
	}
	if err := run(c.Root, env, "bash", "hack/local-cluster.sh", "up", c.Name, c.WorkDir, fmt.Sprint(nodes)); err != nil {
		return err
	}
	version, err := Output(filepath.Join(c.Root, "hack", "controlplane"), "go", "list", "-m", "-f", "{{.Version}}", "k8s.io/kubernetes")
	if err != nil {
		return err
	}
	c.Kubectl = filepath.Join(c.Root, "bin", "k8s", strings.TrimPrefix(version, "v")+"-linux-amd64", "kubectl")
	if c.NoInstall {
		return nil
	}
	apply := []string{"apply", "--server-side"}
	for _, args := range [][]string{
		append(apply, "-f", "config/crd/bases"),
		append(apply, "-k", "config/learner"),
		{"wait", "--for", "condition=Established", "crd/learningsandboxes.sandbox.learning.dev",
			"crd/roadmapstages.sandbox.learning.dev", "crd/learningcohorts.sandbox.learning.dev", "--timeout", "60s"},
		append(apply, "-k", "config/stages"),
	} {
		if err := Sh(c.Root, c.Kubectl, append([]string{"--kubeconfig", c.Kubeconfig}, args...)...); err != nil {
			return err
		}
	}
	return nil
}

// Down deletes the cluster and its work directory.
func (c *Cluster) Down() error {
	return Sh(c.Root, "bash", "hack/local-cluster.sh", "down", c.Name, c.WorkDir)
}

// BuildOperator builds the manager into the work directory, the way the
// Dockerfile builds the image's /manager.
func (c *Cluster) BuildOperator() (string, error) {
	manager := filepath.Join(c.WorkDir, "manager")
	build := exec.Command("go", "build", "-o", manager, "cmd/main.go")
	build.Dir = c.Root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the manager as the Dockerfile does: %v\n%s", err, out)
	}
	return manager, nil
}

// BuildPlugin builds the kubectl plugin into the work directory's plugins/,
// as make plugin builds bin/kubectl-sandbox, for Sandbox to run.
func (c *Cluster) BuildPlugin() error {
	build := exec.Command("go", "build", "-o", filepath.Join(c.WorkDir, "plugins", "kubectl-sandbox"), "./cmd/kubectl-sandbox")
	build.Dir = c.Root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the kubectl plugin: %v\n%s", err, out)
	}
	return nil
}

// Sandbox runs `kubectl sandbox ARGS` as a user does: the toolchain's
// kubectl, which finds the plugin on PATH, with KUBECONFIG and stdin.
func (c *Cluster) Sandbox(kubeconfig, stdin string, args ...string) (stdout, stderr string, err error) {
	cmd := exec.Command(c.Kubectl, append([]string{"sandbox"}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig,
		"PATH="+filepath.Join(c.WorkDir, "plugins")+string(os.PathListSeparator)+os.Getenv("PATH"))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &errOut, strings.NewReader(stdin)
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// Run runs the toolchain's kubectl against the cluster as its admin and
// returns what it printed.
func (c *Cluster) Run(args ...string) (string, error) {
	return c.RunAs(c.Kubeconfig, "", args...)
}

// RunAs runs kubectl with another kubeconfig (a learner's), with stdin.
func (c *Cluster) RunAs(kubeconfig, stdin string, args ...string) (string, error) {
	cmd := exec.Command(c.Kubectl, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	return out.String(), err
}

// Sh runs a command with its output on the suite's.
func Sh(dir, name string, args ...string) error {
	return run(dir, nil, name, args...)
}

func run(dir string, env []string, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}

// Output runs a command and returns its standard output, trimmed.
func Output(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}

// Tail is the last lines of a file, or why it cannot be read.
func Tail(path string, lines int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// Operator is the operator running out of cluster, which a test may kill
// without warning and start again.
type Operator struct {
	Binary, Log string
	Args        []string // its flags
	mu          sync.Mutex
	cmd         *exec.Cmd
	exited      chan struct{}
}

// Start starts the operator, logging to o.Log.
func (o *Operator) Start() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	logFile, err := os.OpenFile(o.Log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(o.Binary, o.Args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return err
	}
	o.cmd, o.exited = cmd, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(o.exited)
	}()
	return nil
}

// Kill stops the operator at once, as a crash or an evicted pod would.
func (o *Operator) Kill() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cmd == nil {
		return
	}
	_ = o.cmd.Process.Signal(syscall.SIGKILL)
	<-o.exited
	o.cmd = nil
}

// Stop stops the operator gracefully, and kills it if it does not stop.
func (o *Operator) Stop() {
	if o == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cmd == nil {
		return
	}
	_ = o.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-o.exited:
	case <-time.After(10 * time.Second):
		_ = o.cmd.Process.Kill()
		<-o.exited
	}
	o.cmd = nil
}
