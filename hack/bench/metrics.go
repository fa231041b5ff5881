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
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Metrics of the operator that the bench reads.
const (
	metricRequests     = "rest_client_requests_total"
	metricReconciles   = "controller_runtime_reconcile_total"
	metricHeapInuse    = "go_memstats_heap_inuse_bytes"
	metricHeapGoal     = "go_memstats_next_gc_bytes"
	metricGCs          = "go_gc_duration_seconds_count"
	metricQueueDepth   = "workqueue_depth"
	metricRateLimitSum = "rest_client_rate_limiter_duration_seconds_sum"
	metricReconcileSum = "controller_runtime_reconcile_time_seconds_sum"
	metricReconcileCnt = "controller_runtime_reconcile_time_seconds_count"
)

// writeMethods are the HTTP methods that change something.
var writeMethods = map[string]bool{
	http.MethodPost: true, http.MethodPut: true, http.MethodPatch: true, http.MethodDelete: true,
}

// sample is one line of the Prometheus text format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// metrics is one scrape.
type metrics []sample

// parseMetrics reads the Prometheus text exposition format; it keeps samples
// and skips comments.
func parseMetrics(r io.Reader) (metrics, error) {
	var out metrics
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		smp, err := parseSample(line)
		if err != nil {
			return nil, err
		}
		out = append(out, smp)
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("reading metrics: %w", err)
	}
	return out, nil
}

// parseSample parses `name{label="value",...} value [timestamp]`.
func parseSample(line string) (sample, error) {
	smp := sample{labels: map[string]string{}}
	rest := line
	if i := strings.IndexAny(line, "{ "); i >= 0 {
		smp.name, rest = line[:i], line[i:]
	}
	if strings.HasPrefix(rest, "{") {
		var err error
		if rest, err = parseLabels(rest[1:], smp.labels); err != nil {
			return sample{}, fmt.Errorf("metric line %q: %w", line, err)
		}
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return sample{}, fmt.Errorf("metric line %q has no value", line)
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return sample{}, fmt.Errorf("metric line %q: %w", line, err)
	}
	smp.value = v
	return smp, nil
}

// parseLabels reads `k="v",...}` into labels and returns what follows the brace.
func parseLabels(s string, labels map[string]string) (string, error) {
	for {
		s = strings.TrimLeft(s, " ,")
		if strings.HasPrefix(s, "}") {
			return s[1:], nil
		}
		key, rest, ok := strings.Cut(s, "=")
		if !ok || !strings.HasPrefix(rest, `"`) {
			return "", fmt.Errorf("malformed labels at %q", s)
		}
		var value strings.Builder
		i := 1
		for ; i < len(rest) && rest[i] != '"'; i++ {
			if rest[i] == '\\' && i+1 < len(rest) {
				i++
				switch rest[i] {
				case 'n':
					value.WriteByte('\n')
				default:
					value.WriteByte(rest[i])
				}
				continue
			}
			value.WriteByte(rest[i])
		}
		if i >= len(rest) {
			return "", fmt.Errorf("unterminated label value at %q", s)
		}
		labels[strings.TrimSpace(key)] = value.String()
		s = rest[i+1:]
	}
}

// sum adds the samples of a metric, whatever their labels.
func (m metrics) sum(name string) float64 {
	total := 0.0
	for _, smp := range m {
		if smp.name == name {
			total += smp.value
		}
	}
	return total
}

// has reports whether the scrape holds a metric of that name.
func (m metrics) has(name string) bool {
	for _, smp := range m {
		if smp.name == name {
			return true
		}
	}
	return false
}

// byLabel adds the samples of a metric by the value of one label.
func (m metrics) byLabel(name, label string) map[string]float64 {
	out := map[string]float64{}
	for _, smp := range m {
		if smp.name == name {
			out[smp.labels[label]] += smp.value
		}
	}
	return out
}

// requests are the operator's API requests by HTTP method, from rest_client_requests_total.
type requests map[string]float64

// requestsOf reads the requests of a scrape.
func requestsOf(m metrics) requests { return m.byLabel(metricRequests, "method") }

// since is what was requested between before and r.
func (r requests) since(before requests) requests {
	out := requests{}
	for method, n := range r {
		if d := n - before[method]; d != 0 {
			out[method] = d
		}
	}
	return out
}

// writes counts POST, PUT, PATCH and DELETE requests.
func (r requests) writes() float64 {
	total := 0.0
	for method, n := range r {
		if writeMethods[method] {
			total += n
		}
	}
	return total
}

// reads counts every other request: GETs, including list and watch.
func (r requests) reads() float64 {
	total := 0.0
	for method, n := range r {
		if !writeMethods[method] {
			total += n
		}
	}
	return total
}

// String lists the requests by method, e.g. "GET 120, PATCH 3".
func (r requests) String() string {
	parts := make([]string, 0, len(r))
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if n := r[method]; n != 0 {
			parts = append(parts, fmt.Sprintf("%s %.0f", method, n))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// memory is what the sampler saw of the operator's memory in a window.
type memory struct {
	peakHeap, peakRSS, lastHeap uint64
}

// memSampler samples the operator's heap (from its metrics) and RSS (from
// /proc) every interval, and keeps the peaks of the current window.
type memSampler struct {
	op     *operator
	mu     sync.Mutex
	window memory
	hwm    uint64
}

// startMemSampler samples until ctx ends.
func startMemSampler(ctx context.Context, op *operator, every time.Duration) *memSampler {
	s := &memSampler{op: op}
	go func() {
		ticker := time.NewTicker(every)
		defer ticker.Stop()
		for {
			s.sample(ctx)
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
		}
	}()
	return s
}

// sample takes one sample, if the operator runs.
func (s *memSampler) sample(ctx context.Context) {
	pid := s.op.pid()
	if pid == 0 {
		return
	}
	m, err := s.op.scrape(ctx)
	if err != nil {
		return
	}
	heap := uint64(m.sum(metricHeapInuse))
	rss, hwm := procMemory(pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.window.lastHeap = heap
	s.window.peakHeap = max(s.window.peakHeap, heap)
	s.window.peakRSS = max(s.window.peakRSS, rss, hwm)
	s.hwm = max(s.hwm, hwm)
}

// next returns the window so far and starts a new one.
func (s *memSampler) next() memory {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.window
	s.window = memory{}
	return w
}

// procMemory reads VmRSS and VmHWM (the peak RSS) of a process, in bytes.
func procMemory(pid int) (rss, hwm uint64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	defer func() { _ = f.Close() }()
	s := bufio.NewScanner(f)
	for s.Scan() {
		key, value, ok := strings.Cut(s.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			continue
		}
		if key == "VmRSS" {
			rss = kb * 1024
		} else {
			hwm = kb * 1024
		}
	}
	return rss, hwm
}
