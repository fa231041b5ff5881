package exercise

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

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
	target := Target{"postgres": pgTarget, "redis": rdTarget, "web": {Address: strings.TrimPrefix(srv.URL, "http://")}}
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
