package controller

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/exercise"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// fakeChecker answers checks from a map, by the sandbox namespace of the
// target and the component checked: envtest runs no servers.
type fakeChecker struct {
	mu     sync.Mutex
	pass   map[string]bool
	checks map[string]int // by namespace
}

var fakeChecks = &fakeChecker{pass: map[string]bool{}, checks: map[string]int{}}

func (f *fakeChecker) Check(ctx context.Context, target exercise.Target, check sandboxv1.ExerciseCheck) exercise.Result {
	component := stack.CheckedComponent(check)
	ns := serviceNamespace(ctx, target[component].Address)
	key := ns + "/" + component
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checks[ns]++
	if f.pass[key] {
		return exercise.Result{Passed: true}
	}
	return exercise.Result{Message: component + " says no"}
}

// serviceNamespace is the namespace of the Service that a check's address
// names: by its cluster IP (what the operator uses), or by its DNS name
// (name.namespace.svc) while the Service has none.
func serviceNamespace(ctx context.Context, address string) string {
	host, _, _ := net.SplitHostPort(address)
	if net.ParseIP(host) == nil {
		parts := strings.Split(host, ".")
		return parts[1]
	}
	var services corev1.ServiceList
	if err := k8sClient.List(ctx, &services); err != nil {
		return ""
	}
	for _, svc := range services.Items {
		if svc.Spec.ClusterIP == host {
			return svc.Namespace
		}
	}
	return ""
}

func (f *fakeChecker) set(ns, component string, pass bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pass[ns+"/"+component] = pass
}

// count is how many checks ran against the sandbox in namespace ns.
func (f *fakeChecker) count(ns string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.checks[ns]
}

// exerciseStage is a stage of three components with one exercise on each.
func exerciseStage(t *testing.T) *sandboxv1.RoadmapStage {
	t.Helper()
	stage := &sandboxv1.RoadmapStage{
		ObjectMeta: metav1.ObjectMeta{Name: uniqueName("exercises")},
		Spec: sandboxv1.RoadmapStageSpec{
			Title: "Exercises",
			Components: []sandboxv1.Component{
				{Name: "postgres", Type: sandboxv1.ComponentPostgres, Ephemeral: new(true)},
				{Name: "redis", Type: sandboxv1.ComponentRedis},
				{Name: "web", Type: sandboxv1.ComponentNginx},
			},
			Exercises: []sandboxv1.Exercise{
				{Name: "todos-table", Title: "Create the todos table", Hint: "CREATE TABLE todos (...)",
					Check: sandboxv1.ExerciseCheck{Postgres: &sandboxv1.PostgresCheck{Component: "postgres", Query: "select true"}}},
				{Name: "first-page-cached", Title: "Cache the first page",
					Check: sandboxv1.ExerciseCheck{Redis: &sandboxv1.RedisCheck{Component: "redis", Command: []string{"EXISTS", "todos:first-page"}, Expect: "1"}}},
				{Name: "proxy", Title: "Proxy",
					Check: sandboxv1.ExerciseCheck{HTTP: &sandboxv1.HTTPCheck{Component: "web", Path: "/", ExpectStatus: 200}}},
			},
		},
	}
	if err := k8sClient.Create(t.Context(), stage); err != nil {
		t.Fatalf("creating stage: %v", err)
	}
	t.Cleanup(func() { deleteIgnoringNotFound(t, stage) })
	return stage
}

func annotate(t *testing.T, obj client.Object, key, value string) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8sClient.Get(t.Context(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		a := obj.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		a[key] = value
		obj.SetAnnotations(a)
		return k8sClient.Update(t.Context(), obj)
	})
	if err != nil {
		t.Fatalf("annotating: %v", err)
	}
}

func progressSummary(g Gomega, ns string) string {
	cm := &corev1.ConfigMap{}
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: stack.ProgressConfigMapName}, cm)).To(Succeed())
	return cm.Data[stack.ProgressSummaryKey]
}

func TestExercisesAreCheckedWhileReady(t *testing.T) {
	g := newG(t)
	stage := exerciseStage(t)
	sb := createSandbox(t, "ex", stage.Name)
	ns := namespaceOf(sb.Name)
	waitReady(t, g, sb.Name)

	// A first check as soon as the sandbox is Ready: nothing done yet.
	g.Eventually(func(g Gomega) {
		got := getSandbox(g, sb.Name)
		g.Expect(got.Status.ExercisesDone).To(Equal("0/3"))
		g.Expect(got.Status.Exercises).To(HaveLen(3))
		g.Expect(got.Status.Exercises[0].Message).To(Equal("postgres says no"))
		g.Expect(progressSummary(g, ns)).To(Equal("0/3"))
	}).Should(Succeed())
	g.Expect(condition(getSandbox(g, sb.Name), sandboxv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue),
		"failing exercises leave the sandbox Ready")

	// The annotation checks at once.
	fakeChecks.set(ns, "postgres", true)
	fakeChecks.set(ns, "web", true)
	annotate(t, sb, sandboxv1.CheckRequestedAtAnnotation, "1")
	g.Eventually(func(g Gomega) {
		got := getSandbox(g, sb.Name)
		g.Expect(got.Status.ExercisesDone).To(Equal("2/3"))
		g.Expect(got.Status.ExercisesPassed).To(BeEquivalentTo(2))
		g.Expect(got.Status.LastHandledCheckAt).To(Equal("1"))
		g.Expect(got.Status.Exercises[0].Passed).To(BeTrue())
		g.Expect(got.Status.Exercises[0].PassedAt).NotTo(BeNil())
		g.Expect(progressSummary(g, ns)).To(Equal("2/3"))
	}).Should(Succeed())

	// A learner's edit of the progress ConfigMap is undone, and the status stays the operator's.
	// (As kubectl edit does, the edit is made again on a conflict.)
	g.Eventually(func() error {
		cm := &corev1.ConfigMap{}
		if err := k8sClient.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: stack.ProgressConfigMapName}, cm); err != nil {
			return err
		}
		cm.Data[stack.ProgressSummaryKey] = "3/3"
		return k8sClient.Update(t.Context(), cm)
	}).Should(Succeed())
	g.Eventually(func(g Gomega) { g.Expect(progressSummary(g, ns)).To(Equal("2/3")) }).Should(Succeed())
	g.Expect(getSandbox(g, sb.Name).Status.ExercisesDone).To(Equal("2/3"))

	// Undoing an exercise fails it again.
	fakeChecks.set(ns, "postgres", false)
	annotate(t, sb, sandboxv1.CheckRequestedAtAnnotation, "2")
	g.Eventually(func(g Gomega) {
		got := getSandbox(g, sb.Name)
		g.Expect(got.Status.ExercisesDone).To(Equal("1/3"))
		g.Expect(got.Status.Exercises[0].PassedAt).To(BeNil())
	}).Should(Succeed())
}

func TestExercisesAtRestMakeNoWrites(t *testing.T) {
	g := newG(t)
	stage := exerciseStage(t)
	sb := createSandbox(t, "rest", stage.Name)
	ns := namespaceOf(sb.Name)
	fakeChecks.set(ns, "redis", true)
	waitReady(t, g, sb.Name)
	g.Eventually(func(g Gomega) { g.Expect(getSandbox(g, sb.Name).Status.ExercisesDone).To(Equal("1/3")) }).Should(Succeed())

	about := func() []string { return writes.about(sb.Name, ns) }
	var settled []string
	g.Eventually(func(g Gomega) {
		settled = about()
		g.Consistently(about).WithTimeout(time.Second).Should(Equal(settled))
	}).Should(Succeed())
	// Two intervals later, each reconcile checks again and finds the same results.
	count := func() int { return fakeChecks.count(ns) }
	checks := count()
	for range 2 {
		testClock.Step(6 * time.Minute)
		annotate(t, sb, "test.learning.dev/poke", testClock.Now().String())
		g.Eventually(count).Should(BeNumerically(">=", checks+3), "every exercise is checked again")
		checks = count()
	}
	g.Consistently(about).Should(Equal(settled), "checks whose results did not change write nothing")
}

func TestCohortCountsExercises(t *testing.T) {
	g := newG(t)
	stage := exerciseStage(t)
	c := newCohort("exc", stage.Name, "ada", "linus")
	c.Spec.Export = &sandboxv1.RosterExport{Namespace: "default"}
	createCohort(t, c)
	for _, l := range []string{"ada", "linus"} {
		waitReady(t, g, c.SandboxName(l))
	}
	ada := namespaceOf(c.SandboxName("ada"))
	for _, comp := range []string{"postgres", "redis", "web"} {
		fakeChecks.set(ada, comp, true)
	}
	fakeChecks.set(namespaceOf(c.SandboxName("linus")), "web", true)
	annotate(t, c, sandboxv1.CheckRequestedAtAnnotation, "now")
	g.Eventually(func(g Gomega) {
		got := &sandboxv1.LearningCohort{}
		g.Expect(k8sClient.Get(t.Context(), client.ObjectKeyFromObject(c), got)).To(Succeed())
		g.Expect(got.Status.LearnersCompleted).To(BeEquivalentTo(1))
		g.Expect(got.Status.LastHandledCheckAt).To(Equal("now"))
		g.Expect(got.Status.Exercises).To(Equal([]sandboxv1.CohortExerciseStatus{
			{Name: "todos-table", Passed: 1}, {Name: "first-page-cached", Passed: 1}, {Name: "proxy", Passed: 2}}))
		roster := getSecretData(g, "default", c.Name+"-roster")
		g.Expect(string(roster[RosterJSONKey])).To(ContainSubstring(`"exercisesPassed": 3`))
		g.Expect(string(roster[RosterJSONKey])).To(ContainSubstring(`"exercisesPassed": 1`))
	}).Should(Succeed())
}

func TestBadChecksAreRefused(t *testing.T) {
	components := []sandboxv1.Component{
		{Name: "postgres", Type: sandboxv1.ComponentPostgres},
		{Name: "web", Type: sandboxv1.ComponentNginx},
	}
	pg := &sandboxv1.PostgresCheck{Component: "postgres", Query: "select true"}
	for _, tc := range []struct {
		name    string
		check   sandboxv1.ExerciseCheck
		message string
	}{
		{"no type", sandboxv1.ExerciseCheck{}, "a check has exactly one of postgres, redis or http"},
		{"two types", sandboxv1.ExerciseCheck{Postgres: pg, HTTP: &sandboxv1.HTTPCheck{Component: "web", Path: "/", ExpectStatus: 200}},
			"a check has exactly one of postgres, redis or http"},
		{"component not in the stage", sandboxv1.ExerciseCheck{Postgres: &sandboxv1.PostgresCheck{Component: "db", Query: "select true"}},
			"a postgres check names a Postgres component of this stage"},
		{"component of another type", sandboxv1.ExerciseCheck{Redis: &sandboxv1.RedisCheck{Component: "postgres", Command: []string{"GET", "k"}, Expect: "v"}},
			"a redis check names a Redis component of this stage"},
		{"http to a database", sandboxv1.ExerciseCheck{HTTP: &sandboxv1.HTTPCheck{Component: "postgres", Path: "/", ExpectStatus: 200}},
			"an http check names an Nginx, App or Container component"},
		{"a redis command that writes", sandboxv1.ExerciseCheck{Redis: &sandboxv1.RedisCheck{Component: "redis", Command: []string{"FLUSHALL"}, Expect: "OK"}},
			"a redis check runs a command that only reads"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newG(t)
			stage := &sandboxv1.RoadmapStage{
				ObjectMeta: metav1.ObjectMeta{Name: uniqueName("bad")},
				Spec: sandboxv1.RoadmapStageSpec{Title: "Bad", Components: components,
					Exercises: []sandboxv1.Exercise{{Name: "x", Title: "X", Check: tc.check}}},
			}
			err := k8sClient.Create(t.Context(), stage)
			g.Expect(err).To(HaveOccurred())
			g.Expect(err.Error()).To(ContainSubstring(tc.message))
		})
	}
	g := newG(t)
	short := &sandboxv1.RoadmapStage{
		ObjectMeta: metav1.ObjectMeta{Name: uniqueName("bad")},
		Spec: sandboxv1.RoadmapStageSpec{Title: "Bad", Components: components,
			CheckInterval: &metav1.Duration{Duration: 10 * time.Second}},
	}
	err := k8sClient.Create(t.Context(), short)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring("checkInterval is a duration from 1m to 24h"))
}
