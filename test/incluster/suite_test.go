//go:build incluster

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

// Package incluster runs the operator as a platform team does: its images
// built by hack/images.sh, imported into the real node, installed with the
// Helm chart, failed over, upgraded and uninstalled. `make test-incluster`
// runs it on a local cluster of its own, with one real node.
package incluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/test/cluster"
)

const (
	clusterName  = "learning-sandbox-incluster"
	release      = "learning-sandbox-operator"
	operatorNS   = "learning-sandbox-operator-system"
	operatorRepo = "localhost/learning-sandbox/learning-sandbox-operator"
	readyTimeout = 5 * time.Minute
	poll         = time.Second
)

var (
	root      string // the repository
	workDir   string
	helmBin   string
	k8sClient client.Client
	local     *cluster.Cluster
	scheme    = runtime.NewScheme()
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(sandboxv1.AddToScheme(scheme))
	utilruntime.Must(apiextensionsv1.AddToScheme(scheme))
	var err error
	if root, err = filepath.Abs(filepath.Join("..", "..")); err != nil {
		return fail(err)
	}
	if workDir = os.Getenv("INCLUSTER_WORKDIR"); workDir == "" {
		return fail(fmt.Errorf("INCLUSTER_WORKDIR is not set: run the suite with make test-incluster"))
	}
	if helmBin = os.Getenv("HELM"); helmBin == "" {
		return fail(fmt.Errorf("HELM is not set: run the suite with make test-incluster"))
	}
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return fail(err)
	}
	if workDir, err = filepath.Abs(workDir); err != nil {
		return fail(err)
	}
	local = &cluster.Cluster{Root: root, Name: clusterName, WorkDir: workDir,
		Kubeconfig: filepath.Join(workDir, "kubeconfig"), RealNode: true, NoInstall: true}
	defer func() {
		if os.Getenv("E2E_KEEP") != "" {
			fmt.Printf("E2E_KEEP is set: the cluster keeps running; export KUBECONFIG=%s\n", local.Kubeconfig)
			return
		}
		_ = local.Down()
	}()
	if err := local.Up(1); err != nil {
		return fail(err)
	}
	if err := local.BuildPlugin(); err != nil {
		return fail(err)
	}
	// Two builds of the operator's image, for the install and the upgrade.
	for _, version := range []string{"e2e-1", "e2e-2"} {
		if err := buildImage(version); err != nil {
			return fail(err)
		}
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", local.Kubeconfig)
	if err != nil {
		return fail(err)
	}
	if k8sClient, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return fail(err)
	}
	code := m.Run()
	if code != 0 {
		if out, err := local.Run("logs", "-n", operatorNS, "-l", "app.kubernetes.io/instance="+release,
			"--tail", "40", "--prefix"); err == nil {
			fmt.Printf("The operator's logs:\n%s\n", out)
		}
	}
	return code
}

// buildImage builds the operator's image as `make images` does, tagged
// version, and imports it into the real node.
func buildImage(version string) error {
	dir := filepath.Join(workDir, "images", version)
	if err := cluster.Sh(root, "bash", "hack/images.sh", dir, "linux/amd64", version,
		operatorRepo+":"+version, "localhost/learning-sandbox/sample-app:"+version); err != nil {
		return err
	}
	return cluster.Sh(root, "bash", "hack/realnode/node.sh", "import", workDir, filepath.Join(dir, "operator.tar"))
}

// helm runs the helm CLI against the cluster and returns what it printed.
func helm(args ...string) (string, error) {
	cmd := exec.Command(helmBin, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "KUBECONFIG="+local.Kubeconfig)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// imageValues are the chart values that point the operator at the images the
// real node has (hack/realnode/images.env), and at the API server as learners
// outside the cluster reach it.
func imageValues() ([]string, error) {
	flags, err := cluster.Output(root, "bash", "hack/realnode/node.sh", "operator-flags")
	if err != nil {
		return nil, err
	}
	values := map[string]string{
		"--postgres-image": "operator.images.postgres", "--redis-image": "operator.images.redis",
		"--nginx-image": "operator.images.nginx", "--app-image": "operator.images.app",
	}
	var out []string
	for flag := range strings.FieldsSeq(flags) {
		name, value, _ := strings.Cut(flag, "=")
		if name == "--workspace-image" {
			// LANGUAGE=IMAGE: a key of the chart's language map.
			lang, image, _ := strings.Cut(value, "=")
			out = append(out, "--set", "operator.workspace.languages."+lang+"="+image)
			continue
		}
		key, ok := values[name]
		if !ok {
			return nil, fmt.Errorf("node.sh operator-flags printed %s, which has no chart value here", name)
		}
		out = append(out, "--set", key+"="+value)
	}
	server, err := local.Run("config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}")
	if err != nil {
		return nil, err
	}
	return append(out, "--set", "operator.learnerAPIServer="+strings.TrimSpace(server)), nil
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "in-cluster setup:", err)
	return 1
}
