/*
Copyright 2026.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

	http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/
package controller

import (
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestTokenRefreshIn(t *testing.T) {
	issued := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	secret := func(issuedAt, expiresAt string) map[string]string {
		return map[string]string{tokenIssuedAnnotation: issuedAt, tokenExpiresAnnotation: expiresAt}
	}
	threeHourToken := secret("2026-12-01T10:00:00Z", "2026-12-01T13:00:00Z")
	at := func(d time.Duration) *metav1.Time { t := metav1.NewTime(issued.Add(d)); return &t }
	for _, tc := range []struct {
		name      string
		secret    map[string]string
		sandbox   *metav1.Time
		now       time.Duration
		refreshIn time.Duration
		ok        bool
	}{
		{name: "fresh token: refresh when a third is left", secret: threeHourToken, now: 0, refreshIn: 2 * time.Hour, ok: true},
		{name: "half way", secret: threeHourToken, now: 90 * time.Minute, refreshIn: 30 * time.Minute, ok: true},
		{name: "a third left: due", secret: threeHourToken, now: 2 * time.Hour, ok: false},
		{name: "expired: due", secret: threeHourToken, now: 4 * time.Hour, ok: false},
		{name: "outlives the sandbox: never refreshed", secret: threeHourToken, sandbox: at(3 * time.Hour), now: 150 * time.Minute, ok: true},
		{name: "expires within a minute of the sandbox: never refreshed", secret: threeHourToken, sandbox: at(3*time.Hour + 59*time.Second), now: 2 * time.Hour, ok: true},
		{name: "sandbox outlives it: refreshed", secret: threeHourToken, sandbox: at(3*time.Hour + 2*time.Minute), now: 2 * time.Hour, ok: false},
		{name: "no annotations: due", secret: nil, ok: false},
		{name: "unreadable: due", secret: secret("yesterday", "2026-12-01T13:00:00Z"), ok: false},
		{name: "expires before issued: due", secret: secret("2026-12-01T13:00:00Z", "2026-12-01T10:00:00Z"), ok: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			refreshIn, ok := tokenRefreshIn(tc.secret, tc.sandbox, issued.Add(tc.now))
			g.Expect(ok).To(Equal(tc.ok))
			g.Expect(refreshIn).To(Equal(tc.refreshIn))
		})
	}
}

func TestGrantedLifetime(t *testing.T) {
	jwt := func(payload string) string {
		return "e30." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
	}
	for _, tc := range []struct {
		token string
		want  time.Duration
	}{
		{jwt(`{"iat":1000,"exp":4600}`), time.Hour},
		{jwt(`{"iat":1000,"exp":1000}`), 24 * time.Hour},
		{jwt(`not json`), 24 * time.Hour},
		{"opaque", 24 * time.Hour},
	} {
		t.Run(fmt.Sprint(tc.token), func(t *testing.T) {
			NewWithT(t).Expect(grantedLifetime(tc.token, 24*time.Hour)).To(Equal(tc.want))
		})
	}
}
