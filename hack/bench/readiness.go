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
	"math"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"

	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// keyRawReady counts the baseline's sandboxes whose workloads are all ready.
const keyRawReady = "raw-ready"

// workloadKinds are the kinds whose readiness makes a baseline sandbox Ready,
// as the operator's components make a sandbox Ready.
var workloadKinds = []string{kindDeployment, kindStatefulSet}

// workload is what the tracker keeps of a baseline Deployment or StatefulSet:
// its name and namespace, which the informer's store keys it by, and whether
// its replicas are ready.
type workload struct {
	metav1.ObjectMeta
	kind  string
	ready bool
}

// startWorkloadInformer watches the baseline's Deployments and StatefulSets,
// kept as their namespace, name and readiness only, and records when each
// baseline sandbox (a namespace) has all of its perSandbox workloads ready.
func (t *tracker) startWorkloadInformer(ctx context.Context, client dynamic.Interface,
	perSandbox int) []cache.InformerSynced {
	t.workloadsPerSandbox = perSandbox
	selector := fmt.Sprintf("%s=%s", stack.ManagedByLabel, rawManagedBy)
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(client, 0, metav1.NamespaceAll,
		func(o *metav1.ListOptions) { o.LabelSelector = selector })
	synced := make([]cache.InformerSynced, 0, len(workloadKinds))
	for _, kind := range workloadKinds {
		inf := factory.ForResource(resources[kind]).Informer()
		// The transform keeps a few bytes of each object, even at 10,000 sandboxes.
		_ = inf.SetTransform(toWorkload)
		_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    t.setWorkload,
			UpdateFunc: func(_, obj any) { t.setWorkload(obj) },
		})
		synced = append(synced, inf.HasSynced)
	}
	factory.Start(ctx.Done())
	return synced
}

// toWorkload reduces a Deployment or StatefulSet to whether all its replicas are ready.
func toWorkload(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	want, found, _ := unstructured.NestedInt64(u.Object, "spec", "replicas")
	if !found {
		want = 1
	}
	ready, _, _ := unstructured.NestedInt64(u.Object, "status", "readyReplicas")
	return &workload{ObjectMeta: metav1.ObjectMeta{Namespace: u.GetNamespace(), Name: u.GetName()}, kind: u.GetKind(),
			ready: ready >= want},
		nil
}

// setWorkload records a workload's readiness, and its sandbox's once all are ready.
func (t *tracker) setWorkload(obj any) {
	w, ok := obj.(*workload)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	states := t.workloads[w.Namespace]
	if states == nil {
		states = map[string]bool{}
		t.workloads[w.Namespace] = states
	}
	states[w.kind+"/"+w.Name] = w.ready
	if _, done := t.rawReadyAt[w.Namespace]; done || len(states) < t.workloadsPerSandbox {
		return
	}
	for _, ready := range states {
		if !ready {
			return
		}
	}
	t.rawReadyAt[w.Namespace] = time.Now()
	t.add(keyRawReady, 1)
}

// readyTimes are the times, after start, at which sandboxes became Ready for the
// first time: the operator's, or with raw the baseline's; sorted.
func (t *tracker) readyTimes(start time.Time, raw bool) []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	from := t.readyAt
	if raw {
		from = t.rawReadyAt
	}
	out := make([]time.Duration, 0, len(from))
	for _, at := range from {
		out = append(out, at.Sub(start))
	}
	slices.Sort(out)
	return out
}

// readiness is when sandboxes became Ready, after the scenario's first create.
type readiness struct {
	// times is when each became Ready, sorted.
	times []time.Duration
}

// percentiles at which the report gives creation-to-Ready.
var percentiles = []float64{10, 50, 90, 100}

// first is when the first sandbox was Ready.
func (r readiness) first() (time.Duration, bool) {
	if len(r.times) == 0 {
		return 0, false
	}
	return r.times[0], true
}

// percentile is the time by which p percent of the sandboxes were Ready
// (nearest rank), out of n, the scenario's size.
func (r readiness) percentile(p float64, n int) (time.Duration, bool) {
	rank := int(math.Ceil(p / 100 * float64(n)))
	if rank < 1 || rank > len(r.times) {
		return 0, false
	}
	return r.times[rank-1], true
}
