// Package server is the sample app's HTTP API: routing, JSON encoding,
// authentication, health probes and metrics.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/auth"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/cache"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/ratelimit"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/store"
)

// Store is the persistence the handlers need; *store.Store implements it.
type Store interface {
	CreateUser(ctx context.Context, email, passwordHash string) (store.User, error)
	UserByEmail(ctx context.Context, email string) (store.User, error)
	CreateTodo(ctx context.Context, userID, title string) (store.Todo, error)
	GetTodo(ctx context.Context, userID, id string) (store.Todo, error)
	UpdateTodo(ctx context.Context, userID, id string, patch store.TodoPatch) (store.Todo, error)
	DeleteTodo(ctx context.Context, userID, id string) error
	ListTodos(ctx context.Context, userID string, limit int, after *store.Cursor) (store.Page, error)
}

// Deps are the server's collaborators, built and owned by the caller.
type Deps struct {
	Store     Store
	Cache     cache.FirstPages
	Limiter   ratelimit.Limiter
	Passwords *auth.Passwords
	Tokens    *auth.Tokens
	// Checks are probed by /readyz; Disabled names optional dependencies
	// that are not configured, which /readyz reports without failing.
	Checks   []Check
	Disabled []string
	// Registry receives the server's metrics and is what /metrics serves.
	Registry *prometheus.Registry
	Log      *slog.Logger
}

// Server routes and serves the API. It implements http.Handler.
type Server struct {
	deps    Deps
	log     *slog.Logger
	metrics *Metrics
	mux     *http.ServeMux
}

// route is one entry of the API; the OpenAPI test checks the document
// against this table.
type route struct {
	pattern string
	handler http.Handler
}

// New builds a Server and registers its metrics with deps.Registry.
func New(deps Deps) *Server {
	s := &Server{deps: deps, log: deps.Log, metrics: NewMetrics(deps.Registry), mux: http.NewServeMux()}
	for _, rt := range s.routes() {
		s.mux.Handle(rt.pattern, rt.handler)
	}
	return s
}

func (s *Server) routes() []route {
	return []route{
		{"POST /api/v1/auth/register", s.handle(s.register)},
		{"POST /api/v1/auth/login", s.handle(s.login)},
		{"GET /api/v1/todos", s.authed(s.listTodos)},
		{"POST /api/v1/todos", s.authed(s.createTodo)},
		{"GET /api/v1/todos/{id}", s.authed(s.getTodo)},
		{"PATCH /api/v1/todos/{id}", s.authed(s.updateTodo)},
		{"DELETE /api/v1/todos/{id}", s.authed(s.deleteTodo)},
		{"GET /healthz", http.HandlerFunc(healthz)},
		{"GET /readyz", http.HandlerFunc(s.readyz)},
		{"GET /metrics", promhttp.HandlerFor(s.deps.Registry, promhttp.HandlerOpts{})},
		{"GET /openapi.json", http.HandlerFunc(serveOpenAPI)},
	}
}

// ServeHTTP resolves the route first, so that metrics and logs carry the
// route pattern (bounded cardinality) and so that the mux's plain-text 404
// and 405 answers are replaced by JSON ones.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	h, pattern := s.mux.Handler(r)
	defer s.observe(rec, r, pattern, start)
	if pattern == "" {
		serveUnmatched(rec, r, h)
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// observe records metrics and the access log of one request, and turns a
// panic into a 500 so one bad request cannot take the process down.
func (s *Server) observe(rec *recorder, r *http.Request, pattern string, start time.Time) {
	if p := recover(); p != nil {
		if p == http.ErrAbortHandler {
			panic(p)
		}
		s.log.ErrorContext(r.Context(), "handler panicked", "panic", p, "method", r.Method, "route", pattern)
		if rec.status == 0 {
			writeError(rec, http.StatusInternalServerError, "internal server error")
		}
	}
	status := rec.statusCode()
	_, routePath, found := strings.Cut(pattern, " ")
	if !found {
		routePath = "unmatched"
	}
	elapsed := time.Since(start)
	code, method := strconv.Itoa(status), methodLabel(r.Method)
	s.metrics.requests.WithLabelValues(routePath, method, code).Inc()
	s.metrics.duration.WithLabelValues(routePath, method, code).Observe(elapsed.Seconds())

	level := slog.LevelInfo
	if routePath == "/healthz" || routePath == "/readyz" || routePath == "/metrics" {
		level = slog.LevelDebug // probes and scrapes would drown the log
	}
	s.log.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path, "route", routePath,
		"status", status, "bytes", rec.bytes, "duration_ms", float64(elapsed.Microseconds())/1000)
}

// serveUnmatched answers a request no route matches: 405 with the Allow
// header the mux computed when the path exists for other methods, else 404.
func serveUnmatched(w http.ResponseWriter, r *http.Request, muxHandler http.Handler) {
	probe := &recorder{ResponseWriter: discardWriter{header: http.Header{}}}
	muxHandler.ServeHTTP(probe, r)
	if probe.statusCode() == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.Header().Get("Allow"))
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	writeError(w, http.StatusNotFound, "not found")
}

// handle adapts a handler that returns an error; see fail.
func (s *Server) handle(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

// fail answers an apiError as it says, and anything else with a 500 whose
// cause goes to the log only.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if ae, ok := errors.AsType[*apiError](err); ok {
		writeError(w, ae.status, ae.msg)
		return
	}
	s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	writeError(w, http.StatusInternalServerError, "internal server error")
}

// recorder remembers the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) statusCode() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// discardWriter is a ResponseWriter that keeps only headers.
type discardWriter struct{ header http.Header }

func (d discardWriter) Header() http.Header         { return d.header }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}
