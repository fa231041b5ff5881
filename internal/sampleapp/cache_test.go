package sampleapp_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/gomega"

	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/cache"
)

// TestFirstPageCache proves the first page is served from Redis (a change
// made behind the app's back stays invisible until a write) and that every
// kind of write through the API invalidates it.
func TestFirstPageCache(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	app := newApp(t, sharedRedis)
	userID, token := app.newUser("cache")
	first := app.createTodo(token, "first")

	listed, state := app.list(token, "")
	g.Expect(state).To(Equal("miss"))
	g.Expect(titles(listed.Items)).To(Equal([]string{"first"}))
	cached, state := app.list(token, "")
	g.Expect(state).To(Equal("hit"))
	g.Expect(cached).To(Equal(listed))

	rc := sharedRedis.Client()
	defer func() { _ = rc.Close() }()
	gen, err := rc.Get(ctx, cache.GenerationKey(userID)).Int64()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(gen).To(Equal(int64(1)), "the create invalidated once")
	g.Expect(rc.Exists(ctx, cache.PageKey(userID, gen, 20)).Val()).To(Equal(int64(1)))
	g.Expect(rc.TTL(ctx, cache.PageKey(userID, gen, 20)).Val()).To(BeNumerically(">", 0))

	db, err := pgx.Connect(ctx, app.databaseURL)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = db.Close(ctx) }()
	_, err = db.Exec(ctx, `UPDATE todos SET title = 'changed behind the app'`)
	g.Expect(err).NotTo(HaveOccurred())
	stale, state := app.list(token, "")
	g.Expect(state).To(Equal("hit"))
	g.Expect(titles(stale.Items)).To(Equal([]string{"first"}), "served from Redis, not PostgreSQL")

	second := app.createTodo(token, "second")
	afterCreate, state := app.list(token, "")
	g.Expect(state).To(Equal("miss"))
	g.Expect(titles(afterCreate.Items)).To(Equal([]string{"second", "changed behind the app"}))

	g.Expect(app.do(http.MethodPatch, "/api/v1/todos/"+second.ID, token, map[string]any{"done": true}).status).
		To(Equal(http.StatusOK))
	afterPatch, state := app.list(token, "")
	g.Expect(state).To(Equal("miss"))
	g.Expect(afterPatch.Items[0].Done).To(BeTrue())

	g.Expect(app.do(http.MethodDelete, "/api/v1/todos/"+first.ID, token, nil).status).
		To(Equal(http.StatusNoContent))
	afterDelete, state := app.list(token, "")
	g.Expect(state).To(Equal("miss"))
	g.Expect(titles(afterDelete.Items)).To(Equal([]string{"second"}))

	g.Expect(rc.Get(ctx, cache.GenerationKey(userID)).Int64()).To(Equal(int64(4)))
}

func TestOnlyFirstPagesAreCachedPerUserAndSize(t *testing.T) {
	g := NewWithT(t)
	app := newApp(t, sharedRedis)
	_, alice := app.newUser("alice")
	_, bob := app.newUser("bob")
	app.createTodo(alice, "a1")
	app.createTodo(alice, "a2")
	app.createTodo(bob, "b1")

	_, state := app.list(alice, "?limit=1")
	g.Expect(state).To(Equal("miss"))
	one, state := app.list(alice, "?limit=1")
	g.Expect(state).To(Equal("hit"))
	_, state = app.list(alice, "?limit=2")
	g.Expect(state).To(Equal("miss"), "each page size has its own entry")

	_, state = app.list(alice, "?limit=1&cursor="+one.NextCursor)
	g.Expect(state).To(BeEmpty(), "later pages are read from PostgreSQL")

	bobs, _ := app.list(bob, "")
	g.Expect(titles(bobs.Items)).To(Equal([]string{"b1"}))
	app.createTodo(bob, "b2")
	_, state = app.list(alice, "?limit=1")
	g.Expect(state).To(Equal("hit"), "a write invalidates only its author's pages")
}
