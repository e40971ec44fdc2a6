package core_test

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/engine/route"
	"github.com/corsgate/corsgate/plugin/plugintest"
)

func init() { gin.SetMode(gin.ReleaseMode) }

func routes() *route.Index {
	return route.New([]route.Route{
		{Method: "GET", Path: "/users/:id", Index: 0},
		{Method: "PUT", Path: "/users/:id", Index: 1},
		{Method: "GET", Path: "/public", Index: 2},
	}, false)
}

func acao(h http.Handler, method, path string, kv ...string) (int, string) {
	r := httptest.NewRequest(method, path, nil)
	r.Header = plugintest.Header(kv...)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Header().Get("Access-Control-Allow-Origin")
}

// Apply swaps in a valid document at once, numbers it, and refuses an
// invalid one with every problem while the old policy keeps serving.
func TestControllerApply(t *testing.T) {
	ok := func(origin string) *policy.Document {
		return &policy.Document{Service: &policy.Block{AllowOrigins: []string{origin}, AllowMethods: []string{"GET", "PUT"}}}
	}
	c, err := core.NewController(routes(), ok("https://a.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	h := c.Handler(next)
	if c.Snapshot().Revision() != 1 {
		t.Errorf("first revision %d, want 1", c.Snapshot().Revision())
	}
	if _, got := acao(h, "GET", "/users/1", "Origin", "https://a.example.com"); got != "https://a.example.com" {
		t.Fatalf("before Apply: %q", got)
	}

	s, err := c.Apply(ok("https://b.example.com"))
	if err != nil || s.Revision() != 2 || c.Snapshot() != s {
		t.Fatalf("Apply: %v, revision %d", err, s.Revision())
	}
	if _, got := acao(h, "GET", "/users/1", "Origin", "https://b.example.com"); got != "https://b.example.com" {
		t.Errorf("the very next request after Apply: %q, want the new origin", got)
	}
	if _, got := acao(h, "GET", "/users/1", "Origin", "https://a.example.com"); got != "" {
		t.Errorf("the old origin is still allowed: %q", got)
	}

	bad := &policy.Document{
		Service: &policy.Block{AllowOrigins: []string{"https://c.example.com/", "*"}, AllowCredentials: ptr(true)},
		Endpoints: map[string]*policy.Block{
			"PUT /users/{id}": {MaxAge: ptr("soon")},
			"DELETE /nowhere": {},
		},
	}
	before := c.Snapshot()
	s, err = c.Apply(bad)
	var errs policy.Errors
	if s != nil || !errors.As(err, &errs) {
		t.Fatalf("Apply(invalid) = %v, %v; want nil and policy.Errors", s, err)
	}
	for _, want := range []string{
		`service.allow_origins[0]`, `service.allow_origins[1]`,
		`endpoints["PUT /users/{id}"].max_age`, `endpoints["DELETE /nowhere"]`,
	} {
		found := false
		for _, e := range errs {
			found = found || e.Path == want
		}
		if !found {
			t.Errorf("no error at %s in:\n%v", want, errs)
		}
	}
	if c.Snapshot() != before || c.Snapshot().Revision() != 2 {
		t.Errorf("a refused Apply changed the snapshot (revision %d)", c.Snapshot().Revision())
	}
	if _, got := acao(h, "GET", "/users/1", "Origin", "https://b.example.com"); got != "https://b.example.com" {
		t.Errorf("after a refused Apply the policy changed: %q", got)
	}
}

// The snapshot keeps its own copy of the document: changing the document
// after Apply, or the copy Document returns, changes nothing.
// Publish puts a compiled snapshot in force without compiling it again,
// and refuses one compiled for other routes or published already.
func TestControllerPublish(t *testing.T) {
	doc := func(origin string) *policy.Document {
		return &policy.Document{Service: &policy.Block{AllowOrigins: []string{origin}}}
	}
	c, err := core.NewController(routes(), doc("https://a.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := core.Compile(doc("https://b.example.com"), c.Routes())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(s); err != nil || c.Snapshot() != s || s.Revision() != 2 {
		t.Fatalf("Publish: %v, revision %d", err, s.Revision())
	}
	if err := c.Publish(s); err == nil || !strings.Contains(err.Error(), "published already") {
		t.Errorf("a second Publish of one snapshot: %v", err)
	}
	foreign, _ := core.Compile(doc("https://c.example.com"), routes())
	if err := c.Publish(foreign); err == nil || !strings.Contains(err.Error(), "another route set") || c.Snapshot() != s {
		t.Errorf("Publish of a snapshot for other routes: %v", err)
	}
	if err := c.Publish(nil); err == nil {
		t.Error("Publish(nil) succeeded")
	}
}

func TestSnapshotDocumentIsACopy(t *testing.T) {
	doc := &policy.Document{Service: &policy.Block{AllowOrigins: []string{"https://a.example.com"}}}
	c, err := core.NewController(routes(), doc)
	if err != nil {
		t.Fatal(err)
	}
	doc.Service.AllowOrigins[0] = "https://mutated.example"
	got := c.Snapshot().Document()
	if got.Service.AllowOrigins[0] != "https://a.example.com" {
		t.Fatalf("the snapshot shares the caller's document: %q", got.Service.AllowOrigins)
	}
	got.Service.AllowOrigins[0] = "https://mutated.example"
	if c.Snapshot().Document().Service.AllowOrigins[0] != "https://a.example.com" {
		t.Error("the snapshot shares the document it returned")
	}
}

type recorder struct {
	mu   sync.Mutex
	seen []string
}

func (o *recorder) ObserveCORS(_ *http.Request, sc *core.Scope, d policy.Decision) {
	r := sc.Route
	name := "-"
	if r != nil {
		name = r.Key()
	}
	o.mu.Lock()
	o.seen = append(o.seen, name+" "+d.Reason.String())
	o.mu.Unlock()
}

// Every request gets a decision, which the observer receives with its
// route: allowed, refused, exempt, no policy and not CORS alike.
func TestPlanAndObserver(t *testing.T) {
	g := plugintest.Gateway{
		CORS: plugintest.Block{"allow_origins": []any{"https://app.example.com"}, "allow_methods": []any{"GET", "PUT"}},
		Endpoints: []plugintest.Endpoint{
			plugintest.EP("GET", "/users/{id}", plugintest.Block{"terminate_unmatched_request": true}),
			plugintest.EP("GET", "/public", plugintest.Block{"disable": true}),
			plugintest.EP("PUT", "/users/{id}", plugintest.Block{"options_passthrough": true}),
		},
	}
	obs := &recorder{}
	c := g.Controller(t, core.WithObserver(obs))
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	h := c.Handler(next)
	const app, evil = "https://app.example.com", "https://evil.example"
	tests := []struct {
		method, path string
		kv           []string
		action       core.Action
		seen         string
	}{
		{"GET", "/users/1", []string{"Origin", app}, core.Serve, "GET /users/{id} allowed"},
		{"GET", "/users/1", []string{"Origin", evil}, core.Terminate, "GET /users/{id} origin_denied"},
		{"GET", "/users/1", nil, core.Serve, "GET /users/{id} no_origin"},
		{"OPTIONS", "/users/1", []string{"Origin", app, "Access-Control-Request-Method", "GET"}, core.Answer, "GET /users/{id} allowed"},
		{"OPTIONS", "/users/1", []string{"Origin", app, "Access-Control-Request-Method", "PUT"}, core.AnswerAndForward, "PUT /users/{id} allowed"},
		{"OPTIONS", "/users/1", []string{"Origin", evil, "Access-Control-Request-Method", "GET"}, core.Terminate, "GET /users/{id} origin_denied"},
		{"GET", "/public", []string{"Origin", app}, core.Forward, "GET /public exempt"},
		{"GET", "/nowhere", []string{"Origin", app}, core.Serve, "- allowed"},
		{"DELETE", "/nowhere", []string{"Origin", app}, core.Serve, "- method_denied"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.path, nil)
		r.Header = plugintest.Header(tt.kv...)
		if p := c.Snapshot().Plan(r); p.Action != tt.action {
			t.Errorf("%s %s %v: action %v, want %v", tt.method, tt.path, tt.kv, p.Action, tt.action)
		}
		obs.seen = nil
		h.ServeHTTP(httptest.NewRecorder(), r)
		if len(obs.seen) != 1 || obs.seen[0] != tt.seen {
			t.Errorf("%s %s %v: observer saw %q, want [%q]", tt.method, tt.path, tt.kv, obs.seen, tt.seen)
		}
	}

	// With an observer, routes are resolved even when no endpoint has a
	// policy of its own (which lets the handler skip matching otherwise).
	shared := &recorder{}
	sh := plugintest.Gateway{CORS: g.CORS, Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", nil)}}.
		Controller(t, core.WithObserver(shared)).Handler(next)
	r0 := httptest.NewRequest("GET", "/users/1", nil)
	r0.Header.Set("Origin", app)
	sh.ServeHTTP(httptest.NewRecorder(), r0)
	if len(shared.seen) != 1 || shared.seen[0] != "GET /users/{id} allowed" {
		t.Errorf("observer without endpoint policies saw %q", shared.seen)
	}

	none := plugintest.Gateway{Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/a", nil)}}.Snapshot(t)
	r := httptest.NewRequest("GET", "/a", nil)
	r.Header.Set("Origin", app)
	if p := none.Plan(r); p.Action != core.Forward || p.Decision.Reason != policy.NoPolicy {
		t.Errorf("no CORS at all: %v %v, want forward, no_policy", p.Action, p.Decision.Reason)
	}
}

// gin's Context.Stream asserts http.CloseNotifier on the writer; behind
// the CORS layer it used to panic. The stream must arrive whole, with the
// CORS headers.
func TestStreamBehindTheHandler(t *testing.T) {
	e := gin.New()
	e.GET("/events", func(c *gin.Context) {
		n := 0
		c.Stream(func(w io.Writer) bool {
			n++
			w.Write([]byte("event\n"))
			return n < 3
		})
	})
	h := plugintest.Gateway{CORS: plugintest.Block{"allow_origins": []any{"https://app.example.com"}}}.Controller(t).Handler(e)
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/events", nil)
	req.Header.Set("Origin", "https://app.example.com")
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("the stream failed: %v", err)
	}
	defer resp.Body.Close()
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if strings.Join(lines, ",") != "event,event,event" {
		t.Errorf("stream body %q, want three events", lines)
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
		t.Errorf("Access-Control-Allow-Origin %q", got)
	}
}

func ptr[T any](v T) *T { return &v }

// scopeRecorder is a ScopeObserver.
type scopeRecorder struct{ recorder }

func (*scopeRecorder) ScopeOnly() {}

// A ScopeObserver does not make the handler match routes that share the
// service policy: it learns the service scope.
func TestScopeObserverSkipsMatching(t *testing.T) {
	cors := plugintest.Block{"allow_origins": []any{"https://app.example.com"}}
	obs := &scopeRecorder{}
	h := plugintest.Gateway{CORS: cors, Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", nil)}}.
		Controller(t, core.WithObserver(obs)).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	r := httptest.NewRequest("GET", "/users/1", nil)
	r.Header.Set("Origin", "https://app.example.com")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if len(obs.seen) != 1 || obs.seen[0] != "- allowed" {
		t.Errorf("scope observer saw %q, want the service scope", obs.seen)
	}
}
