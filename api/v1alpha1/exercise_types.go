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

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// CheckRequestedAtAnnotation on a sandbox or a cohort runs the exercise checks
// at once whenever its value changes, like Flux's reconcile.fluxcd.io/requestedAt.
const CheckRequestedAtAnnotation = "sandbox.learning.dev/check-requested-at"

// Exercise is one thing a learner practises in a stage, and how the operator
// checks that it is done.
type Exercise struct {
	// name of the exercise, a DNS label unique in the stage.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +required
	Name string `json:"name"`

	// title of the exercise, one line.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=100
	// +required
	Title string `json:"title"`

	// description of what to do.
	// +kubebuilder:validation:MaxLength=1000
	// +optional
	Description string `json:"description,omitempty"`

	// hint says how to do it with the stage's own stack.
	// +kubebuilder:validation:MaxLength=1000
	// +optional
	Hint string `json:"hint,omitempty"`

	// check is how the operator tells that the exercise is done.
	// +required
	Check ExerciseCheck `json:"check"`
}

// ExerciseCheck is exactly one of postgres, redis and http.
// +kubebuilder:validation:XValidation:rule="[has(self.postgres), has(self.redis), has(self.http)].filter(x, x).size() == 1",message="a check has exactly one of postgres, redis or http: keep one, for example check: {postgres: {component: postgres, query: \"select true\"}}"
type ExerciseCheck struct {
	// postgres runs a query in a read-only transaction; the check passes when
	// the first column of the first row is true.
	// +optional
	Postgres *PostgresCheck `json:"postgres,omitempty"`
	// redis runs one read-only command; the check passes when its reply, as a
	// string, equals expect.
	// +optional
	Redis *RedisCheck `json:"redis,omitempty"`
	// http sends a GET; the check passes on the status and, if set, when the
	// body contains bodyContains.
	// +optional
	HTTP *HTTPCheck `json:"http,omitempty"`
}

// PostgresCheck queries a Postgres component as the sandbox's own user.
type PostgresCheck struct {
	// component is the name of a Postgres component of the stage.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +required
	Component string `json:"component"`
	// query whose first column of the first row is a boolean.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	// +required
	Query string `json:"query"`
}

// RedisCheck runs one command against a Redis component with its password.
type RedisCheck struct {
	// component is the name of a Redis component of the stage.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +required
	Component string `json:"component"`
	// command and its arguments, for example [EXISTS, "todos:first-page"].
	// Only commands that read are allowed.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self[0].upperAscii() in ['GET','EXISTS','TTL','PTTL','TYPE','STRLEN','GETRANGE','HGET','HEXISTS','HLEN','LLEN','LINDEX','SCARD','SISMEMBER','ZCARD','ZSCORE','DBSIZE','PING','EVAL_RO','EVALSHA_RO','OBJECT','BITCOUNT','PFCOUNT','XLEN']",message="a redis check runs a command that only reads, such as GET, EXISTS, TTL, HGET, SCARD, DBSIZE or EVAL_RO: writing commands are refused"
	// +required
	Command []string `json:"command"`
	// expect is the reply as a string: an integer as its digits, a nil reply as (nil).
	// +kubebuilder:validation:MaxLength=1024
	// +required
	Expect string `json:"expect"`
}

// HTTPCheck sends GET path to a component's Service.
type HTTPCheck struct {
	// component is the name of an Nginx, App or Container component of the stage.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +required
	Component string `json:"component"`
	// path of the request, with its query if any.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern=`^/`
	// +required
	Path string `json:"path"`
	// expectStatus is the HTTP status the check wants.
	// +kubebuilder:validation:Minimum=100
	// +kubebuilder:validation:Maximum=599
	// +required
	ExpectStatus int32 `json:"expectStatus"`
	// bodyContains, when set, must be in the first 64 KiB of the body.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	BodyContains string `json:"bodyContains,omitempty"`
}

// ExerciseStatus is the last result of one exercise's check in a sandbox.
type ExerciseStatus struct {
	// name of the exercise.
	Name string `json:"name"`
	// passed is true when the last check passed.
	Passed bool `json:"passed"`
	// passedAt is when the check first passed since it last failed.
	// +optional
	PassedAt *metav1.Time `json:"passedAt,omitempty"`
	// message says why the check did not pass.
	// +optional
	Message string `json:"message,omitempty"`
}

// CohortExerciseStatus counts the learners of a class who passed an exercise.
type CohortExerciseStatus struct {
	// name of the exercise.
	Name string `json:"name"`
	// passed counts the learners whose sandbox passed it.
	Passed int32 `json:"passed"`
}
