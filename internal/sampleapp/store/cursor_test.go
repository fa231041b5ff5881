package store_test

import (
	"encoding/base64"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/store"
)

const sampleID = "0f8fad5b-d9cb-469f-a165-70867728950e"

func TestCursorRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
	}{
		{"microsecond precision", time.Date(2026, 5, 1, 12, 30, 0, 123456000, time.UTC)},
		{"epoch", time.UnixMicro(0).UTC()},
		{"before epoch", time.Date(1960, 1, 1, 0, 0, 0, 1000, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			in := store.Cursor{CreatedAt: tc.at, ID: sampleID}
			out, err := store.DecodeCursor(in.Encode())
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(out.CreatedAt.Equal(in.CreatedAt)).To(BeTrue())
			g.Expect(out.ID).To(Equal(sampleID))
		})
	}
}

func TestDecodeCursorRejects(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tests := map[string]string{
		"not base64":      "%%%",
		"empty":           "",
		"wrong version":   enc("v2.1." + sampleID),
		"no id":           enc("v1.12345"),
		"bad id":          enc("v1.12345.not-a-uuid"),
		"bad timestamp":   enc("v1.abc." + sampleID),
		"missing version": enc("12345." + sampleID),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := store.DecodeCursor(in)
			NewWithT(t).Expect(err).To(MatchError(store.ErrBadCursor))
		})
	}
}

func TestValidID(t *testing.T) {
	tests := map[string]bool{
		sampleID:                               true,
		"0F8FAD5B-D9CB-469F-A165-70867728950E": true,
		"0f8fad5b-d9cb-469f-a165-70867728950":  false,
		"0f8fad5bxd9cb-469f-a165-70867728950e": false,
		"0f8fad5b-d9cb-469f-a165-70867728950g": false,
		"":                                     false,
	}
	for id, want := range tests {
		t.Run(id, func(t *testing.T) {
			NewWithT(t).Expect(store.ValidID(id)).To(Equal(want))
		})
	}
}

func TestMigrationsAreOrderedAndNonEmpty(t *testing.T) {
	g := NewWithT(t)
	migrations, err := store.Migrations()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(migrations).NotTo(BeEmpty())
	for i, m := range migrations {
		g.Expect(m.SQL).NotTo(BeEmpty(), m.Version)
		if i > 0 {
			g.Expect(m.Version > migrations[i-1].Version).To(BeTrue(), "migrations must sort by file name")
		}
	}
}
