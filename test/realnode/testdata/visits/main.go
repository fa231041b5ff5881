// A learner's first service in Go: each GET counts a visit in PostgreSQL
// (pgx) and keeps the count in Redis (go-redis), both found through the
// workspace's environment (DATABASE_URL, REDIS_URL, PORT).
package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

func main() {
	ctx := context.Background()
	db, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	opts, err := redis.ParseURL(os.Getenv("REDIS_URL"))
	if err != nil {
		log.Fatal(err)
	}
	cache := redis.NewClient(opts)
	if _, err := db.Exec(ctx, "CREATE TABLE IF NOT EXISTS visits (lang text PRIMARY KEY, n int NOT NULL)"); err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		var n int
		err := db.QueryRow(r.Context(), "INSERT INTO visits VALUES ('go', 1) "+
			"ON CONFLICT (lang) DO UPDATE SET n = visits.n + 1 RETURNING n").Scan(&n)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if err := cache.Set(r.Context(), "visits:go", n, 0).Err(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		cached, err := cache.Get(r.Context(), "visits:go").Result()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "go %d %s\n", n, cached)
	})
	log.Fatal(http.ListenAndServe(":"+os.Getenv("PORT"), nil))
}
