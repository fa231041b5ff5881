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

// Package e2e tests the operator on a local cluster of real control-plane
// binaries (etcd, kube-apiserver, kube-controller-manager, kube-scheduler)
// with KWOK's fake nodes: pods are scheduled and become Running, PVCs bind,
// garbage collection and Pod Security admission run. The operator runs out of
// cluster as the binary the Dockerfile ships, so a test can kill it.
package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

const clusterName = "learning-sandbox-e2e"

var (
	root        string // the repository
	workDir     string // the cluster's and the operator's files
	kubeconfig  string
	kubectlPath string
	k8sClient   client.Client
	scheme      = runtime.NewScheme()
	operator    *operatorProcess
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(sandboxv1.AddToScheme(scheme))

	var err error
	root, err = filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return fail(err)
	}
	// `make test-e2e` names the directory, so that it can tear the cluster
	// down even when this process dies before its deferred clean-up runs
	// (a -timeout panic, a signal).
	if workDir = os.Getenv("E2E_WORKDIR"); workDir != "" {
		err = os.MkdirAll(workDir, 0o755)
	} else {
		workDir, err = os.MkdirTemp("", "learning-sandbox-e2e-")
	}
	if err != nil {
		return fail(err)
	}
	kubeconfig = filepath.Join(workDir, "kubeconfig")
	defer func() {
		if os.Getenv("E2E_KEEP") != "" {
			fmt.Printf("E2E_KEEP is set: the cluster keeps running; export KUBECONFIG=%s\n", kubeconfig)
			return
		}
		operator.stop()
		_ = sh(root, "bash", "hack/local-cluster.sh", "down", clusterName, workDir)
	}()

	if err := sh(root, "bash", "hack/local-cluster.sh", "up", clusterName, workDir, "5"); err != nil {
		return fail(err)
	}
	version, err := output(filepath.Join(root, "hack", "controlplane"), "go", "list", "-m", "-f", "{{.Version}}", "k8s.io/kubernetes")
	if err != nil {
		return fail(err)
	}
	kubectlPath = filepath.Join(root, "bin", "k8s", strings.TrimPrefix(version, "v")+"-linux-amd64", "kubectl")

	for _, args := range [][]string{
		{"apply", "--server-side", "-f", "config/crd/bases"},
		{"apply", "--server-side", "-k", "config/learner"},
		{"wait", "--for", "condition=Established", "crd/learningsandboxes.sandbox.learning.dev",
			"crd/roadmapstages.sandbox.learning.dev", "crd/learningcohorts.sandbox.learning.dev", "--timeout", "60s"},
		{"apply", "--server-side", "-k", "config/stages"},
	} {
		if err := sh(root, kubectlPath, append([]string{"--kubeconfig", kubeconfig}, args...)...); err != nil {
			return fail(err)
		}
	}

	// Built the way the Dockerfile builds the image's /manager.
	manager := filepath.Join(workDir, "manager")
	build := exec.Command("go", "build", "-o", manager, "cmd/main.go")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("building the manager as the Dockerfile does: %v\n%s", err, out))
	}

	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fail(err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return fail(err)
	}

	operator = &operatorProcess{binary: manager, log: filepath.Join(workDir, "manager.log")}
	if err := operator.start(); err != nil {
		return fail(err)
	}
	code := m.Run()
	if code != 0 {
		fmt.Printf("The operator's log: %s\n%s\n", operator.log, tail(operator.log, 60))
	}
	return code
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "e2e setup:", err)
	return 1
}

func sh(dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}

func output(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}

func tail(path string, lines int) string {
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

// operatorProcess is the operator running out of cluster, which a test may
// kill without warning and start again.
type operatorProcess struct {
	binary, log string
	mu          sync.Mutex
	cmd         *exec.Cmd
	exited      chan struct{}
}

func (o *operatorProcess) start() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	logFile, err := os.OpenFile(o.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(o.binary, "--kubeconfig", kubeconfig,
		"--health-probe-bind-address=0", "--metrics-bind-address=0", "--concurrency=8")
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

// kill stops the operator at once, as a crash or an evicted pod would.
func (o *operatorProcess) kill() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cmd == nil {
		return
	}
	_ = o.cmd.Process.Signal(syscall.SIGKILL)
	<-o.exited
	o.cmd = nil
}

func (o *operatorProcess) stop() {
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

// kubectl runs the toolchain's kubectl against the cluster and returns what it printed.
func kubectl(args ...string) (string, error) {
	cmd := exec.Command(kubectlPath, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}
