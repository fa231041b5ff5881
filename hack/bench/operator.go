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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// diagSource is compiled into the manager, through a build overlay and never
// into the repository, when the bench is asked for profiles: it serves pprof
// and turns on client-go's rate-limiter and request latency metrics.
const diagSource = `package main

import (
	"net/http"
	_ "net/http/pprof"
	"os"

	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

func init() {
	metrics.RegisterRESTClientMetrics(metrics.MetricRateLimiterLatency, metrics.MetricRequestLatency)
	if addr := os.Getenv("BENCH_PPROF_ADDR"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
}
`

// buildManager builds cmd/main.go as the e2e suite does; with diag, with the
// diagnostic overlay added to package main.
func buildManager(ctx context.Context, root, tmp string, diag bool) (string, error) {
	bin := filepath.Join(tmp, "manager")
	args := []string{"build", "-o", bin}
	files := []string{"cmd/main.go"}
	if diag {
		overlay, virtual, err := writeOverlay(root, tmp)
		if err != nil {
			return "", err
		}
		args = append(args, "-overlay", overlay)
		files = append(files, virtual)
	}
	logf("Building the manager (%s)", strings.Join(files, " "))
	cmd := exec.CommandContext(ctx, "go", append(args, files...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the manager: %w\n%s", err, out)
	}
	return bin, nil
}

// writeOverlay writes diagSource and a go build overlay that places it in cmd/,
// and returns the overlay file and the file's path in the repository.
func writeOverlay(root, tmp string) (overlay, virtual string, err error) {
	src := filepath.Join(tmp, "zz_bench_diag.go")
	if err := os.WriteFile(src, []byte(diagSource), 0o644); err != nil {
		return "", "", fmt.Errorf("writing the diagnostic source: %w", err)
	}
	virtual = "cmd/zz_bench_diag.go"
	raw, err := json.Marshal(map[string]map[string]string{"Replace": {filepath.Join(root, virtual): src}})
	if err != nil {
		return "", "", fmt.Errorf("encoding the overlay: %w", err)
	}
	overlay = filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(overlay, raw, 0o644); err != nil {
		return "", "", fmt.Errorf("writing the overlay: %w", err)
	}
	return overlay, virtual, nil
}

// operator is the manager running as a subprocess, which the bench stops and starts again.
type operator struct {
	binary, kubeconfig, logDir string
	flags                      []string
	metricsAddr, pprofAddr     string
	http                       *http.Client

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	logPath string
	starts  int
	started time.Time
}

// newOperator prepares the manager to run against the cluster, with the bench's flags.
func newOperator(e *env, c *cluster) (*operator, error) {
	metricsAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	op := &operator{
		binary: e.manager, kubeconfig: c.kubeconfig, logDir: c.dir, metricsAddr: metricsAddr,
		// Uncompressed: gzip would cost the operator CPU on each of the sampler's scrapes.
		http: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableCompression: true}},
		flags: []string{
			"--metrics-bind-address=" + metricsAddr, "--metrics-secure=false", "--health-probe-bind-address=0",
			"--concurrency=" + strconv.Itoa(e.cfg.concurrency),
			"--kube-api-qps=" + strconv.FormatFloat(e.cfg.qps, 'f', -1, 64),
			"--kube-api-burst=" + strconv.Itoa(e.cfg.burst),
		},
	}
	if e.cfg.pprofDir != "" {
		if op.pprofAddr, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	return op, nil
}

// freeAddr is a free loopback address to listen on.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String(), nil
}

// start runs the manager, logging to a file of its own per start.
func (o *operator) start() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.starts++
	o.logPath = filepath.Join(o.logDir, fmt.Sprintf("manager-%d.log", o.starts))
	logFile, err := os.Create(o.logPath)
	if err != nil {
		return fmt.Errorf("creating the manager's log: %w", err)
	}
	cmd := exec.Command(o.binary, append([]string{"--kubeconfig", o.kubeconfig}, o.flags...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if o.pprofAddr != "" {
		cmd.Env = append(os.Environ(), "BENCH_PPROF_ADDR="+o.pprofAddr)
	}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("starting the manager: %w", err)
	}
	o.cmd, o.exited, o.started = cmd, make(chan struct{}), time.Now()
	exited := o.exited
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(exited)
	}()
	logf("Started the operator (pid %d, log %s)", cmd.Process.Pid, o.logPath)
	return nil
}

// stop sends SIGTERM and waits for the manager to exit; after 30 s, it kills it.
func (o *operator) stop() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cmd == nil {
		return
	}
	_ = o.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-o.exited:
	case <-time.After(30 * time.Second):
		_ = o.cmd.Process.Kill()
		<-o.exited
	}
	o.cmd = nil
}

// pid is the manager's process id, or 0 when it is not running.
func (o *operator) pid() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cmd == nil {
		return 0
	}
	return o.cmd.Process.Pid
}

// running reports whether the manager runs, and the log of its current start.
func (o *operator) running() (bool, string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cmd == nil {
		return false, o.logPath
	}
	select {
	case <-o.exited:
		return false, o.logPath
	default:
		return true, o.logPath
	}
}

// waitSynced waits until every controller of the manager has synced its
// caches and started its workers, as its log says, and returns their names.
func (o *operator) waitSynced(ctx context.Context, timeout time.Duration) ([]string, error) {
	var names []string
	err := poll(ctx, 200*time.Millisecond, timeout, "the operator's caches to sync", func() (bool, error) {
		up, logPath := o.running()
		if !up {
			return false, fmt.Errorf("the operator exited; its log %s ends:\n%s", logPath, tail(logPath, 30))
		}
		var done bool
		names, done = syncedControllers(logPath)
		return done, nil
	})
	return names, err
}

// syncedControllers reads a manager's log: the controllers that have started
// their workers, and whether every controller that started has.
func syncedControllers(logPath string) ([]string, bool) {
	f, err := os.Open(logPath)
	if err != nil {
		return nil, false
	}
	defer func() { _ = f.Close() }()
	starting, workers := map[string]bool{}, map[string]bool{}
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for s.Scan() {
		var line struct {
			Msg        string `json:"msg"`
			Controller string `json:"controller"`
		}
		if json.Unmarshal(s.Bytes(), &line) != nil || line.Controller == "" {
			continue
		}
		switch line.Msg {
		case "Starting Controller":
			starting[line.Controller] = true
		case "Starting workers":
			workers[line.Controller] = true
		}
	}
	names := make([]string, 0, len(workers))
	for name := range workers {
		names = append(names, name)
	}
	done := len(workers) > 0 && len(workers) == len(starting)
	return names, done
}

// tail is the last lines of a file.
func tail(path string, lines int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// scrape reads the manager's Prometheus metrics.
func (o *operator) scrape(ctx context.Context) (metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+o.metricsAddr+"/metrics", nil)
	if err != nil {
		return nil, fmt.Errorf("scraping the operator's metrics: %w", err)
	}
	resp, err := o.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scraping the operator's metrics: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scraping the operator's metrics: %s", resp.Status)
	}
	return parseMetrics(resp.Body)
}

// saveProfile fetches a pprof endpoint of the diagnostic build into a file.
func (o *operator) saveProfile(ctx context.Context, path, file string) error {
	if o.pprofAddr == "" {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+o.pprofAddr+path, nil)
	if err != nil {
		return fmt.Errorf("fetching %s: %w", path, err)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Minute}).Do(req)
	if err != nil {
		return fmt.Errorf("fetching %s: %w", path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetching %s: %s", path, resp.Status)
	}
	out, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	_, err = io.Copy(out, resp.Body)
	return errors.Join(err, out.Close())
}

// poll calls done every interval until it reports true or fails, or the timeout passes.
func poll(ctx context.Context, interval, timeout time.Duration, what string, done func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-ticker.C:
		}
	}
}

// pause waits for d, or until ctx ends: a measurement window, not a synchronisation.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
