package sampleapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"golang.org/x/crypto/bcrypt"

	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/sampleapp/config"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/testservices"
)

// jwtSecret signs the tokens of every app under test.
const jwtSecret = "integration-test-secret-0123456789abcdef"

// The servers every test shares, started by TestMain.
var (
	pg          *testservices.Postgres
	sharedRedis *testservices.Redis
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

// runTests starts PostgreSQL and Redis, runs the tests and stops the servers
// even when a test fails. A missing server binary fails the run loudly.
func runTests(m *testing.M) int {
	// Each app's own log already records its Redis errors, per test.
	sampleapp.RouteRedisLogs(slog.New(slog.DiscardHandler))
	var err error
	if pg, err = testservices.StartPostgres(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: the sample app's integration tests need PostgreSQL: %v\n", err)
		return 1
	}
	defer stopService("postgres", pg.Stop)
	if sharedRedis, err = testservices.StartRedis(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: the sample app's integration tests need Redis: %v\n", err)
		return 1
	}
	defer stopService("redis", sharedRedis.Stop)
	return m.Run()
}

func stopService(name string, stop func() error) {
	if err := stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stop %s: %v\n", name, err)
	}
}

// testApp is one app instance under test, serving on a loopback port.
type testApp struct {
	t           testing.TB
	url         string
	databaseURL string
	client      *http.Client
	logs        *syncBuffer

	mu      sync.Mutex
	secrets []string // passwords and tokens this test sent, to look for in the logs
}

// newApp starts an app on a fresh database, with Redis when rs is not nil.
func newApp(t testing.TB, rs *testservices.Redis) *testApp {
	t.Helper()
	return newAppOn(t, newDatabase(t), rs)
}

func newDatabase(t testing.TB) string {
	t.Helper()
	dbURL, err := pg.CreateDatabase()
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	return dbURL
}

// newAppOn starts an app on an existing database, like a second replica.
// Its whole log, debug level included, is checked for secrets at the end.
func newAppOn(t testing.TB, dbURL string, rs *testservices.Redis) *testApp {
	t.Helper()
	cfg := testConfig(dbURL, rs)
	logs := &syncBuffer{}
	a := startApp(t, cfg, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	a.logs = logs
	t.Cleanup(func() { a.expectNoSecretsLogged(cfg) })
	return a
}

// startApp opens an app with cfg and serves it on a loopback port until the
// test ends.
func startApp(t testing.TB, cfg config.Config, log *slog.Logger) *testApp {
	t.Helper()
	app, err := sampleapp.Open(context.Background(), cfg, log)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(func() {
		srv.Close()
		app.Close()
	})
	return &testApp{t: t, url: srv.URL, databaseURL: cfg.DatabaseURL, client: srv.Client()}
}

func testConfig(dbURL string, rs *testservices.Redis) config.Config {
	cfg := config.Config{
		DatabaseURL: dbURL,
		Port:        config.DefaultPort,
		JWTSecret:   []byte(jwtSecret),
		TokenTTL:    time.Hour,
		BcryptCost:  bcrypt.MinCost, // keeps the many registrations fast
	}
	if rs != nil {
		cfg.RedisURL = rs.URL()
	}
	return cfg
}

// expectNoSecretsLogged checks the app's log for every secret it was given.
func (a *testApp) expectNoSecretsLogged(cfg config.Config) {
	logs := a.logs.String()
	secrets := append([]string{string(cfg.JWTSecret), pg.AppPassword}, a.secrets...)
	if cfg.RedisEnabled() {
		secrets = append(secrets, redisPassword(cfg.RedisURL))
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			a.t.Errorf("the app logged a secret (%d chars)", len(s))
		}
	}
}

func redisPassword(rawURL string) string {
	_, rest, _ := strings.Cut(rawURL, "://:")
	pw, _, _ := strings.Cut(rest, "@")
	return pw
}

func (a *testApp) remember(secret string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.secrets = append(a.secrets, secret)
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// decode unmarshals the body into v, failing the test if it is not JSON.
func (r response) decode(t testing.TB, v any) {
	t.Helper()
	NewWithT(t).Expect(json.Unmarshal(r.body, v)).To(Succeed(), string(r.body))
}

// errorMessage is the "error" field of a JSON error body.
func (r response) errorMessage(t testing.TB) string {
	t.Helper()
	var body struct {
		Error string `json:"error"`
	}
	r.decode(t, &body)
	return body.Error
}

// do sends a request. body is sent as JSON: a string as it is, anything else
// marshalled; nil sends no body.
func (a *testApp) do(method, path, token string, body any) response {
	a.t.Helper()
	g := NewWithT(a.t)
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		g.Expect(err).NotTo(HaveOccurred())
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, a.url+path, reader)
	g.Expect(err).NotTo(HaveOccurred())
	if reader != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.client.Do(req)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	g.Expect(err).NotTo(HaveOccurred())
	return response{status: resp.StatusCode, header: resp.Header, body: raw}
}

var emailCounter atomic.Int64

// uniqueEmail returns an email no other test uses, so that tests sharing a
// Redis do not share rate-limit counters.
func uniqueEmail(prefix string) string {
	return fmt.Sprintf("%s-%d-%d@example.com", prefix, time.Now().UnixNano(), emailCounter.Add(1))
}

type credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// register creates an account and returns its id.
func (a *testApp) register(email, password string) string {
	a.t.Helper()
	a.remember(password)
	resp := a.do(http.MethodPost, "/api/v1/auth/register", "", credentials{email, password})
	NewWithT(a.t).Expect(resp.status).To(Equal(http.StatusCreated), string(resp.body))
	var user struct{ ID string }
	resp.decode(a.t, &user)
	return user.ID
}

// login returns an access token.
func (a *testApp) login(email, password string) string {
	a.t.Helper()
	resp := a.do(http.MethodPost, "/api/v1/auth/login", "", credentials{email, password})
	NewWithT(a.t).Expect(resp.status).To(Equal(http.StatusOK), string(resp.body))
	var tok struct{ Token string }
	resp.decode(a.t, &tok)
	a.remember(tok.Token)
	return tok.Token
}

// newUser registers and logs in a fresh user, returning its id and token.
func (a *testApp) newUser(prefix string) (string, string) {
	a.t.Helper()
	email, password := uniqueEmail(prefix), "password-"+prefix
	id := a.register(email, password)
	return id, a.login(email, password)
}

type todo struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Done      bool      `json:"done"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

type page struct {
	Items      []todo `json:"items"`
	NextCursor string `json:"nextCursor"`
}

func (a *testApp) createTodo(token, title string) todo {
	a.t.Helper()
	resp := a.do(http.MethodPost, "/api/v1/todos", token, map[string]string{"title": title})
	NewWithT(a.t).Expect(resp.status).To(Equal(http.StatusCreated), string(resp.body))
	var td todo
	resp.decode(a.t, &td)
	return td
}

// list fetches one page and returns it with the X-Cache header.
func (a *testApp) list(token, query string) (page, string) {
	a.t.Helper()
	resp := a.do(http.MethodGet, "/api/v1/todos"+query, token, nil)
	NewWithT(a.t).Expect(resp.status).To(Equal(http.StatusOK), string(resp.body))
	var p page
	resp.decode(a.t, &p)
	return p, resp.header.Get("X-Cache")
}

func titles(items []todo) []string {
	out := make([]string, len(items))
	for i, td := range items {
		out[i] = td.Title
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for the app's concurrent log writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
