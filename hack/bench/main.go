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

// Command bench measures the operator against the targets of DESIGN.md
// ("Performance and reliability targets") on a local cluster of real
// control-plane binaries with KWOK's fake nodes, and prints a table.
//
// For every size it starts a fresh cluster, writes the objects of N sandboxes
// with raw parallel creates (the baseline), then runs the operator as a
// subprocess and creates N LearningSandboxes (or one LearningCohort of N
// learners), and measures: the time until every operator-owned object exists,
// the time until every sandbox is Ready, the operator's API requests and
// reconciles, its peak heap and RSS, its writes at steady state and after a
// restart, and whether its heap grows with unrelated objects.
//
// Each scenario runs -runs times, each on fresh clusters; the table gives the
// median of every figure and how far the runs spread.
//
//	go run ./hack/bench -sizes 100,1000 -cohorts 1000 -runs 3 -out bench.md
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// config is what the flags ask for.
type config struct {
	sizes, cohorts []int
	runs           int
	stage          string
	concurrency    int
	qps            float64
	burst          int
	creators       int
	unrelated      int
	steadyWindow   time.Duration
	restartWindow  time.Duration
	podsPerNode    int
	timeout        time.Duration
	keep           bool
	baseline       bool
	headless       bool
	out            string
	plots          string
	pprofDir       string
	pprofSeconds   int
}

// intList is a flag of comma-separated positive integers; empty is none.
type intList []int

func (l *intList) String() string {
	parts := make([]string, 0, len(*l))
	for _, n := range *l {
		parts = append(parts, strconv.Itoa(n))
	}
	return strings.Join(parts, ",")
}

func (l *intList) Set(s string) error {
	*l = nil
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a positive integer", part)
		}
		*l = append(*l, n)
	}
	return nil
}

// parseFlags reads the command line.
func parseFlags() config {
	cfg := config{sizes: intList{100, 1000}, cohorts: intList{1000}}
	sizes, cohorts := intList(cfg.sizes), intList(cfg.cohorts)
	flag.Var(&sizes, "sizes", "Numbers of LearningSandboxes to create, one scenario each (empty: none).")
	flag.Var(&cohorts, "cohorts", "Numbers of learners of one LearningCohort, one scenario each (empty: none).")
	flag.IntVar(&cfg.runs, "runs", 3,
		"Runs of each scenario, each on fresh clusters; the table gives the median and the spread.")
	flag.StringVar(&cfg.stage, "stage", "apis", "The RoadmapStage (config/stages) of every sandbox.")
	flag.IntVar(&cfg.concurrency, "concurrency", 8,
		"The operator's --concurrency, and the baseline's number of parallel writers.")
	flag.Float64Var(&cfg.qps, "qps", 100, "The operator's --kube-api-qps, and the baseline client's QPS.")
	flag.IntVar(&cfg.burst, "burst", 200, "The operator's --kube-api-burst, and the baseline client's burst.")
	flag.IntVar(&cfg.creators, "creators", 16, "Parallel creates of LearningSandboxes (no client-side rate limit).")
	flag.IntVar(&cfg.unrelated, "unrelated", 2000,
		"ConfigMaps, and as many Secrets, without the managed-by label, for the flat-memory check (0: skip).")
	flag.DurationVar(&cfg.steadyWindow, "steady-window", 20*time.Second,
		"How long the operator's writes are counted at steady state.")
	flag.DurationVar(&cfg.restartWindow, "restart-window", 30*time.Second,
		"How long, at least, the restarted operator's requests are counted after it has synced; then on until it is idle.")
	flag.IntVar(&cfg.podsPerNode, "pods-per-node", 100, "Fake nodes are added for this many pods each.")
	flag.DurationVar(&cfg.timeout, "timeout", 20*time.Minute,
		"The longest any one wait of a scenario may take, for each 1,000 sandboxes or learners begun.")
	flag.BoolVar(&cfg.keep, "keep", false, "Keep the last cluster and the operator's files instead of deleting them.")
	flag.BoolVar(&cfg.baseline, "baseline", true, "Measure T_raw: the same objects written with raw parallel creates.")
	flag.BoolVar(&cfg.headless, "baseline-headless", false,
		"Experiment: make the baseline's Services headless (clusterIP: None), to measure what allocating "+
			"ClusterIPs costs.")
	flag.StringVar(&cfg.out, "out", "", "Also write the report, in markdown, to this file.")
	flag.StringVar(&cfg.plots, "plots", "",
		"Write a picture of Ready sandboxes over time, per run, as SVG into this directory (default: -out's).")
	flag.StringVar(&cfg.pprofDir, "pprof", "",
		"Diagnose: build the manager with pprof and client rate-limiter metrics (a build overlay, no source change), "+
			"and write CPU, goroutine and heap profiles of each scenario to this directory.")
	flag.IntVar(&cfg.pprofSeconds, "pprof-seconds", 30,
		"How long the CPU profiles of the baseline and of provisioning run.")
	flag.Parse()
	cfg.sizes, cfg.cohorts = sizes, cohorts
	cfg.runs = max(cfg.runs, 1)
	if cfg.plots == "" && cfg.out != "" {
		cfg.plots = filepath.Dir(cfg.out)
	}
	return cfg
}

func main() {
	cfg := parseFlags()
	if err := bench(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// bench prepares the environment, runs every scenario and reports.
func bench(cfg config) error {
	// The bench's clients log nothing; what matters is in the report.
	ctrllog.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	started := time.Now()
	env, err := newEnv(ctx, cfg)
	if err != nil {
		return err
	}
	defer env.cleanup()

	scenarios := make([]scenario, 0, len(cfg.sizes)+len(cfg.cohorts))
	for _, n := range cfg.sizes {
		scenarios = append(scenarios, scenario{cohort: false, n: n})
	}
	for _, n := range cfg.cohorts {
		scenarios = append(scenarios, scenario{cohort: true, n: n})
	}
	rep := &report{cfg: cfg, env: env, args: os.Args[1:]}
	var failed error
scenarios:
	for i, sc := range scenarios {
		for run := 1; run <= cfg.runs; run++ {
			logf("Scenario %s, run %d of %d", sc, run, cfg.runs)
			res, err := runScenario(ctx, env, sc, i == len(scenarios)-1 && run == cfg.runs)
			res.run = run
			var skip *skipError
			switch {
			case errors.As(err, &skip):
				rep.notes = append(rep.notes, fmt.Sprintf("%s: skipped: %s", sc, skip.reason))
				logf("Skipped %s: %s", sc, skip.reason)
				continue scenarios
			case err != nil:
				rep.notes = append(rep.notes, fmt.Sprintf("%s, run %d: failed: %v", sc, run, err))
				logf("Failed %s, run %d: %v", sc, run, err)
				failed = errors.Join(failed, fmt.Errorf("%s, run %d: %w", sc, run, err))
			default:
				rep.results = append(rep.results, res)
				logf("Result %s, run %d: %s", sc, run, res.summary())
			}
			if ctx.Err() != nil {
				break scenarios
			}
		}
	}
	rep.elapsed = time.Since(started)
	if err := rep.write(os.Stdout, cfg.out); err != nil {
		return errors.Join(failed, err)
	}
	return failed
}

// skipError says that a scenario cannot run here, and why.
type skipError struct{ reason string }

func (e *skipError) Error() string { return e.reason }

// logf tells what the bench is doing, on stderr, so that stdout is the report.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s ==> %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
