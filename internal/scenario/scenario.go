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

// Package scenario runs an http check's scenario: requests to the service a
// learner wrote, each with assertions on its reply and captures of values
// for the later steps, and Postgres or Redis steps that check what the
// requests did. It sends what it is given to the client it is given: where
// the requests may go is the caller's to fence (package exercise dials only
// the component's own pods). A failed scenario is a *StepError, one line
// that names the step and says what was wrong, without a secret.
package scenario

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/theory/jsonpath"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

const (
	// MaxReply bounds what a step reads of a reply's body: a longer body
	// fails a step that needs it (assertions on it, captures from it).
	MaxReply = 64 << 10
	// DefaultStepTimeout bounds one step, its connection included.
	DefaultStepTimeout = 5 * time.Second
	// maxQuote bounds the quote of a reply in a message.
	maxQuote = 60
	// randomLength is the length of {{random}}.
	randomLength = 10
	// userAgent names the checker to the learner's service and in its logs.
	userAgent = "learning-sandbox-check"
)

// Env is what a scenario runs against.
type Env struct {
	// Client sends the requests. It must not follow redirects.
	Client *http.Client
	// Address is host:port of the checked component's pod.
	Address string
	// Host is the Host header of the requests: the component's name.
	Host string
	// StepTimeout bounds each step; DefaultStepTimeout when zero.
	StepTimeout time.Duration
	// Postgres runs a postgres step with its parameters bound; nil error: it holds.
	Postgres func(ctx context.Context, check *sandboxv1.PostgresCheck, params []any) error
	// Redis runs a redis step with its arguments and expect expanded; nil error: it holds.
	Redis func(ctx context.Context, check *sandboxv1.RedisCheck, command []string) error
	// Secrets never appear in a message.
	Secrets []string
}

// StepError is why a scenario failed: at which step, and what was wrong.
type StepError struct {
	// Step counts from 1.
	Step int
	// What the step is, as written in the stage: "POST /api/v1/auth/login".
	What string
	// Reason says what was wrong, for the learner.
	Reason string
}

func (e *StepError) Error() string {
	return fmt.Sprintf("step %d %s: %s", e.Step, e.What, e.Reason)
}

// Run runs the scenario of c. It returns nil when every step holds, a
// *StepError for the first that does not, and another error when the
// context ends first.
func Run(ctx context.Context, env Env, c *sandboxv1.HTTPCheck) error {
	s := &run{env: env, captured: map[string]any{}, redact: newRedactor(env.Secrets)}
	random, err := randomString(randomLength)
	if err != nil {
		return err
	}
	s.vars = make(map[string]string, len(c.Vars))
	for name, v := range c.Vars {
		s.vars[name] = strings.ReplaceAll(v, "{{random}}", random)
		if secretName.MatchString(name) {
			s.redact.add(s.vars[name])
		}
	}
	s.vars["random"] = random
	for i := range c.Steps {
		step := &c.Steps[i]
		what := describe(step)
		stepCtx, cancel := context.WithTimeout(ctx, s.stepTimeout())
		reason := s.step(stepCtx, step)
		timedOut := stepCtx.Err() != nil
		cancel()
		if reason == "" {
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if timedOut {
			reason = fmt.Sprintf("no answer within %s", s.stepTimeout())
		}
		return &StepError{Step: i + 1, What: what, Reason: s.redact.apply(reason)}
	}
	return nil
}

// describe is what a step is, as the stage writes it.
func describe(step *sandboxv1.ScenarioStep) string {
	switch {
	case step.Request != nil:
		return methodOf(step.Request) + " " + step.Request.Path
	case step.Postgres != nil:
		return "postgres check"
	case step.Redis != nil:
		return "redis " + strings.Join(step.Redis.Command, " ")
	}
	return "(empty)"
}

func methodOf(r *sandboxv1.StepRequest) string {
	if r.Method == "" {
		return http.MethodGet
	}
	return r.Method
}

// run is the state of one run of a scenario.
type run struct {
	env      Env
	vars     map[string]string
	captured map[string]any
	redact   *redactor
}

func (s *run) stepTimeout() time.Duration {
	if s.env.StepTimeout > 0 {
		return s.env.StepTimeout
	}
	return DefaultStepTimeout
}

// step runs one step; it returns why it failed, or "".
func (s *run) step(ctx context.Context, step *sandboxv1.ScenarioStep) string {
	switch {
	case step.Request != nil:
		return s.request(ctx, step)
	case step.Postgres != nil:
		params, err := s.expandAll(step.Postgres.Params)
		if err != nil {
			return err.Error()
		}
		if s.env.Postgres == nil {
			return "this sandbox has no Postgres to check"
		}
		bound := make([]any, len(params))
		for i, p := range params {
			bound[i] = p
		}
		return reasonOf(s.env.Postgres(ctx, step.Postgres, bound))
	case step.Redis != nil:
		// The command, then what it should return.
		expanded, err := s.expandAll(append(slices.Clone(step.Redis.Command), step.Redis.Expect))
		if err != nil {
			return err.Error()
		}
		if s.env.Redis == nil {
			return "this sandbox has no Redis to check"
		}
		last := len(expanded) - 1
		c := *step.Redis
		c.Expect = expanded[last]
		return reasonOf(s.env.Redis(ctx, &c, expanded[:last]))
	}
	return "the step has no request, postgres or redis"
}

func reasonOf(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// request sends a step's request and judges its reply.
func (s *run) request(ctx context.Context, step *sandboxv1.ScenarioStep) string {
	req, reason := s.newRequest(ctx, step.Request)
	if reason != "" {
		return reason
	}
	resp, err := s.env.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "no answer"
		}
		return "no reply: " + lastPart(err)
	}
	defer func() { _ = resp.Body.Close() }()
	expect := step.Expect
	if expect == nil {
		expect = &sandboxv1.StepExpect{}
	}
	var body []byte
	if expect.BodyContains != "" || len(expect.JSONPath) > 0 || len(step.Capture) > 0 || !statusHolds(expect, resp.StatusCode) {
		body, err = io.ReadAll(io.LimitReader(resp.Body, MaxReply+1))
		if err != nil {
			return "reading the reply failed: " + lastPart(err)
		}
		if len(body) > MaxReply {
			return fmt.Sprintf("status %d, and the reply is more than %d KiB, which is more than a check reads", resp.StatusCode, MaxReply>>10)
		}
	}
	if reason := judgeStatus(expect, resp.StatusCode, body); reason != "" {
		return reason
	}
	for _, name := range sortedKeys(expect.Headers) {
		_, present := resp.Header[http.CanonicalHeaderKey(name)]
		if reason := s.judge(expect.Headers[name], resp.Header.Get(name), present); reason != "" {
			return "header " + name + " " + reason
		}
	}
	if expect.BodyContains != "" && !bytes.Contains(body, []byte(expect.BodyContains)) {
		return fmt.Sprintf("the reply has no %q: %s", expect.BodyContains, quote(body))
	}
	if len(expect.JSONPath) == 0 && len(step.Capture) == 0 {
		return ""
	}
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return "the reply is not JSON: " + quote(body)
	}
	for _, path := range sortedKeys(expect.JSONPath) {
		value, present, reason := selectOne(path, doc)
		if reason != "" {
			return reason
		}
		if reason := s.judge(expect.JSONPath[path], value, present); reason != "" {
			return path + " " + reason
		}
	}
	for _, name := range sortedKeys(step.Capture) {
		path := step.Capture[name]
		value, present, reason := selectOne(path, doc)
		if reason != "" {
			return reason
		}
		if !present {
			return fmt.Sprintf("capture %s: %s is not in the reply", name, path)
		}
		s.captured[name] = value
		s.redact.add(text(value))
	}
	return ""
}

// newRequest builds a step's request with its variables expanded.
func (s *run) newRequest(ctx context.Context, r *sandboxv1.StepRequest) (*http.Request, string) {
	path, err := s.expandPath(r.Path)
	if err != nil {
		return nil, err.Error()
	}
	var body io.Reader
	contentType := ""
	switch {
	case r.JSON != nil && r.Body != "":
		return nil, "the stage's request has both json and body: keep one"
	case r.JSON != nil:
		var doc any
		if err := json.Unmarshal(r.JSON.Raw, &doc); err != nil {
			return nil, "the stage's json body is not JSON"
		}
		doc, err = s.expandJSON(doc)
		if err != nil {
			return nil, err.Error()
		}
		raw, err := json.Marshal(doc)
		if err != nil {
			return nil, "the json body cannot be written"
		}
		body, contentType = bytes.NewReader(raw), "application/json"
	case r.Body != "":
		raw, err := s.expand(r.Body, nil)
		if err != nil {
			return nil, err.Error()
		}
		body = strings.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, methodOf(r), "http://"+s.env.Address+path, body)
	if err != nil || req.URL.Host != s.env.Address {
		return nil, fmt.Sprintf("the path %q is not a path", path)
	}
	req.Host = s.env.Host
	req.Header.Set("User-Agent", userAgent)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for _, name := range sortedKeys(r.Headers) {
		v, err := s.expand(r.Headers[name], nil)
		if err != nil {
			return nil, err.Error()
		}
		if strings.ContainsAny(v, "\r\n") {
			return nil, "header " + name + " would hold a line break"
		}
		req.Header.Set(name, v)
	}
	return req, ""
}

// variable is the pattern of a use of a variable.
var variable = regexp.MustCompile(`\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}`)

// unknownVariable is a use of a variable that has no value.
type unknownVariable string

func (u unknownVariable) Error() string {
	return fmt.Sprintf("variable %s has no value: capture it in an earlier step or add it to vars", string(u))
}

// value is a variable's value, as captured (any JSON value) or from vars.
func (s *run) value(name string) (any, bool) {
	if v, ok := s.captured[name]; ok {
		return v, true
	}
	v, ok := s.vars[name]
	return v, ok
}

// expand replaces each {{name}} in t with the variable's text, through escape if set.
func (s *run) expand(t string, escape func(string) string) (string, error) {
	var missing error
	out := variable.ReplaceAllStringFunc(t, func(m string) string {
		name := m[2 : len(m)-2]
		v, ok := s.value(name)
		if !ok {
			missing = unknownVariable(name)
			return m
		}
		if escape != nil {
			return escape(text(v))
		}
		return text(v)
	})
	return out, missing
}

// expandAll expands each of the templates.
func (s *run) expandAll(templates []string) ([]string, error) {
	out := make([]string, len(templates))
	for i, t := range templates {
		v, err := s.expand(t, nil)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// expandPath expands a path: a variable is path-escaped before the query
// and query-escaped in it, so that a value can never change where the
// request goes.
func (s *run) expandPath(p string) (string, error) {
	path, query, hasQuery := strings.Cut(p, "?")
	out, err := s.expand(path, url.PathEscape)
	if err != nil {
		return "", err
	}
	if !hasQuery {
		return out, nil
	}
	q, err := s.expand(query, url.QueryEscape)
	return out + "?" + q, err
}

// expandJSON expands the strings of a JSON document; a string that is only
// one variable becomes its value with its JSON type.
func (s *run) expandJSON(doc any) (any, error) {
	switch v := doc.(type) {
	case string:
		if m := variable.FindStringSubmatch(v); m != nil && m[0] == v {
			value, ok := s.value(m[1])
			if !ok {
				return nil, unknownVariable(m[1])
			}
			return value, nil
		}
		return s.expand(v, nil)
	case []any:
		for i := range v {
			e, err := s.expandJSON(v[i])
			if err != nil {
				return nil, err
			}
			v[i] = e
		}
	case map[string]any:
		for k := range v {
			e, err := s.expandJSON(v[k])
			if err != nil {
				return nil, err
			}
			v[k] = e
		}
	}
	return doc, nil
}

// statusHolds reports whether status is one that expect wants; without a
// status in expect, any below 400 is.
func statusHolds(expect *sandboxv1.StepExpect, status int) bool {
	want, err := Statuses(expect)
	if err != nil {
		return false
	}
	if len(want) == 0 {
		return status < 400
	}
	return slices.Contains(want, status)
}

// judgeStatus says why status is not one that expect wants, quoting the body.
func judgeStatus(expect *sandboxv1.StepExpect, status int, body []byte) string {
	want, err := Statuses(expect)
	if err != nil {
		return err.Error()
	}
	if statusHolds(expect, status) {
		return ""
	}
	wanted := "below 400"
	if len(want) > 0 {
		parts := make([]string, len(want))
		for i, w := range want {
			parts[i] = strconv.Itoa(w)
		}
		wanted = strings.Join(parts, " or ")
	}
	msg := fmt.Sprintf("status %d, want %s", status, wanted)
	if len(body) > 0 {
		msg += ": " + quote(body)
	}
	return msg
}

// Statuses is expect.status as a list: one status or a set, each from 100
// to 599. The schema cannot say that a field is a number or a list, so the
// checker does.
func Statuses(expect *sandboxv1.StepExpect) ([]int, error) {
	if expect == nil || expect.Status == nil || len(expect.Status.Raw) == 0 {
		return nil, nil
	}
	var one int
	if err := json.Unmarshal(expect.Status.Raw, &one); err == nil {
		return validStatuses([]int{one})
	}
	var set []int
	if err := json.Unmarshal(expect.Status.Raw, &set); err == nil && len(set) > 0 && len(set) <= 10 {
		return validStatuses(set)
	}
	return nil, errors.New("the stage's expect.status is not a status or a list of statuses: write status: 200 or status: [200, 201]")
}

func validStatuses(s []int) ([]int, error) {
	for _, v := range s {
		if v < 100 || v > 599 {
			return nil, fmt.Errorf("the stage's expect.status %d is not an HTTP status from 100 to 599", v)
		}
	}
	return s, nil
}

// selectOne selects path in doc: the one value it selects, or the list of
// them when it selects several.
func selectOne(path string, doc any) (value any, present bool, reason string) {
	p, err := jsonpath.Parse(path)
	if err != nil {
		return nil, false, fmt.Sprintf("the stage's %s is not a JSONPath (RFC 9535)", path)
	}
	nodes := p.Select(doc)
	switch len(nodes) {
	case 0:
		return nil, false, ""
	case 1:
		return nodes[0], true, ""
	}
	return []any(nodes), true, ""
}

// judge says why a value does not hold an assertion, or "". The strings of
// equals and matches may use variables (in matches, a value is matched as
// it is, not as a pattern).
func (s *run) judge(a sandboxv1.ValueAssertion, value any, present bool) string {
	if a.Exists != nil {
		switch {
		case *a.Exists && !present:
			return "is missing"
		case !*a.Exists && present:
			return "is there, want it absent"
		}
	}
	if !present {
		if a.Equals != nil || a.Type != "" || a.Matches != "" {
			return "is missing"
		}
		return ""
	}
	if a.Type != "" && typeOf(value) != a.Type && (a.Type != "number" || typeOf(value) != "integer") {
		return fmt.Sprintf("is %s %s, want %s", article(typeOf(value)), typeOf(value), a.Type)
	}
	if a.Equals != nil {
		var want any
		if err := json.Unmarshal(a.Equals.Raw, &want); err != nil {
			return "cannot be compared: the stage's equals is not JSON"
		}
		want, err := s.expandJSON(want)
		if err != nil {
			return err.Error()
		}
		if !jsonEqual(value, want) {
			return fmt.Sprintf("is %s, want %s", shortText(value), shortText(want))
		}
	}
	if a.Matches != "" {
		pattern, err := s.expand(a.Matches, regexp.QuoteMeta)
		if err != nil {
			return err.Error()
		}
		re, err := regexp.Compile(pattern)
		if err != nil {
			return "cannot be matched: the stage's matches is not a regular expression"
		}
		if !re.MatchString(text(value)) {
			return fmt.Sprintf("is %s, which does not match %s", shortText(value), a.Matches)
		}
	}
	return ""
}

func article(t string) string {
	if strings.ContainsRune("aeiou", rune(t[0])) {
		return "an"
	}
	return "a"
}

// typeOf names a decoded JSON value's type as ValueAssertion.Type does.
func typeOf(v any) string {
	switch v := v.(type) {
	case string:
		return "string"
	case float64:
		if v == float64(int64(v)) {
			return "integer"
		}
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// jsonEqual compares two decoded JSON values.
func jsonEqual(a, b any) bool {
	ra, errA := json.Marshal(a)
	rb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ra, rb)
}

// text is a value as a variable's text or a header's: a string as itself,
// anything else as its JSON.
func text(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(raw)
}

// shortText is a value for a message: as JSON, cut short.
func shortText(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		return "(a value)"
	}
	return cut(string(raw))
}

// quote is the start of a reply for a message, on one line.
func quote(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if s == "" {
		return "(an empty reply)"
	}
	return strconv.Quote(cut(s))
}

func cut(s string) string {
	r := []rune(s)
	if len(r) <= maxQuote {
		return s
	}
	return string(r[:maxQuote]) + "…"
}

// lastPart is the end of a Go error chain: "connection refused", not the URL.
func lastPart(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// randomString is n random lowercase letters and digits.
func randomString(n int) (string, error) {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b), nil
}

// secretName is the name of a variable whose value is redacted from messages.
var secretName = regexp.MustCompile(`(?i)pass|secret|token|key`)

// redactor takes secrets out of messages: the sandbox's passwords, the
// values captured from replies (a token), and the variables whose names say
// that they are secret (a password): an email the check made stays
// readable in a message, a password it made does not.
type redactor struct{ secrets []string }

// minSecret is the shortest value redacted: shorter ones would blank out
// ordinary words of a message.
const minSecret = 8

func newRedactor(secrets []string) *redactor {
	r := &redactor{}
	for _, s := range secrets {
		r.add(s)
	}
	return r
}

func (r *redactor) add(s string) {
	if len(s) >= minSecret {
		r.secrets = append(r.secrets, s)
	}
}

func (r *redactor) apply(msg string) string {
	for _, s := range r.secrets {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	return msg
}
