package sampleapp_test

import (
	"net/http"
	"testing"

	. "github.com/onsi/gomega"
)

func TestMetrics(t *testing.T) {
	g := NewWithT(t)
	app := newApp(t, sharedRedis)
	_, token := app.newUser("metrics")
	app.list(token, "")
	app.list(token, "")
	app.do(http.MethodGet, "/no-such-page", "", nil)

	resp := app.do(http.MethodGet, "/metrics", "", nil)
	g.Expect(resp.status).To(Equal(http.StatusOK))
	g.Expect(string(resp.body)).To(And(
		ContainSubstring(`sampleapp_http_requests_total{code="201",method="POST",route="/api/v1/auth/register"} 1`),
		ContainSubstring(`sampleapp_http_requests_total{code="200",method="GET",route="/api/v1/todos"} 2`),
		ContainSubstring(`sampleapp_http_requests_total{code="404",method="GET",route="unmatched"} 1`),
		ContainSubstring(`sampleapp_http_request_duration_seconds_bucket{code="200",method="GET",`+
			`route="/api/v1/todos",le="0.005"}`),
		ContainSubstring(`sampleapp_todo_cache_lookups_total{result="hit"} 1`),
		ContainSubstring(`sampleapp_todo_cache_lookups_total{result="miss"} 1`),
		ContainSubstring(`go_goroutines`),
	))
}

func TestHTTPContractDetails(t *testing.T) {
	app := newApp(t, nil)
	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantHeader map[string]string
	}{
		{"healthz", http.MethodGet, "/healthz", http.StatusOK, nil},
		{"openapi", http.MethodGet, "/openapi.json", http.StatusOK,
			map[string]string{"Content-Type": "application/json"}},
		{"unknown path", http.MethodGet, "/api/v2/todos", http.StatusNotFound,
			map[string]string{"Content-Type": "application/json"}},
		{"wrong method", http.MethodPut, "/api/v1/todos", http.StatusMethodNotAllowed,
			map[string]string{"Allow": "GET, HEAD, POST", "Content-Type": "application/json"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			resp := app.do(tc.method, tc.path, "", nil)
			g.Expect(resp.status).To(Equal(tc.wantStatus))
			for k, v := range tc.wantHeader {
				g.Expect(resp.header.Get(k)).To(Equal(v))
			}
			g.Expect(resp.body).To(Satisfy(func(b []byte) bool { return len(b) > 0 }))
		})
	}

	g := NewWithT(t)
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	app.do(http.MethodGet, "/openapi.json", "", nil).decode(t, &doc)
	g.Expect(doc.OpenAPI).To(HavePrefix("3."))
	g.Expect(doc.Paths).To(HaveKey("/api/v1/todos/{id}"))
}
