package policy

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/corsgate/corsgate/plugin/config"
	"github.com/corsgate/corsgate/schema"
)

func ptr[T any](v T) *T { return &v }

func mustCompile(t testing.TB, c config.CORS) *Policy {
	t.Helper()
	p, err := Compile(c, "cors")
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

// spa is the policy of a typical single-page app behind the gateway.
func spa(t testing.TB) *Policy {
	return mustCompile(t, config.CORS{
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

func TestWritePreflightOptions(t *testing.T) {
	tests := []struct {
		name string
		cfg  config.CORS
		req  http.Header
		want http.Header
	}{
		{
			name: "defaults: any origin gets *, no max age",
			cfg:  config.CORS{},
			req:  header("Origin", "https://x.example", "Access-Control-Request-Method", "POST"),
			want: http.Header{
				"Access-Control-Allow-Origin":  {"*"},
				"Access-Control-Allow-Methods": {"POST"},
				"Vary":                         {"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"},
			},
		},
		{
			name: "credentials echo the origin",
			cfg:  config.CORS{AllowOrigins: []string{"https://app.example.com"}, AllowCredentials: ptr(true)},
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
			cfg:  config.CORS{AllowPrivateNetwork: ptr(true), MaxAge: ptr("90s")},
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
			cfg:  config.CORS{AllowPrivateNetwork: ptr(true)},
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

func TestWriteActualReplacesBackendCORS(t *testing.T) {
	p := mustCompile(t, config.CORS{AllowOrigins: []string{"https://app.example.com"}, AllowCredentials: ptr(true), ExposeHeaders: []string{"x-request-id"}})
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

func TestCompileRefuses(t *testing.T) {
	tests := []struct {
		name string
		cfg  config.CORS
		path string
	}{
		{"credentials with any origin", config.CORS{AllowCredentials: ptr(true)}, "cors.allow_origins"},
		{"credentials with star", config.CORS{AllowCredentials: ptr(true), AllowOrigins: []string{"*"}}, "cors.allow_origins"},
		{"credentials with wildcard", config.CORS{AllowCredentials: ptr(true), AllowOrigins: []string{"https://*.example.com"}}, "cors.allow_origins"},
		{"bad origin", config.CORS{AllowOrigins: []string{"https://a.example.com", "https://example.com/"}}, "cors.allow_origins[1]"},
		{"lower-case method", config.CORS{AllowMethods: []string{"get"}}, "cors.allow_methods[0]"},
		{"bad header", config.CORS{AllowHeaders: []string{"X Api"}}, "cors.allow_headers[0]"},
		{"expose star with credentials", config.CORS{AllowCredentials: ptr(true), AllowOrigins: []string{"https://a.example.com"}, ExposeHeaders: []string{"*"}}, "cors.expose_headers[0]"},
		{"bad max_age", config.CORS{MaxAge: ptr("12 hours")}, "cors.max_age"},
		{"bad status", config.CORS{OptionsSuccessStatus: ptr(404)}, "cors.options_success_status"},
		{"credentials with null", config.CORS{AllowCredentials: ptr(true), AllowOrigins: []string{"https://a.example.com", "null"}}, "cors.allow_origins"},
		{"credentials with empty origins", config.CORS{AllowCredentials: ptr(true), AllowOrigins: []string{}}, "cors.allow_origins"},
		{"duplicate origin", config.CORS{AllowOrigins: []string{"https://a.example.com", "https://b.example.com", "https://a.example.com"}}, "cors.allow_origins[2]"},
		{"duplicate origin in another spelling", config.CORS{AllowOrigins: []string{"https://a.example.com", "HTTPS://A.example.com:443"}}, "cors.allow_origins[1]"},
		{"duplicate method", config.CORS{AllowMethods: []string{"GET", "PUT", "GET"}}, "cors.allow_methods[2]"},
		{"unanchored regex", config.CORS{AllowOriginsRegex: []string{"https://a[.]example[.]com"}}, "cors.allow_origins_regex[0]"},
		{"regex anchoring one branch each", config.CORS{AllowOriginsRegex: []string{"^a$", "^https://a|b$"}}, "cors.allow_origins_regex[1]"},
		{"unsafe without credentials", config.CORS{AllowAnyOriginWithCredentialsUnsafe: ptr(true)}, "cors.allow_any_origin_with_credentials_unsafe"},
		{"unmatched status too low", config.CORS{UnmatchedStatus: ptr(199)}, "cors.unmatched_status"},
		{"unmatched status too high", config.CORS{UnmatchedStatus: ptr(600)}, "cors.unmatched_status"},
		{"bad expose prefix", config.CORS{ExposeHeaders: []string{"X Meta-*"}}, "cors.expose_headers[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.cfg, "cors")
			if err == nil || !strings.Contains(err.Error(), tt.path+": ") {
				t.Errorf("Compile error = %v, want one at %s", err, tt.path)
			}
		})
	}
}

func TestCompileRefusalMessages(t *testing.T) {
	tests := []struct {
		name string
		cfg  config.CORS
		want string
	}{
		{"duplicate origin names the first", config.CORS{AllowOrigins: []string{"https://a.example.com", "https://A.example.com"}}, `cors.allow_origins[1]: "https://A.example.com" is the same origin as item 0; remove the duplicate`},
		{"duplicate method", config.CORS{AllowMethods: []string{"GET", "GET"}}, `cors.allow_methods[1]: "GET" is listed twice; remove the duplicate`},
		{"null with credentials", config.CORS{AllowCredentials: ptr(true), AllowOrigins: []string{"null"}}, `Remove "null"`},
		{"unanchored regex suggests the fix", config.CORS{AllowOriginsRegex: []string{"^a|b$"}}, `write "^(?:a|b)$"`},
		{"credentials without origins names the opt-in", config.CORS{AllowCredentials: ptr(true)}, `allow_any_origin_with_credentials_unsafe: true forces it, unsafely`},
		{"unmatched status", config.CORS{UnmatchedStatus: ptr(700)}, `cors.unmatched_status: 700 is not an HTTP status from 200 to 599`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.cfg, "cors")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Compile error = %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

// Every problem is reported, items in index order.
func TestCompileReportsEveryProblem(t *testing.T) {
	_, err := Compile(config.CORS{
		AllowOrigins:    []string{"https://a.example.com/", "https://b.example.com", "https://b.example.com"},
		AllowMethods:    []string{"get"},
		UnmatchedStatus: ptr(100),
	}, "cors")
	errs, ok := err.(schema.Errors)
	if !ok {
		t.Fatalf("error = %T %v, want schema.Errors", err, err)
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

func TestCompileNewKeys(t *testing.T) {
	p := mustCompile(t, config.CORS{
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
	d := mustCompile(t, config.CORS{})
	if d.Terminate() || d.UnmatchedStatus() != DefaultUnmatchedStatus || d.StripRequestHeaders() {
		t.Errorf("defaults: Terminate %v, UnmatchedStatus %d, StripRequestHeaders %v", d.Terminate(), d.UnmatchedStatus(), d.StripRequestHeaders())
	}
}

func TestOriginsRegex(t *testing.T) {
	p := mustCompile(t, config.CORS{
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

func TestUnsafeReflectsAnyOrigin(t *testing.T) {
	p := mustCompile(t, config.CORS{AllowCredentials: ptr(true), AllowAnyOriginWithCredentialsUnsafe: ptr(true)})
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
	safe := mustCompile(t, config.CORS{})
	if safe.ReflectsAnyOriginWithCredentials() {
		t.Error("the default policy reports the unsafe opt-in")
	}
}

func TestExposePrefixes(t *testing.T) {
	p := mustCompile(t, config.CORS{ExposeHeaders: []string{"x-request-id", "X-Object-Meta-*", "X-Amz-Meta-*"}})
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
	only := mustCompile(t, config.CORS{ExposeHeaders: []string{"X-Object-Meta-*"}})
	h = http.Header{"Content-Type": {"text/plain"}}
	only.WriteActual(h, req["Origin"], only.Actual("GET", req))
	if v, ok := h["Access-Control-Expose-Headers"]; ok {
		t.Errorf("Access-Control-Expose-Headers = %q, want none", v)
	}
}

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
