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

// Package capacity tells whether a class fits in the cluster before it is
// provisioned: what its sandboxes' quotas add up to, against what the
// schedulable nodes can still give (allocatable less the requests of the
// pods bound to them), as the scheduler counts them.
package capacity

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	resourcehelper "k8s.io/component-helpers/resource"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Compared are the resources the nodes give and a class is measured against.
// Storage comes from a storage class, not from the nodes' allocatable.
var Compared = []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourcePods}

// podsPerPage bounds each page of the pod list, so that a cluster of ten
// thousand sandboxes is read in pieces, never held whole.
const podsPerPage = 500

// usage is what pods request, in the units the scheduler adds up.
type usage struct {
	milliCPU, memory, pods int64
}

func (u *usage) add(o usage) {
	u.milliCPU += o.milliCPU
	u.memory += o.memory
	u.pods += o.pods
}

func usageOf(l corev1.ResourceList) usage {
	return usage{milliCPU: l.Cpu().MilliValue(), memory: l.Memory().Value(), pods: l.Pods().Value()}
}

func (u usage) list() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewMilliQuantity(u.milliCPU, resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(u.memory, resource.BinarySI),
		corev1.ResourcePods:   *resource.NewQuantity(u.pods, resource.DecimalSI),
	}
}

// Snapshot is the cluster's capacity at one time.
type Snapshot struct {
	// Nodes counts the schedulable nodes.
	Nodes int
	// free is what those nodes have left: allocatable less the requests of
	// the pods bound to them that have not ended.
	free usage
	// byNamespace is those pods' requests by namespace, so that a class's
	// own pods can be given back to it.
	byNamespace map[string]usage
	// TakenAt is when the snapshot was taken.
	TakenAt time.Time
}

// Measure reads the nodes and the pods bound to them, past any cache.
func Measure(ctx context.Context, reader client.Reader, now time.Time) (*Snapshot, error) {
	var nodes corev1.NodeList
	if err := reader.List(ctx, &nodes); err != nil {
		return nil, fmt.Errorf("listing the nodes: %w", err)
	}
	s := &Snapshot{byNamespace: map[string]usage{}, TakenAt: now}
	schedulable := map[string]bool{}
	for i := range nodes.Items {
		node := &nodes.Items[i]
		if !Schedulable(node) {
			continue
		}
		schedulable[node.Name] = true
		s.Nodes++
		s.free.add(usageOf(node.Status.Allocatable))
	}
	opts := []client.ListOption{client.Limit(podsPerPage)}
	for {
		var pods corev1.PodList
		if err := reader.List(ctx, &pods, opts...); err != nil {
			return nil, fmt.Errorf("listing the pods: %w", err)
		}
		for i := range pods.Items {
			pod := &pods.Items[i]
			if !schedulable[pod.Spec.NodeName] || ended(pod) {
				continue
			}
			used := usageOf(resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{}))
			used.pods = 1
			s.free.add(usage{milliCPU: -used.milliCPU, memory: -used.memory, pods: -1})
			ns := s.byNamespace[pod.Namespace]
			ns.add(used)
			s.byNamespace[pod.Namespace] = ns
		}
		if pods.Continue == "" {
			return s, nil
		}
		opts = []client.ListOption{client.Limit(podsPerPage), client.Continue(pods.Continue)}
	}
}

// ended reports whether a pod no longer holds what it requested.
func ended(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

// Schedulable reports whether the scheduler may place a sandbox's pod on a
// node: it is Ready, not cordoned, and has no taint that repels pods that
// tolerate nothing.
func Schedulable(node *corev1.Node) bool {
	if node.Spec.Unschedulable {
		return false
	}
	for _, t := range node.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute {
			return false
		}
	}
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// AvailableTo is what the nodes can give a class whose sandboxes run in
// these namespaces: what is free, and what the class's own pods hold.
func (s *Snapshot) AvailableTo(namespaces []string) corev1.ResourceList {
	avail := s.free
	for _, ns := range namespaces {
		avail.add(s.byNamespace[ns])
	}
	avail.milliCPU, avail.memory, avail.pods = max(avail.milliCPU, 0), max(avail.memory, 0), max(avail.pods, 0)
	return avail.list()
}

// Source measures the cluster at most once every MaxAge, however many
// classes ask, and one measurement at a time.
type Source struct {
	Reader client.Reader
	MaxAge time.Duration
	Clock  clock.PassiveClock

	mu   sync.Mutex
	last *Snapshot
}

// Get returns a snapshot at most MaxAge old, measuring anew when the last is older.
func (s *Source) Get(ctx context.Context) (*Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Clock.Now()
	if s.last != nil && now.Sub(s.last.TakenAt) < s.MaxAge {
		return s.last, nil
	}
	snap, err := Measure(ctx, s.Reader, now)
	if err != nil {
		return nil, err
	}
	s.last = snap
	return snap, nil
}

// Short lists the compared resources of which needed is more than available.
func Short(needed, available corev1.ResourceList) []corev1.ResourceName {
	var short []corev1.ResourceName
	for _, name := range Compared {
		need, have := needed[name], available[name]
		if need.Cmp(have) > 0 {
			short = append(short, name)
		}
	}
	return short
}

// Describe says in one sentence what a class of n sandboxes needs and what
// the nodes have left for it, and, when it does not fit, by how much.
func Describe(n int, needed, available corev1.ResourceList, nodes int) string {
	var b strings.Builder
	sandboxes, schedulable := "sandboxes", "schedulable nodes have"
	if n == 1 {
		sandboxes = "sandbox"
	}
	if nodes == 1 {
		schedulable = "schedulable node has"
	}
	fmt.Fprintf(&b, "%d %s may use %s; the %d %s %s left for them", n, sandboxes,
		figures(needed), nodes, schedulable, figures(available))
	if short := Short(needed, available); len(short) > 0 {
		missing := corev1.ResourceList{}
		for _, name := range short {
			q := needed[name].DeepCopy()
			q.Sub(available[name])
			missing[name] = q
		}
		fmt.Fprintf(&b, ": short of %s", figures(missing))
	}
	return b.String()
}

// figures writes the compared resources of a list as people read them:
// "600 CPU, 1200Gi of memory and 6000 pods".
func figures(l corev1.ResourceList) string {
	parts := make([]string, 0, len(Compared))
	for _, name := range Compared {
		q, ok := l[name]
		if !ok {
			continue
		}
		switch name {
		case corev1.ResourceCPU:
			parts = append(parts, fmt.Sprintf("%s CPU", cores(q)))
		case corev1.ResourceMemory:
			parts = append(parts, fmt.Sprintf("%dGi of memory", (q.Value()+(1<<30)-1)>>30))
		default:
			parts = append(parts, fmt.Sprintf("%d %s", q.Value(), name))
		}
	}
	switch len(parts) {
	case 0:
		return "nothing"
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// cores writes CPU in whole cores, or with one decimal below ten.
func cores(q resource.Quantity) string {
	m := q.MilliValue()
	if m >= 10000 || m%1000 == 0 {
		return fmt.Sprintf("%d", m/1000)
	}
	return fmt.Sprintf("%.1f", float64(m)/1000)
}
