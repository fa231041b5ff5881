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

package metrics

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

var now = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

func sandbox(name, stage string, phase sandboxv1.Phase, ready metav1.ConditionStatus, since time.Time) *sandboxv1.LearningSandbox {
	sb := &sandboxv1.LearningSandbox{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(now.Add(-time.Hour))},
		Spec:       sandboxv1.LearningSandboxSpec{Stage: stage},
		Status:     sandboxv1.LearningSandboxStatus{Phase: phase},
	}
	if ready != "" {
		sb.Status.Conditions = []metav1.Condition{{Type: sandboxv1.ReadyCondition, Status: ready,
			Reason: "Test", LastTransitionTime: metav1.NewTime(since)}}
	}
	return sb
}

func collector(t *testing.T, elected bool, objs ...client.Object) *Collector {
	scheme := runtime.NewScheme()
	if err := sandboxv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{})
	if elected {
		close(ch)
	}
	return &Collector{
		Reader:  fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build(),
		Elected: ch,
		Clock:   clocktesting.NewFakePassiveClock(now),
	}
}

// TestCollectorReportsSandboxesAndCohorts: counts by phase and stage with every
// phase present, the longest wait of a stage (a suspended sandbox does not
// wait), and a cohort's learners, start and exercises passed.
func TestCollectorReportsSandboxesAndCohorts(t *testing.T) {
	g := NewWithT(t)
	waiting := sandbox("class-ada", "apis", sandboxv1.PhaseProvisioning, metav1.ConditionFalse, now.Add(-20*time.Minute))
	waiting.Labels = map[string]string{sandboxv1.CohortLabel: "class"}
	ready := sandbox("class-linus", "apis", sandboxv1.PhaseReady, metav1.ConditionTrue, now.Add(-time.Minute))
	ready.Labels = map[string]string{sandboxv1.CohortLabel: "class"}
	suspended := sandbox("grace", "apis", sandboxv1.PhaseProvisioning, metav1.ConditionFalse, now.Add(-50*time.Minute))
	suspended.Spec.Suspend = true
	fresh := sandbox("barbara", "fundamentals", "", "", time.Time{})
	fresh.CreationTimestamp = metav1.NewTime(now.Add(-30 * time.Second))
	startsAt := metav1.NewTime(now.Add(30 * time.Minute))
	cohort := &sandboxv1.LearningCohort{
		ObjectMeta: metav1.ObjectMeta{Name: "class"},
		Spec:       sandboxv1.LearningCohortSpec{Stage: "apis", StartsAt: &startsAt},
		Status: sandboxv1.LearningCohortStatus{Learners: 3, Exercises: []sandboxv1.CohortExerciseStatus{
			{Name: "register-user", Passed: 1}, {Name: "create-todos", Passed: 0}}},
	}
	c := collector(t, true, waiting, ready, suspended, fresh, cohort)

	expected := `
# HELP learning_sandbox_cohort_exercises_passed Learners of a LearningCohort whose sandbox passed the exercise.
# TYPE learning_sandbox_cohort_exercises_passed gauge
learning_sandbox_cohort_exercises_passed{cohort="class",exercise="create-todos"} 0
learning_sandbox_cohort_exercises_passed{cohort="class",exercise="register-user"} 1
# HELP learning_sandbox_cohort_learners Learners on a LearningCohort's roster: the sandboxes it should have.
# TYPE learning_sandbox_cohort_learners gauge
learning_sandbox_cohort_learners{cohort="class"} 3
# HELP learning_sandbox_cohort_sandboxes A LearningCohort's sandboxes by phase.
# TYPE learning_sandbox_cohort_sandboxes gauge
learning_sandbox_cohort_sandboxes{cohort="class",phase="Failed"} 0
learning_sandbox_cohort_sandboxes{cohort="class",phase="Pending"} 0
learning_sandbox_cohort_sandboxes{cohort="class",phase="Provisioning"} 1
learning_sandbox_cohort_sandboxes{cohort="class",phase="Ready"} 1
learning_sandbox_cohort_sandboxes{cohort="class",phase="Suspended"} 0
learning_sandbox_cohort_sandboxes{cohort="class",phase="Terminating"} 0
# HELP learning_sandbox_cohort_starts_at_timestamp_seconds A LearningCohort's spec.startsAt as a Unix time; absent when it has none.
# TYPE learning_sandbox_cohort_starts_at_timestamp_seconds gauge
learning_sandbox_cohort_starts_at_timestamp_seconds{cohort="class"} 1.796301e+09
# HELP learning_sandbox_longest_not_ready_seconds Seconds that the stage's longest-waiting sandbox (neither suspended nor being deleted) has not been Ready; 0 when every one is.
# TYPE learning_sandbox_longest_not_ready_seconds gauge
learning_sandbox_longest_not_ready_seconds{stage="apis"} 1200
learning_sandbox_longest_not_ready_seconds{stage="fundamentals"} 30
# HELP learning_sandbox_sandboxes LearningSandboxes by phase and stage.
# TYPE learning_sandbox_sandboxes gauge
learning_sandbox_sandboxes{phase="Failed",stage="apis"} 0
learning_sandbox_sandboxes{phase="Failed",stage="fundamentals"} 0
learning_sandbox_sandboxes{phase="Pending",stage="apis"} 0
learning_sandbox_sandboxes{phase="Pending",stage="fundamentals"} 1
learning_sandbox_sandboxes{phase="Provisioning",stage="apis"} 2
learning_sandbox_sandboxes{phase="Provisioning",stage="fundamentals"} 0
learning_sandbox_sandboxes{phase="Ready",stage="apis"} 1
learning_sandbox_sandboxes{phase="Ready",stage="fundamentals"} 0
learning_sandbox_sandboxes{phase="Suspended",stage="apis"} 0
learning_sandbox_sandboxes{phase="Suspended",stage="fundamentals"} 0
learning_sandbox_sandboxes{phase="Terminating",stage="apis"} 0
learning_sandbox_sandboxes{phase="Terminating",stage="fundamentals"} 0
`
	g.Expect(testutil.CollectAndCompare(c, strings.NewReader(expected))).To(Succeed())
}

// TestCollectorIsQuietUntilElected: a replica that is not the leader reports
// none of the gauges, so that two replicas do not count every sandbox twice.
func TestCollectorIsQuietUntilElected(t *testing.T) {
	g := NewWithT(t)
	c := collector(t, false, sandbox("ada", "apis", sandboxv1.PhaseReady, metav1.ConditionTrue, now))
	g.Expect(testutil.CollectAndCount(c)).To(BeZero())
}

// TestFirstReadyIsObservedOnce: the time to Ready is observed when
// provisionedAt is first set, and not again.
func TestFirstReadyIsObservedOnce(t *testing.T) {
	g := NewWithT(t)
	hist := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "t"}, []string{"stage"})
	old := TimeToReady
	TimeToReady = hist
	t.Cleanup(func() { TimeToReady = old })

	before := sandbox("ada", "apis", sandboxv1.PhaseProvisioning, metav1.ConditionFalse, now)
	after := before.DeepCopy()
	at := metav1.NewTime(before.CreationTimestamp.Add(90 * time.Second))
	after.Status.ProvisionedAt = &at
	ObserveFirstReady(before, after)
	ObserveFirstReady(after, after.DeepCopy())

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(hist)
	families, err := reg.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(families).To(HaveLen(1))
	g.Expect(families[0].GetMetric()).To(HaveLen(1))
	h := families[0].GetMetric()[0].GetHistogram()
	g.Expect(h.GetSampleCount()).To(BeEquivalentTo(1))
	g.Expect(h.GetSampleSum()).To(BeEquivalentTo(90))
}

// TestDashboardAndAlertsUseTheseMetrics: every learning_sandbox_ series that
// the Grafana dashboard and the alerts query is one this package exports.
func TestDashboardAndAlertsUseTheseMetrics(t *testing.T) {
	g := NewWithT(t)
	known := map[string]bool{}
	descs := make(chan *prometheus.Desc, 32)
	for _, c := range []prometheus.Collector{TimeToReady, TokensRefreshed, ReconcileErrors, &Collector{}} {
		c.Describe(descs)
	}
	close(descs)
	fqName := regexp.MustCompile(`fqName: "([a-z_]+)"`)
	for d := range descs {
		known[fqName.FindStringSubmatch(d.String())[1]] = true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		known[namespace+"_time_to_ready_seconds"+suffix] = true
	}
	used := regexp.MustCompile(`learning_sandbox_[a-z_]+`)
	for _, file := range []string{"../../config/grafana/learning-sandbox-operator.json", "../../config/prometheus/alerts.yaml"} {
		raw, err := os.ReadFile(file)
		g.Expect(err).NotTo(HaveOccurred())
		for _, name := range used.FindAllString(string(raw), -1) {
			if name == "learning_sandbox_" {
				continue
			}
			g.Expect(known).To(HaveKey(name), "%s queries %s", file, name)
		}
	}
}
