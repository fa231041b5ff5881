// Package auth hashes passwords and issues and verifies the app's access
// tokens.
package auth

import (
	"fmt"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// MaxPasswordBytes is bcrypt's input limit; longer passwords are refused
// rather than silently truncated.
const MaxPasswordBytes = 72

// ErrPasswordTooLong is returned for passwords bcrypt cannot hash.
var ErrPasswordTooLong = fmt.Errorf("password must be at most %d bytes", MaxPasswordBytes)

// Passwords hashes and checks passwords with bcrypt at a fixed cost.
type Passwords struct {
	cost int
	// dummy is a hash compared against when the account does not exist, so
	// that a login for an unknown email costs as much as a wrong password
	// and response times do not reveal which emails are registered.
	dummy func() []byte
}

// NewPasswords returns a Passwords using the given bcrypt cost.
func NewPasswords(cost int) *Passwords {
	return &Passwords{
		cost: cost,
		dummy: sync.OnceValue(func() []byte {
			h, err := bcrypt.GenerateFromPassword([]byte("timing-equaliser"), cost)
			if err != nil {
				panic(fmt.Sprintf("bcrypt of a constant failed: %v", err))
			}
			return h
		}),
	}
}

// Hash returns the bcrypt hash of password.
func (p *Passwords) Hash(password string) (string, error) {
	if len(password) > MaxPasswordBytes {
		return "", ErrPasswordTooLong
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), p.cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// Matches reports whether password matches hash. bcrypt would compare only
// the first 72 bytes of a longer password; such passwords cannot have been
// registered, so they never match.
func (p *Passwords) Matches(hash, password string) bool {
	if len(password) > MaxPasswordBytes {
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// SpendComparison does the work of one failed comparison; see dummy.
func (p *Passwords) SpendComparison(password string) {
	_ = bcrypt.CompareHashAndPassword(p.dummy(), []byte(password))
}
