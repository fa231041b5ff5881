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
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/drift"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// The roster export: a Secret that tells an instructor which sandbox,
// namespace and Secrets each learner of a class has.

// Keys of the roster Secret.
const (
	RosterCSVKey  = "roster.csv"
	RosterJSONKey = "roster.json"
)

// rosterEntry is one learner's line of the roster: where their sandbox is and
// which Secrets to hand them. Names only: never a password or a token. Nothing
// that changes while the class runs (such as a sandbox's phase, which
// `kubectl get learningsandboxes` shows) either: a class of a thousand would
// rewrite a large Secret at every step of every sandbox.
type rosterEntry struct {
	Learner          string   `json:"learner"`
	Users            []string `json:"users,omitempty"`
	Groups           []string `json:"groups,omitempty"`
	Sandbox          string   `json:"sandbox"`
	Namespace        string   `json:"namespace,omitempty"`
	ConnectionSecret string   `json:"connectionSecret,omitempty"`
	KubeconfigSecret string   `json:"kubeconfigSecret,omitempty"`
	// ExercisesPassed changes only when a learner passes or fails one more
	// exercise, not at every check.
	ExercisesPassed int32 `json:"exercisesPassed"`
	// Note says why a learner has no sandbox to use.
	Note string `json:"note,omitempty"`
}

// roster is the content of roster.json.
type roster struct {
	Cohort   string        `json:"cohort"`
	Stage    string        `json:"stage"`
	Learners []rosterEntry `json:"learners"`
}

// rosterSecretKey is where the cohort's roster Secret goes, if anywhere.
func rosterSecretKey(c *sandboxv1.LearningCohort) (client.ObjectKey, bool) {
	if c.Spec.Export == nil {
		return client.ObjectKey{}, false
	}
	name := c.Spec.Export.Name
	if name == "" {
		name = c.Name + "-roster"
	}
	return client.ObjectKey{Namespace: c.Spec.Export.Namespace, Name: name}, true
}

// exportRoster writes the roster Secret that spec.export asks for, if it
// changed, and deletes the cohort's roster Secrets that it no longer asks
// for. A Secret of that name that is not the cohort's is never overwritten.
func (r *LearningCohortReconciler) exportRoster(ctx context.Context, c *sandboxv1.LearningCohort, sandboxes []learnerSandbox) error {
	key, export := rosterSecretKey(c)
	if err := r.pruneRosters(ctx, c, key); err != nil {
		return err
	}
	if !export {
		return nil
	}
	data, err := r.rosterData(c, sandboxes)
	if err != nil {
		return err
	}
	desired := corev1ac.Secret(key.Name, key.Namespace).
		WithLabels(cohortLabels(c)).
		WithOwnerReferences(cohortOwnerReference(c)).
		WithType(corev1.SecretTypeOpaque).
		WithData(data)

	existing := &corev1.Secret{}
	err = r.Get(ctx, key, existing)
	if apierrors.IsNotFound(err) {
		// The cache holds only the operator's Secrets: ask whether someone
		// else's is there.
		err = r.APIReader.Get(ctx, key, existing)
		if apierrors.IsNotFound(err) {
			existing, err = nil, nil
		}
	}
	if err != nil {
		return fmt.Errorf("reading the roster Secret %s: %w", key, err)
	}
	if existing != nil {
		if !metav1.IsControlledBy(existing, c) {
			return &exportConflictError{msg: fmt.Sprintf("secret %s exists and was not made for this cohort, "+
				"so the roster is not written there: delete that Secret, or set spec.export.name to another name", key)}
		}
		if drifted, err := drift.Drifted(desired, existing); err != nil || !drifted {
			return err
		}
	}
	if err := r.Apply(ctx, desired, client.FieldOwner(stack.FieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("writing the roster Secret %s: %w", key, err)
	}
	ctrl.LoggerFrom(ctx).Info("Wrote the roster", "secret", key)
	return nil
}

// exportConflictError says that the roster Secret's name is taken by a Secret
// that is not the cohort's.
type exportConflictError struct{ msg string }

func (e *exportConflictError) Error() string { return e.msg }

// pruneRosters deletes the roster Secrets of the cohort other than keep.
func (r *LearningCohortReconciler) pruneRosters(ctx context.Context, c *sandboxv1.LearningCohort, keep client.ObjectKey) error {
	var list corev1.SecretList
	if err := r.List(ctx, &list, client.MatchingLabels{sandboxv1.CohortLabel: c.Name}); err != nil {
		return fmt.Errorf("listing the cohort's roster Secrets: %w", err)
	}
	for i := range list.Items {
		s := &list.Items[i]
		if client.ObjectKeyFromObject(s) == keep || !metav1.IsControlledBy(s, c) {
			continue
		}
		if err := r.Delete(ctx, s, client.Preconditions{UID: &s.UID}); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting the roster Secret %s: %w", klog.KObj(s), err)
		}
		ctrl.LoggerFrom(ctx).Info("Deleted a roster Secret no longer asked for", "secret", klog.KObj(s))
	}
	return nil
}

// rosterData is the roster, as CSV and as JSON, in roster order.
func (r *LearningCohortReconciler) rosterData(c *sandboxv1.LearningCohort, sandboxes []learnerSandbox) (map[string][]byte, error) {
	entries := make([]rosterEntry, 0, len(sandboxes))
	for _, s := range sandboxes {
		e := rosterEntry{
			Learner: s.learner.Name,
			Users:   s.learner.Users,
			Groups:  s.learner.Groups,
			Sandbox: s.name,
		}
		switch s.state {
		case stateConflict:
			// Someone else's sandbox: its namespace is not the learner's.
			e.Note = "a sandbox of this name belongs to someone else"
			entries = append(entries, e)
			continue
		case stateExpired:
			e.Note = "the sandbox expired"
		}
		e.Namespace = r.Settings.NamespaceName(s.name)
		if s.sandbox != nil {
			e.ExercisesPassed = s.sandbox.Status.ExercisesPassed
		}
		e.ConnectionSecret = stack.ConnectionSecretName
		if c.Spec.Template.Access.Kubeconfig {
			e.KubeconfigSecret = stack.KubeconfigSecretName
		}
		entries = append(entries, e)
	}

	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	rows := make([][]string, 0, 1+len(entries))
	rows = append(rows, []string{"learner", "users", "sandbox", "namespace", "connectionSecret", "kubeconfigSecret", "exercisesPassed", "note"})
	for _, e := range entries {
		rows = append(rows, []string{e.Learner, strings.Join(e.Users, ";"), e.Sandbox, e.Namespace,
			e.ConnectionSecret, e.KubeconfigSecret, strconv.Itoa(int(e.ExercisesPassed)), e.Note})
	}
	if err := w.WriteAll(rows); err != nil {
		return nil, fmt.Errorf("writing roster.csv: %w", err)
	}
	js, err := json.MarshalIndent(roster{Cohort: c.Name, Stage: c.Spec.Stage, Learners: entries}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("writing roster.json: %w", err)
	}
	return map[string][]byte{RosterCSVKey: buf.Bytes(), RosterJSONKey: append(js, '\n')}, nil
}
