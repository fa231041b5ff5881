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
	"context"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/csaupgrade"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/drift"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// cacheLag is how long an object this operator wrote is taken to exist
// while the cache has not seen it yet. An object deleted after the write is
// forgotten by the ledger as soon as the cache sees the deletion; this bounds
// the wait in the one case where the cache could see neither.
const cacheLag = 30 * time.Second

// cacheLagRecheck is how soon a reconcile that found the cache behind this
// operator's own write is tried again.
const cacheLagRecheck = 250 * time.Millisecond

// applyOutcome is what applyIfDrifted did.
type applyOutcome int

const (
	// inSync: the cluster holds everything the object sets; nothing was written.
	inSync applyOutcome = iota
	// applied: the object was applied now.
	applied
	// applyPending: this operator applied it a moment ago and the cache has not
	// seen it yet; nothing was written.
	applyPending
	// notCreated: it does not exist and was not to be created; nothing was written.
	notCreated
)

// applyIfDrifted creates obj if it does not exist (unless create is false),
// and server-side applies it if the cluster holds it but not everything it
// sets. An object the cache holds whole is compared with the cached copy; of
// the others the ledger says whether they moved since the operator last saw
// them whole, and one that moved is read again in full (see cache.go).
func (r *LearningSandboxReconciler) applyIfDrifted(ctx context.Context, obj stack.Object, create bool) (applyOutcome, error) {
	want, err := drift.Version(obj)
	if err != nil {
		return inSync, err
	}
	key := client.ObjectKey{Name: *obj.GetName()}
	if obj.GetNamespace() != nil {
		key.Namespace = *obj.GetNamespace()
	}
	bucket, lkey := ledgerKey(*obj.GetKind(), key)
	cached, err := r.newObject(obj)
	if err != nil {
		return inSync, err
	}
	err = r.Get(ctx, key, cached)
	switch {
	case apierrors.IsNotFound(err):
		if entry, lagging := r.cacheLags(bucket, lkey); lagging && entry.Digest == want.Digest {
			return applyPending, nil
		}
		if !create {
			return notCreated, nil
		}
		_, err := r.createObject(ctx, obj, want.Digest, bucket, lkey)
		if err == nil {
			return applied, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return inSync, err
		}
		// Made meanwhile, by someone else or by this operator before the
		// cache saw it: applied over below.
	case err != nil:
		return inSync, fmt.Errorf("reading %s %s: %w", *obj.GetKind(), key, err)
	default:
		same, err := r.inSync(ctx, obj, cached, want.Digest, bucket, lkey)
		if err != nil || same {
			return inSync, err
		}
	}
	live, err := r.newObject(obj)
	if err != nil {
		return inSync, err
	}
	if err := adoptCreatedFields(ctx, r.Client, r.APIReader, key, live); err != nil {
		return inSync, fmt.Errorf("%s %s: %w", *obj.GetKind(), key, err)
	}
	if err := r.Apply(ctx, obj, client.FieldOwner(stack.FieldOwner), client.ForceOwnership); err != nil {
		return inSync, fmt.Errorf("applying %s %s: %w", *obj.GetKind(), key, err)
	}
	// The API server's answer was read into obj: it holds the new version.
	written, err := drift.Version(obj)
	if err != nil {
		return applied, err
	}
	written.Written = r.Clock.Now()
	r.ledger.Put(bucket, lkey, written)
	return applied, nil
}

// inSync reports whether the object the cache holds a copy of already holds
// everything obj sets, and records in the ledger, under bucket and lkey, the
// version it found so.
func (r *LearningSandboxReconciler) inSync(ctx context.Context, obj stack.Object, cached client.Object, digest string,
	bucket string, lkey drift.Key) (bool, error) {
	entry, known := r.ledger.Get(bucket, lkey)
	known = known && entry.Digest == digest
	switch {
	case known && drift.NotNewer(cached.GetResourceVersion(), entry.ResourceVersion):
		// The version the ledger knows, or one before this operator's own write.
		return true, nil
	case annotationsCached(cached) && cached.GetAnnotations()[drift.DigestAnnotation] != digest:
		// Applied with another configuration: the operator's changed.
		return false, nil
	}
	seen := cached
	var drifted bool
	var err error
	switch {
	case contentCached(cached):
		drifted, err = drift.Drifted(obj, cached)
	case known && generationTracked(cached) && cached.GetGeneration() == entry.Generation:
		// Same spec as when last seen whole; the status or the metadata moved.
		drifted, err = drift.MetadataDrifted(obj, cached)
	default:
		// Moved since it was last seen whole, or not seen whole since the
		// operator started: read it whole, at least as new as the cached copy.
		if seen, err = r.newObject(obj); err != nil {
			return false, err
		}
		err = r.APIReader.Get(ctx, client.ObjectKeyFromObject(cached), seen,
			&client.GetOptions{Raw: &metav1.GetOptions{ResourceVersion: cached.GetResourceVersion()}})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("reading %s %s: %w", *obj.GetKind(), klog.KObj(cached), err)
		}
		drifted, err = drift.Drifted(obj, seen)
	}
	if err != nil || drifted {
		return false, err
	}
	if contentCached(cached) {
		// Compared with the cache each time, which has now seen the
		// operator's write: the ledger need not remember it.
		r.ledger.Forget(bucket, lkey)
		return true, nil
	}
	r.ledger.Put(bucket, lkey, drift.Entry{
		ResourceVersion: seen.GetResourceVersion(), Generation: seen.GetGeneration(), Digest: digest,
	})
	return true, nil
}

// createObject creates obj whole and records the version made in the
// ledger (see createTyped).
func (r *LearningSandboxReconciler) createObject(ctx context.Context, obj stack.Object, digest string,
	bucket string, lkey drift.Key) (client.Object, error) {
	created, err := r.newObject(obj)
	if err != nil {
		return nil, err
	}
	if err := createTyped(ctx, r.Client, obj, created); err != nil {
		return nil, fmt.Errorf("creating %s %s: %w", *obj.GetKind(), klog.KObj(created), err)
	}
	r.ledger.Put(bucket, lkey, drift.Entry{
		ResourceVersion: created.GetResourceVersion(), Generation: created.GetGeneration(),
		Digest: digest, Written: r.Clock.Now(),
	})
	return created, nil
}

// createTyped creates the object that the apply configuration ac describes
// whole, read into the typed object into. The API server creates an object
// for about 60% of the CPU that a server-side apply of it costs, so what
// does not exist yet is created; adoptCreatedFields makes its fields the
// operator's apply's before the operator first applies to it.
func createTyped(ctx context.Context, c client.Client, ac any, into client.Object) error {
	raw, err := json.Marshal(ac)
	if err != nil {
		return fmt.Errorf("encoding: %w", err)
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("decoding: %w", err)
	}
	return c.Create(ctx, into, client.FieldOwner(stack.FieldOwner))
}

// adoptCreatedFields hands the fields that this operator's create of the
// object owns (an Update entry of its field manager) to its server-side
// apply, as `kubectl apply --server-side` does with what `kubectl create`
// made (client-go's csaupgrade). Without it a field that the operator no
// longer sets would stay, owned by the create, when the apply leaves it out.
// It is a write only the first time the operator applies to an object it
// created, and only then is the object read whole, into live, for its
// managed fields.
func adoptCreatedFields(ctx context.Context, c client.Client, reader client.Reader, key client.ObjectKey, live client.Object) error {
	if err := reader.Get(ctx, key, live); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("reading: %w", err)
	}
	patch, err := csaupgrade.UpgradeManagedFieldsPatch(live, sets.New(stack.FieldOwner), stack.FieldOwner)
	if err != nil || patch == nil {
		return err
	}
	if err := c.Patch(ctx, live, client.RawPatch(types.JSONPatchType, patch), client.FieldOwner(stack.FieldOwner)); err != nil {
		return fmt.Errorf("handing its fields to server-side apply: %w", err)
	}
	return nil
}

// cacheLags reports whether the ledger holds a write of this operator to the
// object so recent that a cache without the object has not seen it yet.
func (r *LearningSandboxReconciler) cacheLags(bucket string, lkey drift.Key) (drift.Entry, bool) {
	entry, ok := r.ledger.Get(bucket, lkey)
	return entry, ok && !entry.Written.IsZero() && r.Clock.Since(entry.Written) < cacheLag
}

// createNamespace creates the sandbox's namespace as the stack renders it.
func (r *LearningSandboxReconciler) createNamespace(ctx context.Context, sb *sandboxv1.LearningSandbox,
	stage *sandboxv1.RoadmapStage) (*corev1.Namespace, error) {
	desired, err := stack.NamespaceOf(sb, stage, r.Settings)
	if err != nil {
		return nil, err
	}
	bucket, lkey := ledgerKey("Namespace", client.ObjectKey{Name: *desired.Name})
	created, err := r.createObject(ctx, desired, desired.Annotations[drift.DigestAnnotation], bucket, lkey)
	if err != nil {
		return nil, err
	}
	ctrl.LoggerFrom(ctx).Info("Created namespace", "namespace", klog.KObj(created))
	return created.(*corev1.Namespace), nil
}

// statusBehind reports whether the cached sandbox is older than this
// operator's last write of its status.
func (r *LearningSandboxReconciler) statusBehind(sb *sandboxv1.LearningSandbox) bool {
	entry, ok := r.ledger.Get(r.Settings.NamespaceName(sb.Name), sandboxStatusKey(sb.Name))
	return ok && !drift.NotNewer(entry.ResourceVersion, sb.ResourceVersion)
}

// recordStatusWrite records the version a status write of the sandbox made.
func (r *LearningSandboxReconciler) recordStatusWrite(sb *sandboxv1.LearningSandbox) {
	r.ledger.Put(r.Settings.NamespaceName(sb.Name), sandboxStatusKey(sb.Name),
		drift.Entry{ResourceVersion: sb.ResourceVersion, Written: r.Clock.Now()})
}

func sandboxStatusKey(name string) drift.Key {
	return drift.Key{Kind: "LearningSandbox/status", Name: name}
}

// ledgerKey is where the ledger keeps an object: with its namespace's
// objects, a namespace with its own.
func ledgerKey(kind string, key client.ObjectKey) (string, drift.Key) {
	if key.Namespace == "" {
		return key.Name, drift.Key{Kind: kind, Name: key.Name}
	}
	return key.Namespace, drift.Key{Kind: kind, Name: key.Name}
}

// forgetDeleted drops from the ledger every object the cache sees deleted, so
// that a deleted object is made again at once, never taken for one the cache
// has not seen yet.
func (r *LearningSandboxReconciler) forgetDeleted(kind string) toolscache.ResourceEventHandler {
	return toolscache.ResourceEventHandlerFuncs{DeleteFunc: func(obj any) {
		if tombstone, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
			obj = tombstone.Obj
		}
		o, ok := obj.(client.Object)
		if !ok {
			return
		}
		bucket, lkey := ledgerKey(kind, client.ObjectKeyFromObject(o))
		r.ledger.Forget(bucket, lkey)
	}}
}
