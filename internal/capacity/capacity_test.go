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

package capacity

import (
	"context"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

func node(name, cpu, memory, pods string, mutate ...func(*corev1.Node)) *corev1.Node {
	alloc := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu),
		corev1.ResourceMemory: resource.MustParse(memory), corev1.ResourcePods: resource.MustParse(pods)}
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Allocatable: alloc,
		Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
	for _, m := range mutate {
		m(n)
	}
	return n
}

func pod(ns, name, nodeName, cpu, memory string, mutate ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.PodSpec{NodeName: nodeName,
		Containers: []corev1.Container{{Name: "main", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory)}}}}}}
	for _, m := range mutate {
		m(p)
	}
	return p
}

// The nodes' allocatable less what the pods bound to schedulable nodes
// request, as the scheduler counts it, read with a page limit; a class gets
// back what its own pods hold.
func TestMeasureCountsWhatTheSchedulerCounts(t *testing.T) {
	g := NewWithT(t)
	objs := []client.Object{
		node("a", "8", "16Gi", "110"),
		node("b", "4", "8Gi", "110"),
		node("cordoned", "64", "64Gi", "110", func(n *corev1.Node) { n.Spec.Unschedulable = true }),
		node("not-ready", "64", "64Gi", "110", func(n *corev1.Node) { n.Status.Conditions[0].Status = corev1.ConditionFalse }),
		node("tainted", "64", "64Gi", "110", func(n *corev1.Node) {
			n.Spec.Taints = []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectNoExecute}}
		}),
		node("prefer", "2", "4Gi", "10", func(n *corev1.Node) {
			n.Spec.Taints = []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectPreferNoSchedule}}
		}),
		pod("other", "web", "a", "1", "2Gi"),
		// An init container that asks for more than the containers counts as the pod's request.
		pod("other", "migrate", "b", "500m", "1Gi", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "init", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}}}}
		}),
		pod("other", "done", "a", "3", "3Gi", func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }),
		pod("other", "pending", "", "3", "3Gi"),
		pod("other", "on-cordoned", "cordoned", "3", "3Gi"),
		pod("sandbox-fall26-ada", "postgres-0", "a", "1500m", "3Gi"),
	}
	// Pods waiting for a node hold nothing on any.
	for i := range 20 {
		objs = append(objs, pod("crowd", fmt.Sprintf("p%04d", i), "", "1", "1Gi"))
	}
	pages := 0
	c := fake.NewClientBuilder().WithObjects(objs...).WithInterceptorFuncs(interceptor.Funcs{
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if _, ok := list.(*corev1.PodList); ok {
				pages++
				o := &client.ListOptions{}
				o.ApplyOptions(opts)
				g.Expect(o.Limit).To(BeNumerically("==", podsPerPage))
			}
			return c.List(ctx, list, opts...)
		},
	}).Build()
	snap, err := Measure(context.Background(), c, time.Now())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(snap.Nodes).To(Equal(3))
	// 14 cores, 28Gi, 230 pods; less web (1, 2Gi), migrate (2, 1Gi) and postgres-0 (1.5, 3Gi).
	free := snap.AvailableTo(nil)
	g.Expect(free.Cpu().String()).To(Equal("9500m"))
	g.Expect(free.Memory().String()).To(Equal("22Gi"))
	g.Expect(free.Pods().String()).To(Equal("227"))
	own := snap.AvailableTo([]string{"sandbox-fall26-ada", "sandbox-fall26-linus"})
	g.Expect(own.Cpu().String()).To(Equal("11"))
	g.Expect(own.Memory().String()).To(Equal("25Gi"))
	g.Expect(own.Pods().String()).To(Equal("228"))
	g.Expect(pages).To(Equal(1), "the pods were listed with a limit (the fake client answers in one page)")
}

func TestDescribeSaysByHowMuch(t *testing.T) {
	g := NewWithT(t)
	need := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("750"), corev1.ResourceMemory: resource.MustParse("1500Gi"),
		corev1.ResourcePods: resource.MustParse("6000"), corev1.ResourceStorage: resource.MustParse("1500Gi")}
	have := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("420"), corev1.ResourceMemory: resource.MustParse("1600Gi"),
		corev1.ResourcePods: resource.MustParse("1320")}
	g.Expect(Short(need, have)).To(Equal([]corev1.ResourceName{corev1.ResourceCPU, corev1.ResourcePods}))
	g.Expect(Describe(300, need, have, 12)).To(Equal("300 sandboxes may use 750 CPU, 1500Gi of memory and 6000 pods; " +
		"the 12 schedulable nodes have 420 CPU, 1600Gi of memory and 1320 pods left for them: short of 330 CPU and 4680 pods"))
}

// However many classes ask, the cluster is measured once an interval.
func TestSourceMeasuresOnceAnInterval(t *testing.T) {
	g := NewWithT(t)
	lists := 0
	c := fake.NewClientBuilder().WithObjects(node("a", "8", "16Gi", "110")).WithInterceptorFuncs(interceptor.Funcs{
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if _, ok := list.(*corev1.NodeList); ok {
				lists++
			}
			return c.List(ctx, list, opts...)
		},
	}).Build()
	clk := clocktesting.NewFakePassiveClock(time.Now())
	src := &Source{Reader: c, MaxAge: time.Minute, Clock: clk}
	for range 5 {
		_, err := src.Get(context.Background())
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(lists).To(Equal(1))
	clk.SetTime(clk.Now().Add(time.Minute))
	_, err := src.Get(context.Background())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(lists).To(Equal(2))
}
