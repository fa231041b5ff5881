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
	"bufio"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// action is one of the lifecycle commands.
type action struct {
	name, short, long, done string
}

var (
	reset = action{name: "reset", done: "reset",
		short: "Wipe the sandbox's data and provision its stack again from scratch",
		long: `Wipe the data of the sandbox, or of every sandbox of the cohort, and provision
the stack again from scratch: every table, row and key is gone. It asks first,
saying how many sandboxes it will wipe, unless --yes.`}
	suspend = action{name: "suspend", done: "suspended",
		short: "Scale the sandbox's workloads to zero, keeping its data",
		long:  `Scale every workload of the sandbox, or of the cohort's sandboxes, to zero. The data stays.`}
	resume = action{name: "resume", done: "resumed",
		short: "Bring a suspended sandbox back, with the same data",
		long:  `Bring the sandbox, or the cohort's sandboxes, back from suspend, with the same data.`}
	extend = action{name: "extend", done: "extended",
		short: "Let the sandbox live --ttl longer from now",
		long: `Raise the sandbox's ttl (or the cohort's template.ttl) so that it lives at least
--ttl longer from now. A sandbox without a ttl lives until deleted: there is
nothing to extend.`}
)

type lifecycleOptions struct {
	*Options
	action  action
	cohort  string
	yes     bool
	wait    bool
	timeout time.Duration
	ttl     time.Duration
}

func newLifecycleCommand(o *Options, a action) *cobra.Command {
	l := &lifecycleOptions{Options: o, action: a}
	cmd := &cobra.Command{
		Use:     a.name + " SANDBOX | -c COHORT",
		Short:   a.short,
		Long:    a.long,
		Example: fmt.Sprintf("  kubectl sandbox %s fall26-ada\n  kubectl sandbox %s -c fall26", a.name, a.name),
		Args:    cobra.MaximumNArgs(1),
		RunE:    func(cmd *cobra.Command, args []string) error { return l.run(cmd.Context(), args) },
	}
	addTargetFlag(cmd, &l.cohort)
	cmd.Flags().BoolVar(&l.wait, "wait", true, "wait until every sandbox is "+a.done+", showing how many are")
	cmd.Flags().DurationVar(&l.timeout, "timeout", 15*time.Minute, "how long --wait waits")
	switch a {
	case reset:
		cmd.Flags().BoolVarP(&l.yes, "yes", "y", false, "reset without asking")
	case extend:
		cmd.Flags().DurationVar(&l.ttl, "ttl", 24*time.Hour, "how much longer, from now, the sandboxes live at least")
	}
	return cmd
}

func (l *lifecycleOptions) run(ctx context.Context, args []string) error {
	t, err := l.resolve(ctx, args, l.cohort)
	if err != nil {
		return err
	}
	if t.cohort == nil && ownedByCohort(&t.sandboxes[0]) {
		sb := &t.sandboxes[0]
		cohort := sb.Labels[sandboxv1.CohortLabel]
		return fmt.Errorf("sandbox %s belongs to cohort %s, which sets its spec (the operator would undo a change "+
			"to it): %s the whole class with kubectl sandbox %s -c %s", sb.Name, cohort, l.action.name, l.action.name, cohort)
	}
	if l.action == reset && !l.yes {
		if ok, err := l.confirm(t); err != nil || !ok {
			return err
		}
	}
	done, err := l.apply(ctx, t)
	if err != nil || done == nil {
		return err
	}
	if !l.wait {
		printf(l.Out, "%s: %s requested\n", l.describe(t), l.action.name)
		return nil
	}
	if err := l.waitFor(ctx, t, l.action.done, l.timeout, done); err != nil {
		return err
	}
	printf(l.Out, "%s: %s\n", l.describe(t), l.action.done)
	return nil
}

// ownedByCohort reports whether a LearningCohort controls the sandbox.
func ownedByCohort(sb *sandboxv1.LearningSandbox) bool {
	ref := metav1.GetControllerOf(sb)
	return ref != nil && ref.Kind == "LearningCohort" && sb.Labels[sandboxv1.CohortLabel] != ""
}

// confirm asks before a reset, saying what it wipes.
func (l *lifecycleOptions) confirm(t *target) (bool, error) {
	printf(l.ErrOut, "reset wipes every table, row and key of %s (%s). Type yes to go on: ", t.noun(), l.describe(t))
	answer, err := bufio.NewReader(l.In).ReadString('\n')
	if strings.TrimSpace(answer) == "yes" {
		return true, nil
	}
	if err != nil && strings.TrimSpace(answer) == "" {
		return false, fmt.Errorf("nothing was reset: answer yes, or pass --yes to reset without asking")
	}
	printLine(l.Out, "nothing was reset")
	return false, nil
}

func (l *lifecycleOptions) describe(t *target) string {
	if t.cohort != nil {
		return "cohort " + t.cohort.Name
	}
	return "sandbox " + t.sandboxes[0].Name
}

// apply writes the action and returns what a sandbox looks like once it is
// done, or nil when there is nothing to do.
func (l *lifecycleOptions) apply(ctx context.Context, t *target) (func(*sandboxv1.LearningSandbox) bool, error) {
	c, err := l.Client()
	if err != nil {
		return nil, err
	}
	var (
		patch map[string]any
		done  func(*sandboxv1.LearningSandbox) bool
	)
	switch l.action {
	case reset:
		var gen int64
		if t.cohort != nil {
			gen = t.cohort.Spec.Template.ResetGeneration + 1
			patch = map[string]any{"template": map[string]any{"resetGeneration": gen}}
		} else {
			sb := t.sandboxes[0]
			gen = max(sb.Spec.ResetGeneration, sb.Status.LastResetGeneration) + 1
			patch = map[string]any{"resetGeneration": gen}
		}
		done = func(sb *sandboxv1.LearningSandbox) bool { return sb.Status.LastResetGeneration >= gen }
	case suspend, resume:
		patch = map[string]any{"suspend": l.action == suspend}
		want := sandboxv1.PhaseReady
		if l.action == suspend {
			want = sandboxv1.PhaseSuspended
		}
		done = func(sb *sandboxv1.LearningSandbox) bool { return sb.Status.Phase == want }
	case extend:
		until := l.Now().Add(l.ttl)
		ttl, current, err := l.extendedTTL(t, until)
		if err != nil {
			return nil, err
		}
		if ttl <= current {
			printf(l.Out, "%s: already lives until %s or later: nothing to extend\n", l.describe(t), until.UTC().Format(time.RFC3339))
			return nil, nil
		}
		value := ttl.String()
		if t.cohort != nil {
			patch = map[string]any{"template": map[string]any{"ttl": value}}
		} else {
			patch = map[string]any{"ttl": value}
		}
		done = func(sb *sandboxv1.LearningSandbox) bool {
			return sb.Status.ExpiresAt != nil && !sb.Status.ExpiresAt.Before(&metav1.Time{Time: until.Truncate(time.Second)})
		}
	}
	if err := t.patch(ctx, c, map[string]any{"spec": patch}); err != nil {
		return nil, err
	}
	return done, nil
}

// extendedTTL is the ttl that makes the sandboxes live until at least
// until, counted from the creation of the oldest, rounded up to a minute;
// and the ttl they have now.
func (l *lifecycleOptions) extendedTTL(t *target, until time.Time) (time.Duration, time.Duration, error) {
	var (
		current *metav1.Duration
		oldest  time.Time
	)
	if t.cohort != nil {
		current = t.cohort.Spec.Template.TTL
		oldest = t.cohort.CreationTimestamp.Time
	} else {
		current = t.sandboxes[0].Spec.TTL
		oldest = t.sandboxes[0].CreationTimestamp.Time
	}
	if current == nil {
		return 0, 0, fmt.Errorf("%s has no ttl: its sandboxes live until deleted, there is nothing to extend", l.describe(t))
	}
	for _, sb := range t.sandboxes {
		if sb.CreationTimestamp.Before(&metav1.Time{Time: oldest}) {
			oldest = sb.CreationTimestamp.Time
		}
	}
	ttl := until.Sub(oldest)
	if r := ttl % time.Minute; r != 0 {
		ttl += time.Minute - r
	}
	if ttl > 8760*time.Hour {
		return 0, 0, fmt.Errorf("that needs a ttl of %s, more than the 8760h (a year) a sandbox may live: ask for less", ttl)
	}
	return ttl, current.Duration, nil
}

// waitFor polls the target's sandboxes until every one is done, printing a
// cohort's progress (how many are) on stderr each time it changes. A cohort's
// sandboxes are listed again each time, so that one created meanwhile
// counts too.
func (o *Options) waitFor(ctx context.Context, t *target, verb string, timeout time.Duration,
	done func(*sandboxv1.LearningSandbox) bool) error {
	c, err := o.Client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := -1
	ticker := time.NewTicker(o.PollInterval)
	defer ticker.Stop()
	for {
		sandboxes, err := o.current(ctx, c, t)
		if err != nil {
			return err
		}
		n := 0
		for i := range sandboxes {
			if done(&sandboxes[i]) {
				n++
			}
		}
		if n != last && t.cohort != nil {
			printf(o.ErrOut, "%d/%d %s\n", n, len(sandboxes), verb)
			last = n
		}
		if n == len(sandboxes) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gave up after %s with %d/%d %s: kubectl sandbox status%s says what the others wait for",
				timeout, n, len(sandboxes), verb, t.statusArgs())
		case <-ticker.C:
		}
	}
}

// current is the target's sandboxes as they are now.
func (o *Options) current(ctx context.Context, c client.Client, t *target) ([]sandboxv1.LearningSandbox, error) {
	if t.cohort != nil {
		return cohortSandboxes(ctx, c, t.cohort.Name)
	}
	sb := &sandboxv1.LearningSandbox{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(&t.sandboxes[0]), sb); err != nil {
		return nil, explain(err, "get", "learningsandboxes", "learningsandbox-viewer-role")
	}
	return []sandboxv1.LearningSandbox{*sb}, nil
}

// statusArgs are the arguments of kubectl sandbox status for the target.
func (t *target) statusArgs() string {
	if t.cohort != nil {
		return " -c " + t.cohort.Name
	}
	return " " + t.sandboxes[0].Name
}
