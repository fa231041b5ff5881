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
	"path/filepath"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// cohortName is the name of the scenario's LearningCohort; its sandboxes are <cohortName>-<learner>.
const cohortName = "bench"

// memoryInterval is how often the operator's memory is sampled.
const memoryInterval = 250 * time.Millisecond

// unrelatedWindow is how long the operator's heap is watched before and after
// the unrelated objects are created.
const unrelatedWindow = 10 * time.Second

// scenario is one measurement: n LearningSandboxes, or one LearningCohort of n learners.
type scenario struct {
	cohort bool
	n      int
}

// timeout is the longest any one wait of the scenario may take: the
// -timeout for each 1,000 sandboxes or learners begun, as the work grows
// with them.
func (s scenario) timeout(perThousand time.Duration) time.Duration {
	return perThousand * time.Duration(max(1, (s.n+999)/1000))
}

func (s scenario) String() string {
	if s.cohort {
		return fmt.Sprintf("cohort of %d", s.n)
	}
	return fmt.Sprintf("%d sandboxes", s.n)
}

// slug names the scenario's files.
func (s scenario) slug() string {
	if s.cohort {
		return fmt.Sprintf("cohort-%d", s.n)
	}
	return fmt.Sprintf("sandboxes-%d", s.n)
}

// result is what one scenario measured.
type result struct {
	sc          scenario
	run         int
	objects     int
	controllers []string

	// tSandboxes is when every LearningSandbox existed: for a cohort, when its controller had made them all.
	tCreate, tSandboxes, tObjects, tReady time.Duration
	// ready is when each sandbox was first Ready, after the first create.
	ready   readiness
	perKind map[string]time.Duration
	raw     *baseline
	cpu     cpuTimes
	api     apiLatencies

	toObjects, provision requests
	reconciles           float64
	reconcileMean        time.Duration
	rateLimitWait        float64 // seconds; negative when the metric is off

	idleHeap uint64
	mem      memory
	// Live heaps, after a garbage collection: before the first create, when
	// every sandbox is Ready and the operator idle, and after the restart.
	liveIdle, liveReady, liveRestart uint64

	steady, restart         requests
	steadyRecs, restartRecs float64
	restartHeap             uint64
	// The heap before and after the unrelated objects: peaks in a window, and live after a collection.
	unrelatedBefore, unrelatedAfter memory
	liveBefore, liveAfter           uint64
	unrelatedWrites                 requests
	unrelatedSkipped                bool
}

// run is one scenario in progress: its cluster, operator and clients.
type run struct {
	env     *env
	sc      scenario
	cluster *cluster
	tracker *tracker
	op      *operator
	mem     *memSampler
	scheme  *runtime.Scheme
	// creator writes the bench's own objects, with no client-side rate limit.
	creator client.Client
	res     result
}

// runScenario runs one scenario: the baseline on a fresh cluster of its own,
// then the operator on another, so that neither finds the other's objects,
// pods or garbage in the cluster. The operator's cluster is deleted at the
// end unless it is the last one and -keep is set.
func runScenario(ctx context.Context, e *env, sc scenario, last bool) (result, error) {
	if sc.cohort && !e.hasCohortCRD {
		return result{}, &skipError{reason: "the LearningCohort CRD (" + cohortCRD + ") does not exist yet"}
	}
	res := result{sc: sc, objects: sc.n * e.objectsPerSandbox(), rateLimitWait: -1}
	if e.cfg.baseline {
		err := withRun(ctx, e, sc, "baseline", false, func(r *run) error {
			b, err := runBaseline(ctx, r)
			res.raw = &b
			return err
		})
		if err != nil {
			return result{}, fmt.Errorf("baseline: %w", err)
		}
		logf("Baseline: every object in %s (creates returned after %s), every sandbox's workloads ready in %s",
			fmtDur(res.raw.elapsed), fmtDur(res.raw.createsDone), fmtDur(res.raw.tReady))
	}
	err := withRun(ctx, e, sc, "operator", last && e.cfg.keep, func(r *run) error {
		r.res = res
		err := r.execute(ctx)
		res = r.res
		return err
	})
	return res, err
}

// withRun starts a fresh cluster with the bench's clients, tracker and (not
// yet started) operator, calls fn, and stops and deletes them all, unless keep.
func withRun(ctx context.Context, e *env, sc scenario, phase string, keep bool, fn func(*run) error) error {
	c, err := startCluster(ctx, e, filepath.Join(e.tmp, sc.slug()+"-"+phase), e.nodesFor(sc.n))
	if err != nil {
		return err
	}
	defer func() {
		if keep {
			logf("Kept the cluster: export KUBECONFIG=%s", c.kubeconfig)
			return
		}
		if err := c.down(); err != nil {
			logf("Deleting the cluster: %v", err)
		}
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r, err := newRun(ctx, e, sc, c)
	if err != nil {
		return err
	}
	defer r.op.stop()
	defer r.tracker.stop()
	return fn(r)
}

// newRun makes the clients, the tracker and the operator of a scenario's cluster.
func newRun(ctx context.Context, e *env, sc scenario, c *cluster) (*run, error) {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(sandboxv1.AddToScheme(scheme))
	cfg := rest.CopyConfig(c.rest)
	cfg.QPS = -1 // no client-side rate limit: create as fast as the API server takes it
	creator, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("making a client: %w", err)
	}
	tr, err := startTracker(ctx, c.rest, e.perSandbox)
	if err != nil {
		return nil, err
	}
	op, err := newOperator(e, c)
	if err != nil {
		tr.stop()
		return nil, err
	}
	return &run{env: e, sc: sc, cluster: c, tracker: tr, op: op, scheme: scheme, creator: creator}, nil
}

// execute starts the operator and runs the phases of the scenario in order.
func (r *run) execute(ctx context.Context) error {
	if err := r.warmUp(ctx); err != nil {
		return err
	}
	if err := r.op.start(); err != nil {
		return err
	}
	r.mem = startMemSampler(ctx, r.op, memoryInterval)
	controllers, err := r.op.waitSynced(ctx, 2*time.Minute)
	if err != nil {
		return err
	}
	r.res.controllers = controllers
	if r.sc.cohort && !slices.Contains(controllers, "learningcohort") {
		return &skipError{reason: "the operator runs no learningcohort controller (cmd/main.go does not register it)"}
	}
	for _, phase := range []struct {
		name string
		fn   func(context.Context) error
	}{
		{"provisioning", r.provision},
		{"steady state", r.steady},
		{"restart", r.restart},
		{"unrelated objects", r.unrelated},
	} {
		logf("Phase: %s", phase.name)
		if err := phase.fn(ctx); err != nil {
			return fmt.Errorf("%s: %w", phase.name, err)
		}
	}
	return nil
}

// expectObjects sets the tracker's targets for the objects of n sandboxes with this managed-by label.
func (r *run) expectObjects(managedBy string) {
	r.tracker.expect(managedBy, r.sc.n*r.env.objectsPerSandbox())
	for kind, per := range r.env.perSandbox {
		r.tracker.expect(managedBy+"/"+kind, per*r.sc.n)
	}
}

// apiSnapshot reads the API server's write latencies; nil, and a log line, when it cannot.
func (r *run) apiSnapshot(ctx context.Context) apiLatencies {
	l, err := r.cluster.apiserverLatencies(ctx)
	if err != nil {
		logf("The API server's metrics: %v", err)
	}
	return l
}

// kindTimes is when, after start, each kind's objects with this label were all there.
func (r *run) kindTimes(managedBy string, start time.Time) map[string]time.Duration {
	out := map[string]time.Duration{}
	for kind := range r.env.perSandbox {
		if at := r.tracker.reachedAt(managedBy + "/" + kind); !at.IsZero() {
			out[kind] = at.Sub(start)
		}
	}
	return out
}

// provision creates the sandboxes (or the cohort) and measures T_objects,
// T_ready, the operator's requests and reconciles, and its memory, until the
// operator is idle again.
func (r *run) provision(ctx context.Context) error {
	r.expectObjects(stack.ManagedBy)
	r.tracker.expect(keyReady, r.sc.n)
	r.tracker.expect(keySandboxes, r.sc.n)
	var err error
	if r.res.liveIdle, err = r.liveHeap(ctx); err != nil {
		return err
	}
	before, err := r.op.scrape(ctx)
	if err != nil {
		return err
	}
	r.res.idleHeap = uint64(before.sum(metricHeapInuse))
	cpu0, api0 := snapshotCPU(r.cluster, r.op), r.apiSnapshot(ctx)
	r.mem.next()
	profiles := r.startProfiles(ctx, "operator")
	defer profiles.Wait()
	defer r.tracker.logProgress(ctx, stack.ManagedBy, "operator objects")()
	defer r.tracker.logProgress(ctx, keyReady, "Ready sandboxes")()

	start := time.Now()
	if err := r.createSandboxes(ctx); err != nil {
		return err
	}
	r.res.tCreate = time.Since(start)
	at, err := r.tracker.wait(ctx, stack.ManagedBy, "operator objects", r.sc.timeout(r.env.cfg.timeout))
	if err != nil {
		return err
	}
	r.res.tObjects, r.res.cpu = at.Sub(start), snapshotCPU(r.cluster, r.op).since(cpu0)
	r.res.api = r.apiSnapshot(ctx).since(api0)
	r.res.perKind = r.kindTimes(stack.ManagedBy, start)
	logf("Every operator object exists after %s", fmtDur(r.res.tObjects))
	if mid, err := r.op.scrape(ctx); err == nil {
		r.res.toObjects = requestsOf(mid).since(requestsOf(before))
	}
	readyAt, err := r.tracker.wait(ctx, keyReady, "Ready sandboxes", r.sc.timeout(r.env.cfg.timeout))
	if err != nil {
		return err
	}
	r.res.tReady = readyAt.Sub(start)
	r.res.ready = readiness{times: r.tracker.readyTimes(start, false)}
	r.res.tSandboxes = r.tracker.reachedAt(keySandboxes).Sub(start)
	logf("Every sandbox is Ready after %s; waiting until the operator is idle", fmtDur(r.res.tReady))
	after, err := r.waitIdle(ctx)
	if err != nil {
		return err
	}
	r.recordProvisioning(before, after)
	return nil
}

// recordProvisioning records what the operator did between two scrapes.
func (r *run) recordProvisioning(before, after metrics) {
	r.res.provision = requestsOf(after).since(requestsOf(before))
	r.res.reconciles = after.sum(metricReconciles) - before.sum(metricReconciles)
	if n := after.sum(metricReconcileCnt) - before.sum(metricReconcileCnt); n > 0 {
		secs := (after.sum(metricReconcileSum) - before.sum(metricReconcileSum)) / n
		r.res.reconcileMean = time.Duration(secs * float64(time.Second))
	}
	if after.has(metricRateLimitSum) {
		r.res.rateLimitWait = after.sum(metricRateLimitSum) - before.sum(metricRateLimitSum)
	}
	r.res.mem = r.mem.next()
}

// createSandboxes creates the scenario's LearningSandboxes in parallel, or its one LearningCohort.
func (r *run) createSandboxes(ctx context.Context) error {
	if r.sc.cohort {
		logf("Creating a LearningCohort of %d learners", r.sc.n)
		if err := r.creator.Create(ctx, cohort(r.sc.n, r.env.stage.Name)); err != nil {
			return fmt.Errorf("creating the LearningCohort: %w", err)
		}
		return nil
	}
	logf("Creating %d LearningSandboxes, %d at a time", r.sc.n, r.env.cfg.creators)
	stacks := make([][]client.Object, 0, r.sc.n)
	for i := range r.sc.n {
		stacks = append(stacks, []client.Object{sandbox(fmt.Sprintf("bench-%05d", i+1), r.env.stage.Name)})
	}
	return createAll(ctx, r.creator, stacks, r.env.cfg.creators)
}

// sandbox is a LearningSandbox of the stage whose learner has its name.
func sandbox(name, stage string) *sandboxv1.LearningSandbox {
	return &sandboxv1.LearningSandbox{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       sandboxv1.LearningSandboxSpec{Learner: sandboxv1.Learner{Name: name}, Stage: stage},
	}
}

// warmUp makes the API server ready to serve the scenario's kind at full
// speed before anything is timed: its first requests to a CRD just
// installed wait for the CRD's handler and compile its validation rules. A
// dry-run create does that, and leaves nothing for the operator to see.
func (r *run) warmUp(ctx context.Context) error {
	obj := client.Object(sandbox("warm-up", r.env.stage.Name))
	if r.sc.cohort {
		obj = cohort(1, r.env.stage.Name)
	}
	if err := r.creator.Create(ctx, obj, client.DryRunAll); err != nil {
		return fmt.Errorf("warming the API server up: %w", err)
	}
	return nil
}

// cohort is a LearningCohort of n learners, l00001..., as an unstructured object
// so that the bench does not depend on the cohort's Go types.
func cohort(n int, stage string) *unstructured.Unstructured {
	learners := make([]any, 0, n)
	for i := range n {
		learners = append(learners, map[string]any{"name": fmt.Sprintf("l%05d", i+1)})
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": sandboxv1.GroupVersion.String(),
		"kind":       "LearningCohort",
		"metadata":   map[string]any{"name": cohortName},
		"spec":       map[string]any{"stage": stage, "learners": learners},
	}}
}

// waitIdle waits until the operator's work queues are empty and no worker is
// busy, and returns that scrape.
func (r *run) waitIdle(ctx context.Context) (metrics, error) {
	var last metrics
	timeout := r.sc.timeout(r.env.cfg.timeout)
	err := poll(ctx, 500*time.Millisecond, timeout, "the operator to be idle", func() (bool, error) {
		m, err := r.op.scrape(ctx)
		if err != nil {
			return false, err
		}
		last = m
		return m.sum(metricQueueDepth) == 0 && m.sum("controller_runtime_active_workers") == 0, nil
	})
	return last, err
}

// steady counts the operator's requests during the steady-state window.
func (r *run) steady(ctx context.Context) error {
	before, err := r.op.scrape(ctx)
	if err != nil {
		return err
	}
	if err := pause(ctx, r.env.cfg.steadyWindow); err != nil {
		return err
	}
	after, err := r.op.scrape(ctx)
	if err != nil {
		return err
	}
	r.res.steady = requestsOf(after).since(requestsOf(before))
	r.res.steadyRecs = after.sum(metricReconciles) - before.sum(metricReconciles)
	r.res.liveReady, err = r.liveHeap(ctx)
	return err
}

// restart stops the operator with SIGTERM, starts it again, and counts its
// requests from its start until the window after it has synced has passed
// and it is idle again: every sandbox reconciled after the restart, however
// long that takes at the scenario's size.
func (r *run) restart(ctx context.Context) error {
	r.op.stop()
	if err := r.op.start(); err != nil {
		return err
	}
	if _, err := r.op.waitSynced(ctx, 2*time.Minute); err != nil {
		return err
	}
	if err := pause(ctx, r.env.cfg.restartWindow); err != nil {
		return err
	}
	m, err := r.waitIdle(ctx)
	if err != nil {
		return err
	}
	r.res.restart = requestsOf(m)
	r.res.restartRecs = m.sum(metricReconciles)
	r.res.restartHeap = uint64(m.sum(metricHeapInuse))
	r.saveProfile(ctx, "/debug/pprof/heap?gc=1", "heap.pprof")
	r.res.liveRestart, err = r.liveHeap(ctx)
	return err
}

// liveHeap waits for the operator's next garbage collection and returns the
// live heap it left: half the heap goal it then set, as GOGC is 100.
func (r *run) liveHeap(ctx context.Context) (uint64, error) {
	m, err := r.op.scrape(ctx)
	if err != nil {
		return 0, err
	}
	gcs := m.sum(metricGCs)
	var live uint64
	err = poll(ctx, memoryInterval, 5*time.Minute, "a garbage collection in the operator", func() (bool, error) {
		m, err := r.op.scrape(ctx)
		if err != nil || m.sum(metricGCs) <= gcs {
			return false, err
		}
		live = uint64(m.sum(metricHeapGoal) / 2)
		return true, nil
	})
	return live, err
}

// unrelated watches the operator's heap for a window, creates ConfigMaps and
// Secrets that are not the operator's, and watches it again.
func (r *run) unrelated(ctx context.Context) error {
	m := r.env.cfg.unrelated
	if m == 0 {
		r.res.unrelatedSkipped = true
		return nil
	}
	var err error
	r.mem.next()
	if err := pause(ctx, unrelatedWindow); err != nil {
		return err
	}
	r.res.unrelatedBefore = r.mem.next()
	if r.res.liveBefore, err = r.liveHeap(ctx); err != nil {
		return err
	}
	before, err := r.op.scrape(ctx)
	if err != nil {
		return err
	}
	logf("Creating %d unrelated ConfigMaps and %d Secrets", m, m)
	if err := createUnrelated(ctx, r.creator, m, r.env.cfg.creators); err != nil {
		return err
	}
	if err := pause(ctx, unrelatedWindow); err != nil {
		return err
	}
	r.res.unrelatedAfter = r.mem.next()
	if r.res.liveAfter, err = r.liveHeap(ctx); err != nil {
		return err
	}
	after, err := r.op.scrape(ctx)
	if err != nil {
		return err
	}
	r.res.unrelatedWrites = requestsOf(after).since(requestsOf(before))
	return nil
}
