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

package main

import (
	"testing"
	"time"
)

// TestWaitsGrowWithTheScenario: a scenario of 3,000 sandboxes may wait three
// times as long as one of 1,000, so that `make bench BENCH_SIZES=3000` does
// not give up on a run that is merely long.
func TestWaitsGrowWithTheScenario(t *testing.T) {
	for n, want := range map[int]time.Duration{
		1: 20 * time.Minute, 100: 20 * time.Minute, 1000: 20 * time.Minute,
		1001: 40 * time.Minute, 3000: 60 * time.Minute,
	} {
		if got := (scenario{n: n}).timeout(20 * time.Minute); got != want {
			t.Errorf("%d sandboxes: waits of up to %s, want %s", n, got, want)
		}
	}
}
