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
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// What the cache holds of the operator's objects, and why.
//
// The cache keeps of each object only what the operator reads back: the
// metadata (labels, owners, the resourceVersion and generation) of all, the
// annotations (with the applied digest) of those it keeps more of, and
//   - of Deployments and StatefulSets, the spec without its pod template and
//     selector (kstatus reads the replicas and the update strategy; a reset
//     reads the claim templates' size and class and the serviceName), and the
//     status, which tells readiness, without the conditions' messages;
//   - of Services, the type (a check of a component whose Service was
//     retyped, to ExternalName say, fails and says so);
//   - of Secrets, the data, except of the connection Secret, which is derived;
//   - of ResourceQuotas, the spec (one copy shared by the quotas that are
//     alike); of Namespaces, the status (what a
//     terminating one waits for); of ServiceAccounts, all.
//
// Whether what was left out drifted is told by the ledger (drift.Ledger):
// every write moves an object's resourceVersion, every change of a
// workload's spec its generation, and an object that moved since the
// operator last saw it whole is read again in full before anything is
// applied. contentCached says which objects the cache holds whole.

// transformCached trims an object to what the cache keeps of it.
func transformCached() toolscache.TransformFunc {
	stripManagedFields := cache.TransformStripManagedFields()
	shared := &interner{}
	return func(in any) (any, error) {
		switch o := in.(type) {
		case *appsv1.Deployment:
			o.Spec.Template, o.Spec.Selector = corev1.PodTemplateSpec{}, nil
			for i := range o.Status.Conditions {
				o.Status.Conditions[i].Message = ""
			}
		case *appsv1.StatefulSet:
			o.Spec.Template, o.Spec.Selector = corev1.PodTemplateSpec{}, nil
			for i := range o.Status.Conditions {
				o.Status.Conditions[i].Message = ""
			}
			for i := range o.Spec.VolumeClaimTemplates {
				t := &o.Spec.VolumeClaimTemplates[i]
				*t = corev1.PersistentVolumeClaim{
					ObjectMeta: metav1.ObjectMeta{Name: t.Name},
					Spec: corev1.PersistentVolumeClaimSpec{
						Resources:        corev1.VolumeResourceRequirements{Requests: shared.internResources(t.Spec.Resources.Requests)},
						StorageClassName: t.Spec.StorageClassName,
					},
				}
			}
		case *corev1.Service:
			o.Spec = corev1.ServiceSpec{Type: o.Spec.Type}
			o.Status = corev1.ServiceStatus{}
		case *corev1.ConfigMap:
			o.Data, o.BinaryData = nil, nil
		case *corev1.Secret:
			if !contentCached(o) {
				o.Data, o.StringData = nil, nil
			}
		case *networkingv1.NetworkPolicy:
			o.Spec = networkingv1.NetworkPolicySpec{}
		case *rbacv1.RoleBinding:
			o.Subjects, o.RoleRef = nil, rbacv1.RoleRef{}
		case *corev1.LimitRange:
			o.Spec = corev1.LimitRangeSpec{}
		case *corev1.ResourceQuota:
			// The quota controller's usage figures, rewritten whenever a pod comes or goes.
			o.Status = corev1.ResourceQuotaStatus{}
			o.Spec.Hard = shared.internResources(o.Spec.Hard)
		case *corev1.PersistentVolumeClaim:
			// A reset finds a sandbox's claims by their labels.
			o.Spec, o.Status = corev1.PersistentVolumeClaimSpec{}, corev1.PersistentVolumeClaimStatus{}
		}
		if obj, ok := in.(client.Object); ok {
			if annotationsCached(obj) {
				dropLastApplied(obj)
			} else {
				obj.SetAnnotations(nil)
			}
			shared.internMeta(obj)
		}
		return stripManagedFields(in)
	}
}

// interner shares one copy of what the cached objects repeat: the strings
// (a sandbox's objects repeat the same namespace, label keys and values and
// owner some twenty times, and decoded each is a copy of its own), and
// whole label maps and owner reference lists, which many objects of a
// sandbox have alike. Sharing is safe because the cache's objects are never
// changed in place: readers get deep copies.
type interner struct {
	mu        sync.Mutex
	strings   map[string]string
	labels    map[uint64]map[string]string
	owners    map[string][]metav1.OwnerReference
	resources map[string]corev1.ResourceList
}

// maxInterned bounds each of the interner's tables: when one is full it
// starts again, so that what deleted sandboxes had does not stay. The
// objects keep what they share; new ones share anew.
const maxInterned = 1 << 14

// intern returns the shared copy of s. Call it with in.mu held.
func (in *interner) intern(s string) string {
	if v, ok := in.strings[s]; ok {
		return v
	}
	if len(in.strings) >= maxInterned || in.strings == nil {
		in.strings = make(map[string]string, maxInterned/4)
	}
	in.strings[s] = s
	return s
}

// internLabels returns the shared copy of a label map. The table is keyed
// by a hash of the map, not by its text: most label maps name their sandbox
// and are shared only by its own objects, and a text key would cost as much
// as the map it saves. Maps whose hashes collide are simply not shared.
func (in *interner) internLabels(m map[string]string) map[string]string {
	if len(m) == 0 {
		return m
	}
	h := fnv.New64a()
	for _, k := range slices.Sorted(maps.Keys(m)) {
		_, _ = h.Write([]byte(k))
		_, _ = h.Write([]byte{'='})
		_, _ = h.Write([]byte(m[k]))
		_, _ = h.Write([]byte{0})
	}
	key := h.Sum64()
	if shared, ok := in.labels[key]; ok && maps.Equal(shared, m) {
		return shared
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[in.intern(k)] = in.intern(v)
	}
	if len(in.labels) >= maxInterned || in.labels == nil {
		in.labels = make(map[uint64]map[string]string, maxInterned/4)
	}
	in.labels[key] = out
	return out
}

// internResources returns the shared copy of a resource list: the quotas
// of a stage's sandboxes are alike, and a list of quantities is large.
func (in *interner) internResources(rl corev1.ResourceList) corev1.ResourceList {
	if len(rl) == 0 {
		return rl
	}
	var key strings.Builder
	for _, name := range slices.Sorted(maps.Keys(rl)) {
		q := rl[name]
		key.WriteString(string(name))
		key.WriteByte('=')
		key.WriteString(q.String())
		key.WriteByte(0)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if shared, ok := in.resources[key.String()]; ok {
		return shared
	}
	if len(in.resources) >= maxInterned || in.resources == nil {
		in.resources = make(map[string]corev1.ResourceList, 64)
	}
	in.resources[key.String()] = rl
	return rl
}

// internOwners returns the shared copy of a list of owner references.
func (in *interner) internOwners(refs []metav1.OwnerReference) []metav1.OwnerReference {
	if len(refs) == 0 {
		return refs
	}
	var key strings.Builder
	for _, r := range refs {
		fmt.Fprintf(&key, "%s/%s/%s/%s/%t/%t\x00", r.APIVersion, r.Kind, r.Name, r.UID,
			ptr.Deref(r.Controller, false), ptr.Deref(r.BlockOwnerDeletion, false))
	}
	if shared, ok := in.owners[key.String()]; ok {
		return shared
	}
	for i := range refs {
		refs[i].APIVersion, refs[i].Kind = in.intern(refs[i].APIVersion), in.intern(refs[i].Kind)
		refs[i].Name, refs[i].UID = in.intern(refs[i].Name), types.UID(in.intern(string(refs[i].UID)))
	}
	if len(in.owners) >= maxInterned || in.owners == nil {
		in.owners = make(map[string][]metav1.OwnerReference, maxInterned/4)
	}
	in.owners[key.String()] = refs
	return refs
}

// internMeta makes the object's metadata share what other objects have.
func (in *interner) internMeta(obj client.Object) {
	in.mu.Lock()
	defer in.mu.Unlock()
	obj.SetNamespace(in.intern(obj.GetNamespace()))
	obj.SetLabels(in.internLabels(obj.GetLabels()))
	if a := obj.GetAnnotations(); len(a) > 0 {
		// The applied digest makes each object's annotations its own.
		out := make(map[string]string, len(a))
		for k, v := range a {
			out[in.intern(k)] = v
		}
		obj.SetAnnotations(out)
	}
	obj.SetOwnerReferences(in.internOwners(obj.GetOwnerReferences()))
}

// contentCached reports whether the cache holds all of the object that the
// operator sets, so that drift is seen by comparing with the cached copy.
// Of the others only the metadata is there, and the ledger tells drift.
func contentCached(obj client.Object) bool {
	switch obj.(type) {
	case *corev1.Namespace, *corev1.ResourceQuota, *corev1.ServiceAccount:
		return true
	case *corev1.Secret:
		return obj.GetName() != stack.ConnectionSecretName || obj.GetLabels()[sandboxv1.SandboxLabel] == ""
	default:
		return false
	}
}

// annotationsCached reports whether the cache keeps the object's
// annotations. Of the operator's objects whose content the cache does not
// hold, and whose spec has no generation, it keeps none: the applied digest, which
// makes every object's annotations its own, is then in the ledger, and an
// edit of the annotations moves the resourceVersion as any other does.
func annotationsCached(obj client.Object) bool {
	switch obj.(type) {
	case *corev1.ConfigMap, *corev1.Service, *networkingv1.NetworkPolicy, *rbacv1.RoleBinding,
		*corev1.LimitRange, *corev1.PersistentVolumeClaim:
		return false
	case *corev1.Secret:
		return contentCached(obj)
	default:
		return true
	}
}

// generationTracked reports whether every change to the object's spec moves
// its generation while others write its status: a new resourceVersion with
// the same generation is then the status, or the metadata, which the cache
// holds.
func generationTracked(obj client.Object) bool {
	switch obj.(type) {
	case *appsv1.Deployment, *appsv1.StatefulSet:
		return true
	default:
		return false
	}
}

// lastAppliedAnnotation is what `kubectl apply` (client side) keeps of the
// configuration it applied: the whole object again, never read here.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

func dropLastApplied(obj client.Object) {
	if a := obj.GetAnnotations(); a != nil {
		if _, ok := a[lastAppliedAnnotation]; ok {
			delete(a, lastAppliedAnnotation)
			obj.SetAnnotations(a)
		}
	}
}

// cachedChange passes the updates of a child that change what the cache holds
// of it, and drops the rest, such as a ResourceQuota's new usage figures,
// which transformCached leaves out: only the resourceVersion tells them
// apart. An object whose content the cache does not hold passes on any new
// resourceVersion: a hand edit of what was left out looks like nothing else.
var cachedChange = predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
	if e.ObjectOld == nil || e.ObjectNew == nil {
		return true
	}
	if !contentCached(e.ObjectNew) && !generationTracked(e.ObjectNew) {
		return e.ObjectOld.GetResourceVersion() != e.ObjectNew.GetResourceVersion()
	}
	updated, ok := e.ObjectNew.DeepCopyObject().(client.Object)
	if !ok {
		return true
	}
	updated.SetResourceVersion(e.ObjectOld.GetResourceVersion())
	return !equality.Semantic.DeepEqual(e.ObjectOld, updated)
}}
