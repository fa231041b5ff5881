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
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// CohortProgressInterval is how often, at most, a cohort's status is written
// when only its counts moved (one more sandbox Ready, one more exercise
// passed). A class of a thousand whose sandboxes become Ready one by one
// would otherwise write its status a thousand times, each write costing the
// API server the whole object with its roster. A change of a condition's
// status or reason, of the roster, of the conflicts or of the capacity is
// written at once.
const CohortProgressInterval = 10 * time.Second

// cohortProgressWait returns how long the status of a cohort must wait
// before it is written, when the change from before to after is progress
// only and the last write was less than interval ago; else 0.
func cohortProgressWait(before, after *sandboxv1.LearningCohort, written *lastTimes, interval time.Duration,
	now time.Time) time.Duration {
	if equality.Semantic.DeepEqual(before.Status, after.Status) ||
		!equality.Semantic.DeepEqual(statusSkeleton(before.Status), statusSkeleton(after.Status)) {
		return 0
	}
	last, ok := written.at(after.Name)
	if !ok {
		return 0
	}
	return max(interval-now.Sub(last), 0)
}

// statusSkeleton is what of a cohort's status is written at once: all but
// the counts and lists that move as sandboxes come up, and the conditions'
// messages, which repeat those counts.
func statusSkeleton(s sandboxv1.LearningCohortStatus) sandboxv1.LearningCohortStatus {
	out := sandboxv1.LearningCohortStatus{
		ObservedGeneration: s.ObservedGeneration,
		Learners:           s.Learners,
		FailedSandboxes:    s.FailedSandboxes,
		Conflicts:          s.Conflicts,
		LastHandledCheckAt: s.LastHandledCheckAt,
		Capacity:           s.Capacity,
	}
	for _, c := range s.Conditions {
		out.Conditions = append(out.Conditions, metav1.Condition{Type: c.Type, Status: c.Status, Reason: c.Reason})
	}
	return out
}
