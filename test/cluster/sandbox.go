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

package cluster

import (
	"context"
	"time"

	"github.com/onsi/gomega"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// WaitReady waits until the sandbox is Ready for its current generation and
// returns it as it then is.
func WaitReady(g gomega.Gomega, c client.Client, name string, timeout, poll time.Duration) *sandboxv1.LearningSandbox {
	sb := &sandboxv1.LearningSandbox{}
	g.Eventually(func(g gomega.Gomega) {
		g.Expect(c.Get(context.Background(), client.ObjectKey{Name: name}, sb)).To(gomega.Succeed())
		ready := apimeta.FindStatusCondition(sb.Status.Conditions, sandboxv1.ReadyCondition)
		g.Expect(ready).NotTo(gomega.BeNil())
		g.Expect(ready.Status).To(gomega.Equal(metav1.ConditionTrue), ready.Message)
		g.Expect(ready.ObservedGeneration).To(gomega.Equal(sb.Generation))
	}, timeout, poll).Should(gomega.Succeed())
	return sb
}

// WithoutPublicImages leaves out the stage's generic containers (MongoDB):
// their images are public ones, which the offline real node cannot pull, and
// Debian has no package to build them from. The README says so.
func WithoutPublicImages(stage *sandboxv1.RoadmapStage) []sandboxv1.ComponentOverride {
	var out []sandboxv1.ComponentOverride
	for _, c := range stage.Spec.Components {
		if c.Type == sandboxv1.ComponentContainer {
			out = append(out, sandboxv1.ComponentOverride{Name: c.Name, Disabled: new(true)})
		}
	}
	return out
}
