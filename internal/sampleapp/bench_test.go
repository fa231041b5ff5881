package sampleapp_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/learning-sandbox/learning-sandbox-operator/internal/testservices"
)

const (
	benchUsers          = 16
	benchTodosPerUser   = 40
	benchParallelism    = 8 // goroutines per GOMAXPROCS
	benchCreateEveryNth = 10
)

// benchScenario is one kind of load: what each request does and whether
// the app has Redis.
type benchScenario struct {
	name  string
	redis bool
	// op picks the request for the i-th iteration of one client.
	op func(i int) benchOp
}

type benchOp int

const (
	opList benchOp = iota
	opCreate
)

// BenchmarkTodosConcurrent drives the API of one app over loopback HTTP from
// concurrent clients, each a different user, against the real PostgreSQL
// and Redis started by TestMain. It reports throughput (req/s) and the
// latency percentiles (p50-ms, p99-ms) of every request of the run. The
// load generator shares the machine's cores with the app and the servers.
func BenchmarkTodosConcurrent(b *testing.B) {
	scenarios := []benchScenario{
		{"list/redis", true, func(int) benchOp { return opList }},
		{"list/postgres-only", false, func(int) benchOp { return opList }},
		{"create/redis", true, func(int) benchOp { return opCreate }},
		{"mixed-90-list-10-create/redis", true, func(i int) benchOp {
			if i%benchCreateEveryNth == benchCreateEveryNth-1 {
				return opCreate
			}
			return opList
		}},
	}
	for _, sc := range scenarios {
		// Set-up happens once per scenario; b.Run calls its function once
		// per b.N it tries.
		var rs *testservices.Redis
		if sc.redis {
			rs = sharedRedis
		}
		target := newBenchTarget(b, rs)
		b.Run(sc.name, func(b *testing.B) { target.run(b, sc) })
	}
}

// benchTarget is an app with seeded users and a client sized for the load.
type benchTarget struct {
	app    *testApp
	tokens []string
	client *http.Client
}

func newBenchTarget(b *testing.B, rs *testservices.Redis) *benchTarget {
	b.Helper()
	cfg := testConfig(newDatabase(b), rs)
	// Access logs are encoded as in production and then dropped.
	app := startApp(b, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	t := &benchTarget{app: app}
	for u := range benchUsers {
		_, token := app.newUser(fmt.Sprintf("bench%d", u))
		for i := range benchTodosPerUser {
			app.createTodo(token, fmt.Sprintf("seeded todo %d", i))
		}
		t.tokens = append(t.tokens, token)
	}
	transport := app.client.Transport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 1024
	t.client = &http.Client{Transport: transport, Timeout: 30 * time.Second}
	return t
}

func (t *benchTarget) run(b *testing.B, sc benchScenario) {
	var (
		clients  atomic.Int64
		failures atomic.Int64
		mu       sync.Mutex
		all      []time.Duration
	)
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		token := t.tokens[int(clients.Add(1))%len(t.tokens)]
		var local []time.Duration
		for i := 0; pb.Next(); i++ {
			began := time.Now()
			if err := t.do(sc.op(i), token, i); err != nil {
				failures.Add(1)
			}
			local = append(local, time.Since(began))
		}
		mu.Lock()
		all = append(all, local...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failures.Load(); n > 0 {
		b.Fatalf("%d of %d requests failed", n, b.N)
	}
	slices.Sort(all)
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	b.ReportMetric(percentile(all, 0.50), "p50-ms")
	b.ReportMetric(percentile(all, 0.99), "p99-ms")
}

// do sends one request and checks its status.
func (t *benchTarget) do(op benchOp, token string, i int) error {
	var (
		req  *http.Request
		err  error
		want int
	)
	switch op {
	case opCreate:
		body := fmt.Appendf(nil, `{"title":"bench todo %d"}`, i)
		req, err = http.NewRequest(http.MethodPost, t.app.url+"/api/v1/todos", bytes.NewReader(body))
		want = http.StatusCreated
	default:
		req, err = http.NewRequest(http.MethodGet, t.app.url+"/api/v1/todos", nil)
		want = http.StatusOK
	}
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := t.client.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("status %d, want %d", resp.StatusCode, want)
	}
	return nil
}

// percentile returns the q-quantile of sorted latencies in milliseconds.
func percentile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	idx := min(len(sorted)-1, int(q*float64(len(sorted))))
	return float64(sorted[idx].Microseconds()) / 1000
}
