// Package sampleapp wires the sample app together: it connects to
// PostgreSQL and Redis, applies migrations, and serves the HTTP API until
// its context ends. The operator runs it in every learner's sandbox.
package sampleapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/auth"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/cache"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/config"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/ratelimit"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/server"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/store"
)

const (
	// shutdownTimeout leaves in-flight requests time to finish within
	// Kubernetes' default 30 s termination grace period.
	shutdownTimeout = 20 * time.Second
	// pingTimeout bounds one connection attempt to PostgreSQL at start-up.
	pingTimeout = 5 * time.Second
	// Start-up retries back off from firstRetry to maxRetry: in a fresh
	// sandbox PostgreSQL often starts after the app.
	firstRetry = 250 * time.Millisecond
	maxRetry   = 5 * time.Second
	// Redis timeouts are short: Redis is an optimisation, and a request
	// should fall back to PostgreSQL quickly when Redis does not answer.
	redisDialTimeout = time.Second
	redisIOTimeout   = 500 * time.Millisecond
)

// App is an initialised instance: connected, migrated, ready to serve.
type App struct {
	handler http.Handler
	pool    *pgxpool.Pool
	redis   *redis.Client // nil when REDIS_URL is unset
}

// Open connects to PostgreSQL, waiting for it to accept connections, applies
// pending migrations, and builds the HTTP handler. Redis is connected
// lazily: its absence degrades the app but never stops it from starting.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	poolCfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		// pgx's message may quote the URL; config.Load has already
		// validated it, so this is not expected to happen.
		return nil, errors.New("parse DATABASE_URL: invalid connection URL")
	}
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, fmt.Errorf("create postgres pool: %w", err)
	}
	a := &App{pool: pool}
	if err := a.migrate(ctx, log); err != nil {
		a.Close()
		return nil, err
	}
	if cfg.RedisEnabled() {
		a.redis, err = newRedisClient(cfg.RedisURL)
		if err != nil {
			a.Close()
			return nil, err
		}
	}
	a.handler = a.newServer(cfg, log)
	return a, nil
}

func (a *App) migrate(ctx context.Context, log *slog.Logger) error {
	if err := waitForPostgres(ctx, a.pool, log); err != nil {
		return err
	}
	applied, err := store.Migrate(ctx, a.pool)
	if err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	log.InfoContext(ctx, "database schema up to date", "applied", applied)
	return nil
}

func newRedisClient(rawURL string) (*redis.Client, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parse REDIS_URL: %w", err)
	}
	opts.DialTimeout = redisDialTimeout
	opts.ReadTimeout = redisIOTimeout
	opts.WriteTimeout = redisIOTimeout
	// One retry replaces a pooled connection that a Redis restart broke; more
	// retries, and repeated dials, would only delay the fallback to
	// PostgreSQL while Redis is down.
	opts.MaxRetries = 1
	opts.DialerRetries = 1
	// A single sandbox Redis sends no maintenance notifications; asking for
	// them costs a command on every new connection.
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return redis.NewClient(opts), nil
}

func (a *App) newServer(cfg config.Config, log *slog.Logger) *server.Server {
	st := store.New(a.pool)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	deps := server.Deps{
		Store:     st,
		Cache:     cache.None{},
		Limiter:   ratelimit.NewMemory(ratelimit.DefaultLoginPolicy, time.Now),
		Passwords: auth.NewPasswords(cfg.BcryptCost),
		Tokens:    auth.NewTokens(cfg.JWTSecret, cfg.TokenTTL, time.Now),
		Checks:    []server.Check{{Name: "postgres", Ping: st.Ping}},
		Disabled:  []string{"redis"},
		Registry:  reg,
		Log:       log,
	}
	if a.redis != nil {
		deps.Cache = cache.NewRedis(a.redis)
		deps.Limiter = &ratelimit.Fallback{
			Primary:   ratelimit.NewRedis(a.redis, ratelimit.DefaultLoginPolicy),
			Secondary: deps.Limiter,
			Log:       log,
		}
		deps.Checks = append(deps.Checks, server.Check{Name: "redis", Ping: a.pingRedis})
		deps.Disabled = nil
	}
	return server.New(deps)
}

func (a *App) pingRedis(ctx context.Context) error {
	if err := a.redis.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis: %w", err)
	}
	return nil
}

// RouteRedisLogs sends go-redis's own messages (dial failures and the like)
// to log as JSON instead of plain text on stderr. go-redis's logger is
// process-wide, so only main calls this, once.
func RouteRedisLogs(log *slog.Logger) {
	redis.SetLogger(redisLogger{log: log})
}

type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...))
}

// Handler is the app's HTTP API.
func (a *App) Handler() http.Handler { return a.handler }

// Close releases the connections to PostgreSQL and Redis.
func (a *App) Close() {
	if a.redis != nil {
		_ = a.redis.Close()
	}
	a.pool.Close()
}

// waitForPostgres retries until PostgreSQL answers or ctx ends.
func waitForPostgres(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	delay := firstRetry
	for attempt := 1; ; attempt++ {
		pingCtx, cancel := context.WithTimeout(ctx, pingTimeout)
		err := pool.Ping(pingCtx)
		cancel()
		if err == nil {
			return nil
		}
		log.WarnContext(ctx, "waiting for postgres", "attempt", attempt, "retry_in", delay.String(), "error", err)
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("wait for postgres: %w", ctx.Err())
		case <-timer.C:
		}
		delay = min(2*delay, maxRetry)
	}
}

// Run listens on cfg.Port and serves until ctx ends; see Serve.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.Port))
	if err != nil {
		return fmt.Errorf("listen on port %d: %w", cfg.Port, err)
	}
	return Serve(ctx, ln, cfg, log)
}

// Serve serves on ln until ctx ends, then shuts down gracefully: it stops
// accepting connections and waits for in-flight requests. It answers
// probes from the start, while it waits for PostgreSQL, so the kubelet sees
// a live but unready pod rather than restarting it. Ending ctx during
// start-up is a clean stop, not an error.
func Serve(ctx context.Context, ln net.Listener, cfg config.Config, log *slog.Logger) error {
	var handler swapHandler
	handler.set(server.Starting("postgres"))
	srv := &http.Server{
		Handler:           &handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.InfoContext(ctx, "sample app starting", "addr", ln.Addr().String(),
		"database", cfg.RedactedDatabaseURL(), "redis", cfg.RedactedRedisURL())

	app, err := Open(ctx, cfg, log)
	if err != nil {
		shutdownErr := shutdown(srv, log)
		if ctx.Err() != nil {
			return shutdownErr
		}
		return errors.Join(err, shutdownErr)
	}
	defer app.Close()
	handler.set(app.Handler())
	log.InfoContext(ctx, "sample app ready", "redis_enabled", cfg.RedisEnabled())

	select {
	case <-ctx.Done():
		return shutdown(srv, log)
	case err := <-serveErr:
		return fmt.Errorf("serve http: %w", err)
	}
}

func shutdown(srv *http.Server, log *slog.Logger) error {
	log.Info("sample app shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return errors.Join(fmt.Errorf("shut down http server: %w", err), srv.Close())
	}
	log.Info("sample app stopped")
	return nil
}

// swapHandler serves through whichever handler was set last, so the
// start-up handler can be replaced by the API without restarting the server.
type swapHandler struct {
	current atomic.Pointer[http.Handler]
}

func (s *swapHandler) set(h http.Handler) { s.current.Store(&h) }

func (s *swapHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*s.current.Load()).ServeHTTP(w, r)
}
