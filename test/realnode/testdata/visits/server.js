// A learner's first service in Node.js: each GET counts a visit in PostgreSQL
// (pg, which reads the PG* variables) and keeps the count in Redis (redis),
// both found through the workspace's environment.
const http = require('http');
const { Pool } = require('pg');
const { createClient } = require('redis');

async function main() {
  const db = new Pool();
  const cache = createClient({ url: process.env.REDIS_URL });
  await cache.connect();
  await db.query('CREATE TABLE IF NOT EXISTS visits (lang text PRIMARY KEY, n int NOT NULL)');
  http.createServer(async (req, res) => {
    try {
      const { rows } = await db.query("INSERT INTO visits VALUES ('node', 1) " +
        'ON CONFLICT (lang) DO UPDATE SET n = visits.n + 1 RETURNING n');
      const n = rows[0].n;
      await cache.set('visits:node', String(n));
      const cached = await cache.get('visits:node');
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(`node ${n} ${cached}\n`);
    } catch (err) {
      res.writeHead(500);
      res.end(String(err));
    }
  }).listen(Number(process.env.PORT));
}

main().catch((err) => { console.error(err); process.exit(1); });
