# Targets of the sample app (cmd/sample-app, internal/sampleapp), included by the Makefile.

##@ Sample app

# SAMPLE_APP_IMG is the image built by docker-build-sample-app.
SAMPLE_APP_IMG ?= sample-app:latest
# SAMPLE_APP_BENCHTIME is how long each benchmark scenario runs (go test -benchtime).
SAMPLE_APP_BENCHTIME ?= 5s

# Both targets install the servers the tests start (if missing) through the script
# directly, so that this file also works on its own: make -f hack/sampleapp.mk bench-sample-app

.PHONY: test-sample-app
test-sample-app: ## Run the sample app's tests against real PostgreSQL and Redis.
	@bash hack/test-services.sh
	go test ./internal/sampleapp/... ./cmd/sample-app/... -count=1

.PHONY: bench-sample-app
bench-sample-app: ## Benchmark the sample app's todo API under concurrent load (req/s, p50/p99).
	@bash hack/test-services.sh
	go test ./internal/sampleapp/ -run '^$$' -bench BenchmarkTodosConcurrent -benchtime $(SAMPLE_APP_BENCHTIME) -count 1

.PHONY: build-sample-app
build-sample-app: ## Build the sample app into bin/sample-app.
	CGO_ENABLED=0 go build -trimpath -o bin/sample-app ./cmd/sample-app

.PHONY: docker-build-sample-app
docker-build-sample-app: ## Build the sample app's image (Dockerfile target sample-app).
	$(CONTAINER_TOOL) build --target sample-app $(if $(BASE_IMAGE),--build-arg BASE_IMAGE=$(BASE_IMAGE)) \
		-t $(SAMPLE_APP_IMG) .
