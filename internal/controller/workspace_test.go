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
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

func workspaceStage(t *testing.T, prefix string) *sandboxv1.RoadmapStage {
	return createStage(t, prefix,
		sandboxv1.Component{Name: "web", Type: sandboxv1.ComponentNginx},
		sandboxv1.Component{Name: "workspace", Type: sandboxv1.ComponentWorkspace})
}

// workspaceImage is the image of the sandbox's workspace, once it exists.
func workspaceImage(g Gomega, sandbox string) string {
	var sts appsv1.StatefulSet
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Namespace: namespaceOf(sandbox), Name: "workspace"}, &sts)).To(Succeed())
	return sts.Spec.Template.Spec.Containers[0].Image
}

// TestWorkspaceLanguageNotInTheCatalogStalls: the status says which languages
// there are; choosing one of them brings the workspace.
func TestWorkspaceLanguageNotInTheCatalogStalls(t *testing.T) {
	g := newG(t)
	stage := workspaceStage(t, "ws-lang")
	sb := createSandbox(t, "ws-lang", stage.Name, func(sb *sandboxv1.LearningSandbox) {
		sb.Spec.Workspace = &sandboxv1.Workspace{Language: "cobol"}
	})
	g.Eventually(func(g Gomega) {
		cur := getSandbox(g, sb.Name)
		g.Expect(cur.Status.ObservedGeneration).To(Equal(cur.Generation))
		stalled := condition(cur, sandboxv1.StalledCondition)
		g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(stalled.Reason).To(Equal(sandboxv1.ReasonUnknownLanguage))
		g.Expect(stalled.Message).To(Equal(`workspace "workspace": language "cobol" is not in this cluster's catalog: ` +
			`set spec.workspace.language to one of go, java, node, python`))
		g.Expect(cur.Status.Phase).To(Equal(sandboxv1.PhaseFailed))
	}).Should(Succeed())

	editSandbox(t, g, sb.Name, func(sb *sandboxv1.LearningSandbox) { sb.Spec.Workspace.Language = "go" })
	g.Eventually(func(g Gomega) {
		g.Expect(workspaceImage(g, sb.Name)).To(Equal(stack.DefaultLanguages()["go"]))
		cur := getSandbox(g, sb.Name)
		g.Expect(condition(cur, sandboxv1.StalledCondition).Status).NotTo(Equal(metav1.ConditionTrue))
	}).Should(Succeed())
	markWorkloadsReady(t, namespaceOf(sb.Name))
	ready := waitReady(t, g, sb.Name)
	g.Expect(ready.Status.Components).To(ContainElement(HaveField("Type", sandboxv1.ComponentWorkspace)))
	g.Expect(getSecretData(g, namespaceOf(sb.Name), stack.ConnectionSecretName)).To(
		HaveKeyWithValue("WORKSPACE_URL", []byte("http://workspace."+namespaceOf(sb.Name)+".svc:8080")))
}

// TestCohortChoosesTheLanguageAndALearnerTheirOwn: the template's language
// is every learner's but the one whose roster entry chooses another.
func TestCohortChoosesTheLanguageAndALearnerTheirOwn(t *testing.T) {
	g := newG(t)
	stage := workspaceStage(t, "ws-cohort")
	c := newCohort("ws-cohort", stage.Name, "ada", "linus")
	c.Spec.Template.Workspace = &sandboxv1.Workspace{Language: "java"}
	c.Spec.Learners[0].Workspace = &sandboxv1.Workspace{Language: "node"}
	createCohort(t, c)

	g.Eventually(func(g Gomega) {
		g.Expect(getSandbox(g, c.SandboxName("ada")).Spec.Workspace).To(Equal(&sandboxv1.Workspace{Language: "node"}))
		g.Expect(getSandbox(g, c.SandboxName("linus")).Spec.Workspace).To(Equal(&sandboxv1.Workspace{Language: "java"}))
		g.Expect(workspaceImage(g, c.SandboxName("ada"))).To(Equal(stack.DefaultLanguages()["node"]))
		g.Expect(workspaceImage(g, c.SandboxName("linus"))).To(Equal(stack.DefaultLanguages()["java"]))
	}).Should(Succeed())

	// Linus changes his mind on the roster; Ada keeps her own choice. The
	// change rolls out as a template change does: within maxUnavailable of
	// a class whose sandboxes are Ready.
	for _, l := range []string{"ada", "linus"} {
		markWorkloadsReady(t, namespaceOf(c.SandboxName(l)))
		waitReady(t, g, c.SandboxName(l))
	}
	updateCohort(t, c.Name, func(c *sandboxv1.LearningCohort) {
		c.Spec.Learners[1].Workspace = &sandboxv1.Workspace{Language: "python"}
	})
	g.Eventually(func(g Gomega) {
		g.Expect(workspaceImage(g, c.SandboxName("linus"))).To(Equal(stack.DefaultLanguages()["python"]))
		g.Expect(workspaceImage(g, c.SandboxName("ada"))).To(Equal(stack.DefaultLanguages()["node"]))
	}).Should(Succeed())
}

// TestWorkspaceInputIsRefused: the API server says what to write instead.
func TestWorkspaceInputIsRefused(t *testing.T) {
	stage := func(c sandboxv1.Component) *sandboxv1.RoadmapStage {
		return &sandboxv1.RoadmapStage{
			ObjectMeta: metav1.ObjectMeta{Name: uniqueName("ws-invalid")},
			Spec:       sandboxv1.RoadmapStageSpec{Title: "Invalid", Components: []sandboxv1.Component{c}},
		}
	}
	for _, tc := range []struct {
		name string
		obj  client.Object
		want string
	}{
		{"a language that is not a name", func() client.Object {
			sb := newSandbox("ws-invalid", "fundamentals")
			sb.Spec.Workspace = &sandboxv1.Workspace{Language: "C#"}
			return sb
		}(), "spec.workspace.language in body should match"},
		{"two workspace replicas", stage(sandboxv1.Component{Name: "workspace", Type: sandboxv1.ComponentWorkspace,
			Replicas: new(int32(2))}), "a Workspace is one pod with one home volume: set replicas to 0 or 1"},
		{"workspace settings on an Nginx", stage(sandboxv1.Component{Name: "web", Type: sandboxv1.ComponentNginx,
			Workspace: &sandboxv1.WorkspaceComponent{Language: "go"}}), "workspace is set for type Workspace only"},
		{"a privileged port", stage(sandboxv1.Component{Name: "workspace", Type: sandboxv1.ComponentWorkspace,
			Workspace: &sandboxv1.WorkspaceComponent{Port: new(int32(80))}}), "should be greater than or equal to 1024"},
		{"storage on a Redis", stage(sandboxv1.Component{Name: "redis", Type: sandboxv1.ComponentRedis,
			Storage: new(resource.MustParse("1Gi"))}), "storage and storageClassName are only for Postgres and Workspace components"},
		{"an ephemeral workspace", stage(sandboxv1.Component{Name: "workspace", Type: sandboxv1.ComponentWorkspace,
			Ephemeral: new(true)}), "ephemeral is only for Postgres components"},
		{"a cohort learner's language that is not a name", func() client.Object {
			c := newCohort("ws-invalid", "fundamentals", "ada")
			c.Spec.Learners[0].Workspace = &sandboxv1.Workspace{Language: "Go Lang"}
			return c
		}(), "spec.learners[0].workspace.language in body should match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newG(t)
			err := k8sClient.Create(t.Context(), tc.obj)
			if err == nil {
				t.Cleanup(func() { deleteIgnoringNotFound(t, tc.obj) })
			}
			g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "not an Invalid error: %v", err)
			g.Expect(err.Error()).To(ContainSubstring(tc.want))
		})
	}
}

// TestWorkspaceHomeIsAClaimOfTheSandbox: the home's claim template carries the
// sandbox's labels and reset generation, so that a reset deletes it.
func TestWorkspaceHomeIsAClaimOfTheSandbox(t *testing.T) {
	g := newG(t)
	stage := workspaceStage(t, "ws-home")
	sb := createSandbox(t, "ws-home", stage.Name)
	g.Eventually(func(g Gomega) {
		var sts appsv1.StatefulSet
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Namespace: namespaceOf(sb.Name), Name: "workspace"}, &sts)).To(Succeed())
		g.Expect(metav1.IsControlledBy(&sts, sb)).To(BeTrue())
		g.Expect(sts.Spec.VolumeClaimTemplates).To(HaveLen(1))
		home := sts.Spec.VolumeClaimTemplates[0]
		g.Expect(home.Labels).To(HaveKeyWithValue(sandboxv1.SandboxLabel, sb.Name))
		g.Expect(home.Labels).To(HaveKeyWithValue(sandboxv1.ResetGenerationLabel, "0"))
		g.Expect(home.Spec.Resources.Requests[corev1.ResourceStorage]).To(Equal(stack.DefaultStorage))
	}).Should(Succeed())
}
