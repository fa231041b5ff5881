-- Todos belong to one user. The index serves the keyset-paginated list
-- (newest first, id as the tie-breaker) without a sort.
CREATE TABLE todos (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    done       boolean     NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX todos_user_created_id_idx ON todos (user_id, created_at DESC, id DESC);
