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

package controller

import (
	"net/http"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/test/cluster"
)

// scrape reads the manager's metrics endpoint as Prometheus does.
func scrape(g Gomega) cluster.Metrics {
	resp, err := http.Get(metricsURL)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
	m, err := cluster.ParseMetrics(resp.Body)
	g.Expect(err).NotTo(HaveOccurred())
	return m
}

// TestMetricsEndpointCountsSandboxes scrapes the metrics endpoint as
// Prometheus would, for a stage and a cohort of the test's own: sandboxes by
// phase and stage, the cohort's, the time to Ready, how long one has waited,
// tokens issued and the reasons of failed reconciles. No learner's name is a
// label.
func TestMetricsEndpointCountsSandboxes(t *testing.T) {
	g := newG(t)
	stage := nginxStage(t, "metrics", "web")
	before := scrape(g)

	c := newCohort("metrics", stage.Name, "ada", "linus")
	startsAt := metav1.NewTime(testClock.Now().Add(-time.Minute).Truncate(time.Second))
	c.Spec.StartsAt = &startsAt
	createCohort(t, c)
	alone := createSandbox(t, "metrics-alone", stage.Name, func(sb *sandboxv1.LearningSandbox) {
		sb.Spec.Access.Kubeconfig = true
	})
	broken := createSandbox(t, "metrics-broken", stage.Name, func(sb *sandboxv1.LearningSandbox) {
		sb.Spec.Components = []sandboxv1.ComponentOverride{{Name: "nope", Replicas: ptr.To[int32](2)}}
	})
	markSandboxesReady(t, g, sandboxNamesOf(c, "ada", "linus")...)

	g.Eventually(func(g Gomega) {
		m := scrape(g)
		g.Expect(m.Value("learning_sandbox_sandboxes", "stage", stage.Name, "phase", "Ready")).To(BeEquivalentTo(2))
		g.Expect(m.Value("learning_sandbox_sandboxes", "stage", stage.Name, "phase", "Provisioning")).To(BeEquivalentTo(1))
		g.Expect(m.Value("learning_sandbox_sandboxes", "stage", stage.Name, "phase", "Failed")).To(BeEquivalentTo(1))
		g.Expect(m.Value("learning_sandbox_sandboxes", "stage", stage.Name, "phase", "Suspended")).To(BeEquivalentTo(0))
		g.Expect(m.Value("learning_sandbox_longest_not_ready_seconds", "stage", stage.Name)).To(BeNumerically(">", 0))
		g.Expect(m.Value("learning_sandbox_time_to_ready_seconds", "stage", stage.Name)).To(BeEquivalentTo(2))

		g.Expect(m.Value("learning_sandbox_cohort_sandboxes", "cohort", c.Name, "phase", "Ready")).To(BeEquivalentTo(2))
		g.Expect(m.Value("learning_sandbox_cohort_sandboxes", "cohort", c.Name, "phase", "Provisioning")).To(BeEquivalentTo(0))
		g.Expect(m.Value("learning_sandbox_cohort_learners", "cohort", c.Name)).To(BeEquivalentTo(2))
		g.Expect(m.Value("learning_sandbox_cohort_starts_at_timestamp_seconds", "cohort", c.Name)).
			To(BeEquivalentTo(startsAt.Unix()))

		g.Expect(m.Value("learning_sandbox_learner_tokens_refreshed_total") -
			before.Value("learning_sandbox_learner_tokens_refreshed_total")).To(BeEquivalentTo(1))
		g.Expect(m.Value("learning_sandbox_reconcile_errors_total", "controller", "learningsandbox", "reason", sandboxv1.ReasonUnknownComponent) -
			before.Value("learning_sandbox_reconcile_errors_total", "controller", "learningsandbox", "reason", sandboxv1.ReasonUnknownComponent)).
			To(BeNumerically(">=", 1))
	}).Should(Succeed())

	// The one that waited is Ready: nothing of the stage waits any more, and
	// its time to Ready is counted once.
	markSandboxesReady(t, g, alone.Name)
	deleteIgnoringNotFound(t, broken)
	g.Eventually(func(g Gomega) {
		m := scrape(g)
		g.Expect(m.Value("learning_sandbox_sandboxes", "stage", stage.Name, "phase", "Ready")).To(BeEquivalentTo(3))
		g.Expect(m.Value("learning_sandbox_sandboxes", "stage", stage.Name, "phase", "Failed")).To(BeEquivalentTo(0))
		g.Expect(m.Value("learning_sandbox_longest_not_ready_seconds", "stage", stage.Name)).To(BeEquivalentTo(0))
		g.Expect(m.Value("learning_sandbox_time_to_ready_seconds", "stage", stage.Name)).To(BeEquivalentTo(3))
	}).Should(Succeed())

	// A suspended sandbox is not waited for, and its first Ready is not
	// counted again when it comes back.
	names := sandboxNamesOf(c, "ada", "linus")
	suspendCohort(t, c.Name, true)
	g.Eventually(func(g Gomega) {
		for _, name := range names {
			g.Expect(getSandbox(g, name).Spec.Suspend).To(BeTrue())
		}
		m := scrape(g)
		g.Expect(m.Value("learning_sandbox_longest_not_ready_seconds", "stage", stage.Name)).To(BeEquivalentTo(0))
	}).Should(Succeed())
	markSandboxesReady(t, g, names...)
	g.Eventually(func(g Gomega) {
		m := scrape(g)
		g.Expect(m.Value("learning_sandbox_cohort_sandboxes", "cohort", c.Name, "phase", "Suspended")).To(BeEquivalentTo(2))
		g.Expect(m.Value("learning_sandbox_sandboxes", "stage", stage.Name, "phase", "Suspended")).To(BeEquivalentTo(2))
	}).Should(Succeed())
	suspendCohort(t, c.Name, false)
	g.Eventually(func(g Gomega) {
		for _, name := range names {
			g.Expect(getSandbox(g, name).Spec.Suspend).To(BeFalse())
		}
	}).Should(Succeed())
	markSandboxesReady(t, g, names...)
	g.Eventually(func(g Gomega) {
		g.Expect(scrape(g).Value("learning_sandbox_cohort_sandboxes", "cohort", c.Name, "phase", "Ready")).To(BeEquivalentTo(2))
	}).Should(Succeed())
	m := scrape(g)
	g.Expect(m.Value("learning_sandbox_time_to_ready_seconds", "stage", stage.Name)).To(BeEquivalentTo(3))

	for name, f := range m {
		if !strings.HasPrefix(name, "learning_sandbox_") {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				g.Expect(l.GetValue()).NotTo(BeElementOf("ada", "linus", alone.Name, sandboxNamesOf(c, "ada")[0]),
					"%s has a learner's or sandbox's name as its %s label", name, l.GetName())
			}
		}
	}
}

// suspendCohort sets the cohort's template.suspend.
func suspendCohort(t *testing.T, name string, suspend bool) {
	t.Helper()
	updateCohort(t, name, func(c *sandboxv1.LearningCohort) { c.Spec.Suspend = suspend })
}
