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
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/test/cluster"
)

// TestAClassSeesALearnersExercise: an instructor hands out the class's
// kubeconfigs with the plugin; a learner does an exercise with redis-cli on
// their own machine; a check of the class shows it, and the cohort counts it.
func TestAClassSeesALearnersExercise(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	var stage sandboxv1.RoadmapStage
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "caching"}, &stage)).To(Succeed())
	cohort := &sandboxv1.LearningCohort{
		ObjectMeta: metav1.ObjectMeta{Name: "real-class"},
		Spec: sandboxv1.LearningCohortSpec{Stage: "caching", Learners: []sandboxv1.CohortLearner{{Name: "ada"}},
			Template: sandboxv1.SandboxTemplate{Access: sandboxv1.Access{Kubeconfig: true}, Components: cluster.WithoutPublicImages(&stage)}},
	}
	g.Expect(k8sClient.Create(ctx, cohort)).To(Succeed())
	t.Cleanup(func() {
		_ = k8sClient.Delete(context.Background(), cohort)
		NewWithT(t).Eventually(func() bool {
			var pods corev1.PodList
			_ = k8sClient.List(context.Background(), &pods, client.InNamespace(namespaceOf("real-class-ada")))
			return len(pods.Items) == 0
		}, 2*time.Minute, poll).Should(BeTrue(), "the class's pods are gone")
	})
	sandbox := func(args ...string) (string, string, error) { return local.Sandbox(local.Kubeconfig, "", args...) }

	g.Eventually(func() (string, error) {
		out, _, err := sandbox("status", "-c", "real-class")
		return out, err
	}, readyTimeout, poll).Should(ContainSubstring("cohort real-class: 1 learner, 1 ready"))
	out, errOut, err := sandbox("check", "-c", "real-class")
	g.Expect(err).NotTo(HaveOccurred(), errOut)
	g.Expect(out).To(MatchRegexp(`(?m)^key-with-ttl\s+0/1$`))

	dir := t.TempDir()
	_, errOut, err = sandbox("kubeconfigs", "-c", "real-class", "-d", dir)
	g.Expect(err).NotTo(HaveOccurred(), errOut)
	ada := filepath.Join(dir, "ada.kubeconfig")
	out, errOut, err = local.Sandbox(ada, "", "redis-cli", "--", "SET", "practice:session", "abc", "EX", "86400")
	g.Expect(err).NotTo(HaveOccurred(), errOut)
	g.Expect(out).To(Equal("OK\n"))

	out, errOut, err = sandbox("check", "-c", "real-class")
	g.Expect(err).NotTo(HaveOccurred(), errOut)
	g.Expect(out).To(MatchRegexp(`(?m)^key-with-ttl\s+1/1$`))
	g.Expect(out).To(MatchRegexp(`(?m)^ada\s+real-class-ada\s+1/3\s+first-page-cached,invalidated$`))
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(cohort), cohort)).To(Succeed())
		g.Expect(cohort.Status.Exercises).To(ContainElement(sandboxv1.CohortExerciseStatus{Name: "key-with-ttl", Passed: 1}))
	}, time.Minute, poll).Should(Succeed(), "the cohort counts the learner who passed")
}
