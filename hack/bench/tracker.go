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

package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// rawManagedBy replaces the managed-by label on the baseline's objects, so
// that they are counted apart from the operator's and the operator never caches them.
const rawManagedBy = "learning-sandbox-bench-raw"

// Keys of what the tracker counts besides objects by managed-by label.
const (
	keySandboxes = "sandboxes"
	keyReady     = "ready"
)

// resources are the kinds the operator makes, as the API serves them.
var resources = map[string]schema.GroupVersionResource{
	kindNamespace:    {Version: "v1", Resource: "namespaces"},
	kindSecret:       {Version: "v1", Resource: "secrets"},
	"Service":        {Version: "v1", Resource: "services"},
	"ConfigMap":      {Version: "v1", Resource: "configmaps"},
	"ServiceAccount": {Version: "v1", Resource: "serviceaccounts"},
	"ResourceQuota":  {Version: "v1", Resource: "resourcequotas"},
	"LimitRange":     {Version: "v1", Resource: "limitranges"},
	"Deployment":     {Group: "apps", Version: "v1", Resource: "deployments"},
	"StatefulSet":    {Group: "apps", Version: "v1", Resource: "statefulsets"},
	"NetworkPolicy":  {Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"},
	"RoleBinding":    {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"},
}

// sandboxResource is the LearningSandbox API.
var sandboxResource = sandboxv1.GroupVersion.WithResource("learningsandboxes")

// tracker watches the cluster, with metadata-only informers filtered by the
// managed-by label (one LIST, then watch events: it adds no polling load to
// the API server), and counts the objects of the operator and of the
// baseline by kind, the sandboxes and the Ready ones. Each count can be given
// a target; the tracker records when it is first reached.
type tracker struct {
	mu      sync.Mutex
	counts  map[string]int
	targets map[string]int
	reached map[string]time.Time
	ready   map[string]bool
	// readyAt is when each sandbox was first Ready.
	readyAt map[string]time.Time
	// workloads are the baseline's workloads' readiness by namespace, and
	// rawReadyAt when each namespace had all of them ready.
	workloads           map[string]map[string]bool
	rawReadyAt          map[string]time.Time
	workloadsPerSandbox int
	cancel              context.CancelFunc
}

// startTracker starts the informers and waits until they have synced;
// perSandbox counts the objects of one sandbox by kind.
func startTracker(ctx context.Context, cfg *rest.Config, perSandbox map[string]int) (*tracker, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 50, 100
	t := &tracker{counts: map[string]int{}, targets: map[string]int{}, reached: map[string]time.Time{},
		ready: map[string]bool{}, readyAt: map[string]time.Time{}, workloads: map[string]map[string]bool{},
		rawReadyAt: map[string]time.Time{}}
	kinds := slices.Sorted(maps.Keys(perSandbox))
	ctx, t.cancel = context.WithCancel(ctx)
	synced, err := t.startObjectInformers(ctx, cfg, kinds)
	if err != nil {
		t.stop()
		return nil, err
	}
	more, err := t.startSandboxInformer(ctx, cfg, perSandbox)
	if err != nil {
		t.stop()
		return nil, err
	}
	synced = append(synced, more...)
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		t.stop()
		return nil, fmt.Errorf("the bench's informers did not sync")
	}
	return t, nil
}

// stop stops the informers.
func (t *tracker) stop() { t.cancel() }

// startObjectInformers watches the metadata of each kind's objects that carry
// the operator's or the baseline's managed-by label.
func (t *tracker) startObjectInformers(ctx context.Context, cfg *rest.Config, kinds []string) ([]cache.InformerSynced,
	error) {
	client, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("making a metadata client: %w", err)
	}
	selector := fmt.Sprintf("%s in (%s,%s)", stack.ManagedByLabel, stack.ManagedBy, rawManagedBy)
	factory := metadatainformer.NewFilteredSharedInformerFactory(client, 0, metav1.NamespaceAll,
		func(o *metav1.ListOptions) { o.LabelSelector = selector })
	synced := make([]cache.InformerSynced, 0, len(kinds))
	for _, kind := range kinds {
		gvr, ok := resources[kind]
		if !ok {
			return nil, fmt.Errorf("the bench does not know the resource of kind %s", kind)
		}
		inf := factory.ForResource(gvr).Informer()
		if err := inf.SetTransform(stripToLabels); err != nil {
			return nil, fmt.Errorf("watching %s: %w", kind, err)
		}
		if _, err := inf.AddEventHandler(t.objectHandler(kind)); err != nil {
			return nil, fmt.Errorf("watching %s: %w", kind, err)
		}
		synced = append(synced, inf.HasSynced)
	}
	factory.Start(ctx.Done())
	return synced, nil
}

// stripToLabels keeps of an object's metadata what the tracker needs.
func stripToLabels(obj any) (any, error) {
	m, err := apimeta.Accessor(obj)
	if err != nil {
		// A tombstone passes through unchanged.
		return obj, nil
	}
	m.SetManagedFields(nil)
	m.SetAnnotations(nil)
	m.SetOwnerReferences(nil)
	return obj, nil
}

// objectHandler counts the objects of one kind by their managed-by label.
func (t *tracker) objectHandler(kind string) cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { t.countObject(kind, obj, 1) },
		UpdateFunc: func(old, obj any) {
			if managedBy(old) != managedBy(obj) {
				t.countObject(kind, old, -1)
				t.countObject(kind, obj, 1)
			}
		},
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			t.countObject(kind, obj, -1)
		},
	}
}

// managedBy is the managed-by label of an object.
func managedBy(obj any) string {
	m, err := apimeta.Accessor(obj)
	if err != nil {
		return ""
	}
	return m.GetLabels()[stack.ManagedByLabel]
}

// countObject adds delta to the counts of the object's label and kind.
func (t *tracker) countObject(kind string, obj any, delta int) {
	label := managedBy(obj)
	if label == "" {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.add(label, delta)
	t.add(label+"/"+kind, delta)
}

// add changes a count and records when its target is reached; t.mu is held.
func (t *tracker) add(key string, delta int) {
	t.counts[key] += delta
	if want, ok := t.targets[key]; ok && t.counts[key] >= want && t.reached[key].IsZero() {
		t.reached[key] = time.Now()
	}
}

// startSandboxInformer watches the LearningSandboxes and counts the Ready ones.
// It watches the baseline's workloads too (startWorkloadInformer).
func (t *tracker) startSandboxInformer(ctx context.Context, cfg *rest.Config, perSandbox map[string]int) (
	[]cache.InformerSynced, error) {
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("making a dynamic client: %w", err)
	}
	synced := t.startWorkloadInformer(ctx, client, perSandbox[kindDeployment]+perSandbox[kindStatefulSet])
	factory := dynamicinformer.NewDynamicSharedInformerFactory(client, 0)
	inf := factory.ForResource(sandboxResource).Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { t.setSandbox(obj, false) },
		UpdateFunc: func(_, obj any) { t.setSandbox(obj, false) },
		DeleteFunc: func(obj any) { t.setSandbox(obj, true) },
	}); err != nil {
		return nil, fmt.Errorf("watching sandboxes: %w", err)
	}
	factory.Start(ctx.Done())
	return append(synced, inf.HasSynced), nil
}

// setSandbox records whether a sandbox exists and is Ready.
func (t *tracker) setSandbox(obj any, deleted bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if deleted {
		delete(t.ready, u.GetName())
	} else {
		t.ready[u.GetName()] = isReady(u)
		if _, seen := t.readyAt[u.GetName()]; !seen && t.ready[u.GetName()] {
			t.readyAt[u.GetName()] = time.Now()
		}
	}
	ready := 0
	for _, r := range t.ready {
		if r {
			ready++
		}
	}
	t.add(keySandboxes, len(t.ready)-t.counts[keySandboxes])
	t.add(keyReady, ready-t.counts[keyReady])
}

// isReady reports whether a sandbox has the condition Ready=True.
func isReady(u *unstructured.Unstructured) bool {
	conditions, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conditions {
		m, ok := c.(map[string]any)
		if ok && m["type"] == sandboxv1.ReadyCondition && m["status"] == string(metav1.ConditionTrue) {
			return true
		}
	}
	return false
}

// expect sets the target of a count and forgets when it was last reached.
func (t *tracker) expect(key string, want int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.targets[key] = want
	delete(t.reached, key)
	if t.counts[key] >= want {
		t.reached[key] = time.Now()
	}
}

// count is the current value of a count.
func (t *tracker) count(key string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.counts[key]
}

// reachedAt is when a count reached its target, or zero.
func (t *tracker) reachedAt(key string) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.reached[key]
}

// target is the target of a count.
func (t *tracker) target(key string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.targets[key]
}

// wait waits until a count reaches its target and returns when it did.
func (t *tracker) wait(ctx context.Context, key, what string, timeout time.Duration) (time.Time, error) {
	var at time.Time
	err := poll(ctx, 100*time.Millisecond, timeout, what, func() (bool, error) {
		at = t.reachedAt(key)
		return !at.IsZero(), nil
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("%w (%d of %d)", err, t.count(key), t.target(key))
	}
	return at, nil
}

// logProgress logs a count every 10 s until it reaches its target or the returned stop is called.
func (t *tracker) logProgress(ctx context.Context, key, what string) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		ticker := time.NewTicker(10 * time.Second)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
				if !t.reachedAt(key).IsZero() {
					return
				}
				logf("  %s: %d/%d", what, t.count(key), t.target(key))
			}
		}
	}()
	return cancel
}
