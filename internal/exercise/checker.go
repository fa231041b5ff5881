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

// Package exercise runs the checks of a stage's exercises against a
// sandbox's servers: a read-only SQL query, a read-only Redis command, an
// HTTP GET or a scenario of requests (package scenario), each with a timeout
// and a bound on what it reads. It needs no cluster: a Target says where the
// servers are and with which credentials.
//
// A check connects to the Target's addresses and nowhere else: its HTTP
// client dials only the component's address, uses no proxy, follows no
// redirect and resolves no name. Where the addresses come from is the
// caller's fence (the controller gives the ready pods of the sandbox's own
// namespace, never what a learner's Service points at).
package exercise

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/scenario"
)

// Bounds of one check.
const (
	// DefaultTimeout bounds one check, connection included, and each step of a scenario.
	DefaultTimeout = 5 * time.Second
	// DefaultScenarioTimeout bounds a whole scenario.
	DefaultScenarioTimeout = 30 * time.Second
	// MaxReply bounds what a check reads of a reply: an HTTP body, a Redis
	// reply, a Postgres value. Beyond it the check fails.
	MaxReply = 64 << 10
	// maxMessage bounds a result's message, which quotes replies.
	maxMessage = 200
)

// Endpoint is where one component's server answers, and how to log in.
type Endpoint struct {
	// Address is IP:port of one of the component's ready pods.
	Address string
	// Host is the Host header of HTTP requests: the component's name.
	Host string
	// Problem, when set, says why the component cannot be checked (it has no
	// ready pod, its Service was retyped): a check of it fails with it.
	Problem string
	// User, Password and Database log in to Postgres; Password to Redis.
	User     string
	Password string
	Database string
}

// Target is one sandbox's servers.
type Target struct {
	// Namespace is the sandbox's namespace.
	Namespace string
	// Components are the servers, by component name.
	Components map[string]Endpoint
}

// endpoint is the component's server, or why a check of it cannot run.
func (t Target) endpoint(component string) (Endpoint, error) {
	e, ok := t.Components[component]
	switch {
	case !ok:
		return Endpoint{}, fmt.Errorf("component %s is not running in this sandbox", component)
	case e.Problem != "":
		return Endpoint{}, errors.New(e.Problem)
	}
	return e, nil
}

// Result of one check.
type Result struct {
	Passed bool
	// Message says why it did not pass; it never holds a credential.
	Message string
}

// Checker runs exercise checks.
type Checker interface {
	Check(ctx context.Context, target Target, check sandboxv1.ExerciseCheck) Result
}

// Runner is the real Checker: it connects to the servers.
type Runner struct {
	// Timeout bounds each check and each step of a scenario; DefaultTimeout when zero.
	Timeout time.Duration
	// ScenarioTimeout bounds a scenario; DefaultScenarioTimeout when zero.
	ScenarioTimeout time.Duration
}

var _ Checker = (*Runner)(nil)

func (r *Runner) timeout() time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	return DefaultTimeout
}

func (r *Runner) scenarioTimeout() time.Duration {
	if r.ScenarioTimeout > 0 {
		return r.ScenarioTimeout
	}
	return DefaultScenarioTimeout
}

// Check runs one check against the target.
func (r *Runner) Check(ctx context.Context, target Target, check sandboxv1.ExerciseCheck) Result {
	timeout := r.timeout()
	var component string
	var run func(context.Context, Endpoint) Result
	switch {
	case check.Postgres != nil:
		component, run = check.Postgres.Component, func(ctx context.Context, e Endpoint) Result {
			return r.postgres(ctx, e, check.Postgres.Query, stringParams(check.Postgres.Params))
		}
	case check.Redis != nil:
		component, run = check.Redis.Component, func(ctx context.Context, e Endpoint) Result {
			return redisCheck(ctx, e, check.Redis.Command, check.Redis.Expect)
		}
	case check.HTTP != nil && len(check.HTTP.Steps) > 0:
		timeout = r.scenarioTimeout()
		component, run = check.HTTP.Component, func(ctx context.Context, e Endpoint) Result {
			return r.scenario(ctx, target, e, check.HTTP)
		}
	case check.HTTP != nil:
		component, run = check.HTTP.Component, func(ctx context.Context, e Endpoint) Result { return r.http(ctx, e, check.HTTP) }
	default:
		return fail("the check names no postgres, redis or http")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	e, err := target.endpoint(component)
	if err != nil {
		return fail("%s", err)
	}
	res := run(ctx, e)
	if !res.Passed && ctx.Err() != nil {
		return fail("component %s did not answer within %s", component, timeout)
	}
	res.Message = shorten(res.Message)
	for _, e := range target.Components {
		res.Message = redact(res.Message, e.Password)
	}
	return res
}

func stringParams(params []string) []any {
	out := make([]any, len(params))
	for i, p := range params {
		out[i] = p
	}
	return out
}

// httpClient sends requests to one address and nowhere else: it dials
// only that address (never a name, so no DNS), uses no proxy of the
// operator's environment, and follows no redirect.
func httpClient(address string) *http.Client {
	dialer := &net.Dialer{}
	return &http.Client{
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				if addr != address {
					return nil, fmt.Errorf("refused to connect to %s: a check connects only to the component's pod", addr)
				}
				return dialer.DialContext(ctx, network, addr)
			},
			MaxResponseHeaderBytes: 16 << 10,
			DisableCompression:     true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// scenario runs an http check's steps against e, and its postgres and
// redis steps against the target's components of those names.
func (r *Runner) scenario(ctx context.Context, target Target, e Endpoint, c *sandboxv1.HTTPCheck) Result {
	client := httpClient(e.Address)
	defer client.CloseIdleConnections()
	secrets := make([]string, 0, len(target.Components))
	for _, t := range target.Components {
		secrets = append(secrets, t.Password)
	}
	env := scenario.Env{
		Client: client, Address: e.Address, Host: e.Host, StepTimeout: r.timeout(), Secrets: secrets,
		Postgres: func(ctx context.Context, c *sandboxv1.PostgresCheck, params []any) error {
			t, err := target.endpoint(c.Component)
			if err != nil {
				return err
			}
			return resultError(r.postgres(ctx, t, c.Query, params))
		},
		Redis: func(ctx context.Context, c *sandboxv1.RedisCheck, command []string) error {
			t, err := target.endpoint(c.Component)
			if err != nil {
				return err
			}
			return resultError(redisCheck(ctx, t, command, c.Expect))
		},
	}
	if err := scenario.Run(ctx, env, c); err != nil {
		if step, ok := errors.AsType[*scenario.StepError](err); ok {
			return fail("%s", step.Error())
		}
		return fail("the scenario did not finish: %s", pgMessage(err))
	}
	return Result{Passed: true}
}

func resultError(res Result) error {
	if res.Passed {
		return nil
	}
	return errors.New(res.Message)
}

func fail(format string, args ...any) Result {
	return Result{Message: fmt.Sprintf(format, args...)}
}

// postgres runs the query in a read-only transaction with a statement
// timeout: a check can read what the learner made, never change it.
func (r *Runner) postgres(ctx context.Context, e Endpoint, query string, params []any) Result {
	host, port, err := net.SplitHostPort(e.Address)
	if err != nil {
		return fail("postgres address %q is not host:port", e.Address)
	}
	u := url.URL{Scheme: "postgres", User: url.UserPassword(e.User, e.Password), Host: net.JoinHostPort(host, port),
		Path: "/" + e.Database, RawQuery: "sslmode=disable&application_name=learning-sandbox-check"}
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		return fail("postgres connection settings are not valid")
	}
	cfg.ConnectTimeout = r.timeout()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fail("cannot connect to postgres %s as %s: %s", e.Address, e.User, pgMessage(err))
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return fail("cannot begin a read-only transaction: %s", pgMessage(err))
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	ms := max(r.timeout().Milliseconds()-100, 100)
	if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = "+strconv.FormatInt(ms, 10)); err != nil {
		return fail("cannot set the statement timeout: %s", pgMessage(err))
	}
	rows, err := tx.Query(ctx, query, params...)
	if err != nil {
		return fail("the query failed: %s", pgMessage(err))
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return fail("the query failed: %s", pgMessage(err))
		}
		return fail("the query returned no row, want one whose first column is true")
	}
	raw := rows.RawValues()
	if len(raw) == 0 {
		return fail("the query returned no column, want a boolean")
	}
	if len(raw[0]) > MaxReply {
		return fail("the query's first value is more than %d bytes, want a boolean", MaxReply)
	}
	vals, err := rows.Values()
	if err != nil {
		return fail("cannot read the query's result: %s", pgMessage(err))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail("the query failed: %s", pgMessage(err))
	}
	switch v := vals[0].(type) {
	case bool:
		if v {
			return Result{Passed: true}
		}
		return fail("the query returned false, want true")
	case nil:
		return fail("the query returned NULL, want true")
	default:
		return fail("the query returned %v, want a boolean true", v)
	}
}

// pgMessage is the server's message of a Postgres error, without the
// connection string that pgx puts in some of its errors.
func pgMessage(err error) string {
	var pgErr interface{ SQLState() string }
	if errors.As(err, &pgErr) {
		msg := err.Error()
		if i := strings.LastIndex(msg, "server error ("); i >= 0 {
			msg = strings.TrimSuffix(msg[i+len("server error ("):], ")")
		}
		return msg
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}

// redisCheck runs one command and compares its reply, as a string, with expect.
func redisCheck(ctx context.Context, e Endpoint, command []string, expect string) Result {
	client := redis.NewClient(&redis.Options{
		Addr: e.Address, Password: e.Password,
		MaxRetries: -1, PoolSize: 1, DisableIdentity: true,
		ReadBufferSize: 4096,
	})
	defer func() { _ = client.Close() }()
	args := make([]any, len(command))
	for i, a := range command {
		args[i] = a
	}
	reply, err := client.Do(ctx, args...).Result()
	got := ""
	switch {
	case errors.Is(err, redis.Nil):
		got = "(nil)"
	case err != nil:
		msg := err.Error()
		if ctx.Err() != nil {
			return fail("redis %s did not answer", e.Address)
		}
		return fail("%s failed: %s", strings.Join(command, " "), msg)
	default:
		var ok bool
		if got, ok = replyString(reply, 0); !ok {
			return fail("%s replied with more than %d bytes", strings.Join(command, " "), MaxReply)
		}
	}
	if got == expect {
		return Result{Passed: true}
	}
	return fail("%s returned %s, want %s", strings.Join(command, " "), got, expect)
}

// replyString renders a Redis reply as a string: an integer as its digits,
// an array as its elements separated by spaces. It reports false beyond MaxReply.
func replyString(v any, depth int) (string, bool) {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case int64:
		s = strconv.FormatInt(v, 10)
	case nil:
		s = "(nil)"
	case []any:
		parts := make([]string, 0, len(v))
		n := 0
		for _, e := range v {
			p, ok := replyString(e, depth+1)
			n += len(p) + 1
			if !ok || n > MaxReply || depth > 4 {
				return "", false
			}
			parts = append(parts, p)
		}
		s = strings.Join(parts, " ")
	default:
		s = fmt.Sprint(v)
	}
	return s, len(s) <= MaxReply
}

// http sends GET path and judges the status and the first MaxReply bytes of the body.
func (r *Runner) http(ctx context.Context, e Endpoint, c *sandboxv1.HTTPCheck) Result {
	client := httpClient(e.Address)
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+e.Address+c.Path, nil)
	if err != nil || req.URL.Host != e.Address {
		return fail("path %q is not valid", c.Path)
	}
	req.Host = e.Host
	req.Header.Set("User-Agent", "learning-sandbox-check")
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fail("GET %s did not answer", c.Path)
		}
		return fail("GET %s failed: %s", c.Path, pgMessage(err))
	}
	defer func() { _ = resp.Body.Close() }()
	if int32(resp.StatusCode) != c.ExpectStatus {
		return fail("GET %s returned %d, want %d", c.Path, resp.StatusCode, c.ExpectStatus)
	}
	if c.BodyContains == "" {
		return Result{Passed: true}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxReply))
	if err != nil {
		return fail("GET %s: reading the body failed: %s", c.Path, pgMessage(err))
	}
	if strings.Contains(string(body), c.BodyContains) {
		return Result{Passed: true}
	}
	return fail("GET %s returned %d without %q in the first %d KiB of its body", c.Path, resp.StatusCode, c.BodyContains, MaxReply>>10)
}

// shorten bounds a message, which may quote a reply.
func shorten(msg string) string {
	r := []rune(msg)
	if len(r) <= maxMessage {
		return msg
	}
	return string(r[:maxMessage-1]) + "…"
}

// redact takes a password out of a message, should a server ever echo it.
func redact(msg, secret string) string {
	if secret == "" {
		return msg
	}
	return strings.ReplaceAll(msg, secret, "xxxxx")
}

// Job is one sandbox's checks in a round.
type Job struct {
	Target Target
	Checks []sandboxv1.ExerciseCheck
}

// Round runs the checks of many sandboxes, at most workers checks at once,
// so that a class of a thousand does not open a thousand connections at once.
// The results are in the order of jobs and of their checks.
func Round(ctx context.Context, c Checker, workers int, jobs []Job) [][]Result {
	out := make([][]Result, len(jobs))
	var g errgroup.Group
	g.SetLimit(max(workers, 1))
	for i, j := range jobs {
		out[i] = make([]Result, len(j.Checks))
		for k, check := range j.Checks {
			g.Go(func() error {
				out[i][k] = c.Check(ctx, j.Target, check)
				return nil
			})
		}
	}
	_ = g.Wait()
	return out
}
