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
	"context"
	"fmt"
	"hash/fnv"
	"net"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/drift"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/exercise"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// DefaultCheckWorkers bounds how many exercise checks run at once over all sandboxes.
const DefaultCheckWorkers = 16

// checkSchedule remembers when each sandbox's exercises were last checked,
// in memory only: results are written to the status only when they change,
// so that a class at rest causes no writes.
type checkSchedule struct {
	mu   sync.Mutex
	last map[string]time.Time
	// slots bounds the checks that run at once over all sandboxes.
	slots chan struct{}
}

func (s *checkSchedule) init(workers int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.slots == nil {
		s.slots = make(chan struct{}, max(workers, 1))
		s.last = map[string]time.Time{}
	}
}

func (s *checkSchedule) lastRun(name string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.last[name]
	return t, ok
}

func (s *checkSchedule) ran(name string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last[name] = at
}

// nextSlot is the first time after t at which the sandbox's checks are due.
// Each sandbox has its own phase in the interval, from a hash of its name,
// so that a class's checks are spread over the interval, not all at once.
func nextSlot(name string, interval time.Duration, t time.Time) time.Time {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	offset := time.Duration(h.Sum64() % uint64(interval))
	base := t.Truncate(interval).Add(offset)
	for !base.After(t) {
		base = base.Add(interval)
	}
	return base
}

// reconcileExercises checks the stage's exercises when they are due and the
// sandbox is Ready, records the results in the status, and refreshes the
// learner's progress ConfigMap when they change. It returns how long until
// the next check. Exercises never change the sandbox's conditions.
func (r *LearningSandboxReconciler) reconcileExercises(ctx context.Context, sb *sandboxv1.LearningSandbox,
	stage *sandboxv1.RoadmapStage, st *stack.Stack, creds map[string]string) (time.Duration, error) {
	if len(stage.Spec.Exercises) == 0 {
		sb.Status.Exercises, sb.Status.ExercisesPassed, sb.Status.ExercisesTotal, sb.Status.ExercisesDone = nil, 0, 0, ""
		return 0, nil
	}
	fitExercises(sb, stage)
	ready := apimeta.IsStatusConditionTrue(sb.Status.Conditions, sandboxv1.ReadyCondition) && !sb.Spec.Suspend
	if r.Checker == nil || !ready {
		return 0, nil
	}
	r.schedule.init(DefaultCheckWorkers)
	now := r.Clock.Now()
	interval := stack.CheckInterval(stage)
	requested := sb.Annotations[sandboxv1.CheckRequestedAtAnnotation]
	last, known := r.schedule.lastRun(sb.Name)
	due := false
	switch {
	case requested != "" && requested != sb.Status.LastHandledCheckAt:
		due = true
	case !known:
		// Never checked since the operator started: at once if it never was,
		// else at its slot, so that a restart does not check a fleet at once.
		due = !checkedBefore(sb)
		if !due {
			last = now
			r.schedule.ran(sb.Name, now)
		}
	default:
		due = !now.Before(nextSlot(sb.Name, interval, last))
	}
	if due {
		results := r.runChecks(ctx, stage, st, creds)
		setExerciseResults(sb, stage, results, metav1.NewTime(now))
		sb.Status.LastHandledCheckAt = requested
		last = now
		r.schedule.ran(sb.Name, now)
		if _, err := r.applyIfDrifted(ctx, stampedProgress(sb, stage, r.Settings), true); err != nil {
			return 0, err
		}
	}
	return nextSlot(sb.Name, interval, last).Sub(now), nil
}

// progressAwaitsCheck reports whether the learner's progress ConfigMap is
// left to the sandbox's first check, which runs as soon as the sandbox is
// Ready: made then, with the results, it is written once instead of made
// with "not checked yet" and rewritten a moment later. One that exists is
// kept current all the same. Without a checker nothing would ever make it,
// so it is made with the stack.
func (r *LearningSandboxReconciler) progressAwaitsCheck(sb *sandboxv1.LearningSandbox, stage *sandboxv1.RoadmapStage) bool {
	return r.Checker != nil && len(stage.Spec.Exercises) > 0 && !checkedBefore(sb)
}

// checkedBefore reports whether any exercise of the sandbox has a result.
func checkedBefore(sb *sandboxv1.LearningSandbox) bool {
	for _, e := range sb.Status.Exercises {
		if e.Passed || e.Message != stack.NotCheckedYet {
			return true
		}
	}
	return false
}

func stampedProgress(sb *sandboxv1.LearningSandbox, stage *sandboxv1.RoadmapStage, s stack.Settings) stack.Object {
	cm := stack.ProgressConfigMap(sb, stage, s)
	_ = drift.Stamp(cm)
	return cm
}

// runChecks runs the stage's checks against the sandbox's components over
// their Services, with the sandbox's own credentials, a bounded number at
// once over all sandboxes.
func (r *LearningSandboxReconciler) runChecks(ctx context.Context,
	stage *sandboxv1.RoadmapStage, st *stack.Stack, creds map[string]string) []exercise.Result {
	target := exercise.Target{}
	ns := st.Namespace.GetName()
	for _, c := range st.Components {
		e := exercise.Endpoint{Address: r.checkAddress(ctx, c, *ns)}
		switch c.Type {
		case sandboxv1.ComponentPostgres:
			e.User, e.Password, e.Database = stack.PostgresUser, creds[stack.PostgresPasswordKey], stack.PostgresDatabase
		case sandboxv1.ComponentRedis:
			e.Password = creds[stack.RedisPasswordKey]
		}
		target[c.Name] = e
	}
	results := make([]exercise.Result, len(stage.Spec.Exercises))
	var wg sync.WaitGroup
	for i, e := range stage.Spec.Exercises {
		wg.Go(func() {
			select {
			case r.schedule.slots <- struct{}{}:
			case <-ctx.Done():
				results[i] = exercise.Result{Message: "the check was cancelled"}
				return
			}
			defer func() { <-r.schedule.slots }()
			results[i] = r.Checker.Check(ctx, target, e.Check)
		})
	}
	wg.Wait()
	passed := 0
	for _, res := range results {
		if res.Passed {
			passed++
		}
	}
	ctrl.LoggerFrom(ctx).V(1).Info("Checked exercises", "passed", passed, "total", len(results))
	return results
}

// checkAddress is where a check reaches a component: its Service's cluster
// IP, which needs no cluster DNS, so that it answers also to an operator run
// out of cluster on a node's host (`make demo`); the Service's DNS name when
// the Service has no cluster IP yet.
func (r *LearningSandboxReconciler) checkAddress(ctx context.Context, c stack.Component, ns string) string {
	var svc corev1.Service
	if err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: c.Name}, &svc); err == nil &&
		svc.Spec.ClusterIP != "" && svc.Spec.ClusterIP != corev1.ClusterIPNone {
		return net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(int(c.Port)))
	}
	return c.Endpoint(ns)
}

// fitExercises makes the status list the stage's exercises, in its order:
// results of exercises that remain are kept, new ones are not checked yet.
func fitExercises(sb *sandboxv1.LearningSandbox, stage *sandboxv1.RoadmapStage) {
	old := make(map[string]sandboxv1.ExerciseStatus, len(sb.Status.Exercises))
	for _, e := range sb.Status.Exercises {
		old[e.Name] = e
	}
	out := make([]sandboxv1.ExerciseStatus, 0, len(stage.Spec.Exercises))
	var passed int32
	for _, e := range stage.Spec.Exercises {
		st, ok := old[e.Name]
		if !ok {
			st = sandboxv1.ExerciseStatus{Name: e.Name, Message: stack.NotCheckedYet}
		}
		if st.Passed {
			passed++
		}
		out = append(out, st)
	}
	sb.Status.Exercises = out
	sb.Status.ExercisesPassed = passed
	sb.Status.ExercisesTotal = int32(len(out))
	sb.Status.ExercisesDone = fmt.Sprintf("%d/%d", passed, len(out))
}

// setExerciseResults records check results; passedAt stays the time of the
// first pass since the exercise last failed, so that an unchanged result
// writes nothing.
func setExerciseResults(sb *sandboxv1.LearningSandbox, stage *sandboxv1.RoadmapStage, results []exercise.Result, now metav1.Time) {
	fitExercises(sb, stage)
	var passed int32
	for i := range sb.Status.Exercises {
		e := &sb.Status.Exercises[i]
		res := results[i]
		if res.Passed {
			passed++
			if !e.Passed || e.PassedAt == nil {
				e.PassedAt = &now
			}
			e.Passed, e.Message = true, ""
			continue
		}
		e.Passed, e.PassedAt, e.Message = false, nil, res.Message
	}
	sb.Status.ExercisesPassed = passed
	sb.Status.ExercisesDone = fmt.Sprintf("%d/%d", passed, len(sb.Status.Exercises))
}
