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
package stack

import (
	"fmt"
	"strings"
	"time"

	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// What the exercise checks need of the stack.
const (
	// PostgresUser and PostgresDatabase are what a Postgres component's
	// check logs in as and to: the sandbox's own user and database.
	PostgresUser     = postgresUser
	PostgresDatabase = postgresDatabase
	// ProgressConfigMapName is the ConfigMap in the sandbox namespace where
	// the learner reads their exercises, hints and results.
	ProgressConfigMapName = "sandbox-progress"
	// ProgressKey is the key of the ConfigMap that holds them, as text.
	ProgressKey = "progress.txt"
	// ProgressSummaryKey holds "<passed>/<total>".
	ProgressSummaryKey = "summary"
	// ProgressStageKey, ProgressLearnerKey and ProgressExpiresKey hold the
	// sandbox's stage, learner and, with a ttl, when it deletes itself
	// (RFC 3339): a learner cannot read the cluster-scoped sandbox itself.
	ProgressStageKey   = "stage"
	ProgressLearnerKey = "learner"
	ProgressExpiresKey = "expiresAt"
	// ProgressOpenAPIKey holds the OpenAPI document of the API that a
	// project stage asks the learner to build.
	ProgressOpenAPIKey = "openapi.yaml"
)

// CheckedComponent is the name of the component a check talks to.
func CheckedComponent(c sandboxv1.ExerciseCheck) string {
	switch {
	case c.Postgres != nil:
		return c.Postgres.Component
	case c.Redis != nil:
		return c.Redis.Component
	case c.HTTP != nil:
		return c.HTTP.Component
	}
	return ""
}

// CheckedComponents are the names of the components a check talks to: the
// one it names, and those that a scenario's postgres and redis steps name.
func CheckedComponents(c sandboxv1.ExerciseCheck) []string {
	names := []string{CheckedComponent(c)}
	if c.HTTP == nil {
		return names
	}
	for _, s := range c.HTTP.Steps {
		switch {
		case s.Postgres != nil:
			names = append(names, s.Postgres.Component)
		case s.Redis != nil:
			names = append(names, s.Redis.Component)
		}
	}
	return names
}

// CheckPort is the port of the component's pods that its checks connect to
// (the container's port, which its Service targets).
func CheckPort(c Component) int32 {
	if c.Type == sandboxv1.ComponentNginx {
		return webPort
	}
	return c.Port
}

// ProgressConfigMap is what the learner reads of their exercises: each one's
// title, description, hint and last result, from the sandbox's status. It is
// a copy for the learner, who may edit it (and the operator restores it):
// what the instructor sees is only ever the sandbox's own status.
func ProgressConfigMap(sb *sandboxv1.LearningSandbox, stage *sandboxv1.RoadmapStage, s Settings) *corev1ac.ConfigMapApplyConfiguration {
	r := &renderer{sandbox: sb, stage: stage, settings: s, namespace: s.NamespaceName(sb.Name)}
	results := make(map[string]sandboxv1.ExerciseStatus, len(sb.Status.Exercises))
	for _, e := range sb.Status.Exercises {
		results[e.Name] = e
	}
	var b strings.Builder
	passed := 0
	for i, e := range stage.Spec.Exercises {
		res, listed := results[e.Name]
		checked := listed && (res.Passed || res.Message != NotCheckedYet)
		state := NotCheckedYet
		switch {
		case checked && res.Passed:
			passed++
			state = "PASSED"
			if res.PassedAt != nil {
				state += " at " + res.PassedAt.UTC().Format(time.RFC3339)
			}
		case checked:
			state = "not passed: " + res.Message
		}
		fmt.Fprintf(&b, "%d. %s (%s)\n   %s\n", i+1, e.Title, e.Name, state)
		if e.Description != "" {
			fmt.Fprintf(&b, "   What: %s\n", strings.TrimSpace(e.Description))
		}
		if e.Hint != "" {
			fmt.Fprintf(&b, "   Hint: %s\n", strings.TrimSpace(e.Hint))
		}
		b.WriteString("\n")
	}
	summary := fmt.Sprintf("%d/%d", passed, len(stage.Spec.Exercises))
	header := fmt.Sprintf("Stage %s: %s exercises passed. Checked every %s; "+
		"this ConfigMap is a copy for you: editing it changes nothing.\n\n", stage.Name, summary, CheckInterval(stage))
	if stage.Spec.OpenAPI != "" {
		header += "The API to build is described in this ConfigMap's key " + ProgressOpenAPIKey + ":\n" +
			"  kubectl get configmap " + ProgressConfigMapName + " -o jsonpath='{.data.openapi\\.yaml}'\n\n"
	}
	data := map[string]string{
		ProgressKey:        header + b.String(),
		ProgressSummaryKey: summary,
		ProgressStageKey:   stage.Name,
		ProgressLearnerKey: sb.Spec.Learner.Name,
	}
	if stage.Spec.OpenAPI != "" {
		data[ProgressOpenAPIKey] = stage.Spec.OpenAPI
	}
	// From the spec, as status.expiresAt is, so that the first render has it.
	if at, ok := ExpiresAt(sb); ok && !sb.CreationTimestamp.IsZero() {
		data[ProgressExpiresKey] = at.UTC().Format(time.RFC3339)
	}
	return corev1ac.ConfigMap(ProgressConfigMapName, r.namespace).
		WithLabels(r.labels("")).
		WithOwnerReferences(OwnerReference(sb)).
		WithData(data)
}

// ExpiresAt is when a sandbox with a ttl deletes itself: its creation plus
// its ttl. ok is false without a ttl.
func ExpiresAt(sb *sandboxv1.LearningSandbox) (time.Time, bool) {
	if sb.Spec.TTL == nil {
		return time.Time{}, false
	}
	return sb.CreationTimestamp.Add(sb.Spec.TTL.Duration), true
}

// NotCheckedYet is the message of an exercise that has no result yet.
const NotCheckedYet = "not checked yet"

// DefaultCheckInterval is how often exercises are checked when the stage does not say.
const DefaultCheckInterval = 5 * time.Minute

// CheckInterval is how often the stage's exercises are checked.
func CheckInterval(stage *sandboxv1.RoadmapStage) time.Duration {
	if stage.Spec.CheckInterval != nil && stage.Spec.CheckInterval.Duration >= time.Minute {
		return stage.Spec.CheckInterval.Duration
	}
	return DefaultCheckInterval
}
