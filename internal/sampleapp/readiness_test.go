package sampleapp_test

import (
	"encoding/json"
	"net/http"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/learning-sandbox/learning-sandbox-operator/internal/testservices"
)

type readiness struct {
	Status  string            `json:"status"`
	Checks  map[string]string `json:"checks"`
	Missing []string          `json:"missing"`
	Error   string            `json:"error"`
}

func (a *testApp) readiness() (int, readiness) {
	a.t.Helper()
	resp := a.do(http.MethodGet, "/readyz", "", nil)
	var r readiness
	resp.decode(a.t, &r)
	return resp.status, r
}

func TestReadinessWithoutRedis(t *testing.T) {
	g := NewWithT(t)
	app := newApp(t, nil)
	status, body := app.readiness()
	g.Expect(status).To(Equal(http.StatusOK))
	g.Expect(body.Checks).To(Equal(map[string]string{"postgres": "ok", "redis": "disabled"}))
}

// TestRedisOutage kills a Redis the app depends on: /readyz turns 503 and
// names redis, while todos and logins keep working from PostgreSQL and the
// in-process limiter.
func TestRedisOutage(t *testing.T) {
	g := NewWithT(t)
	rs, err := testservices.StartRedis()
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { g.Expect(rs.Stop()).To(Succeed()) })
	app := newApp(t, rs)
	email := uniqueEmail("outage")
	app.register(email, "password-1")
	token := app.login(email, "password-1")
	app.createTodo(token, "before the outage")

	status, body := app.readiness()
	g.Expect(status).To(Equal(http.StatusOK))
	g.Expect(body.Checks).To(Equal(map[string]string{"postgres": "ok", "redis": "ok"}))

	g.Expect(rs.Kill()).To(Succeed())

	g.Eventually(func(g Gomega) {
		resp := app.do(http.MethodGet, "/readyz", "", nil)
		g.Expect(resp.status).To(Equal(http.StatusServiceUnavailable))
		var r readiness
		g.Expect(json.Unmarshal(resp.body, &r)).To(Succeed())
		g.Expect(r.Missing).To(Equal([]string{"redis"}))
		g.Expect(r.Checks).To(Equal(map[string]string{"postgres": "ok", "redis": "unreachable"}))
		g.Expect(r.Error).To(ContainSubstring("redis"))
	}).Should(Succeed())

	g.Expect(app.do(http.MethodGet, "/healthz", "", nil).status).To(Equal(http.StatusOK))
	during := app.createTodo(token, "during the outage")
	listed, state := app.list(token, "")
	g.Expect(state).To(Equal("miss"))
	g.Expect(titles(listed.Items)).To(Equal([]string{"during the outage", "before the outage"}))
	g.Expect(app.do(http.MethodPatch, "/api/v1/todos/"+during.ID, token, map[string]any{"done": true}).status).
		To(Equal(http.StatusOK))

	g.Expect(app.login(email, "password-1")).NotTo(BeEmpty())
	for range 5 {
		resp := app.do(http.MethodPost, "/api/v1/auth/login", "", credentials{email, "wrong-password"})
		g.Expect(resp.status).To(Equal(http.StatusUnauthorized))
	}
	resp := app.do(http.MethodPost, "/api/v1/auth/login", "", credentials{email, "password-1"})
	g.Expect(resp.status).To(Equal(http.StatusTooManyRequests), "the in-process limiter takes over")
}
