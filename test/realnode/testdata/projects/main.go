// Reference solution of the project stages (project-todo-api,
// project-url-shortener, project-blog) in Go, with the standard library, pgx
// and go-redis, as the workspace-go image carries them. It proves that each
// project can be passed: the real-node tests run it in a learner's
// workspace. It is not shipped to learners.
//
// It listens on $PORT and finds PostgreSQL at $DATABASE_URL and, where the
// stage has one, Redis at $REDIS_URL. REFERENCE_BREAK=clear-password stores
// passwords in clear, for the test that a broken endpoint fails exactly its
// exercise.
package main

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

const schema = `
CREATE TABLE IF NOT EXISTS users (id bigserial PRIMARY KEY, email text UNIQUE NOT NULL, password_hash text NOT NULL);
CREATE TABLE IF NOT EXISTS todos (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users,
  title text NOT NULL, done boolean NOT NULL DEFAULT false);
CREATE TABLE IF NOT EXISTS links (code text PRIMARY KEY, url text NOT NULL, visits bigint NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS posts (id bigserial PRIMARY KEY, title text NOT NULL, body text NOT NULL,
  author text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS comments (id bigserial PRIMARY KEY, post_id bigint NOT NULL REFERENCES posts,
  author text NOT NULL, body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
`

// The columns of a post and of a comment, named as in the JSON replies.
const (
	postColumns    = `id, title, body, author, created_at AS "createdAt"`
	commentColumns = `id, post_id AS "postId", author, body, created_at AS "createdAt"`
)

// wildcards are what the path wildcards must match, or the route is not found.
var wildcards = map[string]*regexp.Regexp{
	"id":   regexp.MustCompile(`^[0-9]{1,18}$`),
	"code": regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`),
}

var webLink = regexp.MustCompile(`^https?://\S+$`)

// An object is a JSON object, or a row by column name.
type object = map[string]any

// A handler answers a status and a JSON body, nil for none or a redirect
// for a Location; an error answers 500 whatever the status.
type handler func(r *http.Request) (int, any, error)

// A redirect is a body that is the Location header.
type redirect string

type app struct {
	db             *pgxpool.Pool
	cache          *redis.Client // nil when the stage has no Redis
	secret         []byte
	clearPasswords bool
}

func main() {
	ctx := context.Background()
	db, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := db.Exec(ctx, schema); err != nil {
		log.Fatal(err)
	}
	a := &app{db: db, secret: randomBytes(32), clearPasswords: os.Getenv("REFERENCE_BREAK") == "clear-password"}
	if u := os.Getenv("REDIS_URL"); u != "" {
		opts, err := redis.ParseURL(u)
		if err != nil {
			log.Fatal(err)
		}
		a.cache = redis.NewClient(opts)
	}
	log.Fatal(http.ListenAndServe(":"+cmp.Or(os.Getenv("PORT"), "8080"), a.routes()))
}

func (a *app) routes() *http.ServeMux {
	mux := http.NewServeMux()
	for pattern, h := range map[string]handler{
		"POST /api/v1/auth/register":       a.register,
		"POST /api/v1/auth/login":          a.login,
		"GET /api/v1/todos":                a.authed(a.listTodos),
		"POST /api/v1/todos":               a.authed(a.createTodo),
		"PATCH /api/v1/todos/{id}":         a.authed(a.patchTodo),
		"DELETE /api/v1/todos/{id}":        a.authed(a.deleteTodo),
		"POST /api/v1/links":               a.shorten,
		"GET /api/v1/links/{code}":         a.link,
		"GET /api/v1/posts":                a.listPosts,
		"POST /api/v1/posts":               a.createPost,
		"GET /api/v1/posts/{id}":           a.getPost,
		"GET /api/v1/posts/{id}/comments":  a.comments,
		"POST /api/v1/posts/{id}/comments": a.comment,
		"GET /{code}":                      a.visit, // one segment: never an /api/v1/... path
		"/":                                unknown, // any other path or method: 404, not 405
	} {
		mux.Handle(pattern, h)
	}
	return mux
}

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for name, pattern := range wildcards {
		if strings.Contains(r.Pattern, "{"+name+"}") && !pattern.MatchString(r.PathValue(name)) {
			h = unknown
		}
	}
	status, body, err := h(r)
	if err != nil {
		log.Print(err)
		status, body = 500, problem("internal error")
	}
	var raw []byte
	switch body := body.(type) {
	case nil:
	case redirect:
		w.Header().Set("Location", string(body))
	default:
		raw, _ = json.Marshal(body) // maps, slices and times always marshal
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	w.Write(raw)
}

func unknown(*http.Request) (int, any, error) { return 404, problem("not found"), nil }

func problem(message string) object { return object{"error": message} }

// notFound answers 404 with message when a query found no row; other errors stay errors.
func notFound(err error, message string) (int, any, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return 404, problem(message), nil
	}
	return 0, nil, err
}

// bodyOf is the request's JSON object, or nil, which reads as an empty one.
func bodyOf(r *http.Request) object {
	raw, _ := io.ReadAll(r.Body)
	var data object
	if json.Unmarshal(raw, &data) != nil {
		return nil
	}
	return data
}

// text is a string field of the body, or "".
func text(data object, key string) string {
	s, _ := data[key].(string)
	return s
}

func pathID(r *http.Request) int64 {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64) // checked by ServeHTTP
	return id
}

// pageOf is page (default 1, min 1) and limit (default 20, 1..100).
func pageOf(r *http.Request) (int, int) {
	page, err1 := strconv.Atoi(cmp.Or(r.URL.Query().Get("page"), "1"))
	limit, err2 := strconv.Atoi(cmp.Or(r.URL.Query().Get("limit"), "20"))
	if err1 != nil || err2 != nil {
		return 1, 20
	}
	return max(page, 1), min(max(limit, 1), 100)
}

// one is the first row of a query, or an error that is pgx.ErrNoRows.
func (a *app) one(r *http.Request, sql string, args ...any) (object, error) {
	rows, _ := a.db.Query(r.Context(), sql, args...) // the error is the rows' error
	return pgx.CollectOneRow(rows, pgx.RowToMap)
}

func (a *app) all(r *http.Request, sql string, args ...any) ([]object, error) {
	rows, _ := a.db.Query(r.Context(), sql, args...)
	return pgx.CollectRows(rows, pgx.RowToMap)
}

// paginated answers the page of a query with parameters $1 (arg), $2
// (limit) and $3 (offset), and the total that count counts.
func (a *app) paginated(r *http.Request, query, count string, arg any) (int, any, error) {
	page, limit := pageOf(r)
	items, err1 := a.all(r, query, arg, limit, (page-1)*limit)
	total, err2 := a.one(r, count, arg)
	return 200, object{"items": items, "page": page, "limit": limit, "total": total["count"]}, errors.Join(err1, err2)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails since Go 1.24
	return b
}

// digest is the PBKDF2-SHA256 of a password, in hex.
func digest(password string, salt []byte) string {
	key, _ := pbkdf2.Key(sha256.New, password, salt, 100_000, 32) // fails only for salts under 16 bytes, in FIPS 140-only mode
	return hex.EncodeToString(key)
}

func (a *app) hashPassword(password string) string {
	if a.clearPasswords {
		return password
	}
	salt := randomBytes(16)
	return "pbkdf2$" + hex.EncodeToString(salt) + "$" + digest(password, salt)
}

func passwordOK(stored, password string) bool {
	parts := strings.Split(stored, "$")
	if len(parts) != 3 || parts[0] != "pbkdf2" {
		return hmac.Equal([]byte(stored), []byte(password))
	}
	salt, err := hex.DecodeString(parts[1])
	return err == nil && len(salt) == 16 && hmac.Equal([]byte(digest(password, salt)), []byte(parts[2]))
}

func b64(data []byte) string { return base64.RawURLEncoding.EncodeToString(data) }

func (a *app) sign(data string) string {
	mac := hmac.New(sha256.New, a.secret)
	mac.Write([]byte(data))
	return b64(mac.Sum(nil))
}

func (a *app) tokenFor(user int64) string {
	head := b64([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body := b64(fmt.Appendf(nil, `{"sub":"%d"}`, user))
	return head + "." + body + "." + a.sign(head+"."+body)
}

// userOf is the user id of a valid "Bearer <JWT>" header.
func (a *app) userOf(header string) (int64, bool) {
	token, bearer := strings.CutPrefix(header, "Bearer ")
	parts := strings.Split(token, ".")
	if !bearer || len(parts) != 3 || !hmac.Equal([]byte(a.sign(parts[0]+"."+parts[1])), []byte(parts[2])) {
		return 0, false
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(raw, &claims) != nil {
		return 0, false
	}
	user, err := strconv.ParseInt(claims.Sub, 10, 64)
	return user, err == nil
}

// authed gives h the caller's user id, or answers 401.
func (a *app) authed(h func(r *http.Request, user int64) (int, any, error)) handler {
	return func(r *http.Request) (int, any, error) {
		user, ok := a.userOf(r.Header.Get("Authorization"))
		if !ok {
			return 401, problem("a valid token is required"), nil
		}
		return h(r, user)
	}
}

// The Todo API.

func (a *app) register(r *http.Request) (int, any, error) {
	data := bodyOf(r)
	email, password := text(data, "email"), text(data, "password")
	if email == "" || password == "" {
		return 400, problem("email and password are required"), nil
	}
	user, err := a.one(r, "INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id, email",
		email, a.hashPassword(password))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" { // unique_violation
		return 409, problem("the email is taken"), nil
	}
	return 201, user, err
}

func (a *app) login(r *http.Request) (int, any, error) {
	data := bodyOf(r)
	user, err := a.one(r, "SELECT id, password_hash FROM users WHERE email = $1", text(data, "email"))
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, nil, err
	}
	password, ok := data["password"].(string)
	if err != nil || !ok || !passwordOK(user["password_hash"].(string), password) {
		return 401, problem("wrong email or password"), nil
	}
	return 200, object{"token": a.tokenFor(user["id"].(int64))}, nil
}

func (a *app) listTodos(r *http.Request, user int64) (int, any, error) {
	return a.paginated(r, "SELECT id, title, done FROM todos WHERE user_id = $1 ORDER BY id LIMIT $2 OFFSET $3",
		"SELECT count(*) FROM todos WHERE user_id = $1", user)
}

func (a *app) createTodo(r *http.Request, user int64) (int, any, error) {
	title := text(bodyOf(r), "title")
	if title == "" {
		return 400, problem("title is required"), nil
	}
	todo, err := a.one(r, "INSERT INTO todos (user_id, title) VALUES ($1, $2) RETURNING id, title, done", user, title)
	return 201, todo, err
}

func (a *app) patchTodo(r *http.Request, user int64) (int, any, error) {
	data := bodyOf(r)
	todo, err := a.one(r, "UPDATE todos SET title = coalesce($1, title), done = coalesce($2, done) "+
		"WHERE id = $3 AND user_id = $4 RETURNING id, title, done",
		data["title"], data["done"], pathID(r), user) // nil is NULL
	if err != nil {
		return notFound(err, "no such todo")
	}
	return 200, todo, nil
}

func (a *app) deleteTodo(r *http.Request, user int64) (int, any, error) {
	if _, err := a.one(r, "DELETE FROM todos WHERE id = $1 AND user_id = $2 RETURNING id", pathID(r), user); err != nil {
		return notFound(err, "no such todo")
	}
	return 204, nil, nil
}

// The URL shortener.

func (a *app) shorten(r *http.Request) (int, any, error) {
	url := text(bodyOf(r), "url")
	if !webLink.MatchString(url) {
		return 400, problem("url must be an http:// or https:// link"), nil
	}
	link, err := a.one(r, "INSERT INTO links (code, url) VALUES ($1, $2) RETURNING code, url, visits",
		b64(randomBytes(6)), url)
	return 201, link, err
}

func (a *app) link(r *http.Request) (int, any, error) {
	link, err := a.one(r, "SELECT code, url, visits FROM links WHERE code = $1", r.PathValue("code"))
	if err != nil {
		return notFound(err, "no such link")
	}
	return 200, link, nil
}

func (a *app) visit(r *http.Request) (int, any, error) {
	code := r.PathValue("code")
	url, err := a.linkURL(r.Context(), code)
	if err != nil {
		return notFound(err, "no such link")
	}
	_, err = a.db.Exec(r.Context(), "UPDATE links SET visits = visits + 1 WHERE code = $1", code)
	return 302, redirect(url), err
}

// linkURL reads a link through Redis, cache-aside, where the stage has one.
func (a *app) linkURL(ctx context.Context, code string) (string, error) {
	key := "links:" + code
	if a.cache != nil {
		if url, err := a.cache.Get(ctx, key).Result(); !errors.Is(err, redis.Nil) {
			return url, err
		}
	}
	var url string
	err := a.db.QueryRow(ctx, "SELECT url FROM links WHERE code = $1", code).Scan(&url)
	if err == nil && a.cache != nil {
		err = a.cache.Set(ctx, key, url, time.Hour).Err()
	}
	return url, err
}

// The blog.

func (a *app) createPost(r *http.Request) (int, any, error) {
	data := bodyOf(r)
	title, body, author := text(data, "title"), text(data, "body"), text(data, "author")
	if title == "" || body == "" || author == "" {
		return 400, problem("title, body and author are required"), nil
	}
	post, err := a.one(r, "INSERT INTO posts (title, body, author) VALUES ($1, $2, $3) RETURNING "+postColumns,
		title, body, author)
	return 201, post, err
}

func (a *app) listPosts(r *http.Request) (int, any, error) {
	var author any // NULL: every author's
	if v := r.URL.Query().Get("author"); v != "" {
		author = v
	}
	return a.paginated(r, "SELECT "+postColumns+" FROM posts WHERE $1::text IS NULL OR author = $1 "+
		"ORDER BY id DESC LIMIT $2 OFFSET $3", "SELECT count(*) FROM posts WHERE $1::text IS NULL OR author = $1", author)
}

func (a *app) getPost(r *http.Request) (int, any, error) {
	post, err := a.one(r, "SELECT "+postColumns+" FROM posts WHERE id = $1", pathID(r))
	if err != nil {
		return notFound(err, "no such post")
	}
	return 200, post, nil
}

func (a *app) comments(r *http.Request) (int, any, error) {
	if _, err := a.one(r, "SELECT id FROM posts WHERE id = $1", pathID(r)); err != nil {
		return notFound(err, "no such post")
	}
	items, err := a.all(r, "SELECT "+commentColumns+" FROM comments WHERE post_id = $1 ORDER BY id", pathID(r))
	return 200, object{"items": items}, err
}

func (a *app) comment(r *http.Request) (int, any, error) {
	data := bodyOf(r)
	if _, err := a.one(r, "SELECT id FROM posts WHERE id = $1", pathID(r)); err != nil {
		return notFound(err, "no such post")
	}
	author, body := text(data, "author"), text(data, "body")
	if author == "" || body == "" {
		return 400, problem("author and body are required"), nil
	}
	comment, err := a.one(r, "INSERT INTO comments (post_id, author, body) VALUES ($1, $2, $3) RETURNING "+commentColumns,
		pathID(r), author, body)
	return 201, comment, err
}
