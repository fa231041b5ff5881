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
	"fmt"
	"strings"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// The cohort's status setters are pure, like the sandbox's: they change only
// the cohort in memory, and the reconciler patches the status once, at the end.

// sandboxState is where one learner's sandbox stands, as the cohort sees it.
type sandboxState int

const (
	// stateObserved: the cohort's sandbox, as the cache last saw it; its own
	// status tells whether it is ready.
	stateObserved sandboxState = iota
	// stateMissing: there is no sandbox for the learner (yet).
	stateMissing
	// statePending: written by the cohort and not yet seen back from the
	// cache, or not yet reconciled by the sandbox controller.
	statePending
	// stateHeldBack: has an older stage or template and waits for its turn
	// in the rollout.
	stateHeldBack
	// stateConflict: a sandbox of that name exists and belongs to someone else.
	stateConflict
	// stateExpired: the template's ttl has passed since the class started,
	// so the sandbox is not created again.
	stateExpired
	// stateTerminating: the sandbox is being deleted.
	stateTerminating
)

// learnerSandbox is what the cohort observed of one learner's sandbox.
type learnerSandbox struct {
	learner sandboxv1.CohortLearner
	// name of the learner's sandbox, <cohort>-<learner>.
	name string
	// sandbox is the cohort's sandbox as last read, or nil.
	sandbox *sandboxv1.LearningSandbox
	state   sandboxState
	// updated: the sandbox has the cohort's current stage and template.
	updated bool
}

// sandboxReady reports whether a sandbox is ready at its current spec: its
// controller has observed its generation and found every component ready.
func sandboxReady(sb *sandboxv1.LearningSandbox) bool {
	c := apimeta.FindStatusCondition(sb.Status.Conditions, sandboxv1.ReadyCondition)
	return c != nil && c.Status == metav1.ConditionTrue &&
		c.ObservedGeneration == sb.Generation && sb.Status.ObservedGeneration == sb.Generation
}

// sandboxStalled reports whether a sandbox cannot progress until its spec or
// its surroundings change.
func sandboxStalled(sb *sandboxv1.LearningSandbox) bool {
	return apimeta.IsStatusConditionTrue(sb.Status.Conditions, sandboxv1.StalledCondition)
}

// ready: the learner has a sandbox that works, though it may wait to be updated.
func (s learnerSandbox) ready() bool {
	return s.sandbox != nil && (s.state == stateObserved || s.state == stateHeldBack) && sandboxReady(s.sandbox)
}

// failed: the learner's sandbox is stalled.
func (s learnerSandbox) failed() bool {
	return s.sandbox != nil && (s.state == stateObserved || s.state == stateHeldBack) && sandboxStalled(s.sandbox)
}

// inUpdate: the sandbox has the new stage and template and is not ready with
// them yet; it counts against maxUnavailable.
func (s learnerSandbox) inUpdate() bool {
	return s.updated && !s.ready()
}

// whyNotReady is the reason and message of a sandbox that is not ready.
func (s learnerSandbox) whyNotReady() (string, string) {
	switch s.state {
	case stateConflict:
		return sandboxv1.ReasonSandboxConflict, "a sandbox of this name exists and belongs to someone else: it is left alone"
	case stateExpired:
		return sandboxv1.ReasonExpired, "the template's ttl has passed since the class started: the sandbox is not created again"
	case stateMissing, statePending:
		return sandboxv1.ReasonProgressing, "being applied"
	case stateTerminating:
		return string(sandboxv1.PhaseTerminating), "being deleted"
	}
	c := apimeta.FindStatusCondition(s.sandbox.Status.Conditions, sandboxv1.ReadyCondition)
	if c == nil || c.ObservedGeneration != s.sandbox.Generation {
		return sandboxv1.ReasonProgressing, "waiting for the sandbox controller"
	}
	return c.Reason, c.Message
}

// markCohortProgressing says the cohort is on its way, and to what.
func markCohortProgressing(c *sandboxv1.LearningCohort, reason, message string) {
	setCondition(c, sandboxv1.ReadyCondition, metav1.ConditionFalse, reason, message)
	setCondition(c, sandboxv1.ReconcilingCondition, metav1.ConditionTrue, reason, message)
	removeCondition(c, sandboxv1.StalledCondition)
}

// markCohortFailed says a reconcile failed on something that may pass on a retry.
func markCohortFailed(c *sandboxv1.LearningCohort, err error) {
	markCohortProgressing(c, sandboxv1.ReasonReconciliationFailed, err.Error())
}

// clearSandboxCounts sets the counts of a cohort that has no sandboxes to count.
func clearSandboxCounts(c *sandboxv1.LearningCohort) {
	learners := int32(len(c.Spec.Learners))
	c.Status = sandboxv1.LearningCohortStatus{
		ObservedGeneration: c.Status.ObservedGeneration,
		Learners:           learners,
		Ready:              fmt.Sprintf("0/%d", learners),
		Conditions:         c.Status.Conditions,
	}
}

// markCohortScheduled says the class has not started: no sandbox is made
// before createFrom, the lead time ahead of startsAt.
func markCohortScheduled(c *sandboxv1.LearningCohort, createFrom time.Time) {
	clearSandboxCounts(c)
	msg := fmt.Sprintf("The class starts at %s: its sandboxes are created from %s",
		c.Spec.StartsAt.UTC().Format(time.RFC3339), createFrom.UTC().Format(time.RFC3339))
	setCondition(c, sandboxv1.ReadyCondition, metav1.ConditionFalse, sandboxv1.ReasonScheduled, msg)
	removeCondition(c, sandboxv1.ReconcilingCondition)
	removeCondition(c, sandboxv1.StalledCondition)
}

// markCohortEnded says the class is over: remaining sandboxes are still being deleted.
func markCohortEnded(c *sandboxv1.LearningCohort, remaining int) {
	clearSandboxCounts(c)
	msg := fmt.Sprintf("The class ended at %s: its sandboxes were deleted", c.Spec.EndsAt.UTC().Format(time.RFC3339))
	if remaining > 0 {
		msg = fmt.Sprintf("The class ended at %s: its %d sandboxes are being deleted", c.Spec.EndsAt.UTC().Format(time.RFC3339), remaining)
	}
	markStalled(c, sandboxv1.ReasonEnded, msg)
}

// setCohortSandboxes records what the cohort observed of its learners'
// sandboxes, in roster order, and sets Ready, Reconciling and Stalled from it.
// The lists it writes are bounded, whatever the size of the class.
func setCohortSandboxes(c *sandboxv1.LearningCohort, sandboxes []learnerSandbox, maxUnavailable int) {
	var ready, suspended, failed, updated, outdated, progressing, notReadyCount int32
	var notReady []sandboxv1.SandboxNotReady
	var conflicts, waiting []string
	for _, s := range sandboxes {
		if s.updated {
			updated++
		} else if s.sandbox != nil {
			outdated++
		}
		if s.failed() {
			failed++
		}
		if s.state == stateConflict {
			conflicts = append(conflicts, s.name)
		}
		if s.ready() {
			ready++
			if s.sandbox.Spec.Suspend {
				suspended++
			}
			continue
		}
		notReadyCount++
		if s.state != stateConflict && s.state != stateExpired && !s.failed() {
			progressing++
		}
		reason, msg := s.whyNotReady()
		if len(notReady) < sandboxv1.MaxCohortStatusEntries {
			notReady = append(notReady, sandboxv1.SandboxNotReady{Sandbox: s.name, Reason: reason, Message: shorten(msg)})
		}
		if len(waiting) < maxNotReadyListed {
			waiting = append(waiting, fmt.Sprintf("%s (%s)", s.name, reason))
		}
	}
	learners := int32(len(sandboxes))
	st := &c.Status
	st.Learners = learners
	st.ReadySandboxes = ready
	st.SuspendedSandboxes = suspended
	st.FailedSandboxes = failed
	st.UpdatedSandboxes = updated
	st.Ready = fmt.Sprintf("%d/%d", ready, learners)
	st.NotReady = notReady
	st.Conflicts = conflicts[:min(len(conflicts), sandboxv1.MaxCohortStatusEntries)]
	if len(st.Conflicts) == 0 {
		st.Conflicts = nil
	}

	waitingFor := strings.Join(waiting, ", ")
	if more := notReadyCount - int32(len(waiting)); more > 0 {
		waitingFor += fmt.Sprintf(" and %d more", more)
	}
	if notReadyCount == 0 {
		waitingFor = "the next batch"
	}
	switch {
	case len(conflicts) > 0:
		names := conflicts[:min(len(conflicts), maxNotReadyListed)]
		markStalled(c, sandboxv1.ReasonSandboxConflict, fmt.Sprintf(
			"%d sandboxes of the roster exist and belong to someone else, so they are left alone: %s; "+
				"delete them, or rename those learners", len(conflicts), strings.Join(names, ", ")))
	case ready == learners && updated == learners:
		reason, msg := sandboxv1.ReasonAllSandboxesReady, fmt.Sprintf("All %d sandboxes are ready", learners)
		switch {
		case learners == 0:
			msg = "The roster is empty"
		case suspended == learners:
			reason, msg = sandboxv1.ReasonSuspended, fmt.Sprintf("All %d sandboxes are suspended: every workload is scaled to zero, data is kept", learners)
		}
		setCondition(c, sandboxv1.ReadyCondition, metav1.ConditionTrue, reason, msg)
		removeCondition(c, sandboxv1.ReconcilingCondition)
		removeCondition(c, sandboxv1.StalledCondition)
	case progressing == 0 && notReadyCount > 0:
		// Nothing moves: what is not ready failed or expired, and a rollout
		// waits for the failed ones.
		reason := sandboxv1.ReasonSandboxesFailed
		msg := fmt.Sprintf("%d of %d sandboxes failed; ", failed, learners)
		if failed == 0 {
			reason, msg = sandboxv1.ReasonExpired, ""
		}
		if outdated > 0 {
			msg += fmt.Sprintf("the rollout waits for them with %d of %d updated; ", updated, learners)
		}
		markStalled(c, reason, fmt.Sprintf("%s%d of %d sandboxes ready; not ready: %s", msg, ready, learners, waitingFor))
	case outdated > 0:
		markCohortProgressing(c, sandboxv1.ReasonRollingOut, fmt.Sprintf(
			"Rolling out stage %s and the template, %d sandboxes at a time: %d of %d updated, %d of %d ready; waiting for %s",
			c.Spec.Stage, maxUnavailable, updated, learners, ready, learners, waitingFor))
	default:
		markCohortProgressing(c, sandboxv1.ReasonSandboxesNotReady, fmt.Sprintf(
			"%d of %d sandboxes ready; waiting for %s", ready, learners, waitingFor))
	}
}

// maxNotReadyMessage bounds each message in status.notReady: a sandbox's own
// may quote a long error, and twenty of them are listed.
const maxNotReadyMessage = 256

// shorten cuts a message to maxNotReadyMessage characters.
func shorten(msg string) string {
	r := []rune(msg)
	if len(r) <= maxNotReadyMessage {
		return msg
	}
	return string(r[:maxNotReadyMessage-1]) + "…"
}

// setCohortExercises counts, for each exercise of the stage, the learners
// whose sandbox passed it, and the learners who passed them all.
func setCohortExercises(c *sandboxv1.LearningCohort, exercises []string, sandboxes []learnerSandbox) {
	counts := make(map[string]int32, len(exercises))
	var completed int32
	for _, s := range sandboxes {
		if s.sandbox == nil || s.state == stateConflict {
			continue
		}
		st := s.sandbox.Status
		for _, e := range st.Exercises {
			if e.Passed {
				counts[e.Name]++
			}
		}
		if len(exercises) > 0 && st.ExercisesTotal == int32(len(exercises)) && st.ExercisesPassed == st.ExercisesTotal {
			completed++
		}
	}
	c.Status.LearnersCompleted = completed
	c.Status.Exercises = nil
	for _, name := range exercises {
		c.Status.Exercises = append(c.Status.Exercises, sandboxv1.CohortExerciseStatus{Name: name, Passed: counts[name]})
	}
}
