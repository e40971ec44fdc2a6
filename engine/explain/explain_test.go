package explain_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/explain"
	"github.com/corsgate/corsgate/plugin/plugintest"
)

var svc = plugintest.Block{"allow_origins": []any{"https://app.example.com"}, "allow_methods": []any{"GET", "PUT"}}

func gateway(router plugintest.Block) plugintest.Gateway {
	return plugintest.Gateway{CORS: svc, Router: router, Endpoints: []plugintest.Endpoint{
		plugintest.EP("GET", "/public", plugintest.Block{"disable": true}),
		plugintest.EP("PUT", "/strict/{id}", plugintest.Block{"terminate_unmatched_request": true, "unmatched_status": 401}),
		plugintest.EP("GET", "/users/{id}", nil),
		plugintest.EP("PROPFIND", "/users/{id}", nil),
	}}
}

func mustExplain(t *testing.T, s *core.Snapshot, in explain.Request) explain.Explanation {
	t.Helper()
	ex, err := explain.Explain(s, in)
	if err != nil {
		t.Fatalf("Explain(%+v): %v", in, err)
	}
	return ex
}

// Explain's verdicts for each kind of scope and refusal.
func TestExplain(t *testing.T) {
	s := gateway(nil).Snapshot(t)
	tests := []struct {
		name      string
		in        explain.Request
		source    string
		preflight string
		actual    string
		reason    string // substring of the verdict's reason
		status    int    // of the preflight answer, 0 when none
	}{
		{"exempt endpoint", explain.Request{Origin: "https://app.example.com", Path: "/public"}, "exempt", "not answered by CORS", "refused", "adds no CORS headers to GET /public (disable: true)", 0},
		{"terminated", explain.Request{Origin: "https://evil.example", Method: "PUT", Path: "/strict/1"}, "endpoint", "refused", "refused", `origin "https://evil.example" is not in allow_origins of the service-level policy, which PUT /strict/{id} inherits`, 401},
		{"inherited and allowed", explain.Request{Origin: "https://app.example.com", Method: "GET", Path: "/users/1", Headers: []string{"Accept"}}, "service", "not needed", "allowed", "lets the page read", 0},
		{"method not served on the path", explain.Request{Origin: "https://app.example.com", Method: "DELETE", Path: "/users/1"}, "service", "refused", "refused", `method "DELETE" is not in allow_methods ["GET", "PUT"]`, 204},
		{"credentials not allowed", explain.Request{Origin: "https://app.example.com", Path: "/users/1", Credentials: true}, "service", "not needed", "refused", "allow_credentials is false", 0},
		{"no origin", explain.Request{Path: "/users/1"}, "service", "not needed", "allowed", "not a cross-origin request", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := mustExplain(t, s, tt.in)
			if ex.Policy.Source != tt.source || ex.Verdict.Preflight != tt.preflight || ex.Verdict.Actual != tt.actual || !strings.Contains(ex.Verdict.Reason, tt.reason) {
				t.Errorf("got source %q, verdict %+v", ex.Policy.Source, ex.Verdict)
			}
			got := 0
			if ex.PreflightResponse != nil {
				got = ex.PreflightResponse.Status
			}
			if got != tt.status {
				t.Errorf("preflight status %d, want %d", got, tt.status)
			}
		})
	}
	// The methods served on a path come from the routes, whatever they
	// are (PROPFIND included): no list of methods is hard-coded.
	if ex := mustExplain(t, s, explain.Request{Origin: "https://app.example.com", Method: "DELETE", Path: "/users/1"}); !strings.Contains(ex.Endpoint.Note, "served for GET, PROPFIND but not for DELETE") {
		t.Errorf("note %q", ex.Endpoint.Note)
	}
	if ex := mustExplain(t, s, explain.Request{Origin: "https://app.example.com", Method: "PUT", Path: "/users/1"}); ex.Verdict.Actual != "allowed" || !strings.Contains(ex.Verdict.Reason, "the gateway answers 405 Method Not Allowed") {
		t.Errorf("PUT on a GET-only path: %+v", ex.Verdict)
	}
	if ex := mustExplain(t, s, explain.Request{Origin: "https://app.example.com", Path: "/nowhere"}); !strings.Contains(ex.Verdict.Reason, "the gateway answers 404 Not Found") {
		t.Errorf("unknown path: %+v", ex.Verdict)
	}
	if ex := mustExplain(t, s, explain.Request{Origin: "https://app.example.com", Path: "/public"}); !strings.Contains(ex.Verdict.Reason, "the router answers it 405 or 404 (router.auto_options is off)") {
		t.Errorf("exempt endpoint without auto_options: %q", ex.Verdict.Reason)
	}
	withAuto := gateway(plugintest.Block{"auto_options": true}).Snapshot(t)
	if ex := mustExplain(t, withAuto, explain.Request{Origin: "https://app.example.com", Path: "/public"}); !strings.Contains(ex.Verdict.Reason, "router.auto_options answers it 200 with Allow") {
		t.Errorf("exempt endpoint with auto_options: %q", ex.Verdict.Reason)
	}
	none := plugintest.Gateway{Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/a", nil)}}.Snapshot(t)
	if ex := mustExplain(t, none, explain.Request{Origin: "https://x.example", Path: "/a"}); ex.Policy.Source != "none" || ex.Verdict.Actual != "refused" {
		t.Errorf("no CORS at all: %+v %+v", ex.Policy, ex.Verdict)
	}
}

// Explain refuses what no browser sends, naming the field, instead of
// advising to add it to the configuration.
func TestExplainRefusesMalformedInput(t *testing.T) {
	s := gateway(nil).Snapshot(t)
	tests := []struct {
		in    explain.Request
		field string
		fix   string
	}{
		{explain.Request{Origin: "localhost:5173"}, "origin", `did you mean "http://localhost:5173"?`},
		{explain.Request{Origin: "https://app.example.com/"}, "origin", `did you mean "https://app.example.com"?`},
		{explain.Request{Origin: "https://*.example.com"}, "origin", "a request comes from one origin"},
		{explain.Request{Origin: "https://app.example.com", Method: "get"}, "method", `did you mean "GET"?`},
		{explain.Request{Origin: "https://app.example.com", Headers: []string{"Content-Type: application/json"}}, "header", `give the name only: did you mean "Content-Type"?`},
		{explain.Request{Origin: "https://app.example.com", Headers: []string{"*"}}, "header", "not a header name"},
		{explain.Request{Origin: "https://app.example.com", Path: "users/1"}, "path", "must start with /"},
	}
	for _, tt := range tests {
		_, err := explain.Explain(s, tt.in)
		var ie *explain.InputError
		if !errors.As(err, &ie) || ie.Field != tt.field || !strings.Contains(ie.Message, tt.fix) {
			t.Errorf("Explain(%+v) = %v; want an InputError on %s containing %q", tt.in, err, tt.field, tt.fix)
		}
	}
	// Every problem is reported, not only the first.
	_, err := explain.Explain(s, explain.Request{Origin: "localhost:5173", Method: "get", Headers: []string{"a b"}})
	if n := strings.Count(err.Error(), "\n") + 1; n != 3 {
		t.Errorf("3 malformed fields gave %d problems: %v", n, err)
	}
}

// A refusal reads the same in X-Cors-Reason and in the explanation.
func TestExplainUsesTheGatewaysWords(t *testing.T) {
	g := plugintest.Gateway{CORS: plugintest.Block{"allow_origins": []any{"https://app.example.com"}, "allow_headers": []any{"Content-Type"}, "allow_methods": []any{"GET", "PUT"}, "debug": true},
		Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", nil)}}
	c := g.Controller(t)
	h := c.Handler(http.NotFoundHandler())
	tests := []struct {
		origin, method string
		headers        []string
	}{
		{"https://evil.example", "PUT", nil},
		{"https://app.example.com", "DELETE", nil},
		{"https://app.example.com", "PUT", []string{"x-secret"}},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("OPTIONS", "/users/1", nil)
		r.Header = plugintest.Preflight(tt.origin, tt.method, tt.headers...)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		gateway := w.Header().Get(core.ReasonHeader)
		ex := mustExplain(t, c.Snapshot(), explain.Request{Origin: tt.origin, Method: tt.method, Path: "/users/1", Headers: tt.headers})
		if want := "preflight refused: " + strings.TrimPrefix(ex.Verdict.Reason, "the browser stops at the preflight: "); gateway != want {
			t.Errorf("X-Cors-Reason %q\nexplain       %q", gateway, want)
		}
		if got := ex.PreflightResponse.Headers[core.ReasonHeader]; got != gateway {
			t.Errorf("the explained answer's X-Cors-Reason %q, the gateway's %q", got, gateway)
		}
	}
}

// With no endpoint policy of its own anywhere the handler skips route
// matching; the explanation still names the endpoint that serves the path.
func TestExplainNamesTheEndpointWithoutEndpointPolicies(t *testing.T) {
	s := plugintest.Gateway{CORS: svc, Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", nil)}}.Snapshot(t)
	ex := mustExplain(t, s, explain.Request{Origin: "https://app.example.com", Path: "/users/1"})
	if !ex.Endpoint.Matched || ex.Endpoint.Endpoint != "GET /users/{id}" || ex.Policy.Source != "service" || ex.Verdict.Actual != "allowed" || strings.Contains(ex.Verdict.Reason, "405") {
		t.Errorf("endpoint %+v, policy source %q, verdict %+v", ex.Endpoint, ex.Policy.Source, ex.Verdict)
	}
	if ex.Request.Headers == nil {
		t.Error(`request.headers is null in the JSON; want []`)
	}
}

// failGateway allows https://app.example.com to GET and PUT with
// Content-Type, without credentials; /public is exempt.
func failGateway() plugintest.Gateway {
	return plugintest.Gateway{
		CORS: plugintest.Block{"allow_origins": []any{"https://app.example.com"}, "allow_methods": []any{"GET", "PUT"}, "allow_headers": []any{"Content-Type"}, "debug": true},
		Endpoints: []plugintest.Endpoint{
			plugintest.EP("GET", "/users/{id}", nil), plugintest.EP("PUT", "/users/{id}", nil), plugintest.EP("DELETE", "/users/{id}", nil),
			plugintest.EP("GET", "/public", plugintest.Block{"disable": true}),
		},
	}
}

// The verdict lists every failing check, not only the first, with the
// first one marked; nothing fails exactly when the browser allows.
func TestVerdictListsEveryFailure(t *testing.T) {
	s := failGateway().Snapshot(t)
	const evil, app = "https://evil.example", "https://app.example.com"
	tests := []struct {
		name   string
		in     explain.Request
		actual string
		want   []string // check value, in order; the first is First
	}{
		{"origin, method and two headers", explain.Request{Origin: evil, Method: "DELETE", Path: "/users/1", Headers: []string{"X-Trace-Id", "Content-Type", "X-Api-Key"}},
			"refused", []string{`origin "https://evil.example"`, `method "DELETE"`, `header "x-trace-id"`, `header "x-api-key"`}},
		{"origin and credentials", explain.Request{Origin: evil, Path: "/users/1", Credentials: true},
			"refused", []string{`origin "https://evil.example"`, "credentials"}},
		{"method and header behind an allowed origin", explain.Request{Origin: app, Method: "DELETE", Path: "/users/1", Headers: []string{"X-Api-Key"}},
			"refused", []string{`method "DELETE"`, `header "x-api-key"`}},
		{"credentials alone", explain.Request{Origin: app, Path: "/users/1", Credentials: true},
			"refused", []string{"credentials"}},
		{"an exempt endpoint", explain.Request{Origin: app, Path: "/public"},
			"refused", []string{"cors"}},
		// A safelisted header needs no preflight, and so no allow_headers.
		{"safelisted header without a preflight", explain.Request{Origin: app, Path: "/users/1", Headers: []string{"Accept-Language"}},
			"allowed", nil},
		{"allowed with a preflight", explain.Request{Origin: app, Method: "PUT", Path: "/users/1", Headers: []string{"Content-Type"}},
			"allowed", nil},
		// Without Origin, CORS does not apply: nothing can fail.
		{"same origin, method and credentials not allowed", explain.Request{Method: "DELETE", Path: "/users/1", Credentials: true},
			"allowed", nil},
		{"same origin on an exempt endpoint", explain.Request{Path: "/public"},
			"allowed", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := mustExplain(t, s, tt.in)
			v := ex.Verdict
			if v.Actual != tt.actual {
				t.Errorf("actual %q, want %q (%s)", v.Actual, tt.actual, v.Reason)
			}
			if v.Failures == nil {
				t.Fatal("failures is nil: the JSON would say null, not []")
			}
			var got []string
			for i, f := range v.Failures {
				label := f.Check
				if f.Value != "" {
					label += ` "` + f.Value + `"`
				}
				got = append(got, label)
				if f.First != (i == 0) {
					t.Errorf("failure %d (%s): first = %v", i, label, f.First)
				}
				if f.Reason == "" || f.Fix == "" {
					t.Errorf("failure %d (%s): reason %q, fix %q; want both", i, label, f.Reason, f.Fix)
				}
			}
			if strings.Join(got, "; ") != strings.Join(tt.want, "; ") {
				t.Errorf("failures\n %q\nwant\n %q", got, tt.want)
			}
			// The verdict's reason names the first failure, fix included.
			if len(v.Failures) > 0 {
				f := v.Failures[0]
				if !strings.HasSuffix(v.Reason, f.Reason+"; "+f.Fix) && !strings.Contains(v.Reason, f.Reason+"; a preflight goes to the router") {
					t.Errorf("reason %q does not name the first failure %q", v.Reason, f.Reason)
				}
			}
		})
	}
}

// The failure marked first is the one the gateway's X-Cors-Reason names,
// in the gateway's words, when several checks fail.
func TestFirstFailureIsTheGatewaysReason(t *testing.T) {
	c := failGateway().Controller(t)
	h := c.Handler(http.NotFoundHandler())
	for _, tt := range []struct {
		origin, method string
		headers        []string
	}{
		{"https://evil.example", "DELETE", []string{"x-api-key"}},
		{"https://app.example.com", "DELETE", []string{"x-api-key"}},
		{"https://app.example.com", "PUT", []string{"x-trace-id", "x-api-key"}},
	} {
		r := httptest.NewRequest("OPTIONS", "/users/1", nil)
		r.Header = plugintest.Preflight(tt.origin, tt.method, tt.headers...)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		ex := mustExplain(t, c.Snapshot(), explain.Request{Origin: tt.origin, Method: tt.method, Path: "/users/1", Headers: tt.headers})
		if len(ex.Verdict.Failures) < 2 {
			t.Fatalf("%+v: %d failures, want several", tt, len(ex.Verdict.Failures))
		}
		f := ex.Verdict.Failures[0]
		if got, want := w.Header().Get(core.ReasonHeader), "preflight refused: "+f.Reason+"; "+f.Fix; got != want {
			t.Errorf("X-Cors-Reason %q\nfirst failure %q", got, want)
		}
	}
}

// A path that is not one is refused with the path it holds suggested.
func TestPathProblemSuggestsThePath(t *testing.T) {
	s := failGateway().Snapshot(t)
	tests := []struct{ path, want string }{
		{"https://api.example.com/users/7?x=1", `a URL, not a path: the gateway's routes match the path alone; did you mean "/users/7"?`},
		{"http://api.example.com", `a URL, not a path: the gateway's routes match the path alone; did you mean "/"?`},
		{"api.example.com/users/7", `the path must start with /, and "api.example.com" looks like a host: did you mean "/users/7"?`},
		{"localhost:8080/users/7?x=1", `the path must start with /, and "localhost:8080" looks like a host: did you mean "/users/7"?`},
		{"users/7", `the path must start with /: did you mean "/users/7"?`},
		{"orders?x=1", `the path must start with /: did you mean "/orders"?`},
	}
	for _, tt := range tests {
		_, err := explain.Explain(s, explain.Request{Origin: "https://app.example.com", Path: tt.path})
		if err == nil || !strings.HasSuffix(err.Error(), tt.want) {
			t.Errorf("path %q: %v\nwant the message %q", tt.path, err, tt.want)
		}
	}
	// A password in a URL is not repeated.
	_, err := explain.Explain(s, explain.Request{Path: "ws://user:secret@api.example.com/socket"})
	var ie *explain.InputError
	if !errors.As(err, &ie) || strings.Contains(err.Error(), "secret") || ie.Value != "ws://user:xxxxx@api.example.com/socket" {
		t.Errorf("a URL with a password: %v", err)
	}
}
