package sampleapp_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/testservices"
)

// statusOf returns a func for Eventually that GETs url and yields the status,
// or 0 while the server does not answer.
func statusOf(url string) func() int {
	return func() int {
		resp, err := http.Get(url)
		if err != nil {
			return 0
		}
		defer func() { _ = resp.Body.Close() }()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
}

// serve runs sampleapp.Serve on a loopback listener and returns its base
// URL, a cancel func standing in for SIGTERM, and the channel Serve's
// result arrives on.
func serve(t *testing.T, dbURL string) (string, context.CancelFunc, chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	go func() { done <- sampleapp.Serve(ctx, ln, testConfig(dbURL, sharedRedis), log) }()
	t.Cleanup(cancel)
	return "http://" + ln.Addr().String(), cancel, done
}

func TestServeBecomesReadyAndShutsDownGracefully(t *testing.T) {
	g := NewWithT(t)
	dbURL, err := pg.CreateDatabase()
	g.Expect(err).NotTo(HaveOccurred())
	base, stop, done := serve(t, dbURL)

	g.Eventually(statusOf(base + "/readyz")).Should(Equal(http.StatusOK))
	stop()
	g.Eventually(done).Should(Receive(BeNil()))
	_, err = http.Get(base + "/healthz")
	g.Expect(err).To(HaveOccurred(), "the listener is closed")
}

// TestServeWaitsForPostgres starts the app before its database exists, as
// happens in a fresh sandbox: alive, not ready, and stoppable.
func TestServeWaitsForPostgres(t *testing.T) {
	g := NewWithT(t)
	closed, err := testservices.ClosedURL()
	g.Expect(err).NotTo(HaveOccurred())
	base, stop, done := serve(t, closed)

	g.Eventually(statusOf(base + "/healthz")).Should(Equal(http.StatusOK))
	resp, err := http.Get(base + "/readyz")
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	g.Expect(resp.StatusCode).To(Equal(http.StatusServiceUnavailable))
	var body readiness
	g.Expect(json.NewDecoder(resp.Body).Decode(&body)).To(Succeed())
	g.Expect(body.Missing).To(Equal([]string{"postgres"}))
	g.Expect(statusOf(base + "/api/v1/todos")()).To(Equal(http.StatusServiceUnavailable))

	stop()
	g.Eventually(done).Should(Receive(BeNil()))
}

// buildBinary compiles cmd/sample-app into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sample-app")
	out, err := exec.Command("go", "build", "-o", bin,
		"github.com/learning-sandbox/learning-sandbox-operator/cmd/sample-app").CombinedOutput()
	NewWithT(t).Expect(err).NotTo(HaveOccurred(), string(out))
	return bin
}

// startBinary runs the binary with exactly env; its output goes to logs.
func startBinary(t *testing.T, bin string, env []string, logs *syncBuffer) (*exec.Cmd, chan struct{}) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logs, logs
	NewWithT(t).Expect(cmd.Start()).To(Succeed())
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	return cmd, exited
}

func freePort(g Gomega) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// TestBinary runs the real command the way the operator does: configured
// from the environment only, stopped with SIGTERM, logging JSON without
// secrets.
func TestBinary(t *testing.T) {
	g := NewWithT(t)
	bin := buildBinary(t)
	dbURL, err := pg.CreateDatabase()
	g.Expect(err).NotTo(HaveOccurred())
	port := freePort(g)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	logs := &syncBuffer{}
	cmd, exited := startBinary(t, bin, []string{
		"DATABASE_URL=" + dbURL,
		"REDIS_URL=" + sharedRedis.URL(),
		"PORT=" + strconv.Itoa(port),
		"JWT_SECRET=" + jwtSecret,
	}, logs)

	g.Eventually(statusOf(base + "/readyz")).Should(Equal(http.StatusOK))
	app := &testApp{t: t, url: base, client: http.DefaultClient, logs: logs}
	email := uniqueEmail("binary")
	app.register(email, "binary-password")
	app.login(email, "binary-password")
	app.do(http.MethodPost, "/api/v1/auth/login", "", credentials{email, "wrong-binary-password"})

	g.Expect(cmd.Process.Signal(syscall.SIGTERM)).To(Succeed())
	g.Eventually(exited).Should(BeClosed())
	g.Expect(cmd.ProcessState.ExitCode()).To(Equal(0))

	out := logs.String()
	g.Expect(out).To(ContainSubstring(`"msg":"sample app stopped"`))
	g.Expect(out).To(ContainSubstring("127.0.0.1"), "the redacted URLs are logged")
	for line := range strings.Lines(out) {
		g.Expect(json.Valid([]byte(line))).To(BeTrue(), "every log line is JSON: %s", line)
	}
	for _, secret := range append(app.secrets, jwtSecret, pg.AppPassword, sharedRedis.Password,
		"wrong-binary-password") {
		g.Expect(out).NotTo(ContainSubstring(secret))
	}
}

func TestBinaryRefusesIncompleteConfiguration(t *testing.T) {
	g := NewWithT(t)
	bin := buildBinary(t)
	logs := &syncBuffer{}
	cmd, exited := startBinary(t, bin, []string{
		"DATABASE_URL=postgres://app:db-secret-password@127.0.0.1:1/app",
		"REDIS_URL=redis://:redis-secret-password@127.0.0.1:1/0",
	}, logs)
	g.Eventually(exited).Should(BeClosed())
	g.Expect(cmd.ProcessState.ExitCode()).To(Equal(1))
	g.Expect(logs.String()).To(ContainSubstring("JWT_SECRET is required"))
	g.Expect(logs.String()).NotTo(Or(ContainSubstring("db-secret-password"), ContainSubstring("redis-secret-password")))
}
