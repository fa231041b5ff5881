package stack

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/applytest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// BuiltinStages reads the catalog that `make install` applies.
func builtinStages(t *testing.T) []*sandboxv1.RoadmapStage {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "config", "stages", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no stages found: %v", err)
	}
	var stages []*sandboxv1.RoadmapStage
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		st := &sandboxv1.RoadmapStage{}
		if err := yaml.UnmarshalStrict(raw, st); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		stages = append(stages, st)
	}
	return stages
}

func testSandbox(stage string) *sandboxv1.LearningSandbox {
	return &sandboxv1.LearningSandbox{
		ObjectMeta: metav1.ObjectMeta{Name: "fall26-ada", UID: "00000000-0000-0000-0000-00000000ada1"},
		Spec: sandboxv1.LearningSandboxSpec{
			Learner: sandboxv1.Learner{Name: "ada", Users: []string{"ada@example.edu"}},
			Stage:   stage,
		},
	}
}

var testCredentials = map[string]string{
	PostgresPasswordKey: "postgres-password-for-tests",
	RedisPasswordKey:    "redis-password-for-tests",
	JWTSecretKey:        "jwt-secret-for-tests",
}

// TestRenderGolden renders a sandbox of every built-in stage and compares the
// manifests with testdata/<stage>.yaml. `go test ./internal/stack -update`
// rewrites them; review the diff like code.
func TestRenderGolden(t *testing.T) {
	for _, stage := range builtinStages(t) {
		t.Run(stage.Name, func(t *testing.T) {
			g := NewWithT(t)
			st, err := Render(Input{Sandbox: testSandbox(stage.Name), Stage: stage, Credentials: testCredentials}, DefaultSettings())
			g.Expect(err).NotTo(HaveOccurred())

			var out bytes.Buffer
			for _, obj := range append([]Object{st.Namespace}, st.Objects...) {
				raw, err := json.Marshal(obj)
				g.Expect(err).NotTo(HaveOccurred())
				y, err := yaml.JSONToYAML(raw)
				g.Expect(err).NotTo(HaveOccurred())
				out.WriteString("---\n")
				out.Write(y)
			}
			golden := filepath.Join("testdata", stage.Name+".yaml")
			if *update {
				g.Expect(os.MkdirAll("testdata", 0o755)).To(Succeed())
				g.Expect(os.WriteFile(golden, out.Bytes(), 0o644)).To(Succeed())
			}
			want, err := os.ReadFile(golden)
			g.Expect(err).NotTo(HaveOccurred(), "no golden file: run go test ./internal/stack -update")
			g.Expect(out.String()).To(Equal(string(want)), "rendering changed: review, then go test ./internal/stack -update")
		})
	}
}

// TestRenderedWorkloadsAreRestricted checks, for every built-in stage, what
// Pod Security "restricted" asks of every pod; the envtest suite checks the
// same against the real admission plugin.
func TestRenderedWorkloadsAreRestricted(t *testing.T) {
	for _, stage := range builtinStages(t) {
		t.Run(stage.Name, func(t *testing.T) {
			g := NewWithT(t)
			st, err := Render(Input{Sandbox: testSandbox(stage.Name), Stage: stage, Credentials: testCredentials}, DefaultSettings())
			g.Expect(err).NotTo(HaveOccurred())
			pods := podSpecs(g, st)
			g.Expect(pods).To(HaveLen(len(st.Components)))
			for name, pod := range pods {
				g.Expect(*pod.SecurityContext.RunAsNonRoot).To(BeTrue(), name)
				g.Expect(pod.SecurityContext.SeccompProfile.Type).To(Equal(corev1.SeccompProfileTypeRuntimeDefault), name)
				g.Expect(*pod.AutomountServiceAccountToken).To(BeFalse(), name)
				for _, c := range pod.Containers {
					g.Expect(*c.SecurityContext.AllowPrivilegeEscalation).To(BeFalse(), name)
					g.Expect(c.SecurityContext.Capabilities.Drop).To(ConsistOf(corev1.Capability("ALL")), name)
					g.Expect(c.Resources.Limits).To(HaveKey(corev1.ResourceMemory), name)
				}
			}
		})
	}
}

// podSpecs decodes the pod templates of the stack's workloads, by workload name.
func podSpecs(g Gomega, st *Stack) map[string]corev1.PodSpec {
	pods := map[string]corev1.PodSpec{}
	for _, obj := range st.Objects {
		raw, err := json.Marshal(obj)
		g.Expect(err).NotTo(HaveOccurred())
		switch *obj.GetKind() {
		case "Deployment":
			var d appsv1.Deployment
			g.Expect(json.Unmarshal(raw, &d)).To(Succeed())
			pods[d.Name] = d.Spec.Template.Spec
		case "StatefulSet":
			var s appsv1.StatefulSet
			g.Expect(json.Unmarshal(raw, &s)).To(Succeed())
			pods[s.Name] = s.Spec.Template.Spec
		}
	}
	return pods
}

func stageOf(components ...sandboxv1.Component) *sandboxv1.RoadmapStage {
	st := &sandboxv1.RoadmapStage{ObjectMeta: metav1.ObjectMeta{Name: "custom"}}
	st.Spec.Title = "Custom"
	st.Spec.Components = components
	return st
}

func TestResolveOverrides(t *testing.T) {
	twoGi := resource.MustParse("2Gi")
	stage := stageOf(
		sandboxv1.Component{Name: "postgres", Type: sandboxv1.ComponentPostgres},
		sandboxv1.Component{Name: "redis", Type: sandboxv1.ComponentRedis},
		sandboxv1.Component{Name: "app", Type: sandboxv1.ComponentApp},
		sandboxv1.Component{Name: "mongo", Type: sandboxv1.ComponentContainer, Container: &sandboxv1.ContainerSpec{
			Image: "mongo:7", Ports: []sandboxv1.ContainerPort{{Name: "mongo", ContainerPort: 27017}}}},
	)
	tests := []struct {
		name      string
		overrides []sandboxv1.ComponentOverride
		check     func(g Gomega, cs []Component)
		wantErr   string
	}{{
		name:      "storage, image and replicas replace the stage's",
		overrides: []sandboxv1.ComponentOverride{{Name: "postgres", Storage: &twoGi}, {Name: "app", Image: "me/app:dev", Replicas: ptr.To[int32](3)}},
		check: func(g Gomega, cs []Component) {
			g.Expect(cs[0].Storage.String()).To(Equal("2Gi"))
			g.Expect(cs[2].Image).To(Equal("me/app:dev"))
			g.Expect(*cs[2].Component.Replicas).To(Equal(int32(3)))
		},
	}, {
		name:      "an image override of a Container component replaces its container image",
		overrides: []sandboxv1.ComponentOverride{{Name: "mongo", Image: "mongo:8"}},
		check:     func(g Gomega, cs []Component) { g.Expect(cs[3].Container.Image).To(Equal("mongo:8")) },
	}, {
		name:      "a disabled component is left out",
		overrides: []sandboxv1.ComponentOverride{{Name: "redis", Disabled: new(true)}},
		check: func(g Gomega, cs []Component) {
			g.Expect(cs).To(HaveLen(3))
			g.Expect(RequiredCredentials(cs)).To(ConsistOf(PostgresPasswordKey, JWTSecretKey))
		},
	}, {
		name:      "an override of a component the stage lacks names the stage's components",
		overrides: []sandboxv1.ComponentOverride{{Name: "mysql", Image: "mysql:8"}},
		wantErr:   `component override "mysql": stage "custom" has no such component; its components are postgres, redis, app, mongo`,
	}, {
		name:      "storage on a component without storage",
		overrides: []sandboxv1.ComponentOverride{{Name: "redis", Storage: &twoGi}},
		wantErr:   "a Redis component has no storage",
	}, {
		name:      "more than one Postgres server",
		overrides: []sandboxv1.ComponentOverride{{Name: "postgres", Replicas: ptr.To[int32](2)}},
		wantErr:   "a Postgres component runs a single server",
	}, {
		name:      "disabling the database the App needs",
		overrides: []sandboxv1.ComponentOverride{{Name: "postgres", Disabled: new(true)}},
		wantErr:   "the App keeps its data in PostgreSQL",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			sb := testSandbox("custom")
			sb.Spec.Components = tt.overrides
			cs, err := Resolve(sb, stage)
			if tt.wantErr != "" {
				var invalid *InvalidOverrideError
				g.Expect(errors.As(err, &invalid)).To(BeTrue(), "error %v", err)
				g.Expect(err.Error()).To(ContainSubstring(tt.wantErr))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			tt.check(g, cs)
		})
	}
}

func TestRenderSuspendScalesEverythingToZero(t *testing.T) {
	g := NewWithT(t)
	for _, stage := range builtinStages(t) {
		sb := testSandbox(stage.Name)
		sb.Spec.Suspend = true
		st, err := Render(Input{Sandbox: sb, Stage: stage, Credentials: testCredentials}, DefaultSettings())
		g.Expect(err).NotTo(HaveOccurred())
		for _, obj := range st.Objects {
			raw, err := json.Marshal(obj)
			g.Expect(err).NotTo(HaveOccurred())
			if k := *obj.GetKind(); k == "Deployment" || k == "StatefulSet" {
				g.Expect(string(raw)).To(ContainSubstring(`"replicas":0`), "%s %s", k, *obj.GetName())
			}
		}
	}
}

func TestRenderRefusesMissingCredentials(t *testing.T) {
	g := NewWithT(t)
	stage := stageOf(sandboxv1.Component{Name: "redis", Type: sandboxv1.ComponentRedis})
	_, err := Render(Input{Sandbox: testSandbox("custom"), Stage: stage}, DefaultSettings())
	g.Expect(err).To(MatchError(ContainSubstring(`credential "redis-password" is missing`)))
}

func TestConnectionSecretURLsEscapeCredentials(t *testing.T) {
	g := NewWithT(t)
	stage := stageOf(sandboxv1.Component{Name: "postgres", Type: sandboxv1.ComponentPostgres},
		sandboxv1.Component{Name: "cache", Type: sandboxv1.ComponentRedis})
	creds := map[string]string{PostgresPasswordKey: "p@ss/w:rd", RedisPasswordKey: "r#d"}
	st, err := Render(Input{Sandbox: testSandbox("custom"), Stage: stage, Credentials: creds}, DefaultSettings())
	g.Expect(err).NotTo(HaveOccurred())
	var connection Object
	for _, obj := range st.Objects {
		if *obj.GetKind() == "Secret" && *obj.GetName() == ConnectionSecretName {
			connection = obj
		}
	}
	g.Expect(connection).NotTo(BeNil())
	raw, err := json.Marshal(connection)
	g.Expect(err).NotTo(HaveOccurred())
	var secret corev1.Secret
	g.Expect(json.Unmarshal(raw, &secret)).To(Succeed())
	g.Expect(string(secret.Data["DATABASE_URL"])).To(Equal(
		"postgres://app:p%40ss%2Fw%3Ard@postgres.sandbox-fall26-ada.svc:5432/app?sslmode=disable"))
	g.Expect(string(secret.Data["REDIS_URL"])).To(Equal("redis://default:r%23d@cache.sandbox-fall26-ada.svc:6379/0"))
	g.Expect(string(secret.Data["PGPASSWORD"])).To(Equal("p@ss/w:rd"))
	g.Expect(secret.Data).NotTo(HaveKey("APP_URL"))
}

func TestRewriteRegistry(t *testing.T) {
	for ref, want := range map[string]string{
		"postgres:17-alpine":                        "mirror.local:5000/library/postgres:17-alpine",
		"nginxinc/nginx-unprivileged:1.27-alpine":   "mirror.local:5000/nginxinc/nginx-unprivileged:1.27-alpine",
		"ghcr.io/learning-sandbox/sample-app:0.1.0": "mirror.local:5000/learning-sandbox/sample-app:0.1.0",
		"localhost/app:dev":                         "mirror.local:5000/app:dev",
		"registry:5000/app":                         "mirror.local:5000/app",
	} {
		t.Run(ref, func(t *testing.T) {
			NewWithT(t).Expect(RewriteRegistry(ref, "mirror.local:5000/")).To(Equal(want))
		})
	}
}

func TestSettingsRegistryRewritesEveryImage(t *testing.T) {
	g := NewWithT(t)
	s := DefaultSettings()
	s.Registry = "mirror.local"
	for _, stage := range builtinStages(t) {
		st, err := Render(Input{Sandbox: testSandbox(stage.Name), Stage: stage, Credentials: testCredentials}, s)
		g.Expect(err).NotTo(HaveOccurred())
		for name, pod := range podSpecs(g, st) {
			for _, c := range pod.Containers {
				g.Expect(strings.HasPrefix(c.Image, "mirror.local/")).To(BeTrue(), "%s: %s", name, c.Image)
			}
		}
	}
}

// TestServersAnswerChangesNothingShared reads an answer from the API server
// into every object of a stack, as a server-side apply does, and checks that
// the next sandbox's stack, the sandbox and its stage are as they were: the
// objects share no map, slice or pointer with them or with each other.
// Sandboxes are reconciled at the same time, so sharing would also be a
// concurrent map write, which stops the operator.
func TestServersAnswerChangesNothingShared(t *testing.T) {
	for _, stage := range builtinStages(t) {
		t.Run(stage.Name, func(t *testing.T) {
			g := NewWithT(t)
			sb := testSandbox(stage.Name)
			sb.Spec.Components = []sandboxv1.ComponentOverride{{
				Name: stage.Spec.Components[0].Name,
				Resources: &corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("100Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("200Mi")},
				},
			}}
			sbBefore, stageBefore := sb.DeepCopy(), stage.DeepCopy()
			render := func(sb *sandboxv1.LearningSandbox) *Stack {
				st, err := Render(Input{Sandbox: sb, Stage: stage, Credentials: testCredentials}, DefaultSettings())
				g.Expect(err).NotTo(HaveOccurred())
				return st
			}
			// One sandbox with the override, one with the type's defaults.
			plain := testSandbox(stage.Name)
			want, wantPlain := stackJSON(g, render(sb)), stackJSON(g, render(plain))

			for _, st := range []*Stack{render(sb), render(plain)} {
				for _, obj := range append([]Object{st.Namespace}, st.Objects...) {
					g.Expect(applytest.ReadAnswer(obj)).To(Succeed(), "%s %s", *obj.GetKind(), *obj.GetName())
				}
			}

			expectSameObjects(g, stackJSON(g, render(sb)), want)
			expectSameObjects(g, stackJSON(g, render(plain)), wantPlain)
			g.Expect(sb).To(Equal(sbBefore))
			g.Expect(stage).To(Equal(stageBefore))
		})
	}
}

// stackJSON is each object of the stack as JSON, by kind and name.
func stackJSON(g Gomega, st *Stack) map[string]string {
	out := map[string]string{}
	for _, obj := range append([]Object{st.Namespace}, st.Objects...) {
		raw, err := json.Marshal(obj)
		g.Expect(err).NotTo(HaveOccurred())
		out[*obj.GetKind()+" "+*obj.GetName()] = string(raw)
	}
	return out
}

func expectSameObjects(g Gomega, got, want map[string]string) {
	g.Expect(got).To(HaveLen(len(want)))
	for name, w := range want {
		g.Expect(got[name]).To(Equal(w), "%s changed", name)
	}
}
