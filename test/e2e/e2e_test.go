//go:build e2e

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

package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
	"github.com/learning-sandbox/learning-sandbox-operator/test/cluster"
)

const (
	readyTimeout = 3 * time.Minute
	poll         = 500 * time.Millisecond
)

func builtinStages(t *testing.T) []*sandboxv1.RoadmapStage {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "config", "stages", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var stages []*sandboxv1.RoadmapStage
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		st := &sandboxv1.RoadmapStage{}
		if err := yaml.Unmarshal(raw, st); err != nil {
			t.Fatal(err)
		}
		stages = append(stages, st)
	}
	return stages
}

func createSandbox(t *testing.T, g Gomega, name, stage string) *sandboxv1.LearningSandbox {
	t.Helper()
	sb := &sandboxv1.LearningSandbox{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: sandboxv1.LearningSandboxSpec{
			Learner: sandboxv1.Learner{Name: name, Users: []string{name + "@example.edu"}},
			Stage:   stage,
		},
	}
	g.Expect(k8sClient.Create(context.Background(), sb)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), sb) })
	return sb
}

// waitReady waits until the sandbox is Ready for its current generation.
func waitReady(g Gomega, name string) *sandboxv1.LearningSandbox {
	return cluster.WaitReady(g, k8sClient, name, readyTimeout, poll)
}

func namespaceOf(name string) string { return stack.DefaultNamespacePrefix + name }

// runningPods are the pods of a namespace that run on a node and are Ready.
func runningPods(g Gomega, ns string) []corev1.Pod {
	var pods corev1.PodList
	g.Expect(k8sClient.List(context.Background(), &pods, client.InNamespace(ns))).To(Succeed())
	var running []corev1.Pod
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.Spec.NodeName != "" && p.DeletionTimestamp == nil {
			running = append(running, p)
		}
	}
	return running
}

func workloadNames(g Gomega, ns string) []string {
	var deps appsv1.DeploymentList
	var sts appsv1.StatefulSetList
	g.Expect(k8sClient.List(context.Background(), &deps, client.InNamespace(ns))).To(Succeed())
	g.Expect(k8sClient.List(context.Background(), &sts, client.InNamespace(ns))).To(Succeed())
	var names []string
	for _, d := range deps.Items {
		names = append(names, "Deployment/"+d.Name)
	}
	for _, s := range sts.Items {
		names = append(names, "StatefulSet/"+s.Name)
	}
	slices.Sort(names)
	return names
}

// TestEveryStageBecomesReady: a sandbox of each built-in stage becomes Ready
// with every pod Running on a fake node, admitted under Pod Security "restricted".
func TestEveryStageBecomesReady(t *testing.T) {
	for _, stage := range builtinStages(t) {
		t.Run(stage.Name, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			name := "e2e-" + stage.Name
			createSandbox(t, g, name, stage.Name)
			sb := waitReady(g, name)
			g.Expect(sb.Status.Phase).To(Equal(sandboxv1.PhaseReady))

			var want int
			for _, c := range stage.Spec.Components {
				want++
				if c.Replicas != nil {
					want += int(*c.Replicas) - 1
				}
			}
			g.Eventually(func(g Gomega) {
				g.Expect(runningPods(g, namespaceOf(name))).To(HaveLen(want))
			}, readyTimeout, poll).Should(Succeed())

			var ns corev1.Namespace
			g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Name: namespaceOf(name)}, &ns)).To(Succeed())
			g.Expect(ns.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))
		})
	}
}

// TestDeletingASandboxRemovesEverything: garbage collection removes the
// namespace and all in it, and the Postgres and workspace volumes with it.
func TestDeletingASandboxRemovesEverything(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := "e2e-delete"
	sb := createSandbox(t, g, name, "caching")
	waitReady(g, name)

	// The Postgres data and the workspace's home.
	var pvcs corev1.PersistentVolumeClaimList
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.List(ctx, &pvcs, client.InNamespace(namespaceOf(name)))).To(Succeed())
		g.Expect(pvcs.Items).To(HaveLen(2))
		for _, pvc := range pvcs.Items {
			g.Expect(pvc.Status.Phase).To(Equal(corev1.ClaimBound))
		}
	}, readyTimeout, poll).Should(Succeed())

	g.Expect(k8sClient.Delete(ctx, sb)).To(Succeed())
	g.Eventually(func() bool {
		err := k8sClient.Get(ctx, client.ObjectKey{Name: namespaceOf(name)}, &corev1.Namespace{})
		return apierrors.IsNotFound(err)
	}, readyTimeout, poll).Should(BeTrue(), "the namespace is gone")
	for _, pvc := range pvcs.Items {
		g.Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Name: pvc.Spec.VolumeName}, &corev1.PersistentVolume{}))
		}, readyTimeout, poll).Should(BeTrue(), "the volume of %s is gone", pvc.Name)
	}
}

// TestChangingTheStageChangesTheWorkloads: databases -> caching removes mongo
// and web and keeps the Postgres volume; caching -> apis adds web, drops redis;
// apis -> capstone, whose Postgres asks for more storage, keeps the volume too.
func TestChangingTheStageChangesTheWorkloads(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := "e2e-progress"
	ns := namespaceOf(name)
	createSandbox(t, g, name, "databases")
	waitReady(g, name)
	g.Expect(workloadNames(g, ns)).To(Equal([]string{"Deployment/app", "Deployment/mongo", "Deployment/redis", "Deployment/web", "StatefulSet/postgres", "StatefulSet/workspace"}))
	pvc := &corev1.PersistentVolumeClaim{}
	g.Eventually(func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "data-postgres-0"}, pvc)
	}, readyTimeout, poll).Should(Succeed())
	home := &corev1.PersistentVolumeClaim{}
	g.Eventually(func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "home-workspace-0"}, home)
	}, readyTimeout, poll).Should(Succeed())

	setStage := func(stage string) {
		sb := &sandboxv1.LearningSandbox{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: name}, sb)).To(Succeed())
		sb.Spec.Stage = stage
		g.Expect(k8sClient.Update(ctx, sb)).To(Succeed())
	}

	setStage("caching")
	g.Eventually(func(g Gomega) {
		g.Expect(workloadNames(g, ns)).To(Equal([]string{"Deployment/app", "Deployment/redis", "StatefulSet/postgres", "StatefulSet/workspace"}))
	}, readyTimeout, poll).Should(Succeed())
	waitReady(g, name)
	kept := &corev1.PersistentVolumeClaim{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "data-postgres-0"}, kept)).To(Succeed())
	g.Expect(kept.UID).To(Equal(pvc.UID), "the Postgres data volume is the same")

	setStage("apis")
	g.Eventually(func(g Gomega) {
		g.Expect(workloadNames(g, ns)).To(Equal([]string{"Deployment/app", "Deployment/web", "StatefulSet/postgres", "StatefulSet/workspace"}))
	}, readyTimeout, poll).Should(Succeed())
	waitReady(g, name)

	// capstone's Postgres asks for 5Gi; the StatefulSet's claim template cannot
	// change, so the sandbox runs on, on the same data, and says when 5Gi comes.
	setStage("capstone")
	g.Eventually(func(g Gomega) {
		g.Expect(workloadNames(g, ns)).To(Equal([]string{"Deployment/app", "Deployment/redis", "Deployment/web", "StatefulSet/postgres", "StatefulSet/workspace"}))
	}, readyTimeout, poll).Should(Succeed())
	sb := waitReady(g, name)
	g.Expect(sb.Status.Components).To(ContainElement(And(
		HaveField("Name", "postgres"),
		HaveField("Message", ContainSubstring("data volume stays 1Gi until the next reset (spec.resetGeneration), which makes it 5Gi")),
	)))
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "data-postgres-0"}, kept)).To(Succeed())
	g.Expect(kept.UID).To(Equal(pvc.UID), "the Postgres data volume is the same")
	keptHome := &corev1.PersistentVolumeClaim{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "home-workspace-0"}, keptHome)).To(Succeed())
	g.Expect(keptHome.UID).To(Equal(home.UID), "the workspace's home is the same through every stage")
}

// TestOperatorKilledWhileProvisioningConverges kills the operator without
// warning part way through provisioning a batch, starts it again, and checks
// that every sandbox converges with nothing duplicated, orphaned or missing.
func TestOperatorKilledWhileProvisioningConverges(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	const batch = 20
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, seed))
	killAfter := 1 + rng.IntN(batch/2)
	t.Logf("seed %d: killing the operator once %d of %d namespaces exist", seed, killAfter, batch)

	operator.Kill()
	names := make([]string, batch)
	for i := range names {
		names[i] = fmt.Sprintf("e2e-crash-%02d", i)
		createSandbox(t, g, names[i], "auth")
	}
	g.Expect(operator.Start()).To(Succeed())
	g.Eventually(func(g Gomega) {
		var nss corev1.NamespaceList
		g.Expect(k8sClient.List(ctx, &nss, client.HasLabels{sandboxv1.SandboxLabel})).To(Succeed())
		n := 0
		for _, ns := range nss.Items {
			if slices.Contains(names, ns.Labels[sandboxv1.SandboxLabel]) {
				n++
			}
		}
		g.Expect(n).To(BeNumerically(">=", killAfter))
	}, readyTimeout, 50*time.Millisecond).Should(Succeed())
	operator.Kill()
	g.Expect(operator.Start()).To(Succeed())

	for _, name := range names {
		waitReady(g, name)
	}
	for _, name := range names {
		ns := namespaceOf(name)
		g.Expect(workloadNames(g, ns)).To(Equal([]string{"Deployment/app", "Deployment/redis", "StatefulSet/postgres", "StatefulSet/workspace"}), ns)

		// One rollout per Deployment: a credential regenerated after the
		// restart would have changed the app's pod template.
		var rss appsv1.ReplicaSetList
		g.Expect(k8sClient.List(ctx, &rss, client.InNamespace(ns))).To(Succeed())
		g.Expect(rss.Items).To(HaveLen(2), ns)

		var creds, conn corev1.Secret
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: stack.CredentialsSecretName}, &creds)).To(Succeed())
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: stack.ConnectionSecretName}, &conn)).To(Succeed())
		g.Expect(conn.Data["PGPASSWORD"]).To(Equal(creds.Data[stack.PostgresPasswordKey]), ns)
		g.Expect(conn.Data["REDIS_PASSWORD"]).To(Equal(creds.Data[stack.RedisPasswordKey]), ns)

		var secrets corev1.SecretList
		g.Expect(k8sClient.List(ctx, &secrets, client.InNamespace(ns), client.HasLabels{sandboxv1.SandboxLabel})).To(Succeed())
		g.Expect(secrets.Items).To(HaveLen(2), ns)
	}

	// No orphans: every namespace the operator made belongs to a sandbox that exists.
	var nss corev1.NamespaceList
	g.Expect(k8sClient.List(ctx, &nss, client.HasLabels{sandboxv1.SandboxLabel})).To(Succeed())
	for _, ns := range nss.Items {
		if ns.DeletionTimestamp != nil {
			continue
		}
		owner := ns.Labels[sandboxv1.SandboxLabel]
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: owner}, &sandboxv1.LearningSandbox{})).To(Succeed(),
			"namespace %s belongs to no sandbox", ns.Name)
		g.Expect(metav1.GetControllerOf(&ns)).NotTo(BeNil(), ns.Name)
	}
}
