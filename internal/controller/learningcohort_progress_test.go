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
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// A class coming up one sandbox at a time writes its counts at most once an
// interval, and a change of a condition at once.
func TestCohortCountsAreWrittenAtMostOnceAnInterval(t *testing.T) {
	g := NewWithT(t)
	p := &lastTimes{}
	wait := func(before, after *sandboxv1.LearningCohort, now time.Time) time.Duration {
		return cohortProgressWait(before, after, p, 10*time.Second, now)
	}
	at := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
	status := func(ready int32, allReady bool) *sandboxv1.LearningCohort {
		readyCondition := metav1.ConditionFalse
		if allReady {
			readyCondition = metav1.ConditionTrue
		}
		c := &sandboxv1.LearningCohort{ObjectMeta: metav1.ObjectMeta{Name: "fall26"}}
		c.Status.Learners, c.Status.ReadySandboxes = 300, ready
		apimeta.SetStatusCondition(&c.Status.Conditions, metav1.Condition{Type: sandboxv1.ReadyCondition,
			Status: readyCondition, Reason: sandboxv1.ReasonSandboxesNotReady, Message: "some not ready",
			LastTransitionTime: metav1.NewTime(at)})
		return c
	}
	g.Expect(wait(status(0, false), status(1, false), at)).To(BeZero(),
		"the first write of a cohort since the operator started is not held")
	p.set("fall26", at)
	g.Expect(wait(status(1, false), status(2, false), at.Add(3*time.Second))).
		To(Equal(7*time.Second), "one more Ready 3 s after a write waits 7 s")
	g.Expect(wait(status(299, false), status(300, true), at.Add(time.Second))).
		To(BeZero(), "a condition that changes is written at once")
	g.Expect(wait(status(2, false), status(2, false), at.Add(time.Second))).
		To(BeZero(), "nothing changed: nothing to hold")
	g.Expect(wait(status(1, false), status(2, false), at.Add(10*time.Second))).
		To(BeZero(), "the interval is up")
	p.forget("fall26")
	g.Expect(p.last).NotTo(HaveKey("fall26"))
}
