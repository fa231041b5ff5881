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
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// The isolation tests: what a learner can and cannot do, and the fences
// (quota, limits, NetworkPolicies, Pod Security) around each sandbox.

// accessSubject is someone the API server authorizes: a user and their groups.
type accessSubject struct {
	what   string
	user   string
	groups []string
	// stranger is the same kind of subject without the learner's rights: what
	// anyone authenticated may do anyway, to tell apart what the sandbox grants.
	stranger *accessSubject
}

// learnerSubjects are the three ways into a sandbox: a user of
// spec.learner.users, a member of a group of spec.learner.groups, and the
// learner ServiceAccount that the kubeconfig acts as.
func learnerSubjects(id, user, group, ns string) []accessSubject {
	authenticated := "system:authenticated"
	saGroups := []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, authenticated}
	member := id + "-member@example.edu"
	return []accessSubject{
		{what: "user", user: user, groups: []string{authenticated},
			stranger: &accessSubject{user: id + "-stranger@example.edu", groups: []string{authenticated}}},
		{what: "group member", user: member, groups: []string{group, authenticated},
			stranger: &accessSubject{user: member, groups: []string{authenticated}}},
		{what: "ServiceAccount", user: "system:serviceaccount:" + ns + ":" + stack.LearnerName, groups: saGroups,
			stranger: &accessSubject{user: "system:serviceaccount:" + ns + ":default", groups: saGroups}},
	}
}

// apiAccess is one request a subject may or may not make.
type apiAccess struct {
	verb, group, resource, subresource, namespace, name string
}

func (a apiAccess) String() string {
	res := a.resource
	if a.group != "" {
		res += "." + a.group
	}
	if a.subresource != "" {
		res += "/" + a.subresource
	}
	if a.name != "" {
		res += " " + a.name
	}
	where := "cluster-wide"
	if a.namespace != "" {
		where = "in " + a.namespace
	}
	return fmt.Sprintf("%s %s %s", a.verb, res, where)
}

// allowed asks the API server's authorizer, with a SubjectAccessReview,
// whether the subject may make the request.
func allowed(g Gomega, s accessSubject, a apiAccess) bool {
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   s.user,
		Groups: s.groups,
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: a.namespace, Verb: a.verb, Group: a.group, Resource: a.resource,
			Subresource: a.subresource, Name: a.name,
		},
	}}
	g.Expect(k8sClient.Create(context.Background(), sar)).To(Succeed())
	return sar.Status.Allowed
}

// groupResource is a resource, possibly with a subresource, of an API group.
type groupResource struct{ group, resource, subresource string }

var (
	readVerbs  = []string{"get", "list", "watch"}
	writeVerbs = []string{"create", "update", "patch", "delete"}
	crudVerbs  = append(slices.Clone(readVerbs), writeVerbs...)
	// workloadResources are what a learner runs their own things with.
	workloadResources = []groupResource{
		{"", "pods", ""}, {"", "services", ""}, {"", "configmaps", ""}, {"", "secrets", ""},
		{"", "persistentvolumeclaims", ""}, {"apps", "deployments", ""}, {"apps", "statefulsets", ""},
		{"apps", "replicasets", ""}, {"batch", "jobs", ""}, {"batch", "cronjobs", ""},
	}
	// fenceResources are what keeps a sandbox in: a learner reads them, never writes them.
	fenceResources = []groupResource{
		{"", "resourcequotas", ""}, {"", "limitranges", ""}, {"networking.k8s.io", "networkpolicies", ""},
	}
)

// accesses is every combination of the verbs and resources, in the namespace.
func accesses(ns string, verbs []string, resources ...groupResource) []apiAccess {
	var out []apiAccess
	for _, r := range resources {
		for _, v := range verbs {
			out = append(out, apiAccess{verb: v, group: r.group, resource: r.resource, subresource: r.subresource, namespace: ns})
		}
	}
	return out
}

// learnerAllowed is what a learner may do in their own namespace, as the
// permission matrix checks it.
func learnerAllowed(ns string) []apiAccess {
	out := accesses(ns, crudVerbs, workloadResources...)
	out = append(out, accesses(ns, []string{"get"}, groupResource{"", "pods", "log"})...)
	out = append(out, accesses(ns, []string{"create"}, groupResource{"", "pods", "exec"}, groupResource{"", "pods", "portforward"})...)
	out = append(out, accesses(ns, []string{"get", "list"}, append(slices.Clone(fenceResources),
		groupResource{"", "events", ""}, groupResource{"events.k8s.io", "events", ""})...)...)
	return out
}

// learnerDenied is what a learner may not do in their own namespace: lift
// their fences, grant themselves more, attach to a pod, mint tokens, publish
// host names on the shared ingress controller, or run on every node.
func learnerDenied(ns string) []apiAccess {
	out := accesses(ns, writeVerbs, append(slices.Clone(fenceResources),
		groupResource{"rbac.authorization.k8s.io", "roles", ""}, groupResource{"rbac.authorization.k8s.io", "rolebindings", ""},
		groupResource{"", "serviceaccounts", ""})...)
	out = append(out, accesses(ns, []string{"escalate", "bind"}, groupResource{"rbac.authorization.k8s.io", "roles", ""})...)
	out = append(out, accesses(ns, []string{"get", "create"}, groupResource{"", "pods", "attach"})...)
	out = append(out, accesses(ns, []string{"update", "patch"}, groupResource{"", "pods", "ephemeralcontainers"})...)
	out = append(out, accesses(ns, []string{"create"}, groupResource{"", "serviceaccounts", "token"}, groupResource{"", "pods", "eviction"})...)
	out = append(out, accesses(ns, crudVerbs, groupResource{"networking.k8s.io", "ingresses", ""}, groupResource{"apps", "daemonsets", ""})...)
	return out
}

// learnerRights is every (verb, resource) that the sandbox grants its
// learner in their namespace, as config/learner/learner_role.yaml intends:
// full use of their workloads (with deletecollection and the scale
// subresources), logs, exec and port-forward, and reading (only) the fences,
// events, endpoints and ServiceAccounts. Anything more is a mistake.
func learnerRights() sets.Set[string] {
	all := []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
	rights := sets.New[string]()
	add := func(verbs []string, resources ...string) {
		for _, r := range resources {
			for _, v := range verbs {
				rights.Insert(v + " " + r)
			}
		}
	}
	add(all, "pods", "services", "configmaps", "secrets", "persistentvolumeclaims",
		"deployments.apps", "statefulsets.apps", "replicasets.apps", "deployments.apps/scale", "statefulsets.apps/scale",
		"jobs.batch", "cronjobs.batch")
	add([]string{"get"}, "pods/log")
	add([]string{"get", "create"}, "pods/exec", "pods/portforward")
	add(readVerbs, "events", "endpoints", "resourcequotas", "limitranges", "serviceaccounts",
		"networkpolicies.networking.k8s.io", "events.events.k8s.io")
	return rights
}

// rightsIn is every (verb, resource[/name]) that the subject may use in the
// namespace, as `kubectl auth can-i --list --as` shows them: a
// SelfSubjectRulesReview made as the subject. A wildcard shows as "*".
func rightsIn(g Gomega, s accessSubject, ns string) sets.Set[string] {
	c := impersonatingClient(g, s.user, s.groups...)
	review := &authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: ns}}
	g.Expect(c.Create(context.Background(), review)).To(Succeed())
	g.Expect(review.Status.Incomplete).To(BeFalse(), "rules review of %s: %s", s.user, review.Status.EvaluationError)
	rights := sets.New[string]()
	for _, rule := range review.Status.ResourceRules {
		for _, group := range rule.APIGroups {
			for _, res := range rule.Resources {
				name := res
				if group != "" {
					base, sub, hasSub := strings.Cut(res, "/")
					name = base + "." + group
					if hasSub {
						name += "/" + sub
					}
				}
				for _, verb := range rule.Verbs {
					if len(rule.ResourceNames) == 0 {
						rights.Insert(verb + " " + name)
					}
					for _, rn := range rule.ResourceNames {
						rights.Insert(verb + " " + name + " " + rn)
					}
				}
			}
		}
	}
	return rights
}

// impersonatingClient is a client that acts as the user, with the admin's
// right to impersonate; no groups: just system:authenticated.
func impersonatingClient(g Gomega, user string, groups ...string) client.Client {
	cfg := rest.CopyConfig(restConfig)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
	c, err := client.New(cfg, client.Options{Scheme: k8sClient.Scheme()})
	g.Expect(err).NotTo(HaveOccurred())
	return c
}

// expectForbidden checks that the API server refused a request for want of permission.
func expectForbidden(g Gomega, err error, what string) {
	g.Expect(err).To(HaveOccurred(), "%s was allowed", what)
	g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%s: not Forbidden: %v", what, err)
}

// TestLearnerHasExactlyTheIntendedPermissions: the learner's user, a member
// of the learner's group and the learner ServiceAccount may work freely in
// their own namespace and do nothing else: not lift their fences, not touch
// their namespace, a neighbour's, `default`, other namespaces' objects or the
// sandboxes themselves. The whole set of their rights is the intended one, so
// that an accidental extra permission fails the test too.
func TestLearnerHasExactlyTheIntendedPermissions(t *testing.T) {
	g := newG(t)
	ensureBuiltinStage(t, "fundamentals")
	id := uniqueName("perm")
	user, group := id+"@example.edu", id+"-group"
	sb := createSandbox(t, "perm", "fundamentals", func(sb *sandboxv1.LearningSandbox) {
		sb.Spec.Learner.Users = []string{user}
		sb.Spec.Learner.Groups = []string{group}
	})
	neighbour := createSandbox(t, "neighbour", "fundamentals", func(sb *sandboxv1.LearningSandbox) {
		sb.Spec.Learner.Users = []string{id + "-neighbour@example.edu"}
	})
	ns, neighbourNS := namespaceOf(sb.Name), namespaceOf(neighbour.Name)
	subjects := learnerSubjects(id, user, group, ns)
	neighbourUser := accessSubject{what: "neighbour", user: id + "-neighbour@example.edu", groups: []string{"system:authenticated"}}

	// Both RoleBindings are in place: each learner may list the pods of
	// their own namespace (the control for what follows).
	g.Eventually(func(g Gomega) {
		for _, s := range subjects {
			g.Expect(allowed(g, s, apiAccess{verb: "list", resource: "pods", namespace: ns})).To(BeTrue(), s.what)
		}
		g.Expect(allowed(g, neighbourUser, apiAccess{verb: "list", resource: "pods", namespace: neighbourNS})).To(BeTrue())
	}).Should(Succeed())

	type row struct {
		access apiAccess
		want   bool
	}
	var table []row
	add := func(want bool, as ...apiAccess) {
		for _, a := range as {
			table = append(table, row{a, want})
		}
	}
	add(true, learnerAllowed(ns)...)
	add(false, learnerDenied(ns)...)
	// The namespace object itself: the API server authorizes GET
	// /api/v1/namespaces/<ns> in namespace <ns>; ask both ways.
	for _, in := range []string{"", ns} {
		for _, a := range accesses(in, []string{"get", "update", "patch", "delete"}, groupResource{"", "namespaces", ""}) {
			a.name = ns
			add(false, a)
		}
	}
	// Anything they may do at home, they may not do next door or in default.
	for _, elsewhere := range []string{neighbourNS, "default"} {
		add(false, learnerAllowed(elsewhere)...)
	}
	add(false, accesses("", []string{"list", "watch"},
		groupResource{"", "pods", ""}, groupResource{"", "namespaces", ""}, groupResource{"", "secrets", ""})...)
	add(false, accesses("", crudVerbs, groupResource{"sandbox.learning.dev", "learningsandboxes", ""})...)
	add(false, accesses("", []string{"update", "patch"}, groupResource{"sandbox.learning.dev", "learningsandboxes", "status"})...)
	add(false, accesses("", writeVerbs, groupResource{"sandbox.learning.dev", "roadmapstages", ""})...)

	for _, s := range subjects {
		var wrong []string
		for _, r := range table {
			if got := allowed(g, s, r.access); got != r.want {
				wrong = append(wrong, fmt.Sprintf("%s: allowed=%t, want %t", r.access, got, r.want))
			}
		}
		g.Expect(wrong).To(BeEmpty(), "the learner %s %s", s.what, s.user)
	}

	// As a whole: what the sandbox grants in the namespace is exactly the intended set.
	want := learnerRights()
	for _, s := range subjects {
		granted := rightsIn(g, s, ns).Difference(rightsIn(g, *s.stranger, ns))
		g.Expect(sets.List(granted.Difference(want))).To(BeEmpty(), "the learner %s has rights not intended", s.what)
		g.Expect(sets.List(want.Difference(granted))).To(BeEmpty(), "the learner %s lacks intended rights", s.what)
		// and nothing next door
		g.Expect(sets.List(rightsIn(g, s, neighbourNS).Difference(rightsIn(g, *s.stranger, neighbourNS)))).
			To(BeEmpty(), "the learner %s has rights in a neighbour's namespace", s.what)
	}
}

// jwtClaims are the claims of a service account token that the tests read.
type jwtClaims struct {
	Exp int64  `json:"exp"`
	Iat int64  `json:"iat"`
	Sub string `json:"sub"`
}

// tokenClaims decodes the payload of a JWT, without verifying it.
func tokenClaims(g Gomega, token string) jwtClaims {
	parts := strings.Split(token, ".")
	g.Expect(parts).To(HaveLen(3), "a JWT has three parts")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	g.Expect(err).NotTo(HaveOccurred())
	var c jwtClaims
	g.Expect(json.Unmarshal(payload, &c)).To(Succeed())
	return c
}

// kubeconfigToken is what the operator wrote for a sandbox's learner: the
// kubeconfig, its token, and the Secret's token-issued-at and token-expires-at.
type kubeconfigToken struct {
	kubeconfig      []byte
	token           string
	issued, expires time.Time
}

// learnerKubeconfig reads the kubeconfig the operator wrote for a sandbox.
func learnerKubeconfig(g Gomega, ns string) kubeconfigToken {
	secret := &corev1.Secret{}
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: stack.KubeconfigSecretName}, secret)).To(Succeed())
	kc := kubeconfigToken{kubeconfig: secret.Data["kubeconfig"]}
	g.Expect(kc.kubeconfig).NotTo(BeEmpty())
	cfg, err := clientcmd.Load(kc.kubeconfig)
	g.Expect(err).NotTo(HaveOccurred())
	current := cfg.Contexts[cfg.CurrentContext]
	g.Expect(current).NotTo(BeNil(), "the kubeconfig has a current context")
	g.Expect(current.Namespace).To(Equal(ns), "kubectl works in the sandbox namespace by default")
	g.Expect(cfg.AuthInfos).To(HaveKey(current.AuthInfo))
	kc.token = cfg.AuthInfos[current.AuthInfo].Token
	kc.issued, err = time.Parse(time.RFC3339, secret.Annotations["sandbox.learning.dev/token-issued-at"])
	g.Expect(err).NotTo(HaveOccurred(), "the Secret says when its token was issued")
	kc.expires, err = time.Parse(time.RFC3339, secret.Annotations["sandbox.learning.dev/token-expires-at"])
	g.Expect(err).NotTo(HaveOccurred(), "the Secret says when its token expires")
	return kc
}

// expectTokenLifetime checks that the token lives between min and max and
// that the Secret's annotations say as much.
func expectTokenLifetime(g Gomega, kc kubeconfigToken, minimum, maximum time.Duration) {
	claims := tokenClaims(g, kc.token)
	exp, iat := time.Unix(claims.Exp, 0), time.Unix(claims.Iat, 0)
	g.Expect(exp).To(BeTemporally(">", time.Now()), "the token has not expired")
	g.Expect(exp.Sub(iat)).To(BeNumerically(">=", minimum))
	g.Expect(exp.Sub(iat)).To(BeNumerically("<=", maximum))
	g.Expect(kc.expires.Sub(kc.issued)).To(Equal(exp.Sub(iat)), "the Secret says how long its token lives")
}

// TestLearnerKubeconfig: with spec.access.kubeconfig the learner gets a
// kubeconfig that works in their namespace and nowhere else, whose token is
// short-lived and never outlives the sandbox; no long-lived token exists; and
// turning access off takes the kubeconfig away.
func TestLearnerKubeconfig(t *testing.T) {
	g := newG(t)
	ensureBuiltinStage(t, "fundamentals")
	sb := createSandbox(t, "kubeconfig", "fundamentals", func(sb *sandboxv1.LearningSandbox) {
		sb.Spec.Access.Kubeconfig = true
	})
	neighbour := createSandbox(t, "kcneighbour", "fundamentals")
	ns := namespaceOf(sb.Name)

	g.Eventually(func(g Gomega) {
		g.Expect(getSandbox(g, sb.Name).Status.KubeconfigSecret).To(Equal("learner-kubeconfig"))
	}).Should(Succeed())
	kc := learnerKubeconfig(g, ns)

	cfg, err := clientcmd.RESTConfigFromKubeConfig(kc.kubeconfig)
	g.Expect(err).NotTo(HaveOccurred())
	learner, err := client.New(cfg, client.Options{Scheme: k8sClient.Scheme()})
	g.Expect(err).NotTo(HaveOccurred())
	g.Eventually(func() error {
		return learner.List(t.Context(), &corev1.PodList{}, client.InNamespace(ns))
	}).Should(Succeed(), "the kubeconfig lists the pods of its own namespace")
	for _, other := range []string{namespaceOf(neighbour.Name), "default"} {
		expectForbidden(g, learner.List(t.Context(), &corev1.PodList{}, client.InNamespace(other)), "listing the pods of "+other)
	}
	deny := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: stack.DenyAllPolicy}}
	expectForbidden(g, learner.Delete(t.Context(), deny), "deleting the default-deny NetworkPolicy")
	g.Expect(k8sClient.Get(t.Context(), client.ObjectKeyFromObject(deny), deny)).To(Succeed())

	g.Expect(tokenClaims(g, kc.token).Sub).To(Equal("system:serviceaccount:" + ns + ":learner"))
	// A token lives the operator's TokenLifetime (1h in the suite).
	expectTokenLifetime(g, kc, time.Hour, time.Hour)

	secrets := &corev1.SecretList{}
	g.Expect(k8sClient.List(t.Context(), secrets, client.InNamespace(ns))).To(Succeed())
	for _, s := range secrets.Items {
		g.Expect(s.Type).NotTo(Equal(corev1.SecretTypeServiceAccountToken), "a long-lived token Secret %s", s.Name)
	}

	t.Run("the token never outlives the sandbox", func(t *testing.T) {
		g := newG(t)
		// The sandbox expires 30 minutes from now by the operator's clock,
		// which the expiry test may have stepped ahead of the real one.
		ttl := (30*time.Minute + time.Until(testClock.Now())).Truncate(time.Second)
		short := createSandbox(t, "kcttl", "fundamentals", func(sb *sandboxv1.LearningSandbox) {
			sb.Spec.Access.Kubeconfig = true
			sb.Spec.TTL = &metav1.Duration{Duration: ttl}
		})
		g.Eventually(func(g Gomega) {
			g.Expect(getSandbox(g, short.Name).Status.KubeconfigSecret).To(Equal(stack.KubeconfigSecretName))
		}).Should(Succeed())
		// As long as the sandbox has left, not 1h; at least TokenRequest's minimum.
		expectTokenLifetime(g, learnerKubeconfig(g, namespaceOf(short.Name)), 10*time.Minute, 30*time.Minute+time.Minute)

		// A token that lasts as long as the sandbox is never refreshed.
		expectNoWritesAfterReconcile(t, g, short.Name)
	})

	t.Run("the token is refreshed once a third of its life is left, then left alone", func(t *testing.T) {
		g := newG(t)
		restoreClockAfter(t)
		before := learnerKubeconfig(g, ns)
		life := before.expires.Sub(before.issued)

		// Half way through its life the token is kept: no write.
		testClock.SetTime(before.issued.Add(life / 2))
		expectNoWritesAfterReconcile(t, g, sb.Name)
		g.Expect(learnerKubeconfig(g, ns).token).To(Equal(before.token))

		// With less than a third left, it is replaced by a token that works.
		testClock.SetTime(before.issued.Add(life*2/3 + time.Minute))
		touchConnectionSecret(t, sb.Name)
		var after kubeconfigToken
		g.Eventually(func(g Gomega) {
			after = learnerKubeconfig(g, ns)
			g.Expect(after.token).NotTo(Equal(before.token))
		}).Should(Succeed())
		expectTokenLifetime(g, after, time.Hour, time.Hour)
		cfg, err := clientcmd.RESTConfigFromKubeConfig(after.kubeconfig)
		g.Expect(err).NotTo(HaveOccurred())
		refreshed, err := client.New(cfg, client.Options{Scheme: k8sClient.Scheme()})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(refreshed.List(t.Context(), &corev1.PodList{}, client.InNamespace(ns))).To(Succeed())

		// And the new token is not refreshed again at once.
		expectNoWritesAfterReconcile(t, g, sb.Name)
		g.Expect(learnerKubeconfig(g, ns).token).To(Equal(after.token))
	})

	t.Run("turning access off removes the kubeconfig", func(t *testing.T) {
		g := newG(t)
		editSandbox(t, g, sb.Name, func(sb *sandboxv1.LearningSandbox) { sb.Spec.Access.Kubeconfig = false })
		g.Eventually(func(g Gomega) {
			err := k8sClient.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: stack.KubeconfigSecretName}, &corev1.Secret{})
			g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the kubeconfig Secret: %v", err)
			cur := getSandbox(g, sb.Name)
			g.Expect(cur.Status.KubeconfigSecret).To(BeEmpty())
			g.Expect(cur.Status.ObservedGeneration).To(Equal(cur.Generation))
		}).Should(Succeed())
	})
}

// expectNoWritesAfterReconcile waits until the operator has stopped writing
// for a sandbox, makes it reconcile a few times, and expects no further write.
func expectNoWritesAfterReconcile(t *testing.T, g *WithT, sandbox string) {
	t.Helper()
	about := func() []string { return writes.about(sandbox, namespaceOf(sandbox)) }
	var settled []string
	g.Eventually(func(g Gomega) {
		settled = about()
		g.Consistently(about).WithTimeout(time.Second).Should(Equal(settled))
	}).Should(Succeed())
	for range 3 {
		reconciles := reconcileTotal(g)
		touchConnectionSecret(t, sandbox)
		g.Eventually(reconcileTotal).Should(BeNumerically(">", reconciles), "the change reconciles the sandbox")
	}
	g.Consistently(about).Should(Equal(settled), "the operator writes nothing more for %s", sandbox)
}

// quantities are the string forms of a resource list, to compare them by value.
func quantities(list corev1.ResourceList) map[corev1.ResourceName]string {
	out := make(map[corev1.ResourceName]string, len(list))
	for name, q := range list {
		out[name] = q.String()
	}
	return out
}

// quotaHard is what a sandbox's ResourceQuota allows for a budget.
func quotaHard(cpu, memory, storage string, pods int) map[corev1.ResourceName]string {
	return quantities(corev1.ResourceList{
		corev1.ResourceRequestsCPU:            resource.MustParse(cpu),
		corev1.ResourceLimitsCPU:              resource.MustParse(cpu),
		corev1.ResourceRequestsMemory:         resource.MustParse(memory),
		corev1.ResourceLimitsMemory:           resource.MustParse(memory),
		corev1.ResourceRequestsStorage:        resource.MustParse(storage),
		corev1.ResourcePods:                   *resource.NewQuantity(int64(pods), resource.DecimalSI),
		corev1.ResourcePersistentVolumeClaims: resource.MustParse("10"),
		corev1.ResourceServicesNodePorts:      resource.MustParse("0"),
		corev1.ResourceServicesLoadBalancers:  resource.MustParse("0"),
	})
}

// TestSandboxIsFencedIn: every sandbox has a quota and limits from its
// stage's budget (which the sandbox may lower, never raise) and
// NetworkPolicies that keep its traffic in, and its learner can loosen none of them.
func TestSandboxIsFencedIn(t *testing.T) {
	g := newG(t)
	ensureBuiltinStage(t, "databases")
	user := uniqueName("fenced") + "@example.edu"
	sb := createSandbox(t, "fenced", "databases", func(sb *sandboxv1.LearningSandbox) {
		sb.Spec.Learner.Users = []string{user}
	})
	ns := namespaceOf(sb.Name)
	ctx := t.Context()
	getQuota := func(g Gomega) *corev1.ResourceQuota {
		q := &corev1.ResourceQuota{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "sandbox-quota"}, q)).To(Succeed())
		return q
	}
	getLimits := func(g Gomega) *corev1.LimitRange {
		l := &corev1.LimitRange{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "sandbox-limits"}, l)).To(Succeed())
		return l
	}
	expectLimits := func(g Gomega, cpu, memory, storage string) {
		var container, claim corev1.LimitRangeItem
		for _, item := range getLimits(g).Spec.Limits {
			switch item.Type {
			case corev1.LimitTypeContainer:
				container = item
			case corev1.LimitTypePersistentVolumeClaim:
				claim = item
			}
		}
		g.Expect(quantities(container.Max)).To(Equal(quantities(corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory)})))
		g.Expect(container.Default).To(HaveKey(corev1.ResourceCPU), "containers without limits get defaults")
		g.Expect(container.DefaultRequest).To(HaveKey(corev1.ResourceMemory))
		g.Expect(quantities(claim.Max)).To(Equal(quantities(corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(storage)})))
	}

	// The databases stage's budget: cpu 3, memory 6Gi, storage 6Gi, 20 pods.
	g.Eventually(func(g Gomega) {
		g.Expect(quantities(getQuota(g).Spec.Hard)).To(Equal(quotaHard("3", "6Gi", "6Gi", 20)))
		expectLimits(g, "3", "6Gi", "6Gi")
	}).Should(Succeed())
	// And a bound on the objects of each kind, whatever the stage.
	g.Eventually(func(g Gomega) map[corev1.ResourceName]string {
		objects := &corev1.ResourceQuota{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: stack.ObjectQuotaName}, objects)).To(Succeed())
		return quantities(objects.Spec.Hard)
	}).Should(Equal(map[corev1.ResourceName]string{
		"services": "20", "secrets": "50", "configmaps": "50", "count/deployments.apps": "20",
		"count/statefulsets.apps": "5", "count/jobs.batch": "50", "count/cronjobs.batch": "10",
	}))

	t.Run("network policies deny all but the sandbox's own traffic, DNS and the ingress controller", func(t *testing.T) {
		g := newG(t)
		policies := map[string]networkingv1.NetworkPolicySpec{}
		g.Eventually(func(g Gomega) map[string]networkingv1.NetworkPolicySpec {
			list := &networkingv1.NetworkPolicyList{}
			g.Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
			clear(policies)
			for _, p := range list.Items {
				policies[p.Name] = p.Spec
			}
			return policies
		}).Should(HaveLen(4))
		everyPod := metav1.LabelSelector{}
		both := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}

		g.Expect(policies).To(HaveKeyWithValue("default-deny", networkingv1.NetworkPolicySpec{
			PodSelector: everyPod, PolicyTypes: both}), "no rule: nothing in, nothing out")

		g.Expect(policies).To(HaveKeyWithValue("allow-within-sandbox", networkingv1.NetworkPolicySpec{
			PodSelector: everyPod, PolicyTypes: both,
			Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{PodSelector: &everyPod}}}},
			Egress:  []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{PodSelector: &everyPod}}}},
		}), "a peer without a namespaceSelector is a pod of the same namespace")

		udp, tcp, dns := corev1.ProtocolUDP, corev1.ProtocolTCP, intstr.FromInt32(53)
		g.Expect(policies).To(HaveKeyWithValue("allow-dns", networkingv1.NetworkPolicySpec{
			PodSelector: everyPod, PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress: []networkingv1.NetworkPolicyEgressRule{{
				To: []networkingv1.NetworkPolicyPeer{{
					NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}},
					PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
				}},
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &dns}, {Protocol: &tcp, Port: &dns}},
			}},
		}))

		g.Expect(settings.IngressNamespace).To(Equal("ingress-nginx"), "the default setting")
		// Only to the web-facing components (the stage's App and Nginx), never to Postgres or Redis.
		g.Expect(policies).To(HaveKeyWithValue("allow-ingress-controller", networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
				Key: sandboxv1.ComponentLabel, Operator: metav1.LabelSelectorOpIn, Values: []string{"app", "web"}}}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "ingress-nginx"}},
			}}}},
		}))
	})

	t.Run("the learner cannot loosen their fences", func(t *testing.T) {
		g := newG(t)
		learner := impersonatingClient(g, user)
		// The control: the learner's rights are in place, they work in their namespace.
		notes := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "notes"}, Data: map[string]string{"todo": "learn sql"}}
		g.Eventually(func() error { return learner.Create(ctx, notes, client.DryRunAll) }).Should(Succeed())

		deny := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: stack.DenyAllPolicy}}
		expectForbidden(g, learner.Delete(ctx, deny), "deleting the default-deny NetworkPolicy")
		quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: stack.QuotaName}}
		expectForbidden(g, learner.Patch(ctx, quota, client.RawPatch(types.MergePatchType,
			[]byte(`{"spec":{"hard":{"pods":"1000"}}}`))), "raising the quota")
		namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
		expectForbidden(g, learner.Patch(ctx, namespace, client.RawPatch(types.MergePatchType,
			[]byte(`{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"privileged"}}}`))), "relabelling the namespace")

		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(deny), deny)).To(Succeed())
		g.Expect(quantities(getQuota(g).Spec.Hard)).To(Equal(quotaHard("3", "6Gi", "6Gi", 20)))
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(namespace), namespace)).To(Succeed())
		g.Expect(namespace.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))
	})

	t.Run("a sandbox's budget lowers its stage's", func(t *testing.T) {
		g := newG(t)
		editSandbox(t, g, sb.Name, func(sb *sandboxv1.LearningSandbox) {
			// Less than the stage's, and still room for its stack (2600m, 4224Mi and 7 pods with a rollout's).
			sb.Spec.Budget = &sandboxv1.Budget{CPU: new(resource.MustParse("2700m")), Memory: new(resource.MustParse("4608Mi")),
				Storage: new(resource.MustParse("3Gi")), Pods: new(int32(10))}
		})
		g.Eventually(func(g Gomega) {
			g.Expect(quantities(getQuota(g).Spec.Hard)).To(Equal(quotaHard("2700m", "4608Mi", "3Gi", 10)))
			expectLimits(g, "2700m", "4608Mi", "3Gi")
		}).Should(Succeed())
	})

	t.Run("a sandbox asking more than its stage stalls and changes nothing", func(t *testing.T) {
		g := newG(t)
		inNamespace := func() []string { return writes.about(ns) }
		var settled []string
		g.Eventually(func(g Gomega) {
			settled = inNamespace()
			g.Consistently(inNamespace).WithTimeout(time.Second).Should(Equal(settled))
		}).Should(Succeed())

		edited := editSandbox(t, g, sb.Name, func(sb *sandboxv1.LearningSandbox) {
			sb.Spec.Budget.Memory = new(resource.MustParse("8Gi"))
			sb.Spec.Budget.Pods = new(int32(50))
		})
		g.Eventually(func(g Gomega) {
			cur := getSandbox(g, sb.Name)
			g.Expect(cur.Status.ObservedGeneration).To(Equal(edited.Generation))
			stalled := condition(cur, sandboxv1.StalledCondition)
			g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(stalled.Reason).To(Equal(sandboxv1.ReasonBudgetExceeded))
			g.Expect(stalled.Message).To(ContainSubstring(`spec.budget.memory 8Gi is more than stage "databases" allows (6Gi): lower it`))
			g.Expect(condition(cur, sandboxv1.ReadyCondition).Status).To(Equal(metav1.ConditionFalse))
			g.Expect(cur.Status.Phase).To(Equal(sandboxv1.PhaseFailed))
		}).Should(Succeed())
		g.Consistently(func(g Gomega) {
			g.Expect(inNamespace()).To(Equal(settled), "the operator wrote nothing into the namespace")
			g.Expect(quantities(getQuota(g).Spec.Hard)).To(Equal(quotaHard("2700m", "4608Mi", "3Gi", 10)))
		}).Should(Succeed())

		// Within the stage's budget, but too small for the stack it runs: the
		// quota would refuse its pods, so the sandbox says what to change instead.
		edited = editSandbox(t, g, sb.Name, func(sb *sandboxv1.LearningSandbox) {
			sb.Spec.Budget = &sandboxv1.Budget{CPU: new(resource.MustParse("1"))}
		})
		g.Eventually(func(g Gomega) {
			cur := getSandbox(g, sb.Name)
			g.Expect(cur.Status.ObservedGeneration).To(Equal(edited.Generation))
			stalled := condition(cur, sandboxv1.StalledCondition)
			g.Expect(stalled.Reason).To(Equal(sandboxv1.ReasonBudgetExceeded))
			g.Expect(stalled.Message).To(ContainSubstring("the stack needs 2600m cpu"))
			g.Expect(stalled.Message).To(ContainSubstring("but budget.cpu is 1: raise budget.cpu, or lower the replicas, resources or storage"))
		}).Should(Succeed())
		g.Consistently(func(g Gomega) {
			g.Expect(inNamespace()).To(Equal(settled), "the operator wrote nothing into the namespace")
		}).Should(Succeed())
	})
}

// sandboxOfOwnLearner creates a fundamentals sandbox for a learner of its own and
// returns its namespace and a client that acts as that learner.
func sandboxOfOwnLearner(t *testing.T, g *WithT, prefix string) (string, client.Client) {
	t.Helper()
	ensureBuiltinStage(t, "fundamentals")
	user := uniqueName(prefix) + "@example.edu"
	sb := createSandbox(t, prefix, "fundamentals", func(sb *sandboxv1.LearningSandbox) {
		sb.Spec.Learner.Users = []string{user}
	})
	return namespaceOf(sb.Name), impersonatingClient(g, user)
}

// TestLearnerPodsMustBeRestricted: Pod Security admission refuses a
// privileged pod that the learner creates in their namespace, and admits one
// that meets "restricted".
func TestLearnerPodsMustBeRestricted(t *testing.T) {
	g := newG(t)
	ns, learner := sandboxOfOwnLearner(t, g, "psa-learner")

	restricted := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "mine"},
		Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot: new(true), RunAsUser: new(int64(1000)),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name: "shell", Image: "busybox:1.37", Command: []string{"sleep", "3600"},
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: new(false),
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
		},
	}
	privileged := restricted.DeepCopy()
	privileged.Name = "root"
	privileged.Spec.SecurityContext = nil
	privileged.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: new(true)}

	// The namespace's labels reach the admission plugin through its informer.
	g.Eventually(func(g Gomega) {
		err := learner.Create(t.Context(), privileged.DeepCopy(), client.DryRunAll)
		expectForbidden(g, err, "a privileged pod")
		g.Expect(err.Error()).To(ContainSubstring("violates PodSecurity"))
	}).Should(Succeed())
	err := learner.Create(t.Context(), privileged.DeepCopy())
	expectForbidden(g, err, "a privileged pod")
	g.Expect(err.Error()).To(ContainSubstring(`violates PodSecurity "restricted:latest"`))
	g.Expect(learner.Create(t.Context(), restricted, client.DryRunAll)).To(Succeed(), "a pod that meets restricted is admitted")

	pods := &corev1.PodList{}
	g.Expect(k8sClient.List(t.Context(), pods, client.InNamespace(ns))).To(Succeed())
	g.Expect(pods.Items).To(BeEmpty())
}

// TestLearnerCannotMakeALongLivedToken: a Secret of type
// kubernetes.io/service-account-token would get a token that never expires;
// the admission policy in config/learner refuses it in sandbox namespaces,
// while other Secrets, and such Secrets elsewhere, are untouched.
func TestLearnerCannotMakeALongLivedToken(t *testing.T) {
	g := newG(t)
	ns, learner := sandboxOfOwnLearner(t, g, "token-learner")
	tokenSecret := func(namespace string) *corev1.Secret {
		return &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, GenerateName: "forever-",
				Annotations: map[string]string{corev1.ServiceAccountNameKey: "learner"}},
			Type: corev1.SecretTypeServiceAccountToken,
		}
	}

	// The policy reaches admission through an informer: wait until it bites.
	g.Eventually(func(g Gomega) {
		err := learner.Create(t.Context(), tokenSecret(ns), client.DryRunAll)
		g.Expect(err).To(HaveOccurred(), "a long-lived token Secret was admitted")
		g.Expect(err.Error()).To(ContainSubstring("long-lived ServiceAccount tokens are not allowed in a learning sandbox"))
	}).Should(Succeed())
	g.Expect(learner.Create(t.Context(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "my-api-key"},
		StringData: map[string]string{"key": "not-a-token"},
	})).To(Succeed(), "ordinary Secrets are the learner's to make")
	g.Expect(k8sClient.Create(t.Context(), tokenSecret("default"), client.DryRunAll)).To(Succeed(),
		"outside sandbox namespaces the policy does not apply")
}

// TestLearnerCannotClaimExternalIPs: a learner may make Services, but not one
// with externalIPs, which would take over that address's traffic cluster-wide.
func TestLearnerCannotClaimExternalIPs(t *testing.T) {
	g := newG(t)
	ns, learner := sandboxOfOwnLearner(t, g, "extip-learner")
	service := func(namespace string, externalIPs ...string) *corev1.Service {
		return &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, GenerateName: "mine-"},
			Spec: corev1.ServiceSpec{
				Ports:       []corev1.ServicePort{{Port: 8080}},
				ExternalIPs: externalIPs,
			},
		}
	}

	// The policy reaches admission through an informer: wait until it bites.
	g.Eventually(func(g Gomega) {
		err := learner.Create(t.Context(), service(ns, "10.0.0.10"), client.DryRunAll)
		g.Expect(err).To(HaveOccurred(), "a Service with externalIPs was admitted")
		g.Expect(err.Error()).To(ContainSubstring("spec.externalIPs is not allowed in a learning sandbox"))
	}).Should(Succeed())
	mine := service(ns)
	g.Expect(learner.Create(t.Context(), mine)).To(Succeed(), "ordinary Services are the learner's to make")
	patched := mine.DeepCopy()
	patched.Spec.ExternalIPs = []string{"10.0.0.10"}
	g.Expect(learner.Patch(t.Context(), patched, client.MergeFrom(mine))).To(
		MatchError(ContainSubstring("spec.externalIPs is not allowed")), "nor may a Service gain them later")
	g.Expect(k8sClient.Create(t.Context(), service("default", "10.0.0.10"), client.DryRunAll)).To(Succeed(),
		"outside sandbox namespaces the policy does not apply")
}

// TestOperatorRBACIsLeastPrivilege: the ClusterRole the operator ships with
// (generated from its RBAC markers) holds no wildcard, cannot escalate or
// impersonate, may bind only the learner ClusterRole, and may ask for tokens
// of the learner ServiceAccount only.
func TestOperatorRBACIsLeastPrivilege(t *testing.T) {
	g := NewWithT(t)
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "rbac", "role.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	var rules []rbacv1.PolicyRule
	for doc := range strings.SplitSeq(string(raw), "\n---") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		role := &rbacv1.ClusterRole{}
		g.Expect(yaml.UnmarshalStrict([]byte(doc), role)).To(Succeed())
		g.Expect(role.Kind).To(Equal("ClusterRole"))
		g.Expect(role.AggregationRule).To(BeNil(), "an aggregated role takes in whatever is labelled for it")
		rules = append(rules, role.Rules...)
	}
	g.Expect(rules).NotTo(BeEmpty())

	var binds, tokens int
	for i, rule := range rules {
		what := fmt.Sprintf("rule %d %+v", i, rule)
		for _, field := range [][]string{rule.Verbs, rule.APIGroups, rule.Resources, rule.ResourceNames, rule.NonResourceURLs} {
			g.Expect(field).NotTo(ContainElement(ContainSubstring("*")), what)
		}
		g.Expect(rule.Verbs).NotTo(ContainElement("escalate"), what)
		g.Expect(rule.Verbs).NotTo(ContainElement("impersonate"), what)
		if slices.Contains(rule.Verbs, "bind") {
			binds++
			g.Expect(rule.Verbs).To(Equal([]string{"bind"}), what)
			g.Expect(rule.APIGroups).To(Equal([]string{"rbac.authorization.k8s.io"}), what)
			g.Expect(rule.Resources).To(Equal([]string{"clusterroles"}), what)
			g.Expect(rule.ResourceNames).To(Equal([]string{"learning-sandbox-learner"}), what)
		}
		if slices.Contains(rule.Resources, "serviceaccounts/token") {
			// A token of any other ServiceAccount, a controller's in kube-system say, could be cluster-admin.
			g.Expect(rule.Resources).To(Equal([]string{"serviceaccounts/token"}), what)
			g.Expect(rule.ResourceNames).To(Equal([]string{stack.LearnerName}), what)
			tokens++
		}
		if slices.Contains(rule.APIGroups, "rbac.authorization.k8s.io") {
			// It writes RoleBindings in sandbox namespaces, never roles or cluster-wide bindings.
			g.Expect(rule.Resources).To(Or(
				Equal([]string{"rolebindings"}), Equal([]string{"clusterroles"})), what)
		}
	}
	g.Expect(binds).To(Equal(1), "bind on the learner ClusterRole, the one thing the operator grants")
	g.Expect(tokens).To(Equal(1), "tokens of the learner ServiceAccount, for the learner's kubeconfig")
}
