package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/store"
)

const (
	defaultPageSize = 20
	maxPageSize     = 100
	maxTitleChars   = 200
	// invalidateTimeout bounds the cache invalidation after a write, which
	// no longer follows the request's context.
	invalidateTimeout = 2 * time.Second
)

type titleBody struct {
	Title string `json:"title"`
}

type patchBody struct {
	Title *string `json:"title"`
	Done  *bool   `json:"done"`
}

type pageBody struct {
	Items      []store.Todo `json:"items"`
	NextCursor string       `json:"nextCursor,omitempty"`
}

// validTitle trims the title and checks it is 1..200 characters of text
// PostgreSQL can store (no NUL).
func validTitle(title string) (string, error) {
	title = strings.TrimSpace(title)
	switch {
	case title == "":
		return "", errorf(http.StatusBadRequest, "title is required")
	case utf8.RuneCountInString(title) > maxTitleChars:
		return "", errorf(http.StatusBadRequest, "title must be at most %d characters", maxTitleChars)
	case strings.ContainsRune(title, 0):
		return "", errorf(http.StatusBadRequest, "title must not contain NUL characters")
	}
	return title, nil
}

// pageSize reads the limit parameter: default 20, values above 100 capped.
func pageSize(r *http.Request) (int, error) {
	raw := r.URL.Query().Get("limit")
	if raw == "" {
		return defaultPageSize, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 {
		return 0, errorf(http.StatusBadRequest, "limit must be a positive integer (at most %d)", maxPageSize)
	}
	return min(n, maxPageSize), nil
}

// notFound maps the store's ErrNotFound, which also covers other users'
// todos, to a 404; other errors pass through as 500s.
func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, "todo not found")
	}
	return err
}

func (s *Server) listTodos(w http.ResponseWriter, r *http.Request, userID string) error {
	limit, err := pageSize(r)
	if err != nil {
		return err
	}
	raw := r.URL.Query().Get("cursor")
	if raw == "" {
		return s.listFirstPage(w, r, userID, limit)
	}
	after, err := store.DecodeCursor(raw)
	if err != nil {
		return errorf(http.StatusBadRequest, "invalid cursor")
	}
	body, err := s.readPage(r, userID, limit, &after)
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, body)
	return nil
}

// listFirstPage serves the first page from the cache when it can. A cache
// failure is logged and served from PostgreSQL: Redis is an optimisation.
func (s *Server) listFirstPage(w http.ResponseWriter, r *http.Request, userID string, limit int) error {
	ctx := r.Context()
	cached, slot, err := s.deps.Cache.Lookup(ctx, userID, limit)
	switch {
	case err != nil:
		s.metrics.cacheLookups.WithLabelValues("error").Inc()
		s.log.WarnContext(ctx, "todo cache lookup failed", "error", err)
	case cached != nil:
		s.metrics.cacheLookups.WithLabelValues("hit").Inc()
		w.Header().Set("X-Cache", "hit")
		writeRaw(w, http.StatusOK, cached)
		return nil
	default:
		s.metrics.cacheLookups.WithLabelValues("miss").Inc()
	}
	body, err := s.readPage(r, userID, limit, nil)
	if err != nil {
		return err
	}
	if err := s.deps.Cache.Fill(ctx, slot, body); err != nil {
		s.log.WarnContext(ctx, "todo cache fill failed", "error", err)
	}
	w.Header().Set("X-Cache", "miss")
	writeRaw(w, http.StatusOK, body)
	return nil
}

// readPage reads a page from PostgreSQL and encodes it.
func (s *Server) readPage(r *http.Request, userID string, limit int, after *store.Cursor) ([]byte, error) {
	page, err := s.deps.Store.ListTodos(r.Context(), userID, limit, after)
	if err != nil {
		return nil, err
	}
	out := pageBody{Items: page.Items}
	if out.Items == nil {
		out.Items = []store.Todo{}
	}
	if page.Next != nil {
		out.NextCursor = page.Next.Encode()
	}
	body, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return append(body, '\n'), nil
}

func (s *Server) createTodo(w http.ResponseWriter, r *http.Request, userID string) error {
	var in titleBody
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	title, err := validTitle(in.Title)
	if err != nil {
		return err
	}
	todo, err := s.deps.Store.CreateTodo(r.Context(), userID, title)
	if err != nil {
		return err
	}
	s.invalidate(r, userID)
	w.Header().Set("Location", "/api/v1/todos/"+todo.ID)
	writeJSON(w, http.StatusCreated, todo)
	return nil
}

func (s *Server) getTodo(w http.ResponseWriter, r *http.Request, userID string) error {
	todo, err := s.deps.Store.GetTodo(r.Context(), userID, r.PathValue("id"))
	if err != nil {
		return notFound(err)
	}
	writeJSON(w, http.StatusOK, todo)
	return nil
}

func (s *Server) updateTodo(w http.ResponseWriter, r *http.Request, userID string) error {
	var in patchBody
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Title == nil && in.Done == nil {
		return errorf(http.StatusBadRequest, "set at least one of title and done")
	}
	if in.Title != nil {
		title, err := validTitle(*in.Title)
		if err != nil {
			return err
		}
		in.Title = &title
	}
	todo, err := s.deps.Store.UpdateTodo(r.Context(), userID, r.PathValue("id"),
		store.TodoPatch{Title: in.Title, Done: in.Done})
	if err != nil {
		return notFound(err)
	}
	s.invalidate(r, userID)
	writeJSON(w, http.StatusOK, todo)
	return nil
}

func (s *Server) deleteTodo(w http.ResponseWriter, r *http.Request, userID string) error {
	if err := s.deps.Store.DeleteTodo(r.Context(), userID, r.PathValue("id")); err != nil {
		return notFound(err)
	}
	s.invalidate(r, userID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// invalidate drops userID's cached pages after a committed write. A failure
// is logged, not returned: the write succeeded, and the pages expire soon.
// It runs even if the client has gone, since the write is already committed.
func (s *Server) invalidate(r *http.Request, userID string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), invalidateTimeout)
	defer cancel()
	if err := s.deps.Cache.Invalidate(ctx, userID); err != nil {
		s.log.WarnContext(r.Context(), "todo cache invalidation failed", "error", err)
	}
}
