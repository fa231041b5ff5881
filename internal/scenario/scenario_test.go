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

package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// todoAPI is a small service of the kind a learner writes: register, log in
// for a token, list todos with it. It records the requests it gets.
type todoAPI struct {
	mu       sync.Mutex
	users    map[string]string // email -> password
	requests []*http.Request
	bodies   []string
	release  chan struct{}
}

func newTodoAPI() *todoAPI {
	return &todoAPI{users: map[string]string{}, release: make(chan struct{})}
}

func (a *todoAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	raw := make([]byte, 4096)
	n, _ := r.Body.Read(raw)
	_ = json.Unmarshal(raw[:n], &in)
	a.mu.Lock()
	a.requests = append(a.requests, r)
	a.bodies = append(a.bodies, string(raw[:n]))
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/api/v1/auth/register" && r.Method == http.MethodPost:
		email, _ := in["email"].(string)
		password, _ := in["password"].(string)
		if email == "" || password == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		a.mu.Lock()
		a.users[email] = password
		a.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id": 7, "email": "` + email + `"}`))
	case r.URL.Path == "/api/v1/auth/login" && r.Method == http.MethodPost:
		email, _ := in["email"].(string)
		a.mu.Lock()
		ok := email != "" && a.users[email] == in["password"]
		a.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error": "wrong email or password"}`))
			return
		}
		_, _ = w.Write([]byte(`{"token": "tok-` + email + `-0123456789"}`))
	case r.URL.Path == "/api/v1/todos":
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer tok-") {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error": "no token"}`))
			return
		}
		_, _ = w.Write([]byte(`{"items": [{"id": 1, "title": "learn SQL", "done": false}], "page": 1, "total": 1.5}`))
	case r.URL.Path == "/l/abc":
		w.Header().Set("Location", "https://roadmap.sh/backend")
		w.WriteHeader(http.StatusMovedPermanently)
	case r.URL.Path == "/huge":
		_, _ = w.Write([]byte(`{"items": "` + strings.Repeat("x", 10<<20) + `"}`))
	case r.URL.Path == "/slow":
		<-a.release
	case r.URL.Path == "/text":
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("Internal Server Error\n  at handler.js:12 "))
	default:
		http.NotFound(w, r)
	}
}

func (a *todoAPI) last() (*http.Request, string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests[len(a.requests)-1], a.bodies[len(a.bodies)-1]
}

func raw(v any) *apiextensionsv1.JSON {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return &apiextensionsv1.JSON{Raw: b}
}

func req(method, path string) *sandboxv1.StepRequest {
	return &sandboxv1.StepRequest{Method: method, Path: path}
}

// registerLoginList is the example: register, log in, list with the token.
func registerLoginList() *sandboxv1.HTTPCheck {
	creds := map[string]any{"email": "{{email}}", "password": "{{password}}"}
	return &sandboxv1.HTTPCheck{
		Component: "workspace",
		Vars:      map[string]string{"email": "check-{{random}}@example.edu", "password": "{{random}}-Secret1"},
		Steps: []sandboxv1.ScenarioStep{
			{Request: &sandboxv1.StepRequest{Method: "POST", Path: "/api/v1/auth/register", JSON: raw(creds)},
				Expect: &sandboxv1.StepExpect{Status: raw([]int{200, 201}), JSONPath: map[string]sandboxv1.ValueAssertion{
					"$.email": {Equals: raw("{{email}}"), Matches: "^check-{{random}}@"}}}},
			{Request: &sandboxv1.StepRequest{Method: "POST", Path: "/api/v1/auth/login", JSON: raw(creds)},
				Expect:  &sandboxv1.StepExpect{Status: raw(200), JSONPath: map[string]sandboxv1.ValueAssertion{"$.token": {Exists: new(true)}}},
				Capture: map[string]string{"token": "$.token"}},
			{Request: &sandboxv1.StepRequest{Path: "/api/v1/todos", Headers: map[string]string{"Authorization": "Bearer {{token}}"}},
				Expect: &sandboxv1.StepExpect{Status: raw(200), JSONPath: map[string]sandboxv1.ValueAssertion{"$.items": {Type: "array"}}}},
		},
	}
}

func envFor(srv *httptest.Server) Env {
	addr := strings.TrimPrefix(srv.URL, "http://")
	return Env{
		Client:      &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		Address:     addr,
		Host:        "workspace",
		StepTimeout: time.Second,
	}
}

func stepError(g Gomega, err error) *StepError {
	var se *StepError
	g.Expect(errors.As(err, &se)).To(BeTrue(), "want a *StepError, got %v", err)
	return se
}

func TestScenarioPassesWithCapturesAndVariables(t *testing.T) {
	g := NewWithT(t)
	api := newTodoAPI()
	srv := httptest.NewServer(api)
	defer srv.Close()

	g.Expect(Run(t.Context(), envFor(srv), registerLoginList())).To(Succeed())

	last, _ := api.last()
	g.Expect(last.Header.Get("Authorization")).To(MatchRegexp(`^Bearer tok-check-[a-z0-9]{10}@example\.edu-0123456789$`))
	g.Expect(last.Host).To(Equal("workspace"))
	g.Expect(last.UserAgent()).To(Equal("learning-sandbox-check"))
	api.mu.Lock()
	defer api.mu.Unlock()
	g.Expect(api.users).To(HaveLen(1))
	for email, password := range api.users {
		// {{random}} is one value per run, in every variable that uses it.
		random := strings.TrimSuffix(strings.TrimPrefix(email, "check-"), "@example.edu")
		g.Expect(password).To(Equal(random + "-Secret1"))
	}
}

func TestEachRunHasItsOwnRandom(t *testing.T) {
	g := NewWithT(t)
	api := newTodoAPI()
	srv := httptest.NewServer(api)
	defer srv.Close()
	g.Expect(Run(t.Context(), envFor(srv), registerLoginList())).To(Succeed())
	g.Expect(Run(t.Context(), envFor(srv), registerLoginList())).To(Succeed())
	api.mu.Lock()
	defer api.mu.Unlock()
	g.Expect(api.users).To(HaveLen(2))
}

func TestAFailedStepSaysWhichAndWhy(t *testing.T) {
	api := newTodoAPI()
	srv := httptest.NewServer(api)
	defer srv.Close()
	steps := func(s ...sandboxv1.ScenarioStep) *sandboxv1.HTTPCheck {
		return &sandboxv1.HTTPCheck{Component: "workspace", Steps: s}
	}
	assert := func(path string, a sandboxv1.ValueAssertion) sandboxv1.ScenarioStep {
		return sandboxv1.ScenarioStep{Request: req("GET", "/api/v1/todos"), Expect: &sandboxv1.StepExpect{
			JSONPath: map[string]sandboxv1.ValueAssertion{path: a}},
		}
	}
	authed := func(s sandboxv1.ScenarioStep) sandboxv1.ScenarioStep {
		s.Request.Headers = map[string]string{"Authorization": "Bearer tok-x"}
		return s
	}
	for _, tc := range []struct {
		name  string
		check *sandboxv1.HTTPCheck
		step  int
		want  string
	}{
		{"a status", steps(sandboxv1.ScenarioStep{Request: req("POST", "/api/v1/auth/login"), Expect: &sandboxv1.StepExpect{Status: raw(200)}}),
			1, `step 1 POST /api/v1/auth/login: status 401, want 200: "{\"error\": \"wrong email or password\"}"`},
		{"a set of statuses", steps(sandboxv1.ScenarioStep{Request: req("GET", "/nope"), Expect: &sandboxv1.StepExpect{Status: raw([]int{200, 201})}}),
			1, "step 1 GET /nope: status 404, want 200 or 201"},
		{"no expect wants below 400", steps(sandboxv1.ScenarioStep{Request: req("GET", "/nope")}),
			1, "status 404, want below 400"},
		{"a quote is one line and short", steps(sandboxv1.ScenarioStep{Request: req("GET", "/text"), Expect: &sandboxv1.StepExpect{Status: raw(500)}}),
			1, `status 200, want 500: "Internal Server Error at handler.js:12"`},
		{"exists", steps(authed(assert("$.cursor", sandboxv1.ValueAssertion{Exists: new(true)}))),
			1, "step 1 GET /api/v1/todos: $.cursor is missing"},
		{"absent", steps(authed(assert("$.page", sandboxv1.ValueAssertion{Exists: new(false)}))),
			1, "$.page is there, want it absent"},
		{"type", steps(authed(assert("$.page", sandboxv1.ValueAssertion{Type: "string"}))),
			1, "$.page is an integer, want string"},
		{"a number is not an integer", steps(authed(assert("$.total", sandboxv1.ValueAssertion{Type: "integer"}))),
			1, "$.total is a number, want integer"},
		{"equals", steps(authed(assert("$.items[0].title", sandboxv1.ValueAssertion{Equals: raw("learn Go")}))),
			1, `$.items[0].title is "learn SQL", want "learn Go"`},
		{"matches", steps(authed(assert("$.items[0].title", sandboxv1.ValueAssertion{Matches: "^[A-Z]"}))),
			1, `$.items[0].title is "learn SQL", which does not match ^[A-Z]`},
		{"a header", steps(sandboxv1.ScenarioStep{Request: req("GET", "/l/abc"), Expect: &sandboxv1.StepExpect{Status: raw(301),
			Headers: map[string]sandboxv1.ValueAssertion{"Location": {Equals: raw("https://example.com")}}}}),
			1, `header Location is "https://roadmap.sh/backend", want "https://example.com"`},
		{"body contains", steps(sandboxv1.ScenarioStep{Request: req("GET", "/text"), Expect: &sandboxv1.StepExpect{BodyContains: "OK"}}),
			1, `the reply has no "OK"`},
		{"not JSON", steps(sandboxv1.ScenarioStep{Request: req("GET", "/text"), Capture: map[string]string{"x": "$.x"}}),
			1, "the reply is not JSON"},
		{"a capture that finds nothing", steps(authed(sandboxv1.ScenarioStep{Request: req("GET", "/api/v1/todos"), Capture: map[string]string{"cursor": "$.next"}})),
			1, "capture cursor: $.next is not in the reply"},
		{"a variable that never got a value", steps(
			sandboxv1.ScenarioStep{Request: req("GET", "/nope"), Expect: &sandboxv1.StepExpect{Status: raw(404)}},
			sandboxv1.ScenarioStep{Request: &sandboxv1.StepRequest{Path: "/api/v1/todos", Headers: map[string]string{"Authorization": "Bearer {{token}}"}}}),
			2, "step 2 GET /api/v1/todos: variable token has no value: capture it in an earlier step or add it to vars"},
		{"a redirect is not followed", steps(sandboxv1.ScenarioStep{Request: req("GET", "/l/abc"), Expect: &sandboxv1.StepExpect{Status: raw(200)}}),
			1, "status 301, want 200"},
		{"a reply of 10 MiB", steps(sandboxv1.ScenarioStep{Request: req("GET", "/huge"), Capture: map[string]string{"items": "$.items"}}),
			1, "status 200, and the reply is more than 64 KiB, which is more than a check reads"},
		{"a JSONPath the stage got wrong", steps(authed(assert("$[", sandboxv1.ValueAssertion{Exists: new(true)}))),
			1, "the stage's $[ is not a JSONPath (RFC 9535)"},
		{"a status the stage got wrong", steps(sandboxv1.ScenarioStep{Request: req("GET", "/nope"), Expect: &sandboxv1.StepExpect{Status: raw("ok")}}),
			1, "write status: 200 or status: [200, 201]"},
		{"nothing listens", steps(sandboxv1.ScenarioStep{Request: req("GET", "/")}), 1, "no reply: connection refused"},
		{"json and body", steps(sandboxv1.ScenarioStep{Request: &sandboxv1.StepRequest{Method: "POST", Path: "/x", JSON: raw(1), Body: "1"}}),
			1, "the stage's request has both json and body: keep one"},
		{"equals with a variable", &sandboxv1.HTTPCheck{Component: "workspace", Vars: map[string]string{"title": "learn Go"},
			Steps: []sandboxv1.ScenarioStep{authed(assert("$.items[0].title", sandboxv1.ValueAssertion{Equals: raw("{{title}}")}))}},
			1, `$.items[0].title is "learn SQL", want "learn Go"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			env := envFor(srv)
			if tc.name == "nothing listens" {
				closed := httptest.NewServer(http.NotFoundHandler())
				env.Address = strings.TrimPrefix(closed.URL, "http://")
				closed.Close()
			}
			se := stepError(g, Run(t.Context(), env, tc.check))
			g.Expect(se.Step).To(Equal(tc.step))
			g.Expect(se.Error()).To(ContainSubstring(tc.want))
			g.Expect(strings.Count(se.Error(), "\n")).To(BeZero())
		})
	}
}

func TestAStepThatTimesOut(t *testing.T) {
	g := NewWithT(t)
	api := newTodoAPI()
	srv := httptest.NewServer(api)
	defer srv.Close()
	defer close(api.release)
	env := envFor(srv)
	env.StepTimeout = 200 * time.Millisecond
	check := &sandboxv1.HTTPCheck{Component: "workspace", Steps: []sandboxv1.ScenarioStep{
		{Request: req("GET", "/nope"), Expect: &sandboxv1.StepExpect{Status: raw(404)}},
		{Request: req("GET", "/slow")},
	}}
	se := stepError(g, Run(t.Context(), env, check))
	g.Expect(se.Error()).To(Equal("step 2 GET /slow: no answer within 200ms"))
}

func TestTheWholeCheckEndsWithItsContext(t *testing.T) {
	g := NewWithT(t)
	api := newTodoAPI()
	srv := httptest.NewServer(api)
	defer srv.Close()
	defer close(api.release)
	env := envFor(srv)
	env.StepTimeout = time.Minute
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	err := Run(ctx, env, &sandboxv1.HTTPCheck{Component: "workspace", Steps: []sandboxv1.ScenarioStep{{Request: req("GET", "/slow")}}})
	g.Expect(err).To(MatchError(context.DeadlineExceeded))
}

func TestSecretsAndCapturedValuesAreNotQuoted(t *testing.T) {
	g := NewWithT(t)
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("token " + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") + " db-password-42 " + r.URL.Query().Get("p")))
	}))
	defer echo.Close()
	env := envFor(echo)
	env.Secrets = []string{"db-password-42"}
	api := newTodoAPI()
	srv := httptest.NewServer(api)
	defer srv.Close()
	check := registerLoginList()
	// Log in on the API, then send the token and the password to the echo server.
	check.Steps = append(check.Steps[:2], sandboxv1.ScenarioStep{
		Request: &sandboxv1.StepRequest{Path: "/?p={{password}}", Headers: map[string]string{"Authorization": "Bearer {{token}}"}},
		Expect:  &sandboxv1.StepExpect{Status: raw(200)},
	})
	apiEnv := envFor(srv)
	// One client, two servers: the last step goes to the echo server.
	env.Client.Transport = &twoServers{api: apiEnv.Address, echo: env.Address}
	env.Address = apiEnv.Address
	se := stepError(g, Run(t.Context(), env, check))
	g.Expect(se.Step).To(Equal(3))
	g.Expect(se.Error()).To(ContainSubstring("status 500, want 200"))
	g.Expect(se.Error()).NotTo(ContainSubstring("db-password-42"))
	g.Expect(se.Error()).NotTo(ContainSubstring("tok-"))
	g.Expect(se.Error()).NotTo(ContainSubstring("-Secret1"))
	g.Expect(se.Error()).To(ContainSubstring("xxxxx"))
}

// twoServers sends the last request of a scenario (the one to "/") to the echo server.
type twoServers struct{ api, echo string }

func (t *twoServers) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/" {
		r.URL.Host = t.echo
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestVariablesCannotChangeWhereARequestGoes(t *testing.T) {
	g := NewWithT(t)
	api := newTodoAPI()
	srv := httptest.NewServer(api)
	defer srv.Close()
	hostile := map[string]any{"code": "@169.254.169.254/latest?x=1#", "next": "../../admin", "q": "a&admin=true"}
	check := &sandboxv1.HTTPCheck{Component: "workspace", Steps: []sandboxv1.ScenarioStep{
		{Request: req("GET", "/{{code}}/{{next}}?q={{q}}"), Expect: &sandboxv1.StepExpect{Status: raw(404)}},
	}}
	env := envFor(srv)
	s := &run{env: env, vars: map[string]string{}, captured: hostile, redact: newRedactor(nil)}
	r, reason := s.newRequest(t.Context(), check.Steps[0].Request)
	g.Expect(reason).To(BeEmpty())
	g.Expect(r.URL.Host).To(Equal(env.Address))
	g.Expect(r.URL.EscapedPath()).To(Equal("/@169.254.169.254%2Flatest%3Fx=1%23/..%2F..%2Fadmin"))
	g.Expect(r.URL.Query()).To(HaveKeyWithValue("q", []string{"a&admin=true"}))
	g.Expect(r.URL.Query()).NotTo(HaveKey("admin"))
}

func TestAJSONBodyKeepsTheTypeOfACapturedValue(t *testing.T) {
	g := NewWithT(t)
	api := newTodoAPI()
	srv := httptest.NewServer(api)
	defer srv.Close()
	check := &sandboxv1.HTTPCheck{Component: "workspace", Vars: map[string]string{"title": "check {{random}}"}, Steps: []sandboxv1.ScenarioStep{
		{Request: &sandboxv1.StepRequest{Method: "POST", Path: "/api/v1/auth/register", JSON: raw(map[string]any{"email": "a@b.c", "password": "p"})},
			Capture: map[string]string{"id": "$.id"}},
		{Request: &sandboxv1.StepRequest{Method: "PUT", Path: "/todo/{{id}}", JSON: raw(map[string]any{
			"userId": "{{id}}", "title": "{{title}}", "note": "for user {{id}}", "tags": []any{"{{id}}"}})},
			Expect: &sandboxv1.StepExpect{Status: raw(404)}},
	}}
	g.Expect(Run(t.Context(), envFor(srv), check)).To(Succeed())
	last, body := api.last()
	g.Expect(last.URL.Path).To(Equal("/todo/7"))
	g.Expect(last.Header.Get("Content-Type")).To(Equal("application/json"))
	var sent map[string]any
	g.Expect(json.Unmarshal([]byte(body), &sent)).To(Succeed())
	g.Expect(sent["userId"]).To(BeEquivalentTo(7))
	g.Expect(sent["note"]).To(Equal("for user 7"))
	g.Expect(sent["tags"]).To(Equal([]any{float64(7)}))
	g.Expect(sent["title"]).To(MatchRegexp(`^check [a-z0-9]{10}$`))
}
