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
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/test/cluster"
)

const clusterName = "learning-sandbox-e2e"

var (
	root       string // the repository
	kubeconfig string
	k8sClient  client.Client
	scheme     = runtime.NewScheme()
	local      *cluster.Cluster
	operator   *cluster.Operator
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
	workDir := os.Getenv("E2E_WORKDIR")
	if workDir != "" {
		err = os.MkdirAll(workDir, 0o755)
	} else {
		workDir, err = os.MkdirTemp("", "learning-sandbox-e2e-")
	}
	if err != nil {
		return fail(err)
	}
	kubeconfig = filepath.Join(workDir, "kubeconfig")
	local = &cluster.Cluster{Root: root, Name: clusterName, WorkDir: workDir, Kubeconfig: kubeconfig}
	defer func() {
		if os.Getenv("E2E_KEEP") != "" {
			fmt.Printf("E2E_KEEP is set: the cluster keeps running; export KUBECONFIG=%s\n", kubeconfig)
			return
		}
		operator.Stop()
		_ = local.Down()
	}()

	if err := local.Up(5); err != nil {
		return fail(err)
	}
	manager, err := local.BuildOperator()
	if err != nil {
		return fail(err)
	}
	if err := local.BuildPlugin(); err != nil {
		return fail(err)
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

	operator = &cluster.Operator{Binary: manager, Log: filepath.Join(workDir, "manager.log"), Args: []string{
		"--kubeconfig", kubeconfig, "--health-probe-bind-address=0", "--metrics-bind-address=0", "--concurrency=8"}}
	if err := operator.Start(); err != nil {
		return fail(err)
	}
	code := m.Run()
	if code != 0 {
		fmt.Printf("The operator's log: %s\n%s\n", operator.Log, cluster.Tail(operator.Log, 60))
	}
	return code
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "e2e setup:", err)
	return 1
}

// kubectl runs the toolchain's kubectl against the cluster and returns what it printed.
func kubectl(args ...string) (string, error) {
	return local.Run(args...)
}
