package stack

import (
	"encoding/json"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// renderedStatefulSet renders a stage of one Postgres component with the
// given existing data volumes and returns its StatefulSet and component.
func renderedStatefulSet(g Gomega, c sandboxv1.Component, existing map[string]DataVolume) (*appsv1.StatefulSet, Component) {
	st, err := Render(Input{Sandbox: testSandbox("custom"), Stage: stageOf(c), Credentials: testCredentials,
		DataVolumes: existing}, DefaultSettings())
	g.Expect(err).NotTo(HaveOccurred())
	for _, obj := range st.Objects {
		if *obj.GetKind() == "StatefulSet" {
			raw, err := json.Marshal(obj)
			g.Expect(err).NotTo(HaveOccurred())
			sts := &appsv1.StatefulSet{}
			g.Expect(json.Unmarshal(raw, sts)).To(Succeed())
			return sts, st.Components[0]
		}
	}
	g.Expect("a StatefulSet").To(BeEmpty(), "the stack has no StatefulSet")
	return nil, Component{}
}

// TestExistingDataVolumeIsKept: a StatefulSet's claim template cannot change,
// so a change of size, class or ephemerality renders the data volume the
// StatefulSet has, and the component says that the change waits for a reset.
func TestExistingDataVolumeIsKept(t *testing.T) {
	oneGi, fiveGi := resource.MustParse("1Gi"), resource.MustParse("5Gi")
	persistent := DataVolume{Storage: oneGi}
	for _, tc := range []struct {
		name     string
		asked    sandboxv1.Component
		existing map[string]DataVolume
		rendered DataVolume
		note     string
	}{
		{name: "no StatefulSet yet: as asked",
			asked: sandboxv1.Component{Storage: &fiveGi}, rendered: DataVolume{Storage: fiveGi}},
		{name: "unchanged",
			asked:    sandboxv1.Component{Storage: &oneGi},
			existing: map[string]DataVolume{"postgres": persistent}, rendered: persistent},
		{name: "the default is the same as 1Gi",
			existing: map[string]DataVolume{"postgres": persistent}, rendered: persistent},
		{name: "larger: kept until a reset",
			asked:    sandboxv1.Component{Storage: &fiveGi},
			existing: map[string]DataVolume{"postgres": persistent}, rendered: persistent,
			note: "data volume stays 1Gi until the next reset (spec.resetGeneration), which makes it 5Gi"},
		{name: "another storage class: kept",
			asked:    sandboxv1.Component{StorageClassName: new("fast")},
			existing: map[string]DataVolume{"postgres": persistent}, rendered: persistent,
			note: `which makes it 1Gi of storage class "fast"`},
		{name: "ephemeral now: the claim is kept",
			asked:    sandboxv1.Component{Ephemeral: new(true)},
			existing: map[string]DataVolume{"postgres": persistent}, rendered: persistent,
			note: "which makes it ephemeral"},
		{name: "persistent now: the emptyDir is kept",
			asked:    sandboxv1.Component{Storage: &fiveGi},
			existing: map[string]DataVolume{"postgres": {Ephemeral: true}}, rendered: DataVolume{Ephemeral: true},
			note: "data volume stays ephemeral until the next reset"},
		{name: "another component's volume is not this one's",
			asked:    sandboxv1.Component{Storage: &fiveGi},
			existing: map[string]DataVolume{"db": persistent}, rendered: DataVolume{Storage: fiveGi}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c := tc.asked
			c.Name, c.Type = "postgres", sandboxv1.ComponentPostgres
			sts, component := renderedStatefulSet(g, c, tc.existing)
			g.Expect(DataVolumeOf(sts).equal(tc.rendered)).To(BeTrue(), "rendered %s, want %s", DataVolumeOf(sts), tc.rendered)
			if tc.note == "" {
				g.Expect(component.Note).To(BeEmpty())
			} else {
				g.Expect(component.Note).To(ContainSubstring(tc.note))
			}
		})
	}
}
