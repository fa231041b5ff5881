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
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// RoadmapStageSpec is what one stage of the backend roadmap runs for a learner.
// +kubebuilder:validation:XValidation:rule="self.components.filter(c, c.type == 'Postgres').size() <= 1",message="a stage has at most one Postgres component: DATABASE_URL names one database; use a Container component for another"
// +kubebuilder:validation:XValidation:rule="self.components.filter(c, c.type == 'Redis').size() <= 1",message="a stage has at most one Redis component: REDIS_URL names one server; use a Container component for another"
// +kubebuilder:validation:XValidation:rule="self.components.filter(c, c.type == 'App').size() <= 1",message="a stage has at most one App component: APP_URL names one app"
// +kubebuilder:validation:XValidation:rule="self.components.filter(c, c.type == 'Nginx').size() <= 1",message="a stage has at most one Nginx component: WEB_URL names one proxy"
// +kubebuilder:validation:XValidation:rule="!self.components.exists(c, c.type == 'Redis') || !self.components.exists(c, c.type == 'Container' && c.name == 'redis')",message="a Container component named redis would give REDIS_HOST and REDIS_PORT in the connection Secret to another server than the Redis component's: rename it, for example to redis-stack"
// +kubebuilder:validation:XValidation:rule="!self.components.exists(c, c.type == 'App') || self.components.exists(c, c.type == 'Postgres')",message="the App component keeps its data in PostgreSQL: add a Postgres component to the stage"
// +kubebuilder:validation:XValidation:rule="!has(self.exercises) || self.exercises.all(e, !has(e.check.postgres) || self.components.exists(c, c.name == e.check.postgres.component && c.type == 'Postgres'))",message="a postgres check names a Postgres component of this stage in check.postgres.component: write the name of the stage's Postgres component, for example postgres"
// +kubebuilder:validation:XValidation:rule="!has(self.exercises) || self.exercises.all(e, !has(e.check.redis) || self.components.exists(c, c.name == e.check.redis.component && c.type == 'Redis'))",message="a redis check names a Redis component of this stage in check.redis.component: write the name of the stage's Redis component, for example redis"
// +kubebuilder:validation:XValidation:rule="!has(self.exercises) || self.exercises.all(e, !has(e.check.http) || self.components.exists(c, c.name == e.check.http.component && c.type in ['Nginx', 'App', 'Workspace', 'Container']))",message="an http check names an Nginx, App, Workspace or Container component of this stage in check.http.component: write the name of one, for example web or workspace"
// +kubebuilder:validation:XValidation:rule="!has(self.exercises) || self.exercises.all(e, !has(e.check.http) || !has(e.check.http.steps) || e.check.http.steps.all(s, (!has(s.postgres) || self.components.exists(c, c.name == s.postgres.component && c.type == 'Postgres')) && (!has(s.redis) || self.components.exists(c, c.name == s.redis.component && c.type == 'Redis'))))",message="a scenario's postgres or redis step names a Postgres or Redis component of this stage: write the name of one, for example postgres or redis"
type RoadmapStageSpec struct {
	// title of the stage as the roadmap names it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=100
	// +required
	Title string `json:"title"`

	// description of what the learner practises in this stage.
	// +kubebuilder:validation:MaxLength=2000
	// +optional
	Description string `json:"description,omitempty"`

	// topics of the roadmap the stage covers.
	// +kubebuilder:validation:MaxItems=30
	// +kubebuilder:validation:items:MaxLength=63
	// +listType=set
	// +optional
	Topics []string `json:"topics,omitempty"`

	// budget is what one sandbox of this stage may use in all; it becomes the
	// namespace's ResourceQuota and LimitRange.
	// +optional
	Budget Budget `json:"budget,omitzero"`

	// components of the stack, each a workload and a Service in the sandbox namespace.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=20
	// +required
	Components []Component `json:"components"`

	// checkInterval is how often the exercises are checked while a sandbox is
	// Ready; 5m when unset, at least 1m.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m') && duration(self) <= duration('24h')",message="checkInterval is a duration from 1m to 24h, for example 5m"
	// +optional
	CheckInterval *metav1.Duration `json:"checkInterval,omitempty"`

	// openAPI is the OpenAPI document of the API that the learner builds in
	// this stage (a project stage), as YAML or JSON. The learner reads it in
	// their namespace, in the sandbox-progress ConfigMap's key openapi.yaml.
	// +kubebuilder:validation:MaxLength=65536
	// +optional
	OpenAPI string `json:"openAPI,omitempty"`

	// exercises the learner practises in this stage, each with its check.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=20
	// +optional
	Exercises []Exercise `json:"exercises,omitempty"`
}

// Budget bounds what one sandbox may use. A field left unset takes the
// operator's default.
// +kubebuilder:validation:XValidation:rule="!has(self.cpu) || quantity(string(self.cpu)).isGreaterThan(quantity('0'))",message="budget.cpu is a positive quantity, for example 500m or 2"
// +kubebuilder:validation:XValidation:rule="!has(self.memory) || quantity(string(self.memory)).isGreaterThan(quantity('0'))",message="budget.memory is a positive quantity, for example 512Mi or 4Gi"
// +kubebuilder:validation:XValidation:rule="!has(self.storage) || quantity(string(self.storage)).isGreaterThan(quantity('0'))",message="budget.storage is a positive quantity, for example 5Gi"
type Budget struct {
	// cpu the sandbox's containers may request and use in all.
	// +optional
	CPU *resource.Quantity `json:"cpu,omitempty"`

	// memory the sandbox's containers may request and use in all.
	// +optional
	Memory *resource.Quantity `json:"memory,omitempty"`

	// storage the sandbox's PersistentVolumeClaims may request in all.
	// +optional
	Storage *resource.Quantity `json:"storage,omitempty"`

	// pods that may exist in the sandbox at once.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=500
	// +optional
	Pods *int32 `json:"pods,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=rstage,categories=learning
// +kubebuilder:printcolumn:name="Title",type=string,JSONPath=`.spec.title`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// RoadmapStage is one stage of the backend roadmap: the catalog entry that says
// which stack a LearningSandbox of this stage runs.
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && self.metadata.name.size() <= 63",message="a stage name is a DNS label: lowercase letters, digits and '-', at most 63 characters, for example databases"
type RoadmapStage struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is a standard object metadata
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// spec is the stage's stack.
	// +required
	Spec RoadmapStageSpec `json:"spec"`
}

// +kubebuilder:object:root=true

// RoadmapStageList contains a list of RoadmapStage
type RoadmapStageList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []RoadmapStage `json:"items"`
}

func init() {
	SchemeBuilder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(SchemeGroupVersion, &RoadmapStage{}, &RoadmapStageList{})
		return nil
	})
}
