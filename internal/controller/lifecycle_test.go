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
	"errors"
	"maps"
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
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// The lifecycle tests: suspend, reset, ttl, a terminating namespace, and bad
// input. The fake clock testClock is shared by the whole package: they only
// ever step it forwards, by what they compute from testClock.Now().

// editSandbox changes a sandbox's spec as a user would, with a merge patch,
// and returns it as patched.
func editSandbox(t *testing.T, g Gomega, name string, change func(*sandboxv1.LearningSandbox)) *sandboxv1.LearningSandbox {
	t.Helper()
	before := getSandbox(g, name)
	after := before.DeepCopy()
	change(after)
	g.Expect(k8sClient.Patch(t.Context(), after, client.MergeFrom(before))).To(Succeed())
	return after
}

// workloadReplicas is spec.replicas of every Deployment and StatefulSet in
// the namespace, by Kind/name.
func workloadReplicas(g Gomega, ns string) map[string]int32 {
	out := map[string]int32{}
	deployments := &appsv1.DeploymentList{}
	g.Expect(k8sClient.List(context.Background(), deployments, client.InNamespace(ns))).To(Succeed())
	for _, d := range deployments.Items {
		out["Deployment/"+d.Name] = ptrValue(d.Spec.Replicas, 1)
	}
	statefulSets := &appsv1.StatefulSetList{}
	g.Expect(k8sClient.List(context.Background(), statefulSets, client.InNamespace(ns))).To(Succeed())
	for _, s := range statefulSets.Items {
		out["StatefulSet/"+s.Name] = ptrValue(s.Spec.Replicas, 1)
	}
	return out
}

// stageReplicas is what workloadReplicas gives for a stage that runs.
func stageReplicas(stage *sandboxv1.RoadmapStage) map[string]int32 {
	out := map[string]int32{}
	for _, c := range stage.Spec.Components {
		kind := "Deployment"
		if c.Type == sandboxv1.ComponentPostgres || c.Type == sandboxv1.ComponentWorkspace {
			kind = "StatefulSet"
		}
		out[kind+"/"+c.Name] = ptrValue(c.Replicas, 1)
	}
	return out
}

// createDataClaim creates the claim that the StatefulSet controller would
// make for the first pod of the StatefulSet, labelled as its claim template
// says, and returns it.
func createDataClaim(t *testing.T, g Gomega, ns, statefulSet string) *corev1.PersistentVolumeClaim {
	t.Helper()
	sts := &appsv1.StatefulSet{}
	g.Expect(k8sClient.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: statefulSet}, sts)).To(Succeed())
	g.Expect(sts.Spec.VolumeClaimTemplates).To(HaveLen(1))
	template := sts.Spec.VolumeClaimTemplates[0]
	claim := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: template.Name + "-" + sts.Name + "-0",
			Labels: maps.Clone(template.Labels)},
		Spec: *template.Spec.DeepCopy(),
	}
	g.Expect(k8sClient.Create(t.Context(), claim)).To(Succeed())
	return claim
}

// sandboxEvents are the events about the sandbox (by UID).
func sandboxEvents(g Gomega, sb *sandboxv1.LearningSandbox) []eventsv1.Event {
	list := &eventsv1.EventList{}
	g.Expect(k8sClient.List(context.Background(), list)).To(Succeed())
	return slices.DeleteFunc(list.Items, func(e eventsv1.Event) bool { return e.Regarding.UID != sb.UID })
}

// TestSuspendScalesToZeroAndKeepsTheData: a suspended sandbox runs nothing
// and keeps its data and credentials; resumed, it runs its stage's stack on
// the same data with the same credentials.
func TestSuspendScalesToZeroAndKeepsTheData(t *testing.T) {
	g := newG(t)
	stage := ensureBuiltinStage(t, "databases")
	sb := createSandbox(t, "suspend", "databases")
	ns := namespaceOf(sb.Name)
	waitReady(t, g, sb.Name)
	g.Expect(workloadReplicas(g, ns)).To(Equal(stageReplicas(stage)))

	claim := createDataClaim(t, g, ns, "postgres")
	g.Expect(claim.Labels).To(And(
		HaveKeyWithValue(sandboxv1.SandboxLabel, sb.Name),
		HaveKeyWithValue("app.kubernetes.io/managed-by", "learning-sandbox-operator"),
		HaveKeyWithValue(sandboxv1.ResetGenerationLabel, "0"),
	))
	creds := &corev1.Secret{}
	g.Expect(k8sClient.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: stack.CredentialsSecretName}, creds)).To(Succeed())
	expectKept := func(g Gomega) {
		cur := &corev1.PersistentVolumeClaim{}
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(claim), cur)).To(Succeed())
		g.Expect(cur.UID).To(Equal(claim.UID))
		g.Expect(cur.DeletionTimestamp).To(BeNil(), "the data volume is kept")
		s := &corev1.Secret{}
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(creds), s)).To(Succeed())
		g.Expect(s.UID).To(Equal(creds.UID))
		g.Expect(s.Data).To(Equal(creds.Data), "the same credentials")
	}

	editSandbox(t, g, sb.Name, func(sb *sandboxv1.LearningSandbox) { sb.Spec.Suspend = true })
	g.Eventually(func(g Gomega) map[string]int32 { return workloadReplicas(g, ns) }).Should(And(
		HaveLen(len(stage.Spec.Components)),
		HaveEach(BeZero()),
	), "every workload is scaled to zero")
	markWorkloadsReady(t, ns)
	g.Eventually(func(g Gomega) {
		cur := getSandbox(g, sb.Name)
		g.Expect(cur.Status.Phase).To(Equal(sandboxv1.PhaseSuspended))
		ready := condition(cur, sandboxv1.ReadyCondition)
		g.Expect(ready.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(ready.Reason).To(Equal(sandboxv1.ReasonSuspended))
		g.Expect(ready.ObservedGeneration).To(Equal(cur.Generation))
	}).Should(Succeed())
	g.Consistently(expectKept).Should(Succeed())

	editSandbox(t, g, sb.Name, func(sb *sandboxv1.LearningSandbox) { sb.Spec.Suspend = false })
	g.Eventually(func(g Gomega) map[string]int32 { return workloadReplicas(g, ns) }).Should(Equal(stageReplicas(stage)))
	markWorkloadsReady(t, ns)
	g.Eventually(func(g Gomega) {
		cur := getSandbox(g, sb.Name)
		g.Expect(cur.Status.Phase).To(Equal(sandboxv1.PhaseReady))
		ready := condition(cur, sandboxv1.ReadyCondition)
		g.Expect(ready.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(ready.Reason).To(Equal(sandboxv1.ReasonAllComponentsReady))
		g.Expect(ready.ObservedGeneration).To(Equal(cur.Generation))
	}).Should(Succeed())
	expectKept(g)
}

// TestResetWipesTheDataOncePerBump: raising spec.resetGeneration deletes
// what holds the sandbox's data, waits until it is gone, and provisions the
// stack again, with the same credentials; it does so once per new value, and
// the value cannot go down.
func TestResetWipesTheDataOncePerBump(t *testing.T) {
	g := newG(t)
	ensureBuiltinStage(t, "databases")
	sb := createSandbox(t, "reset", "databases")
	ns := namespaceOf(sb.Name)
	ctx := t.Context()
	waitReady(t, g, sb.Name)
	postgres := client.ObjectKey{Namespace: ns, Name: "postgres"}
	old := &appsv1.StatefulSet{}
	g.Expect(k8sClient.Get(ctx, postgres, old)).To(Succeed())
	g.Expect(old.Labels).To(HaveKeyWithValue(sandboxv1.ResetGenerationLabel, "0"))
	claim := createDataClaim(t, g, ns, "postgres")
	g.Expect(claim.Labels).To(HaveKeyWithValue(sandboxv1.ResetGenerationLabel, "0"))
	creds := getSecretData(g, ns, stack.CredentialsSecretName)

	editSandbox(t, g, sb.Name, func(sb *sandboxv1.LearningSandbox) { sb.Spec.ResetGeneration = 1 })
	expectResetting := func(g Gomega) {
		cur := getSandbox(g, sb.Name)
		ready := condition(cur, sandboxv1.ReadyCondition)
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ready.Reason).To(Equal(sandboxv1.ReasonResetting))
		g.Expect(ready.Message).To(ContainSubstring("PersistentVolumeClaim/data-postgres-0"))
		err := k8sClient.Get(ctx, postgres, &appsv1.StatefulSet{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the old StatefulSet is deleted: %v", err)
		cur2 := &corev1.PersistentVolumeClaim{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(claim), cur2)).To(Succeed())
		g.Expect(cur2.DeletionTimestamp).NotTo(BeNil(), "the old data volume is being deleted")
	}
	g.Eventually(expectResetting).Should(Succeed())
	// While the old volume is there, Postgres does not come back on it.
	g.Consistently(expectResetting).Should(Succeed())

	// No pod uses the claim: the PVC protection controller would now let it go.
	g.Expect(k8sClient.Patch(ctx, claim, client.RawPatch(types.MergePatchType,
		[]byte(`{"metadata":{"finalizers":null}}`)))).To(Succeed())
	g.Eventually(func(g Gomega) {
		sts := &appsv1.StatefulSet{}
		g.Expect(k8sClient.Get(ctx, postgres, sts)).To(Succeed())
		g.Expect(sts.UID).NotTo(Equal(old.UID), "a new StatefulSet")
		g.Expect(sts.Labels).To(HaveKeyWithValue(sandboxv1.ResetGenerationLabel, "1"))
		g.Expect(sts.Spec.VolumeClaimTemplates).To(HaveLen(1))
		g.Expect(sts.Spec.VolumeClaimTemplates[0].Labels).To(HaveKeyWithValue(sandboxv1.ResetGenerationLabel, "1"))
		g.Expect(sts.Spec.Template.Annotations).To(HaveKeyWithValue(sandboxv1.ResetGenerationLabel, "1"))
		deployments := &appsv1.DeploymentList{}
		g.Expect(k8sClient.List(ctx, deployments, client.InNamespace(ns))).To(Succeed())
		g.Expect(deployments.Items).To(HaveLen(4))
		for _, d := range deployments.Items {
			g.Expect(d.Spec.Template.Annotations).To(HaveKeyWithValue(sandboxv1.ResetGenerationLabel, "1"),
				"every pod of %s is replaced, and with it its emptyDirs", d.Name)
		}
		cur := getSandbox(g, sb.Name)
		g.Expect(cur.Status.LastResetGeneration).To(Equal(int64(1)))
		g.Expect(cur.Status.ObservedGeneration).To(Equal(cur.Generation))
		g.Expect(condition(cur, sandboxv1.ReadyCondition).Reason).NotTo(Equal(sandboxv1.ReasonResetting))
	}).Should(Succeed())
	g.Expect(getSecretData(g, ns, stack.CredentialsSecretName)).To(Equal(creds), "a reset wipes data, not access")
	g.Eventually(func(g Gomega) []eventsv1.Event { return sandboxEvents(g, sb) }).Should(ContainElement(And(
		HaveField("Reason", sandboxv1.ReasonResetting),
		HaveField("Note", ContainSubstring("Data wiped for resetGeneration 1")),
	)))
	g.Expect(waitReady(t, g, sb.Name).Status.Phase).To(Equal(sandboxv1.PhaseReady), "the stack runs again")

	// Exactly once: the new StatefulSet's claim is the new data, and stays.
	recreated := &appsv1.StatefulSet{}
	g.Expect(k8sClient.Get(ctx, postgres, recreated)).To(Succeed())
	newClaim := createDataClaim(t, g, ns, "postgres")
	g.Expect(newClaim.Labels).To(HaveKeyWithValue(sandboxv1.ResetGenerationLabel, "1"))
	touchConnectionSecret(t, sb.Name)
	g.Consistently(func(g Gomega) {
		cur := &corev1.PersistentVolumeClaim{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(newClaim), cur)).To(Succeed())
		g.Expect(cur.DeletionTimestamp).To(BeNil(), "the new data volume is not deleted")
		sts := &appsv1.StatefulSet{}
		g.Expect(k8sClient.Get(ctx, postgres, sts)).To(Succeed())
		g.Expect(sts.UID).To(Equal(recreated.UID))
		g.Expect(condition(getSandbox(g, sb.Name), sandboxv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
	}).Should(Succeed())

	// resetGeneration only goes up, whether lowered or removed.
	before := getSandbox(g, sb.Name)
	lowered := before.DeepCopy()
	lowered.Spec.ResetGeneration = 0
	err := k8sClient.Patch(ctx, lowered, client.MergeFrom(before))
	g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "lowering resetGeneration to 0: %v", err)
	g.Expect(err.Error()).To(ContainSubstring("resetGeneration only goes up"))
	g.Expect(getSandbox(g, sb.Name).Spec.ResetGeneration).To(Equal(int64(1)))
}

// TestStorageChangeWaitsForAReset: Kubernetes refuses changes to a
// StatefulSet's claim templates, so a new Postgres storage size keeps the
// sandbox running on the data volume it has, says so, and takes effect at
// the next reset.
func TestStorageChangeWaitsForAReset(t *testing.T) {
	g := newG(t)
	ensureBuiltinStage(t, "databases")
	sb := createSandbox(t, "storage", "databases")
	ns := namespaceOf(sb.Name)
	waitReady(t, g, sb.Name)
	postgres := client.ObjectKey{Namespace: ns, Name: "postgres"}
	claimSize := func(g Gomega) (types.UID, string) {
		sts := &appsv1.StatefulSet{}
		g.Expect(k8sClient.Get(t.Context(), postgres, sts)).To(Succeed())
		g.Expect(sts.Spec.VolumeClaimTemplates).To(HaveLen(1))
		return sts.UID, sts.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests.Storage().String()
	}
	before, size := claimSize(g)
	g.Expect(size).To(Equal("1Gi"))

	edited := editSandbox(t, g, sb.Name, func(sb *sandboxv1.LearningSandbox) {
		sb.Spec.Components = []sandboxv1.ComponentOverride{{Name: "postgres", Storage: new(resource.MustParse("3Gi"))}}
	})
	g.Eventually(func(g Gomega) {
		cur := getSandbox(g, sb.Name)
		g.Expect(cur.Status.ObservedGeneration).To(Equal(edited.Generation))
		g.Expect(condition(cur, sandboxv1.StalledCondition).Status).NotTo(Equal(metav1.ConditionTrue))
		g.Expect(condition(cur, sandboxv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
		g.Expect(cur.Status.Components).To(ContainElement(And(
			HaveField("Name", "postgres"),
			HaveField("Message", "data volume stays 1Gi until the next reset (spec.resetGeneration), which makes it 3Gi"),
		)))
	}).Should(Succeed())
	uid, size := claimSize(g)
	g.Expect(uid).To(Equal(before), "the StatefulSet and its data are kept")
	g.Expect(size).To(Equal("1Gi"))

	editSandbox(t, g, sb.Name, func(sb *sandboxv1.LearningSandbox) { sb.Spec.ResetGeneration = 1 })
	g.Eventually(func(g Gomega) {
		uid, size := claimSize(g)
		g.Expect(uid).NotTo(Equal(before), "the reset makes the StatefulSet anew")
		g.Expect(size).To(Equal("3Gi"))
	}).Should(Succeed())
	markWorkloadsReady(t, ns)
	g.Eventually(func(g Gomega) {
		cur := getSandbox(g, sb.Name)
		g.Expect(cur.Status.LastResetGeneration).To(Equal(int64(1)))
		g.Expect(cur.Status.Components).To(ContainElement(And(HaveField("Name", "postgres"), HaveField("Message", ""))))
	}).Should(Succeed())
}

// TestSandboxTTL: status.expiresAt follows spec.ttl; a sandbox whose ttl is
// past is deleted at once.
func TestSandboxTTL(t *testing.T) {
	ensureBuiltinStage(t, "fundamentals")
	gone := func(sb *sandboxv1.LearningSandbox) func() error {
		return func() error {
			return k8sClient.Get(context.Background(), client.ObjectKeyFromObject(sb), &sandboxv1.LearningSandbox{})
		}
	}
	expiresAt := func(g Gomega, name string) time.Time {
		cur := getSandbox(g, name)
		g.Expect(cur.Status.ExpiresAt).NotTo(BeNil())
		g.Expect(cur.Status.ObservedGeneration).To(Equal(cur.Generation))
		return cur.Status.ExpiresAt.Time
	}

	t.Run("extending the ttl moves expiresAt", func(t *testing.T) {
		g := newG(t)
		sb := createSandbox(t, "extend", "fundamentals", func(sb *sandboxv1.LearningSandbox) {
			sb.Spec.TTL = &metav1.Duration{Duration: 100 * time.Hour}
		})
		created := getSandbox(g, sb.Name).CreationTimestamp.Time
		g.Eventually(func(g Gomega) time.Time { return expiresAt(g, sb.Name) }).
			Should(BeTemporally("==", created.Add(100*time.Hour)))
		editSandbox(t, g, sb.Name, func(sb *sandboxv1.LearningSandbox) { sb.Spec.TTL.Duration = 200 * time.Hour })
		g.Eventually(func(g Gomega) time.Time { return expiresAt(g, sb.Name) }).
			Should(BeTemporally("==", created.Add(200*time.Hour)))
		g.Expect(gone(sb)()).To(Succeed(), "still there")
	})

	t.Run("a ttl that has passed deletes the sandbox at once", func(t *testing.T) {
		g := newG(t)
		// A minute to live by the operator's clock, which the expiry test may
		// have stepped ahead of the API server's.
		ttl := time.Minute + max(0, time.Until(testClock.Now())).Truncate(time.Second) + time.Second
		sb := createSandbox(t, "passed", "fundamentals", func(sb *sandboxv1.LearningSandbox) {
			sb.Spec.TTL = &metav1.Duration{Duration: ttl}
		})
		var at time.Time
		g.Eventually(func(g Gomega) {
			at = expiresAt(g, sb.Name)
			g.Expect(getSandbox(g, sb.Name).Status.ConnectionSecret).NotTo(BeEmpty())
		}).Should(Succeed())
		// Past its expiry by the operator's clock (two minutes on, or more if
		// that clock is behind the API server's), and any event reconciles it.
		testClock.Step(max(2*time.Minute, at.Sub(testClock.Now())+time.Minute))
		touchConnectionSecret(t, sb.Name)
		g.Eventually(gone(sb)).Should(Satisfy(apierrors.IsNotFound))
	})

	t.Run("shortening the ttl below the sandbox's age deletes it at once", func(t *testing.T) {
		g := newG(t)
		sb := createSandbox(t, "shortened", "fundamentals", func(sb *sandboxv1.LearningSandbox) {
			sb.Spec.TTL = &metav1.Duration{Duration: 100 * time.Hour}
		})
		created := getSandbox(g, sb.Name).CreationTimestamp.Time
		g.Eventually(func(g Gomega) time.Time { return expiresAt(g, sb.Name) }).
			Should(BeTemporally("==", created.Add(100*time.Hour)))
		// Two minutes old, by the operator's clock.
		if behind := created.Add(2 * time.Minute).Sub(testClock.Now()); behind > 0 {
			testClock.Step(behind)
		}
		editSandbox(t, g, sb.Name, func(sb *sandboxv1.LearningSandbox) { sb.Spec.TTL.Duration = time.Minute })
		g.Eventually(gone(sb)).Should(Satisfy(apierrors.IsNotFound))
	})
}

// TestTTLOverTheMaximumStalls: a ttl longer than the operator's maximum
// (--max-ttl) is refused with a terminal error and a Stalled condition that
// says what the maximum is; one within it sets expiresAt.
func TestTTLOverTheMaximumStalls(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC))
	r := &LearningSandboxReconciler{Client: k8sClient, Clock: clk, MaxTTL: 24 * time.Hour}
	created := metav1.NewTime(clk.Now().Add(-time.Hour))
	tests := []struct {
		name        string
		ttl         *metav1.Duration
		wantErr     bool
		wantExpires *time.Time
		wantLeft    time.Duration
	}{
		{name: "over the maximum", ttl: &metav1.Duration{Duration: 48 * time.Hour}, wantErr: true},
		{name: "at the maximum", ttl: &metav1.Duration{Duration: 24 * time.Hour},
			wantExpires: new(created.Add(24 * time.Hour)), wantLeft: 23 * time.Hour},
		{name: "no ttl", ttl: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			sb := &sandboxv1.LearningSandbox{
				ObjectMeta: metav1.ObjectMeta{Name: "maxttl", Generation: 3, CreationTimestamp: created},
				Spec:       sandboxv1.LearningSandboxSpec{Stage: "fundamentals", TTL: tt.ttl},
			}
			left, expired, err := r.reconcileExpiry(t.Context(), sb)
			g.Expect(expired).To(BeFalse())
			if tt.wantErr {
				g.Expect(err).To(HaveOccurred())
				g.Expect(errors.Is(err, reconcile.TerminalError(nil))).To(BeTrue(), "not retried: %v", err)
				stalled := condition(sb, sandboxv1.StalledCondition)
				g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
				g.Expect(stalled.Reason).To(Equal(sandboxv1.ReasonInvalidSpec))
				g.Expect(stalled.Message).To(And(ContainSubstring("maximum"), ContainSubstring("24h"), ContainSubstring("lower it")))
				g.Expect(condition(sb, sandboxv1.ReadyCondition).Status).To(Equal(metav1.ConditionFalse))
				g.Expect(sb.Status.ObservedGeneration).To(Equal(int64(3)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(left).To(Equal(tt.wantLeft))
			if tt.wantExpires == nil {
				g.Expect(sb.Status.ExpiresAt).To(BeNil())
			} else {
				g.Expect(sb.Status.ExpiresAt).NotTo(BeNil())
				g.Expect(sb.Status.ExpiresAt.Time).To(BeTemporally("==", *tt.wantExpires))
			}
			g.Expect(condition(sb, sandboxv1.StalledCondition).Status).NotTo(Equal(metav1.ConditionTrue))
		})
	}
}

// TestTerminatingNamespaceIsReported: a sandbox whose namespace is
// terminating says so, naming the namespace, and waits for it.
func TestTerminatingNamespaceIsReported(t *testing.T) {
	g := newG(t)
	ensureBuiltinStage(t, "fundamentals")
	sb := createSandbox(t, "terminating", "fundamentals")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespaceOf(sb.Name)}}
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(t.Context(), client.ObjectKeyFromObject(ns), ns)).To(Succeed())
		g.Expect(getSandbox(g, sb.Name).Status.Namespace).To(Equal(ns.Name))
	}).Should(Succeed())

	// envtest runs no namespace controller: the namespace stays Terminating.
	g.Expect(k8sClient.Delete(t.Context(), ns)).To(Succeed())
	g.Eventually(func(g Gomega) {
		cur := getSandbox(g, sb.Name)
		ready := condition(cur, sandboxv1.ReadyCondition)
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ready.Reason).To(Equal(sandboxv1.ReasonNamespaceTerminating))
		g.Expect(ready.Message).To(ContainSubstring("namespace " + ns.Name + " is terminating"))
		g.Expect(condition(cur, sandboxv1.ReconcilingCondition).Status).To(Equal(metav1.ConditionTrue))
		g.Expect(condition(cur, sandboxv1.StalledCondition).Status).NotTo(Equal(metav1.ConditionTrue))
	}).Should(Succeed())
}

// TestTerminatingMessage: the message names the namespace and says, from its
// conditions, what it still waits for.
func TestTerminatingMessage(t *testing.T) {
	const content = "Some resources are remaining: persistentvolumeclaims. has 1 resource instances"
	const finalizers = "Some content in the namespace has finalizers remaining: kubernetes.io/pvc-protection in 1 resource instances"
	tests := []struct {
		name       string
		conditions []corev1.NamespaceCondition
		want       string
	}{
		{name: "no conditions yet", want: "namespace sandbox-ada is terminating"},
		{name: "content and finalizers remaining", conditions: []corev1.NamespaceCondition{
			{Type: corev1.NamespaceDeletionDiscoveryFailure, Status: corev1.ConditionFalse, Message: "All resources successfully discovered"},
			{Type: corev1.NamespaceContentRemaining, Status: corev1.ConditionTrue, Message: content},
			{Type: corev1.NamespaceFinalizersRemaining, Status: corev1.ConditionTrue, Message: finalizers},
		}, want: "namespace sandbox-ada is terminating: " + content + "; " + finalizers},
		{name: "only what is true", conditions: []corev1.NamespaceCondition{
			{Type: corev1.NamespaceContentRemaining, Status: corev1.ConditionFalse, Message: "All content successfully removed"},
			{Type: corev1.NamespaceFinalizersRemaining, Status: corev1.ConditionTrue, Message: finalizers},
		}, want: "namespace sandbox-ada is terminating: " + finalizers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "sandbox-ada"},
				Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating, Conditions: tt.conditions}}
			NewWithT(t).Expect(terminatingMessage(ns)).To(Equal(tt.want))
		})
	}
}

// TestMoreInvalidInputIsRefused adds to TestInvalidInputIsRefused: the API
// server refuses each of these bad manifests with a message that says what
// is wrong. Some cannot be written with the Go types ("2 cores" is no
// quantity), so they are sent as unstructured objects.
func TestMoreInvalidInputIsRefused(t *testing.T) {
	ensureBuiltinStage(t, "apis")
	validStage := func() *sandboxv1.RoadmapStage {
		return &sandboxv1.RoadmapStage{
			ObjectMeta: metav1.ObjectMeta{Name: uniqueName("valid")},
			Spec: sandboxv1.RoadmapStageSpec{Title: "Valid", Components: []sandboxv1.Component{
				{Name: "postgres", Type: sandboxv1.ComponentPostgres},
				{Name: "app", Type: sandboxv1.ComponentApp},
				{Name: "mongo", Type: sandboxv1.ComponentContainer, Container: &sandboxv1.ContainerSpec{
					Image: "mongo:7", Ports: []sandboxv1.ContainerPort{{Name: "mongo", ContainerPort: 27017}}}},
			}},
		}
	}
	stage := func(mutate func(*sandboxv1.RoadmapStage)) func() client.Object {
		return func() client.Object { s := validStage(); mutate(s); return s }
	}
	sandbox := func(mutate func(*sandboxv1.LearningSandbox)) func() client.Object {
		return func() client.Object { sb := newSandbox("invalid", "apis"); mutate(sb); return sb }
	}
	// raw is the object as JSON, changed by set: for values that its Go
	// types cannot hold, or write only as a string.
	raw := func(object func() client.Object, kind string, set func(content map[string]any)) func() client.Object {
		return func() client.Object {
			content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(object())
			if err != nil {
				t.Fatal(err)
			}
			u := &unstructured.Unstructured{Object: content}
			u.SetGroupVersionKind(sandboxv1.GroupVersion.WithKind(kind))
			set(u.Object)
			return u
		}
	}
	field := func(value any, path ...string) func(map[string]any) {
		return func(content map[string]any) {
			if err := unstructured.SetNestedField(content, value, path...); err != nil {
				t.Fatal(err)
			}
		}
	}
	noop := func(*sandboxv1.LearningSandbox) {}
	component := func(i int, mutate func(*sandboxv1.Component)) func() client.Object {
		return stage(func(s *sandboxv1.RoadmapStage) { mutate(&s.Spec.Components[i]) })
	}
	const postgres, mongo = 0, 2

	tests := []struct {
		name   string
		object func() client.Object
		want   string
	}{
		{"stage name with uppercase", stage(func(s *sandboxv1.RoadmapStage) { s.Name = "Databases-" + s.Name }),
			"a lowercase RFC 1123 subdomain"},
		{"stage name with a dot", stage(func(s *sandboxv1.RoadmapStage) { s.Name += ".v2" }),
			"a stage name is a DNS label"},
		{"stage with no components", stage(func(s *sandboxv1.RoadmapStage) { s.Spec.Components = []sandboxv1.Component{} }),
			"spec.components in body should have at least 1 items"},
		{"component with 11 replicas", component(mongo, func(c *sandboxv1.Component) { c.Replicas = new(int32(11)) }),
			"spec.components[2].replicas in body should be less than or equal to 10"},
		{"Postgres with 2 replicas", component(postgres, func(c *sandboxv1.Component) { c.Replicas = new(int32(2)) }),
			"a Postgres component runs a single server: set replicas to 0 or 1"},
		{"Container with two ports of the same name", component(mongo, func(c *sandboxv1.Component) {
			c.Container.Ports = append(c.Container.Ports, sandboxv1.ContainerPort{Name: "mongo", ContainerPort: 28017})
		}), `spec.components[2].container.ports[1]: Duplicate value: {"name":"mongo"}`},
		{"component name starting with a digit", component(mongo, func(c *sandboxv1.Component) { c.Name = "2mongo" }),
			"spec.components[2].name in body should match '^[a-z]([-a-z0-9]*[a-z0-9])?$'"},
		{"unknown component type", component(mongo, func(c *sandboxv1.Component) { c.Type = "MySQL"; c.Container = nil }),
			`spec.components[2].type: Unsupported value: "MySQL": supported values: "Postgres", "Redis", "Nginx", "App", "Container"`},
		{"container running as root", component(mongo, func(c *sandboxv1.Component) { c.Container.RunAsUser = new(int64(0)) }),
			"spec.components[2].container.runAsUser in body should be greater than or equal to 1"},
		{"container port out of range", component(mongo, func(c *sandboxv1.Component) { c.Container.Ports[0].ContainerPort = 70000 }),
			"spec.components[2].container.ports[0].containerPort in body should be less than or equal to 65535"},
		{"emptyDir that is not an absolute path", component(mongo, func(c *sandboxv1.Component) { c.Container.EmptyDirs = []string{"data/db"} }),
			"spec.components[2].container.emptyDirs[0] in body should match '^/.*'"},
		{"negative Postgres storage", component(postgres, func(c *sandboxv1.Component) { c.Storage = new(resource.MustParse("-1Gi")) }),
			"spec.components[0].storage: Invalid value: storage is a positive quantity, for example 2Gi"},
		{"Postgres storage of the integer 0", raw(stage(func(*sandboxv1.RoadmapStage) {}), "RoadmapStage", func(content map[string]any) {
			content["spec"].(map[string]any)["components"].([]any)[postgres].(map[string]any)["storage"] = int64(0)
		}),
			"spec.components[0].storage: Invalid value: storage is a positive quantity, for example 2Gi"},
		{"stage budget cpu of 0", stage(func(s *sandboxv1.RoadmapStage) { s.Spec.Budget.CPU = new(resource.MustParse("0")) }),
			"budget.cpu is a positive quantity, for example 500m or 2"},
		{"stage budget of 0 pods", stage(func(s *sandboxv1.RoadmapStage) { s.Spec.Budget.Pods = new(int32(0)) }),
			"spec.budget.pods in body should be greater than or equal to 1"},
		{"sandbox budget cpu of 2 cores", raw(sandbox(noop), "LearningSandbox", field("2 cores", "spec", "budget", "cpu")),
			"spec.budget.cpu in body should match"},
		{"sandbox ttl of 0s", sandbox(func(sb *sandboxv1.LearningSandbox) { sb.Spec.TTL = &metav1.Duration{} }),
			"ttl is a duration from 1m to 8760h (a year), for example 72h"},
		{"sandbox ttl that is no duration", raw(sandbox(noop), "LearningSandbox", field("abc", "spec", "ttl")),
			"spec.ttl in body should match"},
		{"learner user that is empty", sandbox(func(sb *sandboxv1.LearningSandbox) { sb.Spec.Learner.Users = []string{""} }),
			"spec.learner.users[0] in body should be at least 1 chars long"},
		{"sandbox without a stage", sandbox(func(sb *sandboxv1.LearningSandbox) { sb.Spec.Stage = "" }),
			"spec.stage in body should be at least 1 chars long"},
		{"override with 11 replicas", sandbox(func(sb *sandboxv1.LearningSandbox) {
			sb.Spec.Components = []sandboxv1.ComponentOverride{{Name: "app", Replicas: new(int32(11))}}
		}), "spec.components[0].replicas in body should be less than or equal to 10"},
		{"override with negative storage", sandbox(func(sb *sandboxv1.LearningSandbox) {
			sb.Spec.Components = []sandboxv1.ComponentOverride{{Name: "postgres", Storage: new(resource.MustParse("-1Gi"))}}
		}), "spec.components[0].storage: Invalid value: storage is a positive quantity, for example 2Gi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newG(t)
			obj := tt.object()
			err := k8sClient.Create(t.Context(), obj)
			if err == nil {
				t.Cleanup(func() { deleteIgnoringNotFound(t, obj) })
			}
			g.Expect(err).To(HaveOccurred(), "the API server accepted it")
			g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "not an Invalid error: %v", err)
			g.Expect(err.Error()).To(ContainSubstring(tt.want))
		})
	}

	t.Run("the valid ones are accepted", func(t *testing.T) {
		g := newG(t)
		s := validStage()
		g.Expect(k8sClient.Create(t.Context(), s)).To(Succeed())
		t.Cleanup(func() { deleteIgnoringNotFound(t, s) })
		createSandbox(t, "valid", "apis", func(sb *sandboxv1.LearningSandbox) {
			sb.Spec.TTL = &metav1.Duration{Duration: time.Minute}
			sb.Spec.Budget = &sandboxv1.Budget{CPU: new(resource.MustParse("500m")), Pods: ptr.To[int32](1)}
			sb.Spec.Components = []sandboxv1.ComponentOverride{{Name: "app", Replicas: ptr.To[int32](10)}}
		})
	})
}
