package drift

import (
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/utils/ptr"
)

func desired() *appsv1ac.DeploymentApplyConfiguration {
	return appsv1ac.Deployment("app", "ns").
		WithLabels(map[string]string{"a": "1"}).
		WithSpec(appsv1ac.DeploymentSpec().
			WithReplicas(2).
			WithTemplate(corev1ac.PodTemplateSpec().WithSpec(corev1ac.PodSpec().
				WithContainers(corev1ac.Container().
					WithName("app").
					WithImage("app:1").
					WithArgs("--port", "8080").
					WithResources(corev1ac.ResourceRequirements().
						WithLimits(corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")})).
					WithEnv(corev1ac.EnvVar().WithName("A").WithValue("1"))))))
}

// existing is what the API server stores for desired(): the same fields,
// no type meta (as read from a cache), plus defaults and others' fields.
func existing() *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "ns", UID: "u", ResourceVersion: "7",
			Labels: map[string]string{"a": "1", "added-by-someone": "x"}},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyAlways,
				Containers: []corev1.Container{{
					Name:                     "app",
					Image:                    "app:1",
					Args:                     []string{"--port", "8080"},
					Resources:                corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")}},
					Env:                      []corev1.EnvVar{{Name: "A", Value: "1"}},
					TerminationMessagePath:   "/dev/termination-log",
					TerminationMessagePolicy: corev1.TerminationMessageReadFile,
				}},
			}},
		},
		Status: appsv1.DeploymentStatus{Replicas: 2},
	}
}

func TestDrifted(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(d *appsv1.Deployment)
		drifted bool
	}{
		{"the same fields, defaults and others' labels beside them", func(*appsv1.Deployment) {}, false},
		{"a managed scalar changed by hand", func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To[int32](5) }, true},
		{"a managed label removed", func(d *appsv1.Deployment) { delete(d.Labels, "a") }, true},
		{"an atomic list changed", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Args = []string{"--port"} }, true},
		{"an env var's value changed", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Env[0].Value = "2" }, true},
		{"a container added by someone else", func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, corev1.Container{Name: "sidecar"})
		}, false},
		{"the managed container gone", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Name = "other" }, true},
		{"a quantity changed", func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[0].Resources.Limits[corev1.ResourceMemory] = resource.MustParse("1Gi")
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			e := existing()
			tt.mutate(e)
			got, err := Drifted(desired(), e)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tt.drifted))
		})
	}
}

func TestStampMakesRemovedFieldsDrift(t *testing.T) {
	g := NewWithT(t)
	before := desired().WithAnnotations(map[string]string{"shown": "yes"})
	g.Expect(Stamp(before)).To(Succeed())
	g.Expect(before.Annotations).To(HaveKey(DigestAnnotation))

	// What the cluster holds after applying before.
	applied := existing()
	applied.Annotations = map[string]string{"shown": "yes", DigestAnnotation: before.Annotations[DigestAnnotation]}
	drifted, err := Drifted(before, applied)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(drifted).To(BeFalse())

	// The new configuration no longer sets an env var: the subset check alone
	// would miss it, the digest does not.
	after := desired()
	after.Spec.Template.Spec.Containers[0].Env = nil
	after.WithAnnotations(map[string]string{"shown": "yes"})
	g.Expect(Stamp(after)).To(Succeed())
	g.Expect(after.Annotations[DigestAnnotation]).NotTo(Equal(before.Annotations[DigestAnnotation]))
	drifted, err = Drifted(after, applied)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(drifted).To(BeTrue())
}

func TestStampRefusesWhatIsNotAnApplyConfiguration(t *testing.T) {
	g := NewWithT(t)
	g.Expect(Stamp(appsv1ac.DeploymentSpec())).To(MatchError(ContainSubstring("has no object metadata")))
	g.Expect(Stamp("x")).To(MatchError(ContainSubstring("not a typed apply configuration")))
}
