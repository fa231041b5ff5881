# The Helm chart (dist/chart), included by the Makefile. Part of the chart is
# generated from config/ by hack/chart/sync.sh, so that the chart and
# `make deploy` cannot drift; test/chart checks both.

##@ Helm chart

HELM ?= $(LOCALBIN)/helm
HELM_VERSION ?= v4.3.2

# CHART_DIR is the chart. chart-installer renders it as release CHART_RELEASE
# in CHART_NAMESPACE: the names that `make deploy` (kustomize) gives.
CHART_DIR ?= dist/chart
CHART_RELEASE ?= learning-sandbox-operator
CHART_NAMESPACE ?= learning-sandbox-operator-system

.PHONY: helm
helm: ## Build helm from the Go module proxy into bin/ if necessary.
	@mkdir -p "$(LOCALBIN)"
	$(call go-install-tool,$(HELM),helm.sh/helm/v4/cmd/helm,$(HELM_VERSION))

.PHONY: chart
chart: ## Regenerate the chart's files that come from config/ (CRDs, RBAC, learner fences, stage catalog).
	@bash hack/chart/sync.sh

.PHONY: chart-check
chart-check: ## Fail if the chart's generated files are out of date with config/ (writes nothing).
	@bash hack/chart/sync.sh --check

.PHONY: helm-lint
helm-lint: helm chart ## Lint the chart, its values against values.schema.json (helm lint --strict).
	"$(HELM)" lint --strict $(CHART_DIR)

.PHONY: test-chart
test-chart: helm chart ## Run the chart's tests (test/chart: helm template with chosen values; no cluster).
	HELM="$(HELM)" go test ./test/chart/ -count=1

# chart-installer renders the chart with the image IMG (repository:tag; no
# tag: the chart's appVersion) into dist/install.yaml, after the Namespace
# that `helm template` does not create, and the stage catalog apart into
# dist/catalog.yaml, since a RoadmapStage can only be applied once its CRD is
# established.
.PHONY: chart-installer
chart-installer: helm chart ## Render the chart into dist/install.yaml (Namespace, CRDs, learner fences, the operator) and dist/catalog.yaml (the stage catalog).
	@mkdir -p dist
	@img="$(IMG)"; last="$${img##*/}"; \
	if [[ "$$last" == *:* ]]; then repo="$${img%:*}"; tag="$${img##*:}"; else repo="$$img"; tag=""; fi; \
	{ printf '%s\n' "apiVersion: v1" "kind: Namespace" "metadata:" "  name: $(CHART_NAMESPACE)" "  labels:" \
		"    control-plane: controller-manager" "    app.kubernetes.io/name: learning-sandbox-operator"; \
	  "$(HELM)" template $(CHART_RELEASE) $(CHART_DIR) --namespace $(CHART_NAMESPACE) --include-crds \
		--set catalog.enabled=false --set image.repository="$$repo" --set-string image.tag="$$tag"; \
	} > dist/install.yaml
	"$(HELM)" template $(CHART_RELEASE) $(CHART_DIR) --namespace $(CHART_NAMESPACE) \
		--show-only 'templates/catalog/*' > dist/catalog.yaml
	@echo "wrote dist/install.yaml and dist/catalog.yaml ($(IMG))"
