package controller

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

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

func (f *fakeChecker) Check(_ context.Context, target exercise.Target, check sandboxv1.ExerciseCheck) exercise.Result {
	component := stack.CheckedComponent(check)
	key := target.Namespace + "/" + component
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checks[target.Namespace]++
	if f.pass[key] {
		return exercise.Result{Passed: true}
	}
	return exercise.Result{Message: component + " says no"}
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
			"an http check names an Nginx, App, Workspace or Container component"},
		{"a redis command that writes", sandboxv1.ExerciseCheck{Redis: &sandboxv1.RedisCheck{Component: "redis", Command: []string{"FLUSHALL"}, Expect: "OK"}},
			"a redis check runs a command that only reads"},
		{"path and steps", sandboxv1.ExerciseCheck{HTTP: &sandboxv1.HTTPCheck{Component: "web", Path: "/", ExpectStatus: 200,
			Steps: []sandboxv1.ScenarioStep{{Request: &sandboxv1.StepRequest{Path: "/"}}}}},
			"an http check has either path (one GET) or steps (a scenario), not both"},
		{"a step with nothing to do", scenarioCheck(sandboxv1.ScenarioStep{}),
			"a step has exactly one of request, postgres or redis"},
		{"a step with a request and a query", scenarioCheck(sandboxv1.ScenarioStep{Request: &sandboxv1.StepRequest{Path: "/"}, Postgres: pg}),
			"a step has exactly one of request, postgres or redis"},
		{"a capture that is not a JSONPath", scenarioCheck(sandboxv1.ScenarioStep{Request: &sandboxv1.StepRequest{Path: "/"},
			Capture: map[string]string{"token": "token"}}),
			"capture maps a variable's name to a JSONPath that starts with $, for example capture: {token: $.token}"},
		{"a variable used before it is captured", scenarioCheck(
			sandboxv1.ScenarioStep{Request: &sandboxv1.StepRequest{Path: "/todos/{{id}}"}},
			sandboxv1.ScenarioStep{Request: &sandboxv1.StepRequest{Method: "POST", Path: "/todos"}, Capture: map[string]string{"id": "$.id"}}),
			"a step uses a variable that no earlier step captures and vars does not name"},
		{"a parameter that no step captures", scenarioCheck(
			sandboxv1.ScenarioStep{Postgres: &sandboxv1.PostgresCheck{Component: "postgres", Query: "select $1 <> ''", Params: []string{"{{email}}"}}}),
			"a step uses a variable that no earlier step captures and vars does not name"},
		{"a step's database is not in the stage", scenarioCheck(
			sandboxv1.ScenarioStep{Postgres: &sandboxv1.PostgresCheck{Component: "db", Query: "select true"}}),
			"a scenario's postgres or redis step names a Postgres or Redis component of this stage"},
		{"a variable named random", sandboxv1.ExerciseCheck{HTTP: &sandboxv1.HTTPCheck{Component: "web",
			Vars: map[string]string{"random": "x"}, Steps: []sandboxv1.ScenarioStep{{Request: &sandboxv1.StepRequest{Path: "/"}}}}},
			"not random, which is built in"},
		{"a Host header", scenarioCheck(sandboxv1.ScenarioStep{Request: &sandboxv1.StepRequest{Path: "/", Headers: map[string]string{"Host": "metadata.google.internal"}}}),
			"not Host, Content-Length, Transfer-Encoding or Connection"},
		{"an assertion that asserts nothing", scenarioCheck(sandboxv1.ScenarioStep{Request: &sandboxv1.StepRequest{Path: "/"},
			Expect: &sandboxv1.StepExpect{JSONPath: map[string]sandboxv1.ValueAssertion{"$.id": {}}}}),
			"should have at least 1 properties"},
		{"expect without a request", scenarioCheck(sandboxv1.ScenarioStep{Postgres: pg, Expect: &sandboxv1.StepExpect{BodyContains: "x"}}),
			"expect and capture go with a request"},
		{"too many steps", scenarioCheck(make21Steps()...), "must have at most 20 items"},
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

func scenarioCheck(steps ...sandboxv1.ScenarioStep) sandboxv1.ExerciseCheck {
	return sandboxv1.ExerciseCheck{HTTP: &sandboxv1.HTTPCheck{Component: "web", Steps: steps}}
}

func make21Steps() []sandboxv1.ScenarioStep {
	steps := make([]sandboxv1.ScenarioStep, 21)
	for i := range steps {
		steps[i] = sandboxv1.ScenarioStep{Request: &sandboxv1.StepRequest{Path: "/"}}
	}
	return steps
}

// TestAScenarioIsAccepted: the example, as an instructor writes it.
func TestAScenarioIsAccepted(t *testing.T) {
	g := newG(t)
	stage := &sandboxv1.RoadmapStage{}
	g.Expect(yaml.Unmarshal([]byte(`
metadata: {name: `+uniqueName("scenario")+`}
spec:
  title: Todo API
  components:
  - {name: postgres, type: Postgres}
  - {name: workspace, type: Workspace}
  exercises:
  - name: auth
    title: Register and log in
    check:
      http:
        component: workspace
        vars: {email: "check-{{random}}@example.edu", password: "{{random}}-Secret1"}
        steps:
        - request: {method: POST, path: /api/v1/auth/register, json: {email: "{{email}}", password: "{{password}}"}}
          expect: {status: [200, 201]}
        - request: {method: POST, path: /api/v1/auth/login, json: {email: "{{email}}", password: "{{password}}"}}
          expect: {status: 200, jsonPath: {"$.token": {exists: true}}}
          capture: {token: "$.token"}
        - request: {method: GET, path: /api/v1/todos, headers: {Authorization: "Bearer {{token}}"}}
          expect: {status: 200, jsonPath: {"$.items": {type: array}}}
        - postgres: {component: postgres, query: "select password_hash <> $1 from users where email = $2",
                     params: ["{{password}}", "{{email}}"]}
`), stage)).To(Succeed())
	g.Expect(k8sClient.Create(t.Context(), stage)).To(Succeed())
	got := &sandboxv1.RoadmapStage{}
	g.Expect(k8sClient.Get(t.Context(), client.ObjectKeyFromObject(stage), got)).To(Succeed())
	steps := got.Spec.Exercises[0].Check.HTTP.Steps
	g.Expect(steps).To(HaveLen(4))
	g.Expect(string(steps[0].Expect.Status.Raw)).To(Equal("[200,201]"))
	g.Expect(steps[2].Request.Method).To(Equal("GET"))
	g.Expect(string(steps[0].Request.JSON.Raw)).To(MatchJSON(`{"email": "{{email}}", "password": "{{password}}"}`))
}

// TestTheGuidesScenarioStageIsAccepted keeps docs/instructors.md honest: its
// example stage of scenario checks is one the API server accepts.
func TestTheGuidesScenarioStageIsAccepted(t *testing.T) {
	g := newG(t)
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "instructors.md"))
	g.Expect(err).NotTo(HaveOccurred())
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(raw), -1)
	var example string
	for _, b := range blocks {
		if strings.Contains(b[1], "name: echo-service") {
			example = b[1]
		}
	}
	g.Expect(example).NotTo(BeEmpty(), "the guide's example stage")
	stage := &sandboxv1.RoadmapStage{}
	g.Expect(yaml.UnmarshalStrict([]byte(example), stage)).To(Succeed())
	stage.Name = uniqueName("echo-service")
	g.Expect(k8sClient.Create(t.Context(), stage)).To(Succeed())
	g.Expect(stage.Spec.Exercises).To(HaveLen(2))
}
