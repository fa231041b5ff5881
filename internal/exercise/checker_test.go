package exercise

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/testservices"
)

// The servers every test shares; each test uses keys and tables of its own.
var (
	pgURL    string
	pgTarget Endpoint
	rdTarget Endpoint
	rd       *testservices.Redis
)

func TestMain(m *testing.M) {
	pg, err := testservices.StartPostgres()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rd, err = testservices.StartRedis()
	if err != nil {
		_ = pg.Stop()
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pgURL, err = pg.CreateDatabase()
	if err == nil {
		u, _ := url.Parse(pgURL)
		pw, _ := u.User.Password()
		pgTarget = Endpoint{Address: u.Host, User: u.User.Username(), Password: pw, Database: strings.TrimPrefix(u.Path, "/")}
		ru, _ := url.Parse(rd.URL())
		rpw, _ := ru.User.Password()
		rdTarget = Endpoint{Address: ru.Host, Password: rpw}
		err = setup()
	}
	code := 1
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		code = m.Run()
	}
	_ = rd.Stop()
	_ = pg.Stop()
	os.Exit(code)
}

func setup() error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(ctx) }()
	_, err = conn.Exec(ctx, `CREATE TABLE todos (id bigserial primary key, title text not null)`)
	if err != nil {
		return err
	}
	c := rd.Client()
	defer func() { _ = c.Close() }()
	if err := c.Set(ctx, "todos:first-page", "[]", 0).Err(); err != nil {
		return err
	}
	return c.Set(ctx, "huge", strings.Repeat("x", MaxReply+1), 0).Err()
}

func pgCheck(query string) sandboxv1.ExerciseCheck {
	return sandboxv1.ExerciseCheck{Postgres: &sandboxv1.PostgresCheck{Component: "postgres", Query: query}}
}

func redisCmd(expect string, cmd ...string) sandboxv1.ExerciseCheck {
	return sandboxv1.ExerciseCheck{Redis: &sandboxv1.RedisCheck{Component: "redis", Command: cmd, Expect: expect}}
}

func TestPostgresCheck(t *testing.T) {
	exists := "select exists (select 1 from information_schema.tables where table_name = 'todos')"
	for _, tc := range []struct {
		name    string
		check   sandboxv1.ExerciseCheck
		target  func(Endpoint) Endpoint
		passed  bool
		message string
	}{
		{name: "pass", check: pgCheck(exists), passed: true},
		{name: "fail", check: pgCheck("select exists (select 1 from information_schema.tables where table_name = 'users')"),
			message: "the query returned false, want true"},
		{name: "no row", check: pgCheck("select true where false"), message: "returned no row"},
		{name: "not a boolean", check: pgCheck("select 42"), message: "returned 42, want a boolean true"},
		{name: "null", check: pgCheck("select null::boolean"), message: "returned NULL"},
		{name: "syntax error", check: pgCheck("selec true"), message: "the query failed: ERROR: syntax error"},
		{name: "a write is refused", check: pgCheck("with d as (delete from todos returning 1) select true"),
			message: "read-only transaction"},
		{name: "a write in a function is refused", check: pgCheck("select nextval('todos_id_seq') > 0"),
			message: "read-only transaction"},
		{name: "timeout", check: pgCheck("select pg_sleep(5) is not null"), message: "statement timeout"},
		{name: "huge value", check: pgCheck("select repeat('x', 100000)"), message: "more than 65536 bytes"},
		{name: "wrong password", check: pgCheck(exists), target: func(e Endpoint) Endpoint { e.Password = "wrong-secret"; return e },
			message: "password authentication failed"},
		{name: "nothing listens", check: pgCheck(exists), target: func(e Endpoint) Endpoint { e.Address = closedAddress(t); return e },
			message: "cannot connect to postgres"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			e := pgTarget
			if tc.target != nil {
				e = tc.target(e)
			}
			r := &Runner{Timeout: time.Second}
			res := r.Check(context.Background(), Target{Components: map[string]Endpoint{"postgres": e}}, tc.check)
			g.Expect(res.Passed).To(Equal(tc.passed), res.Message)
			g.Expect(res.Message).To(ContainSubstring(tc.message))
			g.Expect(res.Message).NotTo(ContainSubstring(pgTarget.Password))
			g.Expect(res.Message).NotTo(ContainSubstring("wrong-secret"))
		})
	}
	// The todos table is still there with its rows: no check wrote.
	NewWithT(t).Expect((&Runner{}).Check(context.Background(), Target{Components: map[string]Endpoint{"postgres": pgTarget}}, pgCheck(exists)).Passed).To(BeTrue())
}

func TestRedisCheck(t *testing.T) {
	for _, tc := range []struct {
		name     string
		check    sandboxv1.ExerciseCheck
		password string
		passed   bool
		message  string
	}{
		{name: "pass", check: redisCmd("1", "EXISTS", "todos:first-page"), passed: true},
		{name: "string reply", check: redisCmd("[]", "GET", "todos:first-page"), passed: true},
		{name: "fail", check: redisCmd("1", "EXISTS", "todos:second-page"), message: "EXISTS todos:second-page returned 0, want 1"},
		{name: "nil", check: redisCmd("x", "GET", "missing"), message: "GET missing returned (nil), want x"},
		{name: "script", check: redisCmd("1", "EVAL_RO", "return #redis.call('keys', ARGV[1])", "0", "todos:*"), passed: true},
		{name: "a write is refused", check: redisCmd("OK", "EVAL_RO", "return redis.call('set', 'k', 'v')", "0"), message: "Write commands are not allowed"},
		{name: "huge reply", check: redisCmd("x", "GET", "huge"), message: "more than 65536 bytes"},
		{name: "timeout", check: redisCmd("x", "EVAL_RO", "local t = redis.call('time')[1] + 3 while tonumber(redis.call('time')[1]) < t do end return 1", "0"), message: "did not answer"},
		{name: "wrong password", check: redisCmd("1", "EXISTS", "todos:first-page"), password: "wrong-secret", message: "WRONGPASS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			e := rdTarget
			if tc.password != "" {
				e.Password = tc.password
			}
			res := (&Runner{Timeout: time.Second}).Check(context.Background(), Target{Components: map[string]Endpoint{"redis": e}}, tc.check)
			g.Expect(res.Passed).To(Equal(tc.passed), res.Message)
			g.Expect(res.Message).To(ContainSubstring(tc.message))
			g.Expect(res.Message).NotTo(ContainSubstring(rdTarget.Password))
			g.Expect(res.Message).NotTo(ContainSubstring("wrong-secret"))
		})
	}
	// Let the busy script of the timeout case end before other tests use the server.
	NewWithT(t).Eventually(func() error { return rd.Client().Ping(context.Background()).Err() }).WithTimeout(10 * time.Second).Should(Succeed())
}

func TestHTTPCheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/todos":
			w.WriteHeader(http.StatusUnauthorized)
		case "/healthz":
			_, _ = w.Write([]byte(`{"status":"ok"}`))
		case "/huge":
			_, _ = w.Write([]byte(strings.Repeat("x", 10<<20) + "needle"))
		case "/slow":
			time.Sleep(2 * time.Second)
		case "/redirect":
			http.Redirect(w, r, "/healthz", http.StatusFound)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	get := func(path string, status int32, body string) sandboxv1.ExerciseCheck {
		return sandboxv1.ExerciseCheck{HTTP: &sandboxv1.HTTPCheck{Component: "web", Path: path, ExpectStatus: status, BodyContains: body}}
	}
	for _, tc := range []struct {
		name    string
		check   sandboxv1.ExerciseCheck
		address string
		passed  bool
		message string
	}{
		{name: "status", check: get("/api/v1/todos", 401, ""), passed: true},
		{name: "body", check: get("/healthz", 200, `"ok"`), passed: true},
		{name: "wrong status", check: get("/api/v1/todos", 200, ""), message: "GET /api/v1/todos returned 401, want 200"},
		{name: "body without it", check: get("/healthz", 200, "nope"), message: `without "nope"`},
		{name: "huge body is read only in part", check: get("/huge", 200, "needle"), message: "first 64 KiB"},
		{name: "redirects are not followed", check: get("/redirect", 302, ""), passed: true},
		{name: "timeout", check: get("/slow", 200, ""), message: "did not answer"},
		{name: "nothing listens", check: get("/", 200, ""), address: closedAddress(t), message: "GET / failed"},
		{name: "not in the sandbox", check: sandboxv1.ExerciseCheck{HTTP: &sandboxv1.HTTPCheck{Component: "app", Path: "/", ExpectStatus: 200}},
			message: "component app is not running in this sandbox"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			a := addr
			if tc.address != "" {
				a = tc.address
			}
			res := (&Runner{Timeout: time.Second}).Check(context.Background(), Target{Components: map[string]Endpoint{"web": {Address: a}}}, tc.check)
			g.Expect(res.Passed).To(Equal(tc.passed), res.Message)
			g.Expect(res.Message).To(ContainSubstring(tc.message))
		})
	}
}

func TestRoundBoundsConcurrency(t *testing.T) {
	g := NewWithT(t)
	fake := &countingChecker{delay: 5 * time.Millisecond}
	jobs := make([]Job, 100)
	for i := range jobs {
		jobs[i] = Job{Checks: []sandboxv1.ExerciseCheck{pgCheck("select true"), pgCheck("select true"), pgCheck("select true")}}
	}
	out := Round(context.Background(), fake, 8, jobs)
	g.Expect(out).To(HaveLen(100))
	g.Expect(out[99]).To(HaveLen(3))
	g.Expect(out[99][2].Passed).To(BeTrue())
	g.Expect(fake.peak()).To(BeNumerically("<=", 8))
	g.Expect(fake.total()).To(Equal(300))
}

func closedAddress(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// TestScenarioCheck runs a scenario against a service that keeps its users
// in the real Postgres and its links in the real Redis, and checks the side
// effects with postgres and redis steps whose parameters come from the
// scenario's variables.
func TestScenarioCheck(t *testing.T) {
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, pgURL)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	_, err = conn.Exec(ctx, `CREATE TABLE users (email text primary key, password_hash text not null)`)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	var clearText bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Email, Password string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		stored := "hashed:" + strings.Repeat("*", len(in.Password))
		if clearText {
			stored = in.Password
		}
		if _, err := conn.Exec(r.Context(), `INSERT INTO users VALUES ($1, $2)`, in.Email, stored); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		c := rd.Client()
		defer func() { _ = c.Close() }()
		_ = c.Set(r.Context(), "user:"+in.Email, "1", 0).Err()
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	check := sandboxv1.ExerciseCheck{HTTP: &sandboxv1.HTTPCheck{
		Component: "workspace",
		// Quotes in values that go to SQL: bound as parameters, never spliced.
		Vars: map[string]string{"email": `check-{{random}}'"@example.edu`, "password": `{{random}}'); drop table users; --`},
		Steps: []sandboxv1.ScenarioStep{
			{Request: &sandboxv1.StepRequest{Method: "POST", Path: "/register",
				JSON: &apiextensionsv1.JSON{Raw: []byte(`{"email": "{{email}}", "password": "{{password}}"}`)}},
				Expect: &sandboxv1.StepExpect{Status: &apiextensionsv1.JSON{Raw: []byte(`201`)}}},
			{Postgres: &sandboxv1.PostgresCheck{Component: "postgres",
				Query: "select password_hash <> $1 from users where email = $2", Params: []string{"{{password}}", "{{email}}"}}},
			{Redis: &sandboxv1.RedisCheck{Component: "redis", Command: []string{"EXISTS", "user:{{email}}"}, Expect: "1"}},
		},
	}}
	target := Target{Components: map[string]Endpoint{
		"workspace": {Address: strings.TrimPrefix(srv.URL, "http://"), Host: "workspace"},
		"postgres":  pgTarget, "redis": rdTarget,
	}}
	g := NewWithT(t)
	res := (&Runner{}).Check(ctx, target, check)
	g.Expect(res.Passed).To(BeTrue(), res.Message)

	clearText = true
	res = (&Runner{}).Check(ctx, target, check)
	g.Expect(res.Passed).To(BeFalse())
	g.Expect(res.Message).To(Equal("step 2 postgres check: the query returned false, want true"))
	var users int
	g.Expect(conn.QueryRow(ctx, `select count(*) from users`).Scan(&users)).To(Succeed())
	g.Expect(users).To(Equal(2))

	noRedis := Target{Components: map[string]Endpoint{"workspace": target.Components["workspace"], "postgres": pgTarget,
		"redis": {Problem: "component redis has no ready pod"}}}
	clearText = false
	res = (&Runner{}).Check(ctx, noRedis, check)
	g.Expect(res.Message).To(Equal("step 3 redis EXISTS user:{{email}}: component redis has no ready pod"))
}

// TestAChecksConnectionsGoNowhereElse: a check's client dials only the
// component's address: not a redirect's target, not a proxy of the
// operator's environment.
func TestAChecksConnectionsGoNowhereElse(t *testing.T) {
	g := NewWithT(t)
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	component := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/metadata", http.StatusFound)
	}))
	defer component.Close()
	t.Setenv("HTTP_PROXY", other.URL)
	t.Setenv("http_proxy", other.URL)
	addr := strings.TrimPrefix(component.URL, "http://")
	target := Target{Components: map[string]Endpoint{"workspace": {Address: addr}}}
	res := (&Runner{}).Check(t.Context(), target, sandboxv1.ExerciseCheck{HTTP: &sandboxv1.HTTPCheck{Component: "workspace", Path: "/", ExpectStatus: 200}})
	g.Expect(res.Message).To(Equal("GET / returned 302, want 200"))
	g.Expect(elsewhere.Load()).To(BeZero())

	client := httpClient(addr)
	_, err := client.Get(other.URL)
	g.Expect(err).To(MatchError(ContainSubstring("a check connects only to the component's pod")))
	g.Expect(elsewhere.Load()).To(BeZero())

	problem := Target{Components: map[string]Endpoint{"workspace": {Problem: "the Service workspace was changed to type ExternalName"}}}
	res = (&Runner{}).Check(t.Context(), problem, sandboxv1.ExerciseCheck{HTTP: &sandboxv1.HTTPCheck{Component: "workspace", Path: "/", ExpectStatus: 200}})
	g.Expect(res.Message).To(Equal("the Service workspace was changed to type ExternalName"))
}
