package ratelimit

import (
	"context"
	"log/slog"
	"time"
)

// Fallback uses Primary (Redis) and switches to Secondary (in-process) for
// any call Primary fails, so an outage of Redis neither blocks every login
// nor switches brute-force protection off.
type Fallback struct {
	Primary   Limiter
	Secondary Limiter
	Log       *slog.Logger
}

// Blocked implements Limiter.
func (f *Fallback) Blocked(ctx context.Context, key string) (time.Duration, error) {
	d, err := f.Primary.Blocked(ctx, key)
	if err == nil {
		return d, nil
	}
	f.warn(ctx, err)
	return f.Secondary.Blocked(ctx, key)
}

// Fail implements Limiter.
func (f *Fallback) Fail(ctx context.Context, key string) error {
	if err := f.Primary.Fail(ctx, key); err != nil {
		f.warn(ctx, err)
		return f.Secondary.Fail(ctx, key)
	}
	return nil
}

// Reset implements Limiter. Both sides are reset: failures counted during
// an outage must not outlive a successful login.
func (f *Fallback) Reset(ctx context.Context, key string) error {
	if err := f.Primary.Reset(ctx, key); err != nil {
		f.warn(ctx, err)
	}
	return f.Secondary.Reset(ctx, key)
}

func (f *Fallback) warn(ctx context.Context, err error) {
	f.Log.WarnContext(ctx, "login rate limiter falls back to in-process counting", "error", err)
}
