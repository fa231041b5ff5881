# kube-score over the rendered stacks, included by the Makefile.

##@ Checks

KUBE_SCORE ?= $(LOCALBIN)/kube-score
KUBE_SCORE_VERSION ?= v1.20.0

# KUBE_SCORE_FILES are the built-in stages' stacks as internal/stack renders
# them (its golden files, kept current by its tests).
KUBE_SCORE_FILES ?= $(wildcard internal/stack/testdata/*.yaml)

# KUBE_SCORE_ARGS are kube-score's flags. These checks are turned off, each
# for a reason that its fix would break:
# - container-image-pull-policy (Always): the demo's and the real node's
#   images are imported into containerd with no registry to pull them from,
#   and every tag the operator renders is pinned.
# - container-security-context-user-group-id (ids above 10000): the pods run
#   as the users their images are built for (postgres 70, redis 999, nginx
#   101, ...); PostgreSQL refuses a data directory that another user owns, so
#   existing data volumes would stop working.
# - container-ephemeral-storage-request-and-limit: KWOK's nodes advertise no
#   ephemeral-storage, so a pod that requests it is never scheduled there;
#   what a pod writes is bounded per emptyDir (sizeLimit) and the root
#   filesystem is read-only.
# - deployment-has-poddisruptionbudget: a sandbox is one learner's practice
#   stack; the few components with more than one replica have them to
#   practise scaling, not to stay available through a node drain.
KUBE_SCORE_ARGS ?= --output-format ci --kubernetes-version v1.37 \
	--ignore-test container-image-pull-policy \
	--ignore-test container-security-context-user-group-id \
	--ignore-test container-ephemeral-storage-request-and-limit \
	--ignore-test deployment-has-poddisruptionbudget

.PHONY: kube-score
kube-score: kube-score-tool ## Score the built-in stages' rendered workloads with kube-score; fails on any CRITICAL.
	@out=$$("$(KUBE_SCORE)" score $(KUBE_SCORE_ARGS) $(KUBE_SCORE_FILES)) && rc=0 || rc=$$?; \
	grep -E '^\[(CRITICAL|WARNING)\]' <<<"$$out" || true; \
	critical=$$(grep -c '^\[CRITICAL\]' <<<"$$out" || true); \
	warning=$$(grep -c '^\[WARNING\]' <<<"$$out" || true); \
	echo "kube-score $(KUBE_SCORE_VERSION) over $(words $(KUBE_SCORE_FILES)) stages: $$critical CRITICAL, $$warning WARNING"; \
	if [ "$$rc" -ne 0 ] || [ "$$critical" -ne 0 ]; then \
		[ "$$critical" -ne 0 ] || printf '%s\n' "$$out" >&2; \
		echo "kube-score failed (exit $$rc): fix what it reports as CRITICAL" >&2; exit 1; \
	fi

.PHONY: kube-score-tool
kube-score-tool: ## Build kube-score from the Go module proxy into bin/ if necessary.
	@mkdir -p "$(LOCALBIN)"
	$(call go-install-tool,$(KUBE_SCORE),github.com/zegl/kube-score/cmd/kube-score,$(KUBE_SCORE_VERSION))
