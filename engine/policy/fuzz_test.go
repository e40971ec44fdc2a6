package policy

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"
)

// Fuzz targets of the policy: the Access-Control-Request-Headers parser
// (through Preflight) and the whole configuration path (JSON, ParseBlock,
// the validator, Compile) against cors.schema.json. Seeds are added here and in testdata/fuzz/<FuzzName>/; make
// fuzz runs each target for FUZZTIME.

const fuzzOrigin = "https://app.example.com"

// fuzzAllowed is the allow_headers list of the named-set policy, in mixed
// case as a configuration might write it.
var fuzzAllowed = []string{"Content-Type", "X-Api-Key", "x-requested-with", "X-A"}

func fuzzCompile(tb testing.TB, c Block) *Policy {
	tb.Helper()
	p, err := Compile(c, "fuzz", ServiceScope)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// referenceHeaders is the rule for Access-Control-Request-Headers stated
// independently of checkRequestHeaders: split every line on commas, trim
// spaces and tabs, skip empty elements; every name must be an HTTP token
// (httpguts) and, unless any header is allowed, equal to an allowed name
// ignoring ASCII case.
func referenceHeaders(lines []string, allowed []string, anyHeader bool) (bool, []string) {
	var names []string
	ok := true
	for _, line := range lines {
		for _, name := range strings.Split(line, ",") {
			name = strings.Trim(name, " \t")
			if name == "" {
				continue
			}
			names = append(names, name)
			if !httpguts.ValidHeaderFieldName(name) {
				ok = false
				continue
			}
			if anyHeader {
				continue
			}
			found := false
			for _, a := range allowed {
				found = found || asciiEqualFold(a, name)
			}
			ok = ok && found
		}
	}
	return ok, names
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// FuzzPreflightHeaders sends a preflight with one or two arbitrary
// Access-Control-Request-Headers lines through Policy.Preflight, with a
// named allow_headers set and with any header allowed. It never panics;
// the preflight is allowed exactly when the reference rule allows it; a
// refusal names one of the requested names; an allowed preflight's answer
// echoes the requested lines and the origin.
func FuzzPreflightHeaders(f *testing.F) {
	for _, c := range []struct {
		a, b string
		two  bool
	}{
		{"content-type,x-api-key", "", false},
		{"Content-Type, X-API-KEY", "", false},
		{"content-type", "x-api-key", true},
		{" \tcontent-type\t , ,, x-a ", "", false},
		{"content-type,x-evil", "", false},
		{"content-type;x-api-key", "", false},
		{"content type", "", false},
		{"x-a\x00", "", false},
		{"x-\u212a", "", false},
		{"X-\u0130", "", false},
		{",,,,", "", false},
		{"", "", true},
		{strings.Repeat("x-a,", 200), "", false},
		{strings.Repeat("X", 200), "", false},
		{"content-type\r\nx-api-key", "", false},
	} {
		f.Add(c.a, c.b, c.two)
	}
	named := fuzzCompile(f, Block{AllowOrigins: []string{fuzzOrigin}, AllowMethods: []string{"GET", "PUT"}, AllowHeaders: fuzzAllowed})
	anyHdr := fuzzCompile(f, Block{AllowOrigins: []string{fuzzOrigin}, AllowMethods: []string{"GET", "PUT"}})
	f.Fuzz(func(t *testing.T, a, b string, two bool) {
		if len(a)+len(b) > 8<<10 {
			// Longer lines add nothing to the rule checked here (names
			// past the 128-byte lookup buffer are covered well below
			// this), and slow the fuzzer; e2e/hostile_test.go sends
			// lines of 64 KiB to 1 MB to the running gateway.
			return
		}
		lines := []string{a}
		if two {
			lines = append(lines, b)
		}
		req := http.Header{
			"Origin":                         {fuzzOrigin},
			"Access-Control-Request-Method":  {"PUT"},
			"Access-Control-Request-Headers": lines,
		}
		for _, c := range []struct {
			name      string
			p         *Policy
			anyHeader bool
		}{{"named", named, false}, {"any", anyHdr, true}} {
			d := c.p.Preflight(req)
			want, names := referenceHeaders(lines, fuzzAllowed, c.anyHeader)
			if d.Allowed() != want {
				t.Fatalf("%s: Preflight with Access-Control-Request-Headers %q: allowed=%v (reason %d, detail %q), want %v", c.name, lines, d.Allowed(), d.Reason, d.Detail, want)
			}
			if !d.Allowed() {
				if d.Reason != HeaderDenied && d.Reason != HeaderMalformed {
					t.Fatalf("%s: refused %q for reason %d, not a header reason", c.name, lines, d.Reason)
				}
				found := false
				for _, n := range names {
					found = found || n == d.Detail
				}
				if !found {
					t.Fatalf("%s: refusal detail %q is not one of the requested names %q", c.name, d.Detail, names)
				}
			}
			h := http.Header{}
			c.p.WritePreflight(h, req, d)
			if d.Allowed() {
				if got := h["Access-Control-Allow-Origin"]; len(got) != 1 || got[0] != fuzzOrigin {
					t.Fatalf("%s: allowed preflight answered Access-Control-Allow-Origin %q", c.name, got)
				}
				if got := h["Access-Control-Allow-Headers"]; strings.Join(got, "\n") != strings.Join(lines, "\n") {
					t.Fatalf("%s: Access-Control-Allow-Headers %q, want the request's lines %q", c.name, got, lines)
				}
			} else if len(h["Access-Control-Allow-Origin"]) != 0 || len(h["Access-Control-Allow-Headers"]) != 0 {
				t.Fatalf("%s: refused preflight answered with %v", c.name, h)
			}
		}
	})
}

// FuzzCompileJSON decodes arbitrary bytes as JSON and loads the value as a
// security/cors block at the service level and at the endpoint level, as
// the gateway does (ParseBlock, then CompileDocument or CheckBlock). Nothing
// panics; cors.schema.json accepts the value exactly when the gateway does
// (both directions: an editor never accepts what the gateway refuses, nor
// refuses what it accepts); every correction an error suggests (its Fix),
// applied alone, is accepted at its key; a valid block compiles, and the
// policies the gateway builds answer requests sanely. The same JSON
// decoded straight into a Block (bypassing the shape check) either fails
// to compile or answers sanely too.
func FuzzCompileJSON(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"allow_origins": ["https://app.example.com"], "allow_methods": ["GET", "POST"], "allow_headers": ["Content-Type"], "max_age": "12h", "allow_credentials": true}`,
		`{"allow_origins": ["*"], "allow_credentials": true}`,
		`{"allow_origins": [], "allow_credentials": true}`,
		`{"allow_origins": ["https://*.example.com:*", "null", "http://localhost:*"]}`,
		`{"allow_origins": ["null"], "allow_credentials": true}`,
		`{"allow_origins_regex": ["^https://[a-z]+\\.example\\.com$"], "allow_credentials": true}`,
		`{"allow_origins_regex": ["https://.*\\.example\\.com"]}`,
		`{"allow_origins_regex": ["^(a|b$"]}`,
		`{"allow_any_origin_with_credentials_unsafe": true}`,
		`{"allow_any_origin_with_credentials_unsafe": true, "allow_credentials": true, "allow_origins": ["*"]}`,
		`{"expose_headers": ["*"], "allow_credentials": true, "allow_origins": ["https://a.example.com"]}`,
		`{"options_success_status": 2.04e2}`,
		`{"options_success_status": 299.5}`,
		`{"options_success_status": 404}`,
		`{"max_age": "1.5s"}`,
		`{"max_age": "-1s"}`,
		`{"max_age": "9999999999h"}`,
		`{"allow_methods": ["get", "*", "TRACE", ""]}`,
		`{"allow_headers": ["*", "Set-Cookie", "a b", "X-\u212a"]}`,
		`{"allow_origins": ["https://app.example.com", "HTTPS://APP.EXAMPLE.COM:443"]}`,
		`{"terminate_unmatched_request": true, "unmatched_status": 403}`,
		`{"@comment": {"x": [1, 2]}, "debug": true}`,
		`{"allow_origins": "https://app.example.com"}`,
		`{"allow_origins": [1, null, true]}`,
		`{"unknown_key": 1}`,
		`[]`,
		`null`,
		`"security/cors"`,
		// new rules
		`{"allow_credentials": true, "allow_origins_regex": ["^https://api.acme-shop.com$"]}`,
		`{"allow_credentials": true, "allow_origins_regex_unsafe": true, "allow_origins_regex": ["^https://.*acme-shop\\.com$"]}`,
		`{"allow_origins_regex": ["^https://.*acme-shop\\.com$"]}`,
		`{"disable": true, "debug": true}`,
		`{"disable": true, "@comment": "legacy"}`,
		`{"strip_cors_request_headers": true, "allow_origins": ["http://127.1:3999", "https://[0:0::1]", "file:///x"]}`,
		`{"allow_origins": ["https://*.127.0.0.1", "https://xn--a.example.com", "https://a.example.com,https://b.example.com"]}`,
		`{"allow_credentials": true, "Allow_Origins_Regex": ["^https://a\\.example\\.com$"]}`,
		`{"ALLOW_CREDENTIALS": true, "allow_origins_regex": ["^https://api.acme-shop.com$"]}`,
		`{"allow_origins_regex": ["(?i)^https://a\\.example\\.com$", "\\Ahttps://b\\.example\\.com\\z", "^a$|^b$"]}`,
		`{"max_age": "-1h", "allow_origins_regex_unsafe": true, "expose_headers": ["**"]}`,
		// suggestions, which must be accepted when applied
		`{"allow_credentials": true, "allow_origins_regex": ["https://.*example.com"]}`,
		`{"allow_origins_regex": ["https://.*example.com", "^(?:https://.*example.com)$"]}`,
		`{"allow_credentials": true, "allow_origins": ["https://*example.com", "NULL", "https://a.example.com/"]}`,
		`{"max_age": 3600, "allow_methods": ["get", "GET", "trace"], "expose_headers": [" Set-Cookie ", " X-A-*"]}`,
		`{"max_age": "3600", "allow_any_origin_with_credentials_unsafe": "true", "debug": "false"}`,
		`{"allow_origin": [], "allow_origins": ["app.example.com", "https://app.example.com"]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			return
		}
		for _, level := range []Level{ServiceLevel, EndpointLevel} {
			base := serviceBase
			if level == EndpointLevel {
				base = endpointBase
			}
			if msg := shapeAgreement(t, v, level); msg != "" {
				t.Fatalf("%s at the %s level: %s", data, verdictLevel(level), msg)
			}
			b, errs, msg := agreement(t, v, level, base)
			if msg != "" {
				t.Fatalf("%s at the %s level:\n%s", data, verdictLevel(level), msg)
			}
			// Every correction suggested is accepted at its key.
			for _, e := range errs {
				if e.Fix != nil {
					checkFix(t, func() any { var fresh any; json.Unmarshal(data, &fresh); return fresh }, level, base, e, false, errs, nil)
				}
			}
			if len(errs) > 0 {
				continue
			}
			p, err := Compile(*b, base, ServiceScope)
			if level == ServiceLevel && err != nil {
				t.Fatalf("the gateway accepts %s as a service block but Compile refuses it: %v", data, err)
			}
			if err == nil {
				checkSane(t, data, p)
			}
			if level == EndpointLevel {
				checkEndpoint(t, data, b)
			}
		}

		var c Block
		if json.Unmarshal(data, &c) != nil {
			return
		}
		if p, err := Compile(c, "fuzz", ServiceScope); err == nil {
			checkSane(t, data, p)
		}
	})
}

func verdictLevel(l Level) string {
	if l == EndpointLevel {
		return "endpoint"
	}
	return "service"
}

// checkEndpoint compiles an endpoint block the validator accepts under a
// service block, as the gateway does: an exempt endpoint gets no policy,
// any other either compiles to a sane policy or is refused with errors.
func checkEndpoint(t *testing.T, data []byte, b *Block) {
	t.Helper()
	const key = "PUT /items/{id}"
	doc := &Document{
		Service:   &Block{AllowOrigins: []string{"https://app.example.com"}, AllowMethods: []string{"GET", "PUT"}},
		Endpoints: map[string]*Block{key: b},
	}
	set, err := CompileDocument(doc, []Endpoint{{Key: key, Method: "PUT", Served: []string{"PUT"}}})
	if err != nil {
		if errs, ok := err.(Errors); !ok || len(errs) == 0 {
			t.Fatalf("%s: CompileDocument error %T %v, want Errors", data, err, err)
		}
		return
	}
	sc := set.Endpoints[key]
	switch {
	case sc == nil:
		t.Fatalf("%s: CompileDocument compiled no policy for the endpoint", data)
	case sc.Exempt != b.Exempt() || (sc.Policy == nil) != sc.Exempt:
		t.Fatalf("%s: endpoint Exempt %v with policy %v, block Exempt %v", data, sc.Exempt, sc.Policy != nil, b.Exempt())
	case sc.Policy != nil:
		if sc.Policy.Scope() != key {
			t.Fatalf("%s: endpoint policy scope %q, want %q", data, sc.Policy.Scope(), key)
		}
		checkSane(t, data, sc.Policy)
	}
}

// checkSane sends a few requests through a compiled policy: nothing
// panics, the preflight status is 2xx, and credentials never go with "*"
// or with an origin other than the request's.
func checkSane(t *testing.T, data []byte, p *Policy) {
	t.Helper()
	if s := p.SuccessStatus(); s < 200 || s > 299 {
		t.Fatalf("%s: preflight success status %d", data, s)
	}
	for _, o := range []string{"https://app.example.com", "null", "https://evil.example.org", "https://a.example.com:8443/x"} {
		pre := http.Header{"Origin": {o}, "Access-Control-Request-Method": {"GET"}, "Access-Control-Request-Headers": {"content-type"}}
		act := http.Header{"Origin": {o}}
		for _, kind := range []string{"preflight", "actual"} {
			h := http.Header{}
			if kind == "preflight" {
				p.WritePreflight(h, pre, p.Preflight(pre))
			} else {
				p.WriteActual(h, act["Origin"], p.Actual(http.MethodGet, act))
			}
			acao := h["Access-Control-Allow-Origin"]
			if len(acao) > 1 {
				t.Fatalf("%s: %s from %q: several Access-Control-Allow-Origin values %q", data, kind, o, acao)
			}
			if len(acao) == 1 && acao[0] != "*" && acao[0] != o {
				t.Fatalf("%s: %s from %q answered Access-Control-Allow-Origin %q", data, kind, o, acao[0])
			}
			if len(h["Access-Control-Allow-Credentials"]) > 0 && (len(acao) == 0 || acao[0] == "*") {
				t.Fatalf("%s: %s from %q: credentials with Access-Control-Allow-Origin %q", data, kind, o, acao)
			}
		}
	}
}
