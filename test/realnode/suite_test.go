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

// Package realnode is the end-to-end suite on the local cluster's real
// worker node (hack/realnode): the built-in stages' stacks really run, and a
// learner's session through them, with the learner's own kubeconfig only, is
// what a learner would do: psql, redis-cli and curl from a shell pod in their
// namespace, while the neighbour's namespace stays out of reach.
package realnode

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
	"github.com/learning-sandbox/learning-sandbox-operator/test/cluster"
)

const (
	clusterName = "learning-sandbox-real"
	// realNode is the kubelet's node (hack/realnode/node.sh).
	realNode = "real-node"
	// A stack's first start on the node: images are local, Postgres
	// initialises its data directory.
	readyTimeout = 4 * time.Minute
	poll         = time.Second
)

var (
	root      string // the repository
	k8sClient client.Client
	local     *cluster.Cluster
	operator  *cluster.Operator
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(sandboxv1.AddToScheme(scheme))
	var err error
	if root, err = filepath.Abs(filepath.Join("..", "..")); err != nil {
		return fail(err)
	}
	// `make test-real` names the directory, so that it can tear the cluster
	// down also when this process dies before its deferred clean-up runs.
	workDir := os.Getenv("REAL_WORKDIR")
	if workDir == "" {
		return fail(fmt.Errorf("REAL_WORKDIR is not set: run the suite with make test-real"))
	}
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return fail(err)
	}
	if workDir, err = filepath.Abs(workDir); err != nil {
		return fail(err)
	}
	local = &cluster.Cluster{Root: root, Name: clusterName, WorkDir: workDir,
		Kubeconfig: filepath.Join(workDir, "kubeconfig"), RealNode: true}
	defer func() {
		// Two operators would fight over the sandboxes: this run's goes
		// also when the cluster stays.
		operator.Stop()
		if os.Getenv("E2E_KEEP") != "" {
			fmt.Printf("E2E_KEEP is set: the cluster keeps running; export KUBECONFIG=%s\n", local.Kubeconfig)
			return
		}
		_ = local.Down()
	}()
	if err := local.Up(1); err != nil {
		return fail(err)
	}
	manager, err := local.BuildOperator()
	if err != nil {
		return fail(err)
	}
	if err := local.BuildPlugin(); err != nil {
		return fail(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", local.Kubeconfig)
	if err != nil {
		return fail(err)
	}
	if k8sClient, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return fail(err)
	}
	// The stacks run from the local images (hack/realnode/images.sh).
	flags, err := cluster.Output(root, "bash", "hack/realnode/node.sh", "operator-flags")
	if err != nil {
		return fail(err)
	}
	operator = &cluster.Operator{Binary: manager, Log: filepath.Join(workDir, "manager.log"), Args: append([]string{
		"--kubeconfig", local.Kubeconfig, "--health-probe-bind-address=0", "--metrics-bind-address=0"},
		strings.Fields(flags)...)}
	if err := operator.Start(); err != nil {
		return fail(err)
	}
	code := m.Run()
	if code != 0 {
		fmt.Printf("The operator's log: %s\n%s\n", operator.Log, cluster.Tail(operator.Log, 60))
	}
	return code
}

var scheme = runtime.NewScheme()

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "real-node setup:", err)
	return 1
}

func namespaceOf(name string) string { return stack.DefaultNamespacePrefix + name }

// newSandbox creates a sandbox, as an instructor would, and deletes it when
// the test ends.
func newSandbox(t *testing.T, g Gomega, sb *sandboxv1.LearningSandbox) {
	t.Helper()
	if sb.Spec.Learner.Name == "" {
		sb.Spec.Learner = sandboxv1.Learner{Name: sb.Name, Users: []string{sb.Name + "@example.edu"}}
	}
	g.Expect(k8sClient.Create(context.Background(), sb)).To(Succeed())
	t.Cleanup(func() {
		_ = k8sClient.Delete(context.Background(), sb)
		// The node's room is small: the next test starts when this one's
		// pods are gone.
		NewWithT(t).Eventually(func() bool {
			var pods corev1.PodList
			_ = k8sClient.List(context.Background(), &pods, client.InNamespace(namespaceOf(sb.Name)))
			return len(pods.Items) == 0
		}, 2*time.Minute, poll).Should(BeTrue(), "the pods of %s are gone", sb.Name)
	})
}

// waitReady waits until the sandbox is Ready for its current generation.
func waitReady(g Gomega, name string) *sandboxv1.LearningSandbox {
	return cluster.WaitReady(g, k8sClient, name, readyTimeout, poll)
}

// update changes a sandbox's spec, as an instructor's kubectl edit would.
func update(g Gomega, name string, change func(*sandboxv1.LearningSandbox)) {
	g.Eventually(func() error {
		sb := &sandboxv1.LearningSandbox{}
		if err := k8sClient.Get(context.Background(), client.ObjectKey{Name: name}, sb); err != nil {
			return err
		}
		change(sb)
		return k8sClient.Update(context.Background(), sb)
	}, 30*time.Second, poll).Should(Succeed())
}
