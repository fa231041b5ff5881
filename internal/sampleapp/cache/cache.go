// Package cache keeps the first page of each user's todo list, the request
// every client makes first and most often, so it is served without a query.
package cache

import "context"

// Slot is where a looked-up page is to be stored. It pins the generation of
// the user's cache seen before the database was read (see Redis).
type Slot struct {
	key string
}

// FirstPages caches the encoded first page of users' todo lists, per page
// size. Errors are for logging only: callers treat them as a miss.
type FirstPages interface {
	// Lookup returns the cached page (nil on a miss) and the slot in which
	// to store the page read from the database on a miss.
	Lookup(ctx context.Context, userID string, limit int) ([]byte, Slot, error)
	// Fill stores page in slot; a zero Slot stores nothing.
	Fill(ctx context.Context, slot Slot, page []byte) error
	// Invalidate drops every cached page of userID, after each write.
	Invalidate(ctx context.Context, userID string) error
}

// None is the FirstPages of an app without Redis: every lookup misses.
type None struct{}

// Lookup implements FirstPages.
func (None) Lookup(context.Context, string, int) ([]byte, Slot, error) { return nil, Slot{}, nil }

// Fill implements FirstPages.
func (None) Fill(context.Context, Slot, []byte) error { return nil }

// Invalidate implements FirstPages.
func (None) Invalidate(context.Context, string) error { return nil }
