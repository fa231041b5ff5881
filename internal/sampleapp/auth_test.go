package sampleapp_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	. "github.com/onsi/gomega"
)

func TestRegister(t *testing.T) {
	app := newApp(t, sharedRedis)
	taken := uniqueEmail("taken")
	app.register(taken, "password-1")

	tests := []struct {
		name        string
		body        any
		contentType string
		wantStatus  int
		wantError   string
	}{
		{name: "valid", body: credentials{uniqueEmail("ok"), "password-1"}, wantStatus: http.StatusCreated},
		{name: "duplicate", body: credentials{taken, "password-2"}, wantStatus: http.StatusConflict,
			wantError: "already registered"},
		{name: "duplicate in other case", body: credentials{strings.ToUpper(taken), "password-2"},
			wantStatus: http.StatusConflict, wantError: "already registered"},
		{name: "invalid email", body: credentials{"not-an-email", "password-1"},
			wantStatus: http.StatusBadRequest, wantError: "email"},
		{name: "password of 7 characters", body: credentials{uniqueEmail("short"), "1234567"},
			wantStatus: http.StatusBadRequest, wantError: "at least 8"},
		{name: "password over 72 bytes", body: credentials{uniqueEmail("long"), strings.Repeat("p", 73)},
			wantStatus: http.StatusBadRequest, wantError: "at most 72"},
		{name: "unknown field", body: `{"email":"x@example.com","password":"password-1","admin":true}`,
			wantStatus: http.StatusBadRequest, wantError: `unknown field "admin"`},
		{name: "not JSON", body: `email=x`, wantStatus: http.StatusBadRequest, wantError: "not valid JSON"},
		{name: "oversized body", body: `{"email":"` + strings.Repeat("a", 20000) + `"}`,
			wantStatus: http.StatusRequestEntityTooLarge, wantError: "at most"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			resp := app.do(http.MethodPost, "/api/v1/auth/register", "", tc.body)
			g.Expect(resp.status).To(Equal(tc.wantStatus), string(resp.body))
			if tc.wantError != "" {
				g.Expect(resp.errorMessage(t)).To(ContainSubstring(tc.wantError))
				return
			}
			var user struct{ ID, Email string }
			resp.decode(t, &user)
			g.Expect(user.ID).NotTo(BeEmpty())
			g.Expect(user.Email).To(Equal(tc.body.(credentials).Email))
		})
	}
}

func TestRegisterRefusesOtherMediaTypes(t *testing.T) {
	g := NewWithT(t)
	app := newApp(t, nil)
	req, err := http.NewRequest(http.MethodPost, app.url+"/api/v1/auth/register",
		strings.NewReader(`{"email":"a@example.com","password":"password-1"}`))
	g.Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Content-Type", "text/plain")
	resp, err := app.client.Do(req)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	g.Expect(resp.StatusCode).To(Equal(http.StatusUnsupportedMediaType))
}

func TestLogin(t *testing.T) {
	app := newApp(t, sharedRedis)
	email := uniqueEmail("login")
	userID := app.register(email, "password-1")

	tests := []struct {
		name       string
		body       any
		wantStatus int
	}{
		{"valid", credentials{email, "password-1"}, http.StatusOK},
		{"email in other case and with spaces", credentials{" " + strings.ToUpper(email), "password-1"},
			http.StatusOK},
		{"wrong password", credentials{email, "password-2"}, http.StatusUnauthorized},
		{"unknown email", credentials{uniqueEmail("nobody"), "password-1"}, http.StatusUnauthorized},
		{"missing password", `{"email":"` + email + `"}`, http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			resp := app.do(http.MethodPost, "/api/v1/auth/login", "", tc.body)
			g.Expect(resp.status).To(Equal(tc.wantStatus), string(resp.body))
			if tc.wantStatus != http.StatusOK {
				g.Expect(resp.errorMessage(t)).NotTo(BeEmpty())
				return
			}
			var tok struct {
				Token     string `json:"token"`
				ExpiresAt string `json:"expiresAt"`
			}
			resp.decode(t, &tok)
			app.remember(tok.Token)
			g.Expect(tok.ExpiresAt).NotTo(BeEmpty())

			claims := jwt.RegisteredClaims{}
			parsed, err := jwt.ParseWithClaims(tok.Token, &claims, func(*jwt.Token) (any, error) {
				return []byte(jwtSecret), nil
			}, jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(parsed.Valid).To(BeTrue())
			g.Expect(claims.Subject).To(Equal(userID))
			g.Expect(claims.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z")).To(Equal(tok.ExpiresAt))
		})
	}
}

func TestTodosNeedAValidToken(t *testing.T) {
	app := newApp(t, nil)
	_, token := app.newUser("tokens")
	forged, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "x", "exp": 4102444800}).
		SignedString([]byte("another-secret-0123456789abcdef012345"))
	NewWithT(t).Expect(err).NotTo(HaveOccurred())

	tests := map[string]string{
		"no header":             "",
		"not bearer":            "Basic " + token,
		"garbage":               "Bearer garbage",
		"signed by another key": "Bearer " + forged,
	}
	for name, header := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			req, err := http.NewRequest(http.MethodGet, app.url+"/api/v1/todos", nil)
			g.Expect(err).NotTo(HaveOccurred())
			if header != "" {
				req.Header.Set("Authorization", header)
			}
			resp, err := app.client.Do(req)
			g.Expect(err).NotTo(HaveOccurred())
			defer func() { _ = resp.Body.Close() }()
			g.Expect(resp.StatusCode).To(Equal(http.StatusUnauthorized))
			g.Expect(resp.Header.Get("WWW-Authenticate")).To(HavePrefix("Bearer"))
		})
	}
}
