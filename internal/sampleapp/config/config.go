// Package config reads the sample app's settings from the environment, the
// only configuration source the operator gives the app in a learner's sandbox.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"
)

// Names of the environment variables the app reads.
const (
	EnvDatabaseURL = "DATABASE_URL"
	EnvRedisURL    = "REDIS_URL"
	EnvPort        = "PORT"
	EnvJWTSecret   = "JWT_SECRET"
)

// DefaultPort is the HTTP port used when PORT is unset.
const DefaultPort = 8080

// MinJWTSecretBytes is the shortest accepted JWT_SECRET: RFC 7518 requires an
// HS256 key to be at least as long as the hash output (256 bits).
const MinJWTSecretBytes = 32

// Config is the validated configuration of one app process.
type Config struct {
	// DatabaseURL is the PostgreSQL connection URL; it holds a password, so
	// log RedactedDatabaseURL instead.
	DatabaseURL string
	// RedisURL is empty when the app runs without Redis.
	RedisURL string
	// Port is the TCP port the HTTP server listens on.
	Port int
	// JWTSecret signs and verifies access tokens; never log it.
	JWTSecret []byte
	// TokenTTL is how long an issued access token stays valid.
	TokenTTL time.Duration
	// BcryptCost is the work factor for password hashes. It is not read from
	// the environment; tests lower it to keep registrations fast.
	BcryptCost int
}

// Load builds a Config from getenv (os.Getenv in production), so that tests
// can pass a map instead of mutating the process environment.
func Load(getenv func(string) string) (Config, error) {
	cfg := Config{
		DatabaseURL: getenv(EnvDatabaseURL),
		RedisURL:    getenv(EnvRedisURL),
		Port:        DefaultPort,
		JWTSecret:   []byte(getenv(EnvJWTSecret)),
		TokenTTL:    time.Hour,
		BcryptCost:  bcrypt.DefaultCost,
	}
	if p := getenv(EnvPort); p != "" {
		port, err := strconv.Atoi(p)
		if err != nil || port < 1 || port > 65535 {
			return Config{}, fmt.Errorf("%s must be a TCP port between 1 and 65535, got %q", EnvPort, p)
		}
		cfg.Port = port
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Validate reports every invalid setting at once so that a misconfigured
// pod's log names all problems in one restart.
func (c Config) Validate() error {
	var errs []error
	if err := validateDatabaseURL(c.DatabaseURL); err != nil {
		errs = append(errs, err)
	}
	if err := validateRedisURL(c.RedisURL); err != nil {
		errs = append(errs, err)
	}
	if len(c.JWTSecret) < MinJWTSecretBytes {
		errs = append(errs, fmt.Errorf("%s is required and must be at least %d bytes long",
			EnvJWTSecret, MinJWTSecretBytes))
	}
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("%s must be between 1 and 65535", EnvPort))
	}
	if c.TokenTTL <= 0 {
		errs = append(errs, errors.New("token lifetime must be positive"))
	}
	if c.BcryptCost < bcrypt.MinCost || c.BcryptCost > bcrypt.MaxCost {
		errs = append(errs, fmt.Errorf("bcrypt cost must be between %d and %d", bcrypt.MinCost, bcrypt.MaxCost))
	}
	return errors.Join(errs...)
}

// RedisEnabled reports whether the app should use Redis.
func (c Config) RedisEnabled() bool { return c.RedisURL != "" }

// RedactedDatabaseURL is DATABASE_URL with its password masked, safe to log.
func (c Config) RedactedDatabaseURL() string { return Redact(c.DatabaseURL) }

// RedactedRedisURL is REDIS_URL with its password masked, safe to log.
func (c Config) RedactedRedisURL() string { return Redact(c.RedisURL) }

// Redact masks the password of a URL. A string that does not parse as a URL
// is replaced entirely, because it may still contain a secret.
func Redact(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable URL>"
	}
	return u.Redacted()
}

// validateDatabaseURL never wraps the parser's error: both net/url and pgx may
// quote the input, password included, and the result ends up in logs.
func validateDatabaseURL(raw string) error {
	if raw == "" {
		return fmt.Errorf("%s is required", EnvDatabaseURL)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return fmt.Errorf("%s must be a URL like postgres://user:password@host:5432/db?sslmode=disable",
			EnvDatabaseURL)
	}
	if _, err := pgxpool.ParseConfig(raw); err != nil {
		return fmt.Errorf("%s is not a valid PostgreSQL connection URL: %s", EnvDatabaseURL, Redact(raw))
	}
	return nil
}

// validateRedisURL accepts an empty value (Redis disabled). It never wraps
// net/url's error, which quotes the input, password included.
func validateRedisURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return fmt.Errorf("%s must be a URL like redis://default:password@host:6379/0", EnvRedisURL)
	}
	if _, err := redis.ParseURL(raw); err != nil {
		return fmt.Errorf("%s is invalid: %w", EnvRedisURL, err)
	}
	return nil
}
