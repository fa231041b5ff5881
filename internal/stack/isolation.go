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
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"k8s.io/utils/ptr"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// Names of the objects that fence a sandbox in and let its learner in.
const (
	QuotaName      = "sandbox-quota"
	LimitRangeName = "sandbox-limits"
	// ObjectQuotaName bounds how many objects of each kind the namespace holds.
	ObjectQuotaName = "sandbox-object-quota"
	// LearnerName names the learner's ServiceAccount and RoleBinding.
	LearnerName = "learner"
	// DefaultLearnerClusterRole is the ClusterRole (config/learner) that the
	// learner is bound to in their namespace.
	DefaultLearnerClusterRole = "learning-sandbox-learner"
	// NoLongLivedTokensPolicy is the ValidatingAdmissionPolicy (and its
	// binding, config/learner) that refuses learners long-lived token Secrets.
	NoLongLivedTokensPolicy = "learning-sandbox-no-long-lived-tokens"
	// NoExternalIPsPolicy is the ValidatingAdmissionPolicy (and its binding)
	// that refuses learners Services with external IPs.
	NoExternalIPsPolicy = "learning-sandbox-no-external-ips"
)

// The NetworkPolicies of every sandbox namespace.
const (
	DenyAllPolicy          = "default-deny"
	AllowWithinPolicy      = "allow-within-sandbox"
	AllowDNSPolicy         = "allow-dns"
	AllowIngressCtrlPolicy = "allow-ingress-controller"
	AllowOperatorChecks    = "allow-operator-checks"
	AllowWorkspaceEgress   = "allow-workspace-egress"
	namespaceNameLabel     = "kubernetes.io/metadata.name"
	maxClaimsPerSandbox    = 10
	defaultContainerCPU    = "250m"
	defaultContainerMemory = "256Mi"
	defaultRequestCPU      = "50m"
	defaultRequestMemory   = "64Mi"
)

// objectCounts bound how many objects of each kind a learner may keep in a
// sandbox, the operator's own included, so that no learner can fill etcd.
// They are a quota of their own, applied last (see objectQuota).
var objectCounts = map[corev1.ResourceName]int64{
	corev1.ResourceServices:   20,
	corev1.ResourceSecrets:    50,
	corev1.ResourceConfigMaps: 50,
	"count/deployments.apps":  20,
	"count/statefulsets.apps": 5,
	"count/jobs.batch":        50,
	"count/cronjobs.batch":    10,
}

// DefaultBudget is what a sandbox may use when neither its stage nor the
// operator's flags say otherwise.
func DefaultBudget() sandboxv1.Budget {
	cpu, mem, storage := resource.MustParse("2"), resource.MustParse("4Gi"), resource.MustParse("5Gi")
	pods := int32(20)
	return sandboxv1.Budget{CPU: &cpu, Memory: &mem, Storage: &storage, Pods: &pods}
}

// BudgetError says that a stage or a sandbox asks for more than it may.
type BudgetError struct{ Reason string }

func (e *BudgetError) Error() string { return e.Reason }

// ResolveBudget is what the sandbox may use: the operator's default, replaced
// field by field by the stage's budget, then lowered by the sandbox's own. A
// sandbox may not raise its stage's budget, and neither may exceed the
// operator's maximum (Settings.MaxBudget): both are errors, never clamped.
func ResolveBudget(sb *sandboxv1.LearningSandbox, stage *sandboxv1.RoadmapStage, s Settings) (sandboxv1.Budget, error) {
	b := *s.DefaultBudget.DeepCopy()
	overlay(&b, stage.Spec.Budget)
	if sb.Spec.Budget != nil {
		for _, f := range budgetFields(*sb.Spec.Budget, b) {
			if f.asked != nil && f.allowed != nil && f.asked.Cmp(*f.allowed) > 0 {
				return b, &BudgetError{Reason: fmt.Sprintf("spec.budget.%s %s is more than stage %q allows (%s): lower it, or move to another stage",
					f.name, f.asked.String(), stage.Name, f.allowed.String())}
			}
		}
		overlay(&b, *sb.Spec.Budget)
	}
	for _, f := range budgetFields(b, s.MaxBudget) {
		if f.asked != nil && f.allowed != nil && f.asked.Cmp(*f.allowed) > 0 {
			return b, &BudgetError{Reason: fmt.Sprintf("budget.%s %s (from stage %q or the sandbox) is more than this cluster's maximum per sandbox (%s): lower it in the stage or the sandbox",
				f.name, f.asked.String(), stage.Name, f.allowed.String())}
		}
	}
	return b, nil
}

// checkFits refuses a stack that its budget cannot hold: the quota would
// refuse its pods or claims, and the sandbox would wait with no word of why.
// Every replica counts with its limits, and so does one more pod of the
// largest Deployment, which a rolling update starts before it stops the old
// one. The replicas are those of the running stack, also while suspended.
func checkFits(components []Component, b sandboxv1.Budget) error {
	var cpu, memory, storage, surgeCPU, surgeMemory resource.Quantity
	var pods, surge int64
	for _, c := range components {
		replicas := int64(ptr.Deref(c.Component.Replicas, 1))
		podCPU, podMemory := limitsOf(c)
		for range replicas {
			cpu.Add(podCPU)
			memory.Add(podMemory)
		}
		pods += replicas
		if hasDataVolume(c.Type) {
			// A StatefulSet replaces its pod rather than surge.
			if v := dataVolume(c.Component); !v.Ephemeral {
				storage.Add(v.Storage)
			}
			continue
		}
		if replicas > 0 {
			surge = 1
			if podCPU.Cmp(surgeCPU) > 0 {
				surgeCPU = podCPU
			}
			if podMemory.Cmp(surgeMemory) > 0 {
				surgeMemory = podMemory
			}
		}
	}
	cpu.Add(surgeCPU)
	memory.Add(surgeMemory)
	pods += surge
	const rollout = "the limits of every replica, and of one more pod while a Deployment rolls out"
	for _, f := range []struct {
		name, what  string
		need, allow *resource.Quantity
	}{
		{"cpu", rollout, &cpu, b.CPU},
		{"memory", rollout, &memory, b.Memory},
		{"storage", "the Postgres data and Workspace home volumes", &storage, b.Storage},
		{"pods", "every replica, and one more while a Deployment rolls out", resource.NewQuantity(pods, resource.DecimalSI), podsQuantity(b.Pods)},
	} {
		if f.allow != nil && f.need.Cmp(*f.allow) > 0 {
			return &BudgetError{Reason: fmt.Sprintf("the stack needs %s %s (%s) but budget.%s is %s: "+
				"raise budget.%s, or lower the replicas, resources or storage of its components",
				f.need.String(), f.name, f.what, f.name, f.allow.String(), f.name)}
		}
	}
	return nil
}

// limitsOf is the CPU and memory limit of one pod of the component: its
// main container's limits, else its requests, else the LimitRange's default.
func limitsOf(c Component) (cpu, memory resource.Quantity) {
	res := typeResources[c.Type]
	if c.Resources != nil {
		res = *c.Resources
	}
	limit := func(name corev1.ResourceName, def string) resource.Quantity {
		if q, ok := res.Limits[name]; ok {
			return q
		}
		if q, ok := res.Requests[name]; ok {
			return q
		}
		return resource.MustParse(def)
	}
	return limit(corev1.ResourceCPU, defaultContainerCPU), limit(corev1.ResourceMemory, defaultContainerMemory)
}

func overlay(dst *sandboxv1.Budget, src sandboxv1.Budget) {
	if src.CPU != nil {
		dst.CPU = src.CPU
	}
	if src.Memory != nil {
		dst.Memory = src.Memory
	}
	if src.Storage != nil {
		dst.Storage = src.Storage
	}
	if src.Pods != nil {
		dst.Pods = src.Pods
	}
}

type budgetField struct {
	name           string
	asked, allowed *resource.Quantity
}

func budgetFields(asked, allowed sandboxv1.Budget) []budgetField {
	return []budgetField{
		{"cpu", asked.CPU, allowed.CPU},
		{"memory", asked.Memory, allowed.Memory},
		{"storage", asked.Storage, allowed.Storage},
		{"pods", podsQuantity(asked.Pods), podsQuantity(allowed.Pods)},
	}
}

func podsQuantity(p *int32) *resource.Quantity {
	if p == nil {
		return nil
	}
	return resource.NewQuantity(int64(*p), resource.DecimalSI)
}

// isolation fences the sandbox in: a quota and limits from its budget,
// NetworkPolicies that deny all but its own traffic, DNS and the ingress
// controller, and the learner's ServiceAccount and RoleBinding.
func (r *renderer) isolation(b sandboxv1.Budget, components []Component) []Object {
	objs := []Object{r.quota(b), r.limitRange(b)}
	objs = append(objs, r.networkPolicies(components)...)
	return append(objs, r.learnerServiceAccount(), r.learnerRoleBinding())
}

func (r *renderer) quota(b sandboxv1.Budget) *corev1ac.ResourceQuotaApplyConfiguration {
	hard := corev1.ResourceList{
		corev1.ResourceRequestsCPU:            *b.CPU,
		corev1.ResourceLimitsCPU:              *b.CPU,
		corev1.ResourceRequestsMemory:         *b.Memory,
		corev1.ResourceLimitsMemory:           *b.Memory,
		corev1.ResourceRequestsStorage:        *b.Storage,
		corev1.ResourcePods:                   *podsQuantity(b.Pods),
		corev1.ResourcePersistentVolumeClaims: *resource.NewQuantity(maxClaimsPerSandbox, resource.DecimalSI),
		corev1.ResourceServicesNodePorts:      *resource.NewQuantity(0, resource.DecimalSI),
		corev1.ResourceServicesLoadBalancers:  *resource.NewQuantity(0, resource.DecimalSI),
	}
	return corev1ac.ResourceQuota(QuotaName, r.namespace).
		WithLabels(r.labels("")).
		WithOwnerReferences(OwnerReference(r.sandbox)).
		WithSpec(corev1ac.ResourceQuotaSpec().WithHard(hard))
}

// objectQuota bounds the objects of each kind in the namespace: they cost the
// API server and etcd, whatever they run. While a quota counts a kind, every
// create of that kind also writes the quota's status, and conflicts with
// the other creates that do; rendered after the stack, it is in place before
// the learner gets in, and the operator's own creates do not pay for it.
func (r *renderer) objectQuota() *corev1ac.ResourceQuotaApplyConfiguration {
	hard := corev1.ResourceList{}
	for name, n := range objectCounts {
		hard[name] = *resource.NewQuantity(n, resource.DecimalSI)
	}
	return corev1ac.ResourceQuota(ObjectQuotaName, r.namespace).
		WithLabels(r.labels("")).
		WithOwnerReferences(OwnerReference(r.sandbox)).
		WithSpec(corev1ac.ResourceQuotaSpec().WithHard(hard))
}

// limitRange gives the learner's own containers defaults, so that the quota
// admits them, and caps any one container or claim at the whole budget.
func (r *renderer) limitRange(b sandboxv1.Budget) *corev1ac.LimitRangeApplyConfiguration {
	atMost := func(def string, max resource.Quantity) resource.Quantity {
		q := resource.MustParse(def)
		if q.Cmp(max) > 0 {
			return max
		}
		return q
	}
	cpuLimit, memLimit := atMost(defaultContainerCPU, *b.CPU), atMost(defaultContainerMemory, *b.Memory)
	return corev1ac.LimitRange(LimitRangeName, r.namespace).
		WithLabels(r.labels("")).
		WithOwnerReferences(OwnerReference(r.sandbox)).
		WithSpec(corev1ac.LimitRangeSpec().WithLimits(
			corev1ac.LimitRangeItem().
				WithType(corev1.LimitTypeContainer).
				WithDefault(corev1.ResourceList{corev1.ResourceCPU: cpuLimit, corev1.ResourceMemory: memLimit}).
				WithDefaultRequest(corev1.ResourceList{
					corev1.ResourceCPU:    atMost(defaultRequestCPU, cpuLimit),
					corev1.ResourceMemory: atMost(defaultRequestMemory, memLimit),
				}).
				WithMax(corev1.ResourceList{corev1.ResourceCPU: *b.CPU, corev1.ResourceMemory: *b.Memory}),
			corev1ac.LimitRangeItem().
				WithType(corev1.LimitTypePersistentVolumeClaim).
				WithMax(corev1.ResourceList{corev1.ResourceStorage: *b.Storage}),
		))
}

// networkPolicies deny every connection in and out of the sandbox's pods
// but those between them, to the cluster's DNS, and from the ingress
// controller's namespace to the web-facing components (Nginx and App), never
// to the databases. A learner's pods can never reach another sandbox.
func (r *renderer) networkPolicies(components []Component) []Object {
	all := metav1ac.LabelSelector()
	policy := func(name string) *networkingv1ac.NetworkPolicyApplyConfiguration {
		return networkingv1ac.NetworkPolicy(name, r.namespace).
			WithLabels(r.labels("")).
			WithOwnerReferences(OwnerReference(r.sandbox))
	}
	namespaceNamed := func(ns string) *metav1ac.LabelSelectorApplyConfiguration {
		return metav1ac.LabelSelector().WithMatchLabels(map[string]string{namespaceNameLabel: ns})
	}
	dnsPort := func(proto corev1.Protocol) *networkingv1ac.NetworkPolicyPortApplyConfiguration {
		return networkingv1ac.NetworkPolicyPort().WithProtocol(proto).WithPort(intstr.FromInt32(53))
	}
	objs := []Object{
		policy(DenyAllPolicy).WithSpec(networkingv1ac.NetworkPolicySpec().
			WithPodSelector(all).
			WithPolicyTypes(networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress)),
		policy(AllowWithinPolicy).WithSpec(networkingv1ac.NetworkPolicySpec().
			WithPodSelector(all).
			WithPolicyTypes(networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress).
			WithIngress(networkingv1ac.NetworkPolicyIngressRule().
				WithFrom(networkingv1ac.NetworkPolicyPeer().WithPodSelector(metav1ac.LabelSelector()))).
			WithEgress(networkingv1ac.NetworkPolicyEgressRule().
				WithTo(networkingv1ac.NetworkPolicyPeer().WithPodSelector(metav1ac.LabelSelector())))),
		policy(AllowDNSPolicy).WithSpec(networkingv1ac.NetworkPolicySpec().
			WithPodSelector(all).
			WithPolicyTypes(networkingv1.PolicyTypeEgress).
			WithEgress(networkingv1ac.NetworkPolicyEgressRule().
				WithTo(networkingv1ac.NetworkPolicyPeer().
					WithNamespaceSelector(namespaceNamed("kube-system")).
					WithPodSelector(metav1ac.LabelSelector().WithMatchLabels(map[string]string{"k8s-app": "kube-dns"}))).
				WithPorts(dnsPort(corev1.ProtocolUDP), dnsPort(corev1.ProtocolTCP)))),
	}
	var web []string
	for _, c := range components {
		if c.Type == sandboxv1.ComponentNginx || c.Type == sandboxv1.ComponentApp {
			web = append(web, c.Name)
		}
	}
	if r.settings.IngressNamespace != "" && len(web) > 0 {
		objs = append(objs, policy(AllowIngressCtrlPolicy).WithSpec(networkingv1ac.NetworkPolicySpec().
			WithPodSelector(metav1ac.LabelSelector().WithMatchExpressions(metav1ac.LabelSelectorRequirement().
				WithKey(sandboxv1.ComponentLabel).WithOperator(metav1.LabelSelectorOpIn).WithValues(web...))).
			WithPolicyTypes(networkingv1.PolicyTypeIngress).
			WithIngress(networkingv1ac.NetworkPolicyIngressRule().
				WithFrom(networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(namespaceNamed(r.settings.IngressNamespace))))))
	}
	if p := r.operatorChecksPolicy(components); p != nil {
		objs = append(objs, p)
	}
	if p := r.workspaceEgressPolicy(components); p != nil {
		objs = append(objs, p)
	}
	return objs
}

// workspaceEgressPolicy lets the Workspace pods, and no other pod of the
// sandbox, reach addresses outside the cluster on ports 80 and 443, so that
// package managers (npm, pip, go, maven) work, when the platform allows it.
// The cluster's ranges and link-local are excepted: the API server, the
// kubelets, the neighbours' pods and the cloud's metadata service stay out
// of reach.
func (r *renderer) workspaceEgressPolicy(components []Component) Object {
	if !r.settings.WorkspaceEgress {
		return nil
	}
	var names []string
	for _, c := range components {
		if c.Type == sandboxv1.ComponentWorkspace {
			names = append(names, c.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	port := func(p int32) *networkingv1ac.NetworkPolicyPortApplyConfiguration {
		return networkingv1ac.NetworkPolicyPort().WithProtocol(corev1.ProtocolTCP).WithPort(intstr.FromInt32(p))
	}
	return networkingv1ac.NetworkPolicy(AllowWorkspaceEgress, r.namespace).
		WithLabels(r.labels("")).
		WithOwnerReferences(OwnerReference(r.sandbox)).
		WithSpec(networkingv1ac.NetworkPolicySpec().
			WithPodSelector(metav1ac.LabelSelector().WithMatchExpressions(metav1ac.LabelSelectorRequirement().
				WithKey(sandboxv1.ComponentLabel).WithOperator(metav1.LabelSelectorOpIn).WithValues(names...))).
			WithPolicyTypes(networkingv1.PolicyTypeEgress).
			WithEgress(networkingv1ac.NetworkPolicyEgressRule().
				WithTo(networkingv1ac.NetworkPolicyPeer().WithIPBlock(networkingv1ac.IPBlock().
					WithCIDR("0.0.0.0/0").
					WithExcept(r.settings.egressExcept()...))).
				WithPorts(port(80), port(443))))
}

// operatorChecksPolicy admits the operator's pods to the components that the
// stage's exercises check, on those components' ports only, and nothing else.
// A NetworkPolicy rule cannot tie a port to some of the pods it selects, so
// the rule's ports are those of all checked components; each pod listens on
// its own. When the operator runs outside the cluster, its checks come from
// the node's or host's address, which NetworkPolicy does not govern (kube-router
// lets a node reach its pods): then no policy is needed, and none would help.
func (r *renderer) operatorChecksPolicy(components []Component) Object {
	if r.settings.OperatorNamespace == "" || r.stage == nil {
		return nil
	}
	checked := map[string]bool{}
	for _, e := range r.stage.Spec.Exercises {
		for _, name := range CheckedComponents(e.Check) {
			checked[name] = true
		}
	}
	var names []string
	var ports []*networkingv1ac.NetworkPolicyPortApplyConfiguration
	seenPort := map[int32]bool{}
	for _, c := range components {
		if !checked[c.Name] {
			continue
		}
		names = append(names, c.Name)
		if p := CheckPort(c); !seenPort[p] {
			seenPort[p] = true
			ports = append(ports, networkingv1ac.NetworkPolicyPort().WithProtocol(corev1.ProtocolTCP).WithPort(intstr.FromInt32(p)))
		}
	}
	if len(names) == 0 {
		return nil
	}
	return networkingv1ac.NetworkPolicy(AllowOperatorChecks, r.namespace).
		WithLabels(r.labels("")).
		WithOwnerReferences(OwnerReference(r.sandbox)).
		WithSpec(networkingv1ac.NetworkPolicySpec().
			WithPodSelector(metav1ac.LabelSelector().WithMatchExpressions(metav1ac.LabelSelectorRequirement().
				WithKey(sandboxv1.ComponentLabel).WithOperator(metav1.LabelSelectorOpIn).WithValues(names...))).
			WithPolicyTypes(networkingv1.PolicyTypeIngress).
			WithIngress(networkingv1ac.NetworkPolicyIngressRule().
				WithFrom(networkingv1ac.NetworkPolicyPeer().
					WithNamespaceSelector(metav1ac.LabelSelector().WithMatchLabels(map[string]string{namespaceNameLabel: r.settings.OperatorNamespace})).
					WithPodSelector(metav1ac.LabelSelector().WithMatchLabels(r.settings.OperatorPodLabels))).
				WithPorts(ports...)))
}

// learnerServiceAccount is who the learner's kubeconfig acts as. It mounts no
// token into pods: the learner's tokens are short-lived, from TokenRequest.
func (r *renderer) learnerServiceAccount() *corev1ac.ServiceAccountApplyConfiguration {
	return corev1ac.ServiceAccount(LearnerName, r.namespace).
		WithLabels(r.labels("")).
		WithOwnerReferences(OwnerReference(r.sandbox)).
		WithAutomountServiceAccountToken(false)
}

// learnerRoleBinding grants the learner ClusterRole, in this namespace only, to
// the learner's users and groups and to the learner ServiceAccount.
func (r *renderer) learnerRoleBinding() *rbacv1ac.RoleBindingApplyConfiguration {
	learner := r.sandbox.Spec.Learner
	subjects := make([]*rbacv1ac.SubjectApplyConfiguration, 0, len(learner.Users)+len(learner.Groups)+1)
	for _, u := range learner.Users {
		subjects = append(subjects, rbacv1ac.Subject().WithKind(rbacv1.UserKind).WithAPIGroup(rbacv1.GroupName).WithName(u))
	}
	for _, g := range learner.Groups {
		subjects = append(subjects, rbacv1ac.Subject().WithKind(rbacv1.GroupKind).WithAPIGroup(rbacv1.GroupName).WithName(g))
	}
	subjects = append(subjects, rbacv1ac.Subject().WithKind(rbacv1.ServiceAccountKind).WithName(LearnerName).WithNamespace(r.namespace))
	return rbacv1ac.RoleBinding(LearnerName, r.namespace).
		WithLabels(r.labels("")).
		WithOwnerReferences(OwnerReference(r.sandbox)).
		WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup(rbacv1.GroupName).WithKind("ClusterRole").WithName(r.settings.LearnerClusterRole)).
		WithSubjects(subjects...)
}
