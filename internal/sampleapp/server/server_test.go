package server

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
)

func newBareServer() *Server {
	return New(Deps{Registry: prometheus.NewRegistry(), Log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
}

// TestOpenAPIMatchesRoutes keeps the embedded document and the route table
// describing the same operations.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	g := NewWithT(t)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	g.Expect(json.Unmarshal(openAPI, &doc)).To(Succeed())
	g.Expect(doc.OpenAPI).To(HavePrefix("3."))

	var documented []string
	for path, item := range doc.Paths {
		for method := range item {
			if method != "parameters" {
				documented = append(documented, strings.ToUpper(method)+" "+path)
			}
		}
	}
	routes := newBareServer().routes()
	served := make([]string, 0, len(routes))
	for _, rt := range routes {
		served = append(served, rt.pattern)
	}
	slices.Sort(documented)
	slices.Sort(served)
	g.Expect(documented).To(Equal(served))
}

func TestUnmatchedRequestsGetJSONErrors(t *testing.T) {
	tests := []struct {
		method, path string
		wantStatus   int
		wantAllow    string
	}{
		{http.MethodGet, "/nope", http.StatusNotFound, ""},
		{http.MethodPut, "/api/v1/todos", http.StatusMethodNotAllowed, "GET, HEAD, POST"},
		{http.MethodGet, "/api/v1/auth/login", http.StatusMethodNotAllowed, "POST"},
		{http.MethodPost, "/api/v1/todos/x/y", http.StatusNotFound, ""},
	}
	s := newBareServer()
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			g := NewWithT(t)
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			g.Expect(rec.Code).To(Equal(tc.wantStatus))
			g.Expect(rec.Header().Get("Content-Type")).To(Equal("application/json"))
			g.Expect(rec.Header().Get("Allow")).To(Equal(tc.wantAllow))
			var body errorBody
			g.Expect(json.Unmarshal(rec.Body.Bytes(), &body)).To(Succeed())
			g.Expect(body.Error).NotTo(BeEmpty())
		})
	}
}

func TestDecodeJSON(t *testing.T) {
	type target struct {
		Title string `json:"title"`
		Done  bool   `json:"done"`
	}
	tests := []struct {
		name        string
		contentType string
		body        string
		wantStatus  int
		wantMsg     string
	}{
		{"valid", "application/json", `{"title":"a","done":true}`, 0, ""},
		{"valid with charset", "application/json; charset=utf-8", `{"title":"a"}`, 0, ""},
		{"no content type", "", `{"title":"a"}`, 415, "Content-Type"},
		{"form", "application/x-www-form-urlencoded", `title=a`, 415, "Content-Type"},
		{"empty", "application/json", ``, 400, "must not be empty"},
		{"malformed", "application/json", `{"title":`, 400, "not valid JSON"},
		{"syntax", "application/json", `{title}`, 400, "not valid JSON"},
		{"unknown field", "application/json", `{"title":"a","owner":"b"}`, 400, `unknown field "owner"`},
		{"wrong type", "application/json", `{"done":"yes"}`, 400, `field "done" must be of type bool`},
		{"array", "application/json", `[1]`, 400, "must be a JSON object"},
		{"two objects", "application/json", `{"title":"a"}{"title":"b"}`, 400, "single JSON object"},
		{"oversized", "application/json", `{"title":"` + strings.Repeat("a", maxBodyBytes) + `"}`, 413,
			"at most 16384 bytes"},
		{"oversized trailer", "application/json", `{"title":"a"}` + strings.Repeat(" ", maxBodyBytes), 413,
			"at most 16384 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			var dst target
			err := decodeJSON(httptest.NewRecorder(), r, &dst)
			if tc.wantStatus == 0 {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(dst.Title).To(Equal("a"))
				return
			}
			var ae *apiError
			g.Expect(err).To(BeAssignableToTypeOf(ae))
			ae = err.(*apiError)
			g.Expect(ae.status).To(Equal(tc.wantStatus))
			g.Expect(ae.msg).To(ContainSubstring(tc.wantMsg))
		})
	}
}

func TestValidEmail(t *testing.T) {
	tests := map[string]bool{
		"ada@example.com":                  true,
		"ada.lovelace+x@example.org":       true,
		"ada@localhost":                    false,
		"ada":                              false,
		"":                                 false,
		"Ada <ada@example.com>":            false,
		"ada@@example.com":                 false,
		strings.Repeat("a", 250) + "@x.io": false,
	}
	for email, want := range tests {
		t.Run(email, func(t *testing.T) {
			NewWithT(t).Expect(validEmail(email)).To(Equal(want))
		})
	}
}

func TestValidTitle(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{"plain", "buy milk", "buy milk", false},
		{"trimmed", "  buy milk\n", "buy milk", false},
		{"200 runes", strings.Repeat("é", 200), strings.Repeat("é", 200), false},
		{"201 runes", strings.Repeat("é", 201), "", true},
		{"blank", "   ", "", true},
		{"NUL", "a\x00b", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := validTitle(tc.in)
			if tc.wantErr {
				g.Expect(err).To(HaveOccurred())
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func TestPageSize(t *testing.T) {
	tests := []struct {
		query   string
		want    int
		wantErr bool
	}{
		{"", 20, false},
		{"limit=1", 1, false},
		{"limit=100", 100, false},
		{"limit=1000", 100, false},
		{"limit=0", 0, true},
		{"limit=-3", 0, true},
		{"limit=ten", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			g := NewWithT(t)
			got, err := pageSize(httptest.NewRequest(http.MethodGet, "/api/v1/todos?"+tc.query, nil))
			if tc.wantErr {
				g.Expect(err).To(HaveOccurred())
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func TestStartingHandler(t *testing.T) {
	tests := []struct {
		path       string
		wantStatus int
		wantBody   string
	}{
		{"/healthz", http.StatusOK, `"ok"`},
		{"/readyz", http.StatusServiceUnavailable, `"missing":["postgres"]`},
		{"/api/v1/todos", http.StatusServiceUnavailable, "waiting for postgres"},
	}
	h := Starting("postgres")
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			g := NewWithT(t)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
			g.Expect(rec.Code).To(Equal(tc.wantStatus))
			g.Expect(rec.Body.String()).To(ContainSubstring(tc.wantBody))
		})
	}
}
