// Package ratelimit counts failed login attempts per email and blocks an
// email for the rest of a fixed window once it has too many failures.
package ratelimit

import (
	"context"
	"time"
)

// Policy is how many failures a key may have within one window.
type Policy struct {
	MaxFailures int
	Window      time.Duration
}

// DefaultLoginPolicy allows 5 failed logins per email per 15 minutes.
var DefaultLoginPolicy = Policy{MaxFailures: 5, Window: 15 * time.Minute}

// Limiter tracks failures per key. The window starts at the first failure
// and is not extended by later ones, so a blocked client knows exactly when
// it may retry.
type Limiter interface {
	// Blocked returns how long key must wait before trying again, or 0 when
	// it may try now.
	Blocked(ctx context.Context, key string) (time.Duration, error)
	// Fail records one failed attempt for key.
	Fail(ctx context.Context, key string) error
	// Reset forgets key's failures, after a successful login.
	Reset(ctx context.Context, key string) error
}
