package policy

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func mustCompile(t testing.TB, c Block) *Policy {
	t.Helper()
	p, err := Compile(c, "cors", ServiceScope)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

// spa is the policy of a typical single-page app behind the gateway.
func spa(t testing.TB) *Policy {
	return mustCompile(t, Block{
		AllowOrigins:     []string{"https://app.example.com", "https://*.preview.example.com"},
		AllowMethods:     []string{"GET", "POST", "PUT", "DELETE"},
		AllowHeaders:     []string{"Content-Type", "Authorization", "X-Api-Key"},
		ExposeHeaders:    []string{"x-request-id", "X-Total-Count"},
		MaxAge:           ptr("12h"),
		AllowCredentials: ptr(false),
	})
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// A preflight is decided on its origin, requested method and requested
// headers, in that order: the first refusal gives the reason and the
// offending value as sent; browser-shaped and hand-written header lists
// are read alike.
func TestPreflightDecisions(t *testing.T) {
	p := spa(t)
	tests := []struct {
		name   string
		req    http.Header
		reason Reason
		detail string
	}{
		{"allowed, no headers", header("Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT"), Allowed, ""},
		{"allowed subdomain", header("Origin", "https://pr-12.preview.example.com", "Access-Control-Request-Method", "PUT"), Allowed, ""},
		{"browser form", header("Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "authorization,content-type,x-api-key"), Allowed, ""},
		{"any case and order with spaces", header("Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "X-Api-Key ,  Content-Type,AUTHORIZATION"), Allowed, ""},
		{"several lines", header("Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "x-api-key", "Access-Control-Request-Headers", "Content-Type, authorization"), Allowed, ""},
		{"empty elements", header("Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", ",x-api-key,,"), Allowed, ""},
		{"origin refused", header("Origin", "https://evil.example", "Access-Control-Request-Method", "GET"), OriginDenied, "https://evil.example"},
		{"suffix attack", header("Origin", "https://evil-app.example.com", "Access-Control-Request-Method", "GET"), OriginDenied, "https://evil-app.example.com"},
		{"two origins", header("Origin", "https://app.example.com", "Origin", "https://evil.example", "Access-Control-Request-Method", "GET"), OriginMalformed, "https://app.example.com"},
		{"method refused", header("Origin", "https://app.example.com", "Access-Control-Request-Method", "PATCH"), MethodDenied, "PATCH"},
		{"method case-sensitive", header("Origin", "https://app.example.com", "Access-Control-Request-Method", "put"), MethodDenied, "put"},
		{"header refused", header("Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "content-type,x-secret"), HeaderDenied, "x-secret"},
		{"header refused on second line", header("Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "content-type", "Access-Control-Request-Headers", "X-Other"), HeaderDenied, "X-Other"},
		{"malformed header", header("Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "content type"), HeaderMalformed, "content type"},
		{"longer than any allowed name", header("Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", strings.Repeat("x", 300)), HeaderDenied, strings.Repeat("x", 300)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := p.Preflight(tt.req)
			if d.Reason != tt.reason || d.Detail != tt.detail || !d.Preflight {
				t.Errorf("Preflight = %+v, want reason %d detail %q", d, tt.reason, tt.detail)
			}
		})
	}
}

// An actual request needs an allowed origin and, as in KrakenD CE, an
// allowed method (OPTIONS always is); no Origin means no CORS request.
func TestActualDecisions(t *testing.T) {
	p := spa(t)
	tests := []struct {
		method string
		req    http.Header
		reason Reason
	}{
		{"GET", header("Origin", "https://app.example.com"), Allowed},
		{"DELETE", header("Origin", "https://app.example.com"), Allowed},
		{"OPTIONS", header("Origin", "https://app.example.com"), Allowed},
		{"PATCH", header("Origin", "https://app.example.com"), MethodDenied},
		{"GET", header("Origin", "http://app.example.com"), OriginDenied},
		{"GET", header("Origin", "null"), OriginDenied},
		{"GET", header(), NoOrigin},
	}
	for _, tt := range tests {
		if d := p.Actual(tt.method, tt.req); d.Reason != tt.reason || d.Preflight {
			t.Errorf("Actual(%s, %v) = %+v, want reason %d", tt.method, tt.req, d, tt.reason)
		}
	}
}

// An allowed preflight gets exactly the CORS headers of the policy; a
// refused one gets only Vary, and loses any CORS header already there.
func TestWritePreflight(t *testing.T) {
	p := spa(t)
	req := header("Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "content-type,x-api-key")
	h := http.Header{}
	p.WritePreflight(h, req, p.Preflight(req))
	want := http.Header{
		"Access-Control-Allow-Origin":  {"https://app.example.com"},
		"Access-Control-Allow-Methods": {"PUT"},
		"Access-Control-Allow-Headers": {"content-type,x-api-key"},
		"Access-Control-Max-Age":       {"43200"},
		"Vary":                         {"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"},
	}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("allowed preflight headers:\n got %v\nwant %v", h, want)
	}

	denied := header("Origin", "https://evil.example", "Access-Control-Request-Method", "PUT")
	h = http.Header{"Access-Control-Allow-Origin": {"*"}}
	p.WritePreflight(h, denied, p.Preflight(denied))
	want = http.Header{"Vary": {"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"}}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("refused preflight headers:\n got %v\nwant %v", h, want)
	}
}

// The optional preflight headers follow the keys: "*" without
// credentials, the echoed origin with them, private network only when
// asked for (and always named in Vary), max_age in seconds.
func TestWritePreflightOptions(t *testing.T) {
	tests := []struct {
		name string
		cfg  Block
		req  http.Header
		want http.Header
	}{
		{
			name: "defaults: any origin gets *, no max age",
			cfg:  Block{},
			req:  header("Origin", "https://x.example", "Access-Control-Request-Method", "POST"),
			want: http.Header{
				"Access-Control-Allow-Origin":  {"*"},
				"Access-Control-Allow-Methods": {"POST"},
				"Vary":                         {"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"},
			},
		},
		{
			name: "credentials echo the origin",
			cfg:  Block{AllowOrigins: []string{"https://app.example.com"}, AllowCredentials: ptr(true)},
			req:  header("Origin", "https://app.example.com", "Access-Control-Request-Method", "GET"),
			want: http.Header{
				"Access-Control-Allow-Origin":      {"https://app.example.com"},
				"Access-Control-Allow-Methods":     {"GET"},
				"Access-Control-Allow-Credentials": {"true"},
				"Vary":                             {"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"},
			},
		},
		{
			name: "private network asked for",
			cfg:  Block{AllowPrivateNetwork: ptr(true), MaxAge: ptr("90s")},
			req:  header("Origin", "https://x.example", "Access-Control-Request-Method", "GET", "Access-Control-Request-Private-Network", "true"),
			want: http.Header{
				"Access-Control-Allow-Origin":          {"*"},
				"Access-Control-Allow-Methods":         {"GET"},
				"Access-Control-Allow-Private-Network": {"true"},
				"Access-Control-Max-Age":               {"90"},
				"Vary":                                 {"Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"},
			},
		},
		{
			name: "private network not asked for",
			cfg:  Block{AllowPrivateNetwork: ptr(true)},
			req:  header("Origin", "https://x.example", "Access-Control-Request-Method", "GET"),
			want: http.Header{
				"Access-Control-Allow-Origin":  {"*"},
				"Access-Control-Allow-Methods": {"GET"},
				"Vary":                         {"Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, tt.cfg)
			h := http.Header{}
			p.WritePreflight(h, tt.req, p.Preflight(tt.req))
			if !reflect.DeepEqual(h, tt.want) {
				t.Errorf("\n got %v\nwant %v", h, tt.want)
			}
		})
	}
}

// The gateway's answer replaces the CORS headers a backend sent, keeps
// its other headers, and merges Vary without repeating a token.
func TestWriteActualReplacesBackendCORS(t *testing.T) {
	p := mustCompile(t, Block{AllowOrigins: []string{"https://app.example.com"}, AllowCredentials: ptr(true), ExposeHeaders: []string{"x-request-id"}})
	tests := []struct {
		name    string
		req     http.Header
		backend http.Header
		want    http.Header
	}{
		{
			name:    "backend CORS replaced, Vary merged",
			req:     header("Origin", "https://app.example.com"),
			backend: http.Header{"Access-Control-Allow-Origin": {"*"}, "Vary": {"Origin"}, "Access-Control-Max-Age": {"5"}, "Content-Type": {"application/json"}},
			want: http.Header{
				"Access-Control-Allow-Origin":      {"https://app.example.com"},
				"Access-Control-Allow-Credentials": {"true"},
				"Access-Control-Expose-Headers":    {"X-Request-Id"},
				"Vary":                             {"Origin"},
				"Content-Type":                     {"application/json"},
			},
		},
		{
			name:    "refused origin: backend CORS removed",
			req:     header("Origin", "https://evil.example"),
			backend: http.Header{"Access-Control-Allow-Origin": {"https://evil.example"}, "Access-Control-Allow-Credentials": {"true"}},
			want:    http.Header{"Vary": {"Origin"}},
		},
		{
			name:    "no origin: Vary appended to the backend's",
			req:     header(),
			backend: http.Header{"Vary": {"Accept-Encoding"}},
			want:    http.Header{"Vary": {"Accept-Encoding, Origin"}},
		},
		{
			name:    "duplicate Vary tokens folded",
			req:     header(),
			backend: http.Header{"Vary": {"origin", "Accept-Encoding, Origin"}},
			want:    http.Header{"Vary": {"origin, Accept-Encoding"}},
		},
		{
			name:    "Vary star kept",
			req:     header(),
			backend: http.Header{"Vary": {"*"}},
			want:    http.Header{"Vary": {"*"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.backend.Clone()
			p.WriteActual(h, tt.req["Origin"], p.Actual("GET", tt.req))
			if !reflect.DeepEqual(h, tt.want) {
				t.Errorf("\n got %v\nwant %v", h, tt.want)
			}
		})
	}
}

// A later handler that appends to a header the policy set must not change
// what the next request gets.
func TestHeaderValuesAreNotShared(t *testing.T) {
	p := spa(t)
	req := header("Origin", "https://app.example.com")
	first := http.Header{}
	p.WriteActual(first, req["Origin"], p.Actual("GET", req))
	first["Vary"] = append(first["Vary"], "Accept-Encoding")
	first["Access-Control-Expose-Headers"] = append(first["Access-Control-Expose-Headers"], "X-Leak")

	second := http.Header{}
	p.WriteActual(second, req["Origin"], p.Actual("GET", req))
	if got := second["Vary"]; !reflect.DeepEqual(got, []string{"Origin"}) {
		t.Errorf("second response Vary = %q, want [Origin]", got)
	}
	if got := second["Access-Control-Expose-Headers"]; !reflect.DeepEqual(got, []string{"X-Request-Id, X-Total-Count"}) {
		t.Errorf("second response Access-Control-Expose-Headers = %q", got)
	}
}

// Deciding and writing headers on the common paths allocates nothing.
func TestPerRequestPathsDoNotAllocate(t *testing.T) {
	p := spa(t)
	pre := header("Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "Content-Type, X-Api-Key")
	preDenied := header("Origin", "https://evil.example", "Access-Control-Request-Method", "PUT")
	actual := header("Origin", "https://pr-1.preview.example.com")
	none := header()
	h := http.Header{}
	cases := map[string]func(){
		"preflight allowed": func() { clear(h); p.WritePreflight(h, pre, p.Preflight(pre)) },
		"preflight refused": func() { clear(h); p.WritePreflight(h, preDenied, p.Preflight(preDenied)) },
		"actual allowed":    func() { clear(h); p.WriteActual(h, actual["Origin"], p.Actual("GET", actual)) },
		"no origin":         func() { clear(h); p.WriteActual(h, none["Origin"], p.Actual("GET", none)) },
		"backend Vary has Origin": func() {
			clear(h)
			h["Vary"] = backendVary
			p.WriteActual(h, actual["Origin"], p.Actual("GET", actual))
		},
	}
	for name, f := range cases {
		if n := testing.AllocsPerRun(200, f); n != 0 {
			t.Errorf("%s: %v allocations per request, want 0", name, n)
		}
	}
}

var backendVary = []string{"Accept-Encoding, Origin"}

// Compile refuses every invalid policy with an error at the path of the
// offending value (the item, for list entries).
func TestCompileRefuses(t *testing.T) {
	tests := []struct {
		name string
		cfg  Block
		path string
	}{
		{"credentials with any origin", Block{AllowCredentials: ptr(true)}, "cors.allow_origins"},
		{"credentials with star", Block{AllowCredentials: ptr(true), AllowOrigins: []string{"*"}}, "cors.allow_origins[0]"},
		{"credentials with wildcard", Block{AllowCredentials: ptr(true), AllowOrigins: []string{"https://*.example.com"}}, "cors.allow_origins[0]"},
		{"bad origin", Block{AllowOrigins: []string{"https://a.example.com", "https://example.com/"}}, "cors.allow_origins[1]"},
		{"lower-case method", Block{AllowMethods: []string{"get"}}, "cors.allow_methods[0]"},
		{"bad header", Block{AllowHeaders: []string{"X Api"}}, "cors.allow_headers[0]"},
		{"expose star with credentials", Block{AllowCredentials: ptr(true), AllowOrigins: []string{"https://a.example.com"}, ExposeHeaders: []string{"*"}}, "cors.expose_headers[0]"},
		{"bad max_age", Block{MaxAge: ptr("12 hours")}, "cors.max_age"},
		{"bad status", Block{OptionsSuccessStatus: ptr(404)}, "cors.options_success_status"},
		{"credentials with null", Block{AllowCredentials: ptr(true), AllowOrigins: []string{"https://a.example.com", "null"}}, "cors.allow_origins[1]"},
		{"credentials with empty origins", Block{AllowCredentials: ptr(true), AllowOrigins: []string{}}, "cors.allow_origins"},
		{"duplicate origin", Block{AllowOrigins: []string{"https://a.example.com", "https://b.example.com", "https://a.example.com"}}, "cors.allow_origins[2]"},
		{"duplicate origin in another spelling", Block{AllowOrigins: []string{"https://a.example.com", "HTTPS://A.example.com:443"}}, "cors.allow_origins[1]"},
		{"duplicate method", Block{AllowMethods: []string{"GET", "PUT", "GET"}}, "cors.allow_methods[2]"},
		{"unanchored regex", Block{AllowOriginsRegex: []string{"https://a[.]example[.]com"}}, "cors.allow_origins_regex[0]"},
		{"regex anchoring one branch each", Block{AllowOriginsRegex: []string{"^a$", "^https://a|b$"}}, "cors.allow_origins_regex[1]"},
		{"unsafe without credentials", Block{AllowAnyOriginWithCredentialsUnsafe: ptr(true)}, "cors.allow_any_origin_with_credentials_unsafe"},
		{"unmatched status too low", Block{UnmatchedStatus: ptr(199)}, "cors.unmatched_status"},
		{"unmatched status too high", Block{UnmatchedStatus: ptr(600)}, "cors.unmatched_status"},
		{"bad expose prefix", Block{ExposeHeaders: []string{"X Meta-*"}}, "cors.expose_headers[0]"},
		{"leaky regex with credentials", Block{AllowCredentials: ptr(true), AllowOriginsRegex: []string{"^https://api.acme-shop.com$"}}, "cors.allow_origins_regex[0]"},
		{"unsafe with a regex", Block{AllowCredentials: ptr(true), AllowAnyOriginWithCredentialsUnsafe: ptr(true), AllowOriginsRegex: []string{"^https://a[.]example[.]com$"}}, "cors.allow_origins_regex"},
		{"disable with other keys", Block{Disable: ptr(true), Debug: ptr(true)}, "cors"},
		{"non-canonical origin", Block{AllowOrigins: []string{"http://127.1"}}, "cors.allow_origins[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.cfg, "cors", ServiceScope)
			if err == nil || !strings.Contains(err.Error(), tt.path+": ") {
				t.Errorf("Compile error = %v, want one at %s", err, tt.path)
			}
		})
	}
}

// Compile's messages name the problem and the fix.
func TestCompileRefusalMessages(t *testing.T) {
	tests := []struct {
		name string
		cfg  Block
		want string
	}{
		{"duplicate origin names the first", Block{AllowOrigins: []string{"https://a.example.com", "https://A.example.com"}}, `cors.allow_origins[1]: "https://A.example.com" is the same origin as item 0; remove the duplicate`},
		{"duplicate method", Block{AllowMethods: []string{"GET", "GET"}}, `cors.allow_methods[1]: "GET" is listed twice; remove the duplicate`},
		{"null with credentials", Block{AllowCredentials: ptr(true), AllowOrigins: []string{"null"}}, `Remove "null"`},
		{"unanchored regex suggests the fix", Block{AllowOriginsRegex: []string{"^a|b$"}}, `write "^(?:a|b)$"`},
		{"credentials without origins names the opt-in", Block{AllowCredentials: ptr(true)}, `allow_any_origin_with_credentials_unsafe: true forces it, unsafely`},
		{"unmatched status", Block{UnmatchedStatus: ptr(700)}, `cors.unmatched_status: 700 is not an HTTP status from 200 to 599`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.cfg, "cors", ServiceScope)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Compile error = %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

// Every problem is reported, items in index order.
func TestCompileReportsEveryProblem(t *testing.T) {
	_, err := Compile(Block{
		AllowOrigins:    []string{"https://a.example.com/", "https://b.example.com", "https://b.example.com"},
		AllowMethods:    []string{"get"},
		UnmatchedStatus: ptr(100),
	}, "cors", ServiceScope)
	errs, ok := err.(Errors)
	if !ok {
		t.Fatalf("error = %T %v, want Errors", err, err)
	}
	var paths []string
	for _, e := range errs {
		paths = append(paths, e.Path)
	}
	want := []string{"cors.allow_origins[0]", "cors.allow_origins[2]", "cors.allow_methods[0]", "cors.unmatched_status"}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("paths = %q, want %q", paths, want)
	}
}

// terminate_unmatched_request, unmatched_status, strip_cors_request_headers
// and credentials reach the compiled policy; their defaults are off / 403.
func TestCompileNewKeys(t *testing.T) {
	p := mustCompile(t, Block{
		AllowOrigins:              []string{"https://app.example.com"},
		TerminateUnmatchedRequest: ptr(true),
		UnmatchedStatus:           ptr(401),
		StripCORSRequestHeaders:   ptr(true),
		AllowCredentials:          ptr(true),
	})
	if !p.Terminate() || p.UnmatchedStatus() != 401 || !p.StripRequestHeaders() || !p.Credentials() || p.ReflectsAnyOriginWithCredentials() {
		t.Errorf("Terminate %v, UnmatchedStatus %d, StripRequestHeaders %v, Credentials %v, ReflectsAnyOriginWithCredentials %v",
			p.Terminate(), p.UnmatchedStatus(), p.StripRequestHeaders(), p.Credentials(), p.ReflectsAnyOriginWithCredentials())
	}
	d := mustCompile(t, Block{})
	if d.Terminate() || d.UnmatchedStatus() != DefaultUnmatchedStatus || d.StripRequestHeaders() {
		t.Errorf("defaults: Terminate %v, UnmatchedStatus %d, StripRequestHeaders %v", d.Terminate(), d.UnmatchedStatus(), d.StripRequestHeaders())
	}
}

// Warnings do not stop Compile: a leaky expression without credentials, or
// one kept with allow_origins_regex_unsafe, compiles and matches exactly
// what it says, attacker origin included.
func TestCompileKeepsLeakyRegexWhenOnlyWarned(t *testing.T) {
	tests := []struct {
		name  string
		block Block
		creds bool
	}{
		{"without credentials", Block{AllowOriginsRegex: []string{"^https://api.acme-shop.com$"}}, false},
		{"with the opt-in", Block{AllowOriginsRegex: []string{"^https://api.acme-shop.com$"}, AllowCredentials: ptr(true), AllowOriginsRegexUnsafe: ptr(true)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, tt.block)
			for _, o := range []string{"https://api.acme-shop.com", "https://apixacme-shop.com"} {
				req := header("Origin", o)
				d := p.Actual("GET", req)
				h := http.Header{}
				p.WriteActual(h, req["Origin"], d)
				if !d.Allowed() || h.Get("Access-Control-Allow-Origin") != o || (h.Get("Access-Control-Allow-Credentials") == "true") != tt.creds {
					t.Errorf("from %s: %+v, headers %v", o, d, h)
				}
			}
		})
	}
}

// allow_origins_regex lets in exactly the origins its expression matches
// as a whole, with credentials echoed for them.
func TestOriginsRegex(t *testing.T) {
	p := mustCompile(t, Block{
		AllowOriginsRegex: []string{`^https://pr-[0-9]+\.preview\.example\.com$`},
		AllowCredentials:  ptr(true),
	})
	tests := []struct {
		origin string
		reason Reason
	}{
		{"https://pr-7.preview.example.com", Allowed},
		{"https://pr-123.preview.example.com", Allowed},
		{"https://pr-7.preview.example.com.evil.net", OriginDenied},
		{"https://xpr-7.preview.example.com", OriginDenied},
		{"https://pr-7Xpreview.example.com", OriginDenied},
		{"null", OriginDenied},
	}
	for _, tt := range tests {
		req := header("Origin", tt.origin)
		d := p.Actual("GET", req)
		if d.Reason != tt.reason {
			t.Errorf("Actual from %s = %+v, want reason %d", tt.origin, d, tt.reason)
			continue
		}
		h := http.Header{}
		p.WriteActual(h, req["Origin"], d)
		want := http.Header{"Vary": {"Origin"}}
		if tt.reason == Allowed {
			want["Access-Control-Allow-Origin"] = []string{tt.origin}
			want["Access-Control-Allow-Credentials"] = []string{"true"}
		}
		if !reflect.DeepEqual(h, want) {
			t.Errorf("WriteActual from %s:\n got %v\nwant %v", tt.origin, h, want)
		}
	}
}

// allow_any_origin_with_credentials_unsafe echoes any origin with
// credentials, on actual and preflight requests; without credentials
// nothing is unsafe.
func TestUnsafeReflectsAnyOrigin(t *testing.T) {
	p := mustCompile(t, Block{AllowCredentials: ptr(true), AllowAnyOriginWithCredentialsUnsafe: ptr(true)})
	if !p.ReflectsAnyOriginWithCredentials() {
		t.Fatal("ReflectsAnyOriginWithCredentials = false")
	}
	req := header("Origin", "https://whatever.example", "Access-Control-Request-Method", "GET")
	h := http.Header{}
	p.WriteActual(h, req["Origin"], p.Actual("GET", req))
	want := http.Header{
		"Access-Control-Allow-Origin":      {"https://whatever.example"},
		"Access-Control-Allow-Credentials": {"true"},
		"Vary":                             {"Origin"},
	}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("actual:\n got %v\nwant %v", h, want)
	}
	h = http.Header{}
	p.WritePreflight(h, req, p.Preflight(req))
	if h.Get("Access-Control-Allow-Origin") != "https://whatever.example" || h.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("preflight: %v", h)
	}
	// Without credentials there is nothing unsafe: any origin gets "*".
	safe := mustCompile(t, Block{})
	if safe.ReflectsAnyOriginWithCredentials() {
		t.Error("the default policy reports the unsafe opt-in")
	}
}

// An expose_headers prefix exposes the response headers under it (never
// the prefix alone), after the named ones; with no such header, none.
func TestExposePrefixes(t *testing.T) {
	p := mustCompile(t, Block{ExposeHeaders: []string{"x-request-id", "X-Object-Meta-*", "X-Amz-Meta-*"}})
	req := header("Origin", "https://a.example")
	h := http.Header{
		"X-Object-Meta-Size":  {"1"},
		"X-Amz-Meta-Owner":    {"me"},
		"X-Object-Meta-Color": {"blue"},
		"X-Object-Meta-":      {"the prefix alone is not a name under it"},
		"X-Other":             {"x"},
	}
	p.WriteActual(h, req["Origin"], p.Actual("GET", req))
	if got := h["Access-Control-Expose-Headers"]; !reflect.DeepEqual(got, []string{"X-Request-Id, X-Amz-Meta-Owner, X-Object-Meta-Color, X-Object-Meta-Size"}) {
		t.Errorf("Access-Control-Expose-Headers = %q", got)
	}
	// Only prefixes, and no header under them: no Access-Control-Expose-Headers.
	only := mustCompile(t, Block{ExposeHeaders: []string{"X-Object-Meta-*"}})
	h = http.Header{"Content-Type": {"text/plain"}}
	only.WriteActual(h, req["Origin"], only.Actual("GET", req))
	if v, ok := h["Access-Control-Expose-Headers"]; ok {
		t.Errorf("Access-Control-Expose-Headers = %q, want none", v)
	}
}

// max_age: a positive duration is sent in seconds, zero (or no max_age)
// sends no Access-Control-Max-Age, and a negative one (as in KrakenD CE)
// sends Access-Control-Max-Age: 0 so that browsers cache nothing.
func TestMaxAge(t *testing.T) {
	tests := []struct {
		maxAge *string
		want   []string // nil: no header
	}{
		{nil, nil},
		{ptr("0s"), nil},
		{ptr("0"), nil},
		{ptr("-1s"), []string{"0"}},
		{ptr("-12h"), []string{"0"}},
		{ptr("90s"), []string{"90"}},
		{ptr("1h30m"), []string{"5400"}},
		{ptr("2000ms"), []string{"2"}},
	}
	req := header("Origin", "https://app.example.com", "Access-Control-Request-Method", "GET")
	for _, tt := range tests {
		name := "absent"
		if tt.maxAge != nil {
			name = *tt.maxAge
		}
		t.Run(name, func(t *testing.T) {
			p := mustCompile(t, Block{AllowOrigins: []string{"https://app.example.com"}, MaxAge: tt.maxAge})
			d := p.Preflight(req)
			if !d.Allowed() {
				t.Fatalf("preflight refused: %s", p.Text(d))
			}
			h := http.Header{}
			p.WritePreflight(h, req, d)
			got, ok := h["Access-Control-Max-Age"]
			if !reflect.DeepEqual(got, tt.want) || ok != (tt.want != nil) {
				t.Errorf("Access-Control-Max-Age = %q (present %v), want %q", got, ok, tt.want)
			}
			// A refused preflight never gets it.
			denied := header("Origin", "https://evil.example", "Access-Control-Request-Method", "GET")
			h = http.Header{}
			p.WritePreflight(h, denied, p.Preflight(denied))
			if v, ok := h["Access-Control-Max-Age"]; ok {
				t.Errorf("refused preflight got Access-Control-Max-Age %q", v)
			}
		})
	}
}

// Reasons name the policy by the scope it was compiled with, so that a
// refusal says which block to change.
func TestRefusalNamesTheScope(t *testing.T) {
	tests := []struct {
		scope string
		req   http.Header
		want  string
	}{
		{ServiceScope, header("Origin", "https://evil.example", "Access-Control-Request-Method", "GET"),
			`preflight refused: origin "https://evil.example" is not in allow_origins of the service-level policy (set in the configuration file); add it there`},
		{"GET /users/{id}", header("Origin", "https://app.example.com", "Access-Control-Request-Method", "PATCH"),
			`preflight refused: method "PATCH" is not in allow_methods ["GET", "HEAD", "POST"] of GET /users/{id} (not set: the default applies); set allow_methods there`},
		{"PUT /items", header("Origin", "https://app.example.com", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "X-Secret"),
			`preflight refused: header "x-secret" is not in allow_headers of PUT /items (set in the configuration file); add it there`},
	}
	for _, tt := range tests {
		t.Run(tt.scope, func(t *testing.T) {
			p, err := Compile(Block{AllowOrigins: []string{"https://app.example.com"}, AllowHeaders: []string{"Content-Type"}}, "cors", tt.scope)
			if err != nil {
				t.Fatal(err)
			}
			if p.Scope() != tt.scope {
				t.Errorf("Scope() = %q, want %q", p.Scope(), tt.scope)
			}
			if got := p.Text(p.Preflight(tt.req)); got != tt.want {
				t.Errorf("Text =\n %q\nwant\n %q", got, tt.want)
			}
		})
	}
}

// A refusal names the source of the key that decided: the file, the
// run-time layer with its revision, author and time, and inheritance from
// the service block; and says where a change takes effect.
func TestRefusalNamesTheSource(t *testing.T) {
	at := time.Date(2026, 12, 7, 17, 0, 0, 0, time.UTC)
	doc := &Document{
		Service: &Block{AllowOrigins: []string{"https://app.example.com"}, AllowHeaders: []string{"Content-Type"}},
		Endpoints: map[string]*Block{
			"GET /users/{id}": {AllowHeaders: []string{"Authorization"}},
		},
		Sources: map[string]map[string]Source{
			"": {"allow_origins": {Runtime: true, Revision: 4, User: "admin", Time: at}},
		},
	}
	set, err := CompileDocument(doc, []Endpoint{{Key: "GET /users/{id}", Method: "GET", Served: []string{"GET"}}})
	if err != nil {
		t.Fatal(err)
	}
	evil := header("Origin", "https://evil.example", "Access-Control-Request-Method", "GET")
	runtime := `preflight refused: origin "https://evil.example" is not in allow_origins of the service-level policy (set by the run-time layer, revision 4, by admin, at 2026-12-07T17:00:00Z); change it in the run-time layer (corsgate config put --scope service, or the dashboard's Policies tab), or drop it from the layer (corsgate config drop allow_origins --scope service) so that the configuration file applies`
	if got := set.Service.Text(set.Service.Preflight(evil)); got != runtime {
		t.Errorf("service:\n %q\nwant\n %q", got, runtime)
	}
	ep := set.Endpoints["GET /users/{id}"].Policy
	inherited := `preflight refused: origin "https://evil.example" is not in allow_origins of the service-level policy, which GET /users/{id} inherits (set by the run-time layer, revision 4, by admin, at 2026-12-07T17:00:00Z); change it in the run-time layer`
	if got := ep.Text(ep.Preflight(evil)); !strings.HasPrefix(got, inherited) {
		t.Errorf("endpoint, inherited:\n %q\nwant it to start with\n %q", got, inherited)
	}
	own := `preflight refused: header "x-secret" is not in allow_headers of GET /users/{id} (set in the configuration file); add it there`
	if got := ep.Text(ep.Preflight(header("Origin", "https://app.example.com", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "X-Secret"))); got != own {
		t.Errorf("endpoint, own key:\n %q\nwant\n %q", got, own)
	}
	if o := ep.KeyOrigin("allow_origins"); !o.Inherited || !o.Set || o.Source.Revision != 4 {
		t.Errorf("KeyOrigin(allow_origins) = %+v", o)
	}
}

// RefusalParts splits a refusal into why and the fix, for every kind of
// place a key can be set in, and Refusal is the two joined with "; ".
func TestRefusalParts(t *testing.T) {
	doc := &Document{
		Service: &Block{AllowOrigins: []string{"https://app.example.com"}, AllowHeaders: []string{"Content-Type"}},
		Endpoints: map[string]*Block{
			"GET /users/{id}": {AllowHeaders: []string{"Authorization"}},
		},
		Sources: map[string]map[string]Source{
			"": {"allow_origins": {Runtime: true, Revision: 4}},
		},
	}
	set, err := CompileDocument(doc, []Endpoint{{Key: "GET /users/{id}", Method: "GET", Served: []string{"GET"}}})
	if err != nil {
		t.Fatal(err)
	}
	ep := set.Endpoints["GET /users/{id}"].Policy
	tests := []struct {
		name     string
		p        *Policy
		d        Decision
		why, fix string
	}{
		{"run-time layer, inherited", ep, Decision{Reason: OriginDenied, Detail: "https://evil.example"},
			`origin "https://evil.example" is not in allow_origins of the service-level policy, which GET /users/{id} inherits (set by the run-time layer, revision 4)`,
			`change it in the run-time layer (corsgate config put --scope service, or the dashboard's Policies tab), or drop it from the layer (corsgate config drop allow_origins --scope service) so that the configuration file applies`},
		{"the file, own key", ep, Decision{Reason: HeaderDenied, Detail: "X-Secret"},
			`header "x-secret" is not in allow_headers of GET /users/{id} (set in the configuration file)`, "add it there"},
		{"not set", ep, Decision{Reason: MethodDenied, Detail: "PATCH"},
			`method "PATCH" is not in allow_methods ["GET"] of GET /users/{id} (not set: the default applies)`, "set allow_methods there"},
		{"no key to change", ep, Decision{Reason: OriginMalformed}, "the request has several Origin headers; a browser sends one", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			why, fix := tt.p.RefusalParts(tt.d)
			if why != tt.why || fix != tt.fix {
				t.Errorf("RefusalParts =\n %q\n %q\nwant\n %q\n %q", why, fix, tt.why, tt.fix)
			}
			want := tt.why
			if tt.fix != "" {
				want += "; " + tt.fix
			}
			if got := tt.p.Refusal(tt.d); got != want {
				t.Errorf("Refusal = %q, want %q", got, want)
			}
		})
	}
}

// The reasons that are not refusals read as such.
func TestTextOfNonRefusals(t *testing.T) {
	p := spa(t)
	tests := []struct {
		d    Decision
		want string
	}{
		{Decision{Reason: Allowed}, "request allowed"},
		{Decision{Reason: Allowed, Preflight: true}, "preflight allowed"},
		{Decision{Reason: NoOrigin}, "no Origin header: not a CORS request"},
		{Decision{Reason: NoPolicy}, "no security/cors block applies: the gateway adds no CORS headers"},
		{Decision{Reason: Exempt}, "the endpoint is exempt from CORS (disable: true): the gateway adds no CORS headers"},
		{Decision{Reason: OriginMalformed, Preflight: true}, "preflight refused: the request has several Origin headers; a browser sends one"},
	}
	for _, tt := range tests {
		if got := p.Text(tt.d); got != tt.want {
			t.Errorf("Text(%+v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	if got := Reason(200).String(); got != "unknown" {
		t.Errorf("Reason(200).String() = %q, want unknown", got)
	}
	if got := Exempt.String(); got != "exempt" {
		t.Errorf("Exempt.String() = %q", got)
	}
}

// Text says which setting refused a request.
func TestText(t *testing.T) {
	p := spa(t)
	req := header("Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "X-Secret")
	got := p.Text(p.Preflight(req))
	if !strings.Contains(got, `header "x-secret" is not in allow_headers`) || !strings.HasPrefix(got, "preflight refused") {
		t.Errorf("Text = %q", got)
	}
	req = header("Origin", "https://evil.example")
	if got := p.Text(p.Actual("GET", req)); !strings.Contains(got, `origin "https://evil.example" is not in allow_origins`) {
		t.Errorf("Text = %q", got)
	}
}

// A WebSocket upgrade must come from an origin the policy allows, or from
// websocket_origins when set; browsers apply no CORS to it.
func TestCheckUpgrade(t *testing.T) {
	compile := func(b Block) *Policy {
		t.Helper()
		p, err := Compile(b, "cors", ServiceScope)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	corsOnly := compile(Block{AllowOrigins: []string{"https://app.example.com"}})
	own := compile(Block{AllowOrigins: []string{"https://app.example.com"}, WebSocketOrigins: []string{"https://chat.example.com"}})
	empty := compile(Block{AllowOrigins: []string{"https://app.example.com"}, WebSocketOrigins: []string{}})
	anyWS := compile(Block{AllowOrigins: []string{"https://app.example.com"}, WebSocketOrigins: []string{"*"}})
	for _, tc := range []struct {
		p      *Policy
		origin []string
		want   Reason
	}{
		{corsOnly, []string{"https://app.example.com"}, Allowed},
		{corsOnly, []string{"https://evil.example"}, UpgradeDenied},
		{corsOnly, nil, NoOrigin},
		{corsOnly, []string{"https://app.example.com", "https://evil.example"}, UpgradeDenied},
		{own, []string{"https://chat.example.com"}, Allowed},
		{own, []string{"https://app.example.com"}, UpgradeDenied},
		{empty, []string{"https://app.example.com"}, Allowed},
		{empty, []string{"https://evil.example"}, UpgradeDenied},
		{anyWS, []string{"https://evil.example"}, Allowed},
	} {
		if d := tc.p.CheckUpgrade(tc.origin); d.Reason != tc.want {
			t.Errorf("%v with %v: %v, want %v", tc.p.Source().WebSocketOrigins, tc.origin, d.Reason, tc.want)
		}
	}
	d := own.CheckUpgrade([]string{"https://app.example.com"})
	if txt := own.Text(d); !strings.Contains(txt, "WebSocket upgrade refused") || !strings.Contains(txt, "websocket_origins") {
		t.Errorf("text: %q", txt)
	}
	if txt := corsOnly.Text(corsOnly.CheckUpgrade([]string{"https://evil.example"})); !strings.Contains(txt, "allow_origins") {
		t.Errorf("text: %q", txt)
	}
}
