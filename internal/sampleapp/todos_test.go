package sampleapp_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

func TestTodoCRUD(t *testing.T) {
	g := NewWithT(t)
	app := newApp(t, sharedRedis)
	_, token := app.newUser("crud")

	created := app.createTodo(token, "  write the operator  ")
	g.Expect(created.Title).To(Equal("write the operator"), "titles are trimmed")
	g.Expect(created.Done).To(BeFalse())
	g.Expect(created.CreatedAt).NotTo(BeZero())
	path := "/api/v1/todos/" + created.ID

	got := app.do(http.MethodGet, path, token, nil)
	g.Expect(got.status).To(Equal(http.StatusOK))
	var fetched todo
	got.decode(t, &fetched)
	g.Expect(fetched).To(Equal(created))

	tests := []struct {
		name       string
		body       any
		wantStatus int
		wantTitle  string
		wantDone   bool
	}{
		{"rename", map[string]any{"title": "ship it"}, http.StatusOK, "ship it", false},
		{"complete", map[string]any{"done": true}, http.StatusOK, "ship it", true},
		{"both", map[string]any{"title": "ship it again", "done": false}, http.StatusOK, "ship it again", false},
		{"nothing to change", map[string]any{}, http.StatusBadRequest, "", false},
		{"empty title", map[string]any{"title": " "}, http.StatusBadRequest, "", false},
		{"title of 201 characters", map[string]any{"title": strings.Repeat("x", 201)}, http.StatusBadRequest, "",
			false},
		{"done not a boolean", `{"done":"yes"}`, http.StatusBadRequest, "", false},
		{"unknown field", `{"priority":1}`, http.StatusBadRequest, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			resp := app.do(http.MethodPatch, path, token, tc.body)
			g.Expect(resp.status).To(Equal(tc.wantStatus), string(resp.body))
			if tc.wantStatus != http.StatusOK {
				g.Expect(resp.errorMessage(t)).NotTo(BeEmpty())
				return
			}
			var updated todo
			resp.decode(t, &updated)
			g.Expect(updated.Title).To(Equal(tc.wantTitle))
			g.Expect(updated.Done).To(Equal(tc.wantDone))
			g.Expect(updated.UpdatedAt).To(BeTemporally(">", created.UpdatedAt))
			g.Expect(updated.CreatedAt).To(Equal(created.CreatedAt))
		})
	}

	g.Expect(app.do(http.MethodDelete, path, token, nil).status).To(Equal(http.StatusNoContent))
	g.Expect(app.do(http.MethodGet, path, token, nil).status).To(Equal(http.StatusNotFound))
	g.Expect(app.do(http.MethodDelete, path, token, nil).status).To(Equal(http.StatusNotFound))
	g.Expect(app.do(http.MethodPatch, path, token, map[string]any{"done": true}).status).
		To(Equal(http.StatusNotFound))
}

func TestCreateTodoValidation(t *testing.T) {
	app := newApp(t, nil)
	_, token := app.newUser("create")
	tests := []struct {
		name       string
		body       any
		wantStatus int
	}{
		{"200 characters", map[string]any{"title": strings.Repeat("é", 200)}, http.StatusCreated},
		{"201 characters", map[string]any{"title": strings.Repeat("é", 201)}, http.StatusBadRequest},
		{"missing title", map[string]any{}, http.StatusBadRequest},
		{"title not a string", `{"title":5}`, http.StatusBadRequest},
		{"NUL in title", map[string]any{"title": "a\x00b"}, http.StatusBadRequest},
		{"two objects", `{"title":"a"}{"title":"b"}`, http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := app.do(http.MethodPost, "/api/v1/todos", token, tc.body)
			NewWithT(t).Expect(resp.status).To(Equal(tc.wantStatus), string(resp.body))
		})
	}
}

func TestTodoIDs(t *testing.T) {
	app := newApp(t, nil)
	_, token := app.newUser("ids")
	tests := map[string]int{
		"/api/v1/todos/not-a-uuid":                           http.StatusNotFound,
		"/api/v1/todos/00000000-0000-0000-0000-000000000000": http.StatusNotFound,
	}
	for path, want := range tests {
		t.Run(path, func(t *testing.T) {
			g := NewWithT(t)
			resp := app.do(http.MethodGet, path, token, nil)
			g.Expect(resp.status).To(Equal(want))
			g.Expect(resp.errorMessage(t)).To(Equal("todo not found"))
		})
	}
}

func TestUsersSeeOnlyTheirOwnTodos(t *testing.T) {
	g := NewWithT(t)
	app := newApp(t, sharedRedis)
	_, alice := app.newUser("alice")
	_, bob := app.newUser("bob")
	secret := app.createTodo(alice, "alice's secret")
	path := "/api/v1/todos/" + secret.ID

	tests := []struct {
		method string
		body   any
	}{
		{http.MethodGet, nil},
		{http.MethodPatch, map[string]any{"title": "bob was here"}},
		{http.MethodDelete, nil},
	}
	for _, tc := range tests {
		t.Run(tc.method, func(t *testing.T) {
			resp := app.do(tc.method, path, bob, tc.body)
			NewWithT(t).Expect(resp.status).To(Equal(http.StatusNotFound), string(resp.body))
		})
	}

	bobsList, _ := app.list(bob, "")
	g.Expect(bobsList.Items).To(BeEmpty())
	alicesList, _ := app.list(alice, "")
	g.Expect(alicesList.Items).To(ConsistOf(secret))
}

func TestPagination(t *testing.T) {
	g := NewWithT(t)
	app := newApp(t, sharedRedis)
	_, token := app.newUser("pages")
	const total = 25
	created := make([]string, 0, total)
	for i := range total {
		created = append(created, app.createTodo(token, fmt.Sprintf("todo %02d", i)).Title)
	}
	newestFirst := make([]string, total)
	for i, title := range created {
		newestFirst[total-1-i] = title
	}

	first, _ := app.list(token, "?limit=10")
	g.Expect(titles(first.Items)).To(Equal(newestFirst[:10]))
	g.Expect(first.NextCursor).NotTo(BeEmpty())

	// Todos added while a client pages are newer than its cursor, so they
	// neither shift nor repeat the pages that follow.
	app.createTodo(token, "added while paging")
	second, _ := app.list(token, "?limit=10&cursor="+first.NextCursor)
	g.Expect(titles(second.Items)).To(Equal(newestFirst[10:20]))
	third, _ := app.list(token, "?limit=10&cursor="+second.NextCursor)
	g.Expect(titles(third.Items)).To(Equal(newestFirst[20:]))
	g.Expect(third.NextCursor).To(BeEmpty())

	all, _ := app.list(token, "")
	g.Expect(all.Items).To(HaveLen(20), "the default page size is 20")
	capped, _ := app.list(token, "?limit=1000")
	g.Expect(capped.Items).To(HaveLen(total+1), "limits above 100 are capped, not refused")
	g.Expect(capped.NextCursor).To(BeEmpty())

	tests := map[string]int{
		"?limit=0":             http.StatusBadRequest,
		"?limit=abc":           http.StatusBadRequest,
		"?cursor=bm90LWEtY3Vy": http.StatusBadRequest,
		"?cursor=%25%25":       http.StatusBadRequest,
	}
	for query, want := range tests {
		t.Run(query, func(t *testing.T) {
			NewWithT(t).Expect(app.do(http.MethodGet, "/api/v1/todos"+query, token, nil).status).To(Equal(want))
		})
	}
}

func TestPaginationOfAnEmptyList(t *testing.T) {
	g := NewWithT(t)
	app := newApp(t, sharedRedis)
	_, token := app.newUser("empty")
	resp := app.do(http.MethodGet, "/api/v1/todos", token, nil)
	g.Expect(resp.status).To(Equal(http.StatusOK))
	g.Expect(string(resp.body)).To(MatchJSON(`{"items":[]}`))
}
