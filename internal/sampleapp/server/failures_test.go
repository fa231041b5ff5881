package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/auth"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/cache"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/store"
)

// brokenStore fails in the ways a real database can: an error, and (as a
// stand-in for a bug) a panic. Methods it does not override are not called.
type brokenStore struct {
	Store
}

var errDatabaseDown = errors.New("connection refused by 127.0.0.1:5432 user=app")

func (brokenStore) GetTodo(context.Context, string, string) (store.Todo, error) {
	return store.Todo{}, errDatabaseDown
}

func (brokenStore) ListTodos(context.Context, string, int, *store.Cursor) (store.Page, error) {
	panic("bug in the store")
}

// TestUnexpectedFailuresAre500s checks that internal errors and panics are
// answered with a generic 500 and logged, without details reaching clients.
func TestUnexpectedFailuresAre500s(t *testing.T) {
	var logs strings.Builder
	tokens := auth.NewTokens([]byte(strings.Repeat("k", 32)), time.Hour, time.Now)
	s := New(Deps{
		Store:    brokenStore{},
		Cache:    cache.None{},
		Tokens:   tokens,
		Registry: prometheus.NewRegistry(),
		Log:      slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	token, _, err := tokens.Issue("user-1")
	NewWithT(t).Expect(err).NotTo(HaveOccurred())

	tests := []struct {
		name, path, wantLog string
	}{
		{"error", "/api/v1/todos/0f8fad5b-d9cb-469f-a165-70867728950e", "connection refused"},
		{"panic", "/api/v1/todos", "bug in the store"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			req := httptest.NewRequest(http.MethodGet, tc.path, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			g.Expect(rec.Code).To(Equal(http.StatusInternalServerError))
			g.Expect(rec.Body.String()).To(MatchJSON(`{"error":"internal server error"}`))
			g.Expect(logs.String()).To(ContainSubstring(tc.wantLog))
		})
	}
}
