// Command sample-app is the todo service the learning-sandbox operator runs
// as the App component of every learner's sandbox. It is configured only
// from the environment: DATABASE_URL and JWT_SECRET (required), REDIS_URL
// and PORT (optional). See docs/sample-app.md.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/config"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	sampleapp.RouteRedisLogs(log)
	if err := run(log); err != nil {
		log.Error("sample app failed", "error", err)
		os.Exit(1)
	}
}

// run returns instead of exiting so that deferred clean-up happens.
func run(log *slog.Logger) error {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	// SIGTERM is how Kubernetes stops a pod; SIGINT is Ctrl-C locally.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return sampleapp.Run(ctx, cfg, log)
}
