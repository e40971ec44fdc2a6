package admin_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/corsgate/corsgate/admin"
	"github.com/corsgate/corsgate/admin/auth"
	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/metrics"
	"github.com/corsgate/corsgate/plugin"
	"github.com/corsgate/corsgate/plugin/plugintest"
	"github.com/corsgate/corsgate/state"
	"github.com/corsgate/corsgate/store"
)

const (
	user     = "admin"
	password = "correct-horse-battery"
	app      = "https://app.example.com"
	other    = "https://other.example.com"
)

type nopLogger struct{}

func (nopLogger) Info(...any)    {}
func (nopLogger) Warning(...any) {}
func (nopLogger) Error(...any)   {}

// logLines records the warnings logged.
type logLines struct {
	mu       sync.Mutex
	warnings []string
}

func (l *logLines) Info(...any)  {}
func (l *logLines) Error(...any) {}
func (l *logLines) Warning(v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.warnings = append(l.warnings, fmt.Sprintln(v...))
}

func (l *logLines) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.warnings, "")
}

// fixture is a gateway with an admin API: the gateway's CORS layer in
// front of a router that answers 200, and the admin API, both served by
// httptest servers.
type fixture struct {
	t       *testing.T
	ctrl    *core.Controller
	srv     *admin.Server
	state   *state.Manager
	logs    logLines
	admin   *httptest.Server
	gateway *httptest.Server
	dir     string
	st      *store.Embedded
}

func newFixture(t *testing.T, g plugintest.Gateway, dir string) *fixture {
	t.Helper()
	cfg := g.Config(t)
	doc, routes, err := plugin.Read(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctrl, err := core.NewController(routes, doc)
	if err != nil {
		t.Fatal(err)
	}
	if dir == "" {
		dir = t.TempDir()
	}
	st, err := store.OpenEmbedded(dir, store.EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	creds, err := auth.Load(auth.Sources{Getenv: func(k string) string {
		return map[string]string{auth.EnvUser: user, auth.EnvPassword: password}[k]
	}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctrl: ctrl, dir: dir, st: st}
	f.serve(doc, st, nil, testConfig(creds, dir), nil)
	f.admin = httptest.NewServer(f.srv.Handler())
	t.Cleanup(f.admin.Close)
	f.gateway = httptest.NewServer(ctrl.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })))
	t.Cleanup(f.gateway.Close)
	return f
}

// serve starts f's run-time state over doc and st (or storeErr), and its
// admin API.
func (f *fixture) serve(doc *policy.Document, st store.Store, storeErr error, cfg *admin.Config, d *metrics.Decisions) {
	f.state = state.New(state.Options{Controller: f.ctrl, File: doc, Store: st, StoreErr: storeErr, StoreInfo: cfg.Store.Info(), StateDir: cfg.StateDir,
		Replica: cfg.ReplicaID, Admin: cfg.Listen, Timeout: cfg.Store.Timeout(), ConfigPath: "test.json", Logger: &f.logs})
	f.srv = admin.New(admin.Options{State: f.state, Config: cfg, Logger: nopLogger{}, Decisions: d})
	// Before the state directory is removed: the cache is written in the
	// background.
	f.t.Cleanup(f.state.Flush)
}

// testConfig is the admin configuration of a test gateway with an
// embedded store in dir.
func testConfig(creds *auth.Credentials, dir string) *admin.Config {
	return &admin.Config{Listen: "127.0.0.1:0", StateDir: dir, Store: admin.StoreConfig{Type: admin.StoreEmbedded, Path: dir}, ReplicaID: "test", Credentials: creds}
}

func spa() plugintest.Gateway {
	return plugintest.Gateway{
		CORS: plugintest.Block{"allow_origins": []any{app}, "allow_methods": []any{"GET", "PUT"}, "allow_credentials": true},
		Endpoints: []plugintest.Endpoint{
			plugintest.EP("GET", "/users/{id}", nil),
			plugintest.EP("PUT", "/users/{id}", nil),
		},
	}
}

// call sends an authenticated request to the admin API.
func (f *fixture) call(method, path, body string, kv ...string) (*http.Response, map[string]any) {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, f.admin.URL+path, rd)
	req.SetBasicAuth(user, password)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			req.Header.Del(kv[i])
			continue
		}
		req.Header.Set(kv[i], kv[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &v); err != nil {
			f.t.Fatalf("%s %s: the answer is not a JSON object: %v\n%s", method, path, err, data)
		}
	}
	return resp, v
}

// allowed reports the Access-Control-Allow-Origin the gateway answers an
// actual GET /users/1 from origin with.
func (f *fixture) allowed(origin string) string {
	f.t.Helper()
	return f.allowedOn("/users/1", origin)
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestCloudantGetAndPut(t *testing.T) {
	f := newFixture(t, spa(), "")
	resp, v := f.call("GET", admin.CloudantPath, "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || jsonText(v) != `{"allow_credentials":true,"enable_cors":true,"origins":["https://app.example.com"]}` {
		t.Fatalf("GET: %d %s", resp.StatusCode, jsonText(v))
	}
	if resp.Header.Get("ETag") != `"0"` {
		t.Errorf("ETag %q, want \"0\"", resp.Header.Get("ETag"))
	}

	resp, v = f.call("PUT", admin.CloudantPath, `{"origins": ["https://other.example.com"]}`)
	if resp.StatusCode != 200 || jsonText(v) != `{"ok":true}` {
		t.Fatalf("PUT: %d %s", resp.StatusCode, jsonText(v))
	}
	// The very next request follows the new policy.
	if got := f.allowed(other); got != other {
		t.Errorf("after the PUT, %s gets Access-Control-Allow-Origin %q", other, got)
	}
	if got := f.allowed(app); got != "" {
		t.Errorf("after the PUT, the replaced origin still gets %q", got)
	}
	// Absent keys and every other key keep their values.
	_, v = f.call("GET", admin.CloudantPath, "")
	if jsonText(v) != `{"allow_credentials":true,"enable_cors":true,"origins":["https://other.example.com"]}` {
		t.Errorf("GET after PUT: %s", jsonText(v))
	}
	if m := f.ctrl.Snapshot().Service().Policy.Methods(); strings.Join(m, ",") != "GET,PUT" {
		t.Errorf("allow_methods changed: %v", m)
	}

	// enable_cors false turns CORS off for the whole gateway.
	if resp, _ = f.call("PUT", admin.CloudantPath, `{"enable_cors": false}`); resp.StatusCode != 200 {
		t.Fatalf("PUT enable_cors false: %d", resp.StatusCode)
	}
	if got := f.allowed(other); got != "" {
		t.Errorf("with enable_cors false the gateway still answers CORS: %q", got)
	}
	_, v = f.call("GET", admin.CloudantPath, "")
	if v["enable_cors"] != false {
		t.Errorf("GET: %s", jsonText(v))
	}
}

func TestCloudantRefusals(t *testing.T) {
	f := newFixture(t, spa(), "")
	before := f.state.Status().Revision
	tests := []struct {
		name, ctype, body string
		status            int
		path, reason      string
	}{
		{"malformed origin", "application/json", `{"origins": ["https://ok.example.com", "https://bad.example.com/"]}`, 400, "origins[1]", `did you mean "https://bad.example.com"?`},
		{"star with credentials", "application/json", `{"origins": ["*"], "allow_credentials": true}`, 400, "origins[0]", "allow_any_origin_with_credentials_unsafe"},
		{"unknown key", "application/json", `{"origin": ["https://a.example.com"]}`, 400, "", `unknown key "origin"`},
		{"wrong type", "application/json", `{"allow_credentials": "yes"}`, 400, "", "allow_credentials is a string, not bool"},
		{"invalid JSON", "application/json", `{"origins": [}`, 400, "", "not valid JSON"},
		{"wrong content type", "text/plain", `{"origins": []}`, 415, "", "Content-Type: application/json"},
		{"too big", "application/json", `{"origins": ["` + strings.Repeat("a", 1<<20) + `"]}`, 413, "", "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, v := f.call("PUT", admin.CloudantPath, tt.body, "Content-Type", tt.ctype)
			if resp.StatusCode != tt.status || !strings.Contains(fmt.Sprint(v), tt.reason) || v["reason"] == nil {
				t.Errorf("%d %s; want %d with %q", resp.StatusCode, jsonText(v), tt.status, tt.reason)
			}
			if tt.status == 400 && v["error"] != "bad_request" {
				t.Errorf("error %v, want bad_request", v["error"])
			}
			if tt.path != "" {
				errs, _ := v["errors"].([]any)
				if len(errs) == 0 || errs[0].(map[string]any)["path"] != tt.path {
					t.Errorf("errors %s, want the first at %s", jsonText(v["errors"]), tt.path)
				}
			}
		})
	}
	if f.state.Status().Revision != before || f.allowed(app) != app {
		t.Error("a refused PUT changed something")
	}
	resp, _ := f.call("DELETE", admin.CloudantPath, "")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD, PUT" {
		t.Errorf("DELETE: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// Without a service block GET says so, and a PUT creates the service
// policy in the run-time layer.
func TestCloudantWithoutServiceBlock(t *testing.T) {
	f := newFixture(t, plugintest.Gateway{Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", nil)}}, "")
	_, v := f.call("GET", admin.CloudantPath, "")
	if jsonText(v) != `{"allow_credentials":false,"enable_cors":false,"origins":[]}` {
		t.Fatalf("GET: %s", jsonText(v))
	}
	if resp, v := f.call("PUT", admin.CloudantPath, `{"enable_cors": true, "origins": ["https://app.example.com"]}`); resp.StatusCode != 200 {
		t.Fatalf("PUT: %d %s", resp.StatusCode, jsonText(v))
	}
	if got := f.allowed(app); got != app {
		t.Errorf("after the PUT: %q", got)
	}
}

// With the file's unsafe opt-in, "*" with credentials is accepted; a list
// of origins turns the opt-in off in the run-time layer.
func TestCloudantUnsafeOptIn(t *testing.T) {
	f := newFixture(t, plugintest.Gateway{
		CORS:      plugintest.Block{"allow_credentials": true, "allow_any_origin_with_credentials_unsafe": true},
		Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", nil)},
	}, "")
	if resp, v := f.call("PUT", admin.CloudantPath, `{"origins": ["*"], "allow_credentials": true}`); resp.StatusCode != 200 {
		t.Fatalf("PUT *: %d %s", resp.StatusCode, jsonText(v))
	}
	if got := f.allowed(other); got != other {
		t.Errorf("with the opt-in, %q", got)
	}
	if resp, v := f.call("PUT", admin.CloudantPath, `{"origins": ["https://app.example.com"]}`); resp.StatusCode != 200 {
		t.Fatalf("PUT a list: %d %s", resp.StatusCode, jsonText(v))
	}
	if f.allowed(other) != "" || f.allowed(app) != app || f.ctrl.Snapshot().Service().Policy.ReflectsAnyOriginWithCredentials() {
		t.Error("a listed origin did not turn the opt-in off")
	}
}

// Every route needs credentials, and no route answers another origin.
func TestEveryRouteIsGuarded(t *testing.T) {
	f := newFixture(t, spa(), "")
	for _, route := range []struct{ method, path string }{
		{"GET", admin.CloudantPath}, {"PUT", admin.CloudantPath}, {"GET", "/v1/cors/config"}, {"PUT", "/v1/cors/layer"},
		{"PUT", "/v1/cors/scopes/service"}, {"POST", "/v1/cors/validate"}, {"GET", "/v1/cors/history"},
		{"POST", "/v1/cors/rollback"}, {"POST", "/v1/cors/reset"}, {"GET", "/v1/cors/status"}, {"GET", "/nowhere"},
	} {
		req, _ := http.NewRequest(route.method, f.admin.URL+route.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `Basic realm="corsgate"`) {
			t.Errorf("%s %s without credentials: %d %v", route.method, route.path, resp.StatusCode, resp.Header)
		}
		req, _ = http.NewRequest(route.method, f.admin.URL+route.path, nil)
		req.SetBasicAuth(user, password)
		req.Header.Set("Origin", "https://evil.example")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Errorf("%s %s from another origin: %d", route.method, route.path, resp.StatusCode)
		}
		for k := range resp.Header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("%s %s: %s on an admin answer", route.method, route.path, k)
			}
		}
	}
}

func TestFullAPI(t *testing.T) {
	f := newFixture(t, spa(), "")
	resp, v := f.call("GET", "/v1/cors/config", "")
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != `"0"` || v["effective"] == nil || v["file"] == nil {
		t.Fatalf("GET config: %d %s", resp.StatusCode, jsonText(v))
	}

	layer := `{"service": {"allow_origins": ["https://other.example.com"]}, "endpoints": {"PUT /users/{id}": {"allow_origins": ["https://admin.example.com"]}}}`
	if resp, _ := f.call("PUT", "/v1/cors/layer", layer); resp.StatusCode != 428 {
		t.Errorf("PUT without If-Match: %d, want 428", resp.StatusCode)
	}
	if resp, _ := f.call("PUT", "/v1/cors/layer", layer, "If-Match", `"7"`); resp.StatusCode != 412 {
		t.Errorf("PUT with a stale If-Match: %d, want 412", resp.StatusCode)
	}
	resp, v = f.call("PUT", "/v1/cors/layer", layer, "If-Match", `"0"`)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != `"1"` {
		t.Fatalf("PUT layer: %d %s", resp.StatusCode, jsonText(v))
	}
	_, v = f.call("GET", "/v1/cors/config", "")
	sources := jsonText(v["sources"])
	if !strings.Contains(sources, `"allow_origins":"runtime"`) || !strings.Contains(sources, `"allow_methods":"file"`) {
		t.Errorf("sources: %s", sources)
	}

	// Every scope the gateway serves, with where its block comes from.
	resp, v = f.call("GET", "/v1/cors/scopes", "")
	if got, want := jsonText(v["scopes"]), `[{"block":"file+runtime","runtime_keys":1,"scope":"service"},{"block":"","method":"GET","path":"/users/{id}","runtime_keys":0,"scope":"GET /users/{id}"},{"block":"runtime","method":"PUT","path":"/users/{id}","runtime_keys":1,"scope":"PUT /users/{id}"}]`; resp.StatusCode != 200 || resp.Header.Get("ETag") != `"1"` || got != want {
		t.Errorf("GET scopes: %d %s\nwant %s", resp.StatusCode, got, want)
	}

	// An endpoint the gateway does not serve.
	resp, v = f.call("PUT", "/v1/cors/scopes/DELETE/users/{id}", `{"allow_origins": ["https://a.example.com"]}`, "If-Match", `"1"`)
	if resp.StatusCode != 400 || !strings.Contains(jsonText(v), "DELETE /users/{id}") {
		t.Errorf("unknown endpoint: %d %s", resp.StatusCode, jsonText(v))
	}
	// One scope.
	resp, v = f.call("PUT", "/v1/cors/scopes/service", `{"allow_origins": ["https://app.example.com"], "max_age": "1h"}`, "If-Match", `"1"`)
	if resp.StatusCode != 200 || f.allowed(app) != app {
		t.Fatalf("PUT scope: %d %s", resp.StatusCode, jsonText(v))
	}

	// A dry run gives the errors check gives, and changes nothing.
	resp, v = f.call("POST", "/v1/cors/validate", `{"service": {"allow_origins": ["*"]}}`)
	if resp.StatusCode != 200 || v["valid"] != false || !strings.Contains(jsonText(v["errors"]), `service.allow_origins[0]`) {
		t.Errorf("validate: %d %s", resp.StatusCode, jsonText(v))
	}
	if f.state.Status().Revision != 2 {
		t.Errorf("validate changed the revision to %d", f.state.Status().Revision)
	}

	// History, rollback, reset.
	_, v = f.call("GET", "/v1/cors/history", "")
	hist, _ := v["history"].([]any)
	if len(hist) != 2 || hist[0].(map[string]any)["revision"] != 2.0 || hist[0].(map[string]any)["user"] != user || hist[0].(map[string]any)["source"] != "api" || hist[0].(map[string]any)["diff"] == nil {
		t.Errorf("history: %s", jsonText(v))
	}
	if resp, v = f.call("POST", "/v1/cors/rollback", `{"revision": 1}`); resp.StatusCode != 200 || f.allowed(other) != other || f.allowed(app) != "" {
		t.Errorf("rollback: %d %s", resp.StatusCode, jsonText(v))
	}
	if resp, v = f.call("POST", "/v1/cors/reset", ""); resp.StatusCode != 200 || f.allowed(app) != app || f.allowed(other) != "" {
		t.Errorf("reset: %d %s", resp.StatusCode, jsonText(v))
	}
	_, v = f.call("GET", "/v1/cors/history?limit=2", "")
	hist, _ = v["history"].([]any)
	if len(hist) != 2 || hist[0].(map[string]any)["source"] != "reset" || hist[1].(map[string]any)["source"] != "rollback" || hist[1].(map[string]any)["rollback_of"] != 1.0 {
		t.Errorf("history after rollback and reset: %s", jsonText(v))
	}
}

// The API's problems carry the correction each message suggests, as a
// "fix" a client applies at the problem's path, and stand on their own:
// an unknown key's message lists the known keys, in the problem and in
// the reason, since a client may read one problem only.
func TestProblemsCarryFixes(t *testing.T) {
	f := newFixture(t, spa(), "")
	tests := []struct {
		name, method, path, body string
		at, fix, msg             string // the first problem; fix as JSON, "" for none
	}{
		{"origin with a path", "POST", "/v1/cors/validate", `{"service": {"allow_origins": ["https://app.example.com/login"]}}`,
			"service.allow_origins[0]", `{"op":"replace","value":"https://app.example.com"}`, `did you mean "https://app.example.com"?`},
		{"max_age in seconds", "POST", "/v1/cors/validate", `{"service": {"max_age": 3600}}`,
			"service.max_age", `{"op":"replace","value":"1h"}`, `did you mean "1h"?`},
		{"misspelt key", "POST", "/v1/cors/validate", `{"service": {"max_agee": "1h"}}`,
			"service.max_agee", `{"op":"rename","key":"max_age"}`, `did you mean "max_age"? Known keys: allow_any_origin_with_credentials_unsafe, `},
		{"misspelt key the file has", "POST", "/v1/cors/validate", `{"service": {"allow_origin": ["https://app.example.com"]}}`,
			"service.allow_origin", `{"op":"remove"}`, `unknown key "allow_origin", a misspelt "allow_origins", which is set here too; remove one of them. Known keys: `},
		{"unknown key", "POST", "/v1/cors/validate", `{"service": {"@note": "x"}}`,
			`service["@note"]`, ``, `unknown key "@note". Known keys: allow_any_origin_with_credentials_unsafe, `},
		{"subdomains with credentials", "POST", "/v1/cors/validate", `{"service": {"allow_origins": ["https://*.example.com"]}}`,
			"service.allow_origins[0]", ``, `such as "^https://(app|admin)\\.example\\.com$"`},
		{"a refused write", "PUT", "/v1/cors/scopes/service", `{"allow_methods": ["get"]}`,
			"service.allow_methods[0]", `{"op":"replace","value":"GET"}`, `did you mean "GET"?`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, v := f.call(tc.method, tc.path, tc.body, "If-Match", `"0"`)
			errs, _ := v["errors"].([]any)
			if resp.StatusCode/100 == 5 || len(errs) == 0 {
				t.Fatalf("%d %s, want problems", resp.StatusCode, jsonText(v))
			}
			first := errs[0].(map[string]any)
			if first["path"] != tc.at || !strings.Contains(fmt.Sprint(first["message"]), tc.msg) {
				t.Errorf("first problem %s, want it at %s with %q", jsonText(first), tc.at, tc.msg)
			}
			got, want := "", ""
			if first["fix"] != nil {
				got = jsonText(first["fix"])
			}
			if tc.fix != "" {
				var w any
				if err := json.Unmarshal([]byte(tc.fix), &w); err != nil {
					t.Fatal(err)
				}
				want = jsonText(w)
			}
			if got != want {
				t.Errorf("fix %s, want %s", got, want)
			}
			if reason := fmt.Sprint(v["reason"]); tc.method == "PUT" && !strings.Contains(reason, tc.msg) {
				t.Errorf("reason %q, want it to hold %q", reason, tc.msg)
			}
		})
	}
	if f.state.Status().Revision != 0 {
		t.Errorf("refused writes changed the revision to %d", f.state.Status().Revision)
	}
}

// Run-time changes survive a restart: a new server on the same store
// answers and serves the same.
func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, spa(), dir)
	if resp, _ := f.call("PUT", admin.CloudantPath, `{"origins": ["https://other.example.com"]}`); resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	_, want := f.call("GET", "/v1/cors/config", "")
	f.admin.Close()
	f.gateway.Close()
	if err := f.st.Close(); err != nil { // a restart lets go of the database
		t.Fatal(err)
	}

	g := newFixture(t, spa(), dir)
	_, got := g.call("GET", "/v1/cors/config", "")
	if jsonText(got) != jsonText(want) || g.allowed(other) != other {
		t.Errorf("after a restart:\n%s\nwant\n%s", jsonText(got), jsonText(want))
	}
}

// 100 writes with the same If-Match: exactly one wins.
func TestConcurrentWrites(t *testing.T) {
	f := newFixture(t, spa(), "")
	var wg sync.WaitGroup
	codes := make(chan int, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			body := `{"service": {"max_age": "` + strings.Repeat("1", 1+i%3) + `s"}}`
			req, _ := http.NewRequest("PUT", f.admin.URL+"/v1/cors/layer", strings.NewReader(body))
			req.SetBasicAuth(user, password)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("If-Match", `"0"`)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}(i)
	}
	wg.Wait()
	close(codes)
	n := map[int]int{}
	for c := range codes {
		n[c]++
	}
	if n[200] != 1 || n[412] != 99 || f.state.Status().Revision != 1 {
		t.Errorf("answers %v, revision %d; want one 200 and 99 412 at revision 1", n, f.state.Status().Revision)
	}
}

// A store whose layer no longer validates against the file (an endpoint
// it names is gone) leaves the gateway on the file alone, with the reason
// in the status; writes still work and replace the layer.
func TestStoredLayerThatNoLongerValidates(t *testing.T) {
	dir := t.TempDir()
	two := spa()
	two.Endpoints = append(two.Endpoints, plugintest.EP("GET", "/gone", nil))
	f := newFixture(t, two, dir)
	if resp, v := f.call("PUT", "/v1/cors/scopes/GET/gone", `{"allow_origins": ["https://other.example.com"]}`, "If-Match", `"0"`); resp.StatusCode != 200 {
		t.Fatalf("PUT: %d %s", resp.StatusCode, jsonText(v))
	}
	f.admin.Close()
	f.gateway.Close()
	f.st.Close()

	g := newFixture(t, spa(), dir) // the file no longer has GET /gone
	st := g.state.Status()
	if !strings.Contains(st.Store.Error, "GET /gone") || g.allowed(app) != app {
		t.Errorf("status %+v; the file alone must apply", st.Store)
	}
	if resp, v := g.call("POST", "/v1/cors/reset", ""); resp.StatusCode != 200 {
		t.Errorf("reset: %d %s", resp.StatusCode, jsonText(v))
	}
}

// A store that cannot be opened: the file alone applies, and writes say
// why they cannot be kept.
func TestNoStore(t *testing.T) {
	cfg := spa().Config(t)
	doc, routes, _ := plugin.Read(cfg)
	ctrl, _ := core.NewController(routes, doc)
	creds, _ := auth.Load(auth.Sources{Getenv: func(k string) string {
		return map[string]string{auth.EnvUser: user, auth.EnvPassword: password}[k]
	}})
	f := &fixture{t: t, ctrl: ctrl}
	f.serve(doc, nil, errTest("locked by another process"), testConfig(creds, "/x"), nil)
	f.admin = httptest.NewServer(f.srv.Handler())
	defer f.admin.Close()
	if st := f.state.Status(); st.Store.OK || !strings.Contains(st.Store.Error, "locked by another process") {
		t.Errorf("status %+v", st.Store)
	}
	resp, v := f.call("PUT", admin.CloudantPath, `{"origins": ["https://other.example.com"]}`)
	if resp.StatusCode != 503 || !strings.Contains(fmt.Sprint(v), "locked by another process") {
		t.Errorf("PUT without a store: %d %s", resp.StatusCode, jsonText(v))
	}
	if resp, _ := f.call("GET", admin.CloudantPath, ""); resp.StatusCode != 200 {
		t.Errorf("GET without a store: %d", resp.StatusCode)
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }

// The status reports how long applies took.
func TestStatusApplyLatency(t *testing.T) {
	f := newFixture(t, spa(), "")
	for i := 0; i < 3; i++ {
		body := `{"origins": ["https://o` + strconv.Itoa(i) + `.example.com"]}`
		if resp, _ := f.call("PUT", admin.CloudantPath, body); resp.StatusCode != 200 {
			t.Fatal(resp.Status)
		}
	}
	if l := f.state.Status().ApplyLatency; l.Samples != 3 || l.P50ms <= 0 || l.P99ms < l.P50ms {
		t.Errorf("apply latency %+v", l)
	}
}

// A change of the file's CORS settings is a revision of source "file";
// reloading the same settings is not.
func TestReloadFileIsRecorded(t *testing.T) {
	f := newFixture(t, spa(), "")
	changed := spa()
	changed.CORS["allow_origins"] = []any{other}
	doc, _, err := plugin.Read(changed.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.state.ReloadFile(doc, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.state.ReloadFile(doc, nil); err != nil {
		t.Fatal(err)
	}
	_, v := f.call("GET", "/v1/cors/history", "")
	hist, _ := v["history"].([]any)
	if len(hist) != 1 || hist[0].(map[string]any)["source"] != "file" || !strings.Contains(jsonText(hist[0]), "allow_origins") || f.state.Status().Revision != 1 || f.allowed(other) != other {
		t.Errorf("history %s, revision %d", jsonText(v), f.state.Status().Revision)
	}
}

// Every body refuses keys that differ only in case, escapes included,
// naming both; a key in another case than corsgate's is unknown, with the
// right spelling suggested, and the suggestion, applied, is accepted.
func TestBodiesAreCaseSensitive(t *testing.T) {
	f := newFixture(t, spa(), "")
	if resp, v := f.call("PUT", admin.CloudantPath, `{"origins": ["https://other.example.com"]}`); resp.StatusCode != 200 {
		t.Fatalf("PUT: %d %s", resp.StatusCode, jsonText(v))
	}
	tests := []struct {
		name, method, path, body string
		paths                    []string // of the errors
		reason                   string
	}{
		{"rollback twins", "POST", "/v1/cors/rollback", `{"revision": 1, "REVISION": 4}`, []string{"REVISION"}, `"REVISION" and "revision" (at revision) differ only in case`},
		{"escaped twins", "POST", "/v1/cors/rollback", `{"revi\u0073ion": 1, "Revision": 4}`, []string{"Revision"}, "differ only in case"},
		{"layer twins", "PUT", "/v1/cors/layer", `{"Service": {"max_age": "1m"}, "service": {"max_age": "2m"}}`, []string{"service"}, `"service" and "Service" (at Service)`},
		{"nested twins", "PUT", "/v1/cors/layer", `{"service": {"max_age": "1m", "MAX_AGE": "2m"}}`, []string{"service.MAX_AGE"}, "differ only in case"},
		{"wrong case", "POST", "/v1/cors/rollback", `{"REVISION": 1}`, []string{"REVISION"}, `did you mean "revision"?`},
		{"cloudant wrong case", "PUT", admin.CloudantPath, `{"Origins": ["https://a.example.com"]}`, []string{"Origins"}, `did you mean "origins"?`},
		{"cloudant unknown", "PUT", admin.CloudantPath, `{"origin": ["https://a.example.com"]}`, []string{"origin"}, `unknown key "origin"; the keys here are allow_credentials, enable_cors, origins`},
		{"cloudant type", "PUT", admin.CloudantPath, `{"allow_credentials": "yes"}`, []string{"allow_credentials"}, "allow_credentials is a string, not bool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, v := f.call(tt.method, tt.path, tt.body, "If-Match", `"1"`)
			errs, _ := v["errors"].([]any)
			var paths []string
			for _, e := range errs {
				paths = append(paths, e.(map[string]any)["path"].(string))
			}
			if resp.StatusCode != 400 || v["error"] != "bad_request" || !strings.Contains(fmt.Sprint(v["reason"]), tt.reason) || strings.Join(paths, ",") != strings.Join(tt.paths, ",") {
				t.Errorf("%d %s; want 400 with %q and errors at %v", resp.StatusCode, jsonText(v), tt.reason, tt.paths)
			}
		})
	}
	if f.state.Status().Revision != 1 {
		t.Fatalf("a refused body changed the revision to %d", f.state.Status().Revision)
	}
	// The suggestions, applied, are accepted.
	if resp, v := f.call("POST", "/v1/cors/rollback", `{"revision": 1}`); resp.StatusCode != 200 {
		t.Errorf("the suggested rollback body: %d %s", resp.StatusCode, jsonText(v))
	}
	if resp, v := f.call("PUT", admin.CloudantPath, `{"origins": ["https://a.example.com"]}`); resp.StatusCode != 200 {
		t.Errorf("the suggested Cloudant body: %d %s", resp.StatusCode, jsonText(v))
	}
}

// While CORS is off, Cloudant's GET keeps the other keys' values, across
// a restart too; and a layer that turns CORS off is validated like one
// that does not.
func TestCloudantOffKeepsValues(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, spa(), dir)
	if resp, v := f.call("PUT", admin.CloudantPath, `{"origins": ["https://other.example.com"]}`); resp.StatusCode != 200 {
		t.Fatalf("PUT: %d %s", resp.StatusCode, jsonText(v))
	}
	if resp, v := f.call("PUT", admin.CloudantPath, `{"enable_cors": false}`); resp.StatusCode != 200 {
		t.Fatalf("PUT enable_cors false: %d %s", resp.StatusCode, jsonText(v))
	}
	want := `{"allow_credentials":true,"enable_cors":false,"origins":["https://other.example.com"]}`
	if _, v := f.call("GET", admin.CloudantPath, ""); jsonText(v) != want {
		t.Errorf("GET while off: %s, want %s", jsonText(v), want)
	}
	f.admin.Close()
	f.gateway.Close()
	f.st.Close()
	g := newFixture(t, spa(), dir)
	if _, v := g.call("GET", admin.CloudantPath, ""); jsonText(v) != want {
		t.Errorf("GET while off, after a restart: %s, want %s", jsonText(v), want)
	}
	if got := g.allowed(other); got != "" {
		t.Errorf("CORS is off, yet %q", got)
	}
	// cors_off carries keys that must be valid.
	for _, body := range []string{
		`{"cors_off": true, "service": {"allow_origins": ["*"], "allow_credentials": true}}`,
		`{"cors_off": true, "service": {"allow_origin": ["https://a.example.com"]}}`,
	} {
		resp, v := g.call("POST", "/v1/cors/validate", body)
		if resp.StatusCode != 200 || v["valid"] != false {
			t.Errorf("validate %s: %d %s", body, resp.StatusCode, jsonText(v))
		}
		if resp, v := g.call("PUT", "/v1/cors/layer", body, "If-Match", `"2"`); resp.StatusCode != 400 {
			t.Errorf("PUT %s: %d %s", body, resp.StatusCode, jsonText(v))
		}
	}
	if resp, v := g.call("PUT", admin.CloudantPath, `{"enable_cors": true}`); resp.StatusCode != 200 || g.allowed(other) != other {
		t.Errorf("enable_cors true: %d %s", resp.StatusCode, jsonText(v))
	}
}

// Writes change only what they name: Cloudant's PUT writes the keys whose
// values differ from the effective ones, and a scope PUT that drops layer
// keys says so in its warnings.
func TestWritesChangeOnlyWhatTheyName(t *testing.T) {
	f := newFixture(t, spa(), "")
	// allow_credentials is what the file says: not written.
	if resp, v := f.call("PUT", admin.CloudantPath, `{"enable_cors": true, "allow_credentials": true, "origins": ["https://other.example.com"]}`); resp.StatusCode != 200 {
		t.Fatalf("PUT: %d %s", resp.StatusCode, jsonText(v))
	}
	_, v := f.call("GET", "/v1/cors/layer", "")
	if jsonText(v) != `{"service":{"allow_origins":["https://other.example.com"]}}` {
		t.Errorf("layer after a Cloudant PUT: %s", jsonText(v))
	}
	// The same again: no key differs, no revision.
	if resp, _ := f.call("PUT", admin.CloudantPath, `{"enable_cors": true, "allow_credentials": true, "origins": ["https://other.example.com"]}`); resp.StatusCode != 200 || f.state.Status().Revision != 1 {
		t.Errorf("an unchanged PUT made revision %d", f.state.Status().Revision)
	}
	// A scope PUT without allow_origins drops it, and says so.
	resp, v := f.call("PUT", "/v1/cors/scopes/service", `{"max_age": "1h"}`, "If-Match", `"1"`)
	warnings := jsonText(v["warnings"])
	if resp.StatusCode != 200 || !strings.Contains(warnings, `"path":"service.allow_origins"`) || !strings.Contains(warnings, "dropped from the run-time layer") {
		t.Errorf("scope PUT: %d %s", resp.StatusCode, jsonText(v))
	}
	if f.allowed(app) != app {
		t.Error("the file's allow_origins does not apply again")
	}
	resp, v = f.call("PUT", "/v1/cors/scopes/service", `{"max_age": "2h"}`, "If-Match", `"2"`)
	if resp.StatusCode != 200 || strings.Contains(jsonText(v["warnings"]), "dropped") {
		t.Errorf("a scope PUT that drops nothing: %d %s", resp.StatusCode, jsonText(v))
	}
}

// A file edit that the run-time layer masks: the reload warns, naming the
// key, the scope, the layer's revision and author and the command that
// resolves it; the status and GET /v1/cors/diff show it; the command's
// API call, applied as suggested, makes the file's value apply.
func TestMaskedFileEdit(t *testing.T) {
	f := newFixture(t, spa(), "")
	if resp, v := f.call("PUT", admin.CloudantPath, `{"origins": ["https://other.example.com"]}`); resp.StatusCode != 200 {
		t.Fatalf("PUT: %d %s", resp.StatusCode, jsonText(v))
	}
	edited := spa()
	edited.CORS["allow_origins"] = []any{app, "https://third.example.com"}
	doc, _, err := plugin.Read(edited.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.state.ReloadFile(doc, nil); err != nil {
		t.Fatal(err)
	}
	warning := f.logs.all()
	for _, want := range []string{"allow_origins", "scope service", "revision 1, by admin", "corsgate config drop allow_origins --scope service"} {
		if !strings.Contains(warning, want) {
			t.Errorf("the reload's warning lacks %q:\n%s", want, warning)
		}
	}
	if f.allowed("https://third.example.com") != "" {
		t.Fatal("the masked edit applied")
	}
	st := f.state.Status()
	if len(st.File.Masked) != 1 || st.File.Masked[0].Key != "allow_origins" || st.File.Masked[0].SetBy.Revision != 1 {
		t.Errorf("status file.masked: %+v", st.File.Masked)
	}
	_, v := f.call("GET", "/v1/cors/diff", "")
	keys := jsonText(v["keys"])
	if !strings.Contains(keys, `"key":"allow_origins","layer":["https://other.example.com"],"masked":true,"scope":"service","set_by":{"revision":1,"runtime":true,`) ||
		!strings.Contains(keys, `"file":["https://app.example.com","https://third.example.com"]`) || !strings.Contains(keys, `"wins":"file"`) {
		t.Errorf("diff: %s", keys)
	}
	// The suggested command is this call.
	if resp, v := f.call("DELETE", "/v1/cors/keys/allow_origins?scope=service", ""); resp.StatusCode != 428 {
		t.Errorf("DELETE without If-Match: %d %s", resp.StatusCode, jsonText(v))
	}
	rev := strconv.FormatUint(f.state.Status().Revision, 10)
	if resp, v := f.call("DELETE", "/v1/cors/keys/allow_origins?scope=service", "", "If-Match", `"`+rev+`"`); resp.StatusCode != 200 {
		t.Fatalf("DELETE: %d %s", resp.StatusCode, jsonText(v))
	}
	if f.allowed("https://third.example.com") != "https://third.example.com" || len(f.state.Status().File.Masked) != 0 {
		t.Errorf("after the drop: masked %+v", f.state.Status().File.Masked)
	}
	rev = strconv.FormatUint(f.state.Status().Revision, 10)
	if resp, v := f.call("DELETE", "/v1/cors/keys/allow_origins?scope=service", "", "If-Match", `"`+rev+`"`); resp.StatusCode != 404 {
		t.Errorf("a second DELETE: %d %s", resp.StatusCode, jsonText(v))
	}
	if resp, v := f.call("DELETE", "/v1/cors/keys/allow_origins?scope=GET%20/nowhere", "", "If-Match", `"`+rev+`"`); resp.StatusCode != 400 {
		t.Errorf("an unknown scope: %d %s", resp.StatusCode, jsonText(v))
	}
}
