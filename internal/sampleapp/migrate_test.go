package sampleapp_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	. "github.com/onsi/gomega"

	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/store"
)

func allVersions(g Gomega) []string {
	migrations, err := store.Migrations()
	g.Expect(err).NotTo(HaveOccurred())
	versions := make([]string, len(migrations))
	for i, m := range migrations {
		versions[i] = m.Version
	}
	return versions
}

func freshPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	dbURL, err := pg.CreateDatabase()
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	pool, err := pgxpool.New(context.Background(), dbURL)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	t.Cleanup(pool.Close)
	return pool
}

func recordedVersions(g Gomega, pool *pgxpool.Pool) []string {
	rows, err := pool.Query(context.Background(), `SELECT version FROM schema_migrations ORDER BY version`)
	g.Expect(err).NotTo(HaveOccurred())
	var versions []string
	for rows.Next() {
		var v string
		g.Expect(rows.Scan(&v)).To(Succeed())
		versions = append(versions, v)
	}
	g.Expect(rows.Err()).NotTo(HaveOccurred())
	return versions
}

func TestMigrateTwiceIsANoOp(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	pool := freshPool(t)
	want := allVersions(g)

	applied, err := store.Migrate(ctx, pool)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(applied).To(Equal(want))

	again, err := store.Migrate(ctx, pool)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again).To(BeEmpty())
	g.Expect(recordedVersions(g, pool)).To(Equal(want))

	const advisoryLocksHere = `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`
	var locks int
	g.Expect(pool.QueryRow(ctx, advisoryLocksHere).Scan(&locks)).To(Succeed())
	g.Expect(locks).To(BeZero(), "the migration lock is released")
}

// TestReplicasMigrateConcurrently starts migrations from several pools at
// once, as replicas starting together do: each migration runs exactly once.
func TestReplicasMigrateConcurrently(t *testing.T) {
	g := NewWithT(t)
	const replicas = 6
	pools := make([]*pgxpool.Pool, replicas)
	pools[0] = freshPool(t)
	for i := 1; i < replicas; i++ {
		p, err := pgxpool.NewWithConfig(context.Background(), pools[0].Config())
		g.Expect(err).NotTo(HaveOccurred())
		t.Cleanup(p.Close)
		pools[i] = p
	}

	results := make([][]string, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i, p := range pools {
		wg.Go(func() { results[i], errs[i] = store.Migrate(context.Background(), p) })
	}
	wg.Wait()

	var appliedOverall []string
	for i := range replicas {
		g.Expect(errs[i]).NotTo(HaveOccurred())
		appliedOverall = append(appliedOverall, results[i]...)
	}
	slices.Sort(appliedOverall)
	g.Expect(appliedOverall).To(Equal(allVersions(g)))
	g.Expect(recordedVersions(g, pools[0])).To(Equal(allVersions(g)))
}
