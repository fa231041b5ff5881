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

package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// learner prints a learner's own sandbox as their namespace shows it: a
// learner may not read the cluster-scoped LearningSandbox, so the line is
// made of its workloads, its pods and the progress ConfigMap.
func (s *statusOptions) learner(ctx context.Context, c client.Client, ns, name string) error {
	if s.print.OutputFlagSpecified() {
		return fmt.Errorf("-o prints the LearningSandbox, which your kubeconfig may not read: leave out -o, "+
			"or read your progress with kubectl get configmap %s -n %s -o yaml", stack.ProgressConfigMapName, ns)
	}
	r, err := learnerRow(ctx, c, ns, name, s.Now())
	if err != nil {
		return err
	}
	if err := printRows(s.Out, []row{r}, true); err != nil {
		return err
	}
	if !s.watch {
		return nil
	}
	ticker := time.NewTicker(s.PollInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
		next, err := learnerRow(ctx, c, ns, name, s.Now())
		if err != nil {
			return err
		}
		if next != r {
			r = next
			if err := printRows(s.Out, []row{r}, false); err != nil {
				return err
			}
		}
	}
}

// learnerRow is a sandbox's line from what its namespace holds.
func learnerRow(ctx context.Context, c client.Client, ns, name string, now time.Time) (row, error) {
	r := row{Name: name, Learner: "-", Stage: "-", Exercises: "-", Expires: "never"}
	cm := &corev1.ConfigMap{}
	switch err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: stack.ProgressConfigMapName}, cm); {
	case err == nil:
		r.Learner = orDash(cm.Data[stack.ProgressLearnerKey])
		r.Stage = orDash(cm.Data[stack.ProgressStageKey])
		r.Exercises = orDash(cm.Data[stack.ProgressSummaryKey])
		if at, err := time.Parse(time.RFC3339, cm.Data[stack.ProgressExpiresKey]); err == nil {
			t := metav1.NewTime(at)
			r.Expires = expires(&t, now)
		}
	case !apierrors.IsNotFound(err):
		return r, explain(err, "get", "configmaps in "+ns, "learning-sandbox-learner")
	}
	comps, err := namespaceComponents(ctx, c, ns)
	if err != nil {
		return r, err
	}
	ready, suspended := 0, 0
	for _, comp := range comps {
		switch {
		case comp.desired == 0:
			suspended++
		case comp.ready >= comp.desired:
			ready++
		}
	}
	r.Ready = fmt.Sprintf("%d/%d", ready, len(comps))
	switch {
	case len(comps) == 0:
		r.Phase, r.Waiting = string(sandboxv1.PhasePending), "the operator to create the stack"
	case suspended == len(comps):
		r.Phase = string(sandboxv1.PhaseSuspended)
	case ready == len(comps):
		r.Phase = string(sandboxv1.PhaseReady)
	default:
		r.Phase = string(sandboxv1.PhaseProvisioning)
		r.Waiting, err = firstWaiting(ctx, c, ns, comps)
	}
	return r, err
}

// workload is a component's Deployment or StatefulSet, as counted.
type workload struct {
	name           string
	desired, ready int32
}

// namespaceComponents are the components the operator runs in ns, by name.
func namespaceComponents(ctx context.Context, c client.Client, ns string) ([]workload, error) {
	managed := client.MatchingLabels{stack.ManagedByLabel: stack.ManagedBy}
	deployments := &appsv1.DeploymentList{}
	if err := c.List(ctx, deployments, client.InNamespace(ns), managed); err != nil {
		return nil, explain(err, "list", "deployments in "+ns, "learning-sandbox-learner")
	}
	sets := &appsv1.StatefulSetList{}
	if err := c.List(ctx, sets, client.InNamespace(ns), managed); err != nil {
		return nil, explain(err, "list", "statefulsets in "+ns, "learning-sandbox-learner")
	}
	var out []workload
	for _, d := range deployments.Items {
		out = append(out, workload{d.Labels[sandboxv1.ComponentLabel], ptr.Deref(d.Spec.Replicas, 1), d.Status.ReadyReplicas})
	}
	for _, s := range sets.Items {
		out = append(out, workload{s.Labels[sandboxv1.ComponentLabel], ptr.Deref(s.Spec.Replicas, 1), s.Status.ReadyReplicas})
	}
	slices.SortFunc(out, func(a, b workload) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// firstWaiting says what the first component that is not ready waits for:
// a container's waiting reason (ImagePullBackOff, CrashLoopBackOff, ...) if
// one has it, or how many of its pods are ready.
func firstWaiting(ctx context.Context, c client.Client, ns string, comps []workload) (string, error) {
	pods := &corev1.PodList{}
	if err := c.List(ctx, pods, client.InNamespace(ns)); err != nil {
		return "", explain(err, "list", "pods in "+ns, "learning-sandbox-learner")
	}
	for _, comp := range comps {
		if comp.desired == 0 || comp.ready >= comp.desired {
			continue
		}
		for _, p := range pods.Items {
			if p.Labels[sandboxv1.ComponentLabel] != comp.name {
				continue
			}
			for _, cs := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
				w := cs.State.Waiting
				switch {
				case w == nil || w.Reason == "" || w.Reason == "PodInitializing":
				case w.Message == "":
					return comp.name + ": " + w.Reason, nil
				default:
					return fmt.Sprintf("%s: %s: %s", comp.name, w.Reason, w.Message), nil
				}
			}
		}
		return fmt.Sprintf("%s: %d/%d pods ready", comp.name, comp.ready, comp.desired), nil
	}
	return "", nil
}
