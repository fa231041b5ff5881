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
package controller

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/capacity"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/metrics"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
	"github.com/learning-sandbox/learning-sandbox-operator/test/cluster"
)

// The suite runs one real kube-apiserver and etcd (envtest) and one manager
// with the sandbox controller, as the operator runs it, for every test.
var (
	k8sClient  client.Client // the test's own client: uncached, not counted
	restConfig *rest.Config  // the admin config of k8sClient, for clients that impersonate a learner
	testClock  *clocktesting.FakeClock
	writes     = &writeRecorder{}
	// sandboxReconciler is the sandbox controller the manager runs.
	sandboxReconciler *LearningSandboxReconciler
	settings          = stack.DefaultSettings()
	metricsURL        string // the manager's metrics endpoint, served over HTTP
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true), zap.Level(zapLevel())))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(sandboxv1.AddToScheme(scheme))

	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		// Without KUBEBUILDER_ASSETS (plain `go test`), the binaries that `make controlplane` built.
		BinaryAssetsDirectory: builtAssets(),
	}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting envtest (is KUBEBUILDER_ASSETS set? `make test` sets it): %v\n", err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stopping envtest: %v\n", err)
		}
	}()

	restConfig = cfg
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintf(os.Stderr, "creating the test client: %v\n", err)
		return 1
	}

	// The operator runs with the permissions it ships with and no more: the
	// ClusterRole that `make manifests` generates from its RBAC markers, bound
	// to its ServiceAccount, which it impersonates. The learner ClusterRole it
	// binds is installed as `make install` does.
	if err := installRBAC(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "installing RBAC: %v\n", err)
		return 1
	}
	operatorCfg := rest.CopyConfig(cfg)
	operatorCfg.Impersonate = rest.ImpersonationConfig{
		UserName: operatorUser,
		Groups:   []string{"system:serviceaccounts", "system:authenticated"},
	}
	// The operator's requests go through a recorder, so that tests can count its writes.
	operatorCfg.WrapTransport = writes.wrap
	metricsAddr, err := freeAddress()
	if err != nil {
		fmt.Fprintf(os.Stderr, "finding a port for the metrics endpoint: %v\n", err)
		return 1
	}
	metricsURL = "http://" + metricsAddr + "/metrics"
	mgr, err := ctrl.NewManager(operatorCfg, ctrl.Options{
		Scheme:  scheme,
		Cache:   CacheOptions(settings),
		Metrics: metricsserver.Options{BindAddress: metricsAddr},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "creating the manager: %v\n", err)
		return 1
	}
	if err := metrics.Register(mgr.GetCache(), mgr.Elected(), clock.RealClock{}); err != nil {
		fmt.Fprintf(os.Stderr, "registering the operator's metrics: %v\n", err)
		return 1
	}
	testClock = clocktesting.NewFakeClock(time.Now())
	sandboxReconciler = &LearningSandboxReconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Scheme:    mgr.GetScheme(),
		Recorder:  mgr.GetEventRecorder("learning-sandbox-operator"),
		Settings:  settings,
		Access:    LearnerAccess{Server: cfg.Host, CAData: cfg.CAData, TokenLifetime: time.Hour},
		Clock:     testClock,
		Checker:   fakeChecks,
	}
	if err := sandboxReconciler.SetupWithManager(mgr, Options{MaxConcurrentReconciles: 4}); err != nil {
		fmt.Fprintf(os.Stderr, "setting up the controller: %v\n", err)
		return 1
	}
	if err := (&LearningCohortReconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Scheme:    mgr.GetScheme(),
		Recorder:  mgr.GetEventRecorder("learning-sandbox-operator"),
		Settings:  settings,
		LeadTime:  cohortLeadTime,
		Clock:     testClock,
		// Counts written as they move, so that tests need not wait.
		ProgressInterval: 50 * time.Millisecond,
		// Measured at every reconcile, so that a node a test adds counts at once.
		Capacity: &capacity.Source{Reader: mgr.GetAPIReader(), Clock: clock.RealClock{}},
	}).SetupWithManager(mgr, Options{MaxConcurrentReconciles: 2}); err != nil {
		fmt.Fprintf(os.Stderr, "setting up the cohort controller: %v\n", err)
		return 1
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	return m.Run()
}

// operatorUser is the operator's ServiceAccount as `make deploy` creates it.
const operatorUser = "system:serviceaccount:learning-sandbox-operator-system:learning-sandbox-operator-controller-manager"

// installRBAC creates what `make install` and `make deploy` would: the
// operator's generated ClusterRole, bound to operatorUser, and config/learner
// (the learner ClusterRole and the admission policies that fence learners in).
func installRBAC(ctx context.Context) error {
	for _, path := range []string{
		filepath.Join("..", "..", "config", "rbac", "role.yaml"),
		filepath.Join("..", "..", "config", "learner", "learner_role.yaml"),
		filepath.Join("..", "..", "config", "learner", "no_long_lived_tokens.yaml"),
		filepath.Join("..", "..", "config", "learner", "no_external_ips.yaml"),
	} {
		if err := cluster.CreateFromFile(ctx, k8sClient, path); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return k8sClient.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "learning-sandbox-operator-manager"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "manager-role"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: operatorUser}},
	})
}

// builtAssets is the directory of the envtest binaries under bin/k8s, or "".
// freeAddress is a loopback address with a port that nothing listens on.
func freeAddress() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

func builtAssets() string {
	dirs, _ := filepath.Glob(filepath.Join("..", "..", "bin", "k8s", "*"))
	if len(dirs) == 0 {
		return ""
	}
	return dirs[len(dirs)-1]
}

// zapLevel keeps the operator's logs to errors unless TEST_VERBOSE is set.
func zapLevel() zapcore.Level {
	if os.Getenv("TEST_VERBOSE") != "" {
		return zapcore.DebugLevel
	}
	return zapcore.ErrorLevel
}

// writeRecorder records every request of the operator that is not a read.
type writeRecorder struct {
	mu       sync.Mutex
	requests []string
}

func (w *writeRecorder) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		if req.Method != http.MethodGet {
			w.mu.Lock()
			w.requests = append(w.requests, req.Method+" "+req.URL.Path)
			w.mu.Unlock()
		}
		return rt.RoundTrip(req)
	})
}

// about returns the recorded writes whose path mentions any of the words,
// such as a sandbox's name and its namespace.
func (w *writeRecorder) about(words ...string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, r := range w.requests {
		for _, word := range words {
			if strings.Contains(r, "/"+word+"/") || strings.HasSuffix(r, "/"+word) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
