# Targets of the operator benchmark (hack/bench), included by the Makefile.

##@ Benchmark

# BENCH_SIZES are the numbers of LearningSandboxes, BENCH_COHORTS the sizes of
# one LearningCohort, each a scenario on a fresh local cluster.
BENCH_SIZES ?= 100,1000
BENCH_COHORTS ?= 100,500
# BENCH_OUT is where the markdown report is written, besides stdout.
BENCH_OUT ?= bin/bench.md
# BENCH_ARGS are further flags: go run ./hack/bench -h lists them
# (-concurrency, -qps, -burst, -stage, -unrelated, -keep, -pprof DIR, ...).
BENCH_ARGS ?=

.PHONY: bench
bench: ## Benchmark the operator on a local simulated cluster against DESIGN.md's targets and print a table.
	$(MAKE) controlplane build
	go run ./hack/bench -sizes "$(BENCH_SIZES)" -cohorts "$(BENCH_COHORTS)" -out "$(BENCH_OUT)" $(BENCH_ARGS)
