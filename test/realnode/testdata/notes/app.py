import http.server, json, os
import psycopg2, redis

db = psycopg2.connect(os.environ["DATABASE_URL"])
db.autocommit = True
cache = redis.Redis.from_url(os.environ["REDIS_URL"])

class Notes(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with db.cursor() as cur:
            cur.execute("SELECT body FROM notes ORDER BY id")
            notes = [row[0] for row in cur.fetchall()]
        body = json.dumps({"notes": notes, "hits": cache.incr("notes:hits")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

http.server.HTTPServer(("", int(os.environ["PORT"])), Notes).serve_forever()
