# Targets of the operator benchmark (hack/bench), included by the Makefile.

##@ Benchmark

# BENCH_SIZES are the numbers of LearningSandboxes, BENCH_COHORTS the sizes of
# one LearningCohort, each a scenario on fresh local clusters, run BENCH_RUNS
# times: the table gives each figure's median and range.
BENCH_SIZES ?= 100,1000
BENCH_COHORTS ?= 1000
BENCH_RUNS ?= 3
# BENCH_OUT is where the markdown report is written, besides stdout.
BENCH_OUT ?= bin/bench.md
# BENCH_ARGS are further flags: go run ./hack/bench -h lists them
# (-concurrency, -qps, -burst, -stage, -unrelated, -keep, -pprof DIR, ...).
BENCH_ARGS ?=

.PHONY: bench
bench: ## Benchmark the operator on a local simulated cluster against DESIGN.md's targets and print a table.
	$(MAKE) controlplane build
	go run ./hack/bench -sizes "$(BENCH_SIZES)" -cohorts "$(BENCH_COHORTS)" -runs "$(BENCH_RUNS)" -out "$(BENCH_OUT)" $(BENCH_ARGS)
