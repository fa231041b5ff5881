package store

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// ErrBadCursor means a pagination cursor was not produced by this app.
var ErrBadCursor = errors.New("invalid cursor")

// Cursor is the position after the last todo of a page: the keyset
// (created_at, id) the next page continues from.
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// cursorVersion prefixes encoded cursors so the format can change later
// without misreading cursors that clients still hold.
const cursorVersion = "v1"

// Encode returns the cursor as an opaque, URL-safe string. Microseconds are
// PostgreSQL's timestamp precision, so the position round-trips exactly.
func (c Cursor) Encode() string {
	raw := cursorVersion + "." + strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + "." + c.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodeCursor parses a string made by Cursor.Encode.
func DecodeCursor(s string) (Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, ErrBadCursor
	}
	version, rest, ok := strings.Cut(string(raw), ".")
	if !ok || version != cursorVersion {
		return Cursor{}, ErrBadCursor
	}
	micros, id, ok := strings.Cut(rest, ".")
	if !ok || !ValidID(id) {
		return Cursor{}, ErrBadCursor
	}
	us, err := strconv.ParseInt(micros, 10, 64)
	if err != nil {
		return Cursor{}, ErrBadCursor
	}
	return Cursor{CreatedAt: time.UnixMicro(us).UTC(), ID: id}, nil
}

// ValidID reports whether id has the textual form of a UUID. Checking it here
// turns a malformed id into "not found" instead of a database error.
func ValidID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := range len(id) {
		c := id[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}
