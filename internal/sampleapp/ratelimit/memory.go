package ratelimit

import (
	"context"
	"sync"
	"time"
)

// sweepEvery bounds how many calls may pass between two removals of expired
// windows, so the map cannot grow without bound under a spray of emails.
const sweepEvery = 1024

// Memory is an in-process Limiter, used when the app runs without Redis and
// as the fallback while Redis is down. Each replica counts on its own.
type Memory struct {
	policy Policy
	now    func() time.Time

	mu      sync.Mutex
	windows map[string]window
	calls   int
}

type window struct {
	failures int
	resetAt  time.Time
}

// NewMemory returns an empty Memory limiter; now is the clock.
func NewMemory(policy Policy, now func() time.Time) *Memory {
	return &Memory{policy: policy, now: now, windows: make(map[string]window)}
}

// Blocked implements Limiter.
func (m *Memory) Blocked(_ context.Context, key string) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w, ok := m.current(key)
	if !ok || w.failures < m.policy.MaxFailures {
		return 0, nil
	}
	return w.resetAt.Sub(m.now()), nil
}

// Fail implements Limiter.
func (m *Memory) Fail(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	w, ok := m.current(key)
	if !ok {
		w = window{resetAt: m.now().Add(m.policy.Window)}
	}
	w.failures++
	m.windows[key] = w
	return nil
}

// Reset implements Limiter.
func (m *Memory) Reset(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.windows, key)
	return nil
}

// current returns key's window if it has not expired; m.mu must be held.
func (m *Memory) current(key string) (window, bool) {
	now := m.now()
	m.calls++
	if m.calls%sweepEvery == 0 {
		for k, w := range m.windows {
			if !now.Before(w.resetAt) {
				delete(m.windows, k)
			}
		}
	}
	w, ok := m.windows[key]
	if !ok || !now.Before(w.resetAt) {
		return window{}, false
	}
	return w, true
}
