package sampleapp_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/ratelimit"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/testservices"
)

func TestLoginRateLimit(t *testing.T) {
	tests := []struct {
		name  string
		redis *testservices.Redis
	}{
		{"in Redis", sharedRedis},
		{"in process without Redis", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			app := newApp(t, tc.redis)
			email := uniqueEmail("limited")
			app.register(email, "password-1")

			for range ratelimit.DefaultLoginPolicy.MaxFailures {
				resp := app.do(http.MethodPost, "/api/v1/auth/login", "", credentials{email, "wrong-password"})
				g.Expect(resp.status).To(Equal(http.StatusUnauthorized))
			}
			blocked := app.do(http.MethodPost, "/api/v1/auth/login", "", credentials{email, "password-1"})
			g.Expect(blocked.status).To(Equal(http.StatusTooManyRequests), "even the right password is refused")
			g.Expect(blocked.errorMessage(t)).To(ContainSubstring("too many"))
			retryAfter, err := strconv.Atoi(blocked.header.Get("Retry-After"))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(retryAfter).To(BeNumerically(">", 0))
			g.Expect(retryAfter).To(BeNumerically("<=", int(ratelimit.DefaultLoginPolicy.Window.Seconds())))

			other := uniqueEmail("other")
			app.register(other, "password-1")
			app.login(other, "password-1")

			if tc.redis == nil {
				return
			}
			rc := tc.redis.Client()
			defer func() { _ = rc.Close() }()
			ctx := context.Background()
			g.Expect(rc.Get(ctx, ratelimit.Key(email)).Int()).To(Equal(ratelimit.DefaultLoginPolicy.MaxFailures))
			g.Expect(rc.TTL(ctx, ratelimit.Key(email)).Val()).To(
				And(BeNumerically(">", 0), BeNumerically("<=", 15*time.Minute)))

			replica := newAppOn(t, app.databaseURL, tc.redis)
			resp := replica.do(http.MethodPost, "/api/v1/auth/login", "", credentials{email, "password-1"})
			g.Expect(resp.status).To(Equal(http.StatusTooManyRequests), "replicas share the count through Redis")
		})
	}
}

func TestSuccessfulLoginResetsFailures(t *testing.T) {
	g := NewWithT(t)
	app := newApp(t, sharedRedis)
	email := uniqueEmail("reset")
	app.register(email, "password-1")
	failTimes := func(n int) {
		for range n {
			resp := app.do(http.MethodPost, "/api/v1/auth/login", "", credentials{email, "wrong-password"})
			g.Expect(resp.status).To(Equal(http.StatusUnauthorized))
		}
	}
	failTimes(ratelimit.DefaultLoginPolicy.MaxFailures - 1)
	app.login(email, "password-1")
	failTimes(ratelimit.DefaultLoginPolicy.MaxFailures)
	resp := app.do(http.MethodPost, "/api/v1/auth/login", "", credentials{email, "password-1"})
	g.Expect(resp.status).To(Equal(http.StatusTooManyRequests))
}
