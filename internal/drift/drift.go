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
// Package drift tells whether an object in the cluster already holds what a
// server-side apply would set, so that a controller applies only what drifted
// and makes no write at all when nothing did.
package drift

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"

	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
)

// DigestAnnotation holds a digest of the apply configuration an object was
// last applied with. A field that a new configuration no longer sets is still
// in the cluster, where a subset check cannot tell it from someone else's
// field; the digest changes, so the object is applied and server-side apply
// removes the field.
const DigestAnnotation = "sandbox.learning.dev/applied-digest"

// Stamp sets DigestAnnotation on a typed apply configuration (such as a
// *appsv1ac.DeploymentApplyConfiguration whose name is set) to the digest of
// everything else in it. Call it last, once the configuration is complete.
func Stamp(obj any) error {
	raw, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("encoding the apply configuration: %w", err)
	}
	sum := sha256.Sum256(raw)
	meta, err := objectMeta(obj)
	if err != nil {
		return err
	}
	meta.WithAnnotations(map[string]string{DigestAnnotation: hex.EncodeToString(sum[:])[:20]})
	return nil
}

// objectMeta is the metadata of a typed apply configuration: every one of
// them embeds *metav1ac.ObjectMetaApplyConfiguration, set once a name is.
func objectMeta(obj any) (*metav1ac.ObjectMetaApplyConfiguration, error) {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("%T is not a typed apply configuration", obj)
	}
	f := v.Elem().FieldByName("ObjectMetaApplyConfiguration")
	if !f.IsValid() {
		return nil, fmt.Errorf("%T has no object metadata", obj)
	}
	meta, ok := reflect.TypeAssert[*metav1ac.ObjectMetaApplyConfiguration](f)
	if !ok || meta == nil {
		return nil, fmt.Errorf("%T has no name set", obj)
	}
	return meta, nil
}

// Drifted reports whether existing lacks any field that desired sets, or holds
// another value there. Fields that desired does not set are not looked at:
// they belong to the API server's defaults or to other field managers, as they
// do under server-side apply. Both are compared as JSON, the form the API
// server stores them in.
func Drifted(desired, existing any) (bool, error) {
	d, e, err := toMaps(desired, existing)
	if err != nil {
		return false, err
	}
	return !contains(e, d), nil
}

// toMaps encodes the desired and the existing object as JSON maps.
func toMaps(desired, existing any) (d, e map[string]any, err error) {
	if d, err = toMap(desired); err != nil {
		return nil, nil, fmt.Errorf("encoding desired object: %w", err)
	}
	if e, err = toMap(existing); err != nil {
		return nil, nil, fmt.Errorf("encoding existing object: %w", err)
	}
	return d, e, nil
}

func toMap(obj any) (map[string]any, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// contains reports whether have holds every field of want with an equal value.
// apiVersion and kind are identity, not state: objects read from a cache carry
// none, and claim templates get them defaulted.
func contains(have, want map[string]any) bool {
	for k, w := range want {
		if k == "apiVersion" || k == "kind" {
			continue
		}
		h, found := have[k]
		if !found || !valueContains(h, w) {
			return false
		}
	}
	return true
}

func valueContains(have, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		return ok && contains(h, w)
	case []any:
		h, ok := have.([]any)
		if !ok {
			return false
		}
		return listContains(h, w)
	default:
		return reflect.DeepEqual(have, want)
	}
}

// listContains compares lists. A list of objects (containers, ports, env, owner
// references) is merged by key under server-side apply, so each wanted element
// must be found among the elements there, in order. A list of scalars (command,
// args, capabilities) is atomic and must be equal.
func listContains(have, want []any) bool {
	if len(want) == 0 {
		return len(have) == 0
	}
	if _, objects := want[0].(map[string]any); !objects {
		return reflect.DeepEqual(have, want)
	}
	next := 0
	for _, w := range want {
		found := false
		for next < len(have) {
			h := have[next]
			next++
			if valueContains(h, w) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// MetadataDrifted is Drifted for the metadata alone: the labels, annotations
// and owner references that desired sets.
func MetadataDrifted(desired, existing any) (bool, error) {
	d, e, err := toMaps(desired, existing)
	if err != nil {
		return false, err
	}
	return !valueContains(e["metadata"], d["metadata"]), nil
}

// Version is what a typed apply configuration holds of its object's version:
// the resourceVersion and generation (set once the API server's answer to an
// apply is read into it) and the digest Stamp set.
func Version(obj any) (Entry, error) {
	meta, err := objectMeta(obj)
	if err != nil {
		return Entry{}, err
	}
	e := Entry{Digest: meta.Annotations[DigestAnnotation]}
	if meta.ResourceVersion != nil {
		e.ResourceVersion = *meta.ResourceVersion
	}
	if meta.Generation != nil {
		e.Generation = *meta.Generation
	}
	return e, nil
}
