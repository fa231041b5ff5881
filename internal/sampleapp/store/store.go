// Package store keeps users and their todos in PostgreSQL.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgreSQL error codes the store maps to its own errors.
const (
	codeUniqueViolation = "23505"
	codeForeignKey      = "23503"
)

var (
	// ErrNotFound means the row does not exist or belongs to another user;
	// the two are deliberately indistinguishable.
	ErrNotFound = errors.New("not found")
	// ErrDuplicateEmail means an account with that email already exists.
	ErrDuplicateEmail = errors.New("email already registered")
)

// User is an account. PasswordHash is a bcrypt hash, never the password.
type User struct {
	ID           string
	Email        string
	PasswordHash string
	CreatedAt    time.Time
}

// Todo is one item of a user's list, in the shape the API returns it.
type Todo struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Done      bool      `json:"done"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// TodoPatch holds the fields of a partial update; nil fields stay unchanged.
type TodoPatch struct {
	Title *string
	Done  *bool
}

// Page is one slice of a user's todos; Next is nil on the last page.
type Page struct {
	Items []Todo
	Next  *Cursor
}

// Store runs the app's queries on a connection pool it does not own.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a Store over pool; the caller closes the pool.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool}
}

// Ping checks that PostgreSQL answers, for the readiness probe.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// CreateUser stores a new account; email must already be normalised.
func (s *Store) CreateUser(ctx context.Context, email, passwordHash string) (User, error) {
	u := User{Email: email, PasswordHash: passwordHash}
	err := s.pool.QueryRow(ctx,
		`INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id, created_at`,
		email, passwordHash,
	).Scan(&u.ID, &u.CreatedAt)
	if hasCode(err, codeUniqueViolation) {
		return User{}, ErrDuplicateEmail
	}
	if err != nil {
		return User{}, fmt.Errorf("insert user: %w", err)
	}
	return u, nil
}

// UserByEmail finds an account by its normalised email.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	var u User
	err := s.pool.QueryRow(ctx,
		`SELECT id, email, password_hash, created_at FROM users WHERE email = $1`, email,
	).Scan(&u.ID, &u.Email, &u.PasswordHash, &u.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("select user: %w", err)
	}
	return u, nil
}

// hasCode reports whether err is a PostgreSQL error with the given SQLSTATE.
func hasCode(err error, code string) bool {
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	return ok && pgErr.Code == code
}
