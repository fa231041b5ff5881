package config_test

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/config"
)

const (
	validDB     = "postgres://app:s3cret-db@db:5432/app?sslmode=disable"
	validRedis  = "redis://:s3cret-redis@redis:6379/0"
	validSecret = "0123456789abcdef0123456789abcdef"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		wantErr   []string
		wantPort  int
		wantRedis bool
	}{
		{
			name:     "minimal without redis",
			env:      map[string]string{"DATABASE_URL": validDB, "JWT_SECRET": validSecret},
			wantPort: 8080,
		},
		{
			name: "everything set",
			env: map[string]string{"DATABASE_URL": validDB, "JWT_SECRET": validSecret,
				"REDIS_URL": validRedis, "PORT": "9090"},
			wantPort:  9090,
			wantRedis: true,
		},
		{
			name:    "nothing set names every required variable",
			env:     map[string]string{},
			wantErr: []string{"DATABASE_URL is required", "JWT_SECRET is required"},
		},
		{
			name:    "short secret",
			env:     map[string]string{"DATABASE_URL": validDB, "JWT_SECRET": "short"},
			wantErr: []string{"at least 32 bytes"},
		},
		{
			name:    "wrong database scheme",
			env:     map[string]string{"DATABASE_URL": "mysql://u:p@h/db", "JWT_SECRET": validSecret},
			wantErr: []string{"DATABASE_URL must be a URL like"},
		},
		{
			name:    "unparsable database URL",
			env:     map[string]string{"DATABASE_URL": "postgres://u:pw@h:bad port/db", "JWT_SECRET": validSecret},
			wantErr: []string{"DATABASE_URL must be a URL like"},
		},
		{
			name: "wrong redis scheme",
			env: map[string]string{"DATABASE_URL": validDB, "JWT_SECRET": validSecret,
				"REDIS_URL": "http://:pw@redis:6379"},
			wantErr: []string{"REDIS_URL must be a URL like"},
		},
		{
			name: "bad redis database number",
			env: map[string]string{"DATABASE_URL": validDB, "JWT_SECRET": validSecret,
				"REDIS_URL": "redis://:pw@redis:6379/x"},
			wantErr: []string{"REDIS_URL is invalid"},
		},
		{
			name:    "bad port",
			env:     map[string]string{"DATABASE_URL": validDB, "JWT_SECRET": validSecret, "PORT": "70000"},
			wantErr: []string{"PORT must be a TCP port"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			cfg, err := config.Load(envOf(tc.env))
			if len(tc.wantErr) > 0 {
				g.Expect(err).To(HaveOccurred())
				for _, want := range tc.wantErr {
					g.Expect(err.Error()).To(ContainSubstring(want))
				}
				g.Expect(err.Error()).NotTo(ContainSubstring("pw@"), "errors must not leak passwords")
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cfg.Port).To(Equal(tc.wantPort))
			g.Expect(cfg.RedisEnabled()).To(Equal(tc.wantRedis))
			g.Expect(cfg.TokenTTL).To(Equal(time.Hour))
		})
	}
}

func TestRedact(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{validDB, "postgres://app:xxxxx@db:5432/app?sslmode=disable"},
		{validRedis, "redis://:xxxxx@redis:6379/0"},
		{"redis://redis:6379/0", "redis://redis:6379/0"},
		{"postgres://u:pw@h:bad port/db", "<unparsable URL>"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			NewWithT(t).Expect(config.Redact(tc.in)).To(Equal(tc.want))
		})
	}
}
