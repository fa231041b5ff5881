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
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/cache"
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

// secondsList is a readiness with a sandbox Ready at each of these seconds.
func secondsList(seconds ...int) readiness {
	out := readiness{}
	for _, s := range seconds {
		out.times = append(out.times, time.Duration(s)*time.Second)
	}
	return out
}

func TestReadinessPercentiles(t *testing.T) {
	r := secondsList(3, 5, 8, 10, 12, 20, 30, 31, 40, 90)
	if first, ok := r.first(); !ok || first != 3*time.Second {
		t.Errorf("first = %s, want 3s", first)
	}
	for p, want := range map[float64]time.Duration{10: 3 * time.Second, 50: 12 * time.Second,
		90: 40 * time.Second, 100: 90 * time.Second} {
		if got, ok := r.percentile(p, 10); !ok || got != want {
			t.Errorf("p%.0f = %s, want %s", p, got, want)
		}
	}
	// Two of the ten sandboxes never became Ready: p90 and p100 were not reached.
	short := secondsList(3, 5, 8, 10, 12, 20, 30, 31)
	if got, ok := short.percentile(90, 10); ok {
		t.Errorf("p90 of 10 with 8 Ready = %s, want none", got)
	}
}

func TestReadinessTableAndPicture(t *testing.T) {
	dir := t.TempDir()
	r := &report{cfg: config{plots: dir}}
	for run := 1; run <= 3; run++ {
		res := result{sc: scenario{cohort: true, n: 4}, run: run, ready: secondsList(5, 10, 20, 40*run),
			raw: &baseline{ready: secondsList(10, 20, 30, 40)}}
		r.results = append(r.results, res)
	}
	var b strings.Builder
	r.readinessTable(&b)
	r.pictures(&b)
	out := b.String()
	// Operator: first 5, p50 10, p100 40, 80, 120 (median 80); raw p100 40.
	for _, want := range []string{"| cohort of 4 | 3 | 5.0 [5.0–5.0] | 5.0 [5.0–5.0] | 10.0 [10.0–10.0] |",
		"| 80.0 [40.0–120.0] | 10.0 [10.0–10.0] |", "| 0.12 [0.08–0.25] | 2.00 [1.00–3.00] |",
		"bench-cohort-4-run2-ready.svg"} {
		if !strings.Contains(out, want) {
			t.Errorf("the readiness table lacks %q:\n%s", want, out)
		}
	}
	svg, err := os.ReadFile(filepath.Join(dir, "bench-cohort-4-run1-ready.svg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "operator", "raw creates", "Ready sandboxes"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("the picture lacks %q", want)
		}
	}
}

// The informer's store keys what the transform keeps by namespace and name.
func TestWorkloadTransformKeepsAKey(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{"kind": "StatefulSet",
		"metadata": map[string]any{"name": "postgres", "namespace": "sandbox-raw-00001"},
		"spec":     map[string]any{"replicas": int64(1)}, "status": map[string]any{"readyReplicas": int64(1)}}}
	obj, err := toWorkload(u)
	if err != nil {
		t.Fatal(err)
	}
	key, err := cache.MetaNamespaceKeyFunc(obj)
	if err != nil || key != "sandbox-raw-00001/postgres" {
		t.Fatalf("key = %q, %v", key, err)
	}
	tr := &tracker{counts: map[string]int{}, targets: map[string]int{keyRawReady: 1}, reached: map[string]time.Time{},
		workloads: map[string]map[string]bool{}, rawReadyAt: map[string]time.Time{}, workloadsPerSandbox: 2}
	tr.setWorkload(obj)
	if tr.count(keyRawReady) != 0 {
		t.Fatalf("a sandbox with one of its two workloads ready counts as ready")
	}
	u.SetKind("Deployment")
	obj, _ = toWorkload(u)
	tr.setWorkload(obj)
	if tr.count(keyRawReady) != 1 || tr.reachedAt(keyRawReady).IsZero() {
		t.Fatalf("a sandbox with both workloads ready does not count")
	}
}
