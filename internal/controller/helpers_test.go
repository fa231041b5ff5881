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
package controller

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/yaml"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// How long the tests wait for the operator. envtest answers in milliseconds;
// the margin is for a loaded CI machine.
const (
	eventuallyTimeout    = 30 * time.Second
	pollInterval         = 50 * time.Millisecond
	consistentlyDuration = 2 * time.Second
	consistentlyInterval = 100 * time.Millisecond
	stagesDir            = "../../config/stages"
	learnerName          = "ada"
)

// newG is a Gomega for t with the suite's waiting times.
func newG(t *testing.T) *WithT {
	t.Helper()
	g := NewWithT(t)
	g.SetDefaultEventuallyTimeout(eventuallyTimeout)
	g.SetDefaultEventuallyPollingInterval(pollInterval)
	g.SetDefaultConsistentlyDuration(consistentlyDuration)
	g.SetDefaultConsistentlyPollingInterval(consistentlyInterval)
	return g
}

// builtinStages names the stages of the built-in catalog, config/stages/*.yaml.
func builtinStages(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(stagesDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".yaml"))
	}
	if len(names) == 0 {
		t.Fatalf("no stages in %s", stagesDir)
	}
	return names
}

// loadStage reads a built-in stage from config/stages.
func loadStage(t *testing.T, name string) *sandboxv1.RoadmapStage {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(stagesDir, name+".yaml"))
	if err != nil {
		t.Fatalf("reading stage %s: %v", name, err)
	}
	stage := &sandboxv1.RoadmapStage{}
	if err := yaml.UnmarshalStrict(raw, stage); err != nil {
		t.Fatalf("decoding stage %s: %v", name, err)
	}
	if stage.Name != name {
		t.Fatalf("%s.yaml holds stage %q", name, stage.Name)
	}
	return stage
}

// ensureBuiltinStage creates a built-in stage unless an earlier test did, and
// returns it as the cluster holds it. Built-in stages are shared: never change one.
func ensureBuiltinStage(t *testing.T, name string) *sandboxv1.RoadmapStage {
	t.Helper()
	stage := loadStage(t, name)
	if err := k8sClient.Create(t.Context(), stage); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating stage %s: %v", name, err)
	}
	out := &sandboxv1.RoadmapStage{}
	if err := k8sClient.Get(t.Context(), client.ObjectKey{Name: name}, out); err != nil {
		t.Fatalf("reading stage %s: %v", name, err)
	}
	return out
}

// createStage creates a stage of the test's own, under a unique name, and
// deletes it when the test ends.
func createStage(t *testing.T, prefix string, components ...sandboxv1.Component) *sandboxv1.RoadmapStage {
	t.Helper()
	stage := &sandboxv1.RoadmapStage{
		ObjectMeta: metav1.ObjectMeta{Name: uniqueName(prefix)},
		Spec:       sandboxv1.RoadmapStageSpec{Title: "Test stage", Components: components},
	}
	if err := k8sClient.Create(t.Context(), stage); err != nil {
		t.Fatalf("creating stage %s: %v", stage.Name, err)
	}
	t.Cleanup(func() { deleteIgnoringNotFound(t, stage) })
	return stage
}

// uniqueName is prefix followed by a random suffix: a name no other test uses.
func uniqueName(prefix string) string {
	return prefix + "-" + strings.ToLower(rand.Text()[:8])
}

// nameOfLength is a unique name of exactly n characters.
func nameOfLength(prefix string, n int) string {
	name := uniqueName(prefix)
	return name + strings.Repeat("x", n-len(name))
}

// newSandbox is a sandbox of the stage, not yet created, with a unique name.
func newSandbox(prefix, stage string) *sandboxv1.LearningSandbox {
	return &sandboxv1.LearningSandbox{
		ObjectMeta: metav1.ObjectMeta{Name: uniqueName(prefix)},
		Spec: sandboxv1.LearningSandboxSpec{
			Learner: sandboxv1.Learner{Name: learnerName, Users: []string{"ada@example.edu"}},
			Stage:   stage,
		},
	}
}

// createSandbox creates a sandbox of the stage with a unique name, changed by
// the mutators first, and deletes it when the test ends. (Its namespace stays:
// envtest runs no garbage collector.)
func createSandbox(t *testing.T, prefix, stage string, mutate ...func(*sandboxv1.LearningSandbox)) *sandboxv1.LearningSandbox {
	t.Helper()
	sb := newSandbox(prefix, stage)
	for _, m := range mutate {
		m(sb)
	}
	if err := k8sClient.Create(t.Context(), sb); err != nil {
		t.Fatalf("creating sandbox %s: %v", sb.Name, err)
	}
	t.Cleanup(func() { deleteIgnoringNotFound(t, sb) })
	return sb
}

func deleteIgnoringNotFound(t *testing.T, obj client.Object) {
	t.Helper()
	// t.Context() is already cancelled while cleanups run.
	if err := k8sClient.Delete(context.Background(), obj); client.IgnoreNotFound(err) != nil {
		t.Errorf("deleting %T %s: %v", obj, obj.GetName(), err)
	}
}

// getSandbox reads a sandbox as the API server holds it.
func getSandbox(g Gomega, name string) *sandboxv1.LearningSandbox {
	sb := &sandboxv1.LearningSandbox{}
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Name: name}, sb)).To(Succeed())
	return sb
}

// condition returns the sandbox's condition of that type, or an empty one.
func condition(sb *sandboxv1.LearningSandbox, typ string) metav1.Condition {
	if c := apimeta.FindStatusCondition(sb.Status.Conditions, typ); c != nil {
		return *c
	}
	return metav1.Condition{}
}

// namespaceOf is the namespace of the sandbox of that name.
func namespaceOf(sandbox string) string {
	return settings.NamespaceName(sandbox)
}

// getSecretData reads a Secret of a sandbox namespace.
func getSecretData(g Gomega, ns, name string) map[string][]byte {
	s := &corev1.Secret{}
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, s)).To(Succeed())
	return s.Data
}

// labelledObjects lists what the operator makes in a sandbox namespace, the
// five kinds it prunes, that carry the sandbox's label, keyed Kind/name.
func labelledObjects(g Gomega, ns, sandbox string) map[string]client.Object {
	out := map[string]client.Object{}
	selector := client.MatchingLabels{sandboxv1.SandboxLabel: sandbox}
	for _, kind := range managedKinds {
		list := kind.newList()
		g.Expect(k8sClient.List(context.Background(), list, client.InNamespace(ns), selector)).To(Succeed())
		items, err := apimeta.ExtractList(list)
		g.Expect(err).NotTo(HaveOccurred())
		for _, item := range items {
			obj := item.(client.Object)
			out[kind.kind+"/"+obj.GetName()] = obj
		}
	}
	return out
}

// allObjects lists every object of the five kinds in a namespace, labelled or not, by Kind/name.
func allObjects(g Gomega, ns string) []string {
	var out []string
	for _, kind := range managedKinds {
		list := kind.newList()
		g.Expect(k8sClient.List(context.Background(), list, client.InNamespace(ns))).To(Succeed())
		items, err := apimeta.ExtractList(list)
		g.Expect(err).NotTo(HaveOccurred())
		for _, item := range items {
			out = append(out, kind.kind+"/"+item.(client.Object).GetName())
		}
	}
	return out
}

// render is what stack.Render gives for the sandbox and stage as the cluster
// holds them, with the credentials the controller generated.
func render(g Gomega, sb *sandboxv1.LearningSandbox, stage *sandboxv1.RoadmapStage) *stack.Stack {
	creds := map[string]string{}
	for k, v := range getSecretData(g, namespaceOf(sb.Name), stack.CredentialsSecretName) {
		creds[k] = string(v)
	}
	st, err := stack.Render(stack.Input{Sandbox: sb, Stage: stage, Credentials: creds}, settings)
	g.Expect(err).NotTo(HaveOccurred())
	return st
}

// renderedNames is Kind/name of every object stack.Render gives for the
// sandbox and stage, plus the credentials Secret that the controller creates
// itself, less the progress ConfigMap until the sandbox's first check makes it.
func renderedNames(g Gomega, sb *sandboxv1.LearningSandbox, stage *sandboxv1.RoadmapStage) []string {
	names := []string{"Secret/" + stack.CredentialsSecretName}
	for _, obj := range render(g, sb, stage).Objects {
		name := *obj.GetKind() + "/" + *obj.GetName()
		if name == "ConfigMap/"+stack.ProgressConfigMapName && !checkedBefore(sb) {
			continue
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// renderedConnection is the data of the connection Secret that stack.Render
// gives for the sandbox and stage.
func renderedConnection(g Gomega, sb *sandboxv1.LearningSandbox, stage *sandboxv1.RoadmapStage) map[string][]byte {
	for _, obj := range render(g, sb, stage).Objects {
		if secret, ok := obj.(*corev1ac.SecretApplyConfiguration); ok && *secret.GetName() == stack.ConnectionSecretName {
			return secret.Data
		}
	}
	g.Expect("the rendered stack").To(BeEmpty(), "has no connection Secret")
	return nil
}

// markWorkloadsReady writes the status of every Deployment and StatefulSet in
// the namespace the way kube-controller-manager would once all their pods run
// the current template, so that kstatus calls them Current.
func markWorkloadsReady(t *testing.T, ns string) {
	t.Helper()
	ctx := t.Context()
	deployments := &appsv1.DeploymentList{}
	if err := k8sClient.List(ctx, deployments, client.InNamespace(ns)); err != nil {
		t.Fatalf("listing Deployments: %v", err)
	}
	for _, d := range deployments.Items {
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur := &appsv1.Deployment{}
			if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(&d), cur); err != nil {
				return err
			}
			replicas := ptrValue(cur.Spec.Replicas, 1)
			now := metav1.Now()
			cur.Status = appsv1.DeploymentStatus{
				ObservedGeneration: cur.Generation,
				Replicas:           replicas,
				UpdatedReplicas:    replicas,
				ReadyReplicas:      replicas,
				AvailableReplicas:  replicas,
				Conditions: []appsv1.DeploymentCondition{
					{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable",
						LastUpdateTime: now, LastTransitionTime: now},
					{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable",
						LastUpdateTime: now, LastTransitionTime: now},
				},
			}
			return k8sClient.Status().Update(ctx, cur)
		})
		if err != nil {
			t.Fatalf("writing the status of Deployment %s: %v", d.Name, err)
		}
	}
	statefulSets := &appsv1.StatefulSetList{}
	if err := k8sClient.List(ctx, statefulSets, client.InNamespace(ns)); err != nil {
		t.Fatalf("listing StatefulSets: %v", err)
	}
	for _, s := range statefulSets.Items {
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur := &appsv1.StatefulSet{}
			if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(&s), cur); err != nil {
				return err
			}
			replicas := ptrValue(cur.Spec.Replicas, 1)
			revision := cur.Name + "-rev1"
			cur.Status = appsv1.StatefulSetStatus{
				ObservedGeneration: cur.Generation,
				Replicas:           replicas,
				ReadyReplicas:      replicas,
				AvailableReplicas:  replicas,
				CurrentReplicas:    replicas,
				UpdatedReplicas:    replicas,
				CurrentRevision:    revision,
				UpdateRevision:     revision,
			}
			return k8sClient.Status().Update(ctx, cur)
		})
		if err != nil {
			t.Fatalf("writing the status of StatefulSet %s: %v", s.Name, err)
		}
	}
}

func ptrValue[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// waitReady marks the sandbox's workloads ready and waits until the sandbox says so.
func waitReady(t *testing.T, g *WithT, name string) *sandboxv1.LearningSandbox {
	t.Helper()
	var sb *sandboxv1.LearningSandbox
	// The workloads must exist before their status can be written.
	g.Eventually(func(g Gomega) {
		sb = getSandbox(g, name)
		g.Expect(sb.Status.TotalComponents).To(BeNumerically(">", 0))
		g.Expect(workloadCount(g, namespaceOf(name))).To(BeNumerically("==", sb.Status.TotalComponents))
	}).Should(Succeed())
	markWorkloadsReady(t, namespaceOf(name))
	g.Eventually(func(g Gomega) {
		sb = getSandbox(g, name)
		g.Expect(condition(sb, sandboxv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue), "Ready condition: %+v", sb.Status.Conditions)
		g.Expect(sb.Status.ObservedGeneration).To(Equal(sb.Generation))
	}).Should(Succeed())
	return sb
}

func workloadCount(g Gomega, ns string) int {
	deployments := &appsv1.DeploymentList{}
	g.Expect(k8sClient.List(context.Background(), deployments, client.InNamespace(ns))).To(Succeed())
	statefulSets := &appsv1.StatefulSetList{}
	g.Expect(k8sClient.List(context.Background(), statefulSets, client.InNamespace(ns))).To(Succeed())
	return len(deployments.Items) + len(statefulSets.Items)
}

// touchConnectionSecret adds an annotation to the sandbox's connection Secret.
// The operator does not manage annotations, but the change is an event on an
// object it owns: it reconciles the sandbox.
func touchConnectionSecret(t *testing.T, sandbox string) {
	t.Helper()
	key := client.ObjectKey{Namespace: namespaceOf(sandbox), Name: stack.ConnectionSecretName}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		s := &corev1.Secret{}
		if err := k8sClient.Get(t.Context(), key, s); err != nil {
			return err
		}
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations["test.sandbox.learning.dev/touched"] = rand.Text()
		return k8sClient.Update(t.Context(), s)
	})
	if err != nil {
		t.Fatalf("annotating the connection Secret of %s: %v", sandbox, err)
	}
}

// reconcileTotal is how many reconciles the sandbox controller has finished,
// whatever their result.
func reconcileTotal(g Gomega) float64 {
	families, err := metrics.Registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	var total float64
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == "learningsandbox" {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}
