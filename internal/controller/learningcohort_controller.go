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
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/intstr"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	sandboxac "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1/applyconfiguration/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/capacity"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/drift"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/metrics"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// defaultMaxUnavailable is spec.maxUnavailable when unset, as the API defaults it.
var defaultMaxUnavailable = intstr.FromString("10%")

// LearningCohortReconciler keeps one LearningSandbox per learner of a class.
type LearningCohortReconciler struct {
	client.Client
	// APIReader reads past the cache: whether a roster Secret that the cache
	// does not hold (it is not the operator's) exists.
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  events.EventRecorder
	// Settings name the sandboxes' namespaces in the roster.
	Settings stack.Settings
	// LeadTime is how long before spec.startsAt the sandboxes are created, so
	// that they are ready when the class starts.
	LeadTime time.Duration
	// Clock tells the time for the schedule; tests control it.
	Clock clock.PassiveClock
	// Capacity measures what the nodes can still give a class; nil: the
	// cohort's status says nothing of capacity.
	Capacity *capacity.Source
	// NodeAutoscaler says that the cluster adds nodes when pods wait for
	// room: a class that does not fit is then told, not warned.
	NodeAutoscaler bool
	// ProgressInterval is how often, at most, only the counts of a cohort's
	// status are written; CohortProgressInterval when zero.
	ProgressInterval time.Duration

	written sandboxWrites
	// progress is when each cohort's status was last written, and
	// progressInterval how often its counts alone may be (ProgressInterval).
	progress         lastTimes
	progressInterval time.Duration
	// capacityMarks say for what each cohort's capacity was last compared.
	capacityMarks capacityMarks
}

// Reconcile keeps the class's sandboxes as the cohort says, in order: the
// schedule, pruning the learners who left, applying each learner's sandbox
// (a change of stage or template in bounded batches), the roster export and
// the status.
func (r *LearningCohortReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	log := ctrl.LoggerFrom(ctx)

	cohort := &sandboxv1.LearningCohort{}
	if err := r.Get(ctx, req.NamespacedName, cohort); err != nil {
		if apierrors.IsNotFound(err) {
			r.progress.forget(req.Name)
			r.capacityMarks.forget(req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	original := cohort.DeepCopy()
	defer func() {
		if retErr != nil && !errors.Is(retErr, reconcile.TerminalError(nil)) {
			markCohortFailed(cohort, retErr)
		}
		if retErr != nil {
			metrics.ReconcileErrors.WithLabelValues("learningcohort", readyReason(cohort)).Inc()
		}
		r.recordCohortEvents(original, cohort)
		now := time.Now()
		if wait := cohortProgressWait(original, cohort, &r.progress, r.progressInterval, now); wait > 0 {
			// Only counts moved, and the status was written a moment ago:
			// written with the next change, or when the interval is up.
			cohort.Status = *original.Status.DeepCopy()
			result.RequeueAfter = earliest(result.RequeueAfter, wait)
		}
		if equality.Semantic.DeepEqual(original.Status, cohort.Status) {
			return
		}
		if err := patchStatus(ctx, r.Client, original, cohort); err != nil {
			retErr = kerrors.NewAggregate([]error{retErr, err})
			return
		}
		r.progress.set(cohort.Name, now)
	}()

	if !cohort.DeletionTimestamp.IsZero() {
		// Garbage collection removes the sandboxes and the roster Secret.
		return ctrl.Result{}, nil
	}

	now := r.Clock.Now()
	if cohort.Spec.EndsAt != nil && !now.Before(cohort.Spec.EndsAt.Time) {
		return ctrl.Result{}, r.end(ctx, cohort)
	}
	owned, err := r.ownedSandboxes(ctx, cohort)
	if err != nil {
		return ctrl.Result{}, err
	}
	// Before any sandbox is created, also while the class is scheduled, so
	// that a class that does not fit says so before its sandboxes wait for room.
	capacityIn, err := r.reconcileCapacity(ctx, cohort, owned)
	if err != nil {
		return ctrl.Result{}, err
	}
	if from := r.createFrom(cohort); now.Before(from) {
		markCohortScheduled(cohort, from)
		cohort.Status.ObservedGeneration = cohort.Generation
		return ctrl.Result{RequeueAfter: earliest(from.Sub(now), capacityIn)}, nil
	}

	if err := r.pruneSandboxes(ctx, cohort, owned); err != nil {
		return ctrl.Result{}, err
	}
	sandboxes, err := r.applySandboxes(ctx, cohort, owned, now)
	if err != nil {
		return ctrl.Result{}, err
	}
	setCohortSandboxes(cohort, sandboxes, maxUnavailable(cohort))
	setCohortExercises(cohort, r.stageExercises(ctx, cohort), sandboxes)
	cohort.Status.LastHandledCheckAt = cohort.Annotations[sandboxv1.CheckRequestedAtAnnotation]
	err = r.exportRoster(ctx, cohort, sandboxes)
	if conflict, ok := errors.AsType[*exportConflictError](err); ok {
		// Stalled until someone removes that Secret, which sends no event here.
		markStalled(cohort, sandboxv1.ReasonExportConflict, conflict.Error())
		cohort.Status.ObservedGeneration = cohort.Generation
		return ctrl.Result{RequeueAfter: conflictRecheck}, nil
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	cohort.Status.ObservedGeneration = cohort.Generation
	log.V(1).Info("Reconciled cohort", "ready", cohort.Status.Ready, "updated", cohort.Status.UpdatedSandboxes)
	return ctrl.Result{RequeueAfter: earliest(r.nextDeadline(cohort, now), capacityIn)}, nil
}

// stageExercises are the names of the exercises of the cohort's stage, in
// its order; none when the stage does not exist (yet).
func (r *LearningCohortReconciler) stageExercises(ctx context.Context, c *sandboxv1.LearningCohort) []string {
	stage := &sandboxv1.RoadmapStage{}
	if err := r.Get(ctx, client.ObjectKey{Name: c.Spec.Stage}, stage); err != nil {
		return nil
	}
	names := make([]string, 0, len(stage.Spec.Exercises))
	for _, e := range stage.Spec.Exercises {
		names = append(names, e.Name)
	}
	return names
}

// createFrom is when the cohort starts creating sandboxes: the lead time
// before the class starts, or at once.
func (r *LearningCohortReconciler) createFrom(c *sandboxv1.LearningCohort) time.Time {
	if c.Spec.StartsAt == nil {
		return time.Time{}
	}
	return c.Spec.StartsAt.Add(-r.LeadTime)
}

// createUntil is when the template's ttl has passed since the class started,
// counted from when the cohort could first create sandboxes. A sandbox lives
// for ttl after its creation and then deletes itself; after createUntil the
// cohort creates no sandbox, so that an expired one is not made again.
func (r *LearningCohortReconciler) createUntil(c *sandboxv1.LearningCohort) (time.Time, bool) {
	if c.Spec.Template.TTL == nil {
		return time.Time{}, false
	}
	start := c.CreationTimestamp.Time
	if from := r.createFrom(c); from.After(start) {
		start = from
	}
	return start.Add(c.Spec.Template.TTL.Duration), true
}

// nextDeadline is how long until the schedule next changes what the cohort
// wants: the class ends, or the template's ttl closes creation.
func (r *LearningCohortReconciler) nextDeadline(c *sandboxv1.LearningCohort, now time.Time) time.Duration {
	var next time.Duration
	if c.Spec.EndsAt != nil {
		next = c.Spec.EndsAt.Sub(now)
	}
	if until, ok := r.createUntil(c); ok {
		next = earliest(next, until.Sub(now))
	}
	return next
}

// maxUnavailable is how many sandboxes may be in update at once: at least one.
func maxUnavailable(c *sandboxv1.LearningCohort) int {
	mu := defaultMaxUnavailable
	if c.Spec.MaxUnavailable != nil {
		mu = *c.Spec.MaxUnavailable
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(&mu, len(c.Spec.Learners), true)
	if err != nil {
		// The API server refuses anything but a number or a percentage.
		return 1
	}
	return max(n, 1)
}

// end deletes every sandbox of a class that has ended, and its roster.
func (r *LearningCohortReconciler) end(ctx context.Context, c *sandboxv1.LearningCohort) error {
	owned, err := r.ownedSandboxes(ctx, c)
	if err != nil {
		return err
	}
	var deleted []string
	for _, name := range slices.Sorted(maps.Keys(owned)) {
		sb := owned[name]
		if !sb.DeletionTimestamp.IsZero() {
			continue
		}
		if err := r.deleteSandbox(ctx, sb); err != nil {
			return err
		}
		deleted = append(deleted, name)
	}
	if len(deleted) > 0 {
		ctrl.LoggerFrom(ctx).Info("Class ended: deleted its sandboxes", "endsAt", c.Spec.EndsAt.UTC().Format(time.RFC3339), "sandboxes", len(deleted))
		r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, sandboxv1.ReasonSandboxesDeleted, "Delete",
			"The class ended: deleted %d sandboxes: %s", len(deleted), abbreviate(deleted))
	}
	if err := r.pruneRosters(ctx, c, client.ObjectKey{}); err != nil {
		return err
	}
	markCohortEnded(c, len(owned))
	c.Status.ObservedGeneration = c.Generation
	return nil
}

// ownedSandboxes are the sandboxes this cohort controls, by name.
func (r *LearningCohortReconciler) ownedSandboxes(ctx context.Context, c *sandboxv1.LearningCohort) (map[string]*sandboxv1.LearningSandbox, error) {
	var list sandboxv1.LearningSandboxList
	if err := r.List(ctx, &list, client.MatchingFields{cohortOwnerIndex: c.Name}); err != nil {
		return nil, fmt.Errorf("listing the cohort's sandboxes: %w", err)
	}
	owned := make(map[string]*sandboxv1.LearningSandbox, len(list.Items))
	for i := range list.Items {
		if sb := &list.Items[i]; metav1.IsControlledBy(sb, c) {
			owned[sb.Name] = sb
		}
	}
	return owned, nil
}

// pruneSandboxes deletes the sandboxes of learners who are no longer on the
// roster; a renamed learner's old sandbox goes this way.
func (r *LearningCohortReconciler) pruneSandboxes(ctx context.Context, c *sandboxv1.LearningCohort,
	owned map[string]*sandboxv1.LearningSandbox) error {
	onRoster := make(map[string]bool, len(c.Spec.Learners))
	for _, l := range c.Spec.Learners {
		onRoster[c.SandboxName(l.Name)] = true
	}
	var deleted []string
	for _, name := range slices.Sorted(maps.Keys(owned)) {
		sb := owned[name]
		if onRoster[name] || !sb.DeletionTimestamp.IsZero() {
			continue
		}
		if err := r.deleteSandbox(ctx, sb); err != nil {
			return err
		}
		ctrl.LoggerFrom(ctx).Info("Deleted the sandbox of a learner who left the roster", "sandbox", klog.KObj(sb))
		deleted = append(deleted, name)
	}
	if len(deleted) > 0 {
		r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, sandboxv1.ReasonSandboxesDeleted, "Delete",
			"Deleted %d sandboxes of learners no longer on the roster: %s", len(deleted), abbreviate(deleted))
	}
	return nil
}

// deleteSandbox deletes a sandbox of the cohort, only the one that was read.
func (r *LearningCohortReconciler) deleteSandbox(ctx context.Context, sb *sandboxv1.LearningSandbox) error {
	err := r.Delete(ctx, sb, client.Preconditions{UID: &sb.UID}, client.PropagationPolicy(metav1.DeletePropagationBackground))
	if client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting sandbox %s: %w", sb.Name, err)
	}
	r.written.forget(sb.Name)
	return nil
}

// applySandboxes makes sure that every learner on the roster has their
// sandbox, with the cohort's stage and template. Sandboxes are created at
// once; a change of stage or template reaches at most maxUnavailable
// sandboxes that are not ready with it at a time, and the others keep what
// they have until their turn. Suspend, resume and a learner's users and
// groups reach every sandbox at once. A sandbox of the same name that is not
// the cohort's is never touched.
func (r *LearningCohortReconciler) applySandboxes(ctx context.Context, c *sandboxv1.LearningCohort,
	owned map[string]*sandboxv1.LearningSandbox, now time.Time) ([]learnerSandbox, error) {
	out := make([]learnerSandbox, len(c.Spec.Learners))
	inUpdate := 0
	for i, l := range c.Spec.Learners {
		s, err := r.observeSandbox(ctx, c, l, owned)
		if err != nil {
			return nil, err
		}
		if s.inUpdate() {
			inUpdate++
		}
		out[i] = s
	}

	canCreate := true
	if until, ok := r.createUntil(c); ok && !now.Before(until) {
		canCreate = false
	}
	slots := maxUnavailable(c) - inUpdate
	var missing []*learnerSandbox
	for i := range out {
		s := &out[i]
		desired := desiredSandboxSpec(c, s.learner)
		switch s.state {
		case stateMissing:
			if !canCreate {
				s.state = stateExpired
				continue
			}
			missing = append(missing, s)
		case stateObserved:
			spec := desired
			if !s.updated {
				if slots > 0 {
					slots--
					s.updated = true
				} else {
					spec = heldBackSpec(desired, s.sandbox.Spec)
					s.state = stateHeldBack
				}
			}
			applied, err := r.applySandbox(ctx, c, s.name, spec, s.sandbox)
			if err != nil {
				return nil, err
			}
			if applied && s.state == stateObserved {
				s.state = statePending
			}
		}
	}
	if err := r.createSandboxes(ctx, c, missing); err != nil {
		return nil, err
	}
	return out, nil
}

// createWorkers bounds how many sandboxes of a class are created at once: a
// class of hundreds is written in parallel, as a kubectl apply of as many
// manifests would be, within the client's rate limit.
const createWorkers = 8

// createSandboxes creates the sandboxes of the learners who have none yet.
func (r *LearningCohortReconciler) createSandboxes(ctx context.Context, c *sandboxv1.LearningCohort, missing []*learnerSandbox) error {
	if len(missing) == 0 {
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(createWorkers)
	for _, s := range missing {
		g.Go(func() error {
			if _, err := r.applySandbox(gctx, c, s.name, desiredSandboxSpec(c, s.learner), nil); err != nil {
				return err
			}
			s.state, s.updated = statePending, true
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	created := make([]string, 0, len(missing))
	for _, s := range missing {
		created = append(created, s.name)
	}
	ctrl.LoggerFrom(ctx).Info("Created sandboxes", "sandboxes", len(created))
	r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, sandboxv1.ReasonSandboxesCreated, "Create",
		"Created %d sandboxes: %s", len(created), abbreviate(created))
	return nil
}

// observeSandbox reads a learner's sandbox from the cache and says where it stands.
func (r *LearningCohortReconciler) observeSandbox(ctx context.Context, c *sandboxv1.LearningCohort, l sandboxv1.CohortLearner,
	owned map[string]*sandboxv1.LearningSandbox) (learnerSandbox, error) {
	s := learnerSandbox{learner: l, name: c.SandboxName(l.Name), state: stateMissing}
	sb, ok := owned[s.name]
	if !ok {
		// Not the cohort's: either there is none, or it is someone else's.
		err := r.Get(ctx, client.ObjectKey{Name: s.name}, &sandboxv1.LearningSandbox{})
		switch {
		case err == nil:
			s.state = stateConflict
		case !apierrors.IsNotFound(err):
			return s, fmt.Errorf("reading sandbox %s: %w", s.name, err)
		}
		return s, nil
	}
	s.sandbox = sb
	switch {
	case !sb.DeletionTimestamp.IsZero():
		s.state = stateTerminating
	case r.written.stale(sb):
		// The cache has not seen the cohort's last write yet: count the
		// sandbox as in update, so that a rollout never exceeds its bound.
		s.state, s.updated = statePending, true
	default:
		s.state = stateObserved
		s.updated = sameTemplate(desiredSandboxSpec(c, l), sb.Spec)
	}
	return s, nil
}

// desiredSandboxSpec is the spec of a learner's sandbox as the cohort says.
func desiredSandboxSpec(c *sandboxv1.LearningCohort, l sandboxv1.CohortLearner) sandboxv1.LearningSandboxSpec {
	t := c.Spec.Template
	workspace := t.Workspace
	if l.Workspace != nil {
		workspace = l.Workspace
	}
	return sandboxv1.LearningSandboxSpec{
		Learner:         sandboxv1.Learner{Name: l.Name, Users: l.Users, Groups: l.Groups},
		Workspace:       workspace,
		Stage:           c.Spec.Stage,
		TTL:             t.TTL,
		Suspend:         c.Spec.Suspend,
		ResetGeneration: t.ResetGeneration,
		Budget:          t.Budget,
		Access:          t.Access,
		Components:      t.Components,
	}
}

// templateOf is the part of a sandbox's spec that a change of the cohort's
// stage or template rolls out in batches: all but the learner and suspend.
func templateOf(spec sandboxv1.LearningSandboxSpec) sandboxv1.LearningSandboxSpec {
	spec.Learner = sandboxv1.Learner{}
	spec.Suspend = false
	return spec
}

// sameTemplate reports whether two sandbox specs have the same stage and template.
func sameTemplate(a, b sandboxv1.LearningSandboxSpec) bool {
	return equality.Semantic.DeepEqual(templateOf(a), templateOf(b))
}

// heldBackSpec is the spec of a sandbox that waits for its turn in a
// rollout: the stage and template it has, with the cohort's learner and suspend.
func heldBackSpec(desired, current sandboxv1.LearningSandboxSpec) sandboxv1.LearningSandboxSpec {
	spec := templateOf(current)
	spec.Learner = desired.Learner
	spec.Suspend = desired.Suspend
	return spec
}

// applySandbox creates a learner's sandbox with the spec, or server-side
// applies it over the existing one unless that already has it. It reports
// whether it wrote.
func (r *LearningCohortReconciler) applySandbox(ctx context.Context, c *sandboxv1.LearningCohort, name string,
	spec sandboxv1.LearningSandboxSpec, existing *sandboxv1.LearningSandbox) (bool, error) {
	desired := sandboxApplyConfiguration(c, name, spec)
	if existing == nil {
		created := &sandboxv1.LearningSandbox{}
		err := createTyped(ctx, r.Client, desired, created)
		if err == nil {
			r.written.wrote(name, created.UID, created.Generation)
			return true, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return false, fmt.Errorf("creating sandbox %s: %w", name, err)
		}
		// Made by this cohort a moment ago, before the cache saw it: applied over.
	} else {
		// The spec is the cohort's alone, so it is compared whole: a field that
		// the template no longer sets counts too. Labels and owner are compared
		// as server-side apply would merge them.
		metaDrifted, err := drift.Drifted(struct {
			Metadata *metav1ac.ObjectMetaApplyConfiguration `json:"metadata"`
		}{desired.ObjectMetaApplyConfiguration}, existing)
		if err != nil {
			return false, err
		}
		if !metaDrifted && equality.Semantic.DeepEqual(spec, existing.Spec) {
			return false, nil
		}
	}
	if err := adoptCreatedFields(ctx, r.Client, r.APIReader, client.ObjectKey{Name: name}, &sandboxv1.LearningSandbox{}); err != nil {
		return false, fmt.Errorf("sandbox %s: %w", name, err)
	}
	if err := r.Apply(ctx, desired, client.FieldOwner(stack.FieldOwner), client.ForceOwnership); err != nil {
		return false, fmt.Errorf("applying sandbox %s: %w", name, err)
	}
	if desired.UID != nil && desired.Generation != nil {
		r.written.wrote(name, *desired.UID, *desired.Generation)
	}
	return true, nil
}

// sandboxApplyConfiguration is a learner's sandbox as the cohort applies it:
// labelled, controlled by the cohort, with every field of the spec, so that
// server-side apply removes what the cohort no longer sets.
func sandboxApplyConfiguration(c *sandboxv1.LearningCohort, name string,
	spec sandboxv1.LearningSandboxSpec) *sandboxac.LearningSandboxApplyConfiguration {
	s := sandboxac.LearningSandboxSpec().
		WithLearner(sandboxac.Learner().
			WithName(spec.Learner.Name).
			WithUsers(spec.Learner.Users...).
			WithGroups(spec.Learner.Groups...)).
		WithStage(spec.Stage).
		WithSuspend(spec.Suspend).
		WithResetGeneration(spec.ResetGeneration).
		WithAccess(sandboxac.Access().WithKubeconfig(spec.Access.Kubeconfig))
	if w := spec.Workspace; w != nil {
		s.WithWorkspace(sandboxac.Workspace().WithLanguage(w.Language))
	}
	if spec.TTL != nil {
		s.WithTTL(*spec.TTL)
	}
	if b := spec.Budget; b != nil {
		budget := sandboxac.Budget()
		if b.CPU != nil {
			budget.WithCPU(*b.CPU)
		}
		if b.Memory != nil {
			budget.WithMemory(*b.Memory)
		}
		if b.Storage != nil {
			budget.WithStorage(*b.Storage)
		}
		if b.Pods != nil {
			budget.WithPods(*b.Pods)
		}
		s.WithBudget(budget)
	}
	for _, o := range spec.Components {
		override := sandboxac.ComponentOverride().WithName(o.Name)
		if o.Image != "" {
			override.WithImage(o.Image)
		}
		if o.Replicas != nil {
			override.WithReplicas(*o.Replicas)
		}
		if o.Resources != nil {
			// A copy: applying reads the answer into the apply configuration,
			// and the spec's maps are the cached cohort's.
			override.WithResources(*o.Resources.DeepCopy())
		}
		if o.Storage != nil {
			override.WithStorage(*o.Storage)
		}
		if o.Disabled != nil {
			override.WithDisabled(*o.Disabled)
		}
		s.WithComponents(override)
	}
	sb := sandboxac.LearningSandbox(name)
	if at := c.Annotations[sandboxv1.CheckRequestedAtAnnotation]; at != "" {
		// Passed on to every sandbox, whose controller then checks at once.
		sb.WithAnnotations(map[string]string{sandboxv1.CheckRequestedAtAnnotation: at})
	}
	return sb.
		WithLabels(cohortLabels(c)).
		WithOwnerReferences(cohortOwnerReference(c)).
		WithSpec(s)
}

// cohortLabels are the labels of everything a cohort makes.
func cohortLabels(c *sandboxv1.LearningCohort) map[string]string {
	return map[string]string{
		stack.ManagedByLabel:  stack.ManagedBy,
		stack.PartOfLabel:     stack.PartOf,
		sandboxv1.CohortLabel: c.Name,
	}
}

// cohortOwnerReference makes the cohort the controller of an object, so that
// deleting the cohort garbage-collects it.
func cohortOwnerReference(c *sandboxv1.LearningCohort) *metav1ac.OwnerReferenceApplyConfiguration {
	return metav1ac.OwnerReference().
		WithAPIVersion(sandboxv1.GroupVersion.String()).
		WithKind("LearningCohort").
		WithName(c.Name).
		WithUID(c.UID).
		WithController(true).
		WithBlockOwnerDeletion(true)
}

// recordCohortEvents emits an event when the Ready condition changes, and one
// for each sandbox that newly conflicts, so that `kubectl events` tells the
// class's story without an event per reconcile.
func (r *LearningCohortReconciler) recordCohortEvents(before, after *sandboxv1.LearningCohort) {
	for _, name := range after.Status.Conflicts {
		if !slices.Contains(before.Status.Conflicts, name) {
			r.Recorder.Eventf(after, nil, corev1.EventTypeWarning, sandboxv1.ReasonSandboxConflict, "Apply",
				"Sandbox %s exists and belongs to someone else, so it is left alone: delete it, or rename the learner", name)
		}
	}
	if c := capacityChanged(before, after); c != nil {
		eventType := corev1.EventTypeNormal
		if c.Reason == sandboxv1.ReasonNodesShort {
			eventType = corev1.EventTypeWarning
		}
		r.Recorder.Eventf(after, nil, eventType, c.Reason, "MeasureCapacity", "%s", c.Message)
	}
	now := readyChanged(before, after)
	if now == nil {
		return
	}
	eventType := corev1.EventTypeNormal
	switch now.Reason {
	case sandboxv1.ReasonSandboxConflict, sandboxv1.ReasonSandboxesFailed, sandboxv1.ReasonExportConflict,
		sandboxv1.ReasonReconciliationFailed:
		eventType = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(after, nil, eventType, now.Reason, "Reconcile", "%s", now.Message)
}

// abbreviate lists a few names, and how many more there are.
func abbreviate(names []string) string {
	if len(names) <= maxNotReadyListed {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:maxNotReadyListed], ", "), len(names)-maxNotReadyListed)
}

// sandboxWrites remembers the generation of each sandbox as the cohort
// controller last wrote it, until the cache has caught up. A sandbox read from
// a cache that lags behind a write looks not yet updated, and a rollout would
// then update more than maxUnavailable at once.
type sandboxWrites struct {
	mu      sync.Mutex
	written map[string]sandboxWrite
}

type sandboxWrite struct {
	uid        types.UID
	generation int64
}

func (w *sandboxWrites) wrote(name string, uid types.UID, generation int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.written == nil {
		w.written = map[string]sandboxWrite{}
	}
	w.written[name] = sandboxWrite{uid: uid, generation: generation}
}

func (w *sandboxWrites) forget(name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.written, name)
}

// stale reports whether the cached sandbox is older than the cohort's last
// write of it. Once the cache has caught up, the write is forgotten.
func (w *sandboxWrites) stale(sb *sandboxv1.LearningSandbox) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	last, ok := w.written[sb.Name]
	if !ok {
		return false
	}
	if last.uid == sb.UID && sb.Generation < last.generation {
		return true
	}
	delete(w.written, sb.Name)
	return false
}
