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
	"encoding/hex"
	"slices"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/resourceversion"
)

// Ledger remembers, for each object a controller applies, the version at
// which the object last held everything the apply sets: the resourceVersion
// and generation its apply returned, or those of a full read that found no
// drift. With it, a cache that keeps only part of an object (its metadata,
// say) still tells a hand edit from no change: any write moves the
// resourceVersion, and any change to the spec of a kind that has one moves
// the generation. It also tells a cache that has not yet seen the
// controller's own write, so that the write is not made twice.
//
// The ledger is memory only: after a restart every object is unknown, and is
// read once in full before it is trusted. It is safe for concurrent use.
type Ledger struct {
	mu sync.Mutex
	// records are by the namespace the object belongs to (a namespace
	// belongs to itself), so that a sandbox's go at once; in a list, not a
	// map: a namespace has some twenty, and a list of them takes a third of
	// the memory.
	records map[string][]keyed
}

// keyed is a record with its key.
type keyed struct {
	key Key
	rec record
}

// record is an Entry as the ledger keeps it, in 40 bytes: a fleet of
// sandboxes has tens of thousands.
type record struct {
	resourceVersion uint64
	generation      int64
	digest          [digestBytes]byte
	written         int64 // Unix nanoseconds; zero when read, not written
}

// digestBytes is the length of a DigestAnnotation's value, decoded.
const digestBytes = 10

// Key names an object within its namespace.
type Key struct {
	Kind, Name string
}

// Entry is what the ledger knows of one object.
type Entry struct {
	// ResourceVersion and Generation are the object's when it was last
	// known to hold what an apply with Digest sets.
	ResourceVersion string
	Generation      int64
	// Digest is the DigestAnnotation of the configuration it holds.
	Digest string
	// Written is when the controller itself wrote that version; zero when
	// the version was read, not written.
	Written time.Time
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger {
	return &Ledger{records: map[string][]keyed{}}
}

// Get returns the entry of an object, if any.
func (l *Ledger) Get(namespace string, key Key) (Entry, bool) {
	l.mu.Lock()
	i := l.find(namespace, key)
	var rec record
	if i >= 0 {
		rec = l.records[namespace][i].rec
	}
	l.mu.Unlock()
	if i < 0 {
		return Entry{}, false
	}
	e := Entry{Generation: rec.generation}
	if rec.digest != ([digestBytes]byte{}) {
		e.Digest = hex.EncodeToString(rec.digest[:])
	}
	if rec.resourceVersion > 0 {
		e.ResourceVersion = strconv.FormatUint(rec.resourceVersion, 10)
	}
	if rec.written != 0 {
		e.Written = time.Unix(0, rec.written)
	}
	return e, true
}

// Put records an entry. A resourceVersion that is not a number, or a digest
// that is not one of Stamp's, is recorded as unknown: it then matches nothing.
func (l *Ledger) Put(namespace string, key Key, e Entry) {
	rec := record{generation: e.Generation}
	rec.resourceVersion, _ = strconv.ParseUint(e.ResourceVersion, 10, 64)
	if d, err := hex.DecodeString(e.Digest); err == nil && len(d) == digestBytes {
		copy(rec.digest[:], d)
	}
	if !e.Written.IsZero() {
		rec.written = e.Written.UnixNano()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if i := l.find(namespace, key); i >= 0 {
		l.records[namespace][i].rec = rec
		return
	}
	// Grown by one, not doubled: the list is as long as what it holds.
	list := l.records[namespace]
	grown := make([]keyed, len(list)+1)
	copy(grown, list)
	grown[len(list)] = keyed{key: key, rec: rec}
	l.records[namespace] = grown
}

// find is the index of key in the namespace's list, or -1. Call it with l.mu held.
func (l *Ledger) find(namespace string, key Key) int {
	for i, k := range l.records[namespace] {
		if k.key == key {
			return i
		}
	}
	return -1
}

// Forget drops what the ledger knows of one object.
func (l *Ledger) Forget(namespace string, key Key) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i := l.find(namespace, key); i >= 0 {
		list := l.records[namespace]
		if len(list) == 1 {
			delete(l.records, namespace)
			return
		}
		l.records[namespace] = slices.Delete(slices.Clone(list), i, i+1)
	}
}

// ForgetNamespace drops what the ledger knows of a namespace's objects.
func (l *Ledger) ForgetNamespace(namespace string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.records, namespace)
}

// Len is how many objects the ledger knows.
func (l *Ledger) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, byKey := range l.records {
		n += len(byKey)
	}
	return n
}

// NotNewer reports whether resourceVersion a is the same as b or older.
// Resource versions are comparable integers (KEP-5504); one that is not
// well formed is never called older.
func NotNewer(a, b string) bool {
	c, err := resourceversion.CompareResourceVersion(a, b)
	return err == nil && c <= 0
}
