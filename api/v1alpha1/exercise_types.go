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
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

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
	// http sends a GET and passes on its status and, if set, when the body
	// contains bodyContains; or it runs a scenario of steps, each a request
	// with its assertions or a Postgres or Redis check of a side effect.
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
	// query whose first column of the first row is a boolean. It may use the
	// parameters $1, $2, … that params bind.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	// +required
	Query string `json:"query"`
	// params are bound to $1, $2, … of the query, never spliced into it. In a
	// scenario step they may use the scenario's variables, as "{{email}}".
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MaxLength=1024
	// +listType=atomic
	// +optional
	Params []string `json:"params,omitempty"`
}

// RedisCheck runs one command against a Redis component with its password.
type RedisCheck struct {
	// component is the name of a Redis component of the stage.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +required
	Component string `json:"component"`
	// command and its arguments, for example [EXISTS, "todos:first-page"].
	// Only commands that read are allowed. In a scenario step the arguments
	// may use the scenario's variables, as "links:{{code}}"; each stays one
	// argument.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self[0].upperAscii() in ['GET','EXISTS','TTL','PTTL','TYPE','STRLEN','GETRANGE','HGET','HEXISTS','HLEN','LLEN','LINDEX','SCARD','SISMEMBER','ZCARD','ZSCORE','DBSIZE','PING','EVAL_RO','EVALSHA_RO','OBJECT','BITCOUNT','PFCOUNT','XLEN']",message="a redis check runs a command that only reads, such as GET, EXISTS, TTL, HGET, SCARD, DBSIZE or EVAL_RO: writing commands are refused"
	// +listType=atomic
	// +required
	Command []string `json:"command"`
	// expect is the reply as a string: an integer as its digits, a nil reply
	// as (nil). In a scenario step it may use the scenario's variables.
	// +kubebuilder:validation:MaxLength=1024
	// +required
	Expect string `json:"expect"`
}

// HTTPCheck talks HTTP to a component's pods: either one GET (path,
// expectStatus and bodyContains) or a scenario (vars and steps).
// +kubebuilder:validation:XValidation:rule="has(self.path) != has(self.steps)",message="an http check has either path (one GET) or steps (a scenario), not both: for example http: {component: web, path: /, expectStatus: 200}"
// +kubebuilder:validation:XValidation:rule="!has(self.path) || has(self.expectStatus)",message="an http check with path needs expectStatus, for example expectStatus: 200"
// +kubebuilder:validation:XValidation:rule="!has(self.steps) || (!has(self.expectStatus) && !has(self.bodyContains) && !has(self.path))",message="a scenario asserts in each step's expect: move expectStatus and bodyContains into a step, as expect: {status: 200, bodyContains: ...}"
// +kubebuilder:validation:XValidation:rule="has(self.steps) || !has(self.vars)",message="vars belong to a scenario: add steps, or remove vars"
// +kubebuilder:validation:XValidation:rule="!has(self.steps) || self.steps.all(i, s, (has(s.request) ? [s.request.path] : has(s.postgres) && has(s.postgres.params) ? s.postgres.params : has(s.redis) ? s.redis.command : []).all(t, t.findAll('[{][{][A-Za-z_][A-Za-z0-9_]*[}][}]', 10).all(ref, ref == '{{random}}' || (has(self.vars) && ref.substring(2, ref.size() - 2) in self.vars) || self.steps.exists(j, p, j < i && has(p.capture) && ref.substring(2, ref.size() - 2) in p.capture))))",message="a step uses a variable that no earlier step captures and vars does not name: capture it in an earlier step (capture: {token: $.token}) or add it to vars"
type HTTPCheck struct {
	// component is the name of an Nginx, App, Workspace or Container
	// component of the stage: the check talks to its ready pods.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +required
	Component string `json:"component"`
	// path of the one GET, with its query if any.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern=`^/`
	// +optional
	Path string `json:"path,omitempty"`
	// expectStatus is the HTTP status the one GET wants.
	// +kubebuilder:validation:Minimum=100
	// +kubebuilder:validation:Maximum=599
	// +optional
	ExpectStatus int32 `json:"expectStatus,omitempty"`
	// bodyContains, when set, must be in the first 64 KiB of the GET's body.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	BodyContains string `json:"bodyContains,omitempty"`

	// vars of the scenario, made once per run, used in the steps as
	// "{{name}}". A value may use "{{random}}", ten random letters and digits
	// drawn once per run: name what a check makes after it ("check-{{random}}@example.edu")
	// so that the learner can tell it from their own data.
	// +kubebuilder:validation:MaxProperties=20
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^[A-Za-z_][A-Za-z0-9_]{0,39}$') && k != 'random' && self[k].size() <= 256)",message="a variable's name is letters, digits and _ (not random, which is built in), and its value at most 256 characters: for example vars: {email: \"check-{{random}}@example.edu\"}"
	// +optional
	Vars map[string]string `json:"vars,omitempty"`
	// steps of the scenario, run in order; the first that fails fails the check.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=20
	// +listType=atomic
	// +optional
	Steps []ScenarioStep `json:"steps,omitempty"`
}

// ScenarioStep is one request to the checked component, with what its reply
// must be and what to keep of it; or a Postgres or Redis check of what the
// requests did.
// +kubebuilder:validation:XValidation:rule="[has(self.request), has(self.postgres), has(self.redis)].filter(x, x).size() == 1",message="a step has exactly one of request, postgres or redis: for example - request: {method: GET, path: /health}"
// +kubebuilder:validation:XValidation:rule="has(self.request) || (!has(self.expect) && !has(self.capture))",message="expect and capture go with a request: a postgres or redis step asserts by its own result"
type ScenarioStep struct {
	// request to send to the http check's component.
	// +optional
	Request *StepRequest `json:"request,omitempty"`
	// expect is what the reply must be; without it any status below 400 passes.
	// +optional
	Expect *StepExpect `json:"expect,omitempty"`
	// capture keeps values of the reply's JSON body as variables of the later
	// steps: the variable's name, and a JSONPath (RFC 9535) that selects one value.
	// +kubebuilder:validation:MaxProperties=10
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^[A-Za-z_][A-Za-z0-9_]{0,39}$') && k != 'random' && self[k].startsWith('$') && self[k].size() <= 256)",message="capture maps a variable's name to a JSONPath that starts with $, for example capture: {token: $.token}"
	// +optional
	Capture map[string]string `json:"capture,omitempty"`
	// postgres checks a side effect: its query, in a read-only transaction,
	// returns true. Variables go in params, bound as $1, $2, ….
	// +optional
	Postgres *PostgresCheck `json:"postgres,omitempty"`
	// redis checks a side effect with one command that only reads.
	// +optional
	Redis *RedisCheck `json:"redis,omitempty"`
}

// StepRequest is one HTTP request. Its path, headers and body may use the
// scenario's variables, as "{{token}}"; in the path they are escaped.
type StepRequest struct {
	// method of the request.
	// +kubebuilder:validation:Enum=GET;HEAD;POST;PUT;PATCH;DELETE;OPTIONS
	// +kubebuilder:default=GET
	// +optional
	Method string `json:"method,omitempty"`
	// path of the request, with its query if any.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern=`^/`
	// +required
	Path string `json:"path"`
	// headers of the request, for example {Authorization: "Bearer {{token}}"}.
	// +kubebuilder:validation:MaxProperties=20
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^[A-Za-z0-9-]{1,64}$') && !(k.lowerAscii() in ['host', 'content-length', 'transfer-encoding', 'connection']) && self[k].size() <= 1024)",message="a header's name is letters, digits and -, not Host, Content-Length, Transfer-Encoding or Connection (the checker sets those), and its value at most 1024 characters"
	// +optional
	Headers map[string]string `json:"headers,omitempty"`
	// json is the body, sent as application/json; its strings may use variables,
	// and a string that is only "{{name}}" becomes the captured value with its JSON type.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	// +optional
	JSON *apiextensionsv1.JSON `json:"json,omitempty"`
	// body is a raw body, sent as it is written (with variables), with the
	// Content-Type of headers. A request has json or body, not both.
	// +kubebuilder:validation:MaxLength=16384
	// +optional
	Body string `json:"body,omitempty"`
}

// StepExpect is what a reply must be.
type StepExpect struct {
	// status the reply must have: one, as 200, or a set, as [200, 201].
	// Redirects are not followed: a 301 is the reply.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	// +optional
	Status *apiextensionsv1.JSON `json:"status,omitempty"`
	// headers of the reply, by name, for example {Location: {equals: "https://roadmap.sh"}}.
	// +kubebuilder:validation:MaxProperties=10
	// +optional
	Headers map[string]ValueAssertion `json:"headers,omitempty"`
	// jsonPath asserts values of the reply's JSON body, by JSONPath (RFC 9535),
	// for example {"$.items": {type: array}}.
	// +kubebuilder:validation:MaxProperties=20
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.startsWith('$') && k.size() <= 256)",message="a jsonPath key is a JSONPath that starts with $, for example $.items or $.items[0].title"
	// +optional
	JSONPath map[string]ValueAssertion `json:"jsonPath,omitempty"`
	// bodyContains must be in the reply's body.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	BodyContains string `json:"bodyContains,omitempty"`
}

// ValueAssertion is what a value must be; every field set must hold, and
// at least one is set.
// +kubebuilder:validation:MinProperties=1
type ValueAssertion struct {
	// equals is the value, as JSON: a string, a number, true, false, null, a list or an object.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	// +optional
	Equals *apiextensionsv1.JSON `json:"equals,omitempty"`
	// exists: true wants the value present, false wants it absent.
	// +optional
	Exists *bool `json:"exists,omitempty"`
	// type of the value.
	// +kubebuilder:validation:Enum=string;number;integer;boolean;array;object;null
	// +optional
	Type string `json:"type,omitempty"`
	// matches is a regular expression (RE2) that the value, as text, matches.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Matches string `json:"matches,omitempty"`
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
