package testservices

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// pollTimeout bounds one readiness probe of a starting server.
const pollTimeout = 2 * time.Second

// Redis is a throw-away Redis server with a password and no persistence.
type Redis struct {
	proc *process
	dir  string
	port int
	// Password is exposed so tests can check it never reaches a log.
	Password string
}

// StartRedis starts redis-server on a free loopback port.
func StartRedis() (*Redis, error) {
	bin, err := findRedis()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "sampleapp-redis-")
	if err != nil {
		return nil, fmt.Errorf("create redis dir: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	r := &Redis{dir: dir, port: port, Password: "redis-pw-" + randomSuffix()}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--requirepass", r.Password,
		"--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no", "--loglevel", "warning")
	r.proc, err = startProcess("redis-server", cmd, filepath.Join(dir, "redis.log"))
	if err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	if err := r.proc.waitReady(r.ping); err != nil {
		return nil, errors.Join(err, r.Stop())
	}
	return r, nil
}

func (r *Redis) ping() error {
	c := r.Client()
	defer func() { _ = c.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), pollTimeout)
	defer cancel()
	return c.Ping(ctx).Err()
}

// URL is the REDIS_URL of this server.
func (r *Redis) URL() string {
	u := url.URL{Scheme: "redis", User: url.UserPassword("", r.Password),
		Host: "127.0.0.1:" + strconv.Itoa(r.port), Path: "/0"}
	return u.String()
}

// Client returns a new client of this server; the caller closes it.
func (r *Redis) Client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(r.port), Password: r.Password})
}

// Kill ends the server abruptly, as a crash or an evicted pod would.
func (r *Redis) Kill() error {
	return r.proc.stop(syscall.SIGKILL)
}

// Stop shuts the server down and removes its files; it is safe after Kill.
func (r *Redis) Stop() error {
	return joinRemove(r.proc.stop(syscall.SIGTERM), r.dir)
}

func joinRemove(err error, dir string) error {
	return errors.Join(err, os.RemoveAll(dir))
}

// randomSuffix makes per-run passwords, so a leak check cannot pass by
// accident and no fixed password is ever listening.
func randomSuffix() string {
	return rand.Text()[:16]
}
