package admin_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/corsgate/corsgate/admin"
	"github.com/corsgate/corsgate/admin/auth"
	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/route"
	"github.com/corsgate/corsgate/metrics"
	"github.com/corsgate/corsgate/plugin"
	"github.com/corsgate/corsgate/store"
)

// observed is a fixture whose gateway counts its decisions.
func observed(t *testing.T) (*fixture, *metrics.Decisions) {
	t.Helper()
	doc, routes, err := plugin.Read(spa().Config(t))
	if err != nil {
		t.Fatal(err)
	}
	var d *metrics.Decisions
	ctrl, err := core.NewController(routes, doc, core.WithObserverFor(func(ix *route.Index) core.Observer { d = metrics.New(ix); return d }))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, err := store.OpenEmbedded(dir, store.EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	creds, _ := auth.Load(auth.Sources{Getenv: func(k string) string {
		return map[string]string{auth.EnvUser: user, auth.EnvPassword: password}[k]
	}})
	f := &fixture{t: t, ctrl: ctrl, dir: dir}
	f.serve(doc, st, nil, testConfig(creds, dir), d)
	f.admin = httptest.NewServer(f.srv.Handler())
	t.Cleanup(f.admin.Close)
	f.gateway = httptest.NewServer(ctrl.Handler(okHandler{}))
	t.Cleanup(f.gateway.Close)
	return f, d
}

func (f *fixture) text(path string, auth bool) (int, string) {
	f.t.Helper()
	req, _ := http.NewRequest("GET", f.admin.URL+path, nil)
	if auth {
		req.SetBasicAuth(user, password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestMetricsEndpoint(t *testing.T) {
	f, d := observed(t)
	f.allowed(app)
	f.allowed(other)
	f.allowed(other)
	if resp, v := f.call("PUT", admin.CloudantPath, `{"origins": ["https://third.example.com"]}`); resp.StatusCode != 200 {
		t.Fatalf("PUT: %d %s", resp.StatusCode, jsonText(v))
	}
	if code, _ := f.text("/metrics", false); code != 401 {
		t.Errorf("/metrics without credentials: %d", code)
	}
	code, body := f.text("/metrics", true)
	for _, want := range []string{
		`corsgate_cors_decisions_total{kind="actual",outcome="allowed",reason="allowed",scope="service"} 1`,
		`corsgate_cors_decisions_total{kind="actual",outcome="refused",reason="origin_denied",scope="service"} 2`,
		`corsgate_config_revision 1`,
		`corsgate_config_applies_total{result="ok"} 1`,
		`corsgate_config_applies_total{result="failed"} 0`,
		`corsgate_store_up{type="embedded"} 1`,
		`go_goroutines`,
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics: %d, no %q in\n%s", code, want, body)
		}
	}
	if strings.Contains(body, other) {
		t.Error("/metrics names an origin")
	}
	d.Sample()
	resp, v := f.call("GET", "/v1/cors/decisions", "")
	if resp.StatusCode != 200 || !strings.Contains(jsonText(v["top_refused"]), `"origin":"`+other+`"`) || v["step_seconds"] != 5.0 {
		t.Errorf("decisions: %d %s", resp.StatusCode, jsonText(v))
	}
}

func TestCandidateEndpoint(t *testing.T) {
	f, _ := observed(t)
	if resp, v := f.call("PUT", "/v1/cors/candidate", `{"service": {"max_age": "forever"}}`); resp.StatusCode != 400 || !strings.Contains(jsonText(v), "service.max_age") {
		t.Errorf("an invalid candidate: %d %s", resp.StatusCode, jsonText(v))
	}
	if resp, v := f.call("PUT", "/v1/cors/candidate", `{"service": {"allow_origins": ["`+other+`"]}}`); resp.StatusCode != 200 {
		t.Fatalf("a candidate: %d %s", resp.StatusCode, jsonText(v))
	}
	// Nothing is enforced differently.
	if got := f.allowed(app); got != app {
		t.Errorf("report-only changed the answer to %s: %q", app, got)
	}
	if got := f.allowed(other); got != "" {
		t.Errorf("report-only changed the answer to %s: %q", other, got)
	}
	resp, v := f.call("GET", "/v1/cors/candidate", "")
	if resp.StatusCode != 200 || v["active"] != true || v["evaluated"] != 2.0 || v["differences"] != 2.0 || len(v["samples"].([]any)) != 2 {
		t.Fatalf("report: %d %s", resp.StatusCode, jsonText(v))
	}
	if resp, v := f.call("GET", "/v1/cors/decisions", ""); !strings.Contains(jsonText(v["candidate"]), `"differences":2`) {
		t.Errorf("decisions' candidate: %d %s", resp.StatusCode, jsonText(v))
	}
	if resp, v := f.call("DELETE", "/v1/cors/candidate", ""); resp.StatusCode != 200 || !strings.Contains(jsonText(v["report"]), `"differences":2`) {
		t.Errorf("DELETE: %d %s", resp.StatusCode, jsonText(v))
	}
	if _, v := f.call("GET", "/v1/cors/candidate", ""); v["active"] != false {
		t.Errorf("after DELETE: %s", jsonText(v))
	}
}

// Applying a candidate applies exactly the candidate under evaluation,
// against the revision it was judged against, and ends the evaluation.
func TestCandidateApply(t *testing.T) {
	f, _ := observed(t)
	if resp, v := f.call("POST", "/v1/cors/candidate/apply", ""); resp.StatusCode != 409 {
		t.Errorf("apply without a candidate: %d %s", resp.StatusCode, jsonText(v))
	}
	candidate := `{"service":{"allow_origins":["` + other + `"]}}`
	if resp, v := f.call("PUT", "/v1/cors/candidate", candidate); resp.StatusCode != 200 {
		t.Fatalf("a candidate: %d %s", resp.StatusCode, jsonText(v))
	}
	_, rep := f.call("GET", "/v1/cors/candidate", "")
	if rep["revision"] != nil && rep["revision"] != 0.0 || !strings.Contains(jsonText(rep["diff"]), `"key":"allow_origins"`) {
		t.Fatalf("the report says what the candidate is judged against: %s", jsonText(rep))
	}
	since := rep["since"].(string)
	for _, c := range []struct {
		name, ifMatch, body string
		want                int
	}{
		{"without If-Match", "", "", 428},
		{"another revision", `"5"`, "", 412},
		{"another candidate", `"0"`, `{"since": "2020-01-01T00:00:00Z"}`, 409},
		{"case twins", `"0"`, `{"since": "` + since + `", "Since": "x"}`, 400},
	} {
		if resp, v := f.call("POST", "/v1/cors/candidate/apply", c.body, "If-Match", c.ifMatch); resp.StatusCode != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, resp.StatusCode, jsonText(v), c.want)
		}
	}
	if f.state.Status().Revision != 0 {
		t.Fatal("a refused apply changed the revision")
	}
	resp, v := f.call("POST", "/v1/cors/candidate/apply", `{"since": "`+since+`"}`, "If-Match", `"0"`)
	if resp.StatusCode != 200 || v["revision"] != 1.0 {
		t.Fatalf("apply: %d %s", resp.StatusCode, jsonText(v))
	}
	if _, layer := f.call("GET", "/v1/cors/layer", ""); jsonText(layer) != candidate || f.allowed(other) != other {
		t.Errorf("the layer after the apply: %s", jsonText(layer))
	}
	if _, v := f.call("GET", "/v1/cors/candidate", ""); v["active"] != false {
		t.Errorf("the evaluation goes on after the apply: %s", jsonText(v))
	}
	if _, v := f.call("GET", "/v1/cors/history?limit=1", ""); !strings.Contains(jsonText(v), `"source":"candidate"`) {
		t.Errorf("history: %s", jsonText(v))
	}
	// A candidate judged against a revision that is no longer current.
	f.call("PUT", "/v1/cors/candidate", `{"service":{"allow_origins":["`+app+`"]}}`)
	f.call("PUT", admin.CloudantPath, `{"origins": ["https://third.example.com"]}`)
	if resp, v := f.call("POST", "/v1/cors/candidate/apply", "", "If-Match", `"1"`); resp.StatusCode != 412 {
		t.Errorf("a stale candidate: %d %s", resp.StatusCode, jsonText(v))
	}
}

func TestDashboardBehindTheGuard(t *testing.T) {
	f, _ := observed(t)
	if code, _ := f.text("/dashboard/", false); code != 401 {
		t.Errorf("the dashboard without credentials: %d", code)
	}
	if code, body := f.text("/dashboard/", true); code != 200 || !strings.Contains(body, "app.js") {
		t.Errorf("the dashboard: %d %.200s", code, body)
	}
}

// Every route added for observing and for the fleet answers 401 without
// credentials and 403 to a request from another origin, with credentials.
func TestNewRoutesBehindTheGuard(t *testing.T) {
	f, _ := observed(t)
	for _, r := range []struct{ method, path string }{
		{"GET", "/metrics"}, {"GET", "/dashboard/"}, {"GET", "/dashboard/app.js"},
		{"GET", "/v1/cors/decisions"}, {"GET", "/v1/cors/candidate"}, {"PUT", "/v1/cors/candidate"},
		{"DELETE", "/v1/cors/candidate"}, {"GET", "/v1/cors/fleet"},
	} {
		req, _ := http.NewRequest(r.method, f.admin.URL+r.path, strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s %s without credentials: %d", r.method, r.path, resp.StatusCode)
		}
		req, _ = http.NewRequest(r.method, f.admin.URL+r.path, strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "https://evil.example")
		req.SetBasicAuth(user, password)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s %s from another origin: %d %v", r.method, r.path, resp.StatusCode, resp.Header)
		}
	}
	if _, v := f.call("GET", "/v1/cors/candidate", ""); v["active"] != false {
		t.Errorf("a refused PUT started report-only mode: %s", jsonText(v))
	}
}
