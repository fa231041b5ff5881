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
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// How a class of sandboxes is provisioned, in the order the work queue
// (controller-runtime's priority queue) hands sandboxes to the workers:
//
//   - Everything about a sandbox already admitted (its children's events: a
//     workload that became ready, an object made) comes at the default
//     priority, 0. A sandbox whose objects exist and that waits only for its
//     workloads is finished before any new sandbox is started, so that the
//     first learners of a class are Ready within seconds, not when the whole
//     class is.
//   - A new sandbox (created, never provisioned) is admitted at a lower
//     priority, below admitPriority by as many new sandboxes of its cohort
//     as wait before it, up to admitSpread. The first sandboxes of every
//     cohort, and a learner added to a class that is running, go before the
//     tail of a class of hundreds that is still being admitted: cohorts are
//     admitted side by side instead of one after the other.
//   - What the caches list when the operator starts comes last
//     (handler.LowPriority), as controller-runtime does by default.
//
// The rate of admission is bounded by the workers themselves: a new sandbox
// is only taken when no admitted sandbox has work queued. Measured with
// `make bench` (README, Performance): without these priorities a cohort's
// sandboxes became Ready nearly all at the end, since a workload's "ready"
// event waited behind the first reconcile of every later sandbox.
const (
	// admitPriority is the priority of the first new sandbox of a cohort.
	admitPriority = -10
	// admitSpread is how far below admitPriority a cohort's later new sandboxes go.
	admitSpread = 50
)

// admissionQueue counts, per cohort, the new sandboxes queued for their first
// reconcile, and gives each the priority it is admitted at.
type admissionQueue struct {
	mu sync.Mutex
	// waiting is the cohort of each queued new sandbox ("" for none).
	waiting map[types.NamespacedName]string
	// perCohort is how many new sandboxes of each cohort are queued.
	perCohort map[string]int
}

func newAdmissionQueue() *admissionQueue {
	return &admissionQueue{waiting: map[types.NamespacedName]string{}, perCohort: map[string]int{}}
}

// enqueue records a new sandbox and returns its priority.
func (a *admissionQueue) enqueue(key types.NamespacedName, cohort string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, queued := a.waiting[key]; !queued {
		a.waiting[key] = cohort
		a.perCohort[cohort]++
	}
	return admitPriority - min(a.perCohort[cohort]-1, admitSpread)
}

// admitted forgets a sandbox that a worker took; a reconciler set up without
// a manager (in unit tests) has no queue.
func (a *admissionQueue) admitted(key types.NamespacedName) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	cohort, queued := a.waiting[key]
	if !queued {
		return
	}
	delete(a.waiting, key)
	if a.perCohort[cohort]--; a.perCohort[cohort] <= 0 {
		delete(a.perCohort, cohort)
	}
}

// handler enqueues a new sandbox at its admission priority. It sees only
// the creates that admissionEvents lets through; the controller's own
// handler (For) takes every other event of a sandbox.
func (a *admissionQueue) handler() handler.EventHandler {
	return handler.Funcs{
		CreateFunc: func(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			key := client.ObjectKeyFromObject(e.Object)
			req := reconcile.Request{NamespacedName: key}
			priority := a.enqueue(key, e.Object.GetLabels()[sandboxv1.CohortLabel])
			if pq, ok := q.(priorityqueue.PriorityQueue[reconcile.Request]); ok {
				pq.AddWithOpts(priorityqueue.AddOpts{Priority: &priority}, req)
				return
			}
			q.Add(req)
		},
	}
}

// admissionEvents are the creates of new sandboxes, made since the operator
// started (the initial list is not an admission); notAdmission is every
// other event.
var (
	admissionEvents = predicate.Funcs{
		CreateFunc:  func(e event.CreateEvent) bool { return !e.IsInInitialList && isNew(e.Object) },
		UpdateFunc:  func(event.UpdateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
	notAdmission = predicate.Funcs{
		CreateFunc: func(e event.CreateEvent) bool { return e.IsInInitialList || !isNew(e.Object) },
	}
)

// isNew reports whether a sandbox has never been reconciled: it has no status yet.
func isNew(obj client.Object) bool {
	sb, ok := obj.(*sandboxv1.LearningSandbox)
	return ok && sb.Status.ObservedGeneration == 0 && sb.Status.Phase == ""
}
