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
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/printers"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

func newStagesCommand(o *Options) *cobra.Command {
	print := genericclioptions.NewPrintFlags("").WithTypeSetter(scheme)
	cmd := &cobra.Command{
		Use:     "stages",
		Short:   "The stage catalog: each stage's title, components, budget and exercises",
		Example: "  kubectl sandbox stages",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.Client()
			if err != nil {
				return err
			}
			list := &sandboxv1.RoadmapStageList{}
			if err := c.List(cmd.Context(), list); err != nil {
				return explain(err, "list", "roadmapstages", "roadmapstage-viewer-role")
			}
			slices.SortFunc(list.Items, func(a, b sandboxv1.RoadmapStage) int { return strings.Compare(a.Name, b.Name) })
			if print.OutputFlagSpecified() {
				p, err := print.ToPrinter()
				if err != nil {
					return err
				}
				return p.PrintObj(list, o.Out)
			}
			w := printers.GetNewTabWriter(o.Out)
			printLine(w, "NAME\tTITLE\tCOMPONENTS\tBUDGET\tEXERCISES")
			for _, s := range list.Items {
				names := make([]string, 0, len(s.Spec.Components))
				for _, c := range s.Spec.Components {
					names = append(names, c.Name)
				}
				printf(w, "%s\t%s\t%s\t%s\t%d\n", s.Name, s.Spec.Title, strings.Join(names, ","),
					budget(s.Spec.Budget), len(s.Spec.Exercises))
			}
			return w.Flush()
		},
	}
	print.AddFlags(cmd)
	return cmd
}

// budget is a stage's budget in one word: cpu=2,memory=2Gi,storage=5Gi,pods=10.
func budget(b sandboxv1.Budget) string {
	var parts []string
	if b.CPU != nil {
		parts = append(parts, "cpu="+b.CPU.String())
	}
	if b.Memory != nil {
		parts = append(parts, "memory="+b.Memory.String())
	}
	if b.Storage != nil {
		parts = append(parts, "storage="+b.Storage.String())
	}
	if b.Pods != nil {
		parts = append(parts, fmt.Sprintf("pods=%d", *b.Pods))
	}
	return orDash(strings.Join(parts, ","))
}
