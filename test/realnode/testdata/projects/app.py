"""Reference solution of the project stages (project-todo-api,
project-url-shortener, project-blog) in Python, with the standard library,
psycopg2 and redis, as the workspace-python image carries them. It proves
that each project can be passed: the real-node tests run it in a learner's
workspace. It is not shipped to learners.

It listens on $PORT and finds PostgreSQL at $DATABASE_URL and, where the
stage has one, Redis at $REDIS_URL. REFERENCE_BREAK=clear-password stores
passwords in clear, for the test that a broken endpoint fails exactly its
exercise.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import psycopg2

try:
    import redis
except ImportError:  # the stage may have no Redis
    redis = None

SECRET = secrets.token_bytes(32)
BREAK = os.environ.get("REFERENCE_BREAK", "")
CACHE = redis.Redis.from_url(os.environ["REDIS_URL"]) if redis and os.environ.get("REDIS_URL") else None

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (id bigserial PRIMARY KEY, email text UNIQUE NOT NULL, password_hash text NOT NULL);
CREATE TABLE IF NOT EXISTS todos (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users,
  title text NOT NULL, done boolean NOT NULL DEFAULT false);
CREATE TABLE IF NOT EXISTS links (code text PRIMARY KEY, url text NOT NULL, visits bigint NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS posts (id bigserial PRIMARY KEY, title text NOT NULL, body text NOT NULL,
  author text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS comments (id bigserial PRIMARY KEY, post_id bigint NOT NULL REFERENCES posts,
  author text NOT NULL, body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
"""


def db():
    conn = psycopg2.connect(os.environ["DATABASE_URL"])
    conn.autocommit = True
    return conn


def query(sql, *args):
    with db() as conn, conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall() if cur.description else []


def hash_password(password):
    if BREAK == "clear-password":
        return password
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 100_000)
    return "pbkdf2$" + salt.hex() + "$" + digest.hex()


def password_ok(stored, password):
    if not stored.startswith("pbkdf2$"):
        return hmac.compare_digest(stored.encode(), password.encode())
    _, salt, digest = stored.split("$")
    got = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), 100_000)
    return hmac.compare_digest(got.hex(), digest)


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token_for(user_id):
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"sub": str(user_id)}).encode())
    sig = b64(hmac.new(SECRET, (head + "." + body).encode(), hashlib.sha256).digest())
    return head + "." + body + "." + sig


def user_of(header):
    if not header.startswith("Bearer "):
        return None
    parts = header[len("Bearer "):].split(".")
    if len(parts) != 3:
        return None
    sig = b64(hmac.new(SECRET, (parts[0] + "." + parts[1]).encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(sig, parts[2]):
        return None
    pad = "=" * (-len(parts[1]) % 4)
    return int(json.loads(base64.urlsafe_b64decode(parts[1] + pad))["sub"])


def page_of(params):
    try:
        page = max(int(params.get("page", ["1"])[0]), 1)
        limit = min(max(int(params.get("limit", ["20"])[0]), 1), 100)
    except ValueError:
        return None
    return page, limit


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body=None, headers=None):
        raw = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        try:
            data = json.loads(self.rfile.read(n) or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PATCH(self):
        self.route("PATCH")

    def do_DELETE(self):
        self.route("DELETE")

    def route(self, method):
        url = urlsplit(self.path)
        params = parse_qs(url.query)
        for pattern, verb, handle in ROUTES:
            m = re.fullmatch(pattern, url.path)
            if m and verb == method:
                return handle(self, params, *m.groups())
        self.reply(404, {"error": "not found"})

    # The Todo API.
    def register(self, params):
        data = self.body()
        email, password = data.get("email"), data.get("password")
        if not isinstance(email, str) or not email or not isinstance(password, str) or not password:
            return self.reply(400, {"error": "email and password are required"})
        try:
            rows = query("INSERT INTO users (email, password_hash) VALUES (%s, %s) RETURNING id",
                         email, hash_password(password))
        except psycopg2.errors.UniqueViolation:
            return self.reply(409, {"error": "the email is taken"})
        self.reply(201, {"id": rows[0][0], "email": email})

    def login(self, params):
        data = self.body()
        email, password = data.get("email"), data.get("password")
        rows = query("SELECT id, password_hash FROM users WHERE email = %s", email) if isinstance(email, str) else []
        if not rows or not isinstance(password, str) or not password_ok(rows[0][1], password):
            return self.reply(401, {"error": "wrong email or password"})
        self.reply(200, {"token": token_for(rows[0][0])})

    def authed(self):
        user = user_of(self.headers.get("Authorization", ""))
        if user is None:
            self.reply(401, {"error": "a valid token is required"})
        return user

    def list_todos(self, params):
        user = self.authed()
        if user is None:
            return
        page, limit = page_of(params) or (1, 20)
        rows = query("SELECT id, title, done FROM todos WHERE user_id = %s ORDER BY id LIMIT %s OFFSET %s",
                     user, limit, (page - 1) * limit)
        total = query("SELECT count(*) FROM todos WHERE user_id = %s", user)[0][0]
        items = [{"id": r[0], "title": r[1], "done": r[2]} for r in rows]
        self.reply(200, {"items": items, "page": page, "limit": limit, "total": total})

    def create_todo(self, params):
        user = self.authed()
        if user is None:
            return
        title = self.body().get("title")
        if not isinstance(title, str) or not title:
            return self.reply(400, {"error": "title is required"})
        rows = query("INSERT INTO todos (user_id, title) VALUES (%s, %s) RETURNING id", user, title)
        self.reply(201, {"id": rows[0][0], "title": title, "done": False})

    def patch_todo(self, params, todo_id):
        user = self.authed()
        if user is None:
            return
        data = self.body()
        rows = query("UPDATE todos SET title = coalesce(%s, title), done = coalesce(%s, done) "
                     "WHERE id = %s AND user_id = %s RETURNING id, title, done",
                     data.get("title"), data.get("done"), int(todo_id), user)
        if not rows:
            return self.reply(404, {"error": "no such todo"})
        self.reply(200, {"id": rows[0][0], "title": rows[0][1], "done": rows[0][2]})

    def delete_todo(self, params, todo_id):
        user = self.authed()
        if user is None:
            return
        rows = query("DELETE FROM todos WHERE id = %s AND user_id = %s RETURNING id", int(todo_id), user)
        if not rows:
            return self.reply(404, {"error": "no such todo"})
        self.reply(204)

    # The URL shortener.
    def shorten(self, params):
        url = self.body().get("url")
        if not isinstance(url, str) or not re.fullmatch(r"https?://\S+", url):
            return self.reply(400, {"error": "url must be an http:// or https:// link"})
        code = secrets.token_urlsafe(6)
        query("INSERT INTO links (code, url) VALUES (%s, %s)", code, url)
        self.reply(201, {"code": code, "url": url, "visits": 0})

    def link(self, params, code):
        rows = query("SELECT url, visits FROM links WHERE code = %s", code)
        if not rows:
            return self.reply(404, {"error": "no such link"})
        self.reply(200, {"code": code, "url": rows[0][0], "visits": rows[0][1]})

    def visit(self, params, code):
        url = CACHE.get("links:" + code) if CACHE else None
        if url is None:
            rows = query("SELECT url FROM links WHERE code = %s", code)
            if not rows:
                return self.reply(404, {"error": "no such link"})
            url = rows[0][0]
            if CACHE:
                CACHE.set("links:" + code, url, ex=3600)
        else:
            url = url.decode()
        query("UPDATE links SET visits = visits + 1 WHERE code = %s", code)
        self.reply(302, None, {"Location": url})

    # The blog.
    def post_of(self, row):
        return {"id": row[0], "title": row[1], "body": row[2], "author": row[3], "createdAt": row[4].isoformat()}

    def create_post(self, params):
        data = self.body()
        if not all(isinstance(data.get(k), str) and data.get(k) for k in ("title", "body", "author")):
            return self.reply(400, {"error": "title, body and author are required"})
        rows = query("INSERT INTO posts (title, body, author) VALUES (%s, %s, %s) "
                     "RETURNING id, title, body, author, created_at", data["title"], data["body"], data["author"])
        self.reply(201, self.post_of(rows[0]))

    def list_posts(self, params):
        page, limit = page_of(params) or (1, 20)
        author = params.get("author", [None])[0]
        rows = query("SELECT id, title, body, author, created_at FROM posts WHERE %s IS NULL OR author = %s "
                     "ORDER BY id DESC LIMIT %s OFFSET %s", author, author, limit, (page - 1) * limit)
        total = query("SELECT count(*) FROM posts WHERE %s IS NULL OR author = %s", author, author)[0][0]
        self.reply(200, {"items": [self.post_of(r) for r in rows], "page": page, "limit": limit, "total": total})

    def get_post(self, params, post_id):
        rows = query("SELECT id, title, body, author, created_at FROM posts WHERE id = %s", int(post_id))
        if not rows:
            return self.reply(404, {"error": "no such post"})
        self.reply(200, self.post_of(rows[0]))

    def comments(self, params, post_id):
        if not query("SELECT 1 FROM posts WHERE id = %s", int(post_id)):
            return self.reply(404, {"error": "no such post"})
        rows = query("SELECT id, post_id, author, body, created_at FROM comments WHERE post_id = %s ORDER BY id",
                     int(post_id))
        items = [{"id": r[0], "postId": r[1], "author": r[2], "body": r[3], "createdAt": r[4].isoformat()} for r in rows]
        self.reply(200, {"items": items})

    def comment(self, params, post_id):
        data = self.body()
        if not query("SELECT 1 FROM posts WHERE id = %s", int(post_id)):
            return self.reply(404, {"error": "no such post"})
        if not all(isinstance(data.get(k), str) and data.get(k) for k in ("author", "body")):
            return self.reply(400, {"error": "author and body are required"})
        rows = query("INSERT INTO comments (post_id, author, body) VALUES (%s, %s, %s) RETURNING id, created_at",
                     int(post_id), data["author"], data["body"])
        self.reply(201, {"id": rows[0][0], "postId": int(post_id), "author": data["author"], "body": data["body"],
                         "createdAt": rows[0][1].isoformat()})


ROUTES = [
    (r"/api/v1/auth/register", "POST", Handler.register),
    (r"/api/v1/auth/login", "POST", Handler.login),
    (r"/api/v1/todos", "GET", Handler.list_todos),
    (r"/api/v1/todos", "POST", Handler.create_todo),
    (r"/api/v1/todos/(\d{1,18})", "PATCH", Handler.patch_todo),
    (r"/api/v1/todos/(\d{1,18})", "DELETE", Handler.delete_todo),
    (r"/api/v1/links", "POST", Handler.shorten),
    (r"/api/v1/links/([A-Za-z0-9_-]{1,64})", "GET", Handler.link),
    (r"/api/v1/posts", "GET", Handler.list_posts),
    (r"/api/v1/posts", "POST", Handler.create_post),
    (r"/api/v1/posts/(\d{1,18})", "GET", Handler.get_post),
    (r"/api/v1/posts/(\d{1,18})/comments", "GET", Handler.comments),
    (r"/api/v1/posts/(\d{1,18})/comments", "POST", Handler.comment),
    (r"/([A-Za-z0-9_-]{1,64})", "GET", Handler.visit),
]

if __name__ == "__main__":
    query(SCHEMA)
    ThreadingHTTPServer(("", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()
