package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLockKey identifies the advisory lock that serialises migrations
// across replicas starting at the same time. Any constant works as long as
// every replica uses the same one; this is "sampleap" in ASCII.
const migrationLockKey int64 = 0x73616d706c656170

// unlockTimeout bounds the release of the advisory lock, which must run even
// when the caller's context is already cancelled.
const unlockTimeout = 5 * time.Second

// Migration is one embedded SQL file; Version is its file name without ".sql".
type Migration struct {
	Version string
	SQL     string
}

// Migrations returns the embedded migrations in the order they apply.
func Migrations() ([]Migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	slices.Sort(names)
	migrations := make([]Migration, 0, len(names))
	for _, name := range names {
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		version := strings.TrimSuffix(path.Base(name), ".sql")
		migrations = append(migrations, Migration{Version: version, SQL: string(body)})
	}
	return migrations, nil
}

// Migrate applies the embedded migrations not yet recorded in
// schema_migrations and returns the versions it applied. A session-level
// advisory lock makes replicas that start together take turns; the ones
// that wait find everything applied, so a second run is a no-op.
func Migrate(ctx context.Context, pool *pgxpool.Pool) (applied []string, err error) {
	migrations, err := Migrations()
	if err != nil {
		return nil, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("acquire connection for migrations: %w", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
		conn.Release()
		return nil, fmt.Errorf("take migration lock: %w", err)
	}
	defer func() { err = errors.Join(err, unlock(conn)) }()

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    text        PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	done, err := appliedVersions(ctx, conn.Conn())
	if err != nil {
		return nil, err
	}
	for _, m := range migrations {
		if done[m.Version] {
			continue
		}
		if err := apply(ctx, conn.Conn(), m); err != nil {
			return applied, err
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

// unlock releases the advisory lock and returns the connection to the pool.
// A connection whose unlock failed still holds the lock, so it is closed
// instead: closing the session is what releases a session-level lock.
func unlock(conn *pgxpool.Conn) error {
	ctx, cancel := context.WithTimeout(context.Background(), unlockTimeout)
	defer cancel()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, migrationLockKey); err != nil {
		closeErr := conn.Hijack().Close(ctx)
		return errors.Join(fmt.Errorf("release migration lock: %w", err), closeErr)
	}
	conn.Release()
	return nil
}

func appliedVersions(ctx context.Context, conn *pgx.Conn) (map[string]bool, error) {
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	done := make(map[string]bool, len(versions))
	for _, v := range versions {
		done[v] = true
	}
	return done, nil
}

// apply runs one migration and records it in the same transaction, so a
// failed migration leaves neither its changes nor its record behind.
func apply(ctx context.Context, conn *pgx.Conn, m Migration) error {
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.Version)
		return err
	})
	if err != nil {
		return fmt.Errorf("apply migration %s: %w", m.Version, err)
	}
	return nil
}
