package stack

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// TestProgressConfigMapShowsEachResult: the learner's copy says which
// exercises passed (and when), why the others did not, and marks the ones
// never checked alike whether the status lists them yet or not, so that the
// first status write does not rewrite the ConfigMap.
func TestProgressConfigMapShowsEachResult(t *testing.T) {
	g := NewWithT(t)
	stage := stageOf(sandboxv1.Component{Name: "postgres", Type: sandboxv1.ComponentPostgres})
	stage.Name = "databases"
	stage.Spec.Exercises = []sandboxv1.Exercise{
		{Name: "table", Title: "A table", Hint: "CREATE TABLE todos ();"},
		{Name: "index", Title: "An index"},
		{Name: "view", Title: "A view"},
	}
	sb := testSandbox("databases")
	render := func() (string, string) {
		data := ProgressConfigMap(sb, stage, Settings{}).Data
		return data[ProgressKey], data[ProgressSummaryKey]
	}

	unlisted, summary := render()
	g.Expect(summary).To(Equal("0/3"))
	g.Expect(unlisted).To(ContainSubstring("1. A table (table)\n   not checked yet\n   Hint: CREATE TABLE todos ();\n"))

	sb.Status.Exercises = []sandboxv1.ExerciseStatus{
		{Name: "table", Message: NotCheckedYet}, {Name: "index", Message: NotCheckedYet}, {Name: "view", Message: NotCheckedYet}}
	listed, _ := render()
	g.Expect(listed).To(Equal(unlisted), "an exercise listed but not checked reads as one not listed")

	passedAt := metav1.NewTime(time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC))
	sb.Status.Exercises = []sandboxv1.ExerciseStatus{
		{Name: "table", Passed: true, PassedAt: &passedAt},
		{Name: "index", Message: "no index on todos(title)"},
		{Name: "view", Message: NotCheckedYet}}
	text, summary := render()
	g.Expect(summary).To(Equal("1/3"))
	g.Expect(text).To(HavePrefix("Stage databases: 1/3 exercises passed."))
	g.Expect(text).To(ContainSubstring("(table)\n   PASSED at 2026-12-02T10:00:00Z\n"))
	g.Expect(text).To(ContainSubstring("(index)\n   not passed: no index on todos(title)\n"))
	g.Expect(text).To(ContainSubstring("(view)\n   not checked yet\n"))
}

// TestProgressConfigMapSaysWhenTheSandboxExpires: a learner, who may not
// read the sandbox, reads its stage, learner and expiry (as status.expiresAt
// is computed: creation + ttl) in their namespace.
func TestProgressConfigMapSaysWhenTheSandboxExpires(t *testing.T) {
	g := NewWithT(t)
	stage := stageOf(sandboxv1.Component{Name: "postgres", Type: sandboxv1.ComponentPostgres})
	stage.Name = "databases"
	stage.Spec.Exercises = []sandboxv1.Exercise{{Name: "table", Title: "A table"}}
	sb := testSandbox("databases")
	sb.CreationTimestamp = metav1.NewTime(time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC))

	data := ProgressConfigMap(sb, stage, Settings{}).Data
	g.Expect(data).To(HaveKeyWithValue(ProgressStageKey, "databases"))
	g.Expect(data).To(HaveKeyWithValue(ProgressLearnerKey, sb.Spec.Learner.Name))
	g.Expect(data).NotTo(HaveKey(ProgressExpiresKey), "without a ttl it never expires")

	sb.Spec.TTL = &metav1.Duration{Duration: 72 * time.Hour}
	g.Expect(ProgressConfigMap(sb, stage, Settings{}).Data).To(HaveKeyWithValue(ProgressExpiresKey, "2026-12-05T10:00:00Z"))
}
