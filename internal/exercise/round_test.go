package exercise

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// countingChecker passes every check and records how many ran at once.
type countingChecker struct {
	delay time.Duration
	mu    sync.Mutex
	now   int
	max   int
	n     int
}

func (c *countingChecker) Check(context.Context, Target, sandboxv1.ExerciseCheck) Result {
	c.mu.Lock()
	c.now++
	c.n++
	c.max = max(c.max, c.now)
	c.mu.Unlock()
	time.Sleep(c.delay)
	c.mu.Lock()
	c.now--
	c.mu.Unlock()
	return Result{Passed: true}
}

func (c *countingChecker) peak() int  { c.mu.Lock(); defer c.mu.Unlock(); return c.max }
func (c *countingChecker) total() int { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

// BenchmarkRound is a round of 1,000 sandboxes with 3 exercises each (a
// postgres, a redis and an http check) against real local servers, 16 checks
// at once, each on a connection of its own, as the operator runs them:
//
//	go test -run '^$' -bench Round -benchtime 3x ./internal/exercise
func BenchmarkRound(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	target := Target{Components: map[string]Endpoint{"postgres": pgTarget, "redis": rdTarget, "web": {Address: strings.TrimPrefix(srv.URL, "http://")}}}
	checks := []sandboxv1.ExerciseCheck{
		pgCheck("select exists (select 1 from information_schema.tables where table_name = 'todos')"),
		redisCmd("1", "EXISTS", "todos:first-page"),
		{HTTP: &sandboxv1.HTTPCheck{Component: "web", Path: "/api/v1/todos", ExpectStatus: 401}},
	}
	jobs := make([]Job, 1000)
	for i := range jobs {
		jobs[i] = Job{Target: target, Checks: checks}
	}
	r := &Runner{}
	for b.Loop() {
		out := Round(context.Background(), r, 16, jobs)
		for _, res := range out {
			for _, x := range res {
				if !x.Passed {
					b.Fatal(x.Message)
				}
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/round")
}

// BenchmarkScenarioRound is a round of 1,000 sandboxes with 5 scenario
// exercises of 4 steps each (register, log in and capture the token, list
// with it, and a Postgres step with the captured values as parameters)
// against a local service and the real Postgres, 16 checks at once:
//
//	go test -run '^$' -bench ScenarioRound -benchtime 3x ./internal/exercise
func BenchmarkScenarioRound(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/auth/register":
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"id": 1}`))
		case "/api/v1/auth/login":
			_, _ = w.Write([]byte(`{"token": "header.payload.signature"}`))
		default:
			_, _ = w.Write([]byte(`{"items": [{"id": 1, "title": "learn SQL"}], "page": 1, "total": 1}`))
		}
	}))
	defer srv.Close()
	creds := &apiextensionsv1.JSON{Raw: []byte(`{"email": "{{email}}", "password": "{{password}}"}`)}
	scenario := sandboxv1.ExerciseCheck{HTTP: &sandboxv1.HTTPCheck{
		Component: "workspace",
		Vars:      map[string]string{"email": "check-{{random}}@example.edu", "password": "{{random}}-Secret1"},
		Steps: []sandboxv1.ScenarioStep{
			{Request: &sandboxv1.StepRequest{Method: "POST", Path: "/api/v1/auth/register", JSON: creds},
				Expect: &sandboxv1.StepExpect{Status: &apiextensionsv1.JSON{Raw: []byte(`[200, 201]`)}}},
			{Request: &sandboxv1.StepRequest{Method: "POST", Path: "/api/v1/auth/login", JSON: creds},
				Capture: map[string]string{"token": "$.token"}},
			{Request: &sandboxv1.StepRequest{Path: "/api/v1/todos", Headers: map[string]string{"Authorization": "Bearer {{token}}"}},
				Expect: &sandboxv1.StepExpect{JSONPath: map[string]sandboxv1.ValueAssertion{"$.items": {Type: "array"}}}},
			{Postgres: &sandboxv1.PostgresCheck{Component: "postgres", Query: "select $1::text <> $2", Params: []string{"{{token}}", "{{password}}"}}},
		},
	}}
	target := Target{Components: map[string]Endpoint{"postgres": pgTarget,
		"workspace": {Address: strings.TrimPrefix(srv.URL, "http://"), Host: "workspace"}}}
	jobs := make([]Job, 1000)
	for i := range jobs {
		jobs[i] = Job{Target: target, Checks: []sandboxv1.ExerciseCheck{scenario, scenario, scenario, scenario, scenario}}
	}
	r := &Runner{}
	b.ReportAllocs()
	for b.Loop() {
		for _, res := range Round(context.Background(), r, 16, jobs) {
			for _, x := range res {
				if !x.Passed {
					b.Fatal(x.Message)
				}
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/round")
}
