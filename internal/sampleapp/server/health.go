package server

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"
)

// checkTimeout bounds the readiness checks so that /readyz answers within
// the kubelet's default probe timeout of one second.
const checkTimeout = 900 * time.Millisecond

// Check is one dependency /readyz probes.
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Check states reported by /readyz.
const (
	stateOK          = "ok"
	stateUnreachable = "unreachable"
	stateDisabled    = "disabled"
)

// readyBody is /readyz's answer; Error and Missing are set only on 503.
type readyBody struct {
	Status  string            `json:"status"`
	Checks  map[string]string `json:"checks"`
	Missing []string          `json:"missing,omitempty"`
	Error   string            `json:"error,omitempty"`
}

// healthz reports liveness only; it checks no dependency, so an outage of
// PostgreSQL or Redis never gets the app restarted.
func healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz probes every dependency in parallel and answers 503 naming the
// unreachable ones, so an operator reading the probe sees what is missing.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
	defer cancel()
	errs := make([]error, len(s.deps.Checks))
	var wg sync.WaitGroup
	for i, c := range s.deps.Checks {
		wg.Go(func() { errs[i] = c.Ping(ctx) })
	}
	wg.Wait()

	body := readyBody{Status: "ready", Checks: make(map[string]string, len(errs)+len(s.deps.Disabled))}
	for _, name := range s.deps.Disabled {
		body.Checks[name] = stateDisabled
	}
	for i, c := range s.deps.Checks {
		if errs[i] != nil {
			s.log.WarnContext(ctx, "readiness check failed", "dependency", c.Name, "error", errs[i])
			body.Checks[c.Name] = stateUnreachable
			body.Missing = append(body.Missing, c.Name)
			continue
		}
		body.Checks[c.Name] = stateOK
	}
	if len(body.Missing) > 0 {
		body.Status = "unavailable"
		body.Error = "not ready: " + strings.Join(body.Missing, ", ") + " unreachable"
		writeJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// Starting answers while the app waits for PostgreSQL at start-up: alive,
// not ready, and 503 for the API, so probes and clients see why.
func Starting(waitingFor string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			healthz(w, r)
		case "/readyz":
			writeJSON(w, http.StatusServiceUnavailable, readyBody{
				Status:  "starting",
				Checks:  map[string]string{waitingFor: stateUnreachable},
				Missing: []string{waitingFor},
				Error:   "not ready: starting, waiting for " + waitingFor,
			})
		default:
			writeError(w, http.StatusServiceUnavailable, "starting, waiting for "+waitingFor)
		}
	})
}
