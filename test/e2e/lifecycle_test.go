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
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// TestLearnerCannotLoosenTheirFences impersonates a learner with kubectl: they
// work freely in their namespace but cannot delete the NetworkPolicy, edit the
// quota, relabel their namespace, or touch a neighbour's.
func TestLearnerCannotLoosenTheirFences(t *testing.T) {
	g := NewWithT(t)
	name, neighbour := "e2e-fenced", "e2e-neighbour"
	createSandbox(t, g, name, "fundamentals")
	createSandbox(t, g, neighbour, "fundamentals")
	waitReady(g, name)
	waitReady(g, neighbour)
	ns := namespaceOf(name)
	as := []string{"--as", name + "@example.edu"}

	forbidden := [][]string{
		{"delete", "networkpolicy", stack.DenyAllPolicy, "-n", ns},
		{"patch", "resourcequota", stack.QuotaName, "-n", ns, "--type=merge", "-p", `{"spec":{"hard":{"pods":"1000"}}}`},
		{"label", "namespace", ns, "--overwrite", "pod-security.kubernetes.io/enforce=privileged"},
		{"delete", "limitrange", stack.LimitRangeName, "-n", ns},
		{"create", "rolebinding", "me-admin", "-n", ns, "--clusterrole=admin", "--user=" + name + "@example.edu"},
		{"get", "pods", "-n", namespaceOf(neighbour)},
	}
	for _, args := range forbidden {
		out, err := kubectl(append(args, as...)...)
		g.Expect(err).To(HaveOccurred(), "kubectl %s succeeded as the learner:\n%s", strings.Join(args, " "), out)
		g.Expect(out).To(ContainSubstring("forbidden"), strings.Join(args, " "))
	}
	for _, args := range [][]string{
		{"get", "pods", "-n", ns},
		{"create", "configmap", "notes", "-n", ns, "--from-literal=todo=learn-sql"},
		{"get", "networkpolicy", stack.DenyAllPolicy, "-n", ns},
	} {
		out, err := kubectl(append(args, as...)...)
		g.Expect(err).NotTo(HaveOccurred(), "kubectl %s as the learner:\n%s", strings.Join(args, " "), out)
	}
	// A privileged pod is refused by Pod Security admission, even for the learner.
	out, err := kubectl(append([]string{"run", "root", "-n", ns, "--image=busybox", "--restart=Never",
		`--overrides={"spec":{"containers":[{"name":"root","image":"busybox","securityContext":{"privileged":true}}]}}`}, as...)...)
	g.Expect(err).To(HaveOccurred(), out)
	g.Expect(out).To(ContainSubstring("violates PodSecurity"))
}

// TestSandboxExpires: a sandbox with a short ttl is gone, namespace and all,
// shortly after its expiry.
func TestSandboxExpires(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ctx := context.Background()
	name := "e2e-expiring"
	sb := &sandboxv1.LearningSandbox{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: sandboxv1.LearningSandboxSpec{
			Learner: sandboxv1.Learner{Name: "ttl"},
			Stage:   "fundamentals",
			TTL:     &metav1.Duration{Duration: time.Minute},
		},
	}
	g.Expect(k8sClient.Create(ctx, sb)).To(Succeed())
	waitReady(g, name)
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: name}, sb)).To(Succeed())
	g.Expect(sb.Status.ExpiresAt).NotTo(BeNil())
	g.Expect(sb.Status.ExpiresAt.Time).To(BeTemporally("~", sb.CreationTimestamp.Add(time.Minute), time.Second))

	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Name: name}, &sandboxv1.LearningSandbox{}))
	}, 2*time.Minute, time.Second).Should(BeTrue(), "the sandbox is deleted at expiry")
	g.Expect(time.Now()).To(BeTemporally(">=", sb.Status.ExpiresAt.Time))
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Name: namespaceOf(name)}, &corev1.Namespace{}))
	}, readyTimeout, poll).Should(BeTrue(), "its namespace is gone")
}

// TestSuspendResumeAndResetKeepOrReplaceTheData: suspend and resume keep the
// Postgres volume; a reset replaces it, and keeps the credentials.
func TestSuspendResumeAndResetKeepOrReplaceTheData(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := "e2e-lifecycle"
	ns := namespaceOf(name)
	createSandbox(t, g, name, "caching")
	waitReady(g, name)
	claim := func() *corev1.PersistentVolumeClaim {
		pvc := &corev1.PersistentVolumeClaim{}
		g.Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "data-postgres-0"}, pvc)).To(Succeed())
			g.Expect(pvc.DeletionTimestamp).To(BeNil())
			g.Expect(pvc.Status.Phase).To(Equal(corev1.ClaimBound))
		}, readyTimeout, poll).Should(Succeed())
		return pvc
	}
	update := func(change func(*sandboxv1.LearningSandbox)) {
		g.Eventually(func() error {
			sb := &sandboxv1.LearningSandbox{}
			if err := k8sClient.Get(ctx, client.ObjectKey{Name: name}, sb); err != nil {
				return err
			}
			change(sb)
			return k8sClient.Update(ctx, sb)
		}, readyTimeout, poll).Should(Succeed())
	}
	original := claim()
	creds := &corev1.Secret{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: stack.CredentialsSecretName}, creds)).To(Succeed())

	update(func(sb *sandboxv1.LearningSandbox) { sb.Spec.Suspend = true })
	g.Eventually(func(g Gomega) {
		g.Expect(runningPods(g, ns)).To(BeEmpty())
	}, readyTimeout, poll).Should(Succeed())
	sb := waitReady(g, name)
	g.Expect(sb.Status.Phase).To(Equal(sandboxv1.PhaseSuspended))
	g.Expect(claim().UID).To(Equal(original.UID), "suspending keeps the data volume")

	update(func(sb *sandboxv1.LearningSandbox) { sb.Spec.Suspend = false })
	sb = waitReady(g, name)
	g.Expect(sb.Status.Phase).To(Equal(sandboxv1.PhaseReady))
	g.Expect(runningPods(g, ns)).To(HaveLen(4))
	g.Expect(claim().UID).To(Equal(original.UID), "resuming finds the same data volume")

	update(func(sb *sandboxv1.LearningSandbox) { sb.Spec.ResetGeneration = 1 })
	g.Eventually(func(g Gomega) {
		g.Expect(claim().UID).NotTo(Equal(original.UID), "a reset replaces the data volume")
	}, readyTimeout, poll).Should(Succeed())
	sb = waitReady(g, name)
	g.Expect(sb.Status.LastResetGeneration).To(Equal(int64(1)))
	after := &corev1.Secret{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: stack.CredentialsSecretName}, after)).To(Succeed())
	g.Expect(after.Data).To(Equal(creds.Data), "a reset keeps the credentials")
}
