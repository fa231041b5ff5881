package cache

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// KeyPrefix starts every Redis key of the todo cache.
const KeyPrefix = "sampleapp:todos:"

const (
	// pageTTL bounds how long a page survives if an invalidation is lost
	// (Redis unreachable during a write).
	pageTTL = 5 * time.Minute
	// generationTTL outlives every page, so a generation counter never
	// expires and restarts while pages of its old values still exist.
	generationTTL = 24 * time.Hour
)

// Redis caches first pages under a per-user generation number. Invalidation
// increments the generation instead of deleting pages: a reader that looked
// the generation up before a concurrent write stores its (possibly stale)
// page under the old generation, which nobody reads any more. Deleting keys
// would let that reader put a stale page back after the delete.
type Redis struct {
	client redis.UniversalClient
}

// NewRedis returns a FirstPages backed by client.
func NewRedis(client redis.UniversalClient) *Redis {
	return &Redis{client: client}
}

// GenerationKey is the Redis key holding userID's cache generation.
func GenerationKey(userID string) string {
	return KeyPrefix + userID + ":gen"
}

// PageKey is the Redis key of userID's first page of size limit in
// generation gen.
func PageKey(userID string, gen int64, limit int) string {
	return KeyPrefix + userID + ":g" + strconv.FormatInt(gen, 10) + ":first:" + strconv.Itoa(limit)
}

// Lookup implements FirstPages.
func (r *Redis) Lookup(ctx context.Context, userID string, limit int) ([]byte, Slot, error) {
	gen, err := r.client.Get(ctx, GenerationKey(userID)).Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, Slot{}, fmt.Errorf("read cache generation: %w", err)
	}
	slot := Slot{key: PageKey(userID, gen, limit)}
	page, err := r.client.Get(ctx, slot.key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, slot, nil
	}
	if err != nil {
		return nil, Slot{}, fmt.Errorf("read cached page: %w", err)
	}
	return page, slot, nil
}

// Fill implements FirstPages.
func (r *Redis) Fill(ctx context.Context, slot Slot, page []byte) error {
	if slot.key == "" {
		return nil
	}
	if err := r.client.Set(ctx, slot.key, page, pageTTL).Err(); err != nil {
		return fmt.Errorf("store cached page: %w", err)
	}
	return nil
}

// Invalidate implements FirstPages.
func (r *Redis) Invalidate(ctx context.Context, userID string) error {
	key := GenerationKey(userID)
	_, err := r.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, key)
		p.Expire(ctx, key, generationTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("invalidate cached pages: %w", err)
	}
	return nil
}
