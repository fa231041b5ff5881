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
	"cmp"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// notAvailable stands for a figure that was not measured.
const notAvailable = "n/a"

// report is the bench's output: the command, the machine, a table per
// scenario kind, the details behind it, and what was skipped or failed.
type report struct {
	cfg     config
	env     *env
	args    []string
	results []result
	notes   []string
	elapsed time.Duration
}

// write prints the report and, when path is set, writes it there too.
func (r *report) write(stdout io.Writer, path string) error {
	text := r.markdown()
	if _, err := io.WriteString(stdout, text); err != nil {
		return fmt.Errorf("printing the report: %w", err)
	}
	if path == "" {
		return nil
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return nil
}

// markdown renders the whole report.
func (r *report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n## Operator benchmark\n\n")
	fmt.Fprintf(&b, "- command: `go run ./hack/bench %s`\n", strings.Join(r.args, " "))
	fmt.Fprintf(&b, "- machine: %s\n", r.env.machine)
	fmt.Fprintf(&b, "- operator: `--concurrency=%d --kube-api-qps=%g --kube-api-burst=%d`; baseline: %d writers, "+
		"same QPS and burst\n", r.cfg.concurrency, r.cfg.qps, r.cfg.burst, r.cfg.concurrency)
	if r.cfg.headless {
		fmt.Fprintf(&b, "- experiment: the baseline's Services are headless (clusterIP: None); the operator's are not\n")
	}
	fmt.Fprintf(&b, "- stage `%s`: %d objects and %d pods per sandbox (%s)\n", r.env.stage.Name,
		r.env.objectsPerSandbox(), r.env.podsPerSandbox, r.perSandbox())
	fmt.Fprintf(&b, "- targets (DESIGN.md): 1,000 sandboxes' objects within 60 s; T_objects/T_raw <= 1.2; "+
		"<= 1.05 writes per object; API server CPU <= 1.15x raw; 0 writes at steady state and after a restart; "+
		"<= 40 MiB heap per 1,000 sandboxes, flat with unrelated objects\n")
	for _, cohort := range []bool{false, true} {
		r.summary(&b, cohort)
	}
	r.readinessTable(&b)
	r.pictures(&b)
	r.details(&b)
	r.legend(&b)
	if len(r.notes) > 0 {
		b.WriteString("\n")
		for _, n := range r.notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	fmt.Fprintf(&b, "\nThe bench ran for %s.\n", fmtDur(r.elapsed))
	return b.String()
}

// perSandbox lists what one sandbox is made of, by kind.
func (r *report) perSandbox() string {
	parts := make([]string, 0, len(r.env.perSandbox))
	for _, kind := range r.env.kinds() {
		parts = append(parts, fmt.Sprintf("%s %d", kind, r.env.perSandbox[kind]))
	}
	return strings.Join(parts, ", ")
}

// byScenario groups the runs of the scenarios that keep selects, the
// scenarios in the order they ran.
func (r *report) byScenario(keep func(scenario) bool) ([]scenario, map[scenario][]result) {
	var scenarios []scenario
	runs := map[scenario][]result{}
	for _, res := range r.results {
		if !keep(res.sc) {
			continue
		}
		if _, seen := runs[res.sc]; !seen {
			scenarios = append(scenarios, res.sc)
		}
		runs[res.sc] = append(runs[res.sc], res)
	}
	return scenarios, runs
}

// summary is the table of the sandbox scenarios, or of the cohort ones: a
// row per scenario, each figure the median of its runs with their range.
func (r *report) summary(b *strings.Builder, cohort bool) {
	scenarios, byScenario := r.byScenario(func(sc scenario) bool { return sc.cohort == cohort })
	if len(scenarios) == 0 {
		return
	}
	first := "sandboxes"
	if cohort {
		fmt.Fprintf(b, "\n### One LearningCohort of N learners\n\n")
		first = "learners"
	} else {
		fmt.Fprintf(b, "\n### N LearningSandboxes created in parallel\n\n")
	}
	fmt.Fprintf(b, "Each figure is the median of the runs, with the lowest and the highest in brackets.\n\n")
	fmt.Fprintf(b, "| %s | runs | objects | writes | writes/object | reads | API server CPU-s, operator "+
		"| API server CPU-s, raw | CPU ratio | heap/1000 (MiB) | steady writes (%s) | restart writes (%s, to idle) "+
		"| restart reads | T_objects (s) | T_raw (s) | T_ready (s) |\n",
		first, fmtDur(r.cfg.steadyWindow), fmtDur(r.cfg.restartWindow))
	b.WriteString("|" + strings.Repeat(" ---: |", 16) + "\n")
	for _, sc := range scenarios {
		rows := byScenario[sc]
		col := func(format string, f func(result) (float64, bool)) string {
			return spread(rows, format, f)
		}
		fmt.Fprintf(b, "| %d | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			sc.n, len(rows), rows[0].written(),
			col("%.0f", func(res result) (float64, bool) { return res.provision.writes(), true }),
			col("%.3f", func(res result) (float64, bool) { return res.writesPerObject(), true }),
			col("%.0f", func(res result) (float64, bool) { return res.provision.reads(), true }),
			col("%.0f", func(res result) (float64, bool) { return res.apiserverCPU(), true }),
			col("%.0f", func(res result) (float64, bool) { return res.rawAPIServerCPU() }),
			col("%.2f", func(res result) (float64, bool) { return res.cpuRatio() }),
			col("%.1f", func(res result) (float64, bool) { return res.heapPer1000MiB(), true }),
			col("%.0f", func(res result) (float64, bool) { return res.steady.writes(), true }),
			col("%.0f", func(res result) (float64, bool) { return res.restart.writes(), true }),
			col("%.0f", func(res result) (float64, bool) { return res.restart.reads(), true }),
			col("%.1f", func(res result) (float64, bool) { return res.tObjects.Seconds(), true }),
			col("%.1f", func(res result) (float64, bool) {
				if res.raw == nil {
					return 0, false
				}
				return res.raw.elapsed.Seconds(), true
			}),
			col("%.1f", func(res result) (float64, bool) { return res.tReady.Seconds(), true }))
	}
}

// readinessTable gives, per scenario, when the first sandbox and each
// percentile of them were Ready, with the operator and with raw creates.
func (r *report) readinessTable(b *strings.Builder) {
	scenarios, byScenario := r.byScenario(func(scenario) bool { return true })
	if len(scenarios) == 0 {
		return
	}
	fmt.Fprintf(b, "\n### Readiness: seconds from the first create until Ready\n\n")
	fmt.Fprintf(b, "Each figure is the median of the runs, with the lowest and the highest in brackets.\n\n")
	b.WriteString("| scenario | runs | first |")
	for _, p := range percentiles {
		fmt.Fprintf(b, " p%.0f |", p)
	}
	b.WriteString(" first, raw |")
	for _, p := range percentiles {
		fmt.Fprintf(b, " p%.0f, raw |", p)
	}
	b.WriteString(" median/class | class/raw |\n")
	b.WriteString("| --- |" + strings.Repeat(" ---: |", 3+2*len(percentiles)+2) + "\n")
	seconds := func(d time.Duration, ok bool) (float64, bool) { return d.Seconds(), ok }
	for _, sc := range scenarios {
		rows := byScenario[sc]
		cells := []string{sc.String(), fmt.Sprint(len(rows))}
		for _, raw := range []bool{false, true} {
			of := func(res result) readiness {
				if raw {
					if res.raw == nil {
						return readiness{}
					}
					return res.raw.ready
				}
				return res.ready
			}
			cells = append(cells, spread(rows, "%.1f", func(res result) (float64, bool) { return seconds(of(res).first()) }))
			for _, p := range percentiles {
				cells = append(cells, spread(rows, "%.1f", func(res result) (float64, bool) {
					return seconds(of(res).percentile(p, res.sc.n))
				}))
			}
		}
		cells = append(cells,
			spread(rows, "%.2f", func(res result) (float64, bool) { return res.medianShare() }),
			spread(rows, "%.2f", func(res result) (float64, bool) { return res.classOverRaw() }))
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
}

// medianShare is the time until half the sandboxes were Ready over the time until all were.
func (res result) medianShare() (float64, bool) {
	median, ok1 := res.ready.percentile(50, res.sc.n)
	all, ok2 := res.ready.percentile(100, res.sc.n)
	if !ok1 || !ok2 || all <= 0 {
		return 0, false
	}
	return median.Seconds() / all.Seconds(), true
}

// classOverRaw is the time until every sandbox was Ready with the operator
// over the time until every baseline sandbox's workloads were.
func (res result) classOverRaw() (float64, bool) {
	all, ok := res.ready.percentile(100, res.sc.n)
	if !ok || res.raw == nil {
		return 0, false
	}
	raw, ok := res.raw.ready.percentile(100, res.sc.n)
	if !ok || raw <= 0 {
		return 0, false
	}
	return all.Seconds() / raw.Seconds(), true
}

// pictures draws each run's Ready sandboxes over time and links the files.
func (r *report) pictures(b *strings.Builder) {
	dir := r.cfg.plots
	if dir == "" {
		return
	}
	var lines []string
	for _, res := range r.results {
		path, err := plotReadiness(res, dir)
		if err != nil {
			r.notes = append(r.notes, fmt.Sprintf("%s, run %d: no picture: %v", res.sc, res.run, err))
			continue
		}
		lines = append(lines, fmt.Sprintf("- %s, run %d: [%s](%s)", res.sc, res.run, filepath.Base(path), path))
	}
	if len(lines) > 0 {
		fmt.Fprintf(b, "\nReady sandboxes over time, the operator against raw creates:\n\n%s\n",
			strings.Join(lines, "\n"))
	}
}

// spread is the median of a figure over runs, with its range when the runs
// are more than one, or n/a when no run measured it.
func spread(rows []result, format string, f func(result) (float64, bool)) string {
	var vals []float64
	for _, res := range rows {
		if v, ok := f(res); ok {
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return notAvailable
	}
	slices.Sort(vals)
	median := vals[len(vals)/2]
	if len(vals)%2 == 0 {
		median = (vals[len(vals)/2-1] + vals[len(vals)/2]) / 2
	}
	out := fmt.Sprintf(format, median)
	if len(vals) > 1 {
		out += fmt.Sprintf(" ["+format+"–"+format+"]", vals[0], vals[len(vals)-1])
	}
	return out
}

// apiServerProcess is the API server's name among the cluster's processes.
const apiServerProcess = "kube-apiserver"

// written is how many objects the operator writes while provisioning: those
// it makes, and the sandboxes (and the cohort) whose status it writes.
func (res result) written() int {
	n := res.objects + res.sc.n
	if res.sc.cohort {
		n++
	}
	return n
}

// writesPerObject is the operator's writes from the first create until it was
// idle, per object it writes.
func (res result) writesPerObject() float64 {
	return res.provision.writes() / float64(res.written())
}

// apiserverCPU is the API server's CPU-seconds during T_objects.
func (res result) apiserverCPU() float64 {
	return res.cpu[apiServerProcess].Seconds()
}

// rawAPIServerCPU is the API server's CPU-seconds during T_raw.
func (res result) rawAPIServerCPU() (float64, bool) {
	if res.raw == nil {
		return 0, false
	}
	return res.raw.cpu[apiServerProcess].Seconds(), true
}

// cpuRatio is the API server's CPU-seconds for the operator's work over those for the raw creates.
func (res result) cpuRatio() (float64, bool) {
	raw, ok := res.rawAPIServerCPU()
	if !ok || raw <= 0 {
		return 0, false
	}
	return res.apiserverCPU() / raw, true
}

// details are the figures behind each row: requests by method, CPU by
// process, when each kind was complete, and memory.
func (r *report) details(b *strings.Builder) {
	if len(r.results) == 0 {
		return
	}
	fmt.Fprintf(b, "\n### Details\n\n| scenario | measure | value |\n| --- | --- | --- |\n")
	for _, res := range r.results {
		name := fmt.Sprintf("%s, run %d", res.sc, res.run)
		row := func(measure, format string, args ...any) {
			fmt.Fprintf(b, "| %s | %s | %s |\n", name, measure, fmt.Sprintf(format, args...))
		}
		row("the operator's controllers", "%s", strings.Join(res.controllers, ", "))
		row("creates of the sandboxes returned after; every sandbox existed after", "%s; %s",
			fmtDur(res.tCreate), fmtDur(res.tSandboxes))
		row("operator requests until T_objects", "%s", res.toObjects)
		row("operator requests, first create to idle", "%s", res.provision)
		row("reconciles, mean duration", "%.0f, %s", res.reconciles, fmtDur(res.reconcileMean))
		if res.rateLimitWait >= 0 {
			row("time requests waited in the client-side rate limiter", "%.1f s", res.rateLimitWait)
		}
		row("CPU used during T_objects", "%s", fmtCPU(res.cpu, res.tObjects))
		row("kinds complete after (operator)", "%s", fmtKinds(res.perKind))
		row("API server's longest writes in all during T_objects (every client)", "%s", res.api.top(5))
		if res.raw != nil {
			row("CPU used during T_raw", "%s", fmtCPU(res.raw.cpu, res.raw.elapsed))
			row("kinds complete after (baseline)", "%s", fmtKinds(res.raw.perKind))
			row("API server's longest writes in all during T_raw (every client)", "%s", res.raw.api.top(5))
		}
		row("heap in use: idle before, peak, idle after the restart", "%s, %s, %s MiB",
			mib(res.idleHeap), mib(res.mem.peakHeap), mib(res.restartHeap))
		row("live heap after a GC: idle before, all Ready, after the restart", "%s, %s, %s MiB",
			mib(res.liveIdle), mib(res.liveReady), mib(res.liveRestart))
		row("peak heap in use less idle heap, per 1,000 sandboxes", "%s MiB", res.peakHeapPer1000())
		row("steady state: requests, reconciles", "%s; %.0f", res.steady, res.steadyRecs)
		row("after restart: requests, reconciles", "%s; %.0f", res.restart, res.restartRecs)
		if !res.unrelatedSkipped {
			row(fmt.Sprintf("before / after %d unrelated ConfigMaps and as many Secrets", r.cfg.unrelated),
				"live heap %s / %s MiB, peak heap %s / %s MiB, RSS %s / %s MiB; operator requests meanwhile: %s",
				mib(res.liveBefore), mib(res.liveAfter),
				mib(res.unrelatedBefore.peakHeap), mib(res.unrelatedAfter.peakHeap),
				mib(res.unrelatedBefore.peakRSS), mib(res.unrelatedAfter.peakRSS), res.unrelatedWrites)
		}
	}
}

// legend says what each column means.
func (r *report) legend(b *strings.Builder) {
	b.WriteString(`
- T_objects: from the first create until every object the operator makes exists (objects labelled
  app.kubernetes.io/managed-by=learning-sandbox-operator, counted by watch).
- T_raw: the same objects of as many other sandboxes, written by the bench with plain parallel
  creates, on a fresh cluster of its own; the operator then gets another fresh cluster.
- T_ready: until every sandbox has Ready=True.
- Readiness: from the first create (the cohort's apply) until the first sandbox, then 10%, 50%,
  90% and 100% of them, had Ready=True for the first time (nearest rank); raw: until all of a
  baseline sandbox's Deployments and StatefulSets had their replicas ready. median/class: the 50th
  percentile over the 100th; class/raw: the operator's 100th percentile over the baseline's.
- writes (POST/PUT/PATCH/DELETE), reads (GET, list and watch included) and reconciles: the
  operator's rest_client_requests_total and controller_runtime_reconcile_total, from the first
  create until the operator is idle after every sandbox is Ready. objects: every object the
  operator writes to: those it makes (objects labelled with its managed-by label) and the
  LearningSandboxes (and the LearningCohort) whose status it writes; writes/object: the writes
  (events and status writes included) over those objects.
- API server CPU-s: the kube-apiserver process's CPU time (user and system, /proc/<pid>/stat)
  during T_objects, with the operator, and during T_raw, with the raw creates; CPU ratio: the
  first over the second.
- restart reads: the restarted operator's reads, its lists and watches included, over the same
  time as restart writes.
- peak heap: go_memstats_heap_inuse_bytes, peak RSS: VmRSS/VmHWM, sampled every 250 ms, in MiB.
- heap/1000: the live heap the sandboxes added, in MiB per 1,000 sandboxes: the live heap (half of
  go_memstats_next_gc_bytes after a GC, GOGC=100) when all are Ready or after the restart,
  whichever is larger, less the live heap before the first create. Peak heap also counts garbage
  not yet collected; the details give both.
- steady writes: in a window that starts once every sandbox is Ready and the operator's queues are
  empty. restart writes: from the restarted operator's start until the window after its caches
  synced has passed and its queues are empty again.
`)
}

// summary is the scenario's main figures on one line.
func (res result) summary() string {
	cpu := notAvailable
	if ratio, ok := res.cpuRatio(); ok {
		cpu = fmt.Sprintf("%.2f", ratio)
	}
	first, _ := res.ready.first()
	median, _ := res.ready.percentile(50, res.sc.n)
	return fmt.Sprintf("first Ready %s, median %s, T_objects %s, T_raw %s, ratio %s, T_ready %s, "+
		"writes %.0f (%.3f per object), reads %.0f, "+
		"reconciles %.0f, API server CPU %.0f s (%s of raw), peak heap %s MiB, peak RSS %s MiB, heap/1000 %s MiB, "+
		"steady writes %.0f, restart writes %.0f",
		fmtDur(first), fmtDur(median), fmtDur(res.tObjects), res.rawTime(), res.ratio(), fmtDur(res.tReady),
		res.provision.writes(),
		res.writesPerObject(), res.provision.reads(), res.reconciles, res.apiserverCPU(), cpu,
		mib(res.mem.peakHeap), mib(res.mem.peakRSS), res.heapPer1000(), res.steady.writes(), res.restart.writes())
}

// rawTime is T_raw, or n/a without a baseline.
func (res result) rawTime() string {
	if res.raw == nil {
		return notAvailable
	}
	return fmtDur(res.raw.elapsed)
}

// ratio is T_objects / T_raw.
func (res result) ratio() string {
	if res.raw == nil || res.raw.elapsed <= 0 {
		return notAvailable
	}
	return fmt.Sprintf("%.2f", res.tObjects.Seconds()/res.raw.elapsed.Seconds())
}

// heapPer1000 is the live heap the sandboxes added, per 1,000 of them: the
// larger of the live heaps when all are Ready and after the restart, less the
// live heap before the first create.
func (res result) heapPer1000() string {
	return fmt.Sprintf("%.1f", res.heapPer1000MiB())
}

// heapPer1000MiB is heapPer1000 as a number of MiB.
func (res result) heapPer1000MiB() float64 {
	total, base := max(res.liveReady, res.liveRestart), res.liveIdle
	if total < base {
		return 0
	}
	return float64(total-base) * 1000 / float64(res.sc.n) / (1 << 20)
}

// peakHeapPer1000 is the peak heap in use, garbage included, less the idle heap, per 1,000 sandboxes.
func (res result) peakHeapPer1000() string {
	return per1000(res.mem.peakHeap, res.idleHeap, res.sc.n)
}

// per1000 is (total - base) bytes for n sandboxes, in MiB per 1,000 sandboxes.
func per1000(total, base uint64, n int) string {
	if total < base {
		return "0.0"
	}
	return mib(uint64(float64(total-base) * 1000 / float64(n)))
}

// mib formats bytes as MiB.
func mib(bytes uint64) string {
	return fmt.Sprintf("%.1f", float64(bytes)/(1<<20))
}

// fmtDur formats a duration in seconds with one decimal.
func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// fmtCPU lists CPU seconds by process, most first, what the bench's processes
// used in cores on average over the window, and what other processes of the
// machine used meanwhile.
func fmtCPU(cpu cpuTimes, window time.Duration) string {
	machine, hasMachine := cpu[machineCPU]
	names := slices.SortedFunc(maps.Keys(cpu), func(a, b string) int { return cmp.Compare(cpu[b], cpu[a]) })
	parts := make([]string, 0, len(names))
	total := time.Duration(0)
	for _, name := range names {
		if name == machineCPU {
			continue
		}
		total += cpu[name]
		parts = append(parts, fmt.Sprintf("%s %.1f", name, cpu[name].Seconds()))
	}
	if window <= 0 {
		return strings.Join(parts, ", ") + " CPU-s"
	}
	out := fmt.Sprintf("%s CPU-s: %.2f cores on average", strings.Join(parts, ", "), total.Seconds()/window.Seconds())
	if hasMachine {
		out += fmt.Sprintf("; other processes of the machine: %.2f cores", (machine-total).Seconds()/window.Seconds())
	}
	return out
}

// fmtKinds lists when each kind was complete, latest first.
func fmtKinds(times map[string]time.Duration) string {
	kinds := slices.SortedFunc(maps.Keys(times), func(a, b string) int { return cmp.Compare(times[b], times[a]) })
	parts := make([]string, 0, len(kinds))
	for _, kind := range kinds {
		parts = append(parts, kind+" "+fmtDur(times[kind]))
	}
	return strings.Join(parts, ", ")
}
