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
package stack

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/drift"
)

// Names of what every sandbox namespace holds besides its components.
const (
	// CredentialsSecretName holds the generated passwords. The controller creates
	// it once and only ever adds keys to it, so credentials survive every reconcile.
	CredentialsSecretName = "sandbox-credentials"
	// ConnectionSecretName holds everything a learner needs to connect.
	ConnectionSecretName = "sandbox-connection"
	// KubeconfigSecretName holds the learner's kubeconfig in their namespace,
	// under KubeconfigKey.
	KubeconfigSecretName = "learner-kubeconfig"
	KubeconfigKey        = "kubeconfig"
)

// Keys of the credentials Secret.
const (
	PostgresPasswordKey = "postgres-password"
	RedisPasswordKey    = "redis-password"
	JWTSecretKey        = "jwt-secret"
)

// Labels every object the operator makes carries.
const (
	ManagedByLabel = "app.kubernetes.io/managed-by"
	PartOfLabel    = "app.kubernetes.io/part-of"
	NameLabel      = "app.kubernetes.io/name"
	InstanceLabel  = "app.kubernetes.io/instance"
	ManagedBy      = "learning-sandbox-operator"
	PartOf         = "learning-sandbox"
)

// FieldOwner is the one field manager of everything the operator applies.
const FieldOwner = "learning-sandbox-operator"

// Object is a desired object: an apply configuration that knows its identity.
type Object interface {
	runtime.ApplyConfiguration
	GetAPIVersion() *string
	GetKind() *string
	GetName() *string
	GetNamespace() *string
}

// Input is what a sandbox is rendered from.
type Input struct {
	Sandbox *sandboxv1.LearningSandbox
	Stage   *sandboxv1.RoadmapStage
	// Credentials are the generated secrets by key (see RequiredCredentials).
	Credentials map[string]string
	// DataVolumes are the data volumes of the Postgres StatefulSets that
	// exist, by component name: they are kept as they are (see DataVolume).
	DataVolumes map[string]DataVolume
	// ServiceNames are the serviceNames of the Postgres StatefulSets that
	// exist, by component name: they are kept as they are (see governingService).
	ServiceNames map[string]string
}

// Stack is what a sandbox runs.
type Stack struct {
	// Namespace is the sandbox's namespace.
	Namespace *corev1ac.NamespaceApplyConfiguration
	// Objects live in the namespace, in the order they are best applied.
	Objects []Object
	// Components are the stage's components as this sandbox runs them.
	Components []Component
}

// Component is a stage component with the sandbox's overrides applied.
type Component struct {
	sandboxv1.Component
	// Replicas is what the workload is scaled to (zero when suspended).
	Replicas int32
	// Workload is the kind of the component's workload: Deployment or StatefulSet.
	Workload string
	// Port is the component's first Service port.
	Port int32
	// Note is what the component's status says beyond its readiness, such as
	// a change that waits for a reset.
	Note string
}

// Endpoint is host:port of the component's Service inside the cluster.
func (c Component) Endpoint(namespace string) string {
	return fmt.Sprintf("%s:%d", serviceHost(c.Name, namespace), c.Port)
}

func serviceHost(service, namespace string) string {
	return service + "." + namespace + ".svc"
}

// Render returns the objects a sandbox runs. The credentials must hold every key
// that RequiredCredentials names for the resolved components.
func Render(in Input, s Settings) (*Stack, error) {
	components, err := Resolve(in.Sandbox, in.Stage)
	if err != nil {
		return nil, err
	}
	budget, err := ResolveBudget(in.Sandbox, in.Stage, s)
	if err != nil {
		return nil, err
	}
	for _, key := range RequiredCredentials(components) {
		if in.Credentials[key] == "" {
			return nil, fmt.Errorf("credential %q is missing", key)
		}
	}
	r := &renderer{
		sandbox:      in.Sandbox,
		stage:        in.Stage,
		settings:     s,
		namespace:    s.NamespaceName(in.Sandbox.Name),
		creds:        in.Credentials,
		serviceNames: in.ServiceNames,
	}
	for i := range components {
		components[i].Replicas = r.replicas(components[i].Component)
		if existing, ok := in.DataVolumes[components[i].Name]; ok && hasDataVolume(components[i].Type) {
			keepDataVolume(&components[i], existing)
		}
		if components[i].Type == sandboxv1.ComponentWorkspace {
			// Resolved once: the workspace renders with its language's image.
			image, err := workspaceImage(in.Sandbox, components[i], s)
			if err != nil {
				return nil, err
			}
			components[i].Image = image
		}
	}
	if err := checkFits(components, budget); err != nil {
		return nil, err
	}
	st := &Stack{
		Namespace:  r.namespaceObject(),
		Components: components,
	}
	// The fences first: the quota and limits are in place before any pod is.
	st.Objects = append(st.Objects, r.isolation(budget, components)...)
	connection := r.connectionSecret(components)
	st.Objects = append(st.Objects, connection)
	// Nginx last: it resolves its upstreams' Service names as it starts.
	for _, proxies := range []bool{false, true} {
		for _, c := range components {
			if (c.Type == sandboxv1.ComponentNginx) == proxies {
				st.Objects = append(st.Objects, r.component(c, components, connection.Data)...)
			}
		}
	}
	if len(in.Stage.Spec.Exercises) > 0 {
		st.Objects = append(st.Objects, ProgressConfigMap(in.Sandbox, in.Stage, s))
	}
	st.Objects = append(st.Objects, r.objectQuota())
	for _, obj := range append([]Object{st.Namespace}, st.Objects...) {
		if err := drift.Stamp(obj); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// Resolve applies the sandbox's overrides to the stage's components, leaving
// out the disabled ones. An override that the stage cannot take is an
// *InvalidOverrideError.
func Resolve(sandbox *sandboxv1.LearningSandbox, stage *sandboxv1.RoadmapStage) ([]Component, error) {
	overrides := make(map[string]sandboxv1.ComponentOverride, len(sandbox.Spec.Components))
	for _, o := range sandbox.Spec.Components {
		overrides[o.Name] = o
	}
	var out []Component
	for _, sc := range stage.Spec.Components {
		c := *sc.DeepCopy()
		o, found := overrides[c.Name]
		delete(overrides, c.Name)
		if found {
			if o.Disabled != nil && *o.Disabled {
				continue
			}
			if err := override(&c, o); err != nil {
				return nil, err
			}
		}
		out = append(out, Component{Component: c, Workload: workloadKind(c.Type), Port: servicePort(c)})
	}
	if len(overrides) > 0 {
		names := slices.Sorted(maps.Keys(overrides))
		return nil, &InvalidOverrideError{
			Component: names[0],
			Reason: fmt.Sprintf("stage %q has no such component; its components are %s",
				stage.Name, strings.Join(componentNames(stage.Spec.Components), ", ")),
		}
	}
	if err := checkDependencies(out); err != nil {
		return nil, err
	}
	return out, nil
}

func override(c *sandboxv1.Component, o sandboxv1.ComponentOverride) error {
	if o.Image != "" {
		if c.Type == sandboxv1.ComponentContainer {
			c.Container.Image = o.Image
		} else {
			c.Image = o.Image
		}
	}
	if o.Replicas != nil {
		if c.Type == sandboxv1.ComponentPostgres && *o.Replicas > 1 {
			return &InvalidOverrideError{Component: o.Name, Reason: "a Postgres component runs a single server: set replicas to 0 or 1"}
		}
		if c.Type == sandboxv1.ComponentWorkspace && *o.Replicas > 1 {
			return &InvalidOverrideError{Component: o.Name, Reason: "a Workspace is one pod with one home volume: set replicas to 0 or 1"}
		}
		c.Replicas = o.Replicas
	}
	if o.Resources != nil {
		c.Resources = o.Resources.DeepCopy()
	}
	if o.Storage != nil {
		if !hasDataVolume(c.Type) {
			return &InvalidOverrideError{Component: o.Name,
				Reason: fmt.Sprintf("a %s component has no storage: remove storage from the override", c.Type)}
		}
		s := o.Storage.DeepCopy()
		c.Storage = &s
	}
	return nil
}

// checkDependencies refuses a sandbox that disabled what another component needs.
func checkDependencies(components []Component) error {
	has := func(t sandboxv1.ComponentType) bool {
		return slices.ContainsFunc(components, func(c Component) bool { return c.Type == t })
	}
	if has(sandboxv1.ComponentApp) && !has(sandboxv1.ComponentPostgres) {
		for _, c := range components {
			if c.Type == sandboxv1.ComponentApp {
				return &InvalidOverrideError{Component: c.Name,
					Reason: "the App keeps its data in PostgreSQL: do not disable the Postgres component, or disable the App too"}
			}
		}
	}
	return nil
}

func componentNames(cs []sandboxv1.Component) []string {
	names := make([]string, 0, len(cs))
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return names
}

// RequiredCredentials names the credential keys that these components need.
func RequiredCredentials(components []Component) []string {
	var keys []string
	for _, c := range components {
		switch c.Type {
		case sandboxv1.ComponentPostgres:
			keys = append(keys, PostgresPasswordKey)
		case sandboxv1.ComponentRedis:
			keys = append(keys, RedisPasswordKey)
		case sandboxv1.ComponentApp:
			keys = append(keys, JWTSecretKey)
		}
	}
	return keys
}

func workloadKind(t sandboxv1.ComponentType) string {
	if hasDataVolume(t) {
		return "StatefulSet"
	}
	return "Deployment"
}

// hasDataVolume reports whether components of the type keep data on a
// volume of their own, made from their StatefulSet's claim template: the
// Postgres data, the Workspace's home.
func hasDataVolume(t sandboxv1.ComponentType) bool {
	return t == sandboxv1.ComponentPostgres || t == sandboxv1.ComponentWorkspace
}

func servicePort(c sandboxv1.Component) int32 {
	switch c.Type {
	case sandboxv1.ComponentPostgres:
		return postgresPort
	case sandboxv1.ComponentRedis:
		return redisPort
	case sandboxv1.ComponentNginx:
		return webServicePort
	case sandboxv1.ComponentApp:
		return appPort
	case sandboxv1.ComponentWorkspace:
		return workspacePort(c)
	default:
		return c.Container.Ports[0].ContainerPort
	}
}

// renderer holds what every object of one sandbox is rendered from.
type renderer struct {
	sandbox   *sandboxv1.LearningSandbox
	stage     *sandboxv1.RoadmapStage
	settings  Settings
	namespace string
	creds     map[string]string
	// serviceNames are those of the existing StatefulSets (Input.ServiceNames).
	serviceNames map[string]string
}

// replicas is what a component's workload is scaled to.
func (r *renderer) replicas(c sandboxv1.Component) int32 {
	if r.sandbox.Spec.Suspend {
		return 0
	}
	if c.Replicas != nil {
		return *c.Replicas
	}
	return 1
}

// labels are the labels of every object of the sandbox, plus the component's.
func (r *renderer) labels(component string) map[string]string {
	l := map[string]string{
		ManagedByLabel:         ManagedBy,
		PartOfLabel:            PartOf,
		sandboxv1.SandboxLabel: r.sandbox.Name,
	}
	if component != "" {
		l[sandboxv1.ComponentLabel] = component
		l[InstanceLabel] = component
	}
	return l
}

// CommonLabels are the labels of every object the operator makes for a sandbox.
func CommonLabels(sandbox *sandboxv1.LearningSandbox) map[string]string {
	return (&renderer{sandbox: sandbox}).labels("")
}

// selector picks a component's pods; it never changes, as selectors are immutable.
func selector(component string) map[string]string {
	return map[string]string{sandboxv1.ComponentLabel: component}
}

// OwnerReference makes the sandbox the controller of an object, so that
// deleting the sandbox garbage-collects it.
func OwnerReference(sandbox *sandboxv1.LearningSandbox) *metav1ac.OwnerReferenceApplyConfiguration {
	return metav1ac.OwnerReference().
		WithAPIVersion(sandboxv1.GroupVersion.String()).
		WithKind("LearningSandbox").
		WithName(sandbox.Name).
		WithUID(sandbox.UID).
		WithController(true).
		WithBlockOwnerDeletion(true)
}

// namespaceObject is the sandbox namespace, labelled for Pod Security "restricted".
func (r *renderer) namespaceObject() *corev1ac.NamespaceApplyConfiguration {
	labels := r.labels("")
	labels[sandboxv1.StageLabel] = r.stage.Name
	labels[sandboxv1.LearnerLabel] = r.sandbox.Spec.Learner.Name
	for _, mode := range []string{"enforce", "audit", "warn"} {
		labels["pod-security.kubernetes.io/"+mode] = "restricted"
		labels["pod-security.kubernetes.io/"+mode+"-version"] = "latest"
	}
	return corev1ac.Namespace(r.namespace).
		WithLabels(labels).
		WithOwnerReferences(OwnerReference(r.sandbox))
}

// NamespaceOf is the sandbox's namespace as Render gives it, stamped: the
// namespace is created whole from it, before the rest is rendered.
func NamespaceOf(sandbox *sandboxv1.LearningSandbox, stage *sandboxv1.RoadmapStage, s Settings) (*corev1ac.NamespaceApplyConfiguration, error) {
	r := &renderer{sandbox: sandbox, stage: stage, settings: s, namespace: s.NamespaceName(sandbox.Name)}
	ns := r.namespaceObject()
	if err := drift.Stamp(ns); err != nil {
		return nil, err
	}
	return ns, nil
}

// NamespaceLabels are the labels that mark a namespace as made for a sandbox.
func NamespaceLabels(sandbox string) map[string]string {
	return map[string]string{ManagedByLabel: ManagedBy, sandboxv1.SandboxLabel: sandbox}
}

// CredentialsSecret is the Secret that holds a sandbox's generated credentials.
func CredentialsSecret(sandbox *sandboxv1.LearningSandbox, s Settings, data map[string][]byte) *corev1.Secret {
	r := &renderer{sandbox: sandbox, settings: s, namespace: s.NamespaceName(sandbox.Name)}
	sec := &corev1.Secret{
		Type: corev1.SecretTypeOpaque,
		Data: data,
	}
	sec.Name = CredentialsSecretName
	sec.Namespace = r.namespace
	sec.Labels = r.labels("")
	sec.OwnerReferences = []metav1.OwnerReference{
		*metav1.NewControllerRef(sandbox, sandboxv1.GroupVersion.WithKind("LearningSandbox")),
	}
	return sec
}

// hash is a short, stable digest of config data; a pod template annotated with
// it rolls when the data changes.
func hash(data map[string][]byte) string {
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(data)) {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write(data[k])
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
