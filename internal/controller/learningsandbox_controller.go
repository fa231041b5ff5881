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
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/drift"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/exercise"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/metrics"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// LearningSandboxReconciler makes a sandbox's namespace run its stage's stack.
type LearningSandboxReconciler struct {
	client.Client
	// APIReader reads past the cache, for the rare questions the cache cannot
	// answer: objects not made by the operator, and ones it has just created.
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  events.EventRecorder
	Settings  stack.Settings
	// Access is how learners' kubeconfigs reach the API server.
	Access LearnerAccess
	// MaxTTL is the longest spec.ttl a sandbox may ask for; zero: no maximum.
	MaxTTL time.Duration
	// Clock tells the time for expiry and token refresh; tests control it.
	Clock clock.PassiveClock
	// Checker runs the exercise checks; nil: exercises are listed, never checked.
	Checker exercise.Checker
	// CheckWorkers bounds the checks that run at once; DefaultCheckWorkers when zero.
	CheckWorkers int

	schedule checkSchedule
	// ledger tells what the cache leaves out of the sandboxes' objects (see cache.go).
	ledger *drift.Ledger
	// admission orders the new sandboxes (see admission.go).
	admission *admissionQueue
}

// Reconcile brings one sandbox to its desired state, in order: expiry, stage,
// namespace, credentials, the stack, pruning, and status from the children.
func (r *LearningSandboxReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	log := ctrl.LoggerFrom(ctx)
	r.admission.admitted(req.NamespacedName)

	sb := &sandboxv1.LearningSandbox{}
	if err := r.Get(ctx, req.NamespacedName, sb); err != nil {
		if apierrors.IsNotFound(err) {
			r.ledger.ForgetNamespace(r.Settings.NamespaceName(req.Name))
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if r.statusBehind(sb) {
		// The cache has not yet seen this operator's last status write: a
		// reconcile of this copy would write the same again.
		return ctrl.Result{RequeueAfter: cacheLagRecheck}, nil
	}
	original := sb.DeepCopy()
	defer func() {
		result, retErr = r.writeStatus(ctx, original, sb, result, retErr)
	}()

	if !sb.DeletionTimestamp.IsZero() {
		// Garbage collection removes the namespace and everything in it; a
		// foreground deletion waits for it, and the status says what it waits for.
		r.reportDeletion(ctx, sb)
		return ctrl.Result{}, nil
	}

	requeueAfter, expired, err := r.reconcileExpiry(ctx, sb)
	if err != nil || expired {
		return ctrl.Result{}, err
	}

	stage, err := r.getStage(ctx, sb)
	if err != nil {
		return ctrl.Result{}, err
	}
	ns, err := r.ensureNamespace(ctx, sb, stage)
	if terminating, ok := errors.AsType[*namespaceTerminatingError](err); ok {
		setCondition(sb, sandboxv1.ReadyCondition, metav1.ConditionFalse, sandboxv1.ReasonNamespaceTerminating, terminating.Error())
		setCondition(sb, sandboxv1.ReconcilingCondition, metav1.ConditionTrue, sandboxv1.ReasonNamespaceTerminating, terminating.Error())
		return ctrl.Result{RequeueAfter: namespaceRecheck}, nil
	}
	if conflict, ok := errors.AsType[*namespaceConflictError](err); ok {
		// Stalled until someone removes that namespace, which sends no event
		// here: it is not the operator's, so it is not in its cache.
		markStalled(sb, sandboxv1.ReasonNamespaceConflict, conflict.Error())
		sb.Status.ObservedGeneration = sb.Generation
		return ctrl.Result{RequeueAfter: conflictRecheck}, nil
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	components, err := stack.Resolve(sb, stage)
	if err != nil {
		return ctrl.Result{}, r.stall(sb, sandboxv1.ReasonUnknownComponent, err)
	}
	sets, err := r.statefulSets(ctx, sb, ns)
	if err != nil {
		return ctrl.Result{}, err
	}
	if resetting, err := r.reconcileReset(ctx, sb, ns, sets); err != nil || resetting {
		return ctrl.Result{}, err
	}
	creds, err := r.ensureCredentials(ctx, sb, ns, stack.RequiredCredentials(components))
	if err != nil {
		return ctrl.Result{}, err
	}
	st, err := stack.Render(stack.Input{Sandbox: sb, Stage: stage, Credentials: creds,
		DataVolumes: dataVolumes(sets), ServiceNames: serviceNames(sets)}, r.Settings)
	if _, ok := errors.AsType[*stack.BudgetError](err); ok {
		return ctrl.Result{}, r.stall(sb, sandboxv1.ReasonBudgetExceeded, err)
	}
	if _, ok := errors.AsType[*stack.LanguageError](err); ok {
		return ctrl.Result{}, r.stall(sb, sandboxv1.ReasonUnknownLanguage, err)
	}
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("rendering the stack: %w", err)
	}
	changed, pending, err := r.applyStack(ctx, sb, st, r.progressAwaitsCheck(sb, stage))
	if err != nil {
		return ctrl.Result{}, err
	}
	if pending {
		// The cache brings the objects it has not seen yet, and with them a
		// reconcile; this one makes sure, should it see neither them nor
		// their deletion.
		requeueAfter = earliest(requeueAfter, cacheLag)
	}
	refreshIn, err := r.reconcileKubeconfig(ctx, sb, ns)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.prune(ctx, sb, ns, st); err != nil {
		return ctrl.Result{}, err
	}
	observed, err := r.observeComponents(ctx, ns, st, changed)
	if err != nil {
		return ctrl.Result{}, err
	}
	setComponents(sb, observed)
	if err := r.checkLearnerFences(ctx, sb); err != nil {
		return ctrl.Result{}, err
	}
	markProvisioned(sb, r.Clock.Now())
	sb.Status.ConnectionSecret = stack.ConnectionSecretName
	checkIn, err := r.reconcileExercises(ctx, sb, stage, st, creds)
	if err != nil {
		return ctrl.Result{}, err
	}
	sb.Status.ObservedGeneration = sb.Generation
	log.V(1).Info("Reconciled sandbox", "namespace", ns, "ready", sb.Status.ComponentsReady, "changed", len(changed))
	return ctrl.Result{RequeueAfter: earliest(earliest(requeueAfter, refreshIn), checkIn)}, nil
}

// writeStatus ends a reconcile: it sets the phase, records a change of Ready,
// and patches the status if it changed (see progressWait for what waits),
// returning the reconcile's result and error with the patch's outcome.
func (r *LearningSandboxReconciler) writeStatus(ctx context.Context, original, sb *sandboxv1.LearningSandbox,
	result ctrl.Result, retErr error) (ctrl.Result, error) {
	r.finishStatus(sb, retErr)
	r.recordTransition(original, sb)
	if retErr != nil {
		metrics.ReconcileErrors.WithLabelValues("learningsandbox", readyReason(sb)).Inc()
	}
	// By the real clock, as the conditions' transition times are.
	if wait := progressWait(original, sb, time.Now()); wait > 0 {
		// Only progress within the phase changed, soon after it began:
		// written with the next change of phase, or once wait is up.
		result.RequeueAfter = earliest(result.RequeueAfter, wait)
		return result, retErr
	}
	// The first Ready is written once: a reconcile of a stale copy (one
	// that has not seen provisionedAt yet) is refused, and tried again.
	firstReady := original.Status.ProvisionedAt == nil && sb.Status.ProvisionedAt != nil
	var lock []client.MergeFromOption
	if firstReady {
		lock = append(lock, client.MergeFromWithOptimisticLock{})
	}
	err := patchStatus(ctx, r.Client, original, sb, lock...)
	switch {
	case firstReady && apierrors.IsConflict(err):
		result, retErr = ctrl.Result{RequeueAfter: time.Second}, nil
	case err != nil:
		retErr = kerrors.NewAggregate([]error{retErr, err})
	case firstReady:
		metrics.ObserveFirstReady(original, sb)
	}
	if err == nil && sb.ResourceVersion != original.ResourceVersion {
		r.recordStatusWrite(sb)
	}
	return result, retErr
}

// earliest is the shortest positive duration of the two, or zero for none.
func earliest(a, b time.Duration) time.Duration {
	switch {
	case a <= 0:
		return max(b, 0)
	case b <= 0:
		return a
	default:
		return min(a, b)
	}
}

// stall records input that no retry can fix and returns a terminal error, so
// that the sandbox is not retried until it or what it refers to changes.
func (r *LearningSandboxReconciler) stall(sb *sandboxv1.LearningSandbox, reason string, err error) error {
	markStalled(sb, reason, err.Error())
	sb.Status.ObservedGeneration = sb.Generation
	return reconcile.TerminalError(err)
}

// finishStatus sets what a reconcile that ended in a transient error leaves
// behind, and the phase.
func (r *LearningSandboxReconciler) finishStatus(sb *sandboxv1.LearningSandbox, err error) {
	if err != nil && !errors.Is(err, reconcile.TerminalError(nil)) {
		markFailed(sb, err)
	}
	setPhase(sb)
}

// recordTransition emits an event when the Ready condition changes, so that
// `kubectl events` tells the sandbox's story without an event per reconcile.
func (r *LearningSandboxReconciler) recordTransition(before, after *sandboxv1.LearningSandbox) {
	now := readyChanged(before, after)
	if now == nil {
		return
	}
	switch {
	case apimeta.FindStatusCondition(before.Status.Conditions, sandboxv1.ReadyCondition) == nil &&
		now.Reason == sandboxv1.ReasonComponentsNotReady:
		// A new sandbox is not ready yet: that says nothing new.
		return
	case before.Status.ProvisionedAt == nil && now.Status == metav1.ConditionTrue:
		// Its first Ready is in status.provisionedAt and the time-to-Ready
		// metric; an event for each of a class's sandboxes says no more.
		return
	}
	eventType := corev1.EventTypeNormal
	if now.Status != metav1.ConditionTrue && now.Reason != sandboxv1.ReasonComponentsNotReady {
		eventType = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(after, nil, eventType, now.Reason, "Reconcile", "%s", now.Message)
}

// reconcileExpiry sets status.expiresAt from spec.ttl and deletes the sandbox
// once it has passed. It returns how long until expiry, for the requeue.
func (r *LearningSandboxReconciler) reconcileExpiry(ctx context.Context, sb *sandboxv1.LearningSandbox) (time.Duration, bool, error) {
	at, ok := stack.ExpiresAt(sb)
	if !ok {
		sb.Status.ExpiresAt = nil
		return 0, false, nil
	}
	if r.MaxTTL > 0 && sb.Spec.TTL.Duration > r.MaxTTL {
		return 0, false, r.stall(sb, sandboxv1.ReasonInvalidSpec, fmt.Errorf(
			"spec.ttl %s is more than this cluster's maximum of %s: lower it", sb.Spec.TTL.Duration, r.MaxTTL))
	}
	expiresAt := metav1.NewTime(at)
	sb.Status.ExpiresAt = &expiresAt
	left := expiresAt.Sub(r.Clock.Now())
	if left > 0 {
		return left, false, nil
	}
	ctrl.LoggerFrom(ctx).Info("Deleting expired sandbox", "expiresAt", expiresAt.UTC().Format(time.RFC3339))
	r.Recorder.Eventf(sb, nil, corev1.EventTypeNormal, sandboxv1.ReasonExpired, "Delete",
		"Sandbox expired at %s and is being deleted", expiresAt.UTC().Format(time.RFC3339))
	markStalled(sb, sandboxv1.ReasonExpired, "Sandbox expired at "+expiresAt.UTC().Format(time.RFC3339))
	if err := r.Delete(ctx, sb, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
		return 0, true, client.IgnoreNotFound(err)
	}
	return 0, true, nil
}

// getStage reads the sandbox's RoadmapStage. A missing stage stalls the
// sandbox until the stage is created (the controller watches stages).
func (r *LearningSandboxReconciler) getStage(ctx context.Context, sb *sandboxv1.LearningSandbox) (*sandboxv1.RoadmapStage, error) {
	stage := &sandboxv1.RoadmapStage{}
	err := r.Get(ctx, client.ObjectKey{Name: sb.Spec.Stage}, stage)
	if apierrors.IsNotFound(err) {
		return nil, r.stall(sb, sandboxv1.ReasonStageNotFound, fmt.Errorf(
			"RoadmapStage %q does not exist: create it, or set spec.stage to one of `kubectl get roadmapstages`", sb.Spec.Stage))
	}
	if err != nil {
		return nil, fmt.Errorf("reading RoadmapStage %q: %w", sb.Spec.Stage, err)
	}
	return stage, nil
}

// ensureNamespace makes sure the sandbox's namespace exists and was made for
// this sandbox. A namespace made for anything else is never adopted, changed
// or deleted: the sandbox stalls and says so. A new namespace is created
// whole, as the stack renders it, so that applying the stack finds nothing
// to change in it.
func (r *LearningSandboxReconciler) ensureNamespace(ctx context.Context, sb *sandboxv1.LearningSandbox,
	stage *sandboxv1.RoadmapStage) (string, error) {
	name := r.Settings.NamespaceName(sb.Name)
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return "", r.stall(sb, sandboxv1.ReasonNamespaceTooLong, fmt.Errorf(
			"namespace name %q is not valid (%s): shorten the sandbox name", name, errs[0]))
	}
	ns := &corev1.Namespace{}
	err := r.Get(ctx, client.ObjectKey{Name: name}, ns)
	if apierrors.IsNotFound(err) {
		if _, lagging := r.cacheLags(ledgerKey("Namespace", client.ObjectKey{Name: name})); lagging {
			// Created a moment ago by this operator; the cache has not seen it yet.
			sb.Status.Namespace = name
			return name, nil
		}
		// The cache holds only the operator's namespaces: absent from it, the
		// namespace is new, or someone else's, which Create tells apart.
		ns, err = r.createNamespace(ctx, sb, stage)
		if apierrors.IsAlreadyExists(err) {
			ns = &corev1.Namespace{}
			err = r.APIReader.Get(ctx, client.ObjectKey{Name: name}, ns)
		}
	}
	if err != nil {
		return "", fmt.Errorf("ensuring namespace %s: %w", name, err)
	}
	if !ns.DeletionTimestamp.IsZero() {
		return "", &namespaceTerminatingError{msg: terminatingMessage(ns) + "; the sandbox is provisioned once it is gone"}
	}
	if !metav1.IsControlledBy(ns, sb) {
		return "", &namespaceConflictError{msg: fmt.Sprintf("namespace %s exists and was not made for this sandbox, "+
			"so it is left alone: delete or rename that namespace, or rename the sandbox", name)}
	}
	sb.Status.Namespace = name
	return name, nil
}

// namespaceRecheck is how long to wait before looking again at a namespace
// that is terminating: it may belong to an earlier sandbox of the same name,
// whose events this sandbox does not receive.
const namespaceRecheck = 10 * time.Second

// conflictRecheck is how long to wait before looking again at an object that
// the operator needs the name of and did not make (a namespace, a roster
// Secret): it is not in the cache, so its removal sends no event.
const conflictRecheck = time.Minute

// namespaceTerminatingError says that the sandbox's namespace is still terminating.
type namespaceTerminatingError struct{ msg string }

func (e *namespaceTerminatingError) Error() string { return e.msg }

// namespaceConflictError says that the sandbox's namespace belongs to someone else.
type namespaceConflictError struct{ msg string }

func (e *namespaceConflictError) Error() string { return e.msg }

// reportDeletion records, for a sandbox being deleted, what its namespace still waits for.
func (r *LearningSandboxReconciler) reportDeletion(ctx context.Context, sb *sandboxv1.LearningSandbox) {
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, client.ObjectKey{Name: r.Settings.NamespaceName(sb.Name)}, ns); err != nil ||
		ns.DeletionTimestamp.IsZero() || !metav1.IsControlledBy(ns, sb) {
		return
	}
	msg := terminatingMessage(ns)
	setCondition(sb, sandboxv1.ReadyCondition, metav1.ConditionFalse, sandboxv1.ReasonNamespaceTerminating, msg)
	setCondition(sb, sandboxv1.ReconcilingCondition, metav1.ConditionTrue, sandboxv1.ReasonNamespaceTerminating, msg)
}

// ensureCredentials returns the sandbox's generated credentials, generating
// the ones that keys names and that do not exist yet. A credential, once
// generated, is never regenerated: the Secret is created once and later only
// gains keys, under optimistic locking.
func (r *LearningSandboxReconciler) ensureCredentials(ctx context.Context, sb *sandboxv1.LearningSandbox, ns string,
	keys []string) (map[string]string, error) {
	secret := &corev1.Secret{}
	key := client.ObjectKey{Namespace: ns, Name: stack.CredentialsSecretName}
	err := r.Get(ctx, key, secret)
	if apierrors.IsNotFound(err) {
		// Ask the API server before generating anything: the cache may not
		// have seen a Secret this operator created a moment ago.
		err = r.APIReader.Get(ctx, key, secret)
	}
	switch {
	case apierrors.IsNotFound(err):
		data := generate(nil, keys)
		if err := r.Create(ctx, stack.CredentialsSecret(sb, r.Settings, data), client.FieldOwner(stack.FieldOwner)); err != nil {
			return nil, fmt.Errorf("creating the credentials Secret: %w", err)
		}
		return stringMap(data), nil
	case err != nil:
		return nil, fmt.Errorf("reading the credentials Secret: %w", err)
	}
	data := generate(secret.Data, keys)
	if len(data) != len(secret.Data) {
		patched := secret.DeepCopy()
		patched.Data = data
		if err := r.Patch(ctx, patched, client.MergeFromWithOptions(secret, client.MergeFromWithOptimisticLock{})); err != nil {
			return nil, fmt.Errorf("adding credentials: %w", err)
		}
	}
	return stringMap(data), nil
}

// generate returns existing with a new random value for each key it lacks.
func generate(existing map[string][]byte, keys []string) map[string][]byte {
	out := make(map[string][]byte, len(existing)+len(keys))
	maps.Copy(out, existing)
	for _, k := range keys {
		if len(out[k]) > 0 {
			continue
		}
		// rand.Text is 26 characters of base32 (130 bits), safe in URLs. An
		// HS256 key must be at least 32 bytes long (RFC 7518), so it gets two.
		v := rand.Text()
		if k == stack.JWTSecretKey {
			v += rand.Text()
		}
		out[k] = []byte(v)
	}
	return out
}

func stringMap(data map[string][]byte) map[string]string {
	out := make(map[string]string, len(data))
	for k, v := range data {
		out[k] = string(v)
	}
	return out
}

// applyStack server-side applies every object of the stack that drifted from
// what it should be, and returns the objects it changed: applied now, or
// applied a moment ago and not yet seen by the cache (then pending is true).
// An object that already holds every field the operator sets is not written
// to at all. With progressLater the learner's progress ConfigMap is not made
// here: the first check makes it (see progressAwaitsCheck).
func (r *LearningSandboxReconciler) applyStack(ctx context.Context, sb *sandboxv1.LearningSandbox,
	st *stack.Stack, progressLater bool) (changed map[string]bool, pending bool, err error) {
	changed = map[string]bool{}
	written := 0
	objects := append([]stack.Object{st.Namespace}, st.Objects...)
	for _, obj := range objects {
		create := !progressLater || *obj.GetKind() != "ConfigMap" || *obj.GetName() != stack.ProgressConfigMapName
		outcome, err := r.applyIfDrifted(ctx, obj, create)
		if apierrors.IsInvalid(err) {
			return nil, false, r.stall(sb, sandboxv1.ReasonApplyFailed, err)
		}
		if err != nil {
			return nil, false, err
		}
		switch outcome {
		case applied:
			written++
		case applyPending:
			pending = true
		case inSync, notCreated:
			continue
		}
		changed[*obj.GetKind()+"/"+*obj.GetName()] = true
	}
	if written > 0 {
		ctrl.LoggerFrom(ctx).Info("Applied stack", "namespace", st.Namespace.GetName(), "objects", written)
	}
	return changed, pending, nil
}

// newObject is an empty typed object of the desired object's kind.
func (r *LearningSandboxReconciler) newObject(obj stack.Object) (client.Object, error) {
	gvk := schema.FromAPIVersionAndKind(*obj.GetAPIVersion(), *obj.GetKind())
	o, err := r.Scheme.New(gvk)
	if err != nil {
		return nil, fmt.Errorf("making a %s: %w", gvk, err)
	}
	co, ok := o.(client.Object)
	if !ok {
		return nil, fmt.Errorf("%s is not an object", gvk)
	}
	return co, nil
}

// prune deletes what the operator made for this sandbox and no longer wants:
// the components a stage change or an override left out. Only objects that
// the sandbox controls are deleted; the learner's own objects are never touched.
func (r *LearningSandboxReconciler) prune(ctx context.Context, sb *sandboxv1.LearningSandbox, ns string, st *stack.Stack) error {
	desired := map[string]bool{"Secret/" + stack.CredentialsSecretName: true}
	if sb.Spec.Access.Kubeconfig {
		desired["Secret/"+stack.KubeconfigSecretName] = true
	}
	for _, obj := range st.Objects {
		desired[*obj.GetKind()+"/"+*obj.GetName()] = true
	}
	for _, kind := range managedKinds {
		list := kind.newList()
		if err := r.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{sandboxv1.SandboxLabel: sb.Name}); err != nil {
			return fmt.Errorf("listing %ss: %w", kind.kind, err)
		}
		items, err := apimeta.ExtractList(list)
		if err != nil {
			return err
		}
		for _, item := range items {
			obj := item.(client.Object)
			if desired[kind.kind+"/"+obj.GetName()] || !metav1.IsControlledBy(obj, sb) {
				continue
			}
			if err := r.Delete(ctx, obj, client.PropagationPolicy(metav1.DeletePropagationBackground)); client.IgnoreNotFound(err) != nil {
				return fmt.Errorf("pruning %s %s: %w", kind.kind, klog.KObj(obj), err)
			}
			ctrl.LoggerFrom(ctx).Info("Pruned object", "kind", kind.kind, "object", klog.KObj(obj))
		}
	}
	return nil
}

// observeComponents reads each component's workload and judges its readiness
// by the kstatus rules. A workload applied in this very reconcile is reported
// as progressing: the cache has not seen the change yet.
func (r *LearningSandboxReconciler) observeComponents(ctx context.Context, ns string, st *stack.Stack,
	changed map[string]bool) ([]sandboxv1.ComponentStatus, error) {
	out := make([]sandboxv1.ComponentStatus, 0, len(st.Components))
	for _, c := range st.Components {
		cs := sandboxv1.ComponentStatus{Name: c.Name, Type: c.Type, Endpoint: c.Endpoint(ns)}
		var workload client.Object = &appsv1.Deployment{}
		gvk := appsv1.SchemeGroupVersion.WithKind(c.Workload)
		if c.Workload == kindStatefulSet {
			workload = &appsv1.StatefulSet{}
		}
		err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: c.Name}, workload)
		switch {
		case changed[c.Workload+"/"+c.Name] || apierrors.IsNotFound(err):
			cs.Message = "applying " + c.Workload
		case err != nil:
			return nil, fmt.Errorf("reading %s %s/%s: %w", c.Workload, ns, c.Name, err)
		default:
			cs.Ready, cs.Message, err = workloadReady(workload, gvk)
			if err != nil {
				return nil, err
			}
		}
		if c.Note != "" {
			cs.Message = strings.TrimPrefix(cs.Message+"; "+c.Note, "; ")
		}
		out = append(out, cs)
	}
	return out, nil
}

// workloadReady judges a workload by kstatus: ready when Current.
func workloadReady(obj client.Object, gvk schema.GroupVersionKind) (bool, string, error) {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return false, "", err
	}
	un := &unstructured.Unstructured{Object: u}
	un.SetGroupVersionKind(gvk)
	res, err := status.Compute(un)
	if err != nil {
		return false, "", fmt.Errorf("computing the status of %s %s: %w", gvk.Kind, klog.KObj(obj), err)
	}
	if res.Status == status.CurrentStatus {
		return true, "", nil
	}
	return false, res.Message, nil
}
