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

package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/learning-sandbox/learning-sandbox-operator/test/cluster"
)

var (
	update = flag.Bool("update", false, "rewrite the golden files in testdata/")

	env       *envtest.Environment
	k8sClient client.Client
	adminKube string // the kubeconfig file of a cluster admin
	// now is the clock of every command the tests run: the time the suite
	// starts, since the API server stamps creation times by the real clock
	// (a fixed date makes "extend" find sandboxes created after it).
	now = time.Now().UTC().Truncate(time.Second)
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	logf.SetLogger(logr.Discard())
	dirs, _ := filepath.Glob(filepath.Join("..", "..", "bin", "k8s", "*"))
	env = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		// make test starts this package's control plane beside the others'.
		ControlPlaneStartTimeout: 2 * time.Minute,
	}
	if len(dirs) > 0 {
		// Without KUBEBUILDER_ASSETS (plain `go test`), what `make controlplane` built.
		env.BinaryAssetsDirectory = dirs[len(dirs)-1]
	}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting envtest (is KUBEBUILDER_ASSETS set? `make test` sets it): %v\n", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	if k8sClient, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "kubectl-sandbox-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	if adminKube, err = writeKubeconfig(dir, "admin", []string{"system:masters"}, ""); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// The learner ClusterRole, as make install installs it, and the stage catalog.
	paths, _ := filepath.Glob(filepath.Join("..", "..", "config", "stages", "*.yaml"))
	paths = append(paths, filepath.Join("..", "..", "config", "learner", "learner_role.yaml"))
	for _, path := range paths {
		if filepath.Base(path) == "kustomization.yaml" {
			continue
		}
		if err := cluster.CreateFromFile(context.Background(), k8sClient, path); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			return 1
		}
	}
	return m.Run()
}

// writeKubeconfig writes a kubeconfig file for a user of the test cluster,
// whose context is in the namespace.
func writeKubeconfig(dir, user string, groups []string, namespace string) (string, error) {
	u, err := env.AddUser(envtest.User{Name: user, Groups: groups}, nil)
	if err != nil {
		return "", err
	}
	raw, err := u.KubeConfig()
	if err != nil {
		return "", err
	}
	cfg, err := clientcmd.Load(raw)
	if err != nil {
		return "", err
	}
	for _, c := range cfg.Contexts {
		c.Namespace = namespace
	}
	path := filepath.Join(dir, strings.NewReplacer("@", "-", ":", "-").Replace(user)+".kubeconfig")
	return path, clientcmd.WriteToFile(*cfg, path)
}

// learnerKubeconfig is the kubeconfig of a learner whose context is their namespace.
func learnerKubeconfig(t *testing.T, user, namespace string) string {
	t.Helper()
	path, err := writeKubeconfig(t.TempDir(), user, nil, namespace)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// result is what a command printed and returned.
type result struct {
	out, errOut string
	err         error
}

// syncBuffer is a buffer that a running command writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// requestLog records the API requests of a command, as "VERB path".
type requestLog struct {
	mu       sync.Mutex
	requests []string
}

func (l *requestLog) wrap(cfg *rest.Config) *rest.Config {
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
			l.mu.Lock()
			l.requests = append(l.requests, req.Method+" "+req.URL.Path)
			l.mu.Unlock()
			return rt.RoundTrip(req)
		})
	})
	return cfg
}

// count is how many requests had the method and a path with the suffix.
func (l *requestLog) count(method, suffix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.requests {
		m, path, _ := strings.Cut(r, " ")
		if m == method && strings.HasSuffix(path, suffix) {
			n++
		}
	}
	return n
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// command runs `kubectl sandbox ARGS` as the kubeconfig's user would.
type command struct {
	kubeconfig string
	stdin      string
	log        *requestLog
	out        *syncBuffer
}

func (c command) run(ctx context.Context, args ...string) result {
	out, errOut := c.out, &syncBuffer{}
	if out == nil {
		out = &syncBuffer{}
	}
	o := NewOptions(genericiooptions.IOStreams{In: strings.NewReader(c.stdin), Out: out, ErrOut: errOut})
	o.Now = func() time.Time { return now }
	o.PollInterval = 20 * time.Millisecond
	if c.log != nil {
		o.ConfigFlags.WrapConfigFn = c.log.wrap
	}
	cmd := NewCommand(o)
	cmd.SetArgs(append([]string{"--kubeconfig", c.kubeconfig}, args...))
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	err := cmd.ExecuteContext(ctx)
	return result{out: out.String(), errOut: errOut.String(), err: err}
}

// admin runs a command as a cluster admin.
func admin(args ...string) result {
	return command{kubeconfig: adminKube}.run(context.Background(), args...)
}

// golden compares output with testdata/<name>.golden; -update rewrites it.
func golden(g Gomega, name, got string) {
	path := filepath.Join("testdata", name+".golden")
	if *update {
		g.Expect(os.WriteFile(path, []byte(got), 0o644)).To(Succeed())
	}
	want, err := os.ReadFile(path)
	g.Expect(err).NotTo(HaveOccurred(), "no golden file: run go test ./internal/cli -update")
	g.Expect(got).To(Equal(string(want)), "output changed: review, then go test ./internal/cli -update")
}
