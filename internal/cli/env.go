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

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

func newEnvCommand(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "env [SANDBOX]",
		Short: "Print the sandbox's connection details as export lines for a shell",
		Long: `Print the sandbox's connection Secret (URLs, hosts, ports, users and passwords)
as export KEY='value' lines. This command exists to print secrets: mind where
its output goes.

With no argument: the sandbox of your context's namespace.`,
		Example: `  eval "$(kubectl sandbox env)"    # as a learner
  kubectl sandbox env fall26-ada`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, _, err := o.connection(cmd.Context(), args)
			if err != nil {
				return err
			}
			keys := make([]string, 0, len(data))
			for k := range data {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				printf(o.Out, "export %s=%s\n", k, shellQuote(string(data[k])))
			}
			return nil
		},
	}
}

// connection is the connection Secret's data of the sandbox named in args,
// or of the context's namespace, and the namespace it is in.
func (o *Options) connection(ctx context.Context, args []string) (map[string][]byte, string, error) {
	ns, secretName, err := o.sandboxNamespace(ctx, args)
	if err != nil {
		return nil, "", err
	}
	c, err := o.Client()
	if err != nil {
		return nil, "", err
	}
	secret := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: secretName}, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, "", fmt.Errorf("no connection Secret %s in %s yet: the sandbox is not provisioned (kubectl sandbox status says why)", secretName, ns)
		}
		return nil, "", explain(err, "get", "secrets in "+ns, "learning-sandbox-learner")
	}
	return secret.Data, ns, nil
}

// sandboxNamespace is the namespace and connection Secret of the sandbox
// named in args (a learner, who may not read it, may still name their own),
// or of the context's namespace.
func (o *Options) sandboxNamespace(ctx context.Context, args []string) (string, string, error) {
	c, err := o.Client()
	if err != nil {
		return "", "", err
	}
	ctxNS, err := o.Namespace()
	if err != nil {
		return "", "", err
	}
	own, isSandbox := sandboxOfNamespace(ctx, c, ctxNS)
	if len(args) == 0 {
		if !isSandbox {
			return "", "", fmt.Errorf("name a sandbox (kubectl sandbox status lists them): the namespace of your context, %q, is no sandbox's", ctxNS)
		}
		return ctxNS, stack.ConnectionSecretName, nil
	}
	sb, err := getSandbox(ctx, c, args[0])
	switch {
	case err == nil && sb.Status.Namespace == "":
		return "", "", fmt.Errorf("sandbox %s has no namespace yet: it is %s", sb.Name, orDash(string(sb.Status.Phase)))
	case err == nil:
		secret := sb.Status.ConnectionSecret
		if secret == "" {
			secret = stack.ConnectionSecretName
		}
		return sb.Status.Namespace, secret, nil
	case apierrors.IsForbidden(err) && isSandbox && own == args[0]:
		return ctxNS, stack.ConnectionSecretName, nil
	default:
		return "", "", err
	}
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
