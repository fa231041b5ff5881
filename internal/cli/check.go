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
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

type checkOptions struct {
	*Options
	cohort  string
	timeout time.Duration
}

func newCheckCommand(o *Options) *cobra.Command {
	k := &checkOptions{Options: o}
	cmd := &cobra.Command{
		Use:   "check SANDBOX | -c COHORT",
		Short: "Run the exercise checks now and show their results",
		Long: `Ask the operator to run the stage's exercise checks now (the annotation
sandbox.learning.dev/check-requested-at), wait until it has, and show each
exercise's result. Without it, checks run every checkInterval of the stage.`,
		Example: "  kubectl sandbox check fall26-ada\n  kubectl sandbox check -c fall26",
		Args:    cobra.MaximumNArgs(1),
		RunE:    func(cmd *cobra.Command, args []string) error { return k.run(cmd.Context(), args) },
	}
	addTargetFlag(cmd, &k.cohort)
	cmd.Flags().DurationVar(&k.timeout, "timeout", 5*time.Minute, "how long to wait for the results")
	return cmd
}

func (k *checkOptions) run(ctx context.Context, args []string) error {
	t, err := k.resolve(ctx, args, k.cohort)
	if err != nil {
		return err
	}
	c, err := k.Client()
	if err != nil {
		return err
	}
	stageName := ""
	if t.cohort != nil {
		stageName = t.cohort.Spec.Stage
	} else {
		stageName = t.sandboxes[0].Spec.Stage
	}
	stage := &sandboxv1.RoadmapStage{}
	if err := c.Get(ctx, client.ObjectKey{Name: stageName}, stage); err != nil {
		return explain(err, "get", "roadmapstages", "roadmapstage-viewer-role")
	}
	if len(stage.Spec.Exercises) == 0 {
		printf(k.Out, "stage %s has no exercises: there is nothing to check\n", stage.Name)
		return nil
	}

	at := k.Now().UTC().Format(time.RFC3339Nano)
	if err := t.patch(ctx, c, map[string]any{"metadata": map[string]any{
		"annotations": map[string]string{sandboxv1.CheckRequestedAtAnnotation: at}}}); err != nil {
		return err
	}
	if err := k.waitFor(ctx, t, "checked", k.timeout, func(sb *sandboxv1.LearningSandbox) bool {
		return sb.Status.LastHandledCheckAt == at
	}); err != nil {
		return err
	}
	sandboxes, err := k.current(ctx, c, t)
	if err != nil {
		return err
	}
	return printResults(k, stage, sandboxes, t.cohort != nil)
}

// printResults shows one sandbox's exercises, or a class's: each learner's
// count and what they have not passed, then how many passed each exercise.
func printResults(o *checkOptions, stage *sandboxv1.RoadmapStage, sandboxes []sandboxv1.LearningSandbox, class bool) error {
	w := printers.GetNewTabWriter(o.Out)
	if !class {
		printLine(w, "EXERCISE\tPASSED\tMESSAGE")
		results := resultsOf(&sandboxes[0])
		for _, e := range stage.Spec.Exercises {
			res, ok := results[e.Name]
			if !ok {
				res.Message = stack.NotCheckedYet
			}
			printf(w, "%s\t%s\t%s\n", e.Name, yesNo(res.Passed), res.Message)
		}
		return w.Flush()
	}
	slices.SortFunc(sandboxes, byLearner)
	passed := map[string]int{}
	printLine(w, "LEARNER\tSANDBOX\tEXERCISES\tNOT PASSED")
	for i := range sandboxes {
		sb := &sandboxes[i]
		results := resultsOf(sb)
		var missing []string
		for _, e := range stage.Spec.Exercises {
			if results[e.Name].Passed {
				passed[e.Name]++
			} else {
				missing = append(missing, e.Name)
			}
		}
		printf(w, "%s\t%s\t%d/%d\t%s\n", sb.Spec.Learner.Name, sb.Name,
			len(stage.Spec.Exercises)-len(missing), len(stage.Spec.Exercises), strings.Join(missing, ","))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	printLine(o.Out)
	printLine(w, "EXERCISE\tPASSED")
	for _, e := range stage.Spec.Exercises {
		printf(w, "%s\t%d/%d\n", e.Name, passed[e.Name], len(sandboxes))
	}
	return w.Flush()
}

func resultsOf(sb *sandboxv1.LearningSandbox) map[string]sandboxv1.ExerciseStatus {
	m := make(map[string]sandboxv1.ExerciseStatus, len(sb.Status.Exercises))
	for _, e := range sb.Status.Exercises {
		m[e.Name] = e
	}
	return m
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
