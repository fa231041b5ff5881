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
	"sync"
	"time"
)

// lastTimes remembers, by name, when this operator last did something to an
// object: wrote a cohort's status, checked a sandbox's exercises. In memory
// only; a restarted operator starts afresh.
type lastTimes struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// at is when it was last done, if it was.
func (w *lastTimes) at(name string) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.last[name]
	return t, ok
}

// set records that it was done at now.
func (w *lastTimes) set(name string, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last == nil {
		w.last = map[string]time.Time{}
	}
	w.last[name] = now
}

// forget drops an object that is gone.
func (w *lastTimes) forget(name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.last, name)
}
