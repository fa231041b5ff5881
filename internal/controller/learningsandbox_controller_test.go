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
	"fmt"
	"maps"
	"net/url"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// The acceptance tests of the LearningSandbox controller, against a real API
// server. Each test uses sandboxes (and, when it edits one, stages) of its own.

// TestSandboxRunsItsStageStack: for every built-in stage, a sandbox yields
// exactly the objects that rendering its stage gives, each labelled and owned
// by the sandbox, and a status and connection Secret that tell the learner
// where everything is.
func TestSandboxRunsItsStageStack(t *testing.T) {
	for _, stageName := range builtinStages(t) {
		t.Run(stageName, func(t *testing.T) {
			g := newG(t)
			stage := ensureBuiltinStage(t, stageName)
			sb := createSandbox(t, "stack-"+stageName, stageName)
			ns := namespaceOf(sb.Name)
			g.Expect(ns).To(Equal("sandbox-" + sb.Name))

			g.Eventually(func(g Gomega) {
				want := renderedNames(g, getSandbox(g, sb.Name), stage)
				got := slices.Sorted(maps.Keys(labelledObjects(g, ns, sb.Name)))
				g.Expect(got).To(Equal(want))
				// and nothing unlabelled besides
				g.Expect(allObjects(g, ns)).To(ConsistOf(want))
			}).Should(Succeed())

			sb = getSandbox(g, sb.Name)
			for key, obj := range labelledObjects(g, ns, sb.Name) {
				expectManagedBySandbox(g, obj, sb, key)
			}
			namespace := &corev1.Namespace{}
			g.Expect(k8sClient.Get(t.Context(), client.ObjectKey{Name: ns}, namespace)).To(Succeed())
			expectManagedBySandbox(g, namespace, sb, "Namespace/"+ns)
			for _, mode := range []string{"enforce", "audit", "warn"} {
				g.Expect(namespace.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/"+mode, "restricted"))
			}

			g.Eventually(func(g Gomega) {
				sb := getSandbox(g, sb.Name)
				g.Expect(sb.Status.Namespace).To(Equal(ns))
				g.Expect(sb.Status.ConnectionSecret).To(Equal("sandbox-connection"))
				g.Expect(sb.Status.TotalComponents).To(BeNumerically("==", len(stage.Spec.Components)))
				var want []sandboxv1.ComponentStatus
				for _, c := range stage.Spec.Components {
					want = append(want, sandboxv1.ComponentStatus{Name: c.Name, Type: c.Type,
						Endpoint: fmt.Sprintf("%s.%s.svc:%d", c.Name, ns, expectedPort(c))})
				}
				got := make([]sandboxv1.ComponentStatus, 0, len(sb.Status.Components))
				for _, c := range sb.Status.Components {
					got = append(got, sandboxv1.ComponentStatus{Name: c.Name, Type: c.Type, Endpoint: c.Endpoint})
				}
				g.Expect(got).To(Equal(want))
			}).Should(Succeed())

			conn := getSecretData(g, ns, "sandbox-connection")
			g.Expect(conn).To(Equal(renderedConnection(g, sb, stage)))
			creds := getSecretData(g, ns, "sandbox-credentials")
			for key, typ := range map[string]sandboxv1.ComponentType{
				"DATABASE_URL": sandboxv1.ComponentPostgres,
				"REDIS_URL":    sandboxv1.ComponentRedis,
				"APP_URL":      sandboxv1.ComponentApp,
				"WEB_URL":      sandboxv1.ComponentNginx,
			} {
				if stageHas(stage, typ) {
					g.Expect(conn).To(HaveKey(key), "stage %s has a %s component", stageName, typ)
				} else {
					g.Expect(conn).NotTo(HaveKey(key), "stage %s has no %s component", stageName, typ)
				}
			}
			if stageHas(stage, sandboxv1.ComponentPostgres) {
				u, err := url.Parse(string(conn["DATABASE_URL"]))
				g.Expect(err).NotTo(HaveOccurred())
				password, _ := u.User.Password()
				g.Expect(password).NotTo(BeEmpty())
				g.Expect(password).To(Equal(string(creds["postgres-password"])))
				g.Expect(u.Host).To(Equal("postgres." + ns + ".svc:5432"))
			}
		})
	}
}

// expectManagedBySandbox checks the labels and the controller reference that
// every object the operator makes carries.
func expectManagedBySandbox(g Gomega, obj client.Object, sb *sandboxv1.LearningSandbox, what string) {
	g.Expect(obj.GetLabels()).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "learning-sandbox-operator"), what)
	g.Expect(obj.GetLabels()).To(HaveKeyWithValue("app.kubernetes.io/part-of", stack.PartOf), what)
	g.Expect(obj.GetLabels()).To(HaveKeyWithValue(sandboxv1.SandboxLabel, sb.Name), what)
	owner := metav1.GetControllerOf(obj)
	g.Expect(owner).NotTo(BeNil(), "%s has no controller", what)
	g.Expect(*owner).To(And(
		HaveField("APIVersion", "sandbox.learning.dev/v1alpha1"),
		HaveField("Kind", "LearningSandbox"),
		HaveField("Name", sb.Name),
		HaveField("UID", sb.UID),
	), what)
}

// expectedPort is the port a learner connects to, by component type.
func expectedPort(c sandboxv1.Component) int32 {
	switch c.Type {
	case sandboxv1.ComponentPostgres:
		return 5432
	case sandboxv1.ComponentRedis:
		return 6379
	case sandboxv1.ComponentApp:
		return 8080
	case sandboxv1.ComponentNginx:
		return 80
	case sandboxv1.ComponentWorkspace:
		return stack.DefaultWorkspacePort
	default:
		return c.Container.Ports[0].ContainerPort
	}
}

func stageHas(stage *sandboxv1.RoadmapStage, typ sandboxv1.ComponentType) bool {
	return slices.ContainsFunc(stage.Spec.Components, func(c sandboxv1.Component) bool { return c.Type == typ })
}

// TestSandboxBecomesReadyWithItsWorkloads: the sandbox is Ready exactly when
// its workloads are, and its observedGeneration follows its spec, as
// `kubectl wait --for=condition=Ready` expects.
func TestSandboxBecomesReadyWithItsWorkloads(t *testing.T) {
	g := newG(t)
	stage := ensureBuiltinStage(t, "apis")
	n := len(stage.Spec.Components)
	sb := createSandbox(t, "ready", "apis")
	ns := namespaceOf(sb.Name)

	expectProvisioning := func(g Gomega) {
		sb := getSandbox(g, sb.Name)
		ready := condition(sb, sandboxv1.ReadyCondition)
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ready.Reason).To(Equal(sandboxv1.ReasonComponentsNotReady))
		g.Expect(sb.Status.Phase).To(Equal(sandboxv1.PhaseProvisioning))
		g.Expect(sb.Status.ComponentsReady).To(Equal(fmt.Sprintf("0/%d", n)))
		g.Expect(sb.Status.TotalComponents).To(BeNumerically("==", n))
		g.Expect(sb.Status.ObservedGeneration).To(Equal(sb.Generation))
	}
	g.Eventually(expectProvisioning).Should(Succeed())
	g.Eventually(func(g Gomega) int { return workloadCount(g, ns) }).Should(Equal(n))
	// Nothing but the workloads' status makes it ready.
	g.Consistently(expectProvisioning).Should(Succeed())

	markWorkloadsReady(t, ns)
	expectReady := func(g Gomega) {
		sb := getSandbox(g, sb.Name)
		ready := condition(sb, sandboxv1.ReadyCondition)
		g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), "Ready: %+v", ready)
		g.Expect(ready.Reason).To(Equal(sandboxv1.ReasonAllComponentsReady))
		g.Expect(ready.ObservedGeneration).To(Equal(sb.Generation))
		g.Expect(sb.Status.ObservedGeneration).To(Equal(sb.Generation))
		g.Expect(sb.Status.Phase).To(Equal(sandboxv1.PhaseReady))
		g.Expect(sb.Status.ReadyComponents).To(BeNumerically("==", n))
		g.Expect(sb.Status.TotalComponents).To(BeNumerically("==", n))
		g.Expect(sb.Status.ComponentsReady).To(Equal(fmt.Sprintf("%d/%d", n, n)))
		g.Expect(condition(sb, sandboxv1.ReconcilingCondition).Status).NotTo(Equal(metav1.ConditionTrue))
		g.Expect(condition(sb, sandboxv1.StalledCondition).Status).NotTo(Equal(metav1.ConditionTrue))
		for _, c := range sb.Status.Components {
			g.Expect(c.Ready).To(BeTrue(), "component %s", c.Name)
		}
	}
	g.Eventually(expectReady).Should(Succeed())

	// A spec change: the new generation is observed, and the scaled app is
	// waited for before the sandbox is Ready again.
	before := getSandbox(g, sb.Name)
	patched := before.DeepCopy()
	patched.Spec.Components = []sandboxv1.ComponentOverride{{Name: "app", Replicas: ptr.To[int32](2)}}
	g.Expect(k8sClient.Patch(t.Context(), patched, client.MergeFrom(before))).To(Succeed())
	g.Expect(patched.Generation).To(BeNumerically(">", before.Generation))
	g.Eventually(func(g Gomega) {
		sb := getSandbox(g, sb.Name)
		g.Expect(sb.Status.ObservedGeneration).To(Equal(patched.Generation))
		ready := condition(sb, sandboxv1.ReadyCondition)
		g.Expect(ready.ObservedGeneration).To(Equal(patched.Generation))
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ready.Reason).To(Equal(sandboxv1.ReasonComponentsNotReady))
		g.Expect(ready.Message).To(ContainSubstring("app"))
		app := &appsv1.Deployment{}
		g.Expect(k8sClient.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "app"}, app)).To(Succeed())
		g.Expect(app.Spec.Replicas).To(HaveValue(BeNumerically("==", 2)))
	}).Should(Succeed())
	markWorkloadsReady(t, ns)
	g.Eventually(expectReady).Should(Succeed())
	g.Expect(getSandbox(g, sb.Name).Status.ObservedGeneration).To(Equal(patched.Generation))
}

// TestStageChangeAddsAndPrunesComponents: moving a sandbox to another stage
// removes the components the new stage lacks, adds the ones it has, and keeps
// the ones both share with their data and credentials.
func TestStageChangeAddsAndPrunesComponents(t *testing.T) {
	g := newG(t)
	stages := map[string]*sandboxv1.RoadmapStage{}
	for _, name := range []string{"databases", "caching", "fundamentals"} {
		stages[name] = ensureBuiltinStage(t, name)
	}
	sb := createSandbox(t, "move", "databases")
	ns := namespaceOf(sb.Name)

	expectStack := func(stageName string) {
		t.Helper()
		g.Eventually(func(g Gomega) {
			cur := getSandbox(g, sb.Name)
			g.Expect(cur.Status.ObservedGeneration).To(Equal(cur.Generation))
			want := renderedNames(g, cur, stages[stageName])
			g.Expect(slices.Sorted(maps.Keys(labelledObjects(g, ns, sb.Name)))).To(Equal(want))
			var names []string
			for _, c := range cur.Status.Components {
				names = append(names, c.Name)
			}
			g.Expect(names).To(Equal(componentNames(stages[stageName].Spec.Components)))
			// Exactly the connection details of the stage's components: none of a removed one.
			g.Expect(getSecretData(g, ns, stack.ConnectionSecretName)).To(Equal(renderedConnection(g, cur, stages[stageName])))
		}).Should(Succeed())
	}
	moveTo := func(stageName string) {
		t.Helper()
		before := getSandbox(g, sb.Name)
		after := before.DeepCopy()
		after.Spec.Stage = stageName
		g.Expect(k8sClient.Patch(t.Context(), after, client.MergeFrom(before))).To(Succeed())
		expectStack(stageName)
	}
	get := func(obj client.Object, name string) error {
		return k8sClient.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, obj)
	}
	notFound := Satisfy(apierrors.IsNotFound)

	expectStack("databases")
	postgres := &appsv1.StatefulSet{}
	g.Expect(get(postgres, "postgres")).To(Succeed())
	creds := getSecretData(g, ns, stack.CredentialsSecretName)
	g.Expect(creds).To(HaveKey(stack.PostgresPasswordKey))

	moveTo("caching")
	for _, gone := range []struct {
		obj  client.Object
		name string
	}{
		{&appsv1.Deployment{}, "web"}, {&corev1.Service{}, "web"}, {&corev1.ConfigMap{}, "web"},
		{&appsv1.Deployment{}, "mongo"}, {&corev1.Service{}, "mongo"},
	} {
		g.Expect(get(gone.obj, gone.name)).To(notFound, "%T %s should be pruned", gone.obj, gone.name)
	}
	kept := &appsv1.StatefulSet{}
	g.Expect(get(kept, "postgres")).To(Succeed())
	g.Expect(kept.UID).To(Equal(postgres.UID), "the postgres StatefulSet, and so its data volume, is kept")
	g.Expect(getSecretData(g, ns, stack.CredentialsSecretName)).To(Equal(creds))
	conn := getSecretData(g, ns, stack.ConnectionSecretName)
	g.Expect(conn).To(HaveKey("DATABASE_URL"))
	g.Expect(conn).To(HaveKey("REDIS_URL"))
	g.Expect(conn).NotTo(HaveKey("WEB_URL"))
	g.Expect(conn).NotTo(HaveKey("MONGO_HOST"))

	moveTo("fundamentals")
	g.Expect(get(&appsv1.StatefulSet{}, "postgres")).To(notFound)
	g.Expect(get(&corev1.Service{}, "postgres")).To(notFound)
	g.Expect(get(&appsv1.Deployment{}, "web")).To(Succeed())
	g.Expect(getSecretData(g, ns, stack.ConnectionSecretName)).NotTo(HaveKey("DATABASE_URL"))
	g.Expect(getSecretData(g, ns, stack.CredentialsSecretName)).To(Equal(creds), "credentials are never regenerated")

	moveTo("databases")
	back := &appsv1.StatefulSet{}
	g.Expect(get(back, "postgres")).To(Succeed())
	g.Expect(back.UID).NotTo(Equal(postgres.UID))
	g.Expect(get(&appsv1.Deployment{}, "mongo")).To(Succeed())
	g.Expect(get(&corev1.ConfigMap{}, "web")).To(Succeed())
	u, err := url.Parse(string(getSecretData(g, ns, stack.ConnectionSecretName)["DATABASE_URL"]))
	g.Expect(err).NotTo(HaveOccurred())
	password, _ := u.User.Password()
	g.Expect(password).To(Equal(string(creds[stack.PostgresPasswordKey])), "the password the learner was given still works")
}

func componentNames(cs []sandboxv1.Component) []string {
	names := make([]string, 0, len(cs))
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return names
}

// TestChildrenAreRepaired: a deleted child comes back, a hand edit of a field
// the operator manages is reverted, and a field it does not manage is left alone.
func TestChildrenAreRepaired(t *testing.T) {
	g := newG(t)
	ensureBuiltinStage(t, "apis")
	sb := createSandbox(t, "repair", "apis")
	ns := namespaceOf(sb.Name)
	ctx := t.Context()

	service, secret, app := &corev1.Service{}, &corev1.Secret{}, &appsv1.Deployment{}
	g.Eventually(func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, service)
	}).Should(Succeed())
	g.Eventually(func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: stack.ConnectionSecretName}, secret)
	}).Should(Succeed())
	g.Eventually(func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, app)
	}).Should(Succeed())
	wantData := secret.Data

	t.Run("a deleted child is recreated", func(t *testing.T) {
		g := newG(t)
		for _, obj := range []client.Object{service, secret} {
			g.Expect(k8sClient.Delete(ctx, obj)).To(Succeed())
		}
		g.Eventually(func(g Gomega) {
			s := &corev1.Service{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(service), s)).To(Succeed())
			g.Expect(s.UID).NotTo(Equal(service.UID))
			g.Expect(s.Spec.Ports).To(ContainElement(HaveField("Port", int32(8080))))
		}).Should(Succeed())
		g.Eventually(func(g Gomega) {
			s := &corev1.Secret{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(secret), s)).To(Succeed())
			g.Expect(s.UID).NotTo(Equal(secret.UID))
			g.Expect(s.Data).To(Equal(wantData), "the same connection details as before")
		}).Should(Succeed())
	})

	t.Run("a hand edit of a managed field is reverted, a hand-added field stays", func(t *testing.T) {
		g := newG(t)
		wantImage := app.Spec.Template.Spec.Containers[0].Image
		g.Expect(wantImage).To(Equal(stack.DefaultAppImage))
		g.Expect(app.Spec.Replicas).To(HaveValue(BeNumerically("==", 1)))

		before := &appsv1.Deployment{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(app), before)).To(Succeed())
		edited := before.DeepCopy()
		edited.Spec.Template.Spec.Containers[0].Image = "example.com/not-the-app:1"
		edited.Spec.Replicas = ptr.To[int32](5)
		if edited.Annotations == nil {
			edited.Annotations = map[string]string{}
		}
		edited.Annotations["example.com/note"] = "added by hand"
		g.Expect(k8sClient.Patch(ctx, edited, client.MergeFrom(before))).To(Succeed())

		g.Eventually(func(g Gomega) {
			d := &appsv1.Deployment{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(app), d)).To(Succeed())
			g.Expect(d.Spec.Template.Spec.Containers[0].Image).To(Equal(wantImage))
			g.Expect(d.Spec.Replicas).To(HaveValue(BeNumerically("==", 1)))
		}).Should(Succeed())
		g.Consistently(func(g Gomega) {
			d := &appsv1.Deployment{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(app), d)).To(Succeed())
			g.Expect(d.Annotations).To(HaveKeyWithValue("example.com/note", "added by hand"))
			g.Expect(d.Spec.Template.Spec.Containers[0].Image).To(Equal(wantImage))
		}).Should(Succeed())
	})
}

// TestSteadyStateMakesNoWrites: reconciling a sandbox that is as it should be
// writes nothing, neither to its children nor to its status.
func TestSteadyStateMakesNoWrites(t *testing.T) {
	g := newG(t)
	ensureBuiltinStage(t, "databases")
	sb := createSandbox(t, "steady", "databases")
	waitReady(t, g, sb.Name)
	g.Expect(writes.about(sb.Name, namespaceOf(sb.Name))).NotTo(BeEmpty(), "the recorder saw the operator provision the sandbox")
	expectNoWritesAfterReconcile(t, g, sb.Name)
	g.Expect(condition(getSandbox(g, sb.Name), sandboxv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
}

// TestUnknownStageStalls: a sandbox of a stage that does not exist stalls
// without creating anything, and proceeds once the stage is created.
func TestUnknownStageStalls(t *testing.T) {
	g := newG(t)
	stageName := uniqueName("missing")
	sb := createSandbox(t, "nostage", stageName)
	ns := namespaceOf(sb.Name)

	expectStalled := func(g Gomega) {
		sb := getSandbox(g, sb.Name)
		g.Expect(condition(sb, sandboxv1.ReadyCondition).Status).To(Equal(metav1.ConditionFalse))
		stalled := condition(sb, sandboxv1.StalledCondition)
		g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(stalled.Reason).To(Equal(sandboxv1.ReasonStageNotFound))
		g.Expect(stalled.Message).To(ContainSubstring(`"` + stageName + `"`))
		g.Expect(sb.Status.Phase).To(Equal(sandboxv1.PhaseFailed))
	}
	g.Eventually(expectStalled).Should(Succeed())
	g.Consistently(func(g Gomega) {
		expectStalled(g)
		err := k8sClient.Get(t.Context(), client.ObjectKey{Name: ns}, &corev1.Namespace{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "namespace %s: %v", ns, err)
	}).Should(Succeed())

	stage := &sandboxv1.RoadmapStage{
		ObjectMeta: metav1.ObjectMeta{Name: stageName},
		Spec: sandboxv1.RoadmapStageSpec{Title: "Created late",
			Components: []sandboxv1.Component{{Name: "web", Type: sandboxv1.ComponentNginx}}},
	}
	g.Expect(k8sClient.Create(t.Context(), stage)).To(Succeed())
	t.Cleanup(func() { deleteIgnoringNotFound(t, stage) })

	g.Eventually(func() error {
		return k8sClient.Get(t.Context(), client.ObjectKey{Name: ns}, &corev1.Namespace{})
	}).Should(Succeed())
	g.Eventually(func(g Gomega) {
		sb := getSandbox(g, sb.Name)
		g.Expect(condition(sb, sandboxv1.StalledCondition).Status).NotTo(Equal(metav1.ConditionTrue))
		g.Expect(sb.Status.Phase).To(Equal(sandboxv1.PhaseProvisioning))
		g.Expect(sb.Status.TotalComponents).To(BeNumerically("==", 1))
	}).Should(Succeed())
}

// TestForeignNamespaceIsLeftAlone: a namespace of the sandbox's name that the
// operator did not make is never adopted, changed or filled.
func TestForeignNamespaceIsLeftAlone(t *testing.T) {
	g := newG(t)
	ensureBuiltinStage(t, "fundamentals")
	sb := newSandbox("foreign", "fundamentals")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespaceOf(sb.Name)}}
	g.Expect(k8sClient.Create(t.Context(), ns)).To(Succeed())
	t.Cleanup(func() { deleteIgnoringNotFound(t, ns) })
	g.Expect(k8sClient.Get(t.Context(), client.ObjectKeyFromObject(ns), ns)).To(Succeed())
	wantLabels := ns.Labels

	g.Expect(k8sClient.Create(t.Context(), sb)).To(Succeed())
	t.Cleanup(func() { deleteIgnoringNotFound(t, sb) })

	g.Eventually(func(g Gomega) {
		sb := getSandbox(g, sb.Name)
		stalled := condition(sb, sandboxv1.StalledCondition)
		g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(stalled.Reason).To(Equal(sandboxv1.ReasonNamespaceConflict))
		g.Expect(stalled.Message).To(ContainSubstring(ns.Name))
		g.Expect(condition(sb, sandboxv1.ReadyCondition).Status).To(Equal(metav1.ConditionFalse))
		g.Expect(sb.Status.Phase).To(Equal(sandboxv1.PhaseFailed))
	}).Should(Succeed())
	g.Consistently(func(g Gomega) {
		cur := &corev1.Namespace{}
		g.Expect(k8sClient.Get(t.Context(), client.ObjectKeyFromObject(ns), cur)).To(Succeed())
		g.Expect(cur.Labels).To(Equal(wantLabels))
		g.Expect(cur.OwnerReferences).To(BeEmpty())
		g.Expect(allObjects(g, ns.Name)).To(BeEmpty())
	}).Should(Succeed())
}

// TestInvalidInputIsRefused: the API server itself refuses bad sandboxes and
// stages, with a message that says what to write instead.
func TestInvalidInputIsRefused(t *testing.T) {
	ensureBuiltinStage(t, "apis")
	validSandbox := func() *sandboxv1.LearningSandbox { return newSandbox("valid", "apis") }
	validStage := func() *sandboxv1.RoadmapStage {
		return &sandboxv1.RoadmapStage{
			ObjectMeta: metav1.ObjectMeta{Name: uniqueName("valid")},
			Spec: sandboxv1.RoadmapStageSpec{Title: "Valid", Components: []sandboxv1.Component{
				{Name: "postgres", Type: sandboxv1.ComponentPostgres},
				{Name: "app", Type: sandboxv1.ComponentApp},
			}},
		}
	}
	expectInvalid := func(g *WithT, err error, want string) {
		g.Expect(err).To(HaveOccurred())
		g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "not an Invalid error: %v", err)
		g.Expect(err.Error()).To(ContainSubstring(want))
	}

	sandboxCases := []struct {
		name   string
		mutate func(*sandboxv1.LearningSandbox)
		want   string
	}{
		{"name of 56 characters", func(sb *sandboxv1.LearningSandbox) {
			sb.Name = nameOfLength("long", 56)
		}, "a sandbox name has at most 55 characters"},
		{"name with a dot", func(sb *sandboxv1.LearningSandbox) { sb.Name = uniqueName("dot") + ".ada" },
			"a sandbox name becomes part of a namespace name"},
		{"learner name with uppercase", func(sb *sandboxv1.LearningSandbox) { sb.Spec.Learner.Name = "Ada" },
			"spec.learner.name in body should match"},
		{"negative ttl", func(sb *sandboxv1.LearningSandbox) { sb.Spec.TTL = &metav1.Duration{Duration: -time.Hour} },
			"spec.ttl in body should match"},
		{"ttl over a year", func(sb *sandboxv1.LearningSandbox) { sb.Spec.TTL = &metav1.Duration{Duration: 9000 * time.Hour} },
			"ttl is a duration from 1m to 8760h"},
		{"override with only a name", func(sb *sandboxv1.LearningSandbox) {
			sb.Spec.Components = []sandboxv1.ComponentOverride{{Name: "app"}}
		}, "an override changes something: set image, replicas, resources, storage or disabled"},
		{"override with negative replicas", func(sb *sandboxv1.LearningSandbox) {
			sb.Spec.Components = []sandboxv1.ComponentOverride{{Name: "app", Replicas: ptr.To[int32](-1)}}
		}, "should be greater than or equal to 0"},
		{"learner user system:anonymous", func(sb *sandboxv1.LearningSandbox) {
			sb.Spec.Learner.Users = []string{"ada@example.edu", "system:anonymous"}
		}, "users cannot name a system: user"},
		{"learner group system:authenticated", func(sb *sandboxv1.LearningSandbox) {
			sb.Spec.Learner.Groups = []string{"system:authenticated"}
		}, "groups cannot name a system: group"},
	}
	for _, tc := range sandboxCases {
		t.Run("sandbox/"+tc.name, func(t *testing.T) {
			g := newG(t)
			sb := validSandbox()
			tc.mutate(sb)
			err := k8sClient.Create(t.Context(), sb)
			if err == nil {
				t.Cleanup(func() { deleteIgnoringNotFound(t, sb) })
			}
			expectInvalid(g, err, tc.want)
		})
	}

	updateCases := []struct {
		name   string
		create func(*sandboxv1.LearningSandbox)
		update func(*sandboxv1.LearningSandbox)
		want   string
	}{
		{"resetGeneration going down",
			func(sb *sandboxv1.LearningSandbox) { sb.Spec.ResetGeneration = 2 },
			func(sb *sandboxv1.LearningSandbox) { sb.Spec.ResetGeneration = 1 },
			"resetGeneration only goes up"},
		{"learner name changed",
			func(*sandboxv1.LearningSandbox) {},
			func(sb *sandboxv1.LearningSandbox) { sb.Spec.Learner.Name = "linus" },
			"learner.name cannot change"},
	}
	for _, tc := range updateCases {
		t.Run("sandbox update/"+tc.name, func(t *testing.T) {
			g := newG(t)
			sb := createSandbox(t, "update", "apis", tc.create)
			before := sb.DeepCopy()
			tc.update(sb)
			expectInvalid(g, k8sClient.Patch(t.Context(), sb, client.MergeFrom(before)), tc.want)
		})
	}

	stageCases := []struct {
		name   string
		mutate func(*sandboxv1.RoadmapStage)
		want   string
	}{
		{"duplicate component names", func(s *sandboxv1.RoadmapStage) {
			s.Spec.Components = append(s.Spec.Components, sandboxv1.Component{Name: "app", Type: sandboxv1.ComponentRedis})
		}, "Duplicate value"},
		{"two Postgres", func(s *sandboxv1.RoadmapStage) {
			s.Spec.Components = append(s.Spec.Components, sandboxv1.Component{Name: "db2", Type: sandboxv1.ComponentPostgres})
		}, "a stage has at most one Postgres component"},
		{"Container without container", func(s *sandboxv1.RoadmapStage) {
			s.Spec.Components = append(s.Spec.Components, sandboxv1.Component{Name: "mongo", Type: sandboxv1.ComponentContainer})
		}, "container is set for type Container and only there"},
		{"image of a Container outside container", func(s *sandboxv1.RoadmapStage) {
			s.Spec.Components = append(s.Spec.Components, sandboxv1.Component{Name: "mongo", Type: sandboxv1.ComponentContainer,
				Image: "mongo:7", Container: &sandboxv1.ContainerSpec{Image: "mongo:7",
					Ports: []sandboxv1.ContainerPort{{Name: "mongo", ContainerPort: 27017}}}})
		}, "a Container component takes its image from container.image"},
		{"a Container named redis beside a Redis", func(s *sandboxv1.RoadmapStage) {
			s.Spec.Components = append(s.Spec.Components,
				sandboxv1.Component{Name: "cache", Type: sandboxv1.ComponentRedis},
				sandboxv1.Component{Name: "redis", Type: sandboxv1.ComponentContainer, Container: &sandboxv1.ContainerSpec{
					Image: "redis/redis-stack:7", Ports: []sandboxv1.ContainerPort{{Name: "redis", ContainerPort: 6379}}}})
		}, "a Container component named redis would give REDIS_HOST"},
		{"storage on Redis", func(s *sandboxv1.RoadmapStage) {
			s.Spec.Components = append(s.Spec.Components, sandboxv1.Component{Name: "redis", Type: sandboxv1.ComponentRedis,
				Storage: new(resource.MustParse("1Gi"))})
		}, "storage and storageClassName are only for Postgres and Workspace components"},
		{"App without Postgres", func(s *sandboxv1.RoadmapStage) {
			s.Spec.Components = s.Spec.Components[1:]
		}, "the App component keeps its data in PostgreSQL: add a Postgres component"},
	}
	for _, tc := range stageCases {
		t.Run("stage/"+tc.name, func(t *testing.T) {
			g := newG(t)
			s := validStage()
			tc.mutate(s)
			err := k8sClient.Create(t.Context(), s)
			if err == nil {
				t.Cleanup(func() { deleteIgnoringNotFound(t, s) })
			}
			expectInvalid(g, err, tc.want)
		})
	}

	t.Run("valid input is accepted", func(t *testing.T) {
		g := newG(t)
		s := validStage()
		g.Expect(k8sClient.Create(t.Context(), s)).To(Succeed())
		t.Cleanup(func() { deleteIgnoringNotFound(t, s) })
		sb := createSandbox(t, "valid", s.Name, func(sb *sandboxv1.LearningSandbox) {
			sb.Name = nameOfLength("valid", 55)
			sb.Spec.TTL = &metav1.Duration{Duration: 8760 * time.Hour}
			sb.Spec.ResetGeneration = 1
			sb.Spec.Components = []sandboxv1.ComponentOverride{{Name: "app", Replicas: ptr.To[int32](0)}}
		})
		g.Expect(sb.Name).To(HaveLen(55))
		before := sb.DeepCopy()
		sb.Spec.ResetGeneration = 2
		g.Expect(k8sClient.Patch(t.Context(), sb, client.MergeFrom(before))).To(Succeed())
	})
}

// TestOverrideOfMissingComponentStalls: an override that names no component
// of the stage, which only the operator can tell, stalls the sandbox with the
// stage's component names.
func TestOverrideOfMissingComponentStalls(t *testing.T) {
	g := newG(t)
	ensureBuiltinStage(t, "apis")
	sb := createSandbox(t, "override", "apis", func(sb *sandboxv1.LearningSandbox) {
		sb.Spec.Components = []sandboxv1.ComponentOverride{{Name: "redis", Replicas: ptr.To[int32](2)}}
	})
	g.Eventually(func(g Gomega) {
		sb := getSandbox(g, sb.Name)
		stalled := condition(sb, sandboxv1.StalledCondition)
		g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(stalled.Reason).To(Equal(sandboxv1.ReasonUnknownComponent))
		g.Expect(stalled.Message).To(ContainSubstring(`"redis"`))
		g.Expect(stalled.Message).To(ContainSubstring("postgres, app, web"))
		g.Expect(condition(sb, sandboxv1.ReadyCondition).Status).To(Equal(metav1.ConditionFalse))
		g.Expect(sb.Status.Phase).To(Equal(sandboxv1.PhaseFailed))
		g.Expect(sb.Status.ObservedGeneration).To(Equal(sb.Generation))
	}).Should(Succeed())
}

// TestStageEditReachesItsSandboxes: a change to a stage reaches the sandboxes
// that run it, without touching the sandboxes.
func TestStageEditReachesItsSandboxes(t *testing.T) {
	g := newG(t)
	stage := createStage(t, "edited",
		sandboxv1.Component{Name: "postgres", Type: sandboxv1.ComponentPostgres},
		sandboxv1.Component{Name: "app", Type: sandboxv1.ComponentApp},
	)
	sb := createSandbox(t, "edited", stage.Name)
	ns := namespaceOf(sb.Name)
	app := client.ObjectKey{Namespace: ns, Name: "app"}
	g.Eventually(func(g Gomega) {
		d := &appsv1.Deployment{}
		g.Expect(k8sClient.Get(t.Context(), app, d)).To(Succeed())
		g.Expect(d.Spec.Replicas).To(HaveValue(BeNumerically("==", 1)))
	}).Should(Succeed())

	editStage := func(edit func(*sandboxv1.RoadmapStage)) {
		t.Helper()
		before := &sandboxv1.RoadmapStage{}
		g.Expect(k8sClient.Get(t.Context(), client.ObjectKeyFromObject(stage), before)).To(Succeed())
		after := before.DeepCopy()
		edit(after)
		g.Expect(k8sClient.Patch(t.Context(), after, client.MergeFrom(before))).To(Succeed())
	}

	editStage(func(s *sandboxv1.RoadmapStage) { s.Spec.Components[1].Replicas = ptr.To[int32](2) })
	g.Eventually(func(g Gomega) {
		d := &appsv1.Deployment{}
		g.Expect(k8sClient.Get(t.Context(), app, d)).To(Succeed())
		g.Expect(d.Spec.Replicas).To(HaveValue(BeNumerically("==", 2)))
	}).Should(Succeed())

	editStage(func(s *sandboxv1.RoadmapStage) {
		s.Spec.Components = append(s.Spec.Components, sandboxv1.Component{Name: "cache", Type: sandboxv1.ComponentRedis})
	})
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "cache"}, &appsv1.Deployment{})).To(Succeed())
		g.Expect(k8sClient.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "cache"}, &corev1.Service{})).To(Succeed())
		g.Expect(getSecretData(g, ns, stack.ConnectionSecretName)).To(HaveKeyWithValue("REDIS_HOST", []byte("cache."+ns+".svc")))
		g.Expect(getSecretData(g, ns, stack.CredentialsSecretName)).To(HaveKey(stack.RedisPasswordKey))
		cur := getSandbox(g, sb.Name)
		g.Expect(cur.Status.TotalComponents).To(BeNumerically("==", 3))
	}).Should(Succeed())
	g.Expect(getSandbox(g, sb.Name).Generation).To(Equal(sb.Generation), "the sandbox itself did not change")
}

// TestPodsAreAdmittedUnderRestricted: every pod the operator's workloads would
// create passes Pod Security admission "restricted" in the sandbox namespace.
func TestPodsAreAdmittedUnderRestricted(t *testing.T) {
	for _, stageName := range builtinStages(t) {
		t.Run(stageName, func(t *testing.T) {
			g := newG(t)
			stage := ensureBuiltinStage(t, stageName)
			sb := createSandbox(t, "psa-"+stageName, stageName)
			ns := namespaceOf(sb.Name)

			var pods []*corev1.Pod
			g.Eventually(func(g Gomega) {
				pods = workloadPods(g, ns)
				g.Expect(pods).To(HaveLen(len(stage.Spec.Components)))
			}).Should(Succeed())
			for _, pod := range pods {
				// The namespace's labels reach the admission plugin through its informer.
				g.Eventually(func() error {
					return k8sClient.Create(t.Context(), pod.DeepCopy(), client.DryRunAll)
				}).Should(Succeed(), "pod of %s", pod.Name)

				// The control: the same pod, privileged, must be refused by the same check.
				privileged := pod.DeepCopy()
				privileged.Spec.Containers[0].SecurityContext.Privileged = new(true)
				privileged.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = new(true)
				err := k8sClient.Create(t.Context(), privileged, client.DryRunAll)
				g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "a privileged pod of %s is refused: %v", pod.Name, err)
				g.Expect(err.Error()).To(ContainSubstring("violates PodSecurity"))
			}
		})
	}
}

// workloadPods are the pods that the namespace's Deployments and StatefulSets
// would create, as their controllers would make them.
func workloadPods(g Gomega, ns string) []*corev1.Pod {
	var pods []*corev1.Pod
	newPod := func(name string, template corev1.PodTemplateSpec) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name + "-0", Namespace: ns, Labels: template.Labels,
				Annotations: template.Annotations},
			Spec: *template.Spec.DeepCopy(),
		}
	}
	deployments := &appsv1.DeploymentList{}
	g.Expect(k8sClient.List(context.Background(), deployments, client.InNamespace(ns))).To(Succeed())
	for _, d := range deployments.Items {
		pods = append(pods, newPod(d.Name, d.Spec.Template))
	}
	statefulSets := &appsv1.StatefulSetList{}
	g.Expect(k8sClient.List(context.Background(), statefulSets, client.InNamespace(ns))).To(Succeed())
	for _, s := range statefulSets.Items {
		pod := newPod(s.Name, s.Spec.Template)
		// The StatefulSet controller mounts each claim template's claim.
		for _, claim := range s.Spec.VolumeClaimTemplates {
			pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: claim.Name,
				VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{
					ClaimName: claim.Name + "-" + pod.Name}}})
		}
		pods = append(pods, pod)
	}
	return pods
}

// TestSandboxExpires: a sandbox with a ttl reports when it expires and
// deletes itself once the clock passes that time, with an event saying so.
func TestSandboxExpires(t *testing.T) {
	g := newG(t)
	restoreClockAfter(t)
	ensureBuiltinStage(t, "fundamentals")
	sb := createSandbox(t, "ttl", "fundamentals", func(sb *sandboxv1.LearningSandbox) {
		sb.Spec.TTL = &metav1.Duration{Duration: time.Hour}
	})
	g.Eventually(func(g Gomega) {
		cur := getSandbox(g, sb.Name)
		g.Expect(cur.Status.ExpiresAt).NotTo(BeNil())
		g.Expect(cur.Status.ExpiresAt.Time).To(BeTemporally("==", cur.CreationTimestamp.Add(time.Hour)))
		g.Expect(cur.Status.ObservedGeneration).To(Equal(cur.Generation))
	}).Should(Succeed())
	g.Eventually(func() error {
		return k8sClient.Get(t.Context(), client.ObjectKey{Namespace: namespaceOf(sb.Name), Name: stack.ConnectionSecretName}, &corev1.Secret{})
	}).Should(Succeed())
	// Not expired yet: a reconcile leaves it alone.
	touchConnectionSecret(t, sb.Name)
	g.Consistently(func(g Gomega) { getSandbox(g, sb.Name) }).WithTimeout(time.Second).Should(Succeed())

	testClock.Step(2 * time.Hour)
	touchConnectionSecret(t, sb.Name)
	g.Eventually(func() error {
		return k8sClient.Get(t.Context(), client.ObjectKeyFromObject(sb), &sandboxv1.LearningSandbox{})
	}).Should(Satisfy(apierrors.IsNotFound))
	g.Eventually(func(g Gomega) []eventsv1.Event {
		list := &eventsv1.EventList{}
		g.Expect(k8sClient.List(t.Context(), list)).To(Succeed())
		return slices.DeleteFunc(list.Items, func(e eventsv1.Event) bool {
			return e.Regarding.Name != sb.Name || e.Regarding.UID != sb.UID
		})
	}).Should(ContainElement(And(
		HaveField("Reason", sandboxv1.ReasonExpired),
		HaveField("Note", ContainSubstring("expired")),
	)))
}
