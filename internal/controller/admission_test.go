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
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

func newSandboxOf(name, cohort string) *sandboxv1.LearningSandbox {
	sb := &sandboxv1.LearningSandbox{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if cohort != "" {
		sb.Labels = map[string]string{sandboxv1.CohortLabel: cohort}
	}
	return sb
}

// The order in which the work queue hands sandboxes to the workers, with the
// handlers and priorities the controller uses: an admitted sandbox's child
// event first, then each cohort's first new sandboxes (a learner added to a
// running class among them) before the tail of a class being admitted.
func TestAdmissionOrder(t *testing.T) {
	ctx := context.Background()
	a := newAdmissionQueue()
	q := priorityqueue.New[reconcile.Request]("admission-test")
	defer q.ShutDown()
	create := func(sb *sandboxv1.LearningSandbox) {
		if !admissionEvents.Create(event.CreateEvent{Object: sb}) {
			t.Fatalf("a new sandbox's create is not an admission")
		}
		a.handler().Create(ctx, event.CreateEvent{Object: sb}, q)
	}
	// A class of 100 applied at once.
	for i := range 100 {
		create(newSandboxOf(fmt.Sprintf("big-%03d", i), "big"))
	}
	// A learner added to a class that is running, and a sandbox of no cohort.
	create(newSandboxOf("late-learner", "running"))
	create(newSandboxOf("alone", ""))
	// A workload of the first admitted sandbox became ready: its event.
	admitted := newSandboxOf("admitted", "big")
	admitted.Status.Phase = sandboxv1.PhaseProvisioning
	if admissionEvents.Create(event.CreateEvent{Object: admitted}) || !notAdmission.Create(event.CreateEvent{Object: admitted}) {
		t.Fatalf("a sandbox with a status is admitted already")
	}
	(&handler.EnqueueRequestForObject{}).Update(ctx, event.UpdateEvent{ObjectOld: newSandboxOf("x", ""),
		ObjectNew: func() *sandboxv1.LearningSandbox { s := admitted.DeepCopy(); s.ResourceVersion = "2"; return s }()}, q)

	var order []string
	for q.Len() > 0 {
		req, _, _ := q.GetWithPriority()
		a.admitted(req.NamespacedName)
		order = append(order, req.Name)
		q.Done(req)
	}
	if order[0] != "admitted" {
		t.Errorf("an admitted sandbox's event went after %v", order[:slices.Index(order, "admitted")])
	}
	for _, name := range []string{"late-learner", "alone"} {
		if at := slices.Index(order, name); at > 3 {
			t.Errorf("%s was taken at position %d, behind %d sandboxes of the big class", name, at, at-1)
		}
	}
	if at := slices.Index(order, "big-099"); at != len(order)-1 {
		t.Errorf("the big class's last sandbox was taken at %d of %d", at, len(order))
	}
	for i := 1; i < 100; i++ {
		if slices.Index(order, fmt.Sprintf("big-%03d", i)) < slices.Index(order, fmt.Sprintf("big-%03d", i-1)) {
			t.Fatalf("the big class was not admitted in the order it was created: %v", order)
		}
	}
	if len(a.waiting) != 0 || len(a.perCohort) != 0 {
		t.Errorf("the admission queue still counts %d sandboxes", len(a.waiting))
	}
}

// After a restart the caches' initial list is not an admission.
func TestInitialListIsNotAnAdmission(t *testing.T) {
	e := event.CreateEvent{Object: newSandboxOf("new", ""), IsInInitialList: true}
	if admissionEvents.Create(e) || !notAdmission.Create(e) {
		t.Errorf("the initial list went to the admission handler")
	}
}
