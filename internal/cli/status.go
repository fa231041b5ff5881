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
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

type statusOptions struct {
	*Options
	cohort string
	watch  bool
	print  *genericclioptions.PrintFlags
}

func newStatusCommand(o *Options) *cobra.Command {
	s := &statusOptions{Options: o, print: genericclioptions.NewPrintFlags("").WithTypeSetter(scheme)}
	cmd := &cobra.Command{
		Use:   "status [SANDBOX | -c COHORT]",
		Short: "One line per sandbox: phase, components ready, exercises, expiry, and what it waits for",
		Long: `One line per sandbox: its phase, components ready, exercises passed, when it
expires, and, when it is not Ready, what it waits for.

With no argument: the sandbox of your context's namespace if it is a sandbox's
(a learner sees their own this way), or else every sandbox you may list.`,
		Example: `  kubectl sandbox status -c fall26        # the class
  kubectl sandbox status fall26-ada -w    # one sandbox, redrawn as it changes
  kubectl sandbox status                  # as a learner: your own sandbox`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return s.run(cmd.Context(), args) },
	}
	addTargetFlag(cmd, &s.cohort)
	cmd.Flags().BoolVarP(&s.watch, "watch", "w", false, "after the table, print a sandbox's line again each time it changes")
	s.print.AddFlags(cmd)
	return cmd
}

func (s *statusOptions) run(ctx context.Context, args []string) error {
	c, err := s.Client()
	if err != nil {
		return err
	}
	var (
		sandboxes []sandboxv1.LearningSandbox
		cohort    *sandboxv1.LearningCohort
		one       bool // a sandbox named, or the context namespace's
		list      []client.ListOption
	)
	switch {
	case s.cohort != "" || len(args) == 1:
		t, err := s.resolve(ctx, args, s.cohort)
		if err != nil {
			return err
		}
		sandboxes, cohort, one = t.sandboxes, t.cohort, t.cohort == nil
	default:
		ns, err := s.Namespace()
		if err != nil {
			return err
		}
		name, ok := sandboxOfNamespace(ctx, c, ns)
		if !ok {
			all := &sandboxv1.LearningSandboxList{}
			if err := c.List(ctx, all); err != nil {
				return explain(err, "list", "learningsandboxes", "learningsandbox-viewer-role")
			}
			sandboxes = all.Items
			break
		}
		sb := &sandboxv1.LearningSandbox{}
		if err := c.Get(ctx, client.ObjectKey{Name: name}, sb); err != nil {
			if apierrors.IsForbidden(err) {
				// A learner, who may read their namespace and not the sandbox.
				return s.learner(ctx, c, ns, name)
			}
			return explain(err, "get", "learningsandboxes", "learningsandbox-viewer-role")
		}
		sandboxes, one = []sandboxv1.LearningSandbox{*sb}, true
	}
	switch {
	case cohort != nil:
		list = append(list, client.MatchingLabels{sandboxv1.CohortLabel: cohort.Name})
	case one:
		list = append(list, client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", sandboxes[0].Name)})
	}

	if s.print.OutputFlagSpecified() {
		return s.printObjects(sandboxes)
	}
	rows := make([]row, 0, len(sandboxes))
	for i := range sandboxes {
		rows = append(rows, sandboxRow(&sandboxes[i], s.Now()))
	}
	if len(rows) == 0 && cohort == nil && !s.watch {
		printLine(s.ErrOut, "No sandboxes found.")
		return nil
	}
	if err := printRows(s.Out, rows, true); err != nil {
		return err
	}
	if cohort != nil {
		printLine(s.Out, cohortSummary(cohort))
	}
	if one {
		printNotPassed(s.Out, &sandboxes[0])
	}
	if !s.watch {
		return nil
	}
	return s.watchRows(ctx, c, list)
}

// printNotPassed says, under one sandbox's line, why each exercise that was
// checked did not pass: a scenario's message names the step that failed.
func printNotPassed(out io.Writer, sb *sandboxv1.LearningSandbox) {
	for _, e := range sb.Status.Exercises {
		if !e.Passed && e.Message != "" && e.Message != stack.NotCheckedYet {
			printf(out, "  %s: %s\n", e.Name, e.Message)
		}
	}
}

// printObjects prints the sandboxes with -o (json, yaml, name, jsonpath, ...).
func (s *statusOptions) printObjects(sandboxes []sandboxv1.LearningSandbox) error {
	p, err := s.print.ToPrinter()
	if err != nil {
		return err
	}
	var obj runtime.Object = &sandboxv1.LearningSandboxList{Items: sandboxes}
	if len(sandboxes) == 1 {
		obj = &sandboxes[0]
	}
	return p.PrintObj(obj, s.Out)
}

// watchRows prints a sandbox's line each time it changes, as kubectl get -w
// does, until the context ends.
func (s *statusOptions) watchRows(ctx context.Context, c client.WithWatch, opts []client.ListOption) error {
	w, err := c.Watch(ctx, &sandboxv1.LearningSandboxList{}, opts...)
	if err != nil {
		return explain(err, "watch", "learningsandboxes", "learningsandbox-viewer-role")
	}
	defer w.Stop()
	last := map[string]row{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				return nil
			}
			sb, isSandbox := ev.Object.(*sandboxv1.LearningSandbox)
			if !isSandbox {
				continue
			}
			r := sandboxRow(sb, s.Now())
			if ev.Type == watch.Deleted {
				r.Phase = "Deleted"
			}
			if prev, seen := last[sb.Name]; seen && prev == r {
				continue
			}
			last[sb.Name] = r
			if err := printRows(s.Out, []row{r}, false); err != nil {
				return err
			}
		}
	}
}

// row is one sandbox's line.
type row struct {
	Name, Learner, Stage, Phase, Ready, Exercises, Expires, Waiting string
}

var header = row{"NAME", "LEARNER", "STAGE", "PHASE", "READY", "EXERCISES", "EXPIRES", "WAITING FOR"}

// sandboxRow is what a sandbox's status says, in a line.
func sandboxRow(sb *sandboxv1.LearningSandbox, now time.Time) row {
	st := sb.Status
	r := row{
		Name:      sb.Name,
		Learner:   sb.Spec.Learner.Name,
		Stage:     sb.Spec.Stage,
		Phase:     orDash(string(st.Phase)),
		Ready:     orDash(st.ComponentsReady),
		Exercises: "-",
		Expires:   expires(st.ExpiresAt, now),
	}
	if st.ExercisesTotal > 0 {
		r.Exercises = fmt.Sprintf("%d/%d", st.ExercisesPassed, st.ExercisesTotal)
	}
	if st.Phase != sandboxv1.PhaseReady && st.Phase != sandboxv1.PhaseSuspended {
		r.Waiting = waitingFor(sb)
	}
	return r
}

// waitingFor is the first not-ready component's message, or else the Ready
// condition's.
func waitingFor(sb *sandboxv1.LearningSandbox) string {
	for _, c := range sb.Status.Components {
		if !c.Ready {
			msg := c.Message
			if msg == "" {
				msg = "not ready"
			}
			return c.Name + ": " + msg
		}
	}
	for _, c := range sb.Status.Conditions {
		if c.Type == sandboxv1.ReadyCondition && c.Status != metav1.ConditionTrue {
			return c.Message
		}
	}
	if sb.Status.ObservedGeneration != sb.Generation {
		return "the operator to see this change"
	}
	return ""
}

// expires says when, from now, a sandbox deletes itself.
func expires(at *metav1.Time, now time.Time) string {
	switch {
	case at == nil:
		return "never"
	case !at.After(now):
		return "now"
	default:
		return "in " + duration.HumanDuration(at.Sub(now))
	}
}

// cohortSummary is the class in one line, from the cohort's status.
func cohortSummary(c *sandboxv1.LearningCohort) string {
	st := c.Status
	learners := "learners"
	if st.Learners == 1 {
		learners = "learner"
	}
	line := fmt.Sprintf("cohort %s: %d %s, %d ready, %d suspended, %d failed", c.Name,
		st.Learners, learners, st.ReadySandboxes, st.SuspendedSandboxes, st.FailedSandboxes)
	if len(st.Exercises) > 0 {
		line += fmt.Sprintf(", %d passed every exercise", st.LearnersCompleted)
	}
	// Not Ready for a reason of its own: Scheduled (startsAt), RollingOut, Ended, ...
	if ready := apimeta.FindStatusCondition(st.Conditions, sandboxv1.ReadyCondition); ready != nil &&
		ready.Status != metav1.ConditionTrue && ready.Message != "" {
		line += "; " + ready.Message
	}
	// Whether the class fits on the nodes, once the operator has measured it.
	if c := apimeta.FindStatusCondition(st.Conditions, sandboxv1.CapacityShortCondition); c != nil {
		verdict := "fits"
		if c.Status == metav1.ConditionTrue {
			verdict = "SHORT"
		}
		line += fmt.Sprintf("\ncapacity: %s: %s", verdict, c.Message)
	}
	return line
}

// printRows prints the rows, sorted by name, aligned as kubectl's tables are.
func printRows(out io.Writer, rows []row, withHeader bool) error {
	slices.SortFunc(rows, func(a, b row) int { return strings.Compare(a.Name, b.Name) })
	w := printers.GetNewTabWriter(out)
	if withHeader {
		rows = append([]row{header}, rows...)
	}
	for _, r := range rows {
		printf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.Name, r.Learner, r.Stage, r.Phase, r.Ready, r.Exercises, r.Expires, r.Waiting)
	}
	return w.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// sandboxOfNamespace is the sandbox whose namespace ns is, as its
// connection Secret's label says (read as metadata only: no value of it
// leaves the API server).
func sandboxOfNamespace(ctx context.Context, c client.Client, ns string) (string, bool) {
	if ns == "" {
		return "", false
	}
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: stack.ConnectionSecretName}, meta); err != nil {
		return "", false
	}
	name := meta.Labels[sandboxv1.SandboxLabel]
	return name, name != ""
}
