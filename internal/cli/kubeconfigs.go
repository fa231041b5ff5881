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
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

type kubeconfigsOptions struct {
	*Options
	cohort, dir string
}

func newKubeconfigsCommand(o *Options) *cobra.Command {
	k := &kubeconfigsOptions{Options: o}
	cmd := &cobra.Command{
		Use:   "kubeconfigs -c COHORT -d DIR",
		Short: "Write one kubeconfig file per learner of a cohort, and a CSV of them",
		Long: `Write DIR/<learner>.kubeconfig (mode 0600) for every learner of the cohort
whose sandbox has a kubeconfig Secret (template.access.kubeconfig: true), and
DIR/kubeconfigs.csv with each learner's namespace and file. Hand each file to
its learner alone: it holds their token.

It reads every Secret in one list call, so it needs read access to the Secrets
of the learners' namespaces.`,
		Example: `  kubectl sandbox kubeconfigs -c fall26 -d ./fall26-kubeconfigs`,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return k.run(cmd.Context()) },
	}
	addTargetFlag(cmd, &k.cohort)
	cmd.Flags().StringVarP(&k.dir, "dir", "d", "", "the directory to write the files to (made if missing)")
	_ = cmd.MarkFlagRequired("cohort")
	_ = cmd.MarkFlagRequired("dir")
	return cmd
}

func (k *kubeconfigsOptions) run(ctx context.Context) error {
	t, err := k.resolve(ctx, nil, k.cohort)
	if err != nil {
		return err
	}
	c, err := k.Client()
	if err != nil {
		return err
	}
	// One list of the kubeconfig Secrets in every namespace, not a get per learner.
	secrets := &corev1.SecretList{}
	if err := c.List(ctx, secrets,
		client.MatchingLabels{stack.ManagedByLabel: stack.ManagedBy},
		client.MatchingFields{"metadata.name": stack.KubeconfigSecretName}); err != nil {
		if apierrors.IsForbidden(err) {
			return fmt.Errorf("you may not list Secrets in every namespace, which kubeconfigs needs to read the learners' "+
				"kubeconfigs (an instructor's or cluster admin's right, never a learner's): %w", err)
		}
		return fmt.Errorf("listing the kubeconfig Secrets: %w", err)
	}
	byNamespace := make(map[string][]byte, len(secrets.Items))
	for _, s := range secrets.Items {
		byNamespace[s.Namespace] = s.Data[stack.KubeconfigKey]
	}
	if err := os.MkdirAll(k.dir, 0o700); err != nil {
		return err
	}
	sandboxes := t.sandboxes
	slices.SortFunc(sandboxes, byLearner)
	records := [][]string{{"learner", "namespace", "file"}}
	written := 0
	for _, sb := range sandboxes {
		learner, ns := sb.Spec.Learner.Name, sb.Status.Namespace
		kubeconfig := byNamespace[ns]
		if ns == "" || len(kubeconfig) == 0 {
			printf(k.ErrOut, "%s: no kubeconfig yet (the cohort's template.access.kubeconfig must be true, "+
				"and the sandbox provisioned: kubectl sandbox status %s)\n", learner, sb.Name)
			records = append(records, []string{learner, ns, ""})
			continue
		}
		file := filepath.Join(k.dir, learner+".kubeconfig")
		if err := writePrivate(file, kubeconfig); err != nil {
			return err
		}
		records = append(records, []string{learner, ns, file})
		written++
	}
	index := filepath.Join(k.dir, "kubeconfigs.csv")
	f, err := os.OpenFile(index, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(records); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	printf(k.Out, "wrote %d of %d kubeconfigs of cohort %s to %s, listed in %s\n",
		written, len(sandboxes), t.cohort.Name, k.dir, index)
	return nil
}

// writePrivate writes a file that only its owner may read, even if it
// existed with wider permissions.
func writePrivate(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return err
	}
	return os.Chmod(path, 0o600)
}

// byLearner orders sandboxes by their learner's name.
func byLearner(a, b sandboxv1.LearningSandbox) int {
	return strings.Compare(a.Spec.Learner.Name, b.Spec.Learner.Name)
}
