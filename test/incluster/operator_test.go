//go:build incluster

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

package incluster

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
	"github.com/learning-sandbox/learning-sandbox-operator/test/cluster"
)

const (
	cohortName = "incluster"
	leaseName  = "learning-sandbox-operator.learning.dev"
	// releaseLabel selects what the chart installed.
	releaseLabel = "app.kubernetes.io/instance"
)

// TestAPlatformTeamRunsTheOperator installs the operator with Helm as two
// replicas, runs a class on the real node, kills the leader, upgrades to a
// rebuilt image and uninstalls, checking at each step what a platform team
// would: the class is Ready, an exercise is checked from inside the cluster,
// the metrics count the class, no sandbox is lost or made twice, data
// survives, and nothing of the operator is left but what the README says.
func TestAPlatformTeamRunsTheOperator(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	values, err := imageValues()
	g.Expect(err).NotTo(HaveOccurred())

	t.Log("helm install, two replicas")
	out, err := helm(append([]string{"install", release, "dist/chart", "--namespace", operatorNS, "--create-namespace",
		"--set", "image.repository=" + operatorRepo, "--set", "image.tag=e2e-1", "--set", "image.pullPolicy=Never",
		"--set", "replicas=2", "--wait", "--timeout", "5m"}, values...)...)
	g.Expect(err).NotTo(HaveOccurred(), out)
	expectOperatorRunning(g, "e2e-1")

	t.Log("a class of two on the databases stage becomes Ready")
	var stage sandboxv1.RoadmapStage
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "databases"}, &stage)).To(Succeed(), "the chart installs the catalog")
	cohort := &sandboxv1.LearningCohort{
		ObjectMeta: metav1.ObjectMeta{Name: cohortName},
		Spec: sandboxv1.LearningCohortSpec{Stage: stage.Name,
			Learners: []sandboxv1.CohortLearner{{Name: "ada"}, {Name: "linus"}},
			Template: sandboxv1.SandboxTemplate{Components: cluster.WithoutPublicImages(&stage)}},
	}
	g.Expect(k8sClient.Create(ctx, cohort)).To(Succeed())
	expectClassReady(g, "ada", "linus")
	before := sandboxUIDs(g)

	t.Log("an exercise is checked by the operator's pod, through the sandbox's NetworkPolicies")
	psql(g, "incluster-ada", "CREATE TABLE notes (id bigserial primary key, body text not null, created_at timestamptz not null default now())")
	psql(g, "incluster-ada", "INSERT INTO notes (body) VALUES ('kept through the upgrade')")
	out, errOut, err := local.Sandbox(local.Kubeconfig, "", "check", "-c", cohortName)
	g.Expect(err).NotTo(HaveOccurred(), errOut)
	g.Expect(out).To(MatchRegexp(`(?m)^notes-table\s+1/2$`))

	t.Log("the leader's metrics count the class")
	g.Eventually(func(g Gomega) {
		m := scrapeLeader(g)
		g.Expect(m.Value("learning_sandbox_cohort_sandboxes", "cohort", cohortName, "phase", "Ready")).To(BeEquivalentTo(2))
		g.Expect(m.Value("learning_sandbox_cohort_learners", "cohort", cohortName)).To(BeEquivalentTo(2))
		g.Expect(m.Value("learning_sandbox_sandboxes", "stage", "databases", "phase", "Ready")).To(BeEquivalentTo(2))
		g.Expect(m.Value("learning_sandbox_cohort_exercises_passed", "cohort", cohortName, "exercise", "notes-table")).
			To(BeEquivalentTo(1))
		g.Expect(m.Value("learning_sandbox_time_to_ready_seconds", "stage", "databases")).To(BeEquivalentTo(2))
	}, time.Minute, 2*time.Second).Should(Succeed())

	t.Log("the leader is killed: the other replica takes over, no sandbox is lost or made twice")
	killed := leader(g)
	g.Expect(k8sClient.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: killed, Namespace: operatorNS}},
		client.GracePeriodSeconds(0))).To(Succeed())
	g.Eventually(func(g Gomega) {
		now := leader(g)
		g.Expect(now).NotTo(BeEmpty())
		g.Expect(now).NotTo(Equal(killed))
	}, 2*time.Minute, poll).Should(Succeed(), "another replica holds the lease")
	update(g, func(c *sandboxv1.LearningCohort) {
		c.Spec.Learners = append(c.Spec.Learners, sandboxv1.CohortLearner{Name: "grace"})
	})
	expectClassReady(g, "ada", "linus", "grace")
	after := sandboxUIDs(g)
	for name, uid := range before {
		g.Expect(after).To(HaveKeyWithValue(name, uid), "%s is the same sandbox", name)
	}

	t.Log("helm upgrade to a rebuilt image: every sandbox and its data survive")
	postgres := podUIDs(g, "incluster-ada")
	out, err = helm("upgrade", release, "dist/chart", "--namespace", operatorNS, "--reuse-values",
		"--set", "image.tag=e2e-2", "--wait", "--timeout", "5m")
	g.Expect(err).NotTo(HaveOccurred(), out)
	expectOperatorRunning(g, "e2e-2")
	expectClassReady(g, "ada", "linus", "grace")
	g.Expect(sandboxUIDs(g)).To(Equal(after))
	g.Expect(psql(g, "incluster-ada", "SELECT body FROM notes")).To(Equal("kept through the upgrade"))
	g.Expect(podUIDs(g, "incluster-ada")).To(Equal(postgres), "the upgrade restarted none of the sandbox's pods")

	t.Log("the learner ClusterRole is deleted: the class is not Ready and says so; helm upgrade restores it")
	g.Expect(k8sClient.Delete(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: stack.DefaultLearnerClusterRole}})).To(Succeed())
	g.Eventually(func(g Gomega) {
		var list sandboxv1.LearningSandboxList
		g.Expect(k8sClient.List(ctx, &list, client.MatchingLabels{sandboxv1.CohortLabel: cohortName})).To(Succeed())
		g.Expect(list.Items).To(HaveLen(3))
		for _, sb := range list.Items {
			ready := apimeta.FindStatusCondition(sb.Status.Conditions, sandboxv1.ReadyCondition)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Status).To(Equal(metav1.ConditionFalse), sb.Name)
			g.Expect(ready.Reason).To(Equal(sandboxv1.ReasonLearnerAccessMissing), sb.Name)
			g.Expect(ready.Message).To(ContainSubstring("ClusterRole learning-sandbox-learner does not exist"))
		}
	}, time.Minute, poll).Should(Succeed())
	out, err = helm("upgrade", release, "dist/chart", "--namespace", operatorNS, "--reuse-values", "--wait", "--timeout", "5m")
	g.Expect(err).NotTo(HaveOccurred(), out)
	expectClassReady(g, "ada", "linus", "grace")

	t.Log("helm uninstall: nothing of the operator is left; the sandboxes stay, as the README says")
	out, err = helm("uninstall", release, "--namespace", operatorNS, "--wait", "--timeout", "5m")
	g.Expect(err).NotTo(HaveOccurred(), out)
	g.Eventually(func(g Gomega) {
		g.Expect(installed(g, operatorNS)).To(BeEmpty())
	}, 2*time.Minute, poll).Should(Succeed())
	for _, crd := range []string{"learningsandboxes", "learningcohorts", "roadmapstages"} {
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: crd + ".sandbox.learning.dev"},
			&apiextensionsv1.CustomResourceDefinition{})).To(Succeed(), "Helm keeps the CRD %s", crd)
	}
	g.Expect(sandboxUIDs(g)).To(Equal(after), "the sandboxes stay")
	// What stays in the release namespace: the Lease the replicas elected a
	// leader with (the operator made it, not Helm), whose holder is gone.
	var leases coordinationv1.LeaseList
	g.Expect(k8sClient.List(ctx, &leases, client.InNamespace(operatorNS))).To(Succeed())
	for _, l := range leases.Items {
		g.Expect(l.Name).To(Equal(leaseName))
	}
}

// expectOperatorRunning waits until every replica of the operator runs the
// image of tag, on the real node, ready.
func expectOperatorRunning(g Gomega, tag string) {
	g.Eventually(func(g Gomega) {
		var deploy appsv1.Deployment
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Namespace: operatorNS,
			Name: release + "-controller-manager"}, &deploy)).To(Succeed())
		g.Expect(deploy.Status.ObservedGeneration).To(Equal(deploy.Generation))
		g.Expect(deploy.Status.UpdatedReplicas).To(BeEquivalentTo(2))
		g.Expect(deploy.Status.ReadyReplicas).To(BeEquivalentTo(2))
		var pods corev1.PodList
		g.Expect(k8sClient.List(context.Background(), &pods, client.InNamespace(operatorNS),
			client.MatchingLabels{releaseLabel: release})).To(Succeed())
		running := 0
		for _, p := range pods.Items {
			if p.DeletionTimestamp != nil {
				continue
			}
			g.Expect(p.Spec.Containers[0].Image).To(Equal(operatorRepo + ":" + tag))
			g.Expect(p.Spec.NodeName).To(Equal("real-node"))
			g.Expect(p.Status.Phase).To(Equal(corev1.PodRunning))
			running++
		}
		g.Expect(running).To(Equal(2))
	}, readyTimeout, poll).Should(Succeed())
}

// expectClassReady waits until the cohort is Ready with the learners' sandboxes.
func expectClassReady(g Gomega, learners ...string) {
	g.Eventually(func(g Gomega) {
		var c sandboxv1.LearningCohort
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Name: cohortName}, &c)).To(Succeed())
		g.Expect(c.Status.ObservedGeneration).To(Equal(c.Generation))
		g.Expect(c.Status.ReadySandboxes).To(BeEquivalentTo(len(learners)), "cohort status: %+v", c.Status)
		g.Expect(c.Status.Learners).To(BeEquivalentTo(len(learners)))
		var names []string
		for _, l := range learners {
			names = append(names, cohortName+"-"+l)
		}
		g.Expect(sandboxUIDs(g)).To(HaveLen(len(learners)))
		for _, n := range names {
			g.Expect(sandboxUIDs(g)).To(HaveKey(n))
		}
	}, readyTimeout, 2*time.Second).Should(Succeed())
}

// sandboxUIDs is the cohort's sandboxes, by name.
func sandboxUIDs(g Gomega) map[string]types.UID {
	var list sandboxv1.LearningSandboxList
	g.Expect(k8sClient.List(context.Background(), &list, client.MatchingLabels{sandboxv1.CohortLabel: cohortName})).To(Succeed())
	out := map[string]types.UID{}
	for _, sb := range list.Items {
		out[sb.Name] = sb.UID
	}
	g.Expect(out).To(HaveLen(len(list.Items)), "no two sandboxes have one name")
	return out
}

// podUIDs is the pods of a sandbox's namespace, by name.
func podUIDs(g Gomega, sandbox string) map[string]types.UID {
	var pods corev1.PodList
	g.Expect(k8sClient.List(context.Background(), &pods, client.InNamespace(stack.DefaultNamespacePrefix+sandbox))).To(Succeed())
	out := map[string]types.UID{}
	for _, p := range pods.Items {
		out[p.Name] = p.UID
	}
	g.Expect(out).NotTo(BeEmpty())
	return out
}

func update(g Gomega, change func(*sandboxv1.LearningCohort)) {
	g.Eventually(func() error {
		var c sandboxv1.LearningCohort
		if err := k8sClient.Get(context.Background(), client.ObjectKey{Name: cohortName}, &c); err != nil {
			return err
		}
		change(&c)
		return k8sClient.Update(context.Background(), &c)
	}, 30*time.Second, poll).Should(Succeed())
}

// psql runs SQL in a sandbox's database with `kubectl sandbox psql`.
func psql(g Gomega, sandbox, sql string) string {
	out, errOut, err := local.Sandbox(local.Kubeconfig, "", "psql", sandbox, "--", "-Atc", sql)
	g.Expect(err).NotTo(HaveOccurred(), errOut)
	return strings.TrimSpace(out)
}

// leader is the operator pod that holds the leader-election Lease.
func leader(g Gomega) string {
	var lease coordinationv1.Lease
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Namespace: operatorNS, Name: leaseName}, &lease)).To(Succeed())
	holder, _, _ := strings.Cut(ptr.Deref(lease.Spec.HolderIdentity, ""), "_")
	return holder
}

// installed lists what is left in the cluster of the release: objects with
// its instance label, in its namespace and cluster-wide.
func installed(g Gomega, ns string) []string {
	ctx := context.Background()
	selector := client.MatchingLabels{releaseLabel: release}
	var left []string
	lists := map[string]client.ObjectList{
		"Deployment": &appsv1.DeploymentList{}, "Pod": &corev1.PodList{}, "ServiceAccount": &corev1.ServiceAccountList{},
		"Service": &corev1.ServiceList{}, "Role": &rbacv1.RoleList{}, "RoleBinding": &rbacv1.RoleBindingList{},
		"ClusterRole": &rbacv1.ClusterRoleList{}, "ClusterRoleBinding": &rbacv1.ClusterRoleBindingList{},
		"RoadmapStage": &sandboxv1.RoadmapStageList{},
	}
	for kind, list := range lists {
		g.Expect(k8sClient.List(ctx, list, selector)).To(Succeed())
		for _, name := range names(g, list) {
			left = append(left, kind+"/"+name)
		}
	}
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: stack.DefaultLearnerClusterRole}, &rbacv1.ClusterRole{}); err == nil {
		left = append(left, "ClusterRole/"+stack.DefaultLearnerClusterRole)
	}
	var pods corev1.PodList
	g.Expect(k8sClient.List(ctx, &pods, client.InNamespace(ns))).To(Succeed())
	for _, p := range pods.Items {
		left = append(left, "Pod/"+p.Name)
	}
	return left
}

func names(g Gomega, list client.ObjectList) []string {
	items, err := apimeta.ExtractList(list)
	g.Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, item := range items {
		obj, ok := item.(client.Object)
		g.Expect(ok).To(BeTrue())
		out = append(out, obj.GetName())
	}
	return out
}

// scrapeLeader reads the leader's metrics as Prometheus would: over HTTPS
// through a port-forward, with the token of a ServiceAccount bound to the
// chart's metrics-reader ClusterRole.
func scrapeLeader(g Gomega) cluster.Metrics {
	token := scraperToken(g)
	pf := exec.Command(local.Kubectl, "--kubeconfig", local.Kubeconfig, "port-forward", "-n", operatorNS,
		"pod/"+leader(g), ":8443")
	stdout, err := pf.StdoutPipe()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pf.Start()).To(Succeed())
	defer func() {
		_ = pf.Process.Kill()
		_ = pf.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	g.Expect(err).NotTo(HaveOccurred())
	port := regexp.MustCompile(`127\.0\.0\.1:(\d+)`).FindStringSubmatch(line)
	g.Expect(port).To(HaveLen(2), "port-forward said %q", line)

	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("https://127.0.0.1:%s/metrics", port[1]), nil)
	g.Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Authorization", "Bearer "+token)
	// The metrics server's certificate is self-signed (metrics.certSecretName unset).
	httpClient := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // self-signed, on a port-forward
	resp, err := httpClient.Do(req)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
	m, err := cluster.ParseMetrics(resp.Body)
	g.Expect(err).NotTo(HaveOccurred())
	return m
}

// scraperToken makes a ServiceAccount that may read the metrics, as a
// Prometheus has, and returns a token of it.
func scraperToken(g Gomega) string {
	ctx := context.Background()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "metrics-scraper", Namespace: "default"}}
	if err := k8sClient.Create(ctx, sa); err != nil {
		g.Expect(client.IgnoreAlreadyExists(err)).To(Succeed())
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "metrics-scraper"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: release + "-metrics-reader"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa.Name, Namespace: sa.Namespace}},
	}
	if err := k8sClient.Create(ctx, binding); err != nil {
		g.Expect(client.IgnoreAlreadyExists(err)).To(Succeed())
	}
	token, err := local.Run("create", "token", sa.Name, "-n", sa.Namespace)
	g.Expect(err).NotTo(HaveOccurred(), token)
	return strings.TrimSpace(token)
}
