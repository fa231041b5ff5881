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
	"encoding/json"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// rawStack renders the stack of one sandbox and returns its objects as the
// baseline creates them: the namespace, the credentials Secret, then the
// rendered objects in the operator's order; typed, with the managed-by label
// set to rawManagedBy (so the operator's label-scoped cache never sees them)
// and without ownerReferences (their owner does not exist, and garbage
// collection would delete them).
// With headless, its Services get no ClusterIP.
func rawStack(scheme *runtime.Scheme, stage *sandboxv1.RoadmapStage, name string, headless bool) ([]client.Object,
	error) {
	sb := fakeSandbox(name, stage.Name)
	settings := stack.DefaultSettings()
	st, err := stack.Render(stack.Input{Sandbox: sb, Stage: stage, Credentials: fakeCredentials()}, settings)
	if err != nil {
		return nil, fmt.Errorf("rendering %s: %w", name, err)
	}
	data := map[string][]byte{}
	for k, v := range fakeCredentials() {
		data[k] = []byte(v)
	}
	creds := stack.CredentialsSecret(sb, settings, data)
	creds.APIVersion, creds.Kind = "v1", kindSecret
	sources := append([]any{st.Namespace, creds}, anySlice(st.Objects)...)
	out := make([]client.Object, 0, len(sources))
	for _, src := range sources {
		obj, err := rawObject(scheme, src)
		if err != nil {
			return nil, fmt.Errorf("sandbox %s: %w", name, err)
		}
		if svc, ok := obj.(*corev1.Service); ok && headless {
			svc.Spec.ClusterIP = corev1.ClusterIPNone
		}
		out = append(out, obj)
	}
	return out, nil
}

func anySlice(objs []stack.Object) []any {
	out := make([]any, 0, len(objs))
	for _, o := range objs {
		out = append(out, o)
	}
	return out
}

// rawObject turns an apply configuration (or an object) into the typed object
// of its kind, by a JSON round trip, relabelled and without owners.
func rawObject(scheme *runtime.Scheme, src any) (client.Object, error) {
	raw, err := json.Marshal(src)
	if err != nil {
		return nil, fmt.Errorf("encoding: %w", err)
	}
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal(raw, &u.Object); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	relabel(u.Object)
	unstructured.RemoveNestedField(u.Object, "metadata", "ownerReferences")
	typed, err := scheme.New(u.GroupVersionKind())
	if err != nil {
		return nil, fmt.Errorf("making a %s: %w", u.GroupVersionKind(), err)
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, typed); err != nil {
		return nil, fmt.Errorf("converting a %s: %w", u.GetKind(), err)
	}
	obj, ok := typed.(client.Object)
	if !ok {
		return nil, fmt.Errorf("%s is not an object", u.GroupVersionKind())
	}
	return obj, nil
}

// relabel sets the managed-by label to rawManagedBy in every label map of an
// object: its own, its pod template's and its volume claim templates'.
func relabel(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if labels, ok := child.(map[string]any); ok && k == "labels" {
				if _, has := labels[stack.ManagedByLabel]; has {
					labels[stack.ManagedByLabel] = rawManagedBy
				}
			}
			relabel(child)
		}
	case []any:
		for _, child := range v {
			relabel(child)
		}
	}
}

// baseline is what the raw parallel creates measured.
type baseline struct {
	elapsed, createsDone time.Duration
	perKind              map[string]time.Duration
	// tReady is when every baseline sandbox had its workloads ready, ready when each did.
	tReady time.Duration
	ready  readiness
	cpu    cpuTimes
	// api is what the API server wrote meanwhile, for every client.
	api apiLatencies
}

// runBaseline creates the objects of n sandboxes (raw-00001...) with plain
// creates, workers at a time, through a client with the operator's QPS and
// burst, and waits until the tracker has seen them all.
func runBaseline(ctx context.Context, r *run) (baseline, error) {
	e := r.env
	stacks, err := rawStacks(r)
	if err != nil {
		return baseline{}, err
	}
	cfg := rest.CopyConfig(r.cluster.rest)
	cfg.QPS, cfg.Burst = float32(e.cfg.qps), e.cfg.burst
	c, err := client.New(cfg, client.Options{Scheme: r.scheme})
	if err != nil {
		return baseline{}, fmt.Errorf("making the baseline's client: %w", err)
	}
	r.expectObjects(rawManagedBy)
	r.tracker.expect(keyRawReady, r.sc.n)
	cpu0, api0 := snapshotCPU(r.cluster, r.op), r.apiSnapshot(ctx)
	logf("Baseline: creating %d objects of %d sandboxes, %d writers, qps %g burst %d",
		r.sc.n*e.objectsPerSandbox(), r.sc.n, e.cfg.concurrency, e.cfg.qps, e.cfg.burst)
	profiles := r.startProfiles(ctx, "baseline")
	defer profiles.Wait()
	defer r.tracker.logProgress(ctx, rawManagedBy, "baseline objects")()
	defer r.tracker.logProgress(ctx, keyRawReady, "baseline sandboxes ready")()
	start := time.Now()
	if err := createAll(ctx, c, stacks, e.cfg.concurrency); err != nil {
		return baseline{}, err
	}
	b := baseline{createsDone: time.Since(start)}
	at, err := r.tracker.wait(ctx, rawManagedBy, "baseline objects", r.sc.timeout(e.cfg.timeout))
	if err != nil {
		return baseline{}, err
	}
	b.elapsed, b.cpu = at.Sub(start), snapshotCPU(r.cluster, r.op).since(cpu0)
	b.api = r.apiSnapshot(ctx).since(api0)
	b.perKind = r.kindTimes(rawManagedBy, start)
	readyAt, err := r.tracker.wait(ctx, keyRawReady, "baseline sandboxes ready", r.sc.timeout(e.cfg.timeout))
	if err != nil {
		return baseline{}, err
	}
	b.tReady, b.ready = readyAt.Sub(start), readiness{times: r.tracker.readyTimes(start, true)}
	return b, nil
}

// rawStacks renders, before anything is timed, the stacks the baseline creates.
func rawStacks(r *run) ([][]client.Object, error) {
	stacks := make([][]client.Object, r.sc.n)
	for i := range stacks {
		var err error
		name := fmt.Sprintf("raw-%05d", i+1)
		if stacks[i], err = rawStack(r.scheme, r.env.stage, name, r.env.cfg.headless); err != nil {
			return nil, err
		}
	}
	return stacks, nil
}

// createAll creates each stack's objects in order, workers stacks at a time,
// and returns the first error.
func createAll(ctx context.Context, c client.Client, stacks [][]client.Object, workers int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		once  sync.Once
		first error
	)
	next := make(chan []client.Object)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for objs := range next {
				if err := createStack(ctx, c, objs); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		})
	}
	for _, objs := range stacks {
		select {
		case next <- objs:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// createStack creates objects in order; one that exists already is left alone.
func createStack(ctx context.Context, c client.Client, objs []client.Object) error {
	for _, obj := range objs {
		if ctx.Err() != nil {
			return nil
		}
		if err := c.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating %T %s/%s: %w", obj, obj.GetNamespace(), obj.GetName(), err)
		}
	}
	return nil
}

// unrelatedData is the payload of each unrelated ConfigMap and Secret: 4 KiB,
// so that an operator that cached them would show it in its heap.
var unrelatedData = string(make([]byte, 4096))

// createUnrelated creates, in a namespace of their own, m ConfigMaps and m
// Secrets without the managed-by label.
func createUnrelated(ctx context.Context, c client.Client, m, workers int) error {
	ns := &corev1.Namespace{}
	ns.Name = "bench-unrelated"
	if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", ns.Name, err)
	}
	data := []byte(unrelatedData)
	stacks := make([][]client.Object, 0, m)
	for i := range m {
		cm := &corev1.ConfigMap{BinaryData: map[string][]byte{"data": data}}
		cm.Name, cm.Namespace = fmt.Sprintf("unrelated-%05d", i+1), ns.Name
		sec := &corev1.Secret{Data: map[string][]byte{"data": data}}
		sec.Name, sec.Namespace = cm.Name, ns.Name
		stacks = append(stacks, []client.Object{cm, sec})
	}
	return createAll(ctx, c, stacks, workers)
}
