package playground

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/corsgate/corsgate/internal/apierror"
)

// fakeGateway records the requests the playground sends to it and answers
// with the status and body set for each path.
type fakeGateway struct {
	srv *httptest.Server

	mu   sync.Mutex
	seen []*http.Request
	// answers maps a path to its status and body; an unset path is 404.
	answers map[string][2]string
}

func newFakeGateway(t *testing.T, answers map[string][2]string) *fakeGateway {
	t.Helper()
	g := &fakeGateway{answers: answers}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.seen = append(g.seen, r.Clone(r.Context()))
		a, ok := g.answers[r.URL.Path]
		g.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(atoi(a[0]))
		_, _ = io.WriteString(w, a[1])
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func (g *fakeGateway) last(t *testing.T) *http.Request {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.seen) == 0 {
		t.Fatal("the gateway received no request")
	}
	return g.seen[len(g.seen)-1]
}

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Host = "127.0.0.1:8099"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func mustNew(t *testing.T, target string) *Handler {
	t.Helper()
	h, err := New(target, nil)
	if err != nil {
		t.Fatalf("New(%q): %v", target, err)
	}
	return h
}

func TestPage(t *testing.T) {
	h := mustNew(t, "http://localhost:8080/")
	rec := get(t, h, "/")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET / = %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	body := rec.Body.String()
	for _, part := range []string{
		`<body data-target="http://localhost:8080">`,
		`<link rel="stylesheet" href="/static/style.css">`,
		`<script src="/static/app.js"></script>`,
		`id="form"`, `id="path"`, `id="method"`, `id="headers"`, `id="body"`, `id="credentials"`,
		`id="result"`, `id="explain"`, `id="policy"`,
	} {
		if !strings.Contains(body, part) {
			t.Errorf("page lacks %s", part)
		}
	}
	// No external assets: every src and href is local.
	for _, bad := range []string{"http://cdn", "https://", "//fonts.", "src=\"http"} {
		if strings.Contains(body, bad) {
			t.Errorf("page references an external asset: %q", bad)
		}
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}

	for path, ct := range map[string]string{
		"/static/app.js":    "text/javascript; charset=utf-8",
		"/static/style.css": "text/css; charset=utf-8",
	} {
		rec := get(t, h, path)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != ct || rec.Body.Len() == 0 {
			t.Errorf("GET %s = %d %q (%d bytes), want 200 %q", path, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len(), ct)
		}
	}
	js := get(t, h, "/static/app.js").Body.String()
	for _, part := range []string{"fetch(url, init)", "r.headers", "/api/explain?", "/api/policy", "start the gateway with -d or debug_endpoint: true to see explanations"} {
		if !strings.Contains(js, part) {
			t.Errorf("app.js lacks %q", part)
		}
	}
	for _, path := range []string{"/nope", "/static/", "/static/index.html", "/api/", "/index.html"} {
		if rec := get(t, h, path); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, rec.Code)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405", rec.Code)
	}
}

func TestPageTargetIsEscaped(t *testing.T) {
	h := mustNew(t, `http://localhost:8080/a"b<c>`)
	body := get(t, h, "/").Body.String()
	if strings.Contains(body, `a"b<c>`) || !strings.Contains(body, `data-target="http://localhost:8080/a%22b%3Cc%3E"`) {
		t.Errorf("target not escaped in the page")
	}
}

func TestNewRejectsBadTargets(t *testing.T) {
	for _, target := range []string{"", "localhost:8080", "ftp://x", "http://", "http://h/?q=1", "http://h/#f", "http://u:p@h/", "::"} {
		if _, err := New(target, nil); err == nil {
			t.Errorf("New(%q) accepted a bad target", target)
		}
	}
	for target, want := range map[string]string{
		"http://localhost:8080":        "http://localhost:8080",
		"http://localhost:8080/":       "http://localhost:8080",
		"https://api.example/gw/":      "https://api.example/gw",
		"http://127.0.0.1:9/prefix/v1": "http://127.0.0.1:9/prefix/v1",
	} {
		if got, err := ParseTarget(target); err != nil || got != want {
			t.Errorf("ParseTarget(%q) = %q, %v; want %q", target, got, err, want)
		}
	}
}

func TestExplainProxy(t *testing.T) {
	explain := `{"verdict":{"preflight":"refused","actual":"refused","reason":"header x-foo is not allowed"}}`
	g := newFakeGateway(t, map[string][2]string{ExplainPath: {"200", explain}})
	h := mustNew(t, g.srv.URL)

	rec := get(t, h, "/api/explain?method=put&path=/users/1%3Fx%3D1&headers=x-foo,%20content-type&credentials=true&origin=http://evil.example")
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, body %s", rec.Code, rec.Body)
	}
	if rec.Body.String() != explain {
		t.Errorf("body = %s, want the gateway's answer unchanged", rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	req := g.last(t)
	if req.Method != http.MethodGet || req.URL.Path != ExplainPath {
		t.Errorf("gateway got %s %s", req.Method, req.URL.Path)
	}
	q := req.URL.Query()
	want := url.Values{
		"origin":      {"http://127.0.0.1:8099"}, // the page's origin, never the caller's parameter
		"method":      {"PUT"},
		"path":        {"/users/1"},
		"headers":     {"x-foo,content-type"},
		"credentials": {"true"},
	}
	for k, v := range want {
		if q.Get(k) != v[0] {
			t.Errorf("explain %s = %q, want %q (query %s)", k, q.Get(k), v[0], req.URL.RawQuery)
		}
	}
	if len(q) != len(want) {
		t.Errorf("explain query %s has parameters beyond %v", req.URL.RawQuery, want)
	}

	// Defaults.
	get(t, h, "/api/explain")
	q = g.last(t).URL.Query()
	if q.Get("method") != "GET" || q.Get("path") != "/" || q.Get("headers") != "" || q.Get("credentials") != "false" {
		t.Errorf("defaults: %s", g.last(t).URL.RawQuery)
	}

	// Bad input is refused without calling the gateway.
	for _, bad := range []string{"?path=users", "?method=G%20T", "?headers=a%20b"} {
		rec := get(t, h, "/api/explain"+bad)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("/api/explain%s = %d, want 400", bad, rec.Code)
		}
	}
}

func TestPolicyProxy(t *testing.T) {
	policy := `{"service":{"allow_origins":["http://127.0.0.1:8099"]}}`
	g := newFakeGateway(t, map[string][2]string{PolicyPath: {"200", policy}})
	h := mustNew(t, g.srv.URL)
	rec := get(t, h, "/api/policy")
	if rec.Code != http.StatusOK || rec.Body.String() != policy {
		t.Errorf("GET /api/policy = %d %s", rec.Code, rec.Body)
	}
	if p := g.last(t).URL; p.Path != PolicyPath || p.RawQuery != "" {
		t.Errorf("gateway got %s", p)
	}
}

func TestGatewayWithoutDebugEndpoints(t *testing.T) {
	g := newFakeGateway(t, nil) // 404 for everything
	h := mustNew(t, g.srv.URL)
	for _, path := range []string{"/api/explain?path=/x", "/api/policy"} {
		rec := get(t, h, path)
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s = %d, want 404", path, rec.Code)
		}
		var e apierror.Body
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
			t.Fatalf("%s: body %q is not JSON: %v", path, rec.Body, err)
		}
		if e.Error != "not_found" || !strings.Contains(e.Reason, DebugOffHint) || !strings.Contains(e.Reason, "404") {
			t.Errorf("%s: %+v, want not_found, the 404 and the hint %q", path, e, DebugOffHint)
		}
	}
}

func TestGatewayErrorsPassThrough(t *testing.T) {
	g := newFakeGateway(t, map[string][2]string{PolicyPath: {"500", `{"error":"boom"}`}})
	h := mustNew(t, g.srv.URL)
	rec := get(t, h, "/api/policy")
	if rec.Code != http.StatusInternalServerError || rec.Body.String() != `{"error":"boom"}` {
		t.Errorf("GET /api/policy = %d %s, want the gateway's 500 unchanged", rec.Code, rec.Body)
	}
}

func TestGatewayDown(t *testing.T) {
	g := newFakeGateway(t, nil)
	url := g.srv.URL
	g.srv.Close()
	h := mustNew(t, url)
	rec := get(t, h, "/api/policy")
	if rec.Code != http.StatusBadGateway {
		t.Fatalf("status = %d, want 502", rec.Code)
	}
	var e apierror.Body
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error != "bad_gateway" || !strings.Contains(e.Reason, "cannot reach the gateway at "+url) {
		t.Errorf("body = %s (%v)", rec.Body, err)
	}
}

func TestTargetPrefix(t *testing.T) {
	g := newFakeGateway(t, map[string][2]string{"/gw" + PolicyPath: {"200", `{}`}})
	h := mustNew(t, g.srv.URL+"/gw/")
	if rec := get(t, h, "/api/policy"); rec.Code != http.StatusOK {
		t.Errorf("status = %d; gateway got %s", rec.Code, g.last(t).URL)
	}
}

// A dropped HAR file is posted to the gateway's HAR explanation, with the
// gateway as the origin to keep.
func TestHARProxy(t *testing.T) {
	g := newFakeGateway(t, map[string][2]string{HARPath: {"200", `{"summary": {"entries": 1}}`}})
	h := mustNew(t, g.srv.URL)
	req := httptest.NewRequest(http.MethodPost, "/api/har", strings.NewReader(`{"log": {"entries": []}}`))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"entries": 1`) {
		t.Fatalf("POST /api/har: %d %s", rec.Code, rec.Body.String())
	}
	up := g.last(t)
	if up.Method != http.MethodPost || up.URL.Path != HARPath || up.URL.Query().Get("gateway") != g.srv.URL || up.Header.Get("Content-Type") != "application/json" {
		t.Errorf("upstream request: %s %s %v", up.Method, up.URL, up.Header)
	}
	// A gateway without its debug endpoints: the page says how to turn
	// them on.
	off := mustNew(t, newFakeGateway(t, nil).srv.URL)
	rec = httptest.NewRecorder()
	off.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/har", strings.NewReader(`{}`)))
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), DebugOffHint) {
		t.Errorf("debug off: %d %s", rec.Code, rec.Body.String())
	}
}
