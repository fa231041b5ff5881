package ratelimit_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/ratelimit"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestMemory(t *testing.T) {
	policy := ratelimit.Policy{MaxFailures: 3, Window: time.Minute}
	tests := []struct {
		name      string
		failures  int
		advance   time.Duration
		reset     bool
		wantBlock time.Duration
	}{
		{name: "no failures", failures: 0},
		{name: "below the limit", failures: 2},
		{name: "at the limit", failures: 3, wantBlock: time.Minute},
		{name: "at the limit, later in the window", failures: 3, advance: 20 * time.Second,
			wantBlock: 40 * time.Second},
		{name: "window over", failures: 3, advance: time.Minute},
		{name: "reset after success", failures: 3, reset: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			ctx := context.Background()
			c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			m := ratelimit.NewMemory(policy, c.now)
			for range tc.failures {
				g.Expect(m.Fail(ctx, "a@example.com")).To(Succeed())
			}
			if tc.reset {
				g.Expect(m.Reset(ctx, "a@example.com")).To(Succeed())
			}
			c.t = c.t.Add(tc.advance)
			g.Expect(m.Blocked(ctx, "a@example.com")).To(Equal(tc.wantBlock))
			g.Expect(m.Blocked(ctx, "b@example.com")).To(BeZero(), "keys are counted separately")
		})
	}
}

// failing is a Limiter whose every call fails, standing in for Redis down.
type failing struct{}

var errDown = errors.New("redis down")

func (failing) Blocked(context.Context, string) (time.Duration, error) { return 0, errDown }
func (failing) Fail(context.Context, string) error                     { return errDown }
func (failing) Reset(context.Context, string) error                    { return errDown }

func TestFallbackKeepsCountingWhenPrimaryFails(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	f := &ratelimit.Fallback{
		Primary:   failing{},
		Secondary: ratelimit.NewMemory(ratelimit.Policy{MaxFailures: 2, Window: time.Minute}, c.now),
		Log:       slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
	g.Expect(f.Fail(ctx, "k")).To(Succeed())
	g.Expect(f.Fail(ctx, "k")).To(Succeed())
	g.Expect(f.Blocked(ctx, "k")).To(Equal(time.Minute))
	g.Expect(f.Reset(ctx, "k")).To(Succeed())
	g.Expect(f.Blocked(ctx, "k")).To(BeZero())
}
