// Package testservices starts real PostgreSQL and Redis servers for the
// sample app's integration tests and benchmark: on loopback, on free ports,
// in temporary directories, stopped and removed at the end.
package testservices

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/onsi/gomega"
)

// installHint tells whoever sees a missing binary how to get it.
const installHint = "run `bash hack/test-services.sh` from the repository root " +
	"(it installs Debian's postgresql and redis-server packages)"

const (
	startTimeout = 60 * time.Second
	stopTimeout  = 15 * time.Second
	pollInterval = 50 * time.Millisecond
)

// PostgresBinDirEnv overrides where initdb and postgres are looked up.
const PostgresBinDirEnv = "SAMPLEAPP_PG_BINDIR"

// findPostgres returns the directory holding initdb and postgres: the
// override, then PATH, then the newest /usr/lib/postgresql/*/bin, where
// Debian installs them without putting them on PATH.
func findPostgres() (string, error) {
	if dir := os.Getenv(PostgresBinDirEnv); dir != "" {
		return dir, requireExecutables(dir, "initdb", "postgres")
	}
	if initdb, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("postgres"); err == nil {
			return filepath.Dir(initdb), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return majorVersion(b) - majorVersion(a) })
	for _, dir := range dirs {
		if requireExecutables(dir, "initdb", "postgres") == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("PostgreSQL server binaries (initdb, postgres) not found in $%s, PATH or "+
		"/usr/lib/postgresql/*/bin: %s", PostgresBinDirEnv, installHint)
}

// majorVersion reads N from /usr/lib/postgresql/N/bin.
func majorVersion(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func requireExecutables(dir string, names ...string) error {
	for _, name := range names {
		path := filepath.Join(dir, name)
		if st, err := os.Stat(path); err != nil || st.Mode()&0o111 == 0 {
			return fmt.Errorf("%s is not an executable: %s", path, installHint)
		}
	}
	return nil
}

func findRedis() (string, error) {
	if path, err := exec.LookPath("redis-server"); err == nil {
		return path, nil
	}
	return "", fmt.Errorf("redis-server not found in PATH: %s", installHint)
}

// freePort asks the kernel for a free loopback port. Another process could
// take it before the server binds it; the server then fails to start and
// the error says so.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// unprivileged returns the credentials to run PostgreSQL with when the tests
// run as root, which initdb and postgres refuse; nil when not root.
func unprivileged() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, uidErr := strconv.ParseUint(u.Uid, 10, 32)
		gid, gidErr := strconv.ParseUint(u.Gid, 10, 32)
		if uidErr != nil || gidErr != nil {
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
	}
	return nil, errors.New("running as root, but neither user postgres nor nobody exists to run PostgreSQL as")
}

// process is a server started by the tests, with its output in a log file.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
}

// startProcess starts cmd in its own process group, killed if the test
// binary dies, and watches for its exit.
func startProcess(name string, cmd *exec.Cmd, logPath string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", name, err)
	}
	defer func() { _ = logFile.Close() }()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// waitReady polls probe until it succeeds, failing early with the server's
// log if the process exits.
func (p *process) waitReady(probe func() error) error {
	var failure string
	g := gomega.NewGomega(func(message string, _ ...int) { failure = message })
	ok := g.Eventually(func() error {
		select {
		case <-p.exited:
			return gomega.StopTrying(p.name + " exited during start-up")
		default:
			return probe()
		}
	}).WithTimeout(startTimeout).WithPolling(pollInterval).Should(gomega.Succeed())
	if !ok {
		return fmt.Errorf("%s did not become ready: %s\n--- %s log ---\n%s", p.name, failure, p.name, p.logTail())
	}
	return nil
}

// stop sends sig and waits for the exit, killing the whole process group if
// the server does not stop in time.
func (p *process) stop(sig syscall.Signal) error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-p.exited:
		return nil
	case <-timer.C:
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
		return fmt.Errorf("%s did not stop within %s and was killed", p.name, stopTimeout)
	}
}

func (p *process) logTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	return string(bytes.Join(lines[max(0, len(lines)-40):], []byte("\n")))
}

// runAs runs a short command, returning its output in the error on failure.
func runAs(cred *syscall.Credential, dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}
