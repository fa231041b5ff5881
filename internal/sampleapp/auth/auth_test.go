package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	. "github.com/onsi/gomega"
	"golang.org/x/crypto/bcrypt"

	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/auth"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestTokensRoundTrip(t *testing.T) {
	g := NewWithT(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tokens := auth.NewTokens(secret, time.Hour, func() time.Time { return now })

	token, exp, err := tokens.Issue("user-1")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(exp).To(Equal(now.Add(time.Hour)))

	sub, err := tokens.Verify(token)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(sub).To(Equal("user-1"))
}

func TestTokensRefuse(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	sign := func(method jwt.SigningMethod, key any, claims jwt.RegisteredClaims) string {
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatalf("sign: %v", err)
		}
		return s
	}
	valid := jwt.RegisteredClaims{
		Issuer: auth.Issuer, Subject: "user-1", ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute)),
	}
	expired := valid
	expired.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute))
	noExp := valid
	noExp.ExpiresAt = nil
	otherIssuer := valid
	otherIssuer.Issuer = "someone-else"
	noSubject := valid
	noSubject.Subject = ""

	tests := map[string]string{
		"garbage":         "not.a.token",
		"empty":           "",
		"expired":         sign(jwt.SigningMethodHS256, secret, expired),
		"no expiry":       sign(jwt.SigningMethodHS256, secret, noExp),
		"other issuer":    sign(jwt.SigningMethodHS256, secret, otherIssuer),
		"no subject":      sign(jwt.SigningMethodHS256, secret, noSubject),
		"other secret":    sign(jwt.SigningMethodHS256, []byte(strings.Repeat("x", 32)), valid),
		"HS512 not HS256": sign(jwt.SigningMethodHS512, secret, valid),
		"alg none":        sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid),
	}
	tokens := auth.NewTokens(secret, time.Hour, clock)
	for name, token := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := tokens.Verify(token)
			NewWithT(t).Expect(err).To(MatchError(auth.ErrInvalidToken))
		})
	}
}

func TestPasswords(t *testing.T) {
	p := auth.NewPasswords(bcrypt.MinCost)
	tests := []struct {
		name     string
		password string
		wantErr  error
	}{
		{"ordinary", "correct horse battery", nil},
		{"exactly 72 bytes", strings.Repeat("a", 72), nil},
		{"73 bytes", strings.Repeat("a", 73), auth.ErrPasswordTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			hash, err := p.Hash(tc.password)
			if tc.wantErr != nil {
				g.Expect(err).To(MatchError(tc.wantErr))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(hash).NotTo(ContainSubstring(tc.password))
			g.Expect(p.Matches(hash, tc.password)).To(BeTrue())
			g.Expect(p.Matches(hash, tc.password+"!")).To(BeFalse())
		})
	}
	p.SpendComparison("anything")
}
