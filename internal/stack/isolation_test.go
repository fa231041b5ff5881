package stack

import (
	"encoding/json"
	"errors"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

func quantity(s string) *resource.Quantity {
	q := resource.MustParse(s)
	return &q
}

func TestResolveBudget(t *testing.T) {
	stage := stageOf(sandboxv1.Component{Name: "web", Type: sandboxv1.ComponentNginx})
	stage.Spec.Budget = sandboxv1.Budget{CPU: quantity("2"), Memory: quantity("4Gi")}
	tests := []struct {
		name    string
		sandbox *sandboxv1.Budget
		max     sandboxv1.Budget
		want    sandboxv1.Budget
		wantErr string
	}{{
		name: "the stage's budget over the operator's default",
		want: sandboxv1.Budget{CPU: quantity("2"), Memory: quantity("4Gi"), Storage: quantity("5Gi"), Pods: new(int32(20))},
	}, {
		name:    "a sandbox may lower its stage's budget",
		sandbox: &sandboxv1.Budget{CPU: quantity("500m"), Pods: new(int32(5))},
		want:    sandboxv1.Budget{CPU: quantity("500m"), Memory: quantity("4Gi"), Storage: quantity("5Gi"), Pods: new(int32(5))},
	}, {
		name:    "a sandbox may not raise it",
		sandbox: &sandboxv1.Budget{Memory: quantity("8Gi")},
		wantErr: `spec.budget.memory 8Gi is more than stage "custom" allows (4Gi)`,
	}, {
		name:    "nor more pods than the stage's",
		sandbox: &sandboxv1.Budget{Pods: new(int32(21))},
		wantErr: `spec.budget.pods 21 is more than stage "custom" allows (20)`,
	}, {
		name:    "the operator's maximum is an error, not a clamp",
		max:     sandboxv1.Budget{CPU: quantity("1")},
		wantErr: `budget.cpu 2 (from stage "custom" or the sandbox) is more than this cluster's maximum per sandbox (1)`,
	}, {
		name: "within the maximum",
		max:  sandboxv1.Budget{CPU: quantity("2"), Pods: new(int32(50))},
		want: sandboxv1.Budget{CPU: quantity("2"), Memory: quantity("4Gi"), Storage: quantity("5Gi"), Pods: new(int32(20))},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			sb := testSandbox("custom")
			sb.Spec.Budget = tt.sandbox
			s := DefaultSettings()
			s.MaxBudget = tt.max
			got, err := ResolveBudget(sb, stage, s)
			if tt.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tt.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got.CPU.String()).To(Equal(tt.want.CPU.String()))
			g.Expect(got.Memory.String()).To(Equal(tt.want.Memory.String()))
			g.Expect(got.Storage.String()).To(Equal(tt.want.Storage.String()))
			g.Expect(*got.Pods).To(Equal(*tt.want.Pods))
		})
	}
}

// TestBuiltinStagesFitTheirBudget checks that each stage's stack fits its
// quota with room for a rolling update of its largest Deployment's pod, which
// a quota that is just big enough would block (a StatefulSet replaces its pod
// in place: no surge).
func TestBuiltinStagesFitTheirBudget(t *testing.T) {
	for _, stage := range builtinStages(t) {
		t.Run(stage.Name, func(t *testing.T) {
			g := NewWithT(t)
			st, err := Render(Input{Sandbox: testSandbox(stage.Name), Stage: stage, Credentials: testCredentials}, DefaultSettings())
			g.Expect(err).NotTo(HaveOccurred())
			budget, err := ResolveBudget(testSandbox(stage.Name), stage, DefaultSettings())
			g.Expect(err).NotTo(HaveOccurred())

			var cpu, mem, largestCPU, largestMem resource.Quantity
			pods := 0
			replicas, surges := map[string]int{}, map[string]bool{}
			for _, c := range st.Components {
				replicas[c.Name] = int(c.Replicas)
				surges[c.Name] = c.Workload == "Deployment"
			}
			for name, pod := range podSpecs(g, st) {
				var podCPU, podMem resource.Quantity
				for _, c := range pod.Containers {
					podCPU.Add(c.Resources.Limits[corev1.ResourceCPU])
					podMem.Add(c.Resources.Limits[corev1.ResourceMemory])
				}
				for range replicas[name] {
					cpu.Add(podCPU)
					mem.Add(podMem)
					pods++
				}
				if surges[name] && podCPU.Cmp(largestCPU) > 0 {
					largestCPU = podCPU
				}
				if surges[name] && podMem.Cmp(largestMem) > 0 {
					largestMem = podMem
				}
			}
			cpu.Add(largestCPU)
			mem.Add(largestMem)
			g.Expect(cpu.Cmp(*budget.CPU)).To(BeNumerically("<=", 0), "cpu limits %s with a surge > budget %s", cpu.String(), budget.CPU.String())
			g.Expect(mem.Cmp(*budget.Memory)).To(BeNumerically("<=", 0), "memory limits %s with a surge > budget %s", mem.String(), budget.Memory.String())
			g.Expect(pods + 1).To(BeNumerically("<=", int(*budget.Pods)))
		})
	}
}

// TestStackThatOutgrowsItsBudgetIsRefused: overrides that the quota would
// refuse (pods that never start, a claim that is never made) are an error
// that names what to lower, not a sandbox that waits for ever.
func TestStackThatOutgrowsItsBudgetIsRefused(t *testing.T) {
	stages := map[string]*sandboxv1.RoadmapStage{}
	for _, st := range builtinStages(t) {
		stages[st.Name] = st
	}
	tests := []struct {
		name      string
		stage     string
		overrides []sandboxv1.ComponentOverride
		budget    *sandboxv1.Budget
		wantErr   string
	}{{
		name: "the stage as it is fits", stage: "caching",
	}, {
		name: "ten app replicas", stage: "caching",
		overrides: []sandboxv1.ComponentOverride{{Name: "app", Replicas: new(int32(10))}},
		wantErr:   "the stack needs 4500m cpu (the limits of every replica, and of one more pod while a Deployment rolls out) but budget.cpu is 2500m",
	}, {
		name: "a data volume larger than the budget", stage: "databases",
		overrides: []sandboxv1.ComponentOverride{{Name: "postgres", Storage: quantity("20Gi")}},
		wantErr:   "the stack needs 21Gi storage (the Postgres data and Workspace home volumes) but budget.storage is 6Gi",
	}, {
		name: "app resources larger than the budget", stage: "apis",
		overrides: []sandboxv1.ComponentOverride{{Name: "app", Resources: &corev1.ResourceRequirements{
			Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}}}},
		wantErr: "the stack needs 4736Mi memory",
	}, {
		name: "a sandbox budget lowered below its stack", stage: "fundamentals",
		budget:  &sandboxv1.Budget{Pods: new(int32(1))},
		wantErr: "the stack needs 3 pods (every replica, and one more while a Deployment rolls out) but budget.pods is 1",
	}, {
		name: "a disabled component needs nothing", stage: "databases",
		overrides: []sandboxv1.ComponentOverride{{Name: "mongo", Disabled: new(true)}},
		budget:    &sandboxv1.Budget{Memory: quantity("3500Mi")},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			sb := testSandbox(tt.stage)
			sb.Spec.Components = tt.overrides
			sb.Spec.Budget = tt.budget
			_, err := Render(Input{Sandbox: sb, Stage: stages[tt.stage], Credentials: testCredentials}, DefaultSettings())
			if tt.wantErr == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			var budgetErr *BudgetError
			g.Expect(errors.As(err, &budgetErr)).To(BeTrue(), "a BudgetError: %v", err)
			g.Expect(err.Error()).To(ContainSubstring(tt.wantErr))
		})
	}
}

func TestLearnerRoleBindingNamesEveryLearnerSubject(t *testing.T) {
	g := NewWithT(t)
	stage := stageOf(sandboxv1.Component{Name: "web", Type: sandboxv1.ComponentNginx})
	sb := testSandbox("custom")
	sb.Spec.Learner.Groups = []string{"fall26"}
	st, err := Render(Input{Sandbox: sb, Stage: stage}, DefaultSettings())
	g.Expect(err).NotTo(HaveOccurred())
	var binding rbacv1.RoleBinding
	for _, obj := range st.Objects {
		if *obj.GetKind() == "RoleBinding" {
			raw, err := json.Marshal(obj)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(json.Unmarshal(raw, &binding)).To(Succeed())
		}
	}
	g.Expect(binding.RoleRef).To(Equal(rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: DefaultLearnerClusterRole}))
	g.Expect(binding.Subjects).To(ConsistOf(
		rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "ada@example.edu"},
		rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "fall26"},
		rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: LearnerName, Namespace: "sandbox-fall26-ada"},
	))
}
