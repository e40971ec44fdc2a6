package plugintest

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// Origins used by the scope cases.
const (
	AppOrigin    = "https://app.example.com"
	AdminOrigin  = "https://admin.example.com"
	EvilOrigin   = "https://evil.example"
	RandomOrigin = "https://anything.example"
)

// ScopeCase is a gateway and the requests that show how its policy scopes
// behave. RunScopeCases runs the table in process (package plugin's
// tests) and against the corsgate binary (package e2e's), so that both
// hold the gateway to the same answers.
type ScopeCase struct {
	Name    string
	Gateway Gateway
	Steps   []Step
}

// Step is one request and what must come of it.
type Step struct {
	Name         string
	Method, Path string
	Header       http.Header
	// Status is the status of the answer; 0 accepts any 2xx.
	Status int
	// ACAO, when not empty, is the one Access-Control-Allow-Origin value.
	ACAO string
	// NoCORS requires the answer to carry no Access-Control-Allow-* and
	// no Access-Control-Expose-Headers header.
	NoCORS bool
	// Headers must each have exactly this value (lines joined with ", ").
	Headers map[string]string
	// Absent headers must not be set.
	Absent []string
	// Contains must be in the header's value.
	Contains map[string]string
	// Body must be in the body.
	Body string
	// EmptyBody requires an empty body.
	EmptyBody bool
	// Reaches requires the request to reach the backend; Stops requires
	// it not to.
	Reaches, Stops bool
	// BackendSaw and BackendMissing are headers the backend must and must
	// not have received (with Reaches).
	BackendSaw     map[string]string
	BackendMissing []string
	// VaryOrigin requires Origin exactly once in Vary.
	VaryOrigin bool
}

// Client sends one request to a gateway under test.
type Client func(t *testing.T, method, path string, h http.Header) (*http.Response, string)

// RunScopeCases runs every case of ScopeCases: for each, a new Backend,
// then start, which must run the case's gateway with its endpoints
// pointing at the backend and return a Client for it.
func RunScopeCases(t *testing.T, start func(t *testing.T, g Gateway) Client) {
	for _, c := range ScopeCases() {
		t.Run(c.Name, func(t *testing.T) {
			b := NewBackend(t)
			g := c.Gateway
			g.BackendURL = b.URL
			do := start(t, g)
			for _, s := range c.Steps {
				t.Run(s.Name, func(t *testing.T) {
					before := b.Hits()
					h := s.Header.Clone()
					if h == nil {
						h = http.Header{}
					}
					resp, body := do(t, s.Method, s.Path, h)
					s.check(t, resp, body, b, before)
				})
			}
		})
	}
}

func (s Step) check(t *testing.T, resp *http.Response, body string, b *Backend, before int64) {
	t.Helper()
	h := resp.Header
	switch {
	case s.Status != 0 && resp.StatusCode != s.Status:
		t.Errorf("status %d, want %d; body %q", resp.StatusCode, s.Status, body)
	case s.Status == 0 && resp.StatusCode/100 != 2:
		t.Errorf("status %d, want 2xx; body %q", resp.StatusCode, body)
	}
	if s.ACAO != "" {
		if got := h.Values("Access-Control-Allow-Origin"); !slices.Equal(got, []string{s.ACAO}) {
			t.Errorf("Access-Control-Allow-Origin %q, want exactly [%q]", got, s.ACAO)
		}
	}
	if s.NoCORS {
		for k := range h {
			if strings.HasPrefix(k, "Access-Control-Allow-") || k == "Access-Control-Expose-Headers" {
				t.Errorf("%s: %q on an answer that must carry no CORS headers", k, h.Values(k))
			}
		}
	}
	for k, v := range s.Headers {
		if got := strings.Join(h.Values(k), ", "); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	for _, k := range s.Absent {
		if got := h.Values(k); len(got) != 0 {
			t.Errorf("%s = %q, want it absent", k, got)
		}
	}
	for k, v := range s.Contains {
		if got := strings.Join(h.Values(k), ", "); !strings.Contains(got, v) {
			t.Errorf("%s = %q, want it to contain %q", k, got, v)
		}
	}
	if s.Body != "" && !strings.Contains(body, s.Body) {
		t.Errorf("body %q, want it to contain %q", body, s.Body)
	}
	if s.EmptyBody && body != "" {
		t.Errorf("body %q, want it empty", body)
	}
	hits := b.Hits() - before
	if s.Reaches && hits != 1 {
		t.Errorf("the backend got %d requests, want 1", hits)
	}
	if s.Stops && hits != 0 {
		t.Errorf("the backend got %d requests, want none", hits)
	}
	seen := b.LastHeaders()
	for k, v := range s.BackendSaw {
		if got := seen.Get(k); got != v {
			t.Errorf("the backend saw %s = %q, want %q", k, got, v)
		}
	}
	for _, k := range s.BackendMissing {
		if got := seen.Values(k); len(got) != 0 {
			t.Errorf("the backend saw %s = %q, want it stripped", k, got)
		}
	}
	if s.VaryOrigin {
		n := 0
		for _, line := range h.Values("Vary") {
			for _, tok := range strings.Split(line, ",") {
				if strings.EqualFold(strings.TrimSpace(tok), "Origin") {
					n++
				}
			}
		}
		if n != 1 {
			t.Errorf("Vary %q, want Origin exactly once", h.Values("Vary"))
		}
	}
}

// preflightStep is a browser preflight.
func preflightStep(name, path, origin, method string, headers ...string) Step {
	return Step{Name: name, Method: http.MethodOptions, Path: path, Header: Preflight(origin, method, headers...), Stops: true}
}

// allowed marks a preflight step as answered 204 for origin.
func (s Step) allowed(origin, method string) Step {
	s.Status, s.ACAO = http.StatusNoContent, origin
	if s.Headers == nil {
		s.Headers = map[string]string{}
	}
	s.Headers["Access-Control-Allow-Methods"] = method
	return s
}

// refused marks a preflight step as answered with status and no CORS.
func (s Step) refused(status int) Step {
	s.Status, s.NoCORS = status, true
	return s
}

// actual is a cross-origin request (no Origin when origin is "").
func actual(name, method, path, origin string, kv ...string) Step {
	h := Header(kv...)
	if origin != "" {
		h.Set("Origin", origin)
	}
	return Step{Name: name, Method: method, Path: path, Header: h}
}

// ScopeCases is the table of policy scope behaviours.
func ScopeCases() []ScopeCase {
	json := func(method, path string, cors Block) Endpoint { return EP(method, path, cors) }
	noop := func(method, path, pattern string, cors Block) Endpoint {
		e := EP(method, path, cors)
		e.NoOp, e.URLPattern = true, pattern
		return e
	}
	strict := func(debug bool) Gateway {
		return Gateway{
			CORS: Block{"allow_origins": []any{AppOrigin}, "allow_methods": []any{"GET", "POST"}},
			Endpoints: []Endpoint{
				json("POST", "/strict", Block{"terminate_unmatched_request": true, "unmatched_status": 401, "debug": debug}),
				json("POST", "/lenient", nil),
			},
		}
	}
	ct := []string{"Content-Type", "application/json"}
	stripped := []string{"Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers", "Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-Dest"}
	browserish := []string{"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "x-custom",
		"Sec-Fetch-Mode", "cors", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Dest", "empty", "X-Custom", "kept"}

	return []ScopeCase{
		{
			Name: "endpoint blocks override the service block key by key",
			Gateway: Gateway{
				CORS: Block{"allow_origins": []any{AppOrigin}, "allow_methods": []any{"GET", "POST"}, "allow_headers": []any{"Content-Type", "X-Api-Key"}, "max_age": "10m"},
				Endpoints: []Endpoint{
					json("GET", "/admin/{id}", Block{"allow_origins": []any{AdminOrigin}, "allow_methods": []any{"GET"}}),
					json("PUT", "/users/{id}", Block{"allow_methods": []any{"GET", "PUT"}}),
					json("GET", "/users/{id}", nil),
				},
			},
			Steps: []Step{
				preflightStep("the endpoint's origins replace the service's", "/admin/7", AppOrigin, "GET").refused(204),
				withHeaders(preflightStep("allow_headers and max_age are inherited", "/admin/7", AdminOrigin, "GET", "X-Api-Key").allowed(AdminOrigin, "GET"),
					map[string]string{"Access-Control-Allow-Headers": "x-api-key", "Access-Control-Max-Age": "600"}),
				preflightStep("an inherited allow_headers refuses other headers", "/admin/7", AdminOrigin, "GET", "X-Evil").refused(204),
				preflightStep("the endpoint's methods replace the service's", "/users/7", AppOrigin, "PUT", "Content-Type").allowed(AppOrigin, "PUT"),
				preflightStep("allow_origins is inherited", "/users/7", AdminOrigin, "PUT").refused(204),
				preflightStep("an endpoint without a block keeps the service policy", "/users/7", AppOrigin, "GET").allowed(AppOrigin, "GET"),
				preflightStep("a method no endpoint serves gets the service policy", "/users/7", AppOrigin, "DELETE").refused(204),
				withHeaders(preflightStep("a path no endpoint serves gets the service policy", "/nowhere", AppOrigin, "GET").allowed(AppOrigin, "GET"),
					map[string]string{"Access-Control-Max-Age": "600"}),
				reaches(actual("actual GET to the endpoint, its origin", "GET", "/admin/7", AdminOrigin), AdminOrigin),
				refusedActual(actual("actual GET to the endpoint, the service's origin", "GET", "/admin/7", AppOrigin)),
				reaches(actual("actual PUT takes the PUT endpoint's policy", "PUT", "/users/7", AppOrigin), AppOrigin),
				refusedActual(actual("actual PUT refuses the admin origin", "PUT", "/users/7", AdminOrigin)),
				reaches(actual("actual GET keeps the service policy", "GET", "/users/7", AppOrigin), AppOrigin),
			},
		},
		{
			Name: "an exempt endpoint passes its backend's CORS through",
			Gateway: Gateway{
				CORS:   Block{"allow_origins": []any{AppOrigin}, "allow_methods": []any{"GET", "POST"}},
				Router: Block{"auto_options": true},
				Endpoints: []Endpoint{
					noop("GET", "/own-cors", "/own-cors", Block{"disable": true}),
					noop("GET", "/governed", "/own-cors", nil),
				},
			},
			Steps: []Step{
				exempt(actual("actual request from the service's origin", "GET", "/own-cors", AppOrigin), AppOrigin),
				exempt(actual("actual request from a refused origin", "GET", "/own-cors", EvilOrigin), EvilOrigin),
				reaches(actual("the same backend behind a governed endpoint gets the gateway's answer", "GET", "/governed", AppOrigin), AppOrigin),
				{Name: "a preflight falls to auto_options", Method: http.MethodOptions, Path: "/own-cors", Header: Preflight(AppOrigin, "GET", "X-Api-Key"),
					Status: 200, NoCORS: true, Headers: map[string]string{"Allow": "GET"}, Stops: true},
				withAbsent(preflightStep("a preflight to the governed endpoint is answered by CORS", "/governed", AppOrigin, "GET").allowed(AppOrigin, "GET"), "Allow"),
			},
		},
		{
			Name:    "terminate_unmatched_request answers refusals itself",
			Gateway: strict(false),
			Steps: []Step{
				withAbsent(preflightStep("refused preflight", "/strict", EvilOrigin, "POST").refused(401), "X-Cors-Reason"),
				preflightStep("allowed preflight", "/strict", AppOrigin, "POST", "Content-Type").allowed(AppOrigin, "POST"),
				{Name: "a refused actual request never reaches the backend", Method: "POST", Path: "/strict", Header: Header(append([]string{"Origin", EvilOrigin}, ct...)...),
					Status: 401, NoCORS: true, EmptyBody: true, Absent: []string{"X-Cors-Reason"}, Stops: true},
				reaches(actual("an allowed actual request reaches the backend", "POST", "/strict", AppOrigin, ct...), AppOrigin),
				{Name: "a request without Origin reaches the backend", Method: "POST", Path: "/strict", Header: Header(ct...), NoCORS: true, Reaches: true},
				refusedActual(actual("another endpoint keeps the service policy and does not terminate", "POST", "/lenient", EvilOrigin, ct...)),
				preflightStep("another endpoint's refused preflight gets 204", "/lenient", EvilOrigin, "POST").refused(204),
			},
		},
		{
			Name:    "terminate_unmatched_request with debug names the reason",
			Gateway: strict(true),
			Steps: []Step{
				{Name: "refused actual request", Method: "POST", Path: "/strict", Header: Header(append([]string{"Origin", EvilOrigin}, ct...)...),
					Status: 401, NoCORS: true, Body: "not in allow_origins", Contains: map[string]string{"X-Cors-Reason": "not in allow_origins"}, Stops: true},
				withContains(preflightStep("refused preflight", "/strict", EvilOrigin, "POST").refused(401), "X-Cors-Reason", "not in allow_origins"),
				withAbsent(reaches(actual("allowed actual request", "POST", "/strict", AppOrigin, ct...), AppOrigin), "X-Cors-Reason"),
			},
		},
		{
			Name: "terminate_unmatched_request applies to its endpoint only",
			Gateway: Gateway{
				CORS:      Block{"allow_origins": []any{AppOrigin}},
				Endpoints: []Endpoint{json("GET", "/strict", Block{"terminate_unmatched_request": true, "unmatched_status": 200}), json("GET", "/lax", nil)},
			},
			Steps: []Step{
				{Name: "strict: an empty 200 from the gateway", Method: "GET", Path: "/strict", Header: Header("Origin", EvilOrigin), Status: 200, EmptyBody: true, NoCORS: true, Stops: true},
				refusedActual(actual("lax: the backend's answer", "GET", "/lax", EvilOrigin)),
			},
		},
		{
			Name: "without terminate_unmatched_request the gateway behaves as KrakenD CE",
			Gateway: Gateway{
				CORS:      Block{"allow_origins": []any{AppOrigin}, "unmatched_status": 401},
				Endpoints: []Endpoint{json("GET", "/users/{id}", nil)},
			},
			Steps: []Step{
				preflightStep("refused preflight: 204 without CORS headers", "/users/7", EvilOrigin, "GET").refused(204),
				withHeaders(refusedActual(actual("refused actual request: served without CORS headers", "GET", "/users/7", EvilOrigin)), map[string]string{"Vary": "Origin"}),
			},
		},
		{
			Name: "allow_origins_regex",
			Gateway: Gateway{
				CORS:      Block{"allow_origins": []any{AppOrigin}, "allow_origins_regex": []any{`^https://pr-[0-9]+\.preview\.example\.com$`}, "allow_methods": []any{"GET", "POST"}},
				Endpoints: []Endpoint{json("GET", "/users/{id}", nil)},
			},
			Steps: regexSteps(map[string]bool{
				"https://pr-12.preview.example.com":          true,
				"https://pr-3456.preview.example.com":        true,
				AppOrigin:                                    true,
				"https://pr-x.preview.example.com":           false,
				"https://pr-12.preview.example.com.evil.net": false,
				"https://evil-pr-1.preview.example.com":      false,
				"https://pr-12.previewXexample.com":          false,
				"http://pr-12.preview.example.com":           false,
			}),
		},
		{
			Name: "allow_any_origin_with_credentials_unsafe reflects well-formed origins only",
			Gateway: Gateway{
				CORS:      Block{"allow_any_origin_with_credentials_unsafe": true, "allow_credentials": true, "allow_methods": []any{"GET", "POST"}},
				Endpoints: []Endpoint{json("GET", "/users/{id}", nil)},
			},
			Steps: []Step{
				withHeaders(reaches(actual("actual from any origin", "GET", "/users/1", RandomOrigin), RandomOrigin), map[string]string{"Access-Control-Allow-Credentials": "true"}),
				withHeaders(reaches(actual("actual from the app origin", "GET", "/users/1", AppOrigin), AppOrigin), map[string]string{"Access-Control-Allow-Credentials": "true"}),
				withHeaders(preflightStep("preflight from any origin", "/users/1", RandomOrigin, "POST", "Content-Type").allowed(RandomOrigin, "POST"), map[string]string{"Access-Control-Allow-Credentials": "true"}),
				refusedActual(actual("never null", "GET", "/users/1", "null")),
				refusedActual(actual("never a malformed origin", "GET", "/users/1", "https://a.example/path")),
			},
		},
		{
			Name: "expose_headers prefixes expose the backend's matching headers",
			Gateway: Gateway{
				CORS:      Block{"allow_origins": []any{AppOrigin}},
				Endpoints: []Endpoint{noop("GET", "/object", "/object", Block{"expose_headers": []any{"X-Request-Id", "X-Object-Meta-*"}})},
			},
			Steps: []Step{
				withHeaders(reaches(actual("allowed origin", "GET", "/object", AppOrigin), AppOrigin),
					map[string]string{"Access-Control-Expose-Headers": "X-Request-Id, X-Object-Meta-Color, X-Object-Meta-Size", "X-Object-Meta-Color": "blue"}),
				refusedActual(actual("refused origin", "GET", "/object", EvilOrigin)),
				withAbsent(preflightStep("preflights carry no Expose-Headers", "/object", AppOrigin, "GET").allowed(AppOrigin, "GET"), "Access-Control-Expose-Headers"),
				{Name: "requests without Origin carry none", Method: "GET", Path: "/object", NoCORS: true, Reaches: true},
			},
		},
		{
			Name: "strip_cors_request_headers keeps CORS request headers from the backend",
			Gateway: Gateway{
				CORS: Block{"allow_origins": []any{AppOrigin}, "allow_credentials": true},
				Endpoints: []Endpoint{
					noop("GET", "/stripped", "/stripped", Block{"strip_cors_request_headers": true}),
					noop("GET", "/forwarded", "/forwarded", nil),
				},
			},
			Steps: []Step{
				func() Step {
					s := reaches(actual("stripped, and the gateway still answers CORS", "GET", "/stripped", AppOrigin, browserish...), AppOrigin)
					s.BackendSaw, s.BackendMissing = map[string]string{"X-Custom": "kept"}, stripped
					s.Headers = map[string]string{"Access-Control-Allow-Credentials": "true"}
					return s
				}(),
				func() Step {
					s := refusedActual(actual("a refused origin is stripped too", "GET", "/stripped", EvilOrigin, "Sec-Fetch-Mode", "cors"))
					s.BackendMissing = []string{"Origin", "Sec-Fetch-Mode"}
					return s
				}(),
				func() Step {
					s := reaches(actual("another endpoint forwards them", "GET", "/forwarded", AppOrigin, browserish...), AppOrigin)
					s.BackendSaw = map[string]string{"Origin": AppOrigin, "Sec-Fetch-Mode": "cors", "Access-Control-Request-Headers": "x-custom"}
					return s
				}(),
			},
		},
		{
			Name: "an endpoint block without a service block covers its endpoint only",
			Gateway: Gateway{
				Endpoints: []Endpoint{json("GET", "/admin", Block{"allow_origins": []any{AdminOrigin}}), json("GET", "/public", nil)},
			},
			Steps: []Step{
				reaches(actual("the endpoint with a block", "GET", "/admin", AdminOrigin), AdminOrigin),
				{Name: "an endpoint without one: no CORS, no Vary", Method: "GET", Path: "/public", Header: Header("Origin", AdminOrigin), NoCORS: true, Absent: []string{"Vary"}, Reaches: true},
				{Name: "an unknown path: 404 without CORS", Method: "GET", Path: "/nowhere", Header: Header("Origin", AdminOrigin), Status: 404, NoCORS: true, Absent: []string{"Vary"}, Stops: true},
				{Name: "a preflight to an endpoint without a block goes to the router", Method: "OPTIONS", Path: "/public", Header: Preflight(AdminOrigin, "GET"), Status: 405, NoCORS: true, Stops: true},
				{Name: "a preflight to an unknown path goes to the router", Method: "OPTIONS", Path: "/nowhere", Header: Preflight(AdminOrigin, "GET"), Status: 404, NoCORS: true, Stops: true},
			},
		},
	}
}

func withHeaders(s Step, h map[string]string) Step {
	if s.Headers == nil {
		s.Headers = map[string]string{}
	}
	for k, v := range h {
		s.Headers[k] = v
	}
	return s
}

func withAbsent(s Step, names ...string) Step {
	s.Absent = append(s.Absent, names...)
	return s
}

func withContains(s Step, name, part string) Step {
	s.Contains = map[string]string{name: part}
	return s
}

// reaches marks an actual request as allowed for origin and served by the
// backend.
func reaches(s Step, origin string) Step {
	s.ACAO, s.Reaches, s.VaryOrigin = origin, true, true
	return s
}

// refusedActual marks an actual request as served by the backend without
// CORS headers.
func refusedActual(s Step) Step {
	s.NoCORS, s.Reaches, s.VaryOrigin = true, true, true
	return s
}

// exempt marks an actual request to /own-cors as answered with the
// backend's own CORS headers, untouched.
func exempt(s Step, origin string) Step {
	s.ACAO, s.Reaches = OtherOrigin, true
	s.Headers = map[string]string{"Vary": "Origin", "X-Backend": "own-cors"}
	s.Absent = []string{"Access-Control-Allow-Credentials", "Access-Control-Allow-Methods", "X-Cors-Reason"}
	s.BackendSaw = map[string]string{"Origin": origin}
	return s
}

// regexSteps sends a preflight and an actual request from each origin.
func regexSteps(origins map[string]bool) []Step {
	keys := make([]string, 0, len(origins))
	for o := range origins {
		keys = append(keys, o)
	}
	slices.Sort(keys)
	var steps []Step
	for _, o := range keys {
		pre := preflightStep("preflight from "+o, "/users/1", o, "GET")
		act := actual("actual from "+o, "GET", "/users/1", o)
		if origins[o] {
			steps = append(steps, pre.allowed(o, "GET"), reaches(act, o))
		} else {
			steps = append(steps, pre.refused(204), refusedActual(act))
		}
	}
	return steps
}
