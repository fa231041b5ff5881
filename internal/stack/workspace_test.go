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
package stack

import (
	"encoding/json"
	"errors"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// workspaceStage is a stage with Postgres, Nginx and a Workspace.
func workspaceStage(ws sandboxv1.Component) *sandboxv1.RoadmapStage {
	return stageOf(
		sandboxv1.Component{Name: "postgres", Type: sandboxv1.ComponentPostgres},
		sandboxv1.Component{Name: "web", Type: sandboxv1.ComponentNginx},
		ws,
	)
}

func renderWorkspace(g Gomega, sb *sandboxv1.LearningSandbox, stage *sandboxv1.RoadmapStage, s Settings) (*Stack, appsv1.StatefulSet) {
	st, err := Render(Input{Sandbox: sb, Stage: stage, Credentials: testCredentials}, s)
	g.Expect(err).NotTo(HaveOccurred())
	var sts appsv1.StatefulSet
	decodeObject(g, st, "StatefulSet", "workspace", &sts)
	return st, sts
}

// decodeObject finds the stack's object of that kind and name and decodes it into out.
func decodeObject(g Gomega, st *Stack, kind, name string, out any) {
	for _, obj := range st.Objects {
		if *obj.GetKind() == kind && *obj.GetName() == name {
			raw, err := json.Marshal(obj)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(json.Unmarshal(raw, out)).To(Succeed())
			return
		}
	}
	g.Expect(false).To(BeTrue(), "the stack has no %s %s", kind, name)
}

func TestWorkspaceLanguageComesFromSandboxThenStageThenDefault(t *testing.T) {
	ws := sandboxv1.Component{Name: "workspace", Type: sandboxv1.ComponentWorkspace}
	stageLang := ws
	stageLang.Workspace = &sandboxv1.WorkspaceComponent{Language: "java"}
	for _, tc := range []struct {
		name      string
		component sandboxv1.Component
		sandbox   string
		want      string
	}{
		{"operator default", ws, "", "python"},
		{"the stage's", stageLang, "", "java"},
		{"the sandbox's over the stage's", stageLang, "go", "go"},
		{"the sandbox's", ws, "node", "node"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			sb := testSandbox("custom")
			if tc.sandbox != "" {
				sb.Spec.Workspace = &sandboxv1.Workspace{Language: tc.sandbox}
			}
			_, sts := renderWorkspace(g, sb, workspaceStage(tc.component), DefaultSettings())
			ctr := sts.Spec.Template.Spec.Containers[0]
			g.Expect(ctr.Image).To(Equal(DefaultLanguages()[tc.want]))
			g.Expect(ctr.Env).To(ContainElement(corev1.EnvVar{Name: "WORKSPACE_LANGUAGE", Value: tc.want}))
		})
	}
}

func TestWorkspaceUnknownLanguageSaysWhatToWrite(t *testing.T) {
	g := NewWithT(t)
	sb := testSandbox("custom")
	sb.Spec.Workspace = &sandboxv1.Workspace{Language: "cobol"}
	stage := workspaceStage(sandboxv1.Component{Name: "workspace", Type: sandboxv1.ComponentWorkspace})
	_, err := Render(Input{Sandbox: sb, Stage: stage, Credentials: testCredentials}, DefaultSettings())
	langErr, ok := errors.AsType[*LanguageError](err)
	g.Expect(ok).To(BeTrue(), "%v", err)
	g.Expect(langErr.Error()).To(Equal(`workspace "workspace": language "cobol" is not in this cluster's catalog: ` +
		`set spec.workspace.language to one of go, java, node, python`))

	// A language the platform team added is known.
	s := DefaultSettings()
	s.Languages["cobol"] = "registry.example.edu/workspace-cobol:1"
	_, sts := renderWorkspace(g, sb, stage, s)
	g.Expect(sts.Spec.Template.Spec.Containers[0].Image).To(Equal("registry.example.edu/workspace-cobol:1"))
}

func TestWorkspaceHomeIsPersistentAndResetWithTheData(t *testing.T) {
	g := NewWithT(t)
	sb := testSandbox("custom")
	sb.Spec.ResetGeneration = 3
	size := resource.MustParse("3Gi")
	st, sts := renderWorkspace(g, sb, workspaceStage(sandboxv1.Component{Name: "workspace", Type: sandboxv1.ComponentWorkspace, Storage: &size}), DefaultSettings())

	g.Expect(sts.Spec.VolumeClaimTemplates).To(HaveLen(1))
	claim := sts.Spec.VolumeClaimTemplates[0]
	g.Expect(claim.Spec.Resources.Requests[corev1.ResourceStorage]).To(Equal(size))
	// The reset deletes what carries an older generation: the StatefulSet and its claim.
	g.Expect(claim.Labels).To(HaveKeyWithValue(sandboxv1.ResetGenerationLabel, "3"))
	g.Expect(sts.Labels).To(HaveKeyWithValue(sandboxv1.ResetGenerationLabel, "3"))
	g.Expect(sts.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled).To(Equal(appsv1.RetainPersistentVolumeClaimRetentionPolicyType),
		"a suspend keeps the home")

	pod := sts.Spec.Template.Spec
	ctr := pod.Containers[0]
	g.Expect(ctr.VolumeMounts).To(ContainElement(corev1.VolumeMount{Name: claim.Name, MountPath: WorkspaceHome}))
	g.Expect(*ctr.SecurityContext.ReadOnlyRootFilesystem).To(BeTrue())
	g.Expect(*pod.SecurityContext.RunAsUser).To(Equal(int64(1000)))
	g.Expect(*pod.SecurityContext.FSGroup).To(Equal(int64(1000)))
	var tmp *corev1.Volume
	for i := range pod.Volumes {
		if pod.Volumes[i].Name == tmpVolume {
			tmp = &pod.Volumes[i]
		}
	}
	g.Expect(tmp).NotTo(BeNil(), "/tmp is writable")
	g.Expect(tmp.EmptyDir.SizeLimit.String()).To(Equal("1Gi"))

	// The home counts in the budget's storage.
	quota := quotaHard(g, st)
	g.Expect(quota.Cmp(resource.MustParse("4Gi"))).To(BeNumerically(">=", 0))
	stage := workspaceStage(sandboxv1.Component{Name: "workspace", Type: sandboxv1.ComponentWorkspace, Storage: &size})
	stage.Spec.Budget.Storage = new(resource.MustParse("3Gi"))
	_, err := Render(Input{Sandbox: sb, Stage: stage, Credentials: testCredentials}, DefaultSettings())
	g.Expect(err).To(MatchError(ContainSubstring("the stack needs 4Gi storage (the Postgres data and Workspace home volumes) but budget.storage is 3Gi")))
}

func quotaHard(g Gomega, st *Stack) resource.Quantity {
	var q corev1.ResourceQuota
	decodeObject(g, st, "ResourceQuota", QuotaName, &q)
	return q.Spec.Hard[corev1.ResourceRequestsStorage]
}

func TestWorkspaceIsReachableByServiceSecretAndNginx(t *testing.T) {
	g := NewWithT(t)
	port := int32(3000)
	ws := sandboxv1.Component{Name: "workspace", Type: sandboxv1.ComponentWorkspace,
		Workspace: &sandboxv1.WorkspaceComponent{Port: &port}}
	st, sts := renderWorkspace(g, testSandbox("custom"), workspaceStage(ws), DefaultSettings())

	var svc corev1.Service
	decodeObject(g, st, "Service", "workspace", &svc)
	g.Expect(svc.Spec.Ports).To(HaveLen(1))
	g.Expect(svc.Spec.Ports[0].Port).To(Equal(port))
	g.Expect(svc.Spec.Selector).To(Equal(map[string]string{sandboxv1.ComponentLabel: "workspace"}))
	g.Expect(sts.Spec.Template.Labels).To(HaveKeyWithValue(sandboxv1.ComponentLabel, "workspace"))

	var secret corev1.Secret
	decodeObject(g, st, "Secret", ConnectionSecretName, &secret)
	g.Expect(string(secret.Data["WORKSPACE_URL"])).To(Equal("http://workspace.sandbox-fall26-ada.svc:3000"))
	g.Expect(string(secret.Data["JDBC_DATABASE_URL"])).To(Equal("jdbc:postgresql://postgres.sandbox-fall26-ada.svc:5432/app?sslmode=disable"))

	ctr := sts.Spec.Template.Spec.Containers[0]
	g.Expect(ctr.EnvFrom).To(ContainElement(corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: ConnectionSecretName}}}))
	g.Expect(ctr.Env).To(ContainElements(
		corev1.EnvVar{Name: "HOME", Value: WorkspaceHome},
		corev1.EnvVar{Name: "PORT", Value: "3000"}))

	var conf corev1.ConfigMap
	decodeObject(g, st, "ConfigMap", "web", &conf)
	g.Expect(conf.Data["nginx.conf"]).To(ContainSubstring("location /dev/ {\n            proxy_pass http://workspace:3000/;"))

	// Nginx resolves its upstreams as it starts: the workspace's Service comes before it.
	order := map[string]int{}
	for i, obj := range st.Objects {
		order[*obj.GetKind()+"/"+*obj.GetName()] = i
	}
	g.Expect(order["Service/workspace"]).To(BeNumerically("<", order["Deployment/web"]))
}

func TestWorkspaceEgressIsAPlatformChoice(t *testing.T) {
	g := NewWithT(t)
	stage := workspaceStage(sandboxv1.Component{Name: "workspace", Type: sandboxv1.ComponentWorkspace})
	policies := func(s Settings) map[string]networkingv1.NetworkPolicy {
		st, err := Render(Input{Sandbox: testSandbox("custom"), Stage: stage, Credentials: testCredentials}, s)
		g.Expect(err).NotTo(HaveOccurred())
		out := map[string]networkingv1.NetworkPolicy{}
		for _, obj := range st.Objects {
			if *obj.GetKind() == "NetworkPolicy" {
				var p networkingv1.NetworkPolicy
				decodeObject(g, st, "NetworkPolicy", *obj.GetName(), &p)
				out[p.Name] = p
			}
		}
		return out
	}
	g.Expect(policies(DefaultSettings())).NotTo(HaveKey(AllowWorkspaceEgress), "off by default")

	s := DefaultSettings()
	s.WorkspaceEgress = true
	s.EgressExcept = []string{"10.96.0.0/12", "10.244.0.0/16"}
	p := policies(s)[AllowWorkspaceEgress]
	g.Expect(p.Spec.PodSelector.MatchExpressions).To(HaveLen(1))
	g.Expect(p.Spec.PodSelector.MatchExpressions[0].Values).To(Equal([]string{"workspace"}), "the workspace alone")
	g.Expect(p.Spec.PolicyTypes).To(Equal([]networkingv1.PolicyType{networkingv1.PolicyTypeEgress}))
	g.Expect(p.Spec.Egress).To(HaveLen(1))
	rule := p.Spec.Egress[0]
	g.Expect(rule.To).To(HaveLen(1))
	g.Expect(rule.To[0].IPBlock.CIDR).To(Equal("0.0.0.0/0"))
	g.Expect(rule.To[0].IPBlock.Except).To(Equal([]string{"10.96.0.0/12", "10.244.0.0/16", "169.254.0.0/16", "127.0.0.0/8"}))
	var ports []string
	for _, port := range rule.Ports {
		ports = append(ports, string(*port.Protocol)+"/"+port.Port.String())
	}
	g.Expect(ports).To(Equal([]string{"TCP/80", "TCP/443"}))
}

func TestWorkspaceOverrides(t *testing.T) {
	stage := workspaceStage(sandboxv1.Component{Name: "workspace", Type: sandboxv1.ComponentWorkspace})
	for _, tc := range []struct {
		name     string
		override sandboxv1.ComponentOverride
		err      string
	}{
		{"more than one replica", sandboxv1.ComponentOverride{Name: "workspace", Replicas: new(int32(2))},
			"a Workspace is one pod with one home volume: set replicas to 0 or 1"},
		{"a larger home", sandboxv1.ComponentOverride{Name: "workspace", Storage: new(resource.MustParse("2Gi"))}, ""},
		{"disabled", sandboxv1.ComponentOverride{Name: "workspace", Disabled: new(true)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			sb := testSandbox("custom")
			sb.Spec.Components = []sandboxv1.ComponentOverride{tc.override}
			st, err := Render(Input{Sandbox: sb, Stage: stage, Credentials: testCredentials}, DefaultSettings())
			if tc.err != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.err)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			if tc.override.Disabled != nil {
				for _, obj := range st.Objects {
					g.Expect(*obj.GetName()).NotTo(Equal("workspace"))
				}
				var conf corev1.ConfigMap
				decodeObject(g, st, "ConfigMap", "web", &conf)
				g.Expect(conf.Data["nginx.conf"]).NotTo(ContainSubstring("location /dev/"))
				return
			}
			var sts appsv1.StatefulSet
			decodeObject(g, st, "StatefulSet", "workspace", &sts)
			g.Expect(sts.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests[corev1.ResourceStorage]).To(Equal(resource.MustParse("2Gi")))
		})
	}
}

// TestEveryBuiltinStageHasAWorkspace: the learner writes their own code in every stage.
func TestEveryBuiltinStageHasAWorkspace(t *testing.T) {
	for _, stage := range builtinStages(t) {
		g := NewWithT(t)
		st, err := Render(Input{Sandbox: testSandbox(stage.Name), Stage: stage, Credentials: testCredentials}, DefaultSettings())
		g.Expect(err).NotTo(HaveOccurred(), stage.Name)
		var names []string
		for _, c := range st.Components {
			if c.Type == sandboxv1.ComponentWorkspace {
				names = append(names, c.Name)
			}
		}
		g.Expect(names).To(Equal([]string{"workspace"}), stage.Name)
	}
}
