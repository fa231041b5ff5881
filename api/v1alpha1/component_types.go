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

package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// ComponentType says what a component becomes in the sandbox namespace.
// +kubebuilder:validation:Enum=Postgres;Redis;Nginx;App;Container;Workspace
type ComponentType string

const (
	// ComponentPostgres is a PostgreSQL server: a StatefulSet with its data on a
	// PersistentVolumeClaim (or an emptyDir when ephemeral), and a Service.
	ComponentPostgres ComponentType = "Postgres"
	// ComponentRedis is a password-protected Redis server: a Deployment and a Service.
	ComponentRedis ComponentType = "Redis"
	// ComponentNginx is an Nginx reverse proxy in front of the App component (or a
	// static welcome page when the stage has no App): a Deployment, a ConfigMap and a Service.
	ComponentNginx ComponentType = "Nginx"
	// ComponentApp is the sample backend app, configured from the connection Secret:
	// a Deployment and a Service.
	ComponentApp ComponentType = "App"
	// ComponentContainer is any other image with its ports and environment: a
	// Deployment and a Service.
	ComponentContainer ComponentType = "Container"
	// ComponentWorkspace is the learner's own workspace: a long-lived pod with
	// the toolchain of their language, a persistent home, the connection
	// Secret in its environment, and a Service (and a route through Nginx) on
	// the port where the learner's own program listens: a StatefulSet of one
	// pod with its home on a PersistentVolumeClaim, and a Service.
	ComponentWorkspace ComponentType = "Workspace"
)

// Component is one piece of a stage's stack.
// +kubebuilder:validation:XValidation:rule="self.type == 'Container' ? has(self.container) : !has(self.container)",message="container is set for type Container and only there: add container.image and container.ports to a Container component, or remove container from a built-in type"
// +kubebuilder:validation:XValidation:rule="!has(self.storage) && !has(self.storageClassName) || self.type == 'Postgres' || self.type == 'Workspace'",message="storage and storageClassName are only for Postgres and Workspace components (their data and home volumes): remove them, or use one of those types"
// +kubebuilder:validation:XValidation:rule="!has(self.ephemeral) || self.type == 'Postgres'",message="ephemeral is only for Postgres components: remove it"
// +kubebuilder:validation:XValidation:rule="!has(self.workspace) || self.type == 'Workspace'",message="workspace is set for type Workspace only: remove it, or use type Workspace"
// +kubebuilder:validation:XValidation:rule="self.type != 'Container' || !has(self.image)",message="a Container component takes its image from container.image: move image there"
// +kubebuilder:validation:XValidation:rule="!has(self.replicas) || self.type != 'Postgres' || self.replicas <= 1",message="a Postgres component runs a single server: set replicas to 0 or 1"
// +kubebuilder:validation:XValidation:rule="!has(self.replicas) || self.type != 'Workspace' || self.replicas <= 1",message="a Workspace is one pod with one home volume: set replicas to 0 or 1"
// +kubebuilder:validation:XValidation:rule="!has(self.storage) || (type(self.storage) == int ? self.storage > 0 : quantity(self.storage).isGreaterThan(quantity('0')))",message="storage is a positive quantity, for example 2Gi",fieldPath=".storage"
type Component struct {
	// name of the component; its Service, workload and connection details are named after it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z]([-a-z0-9]*[a-z0-9])?$`
	// +required
	Name string `json:"name"`

	// type says what the component runs.
	// +required
	Type ComponentType `json:"type"`

	// image overrides the operator's default image for this type.
	// For type Container, set container.image instead.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Image string `json:"image,omitempty"`

	// replicas of the workload; 1 when unset.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// resources of the component's main container; the operator's defaults for
	// the type when unset.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`

	// storage is the size of the Postgres data volume or of the Workspace's
	// home volume; 1Gi when unset. It counts in the budget's storage.
	// +optional
	Storage *resource.Quantity `json:"storage,omitempty"`

	// storageClassName of the Postgres data volume or the Workspace's home
	// volume; the cluster's default class when unset.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`

	// ephemeral keeps Postgres data in an emptyDir instead of a PersistentVolumeClaim:
	// faster to start, gone whenever the pod is.
	// +optional
	Ephemeral *bool `json:"ephemeral,omitempty"`

	// container is what a Container component runs.
	// +optional
	Container *ContainerSpec `json:"container,omitempty"`

	// workspace is the language and port of a Workspace component.
	// +optional
	Workspace *WorkspaceComponent `json:"workspace,omitempty"`
}

// WorkspaceComponent is what a stage says of its Workspace.
type WorkspaceComponent struct {
	// language the workspace has when the sandbox does not choose one
	// (spec.workspace.language); the operator's default language when unset.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +optional
	Language string `json:"language,omitempty"`

	// port the learner's program listens on: the port of the workspace's
	// Service, of WORKSPACE_URL and of PORT in its environment. 8080 when unset.
	// +kubebuilder:validation:Minimum=1024
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port *int32 `json:"port,omitempty"`
}

// Workspace is a learner's choice for their sandbox's Workspace.
type Workspace struct {
	// language of the workspace's toolchain: an entry of the operator's
	// language catalog (built in: go, java, node, python). Unset: the stage's
	// choice, else the operator's default.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +optional
	Language string `json:"language,omitempty"`
}

// ContainerSpec is the image, ports and environment of a Container component.
type ContainerSpec struct {
	// image to run, for example mongo:7.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +required
	Image string `json:"image"`

	// ports the container listens on; each becomes a port of the component's Service.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=10
	// +required
	Ports []ContainerPort `json:"ports"`

	// env of the container.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=50
	// +optional
	Env []EnvVar `json:"env,omitempty"`

	// command overrides the image's entrypoint.
	// +kubebuilder:validation:MaxItems=20
	// +optional
	Command []string `json:"command,omitempty"`

	// args overrides the image's arguments.
	// +kubebuilder:validation:MaxItems=50
	// +optional
	Args []string `json:"args,omitempty"`

	// runAsUser is the non-root user id the container runs as, for images whose
	// default user is root (Pod Security "restricted" refuses root).
	// +kubebuilder:validation:Minimum=1
	// +optional
	RunAsUser *int64 `json:"runAsUser,omitempty"`

	// emptyDirs are paths inside the container where an empty writable
	// directory is mounted, for example /data/db; gone with the pod.
	// +listType=set
	// +kubebuilder:validation:MaxItems=10
	// +kubebuilder:validation:items:Pattern=`^/.*`
	// +kubebuilder:validation:items:MaxLength=256
	// +optional
	EmptyDirs []string `json:"emptyDirs,omitempty"`

	// readinessProbe tells when the container is ready to serve; a TCP
	// connect to its first port when unset.
	// +optional
	ReadinessProbe *ContainerProbe `json:"readinessProbe,omitempty"`
}

// ContainerProbe is how a Container component is checked for readiness: by
// exactly one of a TCP connect, an HTTP GET or a command. It is a small subset
// of a Pod's probe, which is all a stage needs.
// +kubebuilder:validation:XValidation:rule="(has(self.tcpPort) ? 1 : 0) + (has(self.httpGet) ? 1 : 0) + (has(self.exec) ? 1 : 0) == 1",message="a readinessProbe checks one way: set exactly one of tcpPort (for example 27017), httpGet (path and port) or exec (command)"
type ContainerProbe struct {
	// tcpPort is a TCP port that accepts connections once the container is ready.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	TCPPort *int32 `json:"tcpPort,omitempty"`

	// httpGet is a request that answers 2xx or 3xx once the container is ready.
	// +optional
	HTTPGet *HTTPGetProbe `json:"httpGet,omitempty"`

	// exec is a command, run in the container, that exits 0 once it is ready.
	// +optional
	Exec *ExecProbe `json:"exec,omitempty"`

	// periodSeconds between two checks; 5 when unset.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=300
	// +optional
	PeriodSeconds *int32 `json:"periodSeconds,omitempty"`
}

// HTTPGetProbe is an HTTP GET of a path on a port of the container.
type HTTPGetProbe struct {
	// path to request, for example /healthz.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern=`^/`
	// +required
	Path string `json:"path"`

	// port to request it on.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +required
	Port int32 `json:"port"`
}

// ExecProbe is a command run in the container, without a shell unless it names one.
type ExecProbe struct {
	// command and its arguments, for example [mongosh, --quiet, --eval, "db.adminCommand('ping')"].
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=20
	// +required
	Command []string `json:"command"`
}

// ContainerPort is a named TCP port of a Container component.
type ContainerPort struct {
	// name of the port, an IANA service name such as mongo or http.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:Pattern=`^[a-z]([-a-z0-9]*[a-z0-9])?$`
	// +required
	Name string `json:"name"`

	// containerPort is the TCP port number.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +required
	ContainerPort int32 `json:"containerPort"`
}

// EnvVar is a plain environment variable of a Container component.
type EnvVar struct {
	// name of the variable.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z][-._a-zA-Z0-9]*$`
	// +required
	Name string `json:"name"`

	// value of the variable.
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	Value string `json:"value,omitempty"`
}

// ComponentOverride changes one component of the stage for one sandbox.
// +kubebuilder:validation:XValidation:rule="has(self.image) || has(self.replicas) || has(self.resources) || has(self.storage) || has(self.disabled)",message="an override changes something: set image, replicas, resources, storage or disabled"
// +kubebuilder:validation:XValidation:rule="!has(self.storage) || (type(self.storage) == int ? self.storage > 0 : quantity(self.storage).isGreaterThan(quantity('0')))",message="storage is a positive quantity, for example 2Gi",fieldPath=".storage"
type ComponentOverride struct {
	// name of the stage's component to change.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z]([-a-z0-9]*[a-z0-9])?$`
	// +required
	Name string `json:"name"`

	// image replaces the stage's image for this component.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Image string `json:"image,omitempty"`

	// replicas replaces the stage's replicas.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// resources replaces the stage's resources for this component.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`

	// storage replaces the size of a Postgres component's data volume or a
	// Workspace's home volume.
	// +optional
	Storage *resource.Quantity `json:"storage,omitempty"`

	// disabled leaves the component out of this sandbox.
	// +optional
	Disabled *bool `json:"disabled,omitempty"`
}
