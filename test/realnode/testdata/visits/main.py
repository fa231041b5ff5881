# A learner's first service in Python: each GET counts a visit in PostgreSQL
# (psycopg2) and keeps the count in Redis (redis-py), both found through the
# workspace's environment (DATABASE_URL, REDIS_URL, PORT).
import http.server
import os

import psycopg2
import redis

db = psycopg2.connect(os.environ["DATABASE_URL"])
db.autocommit = True
cache = redis.Redis.from_url(os.environ["REDIS_URL"])
with db.cursor() as cur:
    cur.execute("CREATE TABLE IF NOT EXISTS visits (lang text PRIMARY KEY, n int NOT NULL)")


class Visits(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with db.cursor() as cur:
            cur.execute("INSERT INTO visits VALUES ('python', 1) "
                        "ON CONFLICT (lang) DO UPDATE SET n = visits.n + 1 RETURNING n")
            n = cur.fetchone()[0]
        cache.set("visits:python", n)
        body = f"python {n} {cache.get('visits:python').decode()}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body)


http.server.HTTPServer(("", int(os.environ["PORT"])), Visits).serve_forever()
