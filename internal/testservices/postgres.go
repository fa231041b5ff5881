package testservices

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"

	"github.com/jackc/pgx/v5"
)

// AppRole is the unprivileged role the app connects as, like in a sandbox.
const AppRole = "app"

// Postgres is a throw-away PostgreSQL server.
type Postgres struct {
	proc          *process
	dir           string
	port          int
	adminPassword string
	// AppPassword is the password of AppRole, exposed so tests can check
	// that it never reaches a log.
	AppPassword string
	databases   atomic.Int64
}

// StartPostgres initialises a cluster in a temporary directory and starts
// it on a free loopback port, tuned for speed over durability.
func StartPostgres() (*Postgres, error) {
	binDir, err := findPostgres()
	if err != nil {
		return nil, err
	}
	cred, err := unprivileged()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "sampleapp-pg-")
	if err != nil {
		return nil, fmt.Errorf("create postgres dir: %w", err)
	}
	p := &Postgres{dir: dir, adminPassword: "admin-pw-" + randomSuffix(), AppPassword: "app-pw-" + randomSuffix()}
	if err := p.start(binDir, cred); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := p.createAppRole(); err != nil {
		_ = p.Stop()
		return nil, err
	}
	return p, nil
}

func (p *Postgres) start(binDir string, cred *syscall.Credential) error {
	pwFile := filepath.Join(p.dir, "pwfile")
	if err := os.WriteFile(pwFile, []byte(p.adminPassword+"\n"), 0o600); err != nil {
		return fmt.Errorf("write pwfile: %w", err)
	}
	if cred != nil {
		if err := chownTree(p.dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return err
		}
	}
	data := filepath.Join(p.dir, "data")
	if err := runAs(cred, p.dir, filepath.Join(binDir, "initdb"), "-D", data, "-U", "postgres",
		"--pwfile="+pwFile, "--auth=scram-sha-256", "--encoding=UTF8", "--no-locale", "--no-sync"); err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	p.port = port
	cmd := exec.Command(filepath.Join(binDir, "postgres"), "-D", data, "-p", strconv.Itoa(port),
		"-k", p.dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=200")
	cmd.Dir = p.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	proc, err := startProcess("postgres", cmd, filepath.Join(p.dir, "postgres.log"))
	if err != nil {
		return err
	}
	p.proc = proc
	return proc.waitReady(func() error { return p.ping(p.adminURL("postgres")) })
}

func (p *Postgres) ping(dsn string) error {
	ctx, cancel := context.WithTimeout(context.Background(), pollTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

func (p *Postgres) createAppRole() error {
	// The role's password is a literal because utility statements take no
	// parameters; it is generated, so quoting is not a concern.
	return p.adminExec(fmt.Sprintf(`CREATE ROLE %s LOGIN PASSWORD '%s'`, AppRole, p.AppPassword))
}

func (p *Postgres) adminExec(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.adminURL("postgres"))
	if err != nil {
		return fmt.Errorf("connect as admin: %w", err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// CreateDatabase creates an empty database owned by AppRole and returns the
// URL the app should use for it.
func (p *Postgres) CreateDatabase() (string, error) {
	name := "sampleapp_" + strconv.FormatInt(p.databases.Add(1), 10)
	if err := p.adminExec(fmt.Sprintf(`CREATE DATABASE %s OWNER %s`, name, AppRole)); err != nil {
		return "", err
	}
	return p.url(AppRole, p.AppPassword, name), nil
}

// adminURL is the superuser's URL for database.
func (p *Postgres) adminURL(database string) string {
	return p.url("postgres", p.adminPassword, database)
}

func (p *Postgres) url(user, password, database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(user, password),
		Host:     "127.0.0.1:" + strconv.Itoa(p.port),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// ClosedURL is a DATABASE_URL on which nothing listens, for tests of an
// unreachable database.
func ClosedURL() (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("postgres://app:pw@127.0.0.1:%d/app?sslmode=disable", port), nil
}

// Stop shuts the server down (fast shutdown) and removes its files.
func (p *Postgres) Stop() error {
	var err error
	if p.proc != nil {
		err = p.proc.stop(syscall.SIGINT)
	}
	return joinRemove(err, p.dir)
}

func chownTree(root string, uid, gid int) error {
	return filepath.Walk(root, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, gid)
	})
}
