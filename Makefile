# The operator's image, as a release publishes it (make images, the Helm
# chart's default). IMG_REGISTRY and VERSION make it: make images-push
# IMG_REGISTRY=registry.example.edu/learning VERSION=0.1.1
IMG_REGISTRY ?= ghcr.io/learning-sandbox
VERSION ?= 0.1.0
IMG ?= $(IMG_REGISTRY)/learning-sandbox-operator:$(VERSION)
# YEAR defines the year value used for substituting the YEAR placeholder in the boilerplate header.
YEAR ?= 2026

# Get the currently used golang install path (in GOPATH/bin, unless GOBIN is set)
ifeq (,$(shell go env GOBIN))
GOBIN=$(shell go env GOPATH)/bin
else
GOBIN=$(shell go env GOBIN)
endif

# CONTAINER_TOOL defines the container tool to be used for building images.
# Be aware that the target commands are only tested with Docker which is
# scaffolded by default. However, you might want to replace it to use other
# tools. (i.e. podman)
CONTAINER_TOOL ?= docker

# Setting SHELL to bash allows bash commands to be executed by recipes.
# Options are set to exit when a recipe line exits non-zero or a piped command fails.
SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

# The help target prints out all targets with their descriptions organized
# beneath their categories. The categories are represented by '##@' and the
# target descriptions by '##'. The awk command is responsible for reading the
# entire set of makefiles included in this invocation, looking for lines of the
# file as xyz: ## something, and then pretty-format the target and help. Then,
# if there's a line with ##@ something, that gets pretty-printed as a category.
# More info on the usage of ANSI control characters for terminal formatting:
# https://en.wikipedia.org/wiki/ANSI_escape_code#SGR_parameters
# More info on the awk command:
# http://linuxcommand.org/lc3_adv_awk.php

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-15s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate WebhookConfiguration, ClusterRole and CustomResourceDefinition objects.
	"$(CONTROLLER_GEN)" rbac:roleName=manager-role crd webhook paths="{./api/...,./internal/...,./cmd/...}" output:crd:artifacts:config=config/crd/bases
	@bash hack/chart/sync.sh

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods, and apply configurations (api/v1alpha1/applyconfiguration) for server-side apply.
	"$(CONTROLLER_GEN)" object:headerFile="hack/boilerplate.go.txt",year=$(YEAR) applyconfiguration:headerFile="hack/boilerplate.go.txt" paths="{./api/...,./internal/...,./cmd/...}"

.PHONY: fmt
fmt: ## Run go fmt against code.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet against code (the e2e suites, behind their build tags, too).
	go vet -tags e2e,realnode,incluster ./...

.PHONY: test
test: manifests generate fmt vet envtest-assets test-services helm ## Run the unit and envtest tests (offline; builds the control plane on first use).
	HELM="$(HELM)" KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test $$(go list ./... | grep -v -e /test/e2e -e /test/realnode -e /test/incluster) -race -count=1 -coverprofile cover.out
	cd hack/tools/ociimage && go test ./... -count=1

.PHONY: test-services
test-services: ## Make sure the servers that tests start (PostgreSQL, Redis, nginx) are installed.
	@bash hack/test-services.sh

# The e2e suite runs on a local cluster of the toolchain's own binaries with
# KWOK's fake nodes (hack/local-cluster.sh): no Docker, no download.
.PHONY: test-e2e
# E2E_DIR holds the suite's cluster and operator; the trap removes them also
# when the suite dies before its own clean-up runs (a timeout, Ctrl-C), unless
# E2E_KEEP is set to keep them for a look.
E2E_DIR ?= $(LOCALBIN)/e2e
test-e2e: manifests generate fmt vet controlplane ## Run the e2e tests on a local simulated cluster (started and removed by the suite).
	@trap '[ -n "$$E2E_KEEP" ] || { pkill -f "^$(E2E_DIR)/manager" || true; bash hack/local-cluster.sh down learning-sandbox-e2e "$(E2E_DIR)" >/dev/null 2>&1 || true; }' EXIT; \
	E2E_WORKDIR="$(E2E_DIR)" go test -tags=e2e ./test/e2e/ -count=1 -timeout 20m -v

# The real-node suite runs on the local cluster with its real worker node
# (hack/realnode): the stacks really start, and the NetworkPolicies are
# enforced. It needs root, as the node does.
.PHONY: test-real
REAL_DIR ?= $(LOCALBIN)/real-e2e
test-real: manifests generate fmt vet controlplane realnode ## Run the e2e tests on the local cluster's real node (started and removed by the suite).
	@trap '[ -n "$$E2E_KEEP" ] || { pkill -f "^$(REAL_DIR)/manager" || true; bash hack/local-cluster.sh down learning-sandbox-real "$(REAL_DIR)" >/dev/null 2>&1 || true; }' EXIT; \
	REAL_WORKDIR="$(REAL_DIR)" go test -tags=realnode ./test/realnode/ -count=1 -parallel 4 -timeout 30m -v

# The in-cluster suite's cluster (one real node) and its images.
INCLUSTER_DIR ?= $(LOCALBIN)/incluster
.PHONY: test-incluster
test-incluster: manifests generate fmt vet controlplane realnode helm ## Run the operator as pods on the real node: images built and imported, helm install, leader failover, helm upgrade, helm uninstall.
	@trap '[ -n "$$E2E_KEEP" ] || bash hack/local-cluster.sh down learning-sandbox-incluster "$(INCLUSTER_DIR)" >/dev/null 2>&1 || true' EXIT; \
	INCLUSTER_WORKDIR="$(INCLUSTER_DIR)" HELM="$(HELM)" go test -tags=incluster ./test/incluster/ -count=1 -timeout 30m -v

# DEMO_REAL_NODE=0 runs the demo on KWOK's fake nodes only (hack/demo.sh).
DEMO_REAL_NODE ?= 1
.PHONY: demo
demo: manifests generate build plugin controlplane $(if $(filter 1,$(DEMO_REAL_NODE)),realnode) ## Run the operator end to end on the local cluster, its sample sandboxes really running on the real node.
	@DEMO_REAL_NODE=$(DEMO_REAL_NODE) bash hack/demo.sh up

.PHONY: demo-down
demo-down: ## Stop what `make demo` started and remove what it created.
	@bash hack/demo.sh down

.PHONY: lint
lint: golangci-lint ## Run golangci-lint linter
	"$(GOLANGCI_LINT)" run

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint linter and perform fixes
	"$(GOLANGCI_LINT)" run --fix

.PHONY: lint-config
lint-config: golangci-lint ## Verify golangci-lint linter configuration
	"$(GOLANGCI_LINT)" config verify

include hack/sampleapp.mk
include hack/bench.mk
include hack/kube-score.mk
include hack/chart.mk
include hack/images.mk

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build manager binary.
	go build -o bin/manager cmd/main.go

.PHONY: plugin
plugin: ## Build the kubectl plugin into bin/kubectl-sandbox (then: export PATH=$$PWD/bin:$$PATH; kubectl sandbox --help).
	go build -o bin/kubectl-sandbox ./cmd/kubectl-sandbox

# The archives that .krew.yaml (the krew manifest's template) names, for a release.
PLUGIN_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
.PHONY: plugin-dist
plugin-dist: ## Build the kubectl plugin's release archives into bin/plugin-dist/ (kubectl-sandbox_<os>_<arch>.tar.gz and their sha256).
	@rm -rf bin/plugin-dist && mkdir -p bin/plugin-dist
	@for p in $(PLUGIN_PLATFORMS); do os=$${p%/*}; arch=$${p#*/}; d=bin/plugin-dist/$${os}_$${arch}; \
	  echo "kubectl-sandbox for $$os/$$arch"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -ldflags=-s -o $$d/kubectl-sandbox ./cmd/kubectl-sandbox || exit 1; \
	  tar -C $$d -czf bin/plugin-dist/kubectl-sandbox_$${os}_$${arch}.tar.gz kubectl-sandbox && rm -rf $$d; \
	done
	@cd bin/plugin-dist && sha256sum *.tar.gz | tee SHA256SUMS

.PHONY: run
run: manifests generate fmt vet ## Run the operator from your host against the current kubeconfig's cluster.
	go run ./cmd/main.go --health-probe-bind-address=0

# If you wish to build the manager image targeting other platforms you can use the --platform flag.
# (i.e. docker build --platform linux/arm64). However, you must enable docker buildKit for it.
# More info: https://docs.docker.com/develop/develop-images/build_enhancements/
# Override BASE_IMAGE to build from another registry, e.g.
# make docker-build IMG=<img> BASE_IMAGE=docker.io/library/golang:1.26
.PHONY: docker-build
docker-build: ## Build docker image with the manager.
	$(CONTAINER_TOOL) build $(if $(BASE_IMAGE),--build-arg BASE_IMAGE=$(BASE_IMAGE)) -t ${IMG} .

.PHONY: docker-push
docker-push: ## Push docker image with the manager.
	$(CONTAINER_TOOL) push ${IMG}

# PLATFORMS defines the target platforms for the manager image be built to provide support to multiple
# architectures. (i.e. make docker-buildx IMG=myregistry/mypoperator:0.0.1). To use this option you need to:
# - be able to use docker buildx. More info: https://docs.docker.com/build/buildx/
# - have enabled BuildKit. More info: https://docs.docker.com/develop/develop-images/build_enhancements/
# - be able to push the image to your registry (i.e. if you do not set a valid value via IMG=<myregistry/image:<tag>> then the export will fail)
# To adequately provide solutions that are compatible with multiple platforms, you should consider using this option.
PLATFORMS ?= linux/arm64,linux/amd64,linux/s390x,linux/ppc64le
.PHONY: docker-buildx
docker-buildx: ## Build and push docker image for the manager for cross-platform support
	# copy existing Dockerfile and insert --platform=${BUILDPLATFORM} into Dockerfile.cross, and preserve the original Dockerfile
	sed -e '1 s/\(^FROM\)/FROM --platform=\$$\{BUILDPLATFORM\}/; t' -e ' 1,// s//FROM --platform=\$$\{BUILDPLATFORM\}/' Dockerfile > Dockerfile.cross
	- $(CONTAINER_TOOL) buildx create --name learning-sandbox-operator-builder
	$(CONTAINER_TOOL) buildx use learning-sandbox-operator-builder
	- $(CONTAINER_TOOL) buildx build --push --platform=$(PLATFORMS) $(if $(BASE_IMAGE),--build-arg BASE_IMAGE=$(BASE_IMAGE)) --tag ${IMG} -f Dockerfile.cross .
	- $(CONTAINER_TOOL) buildx rm learning-sandbox-operator-builder
	rm Dockerfile.cross

.PHONY: build-installer
build-installer: manifests generate chart-installer ## Generate dist/install.yaml (Namespace, CRDs, learner fences, the operator) and dist/catalog.yaml (the stage catalog) from the Helm chart.

##@ Deployment

ifndef ignore-not-found
  ignore-not-found = false
endif

.PHONY: install
install: manifests kustomize ## Install the CRDs, the learner ClusterRole and the stage catalog into the current kubeconfig's cluster.
	"$(KUSTOMIZE)" build config/crd | "$(KUBECTL)" apply --server-side --force-conflicts -f -
	"$(KUSTOMIZE)" build config/learner | "$(KUBECTL)" apply --server-side --force-conflicts -f -
	"$(KUBECTL)" wait --for condition=Established crd/learningsandboxes.sandbox.learning.dev crd/roadmapstages.sandbox.learning.dev crd/learningcohorts.sandbox.learning.dev --timeout 60s
	"$(KUSTOMIZE)" build config/stages | "$(KUBECTL)" apply --server-side --force-conflicts -f -

.PHONY: uninstall
uninstall: manifests kustomize ## Uninstall the CRDs (and with them every sandbox and stage) and the learner ClusterRole.
	"$(KUSTOMIZE)" build config/crd | "$(KUBECTL)" delete --ignore-not-found=$(ignore-not-found) -f -
	"$(KUSTOMIZE)" build config/learner | "$(KUBECTL)" delete --ignore-not-found=$(ignore-not-found) -f -

.PHONY: deploy
deploy: install ## Deploy the operator to the current kubeconfig's cluster.
	cd config/manager && "$(KUSTOMIZE)" edit set image controller=${IMG}
	"$(KUSTOMIZE)" build config/default | "$(KUBECTL)" apply -f -

.PHONY: undeploy
undeploy: kustomize ## Undeploy controller from the K8s cluster specified in ~/.kube/config. Call with ignore-not-found=true to ignore resource not found errors during deletion.
	"$(KUSTOMIZE)" build config/default | "$(KUBECTL)" delete --ignore-not-found=$(ignore-not-found) -f -

##@ Dependencies

## Location to install dependencies to
LOCALBIN ?= $(shell pwd)/bin
$(LOCALBIN):
	mkdir -p "$(LOCALBIN)"

## Tool Binaries
# The kubectl the toolchain built, if it is there; else the one on PATH.
TOOLCHAIN_KUBECTL = $(LOCALBIN)/k8s/$(ENVTEST_K8S_VERSION)-$(shell go env GOOS)-$(shell go env GOARCH)/kubectl
KUBECTL ?= $(shell [ -x "$(TOOLCHAIN_KUBECTL)" ] && echo "$(TOOLCHAIN_KUBECTL)" || echo kubectl)
KUSTOMIZE ?= $(LOCALBIN)/kustomize
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
ENVTEST ?= $(LOCALBIN)/setup-envtest
GOLANGCI_LINT = $(LOCALBIN)/golangci-lint

## Tool Versions
KUSTOMIZE_VERSION ?= v5.8.1
CONTROLLER_TOOLS_VERSION ?= v0.23.0

# ENVTEST_VERSION is setup-envtest's own module version (tagged separately from controller-runtime).
ENVTEST_VERSION ?= v0.25.1

# ENVTEST_K8S_VERSION is the version of the control plane that hack/controlplane pins (k8s.io/kubernetes).
ENVTEST_K8S_VERSION ?= $(shell cd hack/controlplane && go list -m -f '{{.Version}}' k8s.io/kubernetes | sed 's/^v//')

# golangci-lint with the logcheck plugin built in, from hack/tools/golangci-lint
# (`golangci-lint custom` would clone from GitHub); its go.mod pins the versions.
GOLANGCI_LINT_VERSION ?= $(shell cd hack/tools/golangci-lint && go list -m -f '{{.Version}}' github.com/golangci/golangci-lint/v2)-logcheck
.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## Download kustomize locally if necessary.
$(KUSTOMIZE): $(LOCALBIN)
	$(call go-install-tool,$(KUSTOMIZE),sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Download controller-gen locally if necessary.
$(CONTROLLER_GEN): $(LOCALBIN)
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

.PHONY: realnode
realnode: controlplane ## Build the local cluster's real worker node (kubelet, kube-proxy, CoreDNS, kube-router, images) into bin/realnode.
	@bash hack/realnode/build.sh "$(LOCALBIN)"

.PHONY: controlplane
controlplane: ## Build the pinned Kubernetes control plane (etcd, kube-apiserver, ..., kwok) from the Go module proxy into bin/.
	@bash hack/controlplane.sh "$(LOCALBIN)"

# ENVTEST_ASSETS is where envtest finds etcd, kube-apiserver and kubectl. A
# KUBEBUILDER_ASSETS that the user set wins; otherwise setup-envtest finds the
# binaries that `make controlplane` built, offline (-i: no download).
ifdef KUBEBUILDER_ASSETS
ENVTEST_ASSETS := $(KUBEBUILDER_ASSETS)
else
ENVTEST_ASSETS = $(shell "$(ENVTEST)" use -i $(ENVTEST_K8S_VERSION) --bin-dir "$(LOCALBIN)" -p path)
endif

.PHONY: envtest-assets
envtest-assets: envtest ## Make the envtest binaries available (built from source unless KUBEBUILDER_ASSETS is set).
ifndef KUBEBUILDER_ASSETS
	@$(MAKE) --no-print-directory controlplane
	@"$(ENVTEST)" use -i $(ENVTEST_K8S_VERSION) --bin-dir "$(LOCALBIN)" -p path >/dev/null || { \
		echo "setup-envtest found no binaries for $(ENVTEST_K8S_VERSION) in $(LOCALBIN)/k8s: run 'make controlplane'." >&2; exit 1; }
endif

.PHONY: envtest
envtest: $(ENVTEST) ## Download setup-envtest locally if necessary.
$(ENVTEST): $(LOCALBIN)
	$(call go-install-tool,$(ENVTEST),sigs.k8s.io/controller-runtime/tools/setup-envtest,$(ENVTEST_VERSION))

.PHONY: golangci-lint
golangci-lint: $(LOCALBIN) ## Build golangci-lint with the logcheck plugin locally if necessary.
	@[ -x "$(GOLANGCI_LINT)-$(GOLANGCI_LINT_VERSION)" ] || { \
		echo "Building golangci-lint $(GOLANGCI_LINT_VERSION) from hack/tools/golangci-lint (cold: a few minutes)"; \
		cd hack/tools/golangci-lint && go build -o "$(GOLANGCI_LINT)-$(GOLANGCI_LINT_VERSION)" . ; }
	@ln -sf "$(GOLANGCI_LINT)-$(GOLANGCI_LINT_VERSION)" "$(GOLANGCI_LINT)"

# go-install-tool will 'go install' any package with custom target and name of binary, if it doesn't exist
# $1 - target path with name of binary
# $2 - package url which can be installed
# $3 - specific version of package
define go-install-tool
@[ -f "$(1)-$(3)" ] && [ "$$(readlink -- "$(1)" 2>/dev/null)" = "$(1)-$(3)" ] || { \
set -e; \
package=$(2)@$(3) ;\
echo "Downloading $${package}" ;\
rm -f "$(1)" ;\
GOBIN="$(LOCALBIN)" go install $${package} ;\
mv "$(LOCALBIN)/$$(basename "$(1)")" "$(1)-$(3)" ;\
} ;\
ln -sf "$$(realpath "$(1)-$(3)")" "$(1)"
endef

define gomodver
$(shell go list -m -f '{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}' $(1) 2>/dev/null)
endef
