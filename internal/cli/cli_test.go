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

package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// sandbox is a sandbox as the operator leaves it once it has provisioned:
// its namespace, connection Secret, kubeconfig Secret and status.
type sandbox struct {
	name, learner, stage string
	cohort               *sandboxv1.LearningCohort
	users                []string
	ttl                  time.Duration
	status               sandboxv1.LearningSandboxStatus
	kubeconfig           bool
}

func provision(t *testing.T, s sandbox) *sandboxv1.LearningSandbox {
	t.Helper()
	ctx := context.Background()
	sb := &sandboxv1.LearningSandbox{
		ObjectMeta: metav1.ObjectMeta{Name: s.name},
		Spec: sandboxv1.LearningSandboxSpec{
			Learner: sandboxv1.Learner{Name: s.learner, Users: s.users},
			Stage:   s.stage,
		},
	}
	if s.ttl > 0 {
		sb.Spec.TTL = &metav1.Duration{Duration: s.ttl}
	}
	if s.cohort != nil {
		sb.Labels = map[string]string{sandboxv1.CohortLabel: s.cohort.Name}
		sb.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(s.cohort,
			sandboxv1.GroupVersion.WithKind("LearningCohort"))}
		sb.Spec.Suspend = s.cohort.Spec.Suspend
	}
	if err := k8sClient.Create(ctx, sb); err != nil {
		t.Fatal(err)
	}
	ns := "sandbox-" + s.name
	labels := stack.NamespaceLabels(s.name)
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: stack.ConnectionSecretName, Namespace: ns, Labels: labels},
			StringData: map[string]string{
				"PGHOST": "postgres." + ns + ".svc.cluster.local", "PGPASSWORD": "it's-" + s.learner,
				"REDIS_URL": "redis://default:pw@redis." + ns + ".svc.cluster.local:6379/0",
			}},
	}
	if s.kubeconfig {
		objs = append(objs, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: stack.KubeconfigSecretName, Namespace: ns, Labels: labels},
			StringData: map[string]string{stack.KubeconfigKey: "kubeconfig of " + s.learner}})
	}
	for _, obj := range objs {
		if err := k8sClient.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	s.status.Namespace = ns
	s.status.ConnectionSecret = stack.ConnectionSecretName
	if s.kubeconfig {
		s.status.KubeconfigSecret = stack.KubeconfigSecretName
	}
	sb.Status = s.status
	if err := k8sClient.Status().Update(ctx, sb); err != nil {
		t.Fatal(err)
	}
	return sb
}

func cohort(t *testing.T, name, stage string) *sandboxv1.LearningCohort {
	t.Helper()
	c := &sandboxv1.LearningCohort{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: sandboxv1.LearningCohortSpec{Stage: stage}}
	if err := k8sClient.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

func ready(passed int32) sandboxv1.LearningSandboxStatus {
	return sandboxv1.LearningSandboxStatus{Phase: sandboxv1.PhaseReady, ComponentsReady: "4/4",
		ExercisesPassed: passed, ExercisesTotal: 4, ExpiresAt: &metav1.Time{Time: now.Add(13*24*time.Hour + time.Hour)}}
}

// classOf makes cohort <name> with a Ready, a stuck and a suspended learner.
func classOf(t *testing.T, name string) *sandboxv1.LearningCohort {
	c := cohort(t, name, "databases")
	provision(t, sandbox{name: name + "-ada", learner: "ada", stage: "databases", cohort: c, kubeconfig: true,
		users: []string{"ada@" + name + ".example.edu"}, status: ready(2)})
	provision(t, sandbox{name: name + "-linus", learner: "linus", stage: "databases", cohort: c, kubeconfig: true,
		status: sandboxv1.LearningSandboxStatus{Phase: sandboxv1.PhaseProvisioning, ComponentsReady: "3/4",
			ExercisesTotal: 4, Components: []sandboxv1.ComponentStatus{
				{Name: "app", Type: sandboxv1.ComponentApp, Ready: true},
				{Name: "postgres", Type: sandboxv1.ComponentPostgres, Message: "pod postgres-0: ImagePullBackOff: postgres:15 not found"},
			}}})
	provision(t, sandbox{name: name + "-grace", learner: "grace", stage: "databases", cohort: c,
		status: sandboxv1.LearningSandboxStatus{Phase: sandboxv1.PhaseSuspended, ComponentsReady: "0/4", ExercisesPassed: 4, ExercisesTotal: 4}})
	c.Status = sandboxv1.LearningCohortStatus{Learners: 3, ReadySandboxes: 1, SuspendedSandboxes: 1, LearnersCompleted: 1,
		Exercises: []sandboxv1.CohortExerciseStatus{{Name: "notes-table", Passed: 2}}}
	if err := k8sClient.Status().Update(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStatusOfAClassIsATablePerLearner(t *testing.T) {
	g := NewWithT(t)
	classOf(t, "fall26")
	// Another class's sandbox is not in the table.
	provision(t, sandbox{name: "spring27-ada", learner: "ada", stage: "databases", cohort: cohort(t, "spring27", "databases"), status: ready(0)})

	res := admin("status", "-c", "fall26")
	g.Expect(res.err).NotTo(HaveOccurred())
	golden(g, "status-cohort", res.out)

	res = admin("status", "-c", "fall26", "-o", "json")
	g.Expect(res.err).NotTo(HaveOccurred())
	list := &sandboxv1.LearningSandboxList{}
	g.Expect(json.Unmarshal([]byte(res.out), list)).To(Succeed())
	g.Expect(list.Items).To(HaveLen(3))
	g.Expect(list.Kind).To(Equal("LearningSandboxList"))

	res = admin("status", "fall26-ada", "-o", "jsonpath={.status.exercisesPassed}")
	g.Expect(res.err).NotTo(HaveOccurred())
	g.Expect(res.out).To(Equal("2"))
}

func TestStatusOfAClassSaysWhetherItFits(t *testing.T) {
	g := NewWithT(t)
	c := classOf(t, "autumn26")
	msg := "3 sandboxes may use 7.5 CPU, 15Gi of memory and 60 pods; the 1 schedulable nodes have 4 CPU, " +
		"8Gi of memory and 110 pods left for them: short of 3.5 CPU and 7Gi of memory"
	apimeta.SetStatusCondition(&c.Status.Conditions, metav1.Condition{Type: sandboxv1.CapacityShortCondition,
		Status: metav1.ConditionTrue, Reason: sandboxv1.ReasonNodesShort, Message: msg})
	g.Expect(k8sClient.Status().Update(context.Background(), c)).To(Succeed())

	res := admin("status", "-c", "autumn26")
	g.Expect(res.err).NotTo(HaveOccurred())
	g.Expect(res.out).To(ContainSubstring("\ncapacity: SHORT: " + msg + "\n"))
}

func TestUnknownNamesListTheCloseOnes(t *testing.T) {
	g := NewWithT(t)
	classOf(t, "winter26")

	res := admin("status", "winter26-adaa")
	g.Expect(res.err).To(MatchError(`no sandbox "winter26-adaa"; did you mean winter26-ada?`))
	res = admin("status", "-c", "wintr26")
	g.Expect(res.err).To(MatchError(`no cohort "wintr26"; did you mean winter26?`))
	res = admin("status", "nothing-like-it-at-all")
	g.Expect(res.err).To(MatchError(`no sandbox "nothing-like-it-at-all"`))
}

func TestStatusWatchPrintsALineForEachChange(t *testing.T) {
	g := NewWithT(t)
	sb := provision(t, sandbox{name: "watched", learner: "ada", stage: "databases", status: ready(1)})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan result, 1)
	go func() { done <- command{kubeconfig: adminKube, out: out}.run(ctx, "status", "watched", "--watch") }()
	g.Eventually(out.String).Should(MatchRegexp(`(?m)^watched\s+ada\s+databases\s+Ready\s+4/4\s+1/4`))

	sb.Status.ExercisesPassed = 3
	g.Expect(k8sClient.Status().Update(context.Background(), sb)).To(Succeed())
	g.Eventually(out.String).Should(MatchRegexp(`(?m)^watched\s+ada\s+databases\s+Ready\s+4/4\s+3/4`))
	cancel()
	g.Eventually(done).Should(Receive(WithTransform(func(r result) error { return r.err }, Succeed())))
}

func TestEnvPrintsTheConnectionSecretAsExports(t *testing.T) {
	g := NewWithT(t)
	provision(t, sandbox{name: "env-ada", learner: "ada", stage: "databases", status: ready(0)})

	res := admin("env", "env-ada")
	g.Expect(res.err).NotTo(HaveOccurred())
	g.Expect(res.out).To(Equal(`export PGHOST='postgres.sandbox-env-ada.svc.cluster.local'
export PGPASSWORD='it'\''s-ada'
export REDIS_URL='redis://default:pw@redis.sandbox-env-ada.svc.cluster.local:6379/0'
`))
}

// bindLearner binds the learner ClusterRole to a user in a sandbox
// namespace, as the operator does.
func bindLearner(t *testing.T, ns, user string) {
	t.Helper()
	if err := k8sClient.Create(context.Background(), &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "learner", Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "learning-sandbox-learner"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
	}); err != nil {
		t.Fatal(err)
	}
}

func TestALearnerSeesTheirOwnSandboxOnly(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	classOf(t, "learners")
	ns := "sandbox-learners-ada"
	bindLearner(t, ns, "ada@learners.example.edu")
	// What the operator runs in Ada's namespace, as she can read it.
	g.Expect(k8sClient.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: stack.ProgressConfigMapName, Namespace: ns, Labels: stack.NamespaceLabels("learners-ada")},
		Data: map[string]string{stack.ProgressSummaryKey: "2/4", stack.ProgressStageKey: "databases",
			stack.ProgressLearnerKey: "ada", stack.ProgressExpiresKey: now.Add(49 * time.Hour).Format(time.RFC3339)},
	})).To(Succeed())
	statefulSet(t, ns, "postgres", 1, 1)
	web := statefulSet(t, ns, "web", 1, 0)
	g.Expect(k8sClient.Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: ns, Labels: map[string]string{sandboxv1.ComponentLabel: "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx"}}},
	})).To(Succeed())
	pod := &corev1.Pod{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web-1"}, pod)).To(Succeed())
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "nginx", State: corev1.ContainerState{
		Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 40s restarting failed container"}}}}
	g.Expect(k8sClient.Status().Update(ctx, pod)).To(Succeed())

	ada := command{kubeconfig: learnerKubeconfig(t, "ada@learners.example.edu", ns)}
	res := ada.run(ctx, "status")
	g.Expect(res.err).NotTo(HaveOccurred())
	golden(g, "status-learner", res.out)
	// kubectl's own flags behave as in kubectl: an admin impersonating Ada
	// in her namespace sees what she sees.
	asAda := admin("status", "--as", "ada@learners.example.edu", "-n", ns)
	g.Expect(asAda.err).NotTo(HaveOccurred())
	g.Expect(asAda.out).To(Equal(res.out))

	web.Status.ReadyReplicas = 1
	g.Expect(k8sClient.Status().Update(ctx, web)).To(Succeed())
	g.Expect(ada.run(ctx, "status").out).To(MatchRegexp(`(?m)^learners-ada\s+ada\s+databases\s+Ready\s+2/2\s+2/4\s+in 2d1h\s*$`))

	res = ada.run(ctx, "env")
	g.Expect(res.err).NotTo(HaveOccurred())
	g.Expect(res.out).To(ContainSubstring(`export PGPASSWORD='it'\''s-ada'`))
	res = ada.run(ctx, "env", "learners-ada")
	g.Expect(res.err).NotTo(HaveOccurred(), "a learner may name their own sandbox")

	// Nobody else's.
	res = ada.run(ctx, "env", "learners-linus")
	g.Expect(res.err).To(MatchError(ContainSubstring("you may not get learningsandboxes: that needs the learningsandbox-viewer-role ClusterRole")))
	res = ada.run(ctx, "status", "-n", "sandbox-learners-linus")
	g.Expect(res.err).To(HaveOccurred())
	g.Expect(res.out).NotTo(ContainSubstring("linus"))
	res = ada.run(ctx, "status", "-c", "learners")
	g.Expect(res.err).To(MatchError(ContainSubstring("you may not get learningcohorts")))
	res = ada.run(ctx, "kubeconfigs", "-c", "learners", "-d", t.TempDir())
	g.Expect(res.err).To(MatchError(ContainSubstring("you may not get learningcohorts")))
	res = ada.run(ctx, "check", "learners-ada")
	g.Expect(res.err).To(MatchError(ContainSubstring("you may not get learningsandboxes")))
}

// statefulSet is a component's StatefulSet with its scale and ready replicas.
func statefulSet(t *testing.T, ns, component string, replicas, readyReplicas int32) *appsv1.StatefulSet {
	t.Helper()
	ctx := context.Background()
	labels := map[string]string{stack.ManagedByLabel: stack.ManagedBy, sandboxv1.ComponentLabel: component}
	s := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: component, Namespace: ns, Labels: labels},
		Spec: appsv1.StatefulSetSpec{Replicas: new(replicas), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: component, Image: component}}}}},
	}
	if err := k8sClient.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.Status.Replicas, s.Status.ReadyReplicas = replicas, readyReplicas
	if err := k8sClient.Status().Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestKubeconfigsOfACohortOfFiftyIsOneListCall(t *testing.T) {
	g := NewWithT(t)
	c := cohort(t, "big", "databases")
	for i := range 50 {
		provision(t, sandbox{name: fmt.Sprintf("big-l%02d", i), learner: fmt.Sprintf("l%02d", i), stage: "databases",
			cohort: c, kubeconfig: i != 7, status: ready(0)})
	}
	dir := filepath.Join(t.TempDir(), "kubeconfigs")
	log := &requestLog{}
	res := command{kubeconfig: adminKube, log: log}.run(context.Background(), "kubeconfigs", "-c", "big", "-d", dir)
	g.Expect(res.err).NotTo(HaveOccurred())
	g.Expect(res.out).To(Equal(fmt.Sprintf("wrote 49 of 50 kubeconfigs of cohort big to %s, listed in %s\n", dir, filepath.Join(dir, "kubeconfigs.csv"))))
	g.Expect(res.errOut).To(ContainSubstring("l07: no kubeconfig yet"))

	g.Expect(log.count("GET", "/secrets")).To(Equal(1), "one list of the Secrets")
	g.Expect(log.count("GET", "/"+stack.KubeconfigSecretName)).To(Equal(0), "no get per learner")

	info, err := os.Stat(filepath.Join(dir, "l03.kubeconfig"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(info.Mode().Perm()).To(Equal(os.FileMode(0o600)))
	g.Expect(os.ReadFile(filepath.Join(dir, "l03.kubeconfig"))).To(BeEquivalentTo("kubeconfig of l03"))
	f, err := os.Open(filepath.Join(dir, "kubeconfigs.csv"))
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = f.Close() }()
	records, err := csv.NewReader(f).ReadAll()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(records).To(HaveLen(51))
	g.Expect(records[0]).To(Equal([]string{"learner", "namespace", "file"}))
	g.Expect(records[4]).To(Equal([]string{"l03", "sandbox-big-l03", filepath.Join(dir, "l03.kubeconfig")}))
	g.Expect(records[8]).To(Equal([]string{"l07", "sandbox-big-l07", ""}))
}

// operator plays the operator for the sandboxes of a test: each time
// round, it changes the first sandbox that handle changes, until none does.
func operator(t *testing.T, names []string, handle func(*sandboxv1.LearningSandbox) bool) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() {
		ticker := time.NewTicker(30 * time.Millisecond)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
			for _, name := range names {
				sb := &sandboxv1.LearningSandbox{}
				if k8sClient.Get(ctx, client.ObjectKey{Name: name}, sb) != nil || !handle(sb) {
					continue
				}
				_ = k8sClient.Status().Update(ctx, sb)
				break
			}
		}
	}()
}

func TestResetOfACohortAsksFirstAndShowsProgress(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	c := classOf(t, "resets")
	names := []string{"resets-ada", "resets-linus", "resets-grace"}

	res := command{kubeconfig: adminKube, stdin: "no\n"}.run(ctx, "reset", "-c", "resets")
	g.Expect(res.err).NotTo(HaveOccurred())
	g.Expect(res.errOut).To(Equal("reset wipes every table, row and key of 3 sandboxes (cohort resets). Type yes to go on: "))
	g.Expect(res.out).To(Equal("nothing was reset\n"))
	res = command{kubeconfig: adminKube}.run(ctx, "reset", "-c", "resets")
	g.Expect(res.err).To(MatchError(ContainSubstring("pass --yes to reset without asking")))
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(c), c)).To(Succeed())
	g.Expect(c.Spec.Template.ResetGeneration).To(BeZero(), "nothing was written")

	// The operator goroutine reads the cohort by its key: this one reads into c.
	key := client.ObjectKeyFromObject(c)
	operator(t, names, func(sb *sandboxv1.LearningSandbox) bool {
		cur := &sandboxv1.LearningCohort{}
		if k8sClient.Get(ctx, key, cur) != nil || sb.Status.LastResetGeneration >= cur.Spec.Template.ResetGeneration {
			return false
		}
		sb.Status.LastResetGeneration = cur.Spec.Template.ResetGeneration
		return true
	})
	res = command{kubeconfig: adminKube, stdin: "yes\n"}.run(ctx, "reset", "-c", "resets")
	g.Expect(res.err).NotTo(HaveOccurred())
	// A line each time the count moves, up to all of them.
	g.Expect(res.errOut).To(MatchRegexp(`^reset wipes every table, row and key of 3 sandboxes \(cohort resets\)\. ` +
		`Type yes to go on: ([0-2]/3 reset\n)+3/3 reset\n$`))
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(c), c)).To(Succeed())
	g.Expect(c.Spec.Template.ResetGeneration).To(Equal(int64(1)))
}

func TestASandboxOfACohortIsChangedThroughItsCohort(t *testing.T) {
	g := NewWithT(t)
	classOf(t, "owned")

	for _, verb := range []string{"reset", "suspend", "resume", "extend"} {
		args := []string{verb, "owned-ada"}
		if verb == "reset" {
			args = append(args, "--yes")
		}
		res := admin(args...)
		g.Expect(res.err).To(MatchError(fmt.Sprintf("sandbox owned-ada belongs to cohort owned, which sets its spec "+
			"(the operator would undo a change to it): %[1]s the whole class with kubectl sandbox %[1]s -c owned", verb)))
	}
	sb := &sandboxv1.LearningSandbox{}
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Name: "owned-ada"}, sb)).To(Succeed())
	g.Expect(sb.Generation).To(Equal(int64(1)), "the sandbox was not written")
}

func TestSuspendResumeAndExtendASandbox(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	sb := provision(t, sandbox{name: "solo", learner: "ada", stage: "databases", ttl: time.Hour, status: ready(0)})
	get := func() *sandboxv1.LearningSandbox {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(sb), sb)).To(Succeed())
		return sb
	}

	operator(t, []string{"solo"}, func(sb *sandboxv1.LearningSandbox) bool {
		want := sandboxv1.PhaseReady
		if sb.Spec.Suspend {
			want = sandboxv1.PhaseSuspended
		}
		if sb.Status.Phase == want {
			return false
		}
		sb.Status.Phase = want
		return true
	})
	res := admin("suspend", "solo")
	g.Expect(res.err).NotTo(HaveOccurred())
	g.Expect(res.out).To(Equal("sandbox solo: suspended\n"))
	g.Expect(get().Spec.Suspend).To(BeTrue())
	res = admin("resume", "solo")
	g.Expect(res.err).NotTo(HaveOccurred())
	g.Expect(res.out).To(Equal("sandbox solo: resumed\n"))
	g.Expect(get().Spec.Suspend).To(BeFalse())

	// 48h more from now, counted from the sandbox's creation, in whole minutes.
	res = admin("extend", "solo", "--ttl", "48h", "--wait=false")
	g.Expect(res.err).NotTo(HaveOccurred())
	g.Expect(res.out).To(Equal("sandbox solo: extend requested\n"))
	ttl := get().Spec.TTL.Duration
	g.Expect(sb.CreationTimestamp.Add(ttl)).To(BeTemporally(">=", now.Add(48*time.Hour)))
	g.Expect(sb.CreationTimestamp.Add(ttl)).To(BeTemporally("<", now.Add(48*time.Hour+time.Minute)))
	g.Expect(ttl % time.Minute).To(BeZero())
	res = admin("extend", "solo", "--ttl", "1h")
	g.Expect(res.err).NotTo(HaveOccurred())
	g.Expect(res.out).To(HavePrefix("sandbox solo: already lives until"))
	g.Expect(get().Spec.TTL.Duration).To(Equal(ttl), "nothing was written")

	res = admin("extend", "solo", "--ttl", "9000h")
	g.Expect(res.err).To(MatchError(ContainSubstring("more than the 8760h (a year) a sandbox may live")))
}

func TestCheckRequestsARunAndShowsTheResults(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	sb := provision(t, sandbox{name: "checked", learner: "ada", stage: "databases", status: ready(0)})

	operator(t, []string{"checked"}, func(sb *sandboxv1.LearningSandbox) bool {
		at := sb.Annotations[sandboxv1.CheckRequestedAtAnnotation]
		if at == "" || at == sb.Status.LastHandledCheckAt {
			return false
		}
		sb.Status.LastHandledCheckAt = at
		sb.Status.ExercisesPassed = 1
		sb.Status.Exercises = []sandboxv1.ExerciseStatus{
			{Name: "notes-table", Passed: true, PassedAt: &metav1.Time{Time: now}},
			{Name: "notes-index", Message: "no index on notes(created_at)"},
		}
		return true
	})
	res := admin("check", "checked")
	g.Expect(res.err).NotTo(HaveOccurred())
	golden(g, "check-sandbox", res.out)
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(sb), sb)).To(Succeed())
	g.Expect(sb.Annotations).To(HaveKeyWithValue(sandboxv1.CheckRequestedAtAnnotation, now.Format(time.RFC3339Nano)))
}

func TestStatusOfASandboxSaysWhichStepFails(t *testing.T) {
	g := NewWithT(t)
	sb := provision(t, sandbox{name: "todo-ada", learner: "ada", stage: "databases", status: ready(1)})
	sb.Status.Exercises = []sandboxv1.ExerciseStatus{
		{Name: "register", Passed: true, PassedAt: &metav1.Time{Time: now}},
		{Name: "password-hashed", Message: "step 2 postgres check: the query returned false, want true"},
		{Name: "login", Message: stack.NotCheckedYet},
	}
	g.Expect(k8sClient.Status().Update(context.Background(), sb)).To(Succeed())

	res := admin("status", "todo-ada")
	g.Expect(res.err).NotTo(HaveOccurred())
	g.Expect(res.out).To(HaveSuffix("\n  password-hashed: step 2 postgres check: the query returned false, want true\n"))
	g.Expect(res.out).NotTo(ContainSubstring("login:"))
}

func TestStagesListsTheCatalog(t *testing.T) {
	g := NewWithT(t)
	res := admin("stages")
	g.Expect(res.err).NotTo(HaveOccurred())
	golden(g, "stages", res.out)
}

func TestCheckOfACohortShowsEachLearnerAndEachExercise(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	c := classOf(t, "checks")
	passed := map[string][]string{"ada": {"notes-table", "notes-index"}, "grace": {"notes-table"}}

	// The operator copies the cohort's annotation to its sandboxes and checks them.
	key := client.ObjectKeyFromObject(c)
	operator(t, []string{"checks-ada", "checks-linus", "checks-grace"}, func(sb *sandboxv1.LearningSandbox) bool {
		cur := &sandboxv1.LearningCohort{}
		if k8sClient.Get(ctx, key, cur) != nil {
			return false
		}
		at := cur.Annotations[sandboxv1.CheckRequestedAtAnnotation]
		if at == "" || at == sb.Status.LastHandledCheckAt {
			return false
		}
		sb.Status.LastHandledCheckAt = at
		sb.Status.Exercises = nil
		for _, e := range passed[sb.Spec.Learner.Name] {
			sb.Status.Exercises = append(sb.Status.Exercises, sandboxv1.ExerciseStatus{Name: e, Passed: true})
		}
		return true
	})
	res := admin("check", "-c", "checks")
	g.Expect(res.err).NotTo(HaveOccurred())
	golden(g, "check-cohort", res.out)
	g.Expect(res.errOut).To(MatchRegexp(`^([0-2]/3 checked\n)+3/3 checked\n$`), "the progress, on stderr")
}

// TestShellSaysWhenThereIsNoWorkspace: a sandbox whose stage has no
// workspace, or whose workspace is not ready, gets a message that says so
// rather than an exec into some other pod.
func TestShellSaysWhenThereIsNoWorkspace(t *testing.T) {
	g := NewWithT(t)
	provision(t, sandbox{name: "shell-ada", learner: "ada", stage: "databases", status: ready(0)})
	res := admin("shell", "shell-ada")
	g.Expect(res.err).To(MatchError("the sandbox in sandbox-shell-ada has no workspace (its connection Secret has no WORKSPACE_URL): " +
		"its stage has no Workspace component, or the sandbox disables it"))

	ns := "sandbox-shell-ada"
	secret := &corev1.Secret{}
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: stack.ConnectionSecretName}, secret)).To(Succeed())
	secret.Data["WORKSPACE_URL"] = []byte("http://workspace." + ns + ".svc:8080")
	g.Expect(k8sClient.Update(context.Background(), secret)).To(Succeed())
	g.Expect(k8sClient.Create(context.Background(), &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "workspace", Namespace: ns},
		Spec: corev1.ServiceSpec{Selector: map[string]string{sandboxv1.ComponentLabel: "workspace"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 8080}}},
	})).To(Succeed())
	res = admin("shell", "shell-ada", "--", "true")
	g.Expect(res.err).To(MatchError("no ready pod behind service workspace in sandbox-shell-ada yet (kubectl sandbox status says why)"))
}
