//go:build realnode

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

package realnode

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/test/cluster"
)

// stageBatch is how many stacks share the node at once: its two CPUs hold
// four of the largest stages' requests.
const stageBatch = 4

// TestEveryStageRunsOnTheRealNode starts a sandbox of each built-in stage, a
// few at a time, and requires every pod of it to run on the real node with
// every container ready and none restarted: what the manifests render really
// starts (data directories, read-only root filesystems, probes, upstreams).
func TestEveryStageRunsOnTheRealNode(t *testing.T) {
	var stages sandboxv1.RoadmapStageList
	NewWithT(t).Expect(k8sClient.List(context.Background(), &stages)).To(Succeed())
	NewWithT(t).Expect(stages.Items).To(HaveLen(11), "the built-in catalog (config/stages)")
	for batch := range slices.Chunk(stages.Items, stageBatch) {
		names := make([]string, len(batch))
		for i, s := range batch {
			names[i] = s.Name
		}
		t.Run(strings.Join(names, ","), func(t *testing.T) {
			g := NewWithT(t)
			for _, stage := range batch {
				newSandbox(t, g, &sandboxv1.LearningSandbox{
					ObjectMeta: metav1.ObjectMeta{Name: "real-" + stage.Name},
					Spec:       sandboxv1.LearningSandboxSpec{Stage: stage.Name, Components: cluster.WithoutPublicImages(&stage)},
				})
			}
			for _, stage := range batch {
				sb := waitReady(g, "real-"+stage.Name)
				var pods corev1.PodList
				g.Expect(k8sClient.List(context.Background(), &pods, client.InNamespace(sb.Status.Namespace))).To(Succeed())
				g.Expect(pods.Items).NotTo(BeEmpty())
				for _, pod := range pods.Items {
					g.Expect(pod.Spec.NodeName).To(Equal(realNode), "%s/%s runs on the real node", pod.Namespace, pod.Name)
					g.Expect(pod.Status.Phase).To(Equal(corev1.PodRunning), "%s/%s", pod.Namespace, pod.Name)
					for _, c := range pod.Status.ContainerStatuses {
						g.Expect(c.Ready).To(BeTrue(), "%s/%s %s is ready", pod.Namespace, pod.Name, c.Name)
						g.Expect(c.RestartCount).To(BeZero(), "%s/%s %s never restarted", pod.Namespace, pod.Name, c.Name)
					}
				}
			}
			// No exercise passes before the learner has done it: each one
			// is checked, and none is passed on a fresh stack.
			for _, stage := range batch {
				name := "real-" + stage.Name
				at := requestCheck(g, name)
				g.Eventually(progress(name, at), time.Minute, poll).Should(
					Equal(fmt.Sprintf("0/%d", len(stage.Spec.Exercises))), "%s on a fresh stack", name)
			}
		})
	}
}
