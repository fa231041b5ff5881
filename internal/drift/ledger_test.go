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

package drift

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
)

func TestNotNewer(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"7", "7", true},
		{"7", "10", true}, // by number, not by text
		{"10", "9", false},
		{"", "7", false},
		{"7", "", false},
		{"not-a-version", "7", false},
	} {
		if got := NotNewer(tc.a, tc.b); got != tc.want {
			t.Errorf("NotNewer(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestLedger(t *testing.T) {
	l := NewLedger()
	app, web := Key{Kind: "Deployment", Name: "app"}, Key{Kind: "Deployment", Name: "web"}
	written := time.Unix(1700000000, 5)
	l.Put("ns-a", app, Entry{ResourceVersion: "7", Generation: 2, Digest: "0123456789abcdef0123", Written: written})
	l.Put("ns-a", web, Entry{ResourceVersion: "8"})
	l.Put("ns-b", app, Entry{ResourceVersion: "9"})
	want := Entry{ResourceVersion: "7", Generation: 2, Digest: "0123456789abcdef0123", Written: written}
	if e, ok := l.Get("ns-a", app); !ok || e != want {
		t.Fatalf("Get(ns-a, app) = %+v, %v; want %+v", e, ok, want)
	}
	// What the ledger cannot keep is unknown, and matches nothing.
	l.Put("ns-c", app, Entry{ResourceVersion: "not-a-number", Digest: "short"})
	if e, _ := l.Get("ns-c", app); e.ResourceVersion != "" || e.Digest != "" || NotNewer(e.ResourceVersion, "7") {
		t.Fatalf("an unreadable entry reads back as %+v", e)
	}
	l.ForgetNamespace("ns-c")
	l.Forget("ns-a", web)
	if _, ok := l.Get("ns-a", web); ok || l.Len() != 2 {
		t.Fatalf("after Forget: %d entries, web still there: %v", l.Len(), ok)
	}
	l.ForgetNamespace("ns-a")
	if _, ok := l.Get("ns-a", app); ok {
		t.Fatal("ForgetNamespace left an entry of the namespace")
	}
	if _, ok := l.Get("ns-b", app); !ok || l.Len() != 1 {
		t.Fatal("ForgetNamespace dropped another namespace's entry")
	}
}

func TestMetadataDrifted(t *testing.T) {
	d := desired()
	if err := Stamp(d); err != nil {
		t.Fatal(err)
	}
	// The cache's copy of a Deployment has no pod template: only the
	// metadata is compared.
	cached := existing()
	cached.Spec.Template = appsv1.Deployment{}.Spec.Template
	cached.Annotations = map[string]string{DigestAnnotation: d.Annotations[DigestAnnotation]}
	if drifted, err := MetadataDrifted(d, cached); err != nil || drifted {
		t.Fatalf("MetadataDrifted = %v, %v; want no drift", drifted, err)
	}
	cached.Labels["a"] = "2"
	if drifted, err := MetadataDrifted(d, cached); err != nil || !drifted {
		t.Fatalf("MetadataDrifted of an edited label = %v, %v; want drift", drifted, err)
	}
}

func TestVersion(t *testing.T) {
	d := desired()
	if err := Stamp(d); err != nil {
		t.Fatal(err)
	}
	rv, gen := "42", int64(3)
	d.ResourceVersion, d.Generation = &rv, &gen
	e, err := Version(d)
	if err != nil || e.ResourceVersion != "42" || e.Generation != 3 || e.Digest != d.Annotations[DigestAnnotation] || e.Digest == "" {
		t.Fatalf("Version = %+v, %v", e, err)
	}
}
