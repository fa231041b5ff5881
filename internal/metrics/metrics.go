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

// Package metrics holds the operator's own Prometheus metrics, served beside
// controller-runtime's on the manager's metrics endpoint.
//
// Gauges of what exists (sandboxes by phase and stage, cohorts) are computed
// at scrape time from the manager's cache by a Collector, so they can never
// drift from the objects; events that happen once (a sandbox's first Ready, a
// token, a failed reconcile) are counters and a histogram that the
// controllers update. No label holds a learner's name: labels are phases,
// stages, cohorts, exercises and condition reasons, each a set that an
// instructor or platform team bounds.
package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

const namespace = "learning_sandbox"

// The labels; none holds a learner's name.
const (
	labelStage  = "stage"
	labelPhase  = "phase"
	labelCohort = "cohort"
	// labelResource is a resource of a quota or a node: cpu, memory, storage, pods.
	labelResource = "resource"
)

var (
	// TimeToReady is the time from a sandbox's creation to its first Ready.
	TimeToReady = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace,
		Name:      "time_to_ready_seconds",
		Help:      "Seconds from a LearningSandbox's creation to its first Ready, by stage.",
		Buckets:   []float64{5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 1800, 3600},
	}, []string{labelStage})

	// TokensRefreshed counts the learner tokens requested for kubeconfigs.
	TokensRefreshed = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace,
		Name:      "learner_tokens_refreshed_total",
		Help:      "Learner kubeconfig tokens issued or refreshed through the TokenRequest API.",
	})

	// ReconcileErrors counts the reconciles that ended in an error, by the
	// reason the object's Ready condition gives.
	ReconcileErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace,
		Name:      "reconcile_errors_total",
		Help:      "Reconciles that ended in an error, by controller and the reason of the object's Ready condition.",
	}, []string{"controller", "reason"})
)

var (
	sandboxesDesc = prometheus.NewDesc(namespace+"_sandboxes",
		"LearningSandboxes by phase and stage.", []string{labelPhase, labelStage}, nil)
	longestNotReadyDesc = prometheus.NewDesc(namespace+"_longest_not_ready_seconds",
		"Seconds that the stage's longest-waiting sandbox (neither suspended nor being deleted) has not been Ready; 0 when every one is.",
		[]string{labelStage}, nil)
	cohortSandboxesDesc = prometheus.NewDesc(namespace+"_cohort_sandboxes",
		"A LearningCohort's sandboxes by phase.", []string{labelCohort, labelPhase}, nil)
	cohortLearnersDesc = prometheus.NewDesc(namespace+"_cohort_learners",
		"Learners on a LearningCohort's roster: the sandboxes it should have.", []string{labelCohort}, nil)
	cohortStartsAtDesc = prometheus.NewDesc(namespace+"_cohort_starts_at_timestamp_seconds",
		"A LearningCohort's spec.startsAt as a Unix time; absent when it has none.", []string{labelCohort}, nil)
	cohortPassedDesc = prometheus.NewDesc(namespace+"_cohort_exercises_passed",
		"Learners of a LearningCohort whose sandbox passed the exercise.", []string{labelCohort, "exercise"}, nil)
	cohortCapacityShortDesc = prometheus.NewDesc(namespace+"_cohort_capacity_short",
		"1 when a LearningCohort's sandboxes may use more than the schedulable nodes can give and no node "+
			"autoscaler is expected to add nodes (its CapacityShort condition with reason NodesShort), else 0.",
		[]string{labelCohort}, nil)
	cohortCapacityNeededDesc = prometheus.NewDesc(namespace+"_cohort_capacity_needed",
		"The sum of a LearningCohort's sandboxes' quotas (cpu in cores, memory and storage in bytes, pods).",
		[]string{labelCohort, labelResource}, nil)
	cohortCapacityAvailableDesc = prometheus.NewDesc(namespace+"_cohort_capacity_available",
		"What the schedulable nodes can give a LearningCohort: allocatable less other pods' requests "+
			"(cpu in cores, memory in bytes, pods).",
		[]string{labelCohort, labelResource}, nil)
)

// phases are every phase, so that a phase with no sandbox reads 0 instead of
// disappearing from graphs.
var phases = []sandboxv1.Phase{
	sandboxv1.PhasePending, sandboxv1.PhaseProvisioning, sandboxv1.PhaseReady,
	sandboxv1.PhaseSuspended, sandboxv1.PhaseFailed, sandboxv1.PhaseTerminating,
}

// Register adds the operator's metrics to controller-runtime's registry. The
// collector reads sandboxes and cohorts from reader (the manager's cache) at
// every scrape once elected is closed, so that of several replicas only the
// leader reports them.
func Register(reader client.Reader, elected <-chan struct{}, clk clock.PassiveClock) error {
	for _, c := range []prometheus.Collector{
		TimeToReady, TokensRefreshed, ReconcileErrors,
		&Collector{Reader: reader, Elected: elected, Clock: clk},
	} {
		if err := ctrlmetrics.Registry.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Collector computes the gauges of sandboxes and cohorts from a reader.
type Collector struct {
	Reader  client.Reader
	Elected <-chan struct{}
	Clock   clock.PassiveClock
}

// scrapeTimeout bounds one scrape's reads from the cache.
const scrapeTimeout = 10 * time.Second

// Describe sends the gauges' descriptions.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{sandboxesDesc, longestNotReadyDesc,
		cohortSandboxesDesc, cohortLearnersDesc, cohortStartsAtDesc, cohortPassedDesc,
		cohortCapacityShortDesc, cohortCapacityNeededDesc, cohortCapacityAvailableDesc} {
		ch <- d
	}
}

// Collect reads every sandbox and cohort and sends the gauges. A failed read
// is sent as an invalid metric, which fails the scrape visibly instead of
// reporting zeros.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	select {
	case <-c.Elected:
	default:
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	var sandboxes sandboxv1.LearningSandboxList
	if err := c.Reader.List(ctx, &sandboxes, client.UnsafeDisableDeepCopy); err != nil {
		ch <- prometheus.NewInvalidMetric(sandboxesDesc, err)
		return
	}
	var cohorts sandboxv1.LearningCohortList
	if err := c.Reader.List(ctx, &cohorts, client.UnsafeDisableDeepCopy); err != nil {
		ch <- prometheus.NewInvalidMetric(cohortSandboxesDesc, err)
		return
	}
	c.collectSandboxes(ch, sandboxes.Items)
	collectCohorts(ch, cohorts.Items, sandboxes.Items)
}

func (c *Collector) collectSandboxes(ch chan<- prometheus.Metric, sandboxes []sandboxv1.LearningSandbox) {
	type key struct {
		phase sandboxv1.Phase
		stage string
	}
	counts := map[key]int{}
	longest := map[string]time.Duration{}
	now := c.Clock.Now()
	for i := range sandboxes {
		sb := &sandboxes[i]
		stage := sb.Spec.Stage
		counts[key{phaseOf(sb), stage}]++
		if _, seen := longest[stage]; !seen {
			longest[stage] = 0
		}
		if waited, ok := notReadyFor(sb, now); ok && waited > longest[stage] {
			longest[stage] = waited
		}
	}
	for stage, waited := range longest {
		for _, phase := range phases {
			ch <- prometheus.MustNewConstMetric(sandboxesDesc, prometheus.GaugeValue,
				float64(counts[key{phase, stage}]), string(phase), stage)
		}
		ch <- prometheus.MustNewConstMetric(longestNotReadyDesc, prometheus.GaugeValue, waited.Seconds(), stage)
	}
}

func collectCohorts(ch chan<- prometheus.Metric, cohorts []sandboxv1.LearningCohort, sandboxes []sandboxv1.LearningSandbox) {
	byCohort := map[string]map[sandboxv1.Phase]int{}
	for i := range sandboxes {
		name := sandboxes[i].Labels[sandboxv1.CohortLabel]
		if name == "" {
			continue
		}
		if byCohort[name] == nil {
			byCohort[name] = map[sandboxv1.Phase]int{}
		}
		byCohort[name][phaseOf(&sandboxes[i])]++
	}
	for i := range cohorts {
		co := &cohorts[i]
		for _, phase := range phases {
			ch <- prometheus.MustNewConstMetric(cohortSandboxesDesc, prometheus.GaugeValue,
				float64(byCohort[co.Name][phase]), co.Name, string(phase))
		}
		ch <- prometheus.MustNewConstMetric(cohortLearnersDesc, prometheus.GaugeValue,
			float64(co.Status.Learners), co.Name)
		if co.Spec.StartsAt != nil {
			ch <- prometheus.MustNewConstMetric(cohortStartsAtDesc, prometheus.GaugeValue,
				float64(co.Spec.StartsAt.Unix()), co.Name)
		}
		for _, ex := range co.Status.Exercises {
			ch <- prometheus.MustNewConstMetric(cohortPassedDesc, prometheus.GaugeValue,
				float64(ex.Passed), co.Name, ex.Name)
		}
		collectCapacity(ch, co)
	}
}

// collectCapacity sends a cohort's capacity figures, once it has been measured.
func collectCapacity(ch chan<- prometheus.Metric, co *sandboxv1.LearningCohort) {
	if co.Status.Capacity == nil {
		return
	}
	short := 0.0
	if c := apimeta.FindStatusCondition(co.Status.Conditions, sandboxv1.CapacityShortCondition); c != nil &&
		c.Status == metav1.ConditionTrue && c.Reason == sandboxv1.ReasonNodesShort {
		short = 1
	}
	ch <- prometheus.MustNewConstMetric(cohortCapacityShortDesc, prometheus.GaugeValue, short, co.Name)
	for desc, list := range map[*prometheus.Desc]corev1.ResourceList{
		cohortCapacityNeededDesc: co.Status.Capacity.Needed, cohortCapacityAvailableDesc: co.Status.Capacity.Available,
	} {
		for name, q := range list {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, q.AsApproximateFloat64(), co.Name, string(name))
		}
	}
}

// phaseOf is the sandbox's phase, Pending before the operator has written one.
func phaseOf(sb *sandboxv1.LearningSandbox) sandboxv1.Phase {
	if sb.Status.Phase == "" {
		return sandboxv1.PhasePending
	}
	return sb.Status.Phase
}

// notReadyFor says how long a sandbox that should be Ready has not been: since
// its Ready condition last changed, or since its creation when it has none.
// Suspended sandboxes and ones being deleted are not waited for.
func notReadyFor(sb *sandboxv1.LearningSandbox, now time.Time) (time.Duration, bool) {
	if !sb.DeletionTimestamp.IsZero() || sb.Spec.Suspend {
		return 0, false
	}
	ready := apimeta.FindStatusCondition(sb.Status.Conditions, sandboxv1.ReadyCondition)
	if ready != nil && ready.Status == metav1.ConditionTrue {
		return 0, false
	}
	since := sb.CreationTimestamp.Time
	if ready != nil {
		since = ready.LastTransitionTime.Time
	}
	return max(now.Sub(since), 0), true
}

// ObserveFirstReady records a sandbox's time to Ready when this reconcile is
// the one that first made it Ready.
func ObserveFirstReady(before, after *sandboxv1.LearningSandbox) {
	if before.Status.ProvisionedAt != nil || after.Status.ProvisionedAt == nil {
		return
	}
	TimeToReady.WithLabelValues(after.Spec.Stage).
		Observe(max(after.Status.ProvisionedAt.Sub(after.CreationTimestamp.Time), 0).Seconds())
}
