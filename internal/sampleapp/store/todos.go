package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

const todoColumns = `id, title, done, created_at, updated_at`

// CreateTodo adds a todo to userID's list.
func (s *Store) CreateTodo(ctx context.Context, userID, title string) (Todo, error) {
	row := s.pool.QueryRow(ctx,
		`INSERT INTO todos (user_id, title) VALUES ($1, $2) RETURNING `+todoColumns, userID, title)
	t, err := scanTodo(row)
	if hasCode(err, codeForeignKey) {
		return Todo{}, ErrNotFound
	}
	if err != nil {
		return Todo{}, fmt.Errorf("insert todo: %w", err)
	}
	return t, nil
}

// GetTodo returns one of userID's todos; another user's todo is ErrNotFound.
func (s *Store) GetTodo(ctx context.Context, userID, id string) (Todo, error) {
	if !ValidID(id) {
		return Todo{}, ErrNotFound
	}
	row := s.pool.QueryRow(ctx,
		`SELECT `+todoColumns+` FROM todos WHERE id = $1 AND user_id = $2`, id, userID)
	return oneTodo(row, "select todo")
}

// UpdateTodo applies patch to one of userID's todos and returns the result.
func (s *Store) UpdateTodo(ctx context.Context, userID, id string, patch TodoPatch) (Todo, error) {
	if !ValidID(id) {
		return Todo{}, ErrNotFound
	}
	row := s.pool.QueryRow(ctx, `
		UPDATE todos
		SET title = COALESCE($3, title), done = COALESCE($4, done), updated_at = clock_timestamp()
		WHERE id = $1 AND user_id = $2
		RETURNING `+todoColumns, id, userID, patch.Title, patch.Done)
	return oneTodo(row, "update todo")
}

// DeleteTodo removes one of userID's todos.
func (s *Store) DeleteTodo(ctx context.Context, userID, id string) error {
	if !ValidID(id) {
		return ErrNotFound
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM todos WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return fmt.Errorf("delete todo: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// ListTodos returns up to limit of userID's todos, newest first, starting
// after the cursor (nil for the first page). Keyset pagination keeps pages
// stable while todos are added and costs the same on every page.
func (s *Store) ListTodos(ctx context.Context, userID string, limit int, after *Cursor) (Page, error) {
	var (
		rows pgx.Rows
		err  error
	)
	// One row more than asked tells whether another page follows.
	if after == nil {
		rows, err = s.pool.Query(ctx, `
			SELECT `+todoColumns+` FROM todos WHERE user_id = $1
			ORDER BY created_at DESC, id DESC LIMIT $2`, userID, limit+1)
	} else {
		rows, err = s.pool.Query(ctx, `
			SELECT `+todoColumns+` FROM todos WHERE user_id = $1 AND (created_at, id) < ($2, $3)
			ORDER BY created_at DESC, id DESC LIMIT $4`, userID, after.CreatedAt, after.ID, limit+1)
	}
	if err != nil {
		return Page{}, fmt.Errorf("list todos: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Todo, error) { return scanTodo(r) })
	if err != nil {
		return Page{}, fmt.Errorf("list todos: %w", err)
	}
	page := Page{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		last := page.Items[limit-1]
		page.Next = &Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	return page, nil
}

func scanTodo(row pgx.Row) (Todo, error) {
	var t Todo
	err := row.Scan(&t.ID, &t.Title, &t.Done, &t.CreatedAt, &t.UpdatedAt)
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return t, err
}

// oneTodo scans a single-row result, mapping "no row" to ErrNotFound.
func oneTodo(row pgx.Row, what string) (Todo, error) {
	t, err := scanTodo(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return Todo{}, ErrNotFound
	}
	if err != nil {
		return Todo{}, fmt.Errorf("%s: %w", what, err)
	}
	return t, nil
}
