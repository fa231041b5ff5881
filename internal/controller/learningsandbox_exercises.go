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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
	last lastTimes
	// slots bounds the checks that run at once over all sandboxes.
	slots chan struct{}
}

func (s *checkSchedule) init(workers int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.slots == nil {
		s.slots = make(chan struct{}, max(workers, 1))
	}
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
	last, known := r.schedule.last.at(sb.Name)
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
			r.schedule.last.set(sb.Name, now)
		}
	default:
		due = !now.Before(nextSlot(sb.Name, interval, last))
	}
	if due {
		results := r.runChecks(ctx, stage, st, creds)
		setExerciseResults(sb, stage, results, metav1.NewTime(now))
		sb.Status.LastHandledCheckAt = requested
		last = now
		r.schedule.last.set(sb.Name, now)
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

// runChecks runs the stage's checks against the sandbox's components, at
// their ready pods, with the sandbox's own credentials, a bounded number at
// once over all sandboxes.
func (r *LearningSandboxReconciler) runChecks(ctx context.Context,
	stage *sandboxv1.RoadmapStage, st *stack.Stack, creds map[string]string) []exercise.Result {
	target := r.checkTarget(ctx, st, creds)
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

// checkTarget is where the checks reach each component: one of its ready
// pods, by IP, on the port the operator gave it.
//
// A learner can edit everything in their namespace, Services included, and
// a check must never become a way to make the operator connect elsewhere.
// So a check never goes through a Service, its selector, its Endpoints or
// its DNS name: it goes to a pod of the sandbox's namespace that carries the
// component's labels and is Ready, at the IP the kubelet gave it (a learner
// cannot write a pod's status, and Pod Security keeps their pods off the
// host's network). A component whose Service was retyped (to ExternalName,
// say) fails its checks with a message that says so until the operator
// restores it.
func (r *LearningSandboxReconciler) checkTarget(ctx context.Context, st *stack.Stack, creds map[string]string) exercise.Target {
	ns := *st.Namespace.GetName()
	var pods corev1.PodList
	listErr := r.APIReader.List(ctx, &pods, client.InNamespace(ns),
		client.MatchingLabels{stack.ManagedByLabel: stack.ManagedBy})
	target := exercise.Target{Namespace: ns, Components: map[string]exercise.Endpoint{}}
	for _, c := range st.Components {
		e := exercise.Endpoint{Host: c.Name}
		switch c.Type {
		case sandboxv1.ComponentPostgres:
			e.User, e.Password, e.Database = stack.PostgresUser, creds[stack.PostgresPasswordKey], stack.PostgresDatabase
		case sandboxv1.ComponentRedis:
			e.Password = creds[stack.RedisPasswordKey]
		}
		switch {
		case listErr != nil:
			e.Problem = fmt.Sprintf("the pods of component %s cannot be listed: %s", c.Name, apierrors.ReasonForError(listErr))
		default:
			e.Address, e.Problem = checkAddress(ctx, r.Client, ns, c, pods.Items)
		}
		target.Components[c.Name] = e
	}
	return target
}

// checkAddress is IP:port of a ready pod of component c among pods (the
// first by name, so that checks go to the same pod while it stays ready),
// or why there is none.
func checkAddress(ctx context.Context, c client.Reader, ns string, comp stack.Component, pods []corev1.Pod) (string, string) {
	var svc corev1.Service
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: comp.Name}, &svc); err == nil &&
		svc.Spec.Type != "" && svc.Spec.Type != corev1.ServiceTypeClusterIP {
		return "", fmt.Sprintf("the Service %s was changed to type %s: a check reaches only the pods of this sandbox, "+
			"and the operator restores the Service", comp.Name, svc.Spec.Type)
	}
	var chosen *corev1.Pod
	for i := range pods {
		p := &pods[i]
		if p.Labels[sandboxv1.ComponentLabel] != comp.Name || p.Labels[sandboxv1.SandboxLabel] == "" || !checkablePod(p) {
			continue
		}
		if chosen == nil || p.Name < chosen.Name {
			chosen = p
		}
	}
	if chosen == nil {
		return "", fmt.Sprintf("component %s has no ready pod", comp.Name)
	}
	return net.JoinHostPort(chosen.Status.PodIP, strconv.Itoa(int(stack.CheckPort(comp)))), ""
}

// checkablePod reports whether a check may connect to p: it is Ready, not
// going away, on the pod network (not the node's), with an IP the kubelet
// gave it.
func checkablePod(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil || p.Spec.HostNetwork || p.Status.Phase != corev1.PodRunning {
		return false
	}
	ip := net.ParseIP(p.Status.PodIP)
	if ip == nil || p.Status.PodIP == p.Status.HostIP || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() {
		return false
	}
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
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
