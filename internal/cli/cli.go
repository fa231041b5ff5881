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

// Package cli is the kubectl plugin `kubectl sandbox`: the instructor's and
// the learner's everyday commands over LearningSandboxes and LearningCohorts.
// It talks to the API server only, with the rights of whoever runs it: what
// their kubeconfig allows is what it can do.
package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// scheme knows the built-in kinds and the operator's.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(sandboxv1.AddToScheme(s))
	return s
}()

// Options is what every command shares: kubectl's connection flags, the
// streams, and a clock.
type Options struct {
	ConfigFlags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams
	// Now is the clock that times are printed against.
	Now func() time.Time
	// PollInterval is how often a waiting command looks again.
	PollInterval time.Duration

	client client.WithWatch
	config *rest.Config
}

// NewOptions returns the options of a command that reads and writes streams.
func NewOptions(streams genericiooptions.IOStreams) *Options {
	return &Options{
		ConfigFlags:  genericclioptions.NewConfigFlags(true),
		IOStreams:    streams,
		Now:          time.Now,
		PollInterval: 2 * time.Second,
	}
}

// NewCommand is `kubectl sandbox` with all its subcommands.
func NewCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kubectl-sandbox",
		Short: "Run a class of LearningSandboxes, or your own sandbox, from kubectl",
		Long: `kubectl sandbox: the everyday commands of learning-sandbox-operator.

Instructors see a class, hand out kubeconfigs, reset, suspend, resume, extend
and check sandboxes. Learners see their own sandbox, its connection details
and exercises, open a shell in their workspace, and psql or redis-cli in it.
Every command runs with the rights of your kubeconfig and nothing more.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations: map[string]string{
			cobra.CommandDisplayNameAnnotation: "kubectl sandbox",
		},
	}
	o.ConfigFlags.AddFlags(cmd.PersistentFlags())
	cmd.AddCommand(
		newStatusCommand(o),
		newKubeconfigsCommand(o),
		newEnvCommand(o),
		newConnectCommand(o, psql),
		newConnectCommand(o, redisCLI),
		newShellCommand(o),
		newLifecycleCommand(o, reset),
		newLifecycleCommand(o, suspend),
		newLifecycleCommand(o, resume),
		newLifecycleCommand(o, extend),
		newCheckCommand(o),
		newStagesCommand(o),
	)
	return cmd
}

// Client is the API client of the kubeconfig, made on first use.
func (o *Options) Client() (client.WithWatch, error) {
	if o.client != nil {
		return o.client, nil
	}
	cfg, err := o.RESTConfig()
	if err != nil {
		return nil, err
	}
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster: %w", err)
	}
	o.client = c
	return c, nil
}

// RESTConfig is the kubeconfig's connection, with kubectl's flags applied.
func (o *Options) RESTConfig() (*rest.Config, error) {
	if o.config != nil {
		return o.config, nil
	}
	cfg, err := o.ConfigFlags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	cfg.UserAgent = "kubectl-sandbox"
	o.config = cfg
	return cfg, nil
}

// Namespace is the namespace of the kubeconfig's context, or of --namespace.
func (o *Options) Namespace() (string, error) {
	ns, _, err := o.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return "", fmt.Errorf("reading the kubeconfig's namespace: %w", err)
	}
	return ns, nil
}

// target is what a command acts on: one sandbox, or a cohort's sandboxes.
type target struct {
	cohort    *sandboxv1.LearningCohort
	sandboxes []sandboxv1.LearningSandbox
}

// noun says how many sandboxes the target has, in words.
func (t *target) noun() string {
	if len(t.sandboxes) == 1 {
		return "1 sandbox"
	}
	return fmt.Sprintf("%d sandboxes", len(t.sandboxes))
}

// addTargetFlag adds -c/--cohort.
func addTargetFlag(cmd *cobra.Command, cohort *string) {
	cmd.Flags().StringVarP(cohort, "cohort", "c", "", "act on every sandbox of this LearningCohort")
}

// resolve finds the sandbox named in args, or the cohort's sandboxes.
func (o *Options) resolve(ctx context.Context, args []string, cohort string) (*target, error) {
	c, err := o.Client()
	if err != nil {
		return nil, err
	}
	switch {
	case cohort != "" && len(args) > 0:
		return nil, fmt.Errorf("name a sandbox or a cohort (-c), not both")
	case cohort != "":
		return cohortTarget(ctx, c, cohort)
	case len(args) == 1:
		sb, err := getSandbox(ctx, c, args[0])
		if err != nil {
			return nil, err
		}
		return &target{sandboxes: []sandboxv1.LearningSandbox{*sb}}, nil
	default:
		return nil, fmt.Errorf("name a sandbox (kubectl sandbox status lists them) or a cohort with -c COHORT")
	}
}

// cohortTarget is the cohort and its sandboxes, in one get and one list.
func cohortTarget(ctx context.Context, c client.Client, name string) (*target, error) {
	cohort := &sandboxv1.LearningCohort{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, cohort); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, notFound(ctx, c, "cohort", name, &sandboxv1.LearningCohortList{})
		}
		return nil, explain(err, "get", "learningcohorts", "learningcohort-viewer-role")
	}
	sandboxes, err := cohortSandboxes(ctx, c, name)
	if err != nil {
		return nil, err
	}
	return &target{cohort: cohort, sandboxes: sandboxes}, nil
}

// cohortSandboxes lists the sandboxes of a cohort, in one call.
func cohortSandboxes(ctx context.Context, c client.Client, cohort string) ([]sandboxv1.LearningSandbox, error) {
	list := &sandboxv1.LearningSandboxList{}
	if err := c.List(ctx, list, client.MatchingLabels{sandboxv1.CohortLabel: cohort}); err != nil {
		return nil, explain(err, "list", "learningsandboxes", "learningsandbox-viewer-role")
	}
	return list.Items, nil
}

// patch merge-patches what the target names: the cohort, or its one sandbox.
func (t *target) patch(ctx context.Context, c client.Client, patch map[string]any) error {
	body, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	var obj client.Object = &t.sandboxes[0]
	resource, role := "learningsandboxes", "learningsandbox-editor-role"
	if t.cohort != nil {
		obj, resource, role = t.cohort, "learningcohorts", "learningcohort-editor-role"
	}
	if err := c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, body)); err != nil {
		return explain(err, "patch", resource, role)
	}
	return nil
}

// getSandbox gets a sandbox by name; an unknown name lists close ones.
func getSandbox(ctx context.Context, c client.Client, name string) (*sandboxv1.LearningSandbox, error) {
	sb := &sandboxv1.LearningSandbox{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, sb); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, notFound(ctx, c, "sandbox", name, &sandboxv1.LearningSandboxList{})
		}
		return nil, explain(err, "get", "learningsandboxes", "learningsandbox-viewer-role")
	}
	return sb, nil
}

// printf and printLine write a command's output. A tabwriter's errors come
// out of its Flush, which the tables check; an error writing a message to
// the user's own terminal is one the shell already shows them.
func printf(w io.Writer, format string, args ...any) { _, _ = fmt.Fprintf(w, format, args...) }

func printLine(w io.Writer, args ...any) { _, _ = fmt.Fprintln(w, args...) }
