package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// KeyPrefix starts every Redis key of the login limiter.
const KeyPrefix = "sampleapp:login-failures:"

// failScript increments the counter and starts its window on the first
// failure only, atomically, so concurrent failures cannot leave a counter
// without an expiry. It avoids EXPIRE's NX flag to work on Redis < 7.
var failScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
`)

// Redis is a Limiter shared by every replica through Redis.
type Redis struct {
	client redis.UniversalClient
	policy Policy
}

// NewRedis returns a Limiter storing its counters in client.
func NewRedis(client redis.UniversalClient, policy Policy) *Redis {
	return &Redis{client: client, policy: policy}
}

// Key returns the Redis key counting failures for an email. The email is
// hashed so that Redis holds no personal data.
func Key(email string) string {
	sum := sha256.Sum256([]byte(email))
	return KeyPrefix + hex.EncodeToString(sum[:])
}

// Blocked implements Limiter.
func (r *Redis) Blocked(ctx context.Context, key string) (time.Duration, error) {
	k := Key(key)
	var get *redis.StringCmd
	var ttl *redis.DurationCmd
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, k)
		ttl = p.PTTL(ctx, k)
		return nil
	})
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read login failures: %w", err)
	}
	failures, err := get.Int()
	if err != nil {
		return 0, fmt.Errorf("read login failures: %w", err)
	}
	if failures < r.policy.MaxFailures {
		return 0, nil
	}
	if d := ttl.Val(); d > 0 {
		return d, nil
	}
	// A counter without expiry cannot come from failScript; block for a
	// full window rather than forever.
	return r.policy.Window, nil
}

// Fail implements Limiter.
func (r *Redis) Fail(ctx context.Context, key string) error {
	err := failScript.Run(ctx, r.client, []string{Key(key)}, r.policy.Window.Milliseconds()).Err()
	if err != nil {
		return fmt.Errorf("record login failure: %w", err)
	}
	return nil
}

// Reset implements Limiter.
func (r *Redis) Reset(ctx context.Context, key string) error {
	if err := r.client.Del(ctx, Key(key)).Err(); err != nil {
		return fmt.Errorf("reset login failures: %w", err)
	}
	return nil
}
