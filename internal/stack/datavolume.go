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

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/utils/ptr"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// dataVolumeName names the volume a Postgres component keeps its data on: the
// StatefulSet's claim template, or an emptyDir when ephemeral.
const dataVolumeName = "data"

// DataVolume is what a Postgres StatefulSet keeps its data on. Kubernetes
// refuses any change to a StatefulSet's volume claim templates, so once the
// StatefulSet exists its data volume stays as it was made: a change of size,
// storage class or ephemerality takes effect when a reset (or removing the
// component) makes the StatefulSet anew, and the component's status says so.
type DataVolume struct {
	Ephemeral        bool
	Storage          resource.Quantity
	StorageClassName *string
}

// DataVolumeOf is the data volume an existing StatefulSet was made with: a
// Postgres's data or a Workspace's home.
func DataVolumeOf(sts *appsv1.StatefulSet) DataVolume {
	for _, t := range sts.Spec.VolumeClaimTemplates {
		if t.Name == dataVolumeName || t.Name == homeVolumeName {
			return DataVolume{Storage: t.Spec.Resources.Requests[corev1.ResourceStorage], StorageClassName: t.Spec.StorageClassName}
		}
	}
	return DataVolume{Ephemeral: true}
}

// dataVolume is the data volume a Postgres component asks for.
func dataVolume(c sandboxv1.Component) DataVolume {
	if ptr.Deref(c.Ephemeral, false) {
		return DataVolume{Ephemeral: true}
	}
	return DataVolume{Storage: ptr.Deref(c.Storage, DefaultStorage), StorageClassName: c.StorageClassName}
}

func (v DataVolume) equal(o DataVolume) bool {
	if v.Ephemeral || o.Ephemeral {
		return v.Ephemeral == o.Ephemeral
	}
	return v.Storage.Cmp(o.Storage) == 0 && ptr.Equal(v.StorageClassName, o.StorageClassName)
}

func (v DataVolume) String() string {
	switch {
	case v.Ephemeral:
		return "ephemeral"
	case v.StorageClassName != nil:
		return fmt.Sprintf("%s of storage class %q", v.Storage.String(), *v.StorageClassName)
	default:
		return v.Storage.String()
	}
}

// keepDataVolume makes a Postgres component run on the data volume its
// StatefulSet already has, and notes a change that waits for a reset.
func keepDataVolume(c *Component, existing DataVolume) {
	want := dataVolume(c.Component)
	if want.equal(existing) {
		return
	}
	c.Ephemeral = new(existing.Ephemeral)
	c.Storage, c.StorageClassName = nil, nil
	if !existing.Ephemeral {
		c.Storage = new(existing.Storage)
		c.StorageClassName = existing.StorageClassName
	}
	c.Note = fmt.Sprintf("data volume stays %s until the next reset (spec.resetGeneration), which makes it %s",
		existing, want)
}

// claimTemplate is a StatefulSet's claim template for the volume, labelled
// with the reset generation, so that a reset deletes the claims made from it.
func (r *renderer) claimTemplate(name, component string, volume DataVolume) *corev1ac.PersistentVolumeClaimApplyConfiguration {
	claim := corev1ac.PersistentVolumeClaimSpec().
		WithAccessModes(corev1.ReadWriteOnce).
		WithResources(corev1ac.VolumeResourceRequirements().
			WithRequests(corev1.ResourceList{corev1.ResourceStorage: volume.Storage}))
	if volume.StorageClassName != nil {
		claim.WithStorageClassName(*volume.StorageClassName)
	}
	// Built without kind and namespace, which a claim template does not have.
	template := &corev1ac.PersistentVolumeClaimApplyConfiguration{}
	return template.WithName(name).WithLabels(r.dataLabels(component)).WithSpec(claim)
}
