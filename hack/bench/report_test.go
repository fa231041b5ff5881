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
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestSpread(t *testing.T) {
	runs := func(seconds ...float64) []result {
		out := make([]result, 0, len(seconds))
		for _, s := range seconds {
			out = append(out, result{tObjects: time.Duration(s * float64(time.Second))})
		}
		return out
	}
	tObjects := func(res result) (float64, bool) { return res.tObjects.Seconds(), true }
	for _, tc := range []struct {
		rows []result
		want string
	}{
		{runs(300), "300.0"},
		{runs(420, 300, 330), "330.0 [300.0–420.0]"},
		{runs(300, 340), "320.0 [300.0–340.0]"},
		{nil, notAvailable},
	} {
		if got := spread(tc.rows, "%.1f", tObjects); got != tc.want {
			t.Errorf("spread of %d runs = %q, want %q", len(tc.rows), got, tc.want)
		}
	}
	noRaw := func(result) (float64, bool) { return 0, false }
	if got := spread(runs(1, 2), "%.1f", noRaw); got != notAvailable {
		t.Errorf("a figure no run measured reads %q, want %s", got, notAvailable)
	}
}

func TestSummaryHasARowPerScenario(t *testing.T) {
	r := &report{cfg: config{steadyWindow: 20 * time.Second, restartWindow: 30 * time.Second}}
	for run := 1; run <= 3; run++ {
		r.results = append(r.results, result{sc: scenario{n: 1000}, run: run, objects: 21000,
			tObjects: time.Duration(run) * time.Minute})
	}
	r.results = append(r.results, result{sc: scenario{n: 100}, run: 1, objects: 2100})
	var b strings.Builder
	r.summary(&b, false)
	rows := 0
	for line := range strings.SplitSeq(b.String(), "\n") {
		if strings.HasPrefix(line, "| 1000 | 3 | 22000 |") || strings.HasPrefix(line, "| 100 | 1 | 2200 |") {
			rows++
		}
	}
	if rows != 2 {
		t.Fatalf("want a row for each scenario with its number of runs, got:\n%s", b.String())
	}
	if !strings.Contains(b.String(), "120.0 [60.0–180.0]") {
		t.Errorf("want T_objects as median [min–max] of the three runs, got:\n%s", b.String())
	}
}

// The operator writes to the objects it makes and to the sandboxes, whose
// status it writes: one apply or create each, and two status writes per
// sandbox, is 23 writes for 22 objects.
func TestWritesPerObjectCountsEveryObjectWritten(t *testing.T) {
	res := result{sc: scenario{n: 1000}, objects: 21000, provision: requests{"POST": 2000, "PATCH": 21000, "GET": 5000}}
	if got := res.written(); got != 22000 {
		t.Errorf("objects written = %d, want 22000: 21 made and the sandbox, per sandbox", got)
	}
	if got := fmt.Sprintf("%.3f", res.writesPerObject()); got != "1.045" {
		t.Errorf("writes per object = %s, want 1.045", got)
	}
	res.sc.cohort = true
	if got := res.written(); got != 22001 {
		t.Errorf("objects written in a cohort = %d, want 22001: the cohort too", got)
	}
}
