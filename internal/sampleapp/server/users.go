package server

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/auth"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/store"
)

const (
	minPasswordChars = 8
	maxEmailBytes    = 254 // RFC 5321's limit on a forward path
)

type credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type userBody struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

type tokenBody struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// normaliseEmail makes the same mailbox map to the same account whatever
// case or surrounding spaces the client sends.
func normaliseEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// validEmail accepts a bare address (no display name) of at most 254 bytes.
func validEmail(email string) bool {
	if email == "" || len(email) > maxEmailBytes {
		return false
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email {
		return false
	}
	domain := email[strings.LastIndexByte(email, '@')+1:]
	return strings.Contains(domain, ".")
}

// register creates an account; duplicates are detected by the database's
// unique constraint, which also holds under concurrent registrations.
func (s *Server) register(w http.ResponseWriter, r *http.Request) error {
	var in credentials
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	email := normaliseEmail(in.Email)
	if !validEmail(email) {
		return errorf(http.StatusBadRequest, "email must be a valid address")
	}
	if utf8.RuneCountInString(in.Password) < minPasswordChars {
		return errorf(http.StatusBadRequest, "password must be at least %d characters", minPasswordChars)
	}
	hash, err := s.deps.Passwords.Hash(in.Password)
	if errors.Is(err, auth.ErrPasswordTooLong) {
		return errorf(http.StatusBadRequest, "%s", err.Error())
	}
	if err != nil {
		return err
	}
	u, err := s.deps.Store.CreateUser(r.Context(), email, hash)
	if errors.Is(err, store.ErrDuplicateEmail) {
		return errorf(http.StatusConflict, "email is already registered")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, userBody{ID: u.ID, Email: u.Email})
	return nil
}

// login checks the rate limit before bcrypt, so a blocked client costs no
// hashing, and answers unknown emails and wrong passwords identically.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var in credentials
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	email := normaliseEmail(in.Email)
	if email == "" || in.Password == "" {
		return errorf(http.StatusBadRequest, "email and password are required")
	}
	ctx := r.Context()
	wait, err := s.deps.Limiter.Blocked(ctx, email)
	if err != nil {
		return err
	}
	if wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		return errorf(http.StatusTooManyRequests, "too many failed login attempts, retry later")
	}
	userID, err := s.authenticate(r, email, in.Password)
	if err != nil {
		return err
	}
	if err := s.deps.Limiter.Reset(ctx, email); err != nil {
		return err
	}
	token, exp, err := s.deps.Tokens.Issue(userID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tokenBody{Token: token, ExpiresAt: exp.UTC()})
	return nil
}

// authenticate returns the id of the account whose credentials these are,
// counting a failure against the email otherwise.
func (s *Server) authenticate(r *http.Request, email, password string) (string, error) {
	u, err := s.deps.Store.UserByEmail(r.Context(), email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.deps.Passwords.SpendComparison(password)
	case err != nil:
		return "", err
	case s.deps.Passwords.Matches(u.PasswordHash, password):
		return u.ID, nil
	}
	// A client hanging up must not keep its failure from being counted.
	if err := s.deps.Limiter.Fail(context.WithoutCancel(r.Context()), email); err != nil {
		return "", err
	}
	return "", errorf(http.StatusUnauthorized, "invalid email or password")
}

// authed adapts a handler that needs the caller's user id from a valid
// bearer token; requests without one get 401.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, string) error) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		userID, err := s.bearerUser(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sample-app"`)
			return err
		}
		return h(w, r, userID)
	})
}

func (s *Server) bearerUser(r *http.Request) (string, error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", errorf(http.StatusUnauthorized, "missing bearer token")
	}
	userID, err := s.deps.Tokens.Verify(strings.TrimSpace(token))
	if err != nil {
		return "", errorf(http.StatusUnauthorized, "%s", err.Error())
	}
	return userID, nil
}
