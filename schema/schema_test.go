package schema_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/corsgate/corsgate/plugin/config"
	"github.com/corsgate/corsgate/plugin/policy"
	"github.com/corsgate/corsgate/schema"
)

// base is where a service-level block sits in a gateway configuration.
const base = `extra_config["security/cors"]`

// decodeJSON decodes JSON text the way lura hands extra_config to plugins:
// maps, slices, float64, string, bool and nil.
func decodeJSON(t *testing.T, text string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		t.Fatalf("bad test input %s: %v", text, err)
	}
	return v
}

// refusedCase is a block the schema must refuse with exactly one Error.
type refusedCase struct {
	name  string
	json  string
	path  string // the exact Error.Path
	value string // the exact Error.Value ("" for a missing key)
	fix   string // a part of Error.Message that tells how to fix it
	// compileGap, when set, names a known disagreement: policy.Compile
	// accepts this block although the schema refuses it. The agreement test
	// asserts the disagreement is still there, so that it fails (and the
	// mark must be removed) once the compiler is fixed.
	compileGap string
	// notGo marks a block that config.CORS cannot express (a wrong type or
	// an unknown key), so that there is nothing to hand to policy.Compile.
	notGo bool
	// compileKey, when set, is the key policy.Compile names for the same
	// problem when it differs from the key of path.
	compileKey string
}

var refused = []refusedCase{
	// max_age
	{name: "max_age number", notGo: true, json: `{"max_age": 12}`, path: base + ".max_age", value: `12`,
		fix: `12 is a number, not a string; write a duration string such as "12h"`},
	{name: "max_age words", json: `{"max_age": "12 hours"}`, path: base + ".max_age", value: `"12 hours"`,
		fix: `write a number followed by a unit, such as "12h"`},
	{name: "max_age negative", json: `{"max_age": "-1h"}`, path: base + ".max_age", value: `"-1h"`,
		fix: `is negative; use "0s" to send no Access-Control-Max-Age`},
	{name: "max_age fraction of a second", json: `{"max_age": "1.5s"}`, path: base + ".max_age", value: `"1.5s"`,
		fix: `not a whole number of seconds, and Access-Control-Max-Age counts seconds; use "1s"`},
	{name: "max_age leading plus", json: `{"max_age": "+1h"}`, path: base + ".max_age", value: `"+1h"`,
		fix: `write a number followed by a unit`},
	{name: "max_age empty", json: `{"max_age": ""}`, path: base + ".max_age", value: `""`,
		fix: `write a number followed by a unit`},

	// wrong types
	{name: "allow_origins string", notGo: true, json: `{"allow_origins": "https://app.example.com"}`, path: base + ".allow_origins", value: `"https://app.example.com"`,
		fix: `is a string, not an array; write a list of origins, such as ["https://app.example.com"]`},
	{name: "debug quoted", notGo: true, json: `{"debug": "yes"}`, path: base + ".debug", value: `"yes"`,
		fix: `"yes" is a string, not a boolean; write true or false, without quotes`},
	{name: "allow_credentials quoted", notGo: true, json: `{"allow_credentials": "true"}`, path: base + ".allow_credentials", value: `"true"`,
		fix: `write true or false, without quotes`},
	{name: "options_success_status fraction", notGo: true, json: `{"options_success_status": 200.5}`, path: base + ".options_success_status", value: `200.5`,
		fix: `200.5 is a number, not an integer; a preflight answer needs a 2xx status: use 204 (the default) or 200`},
	{name: "options_success_status quoted", notGo: true, json: `{"options_success_status": "204"}`, path: base + ".options_success_status", value: `"204"`,
		fix: `"204" is a string, not an integer; a preflight answer needs a 2xx status`},
	{name: "allow_methods number item", notGo: true, json: `{"allow_methods": [1]}`, path: base + ".allow_methods[0]", value: `1`,
		fix: `1 is a number, not a string; write an upper-case HTTP method token such as "GET"`},
	{name: "allow_headers object", notGo: true, json: `{"allow_headers": {"Content-Type": true}}`, path: base + ".allow_headers", value: `{"Content-Type":true}`,
		fix: `is an object, not an array; write a list of header names`},
	{name: "comment number", json: `{"@comment": 5}`, path: base + `["@comment"]`, value: `5`,
		fix:        `5 is a number, not a string or an array or an object`,
		compileGap: "Compile never looks at @comment"},

	// unknown keys
	{name: "unknown key allow_origin", notGo: true, json: `{"allow_origin": ["https://app.example.com"]}`, path: base + ".allow_origin", value: `["https://app.example.com"]`,
		fix: `unknown key "allow_origin"; did you mean "allow_origins"?`},
	{name: "unknown key Debug", notGo: true, json: `{"Debug": true}`, path: base + ".Debug", value: `true`,
		fix: `unknown key "Debug"; did you mean "debug"?`},
	{name: "unknown at-key", notGo: true, json: `{"@note": "x"}`, path: base + `["@note"]`, value: `"x"`,
		fix: `Known keys: allow_any_origin_with_credentials_unsafe, allow_credentials, allow_headers, allow_methods, allow_origins, allow_origins_regex, allow_private_network, debug, expose_headers, max_age, options_passthrough, options_success_status, terminate_unmatched_request, unmatched_status`},

	// methods
	{name: "method lower case", json: `{"allow_methods": ["GET", "get"]}`, path: base + ".allow_methods[1]", value: `"get"`,
		fix: `did you mean "GET"?`},
	{name: "method with space", json: `{"allow_methods": ["G ET"]}`, path: base + ".allow_methods[0]", value: `"G ET"`,
		fix: `is not a valid HTTP method token (letters, digits and`},
	{name: "method TRACE", json: `{"allow_methods": ["TRACE"]}`, path: base + ".allow_methods[0]", value: `"TRACE"`,
		fix: `"TRACE" is a forbidden method that browsers never send; remove it`},
	{name: "method star", json: `{"allow_methods": ["*"]}`, path: base + ".allow_methods[0]", value: `"*"`,
		fix: `list each method, such as ["GET", "POST", "PUT", "DELETE"]`},
	{name: "method empty", json: `{"allow_methods": [""]}`, path: base + ".allow_methods[0]", value: `""`,
		fix: `write one such as "GET"`},

	// origins
	{name: "origin with path", json: `{"allow_origins": ["https://app.example.com/login"]}`, path: base + ".allow_origins[0]", value: `"https://app.example.com/login"`,
		fix: `it has a path; an origin is scheme://host[:port] only; did you mean "https://app.example.com"?`},
	{name: "origin with trailing slash", json: `{"allow_origins": ["https://app.example.com/"]}`, path: base + ".allow_origins[0]", value: `"https://app.example.com/"`,
		fix: `it ends with a slash; an origin has no path; did you mean "https://app.example.com"?`},
	{name: "origin with query", json: `{"allow_origins": ["https://app.example.com?x=1"]}`, path: base + ".allow_origins[0]", value: `"https://app.example.com?x=1"`,
		fix: `it has a query; an origin is scheme://host[:port] only; did you mean "https://app.example.com"?`},
	{name: "origin with userinfo", json: `{"allow_origins": ["https://user:pw@app.example.com"]}`, path: base + ".allow_origins[0]", value: `"https://user:pw@app.example.com"`,
		fix: `it has user information; an origin never carries a user name or password; did you mean "https://app.example.com"?`},
	{name: "origin without scheme", json: `{"allow_origins": ["app.example.com"]}`, path: base + ".allow_origins[0]", value: `"app.example.com"`,
		fix: `it has no scheme; an origin is scheme://host[:port]; did you mean "https://app.example.com"?`},
	{name: "origin star glued to domain", json: `{"allow_origins": ["https://*example.com"]}`, path: base + ".allow_origins[0]", value: `"https://*example.com"`,
		fix: `did you mean "https://*.example.com"?`},
	{name: "origin star as TLD", json: `{"allow_origins": ["https://example.*"]}`, path: base + ".allow_origins[0]", value: `"https://example.*"`,
		fix: `would also match other domains; did you mean "https://example.com"?`},
	{name: "origin scheme prefix star", json: `{"allow_origins": ["http*"]}`, path: base + ".allow_origins[0]", value: `"http*"`,
		fix: `a * may only stand for whole DNS labels (https://*.example.com) or the port (https://example.com:*); list each origin, or write "*" alone for every origin (never with credentials)`},
	{name: "origin two stars", json: `{"allow_origins": ["https://*.*.example.com"]}`, path: base + ".allow_origins[0]", value: `"https://*.*.example.com"`,
		fix: `did you mean "https://*.example.com"?`},
	{name: "origin second item bad", json: `{"allow_origins": ["https://ok.example.com", "https://bad.example.com/"]}`, path: base + ".allow_origins[1]", value: `"https://bad.example.com/"`,
		fix: `did you mean "https://bad.example.com"?`},
	{name: "origin duplicate", json: `{"allow_origins": ["https://app.example.com", "https://b.example.com", "https://app.example.com"]}`, path: base + ".allow_origins",
		value: `["https://app.example.com","https://b.example.com","https://app.example.com"]`,
		fix:   `items 0 and 2 are both "https://app.example.com"; remove the duplicate`},
	{name: "method duplicate", json: `{"allow_methods": ["GET", "GET"]}`, path: base + ".allow_methods", value: `["GET","GET"]`,
		fix: `items 0 and 1 are both "GET"; remove the duplicate`},

	// credentials
	{name: "credentials with star", json: `{"allow_credentials": true, "allow_origins": ["*"]}`, path: base + ".allow_origins[0]", value: `"*"`,
		fix: `allow_credentials: true needs exact origins. Browsers refuse a credentialed response whose Access-Control-Allow-Origin is "*"`},
	{name: "credentials with subdomain pattern", json: `{"allow_credentials": true, "allow_origins": ["https://app.example.com", "https://*.example.com"]}`, path: base + ".allow_origins[1]", value: `"https://*.example.com"`,
		fix: `List each origin exactly (for example "https://app.example.com"), use allow_origins_regex with an anchored expression that names exactly the hosts you trust, or set allow_credentials to false`},
	{name: "credentials with any port", json: `{"allow_credentials": true, "allow_origins": ["https://example.com:*"]}`, path: base + ".allow_origins[0]", value: `"https://example.com:*"`,
		fix: `or set allow_credentials to false`},
	{name: "credentials without origins", json: `{"allow_credentials": true}`, path: base + ".allow_origins", value: ``,
		fix: `allow_credentials: true needs allow_origins (or allow_origins_regex) to list exact origins`},
	{name: "credentials with empty origins", json: `{"allow_credentials": true, "allow_origins": []}`, path: base + ".allow_origins", value: `[]`,
		fix: `allow_credentials: true needs allow_origins (or allow_origins_regex) to list exact origins; an absent or empty allow_origins means every origin`},
	{name: "credentials with null", json: `{"allow_credentials": true, "allow_origins": ["https://app.example.com", "null"]}`, path: base + ".allow_origins[1]", value: `"null"`,
		fix: `"null" cannot be combined with allow_credentials: true: sandboxed iframes, file: pages and cross-origin redirects all send Origin: null, so any site could then act as the signed-in user. Remove "null"`},
	{name: "credentials without origins names the unsafe opt-in", json: `{"allow_credentials": true, "allow_headers": ["Content-Type"]}`, path: base + ".allow_origins", value: ``,
		fix: `or set allow_credentials to false (allow_any_origin_with_credentials_unsafe: true forces it, unsafely)`},
	{name: "one origin spelled twice", json: `{"allow_origins": ["https://a.example.com", "HTTPS://A.EXAMPLE.COM:443"]}`, path: base + ".allow_origins", value: `["https://a.example.com","HTTPS://A.EXAMPLE.COM:443"]`,
		fix: `items 0 and 1, "https://a.example.com" and "HTTPS://A.EXAMPLE.COM:443", are the same origin; remove one`},
	{name: "credentials with star and unsafe false", json: `{"allow_credentials": true, "allow_any_origin_with_credentials_unsafe": false, "allow_origins": ["*"]}`, path: base + ".allow_origins[0]", value: `"*"`,
		fix: `or set allow_credentials to false`},
	{name: "unsafe without credentials", json: `{"allow_any_origin_with_credentials_unsafe": true}`, path: base + ".allow_credentials", value: ``,
		fix:        `"allow_credentials" is missing; allow_any_origin_with_credentials_unsafe: true only matters with allow_credentials: true; remove it, or set allow_credentials: true`,
		compileKey: "allow_any_origin_with_credentials_unsafe"},
	{name: "unsafe with credentials false", json: `{"allow_any_origin_with_credentials_unsafe": true, "allow_credentials": false}`, path: base + ".allow_credentials", value: `false`,
		fix:        `false is not accepted: allow_any_origin_with_credentials_unsafe: true only matters with allow_credentials: true`,
		compileKey: "allow_any_origin_with_credentials_unsafe"},
	{name: "unsafe quoted", notGo: true, json: `{"allow_any_origin_with_credentials_unsafe": "true"}`, path: base + ".allow_any_origin_with_credentials_unsafe", value: `"true"`,
		fix: `"true" is a string, not a boolean; write true or false, without quotes`},
	{name: "credentials with expose star", json: `{"allow_credentials": true, "allow_origins": ["https://app.example.com"], "expose_headers": ["*"]}`, path: base + ".expose_headers[0]", value: `"*"`,
		fix: `browsers read "*" in Access-Control-Expose-Headers as a header literally named *; list the header names instead`},

	// allow_origins_regex
	{name: "regex not anchored", json: `{"allow_origins_regex": ["https://app[.]example[.]com"]}`, path: base + ".allow_origins_regex[0]", value: `"https://app[.]example[.]com"`,
		fix: `is not anchored at both ends, so it would also match longer origins such as https://example.com.evil.net; write "^(?:https://app[.]example[.]com)$"`},
	{name: "regex anchored at the start only", json: `{"allow_origins_regex": ["^https://app[.]example[.]com"]}`, path: base + ".allow_origins_regex[0]", value: `"^https://app[.]example[.]com"`,
		fix: `write "^(?:https://app[.]example[.]com)$"`},
	{name: "regex alternation anchors one branch each", json: `{"allow_origins_regex": ["^https://a[.]example[.]com|https://b[.]example[.]com$"]}`, path: base + ".allow_origins_regex[0]", value: `"^https://a[.]example[.]com|https://b[.]example[.]com$"`,
		fix: `is not anchored at both ends, so it would also match longer origins such as https://example.com.evil.net; write "^(?:https://a[.]example[.]com|https://b[.]example[.]com)$"`},
	{name: "regex second item bad", json: `{"allow_origins_regex": ["^https://a[.]example[.]com$", "b[.]example[.]com$"]}`, path: base + ".allow_origins_regex[1]", value: `"b[.]example[.]com$"`,
		fix: `write "^(?:b[.]example[.]com)$"`},
	{name: "regex does not compile", json: `{"allow_origins_regex": ["^https://(a$"]}`, path: base + ".allow_origins_regex[0]", value: `"^https://(a$"`,
		fix: `is not a valid RE2 regular expression: error parsing regexp: missing closing )`},
	{name: "regex list as a string", notGo: true, json: `{"allow_origins_regex": "^https://a[.]example[.]com$"}`, path: base + ".allow_origins_regex", value: `"^https://a[.]example[.]com$"`,
		fix: `is a string, not an array; write a list of RE2 regular expressions anchored with ^ and $`},

	// terminate_unmatched_request and unmatched_status
	{name: "terminate quoted", notGo: true, json: `{"terminate_unmatched_request": "yes"}`, path: base + ".terminate_unmatched_request", value: `"yes"`,
		fix: `"yes" is a string, not a boolean; write true or false, without quotes`},
	{name: "unmatched_status 199", json: `{"unmatched_status": 199}`, path: base + ".unmatched_status", value: `199`,
		fix: `199 is below the minimum 200; use a status from 200 to 599, such as 403 (the default), 401 (as Swift) or 200 (as Azure)`},
	{name: "unmatched_status 600", json: `{"terminate_unmatched_request": true, "unmatched_status": 600}`, path: base + ".unmatched_status", value: `600`,
		fix: `600 is above the maximum 599; use a status from 200 to 599`},
	{name: "unmatched_status quoted", notGo: true, json: `{"unmatched_status": "401"}`, path: base + ".unmatched_status", value: `"401"`,
		fix: `"401" is a string, not an integer; use a status from 200 to 599`},
	{name: "unmatched_status fraction", notGo: true, json: `{"unmatched_status": 401.5}`, path: base + ".unmatched_status", value: `401.5`,
		fix: `401.5 is a number, not an integer`},

	// endpoint-only keys at the service level
	{name: "disable at the service level", json: `{"disable": true}`, path: base + ".disable", value: `true`,
		fix:        `"disable" only exists in an endpoint's own security/cors block (endpoints[i].extra_config); move it there. Known keys: allow_any_origin_with_credentials_unsafe,`,
		compileGap: "Compile only ever sees merged blocks, from which config.Merge drops disable"},
	{name: "strip_cors_request_headers at the service level", json: `{"strip_cors_request_headers": false}`, path: base + ".strip_cors_request_headers", value: `false`,
		fix:        `"strip_cors_request_headers" only exists in an endpoint's own security/cors block (endpoints[i].extra_config); move it there.`,
		compileGap: "Compile only ever sees merged blocks, from which config.Merge drops strip_cors_request_headers"},

	// headers
	{name: "expose prefix with a space", json: `{"expose_headers": ["X-Object Meta-*"]}`, path: base + ".expose_headers[0]", value: `"X-Object Meta-*"`,
		fix: `"X-Object Meta-*" is not a header name prefix: "X-Object Meta-" is not a valid header name`},
	{name: "expose prefix of Set-Cookie", json: `{"expose_headers": ["Set-Cookie*"]}`, path: base + ".expose_headers[0]", value: `"Set-Cookie*"`,
		fix: `is not a header name prefix: "Set-Cookie" can never be read by a page`},
	{name: "credentials with expose star next to a prefix", json: `{"allow_credentials": true, "allow_origins": ["https://app.example.com"], "expose_headers": ["X-Object-Meta-*", "*"]}`, path: base + ".expose_headers[1]", value: `"*"`,
		fix: `list the header names instead`},
	{name: "expose Set-Cookie", json: `{"expose_headers": ["Set-Cookie"]}`, path: base + ".expose_headers[0]", value: `"Set-Cookie"`,
		fix: `"Set-Cookie" can never be read by a page; remove it`},
	{name: "expose SET-COOKIE2", json: `{"expose_headers": ["X-Request-Id", "SET-COOKIE2"]}`, path: base + ".expose_headers[1]", value: `"SET-COOKIE2"`,
		fix: `can never be read by a page; remove it`},
	{name: "header list in one item", json: `{"allow_headers": ["Content-Type, Authorization"]}`, path: base + ".allow_headers[0]", value: `"Content-Type, Authorization"`,
		fix: `holds several names; write one list item per header name`},
	{name: "header with spaces", json: `{"allow_headers": [" X-Api-Key "]}`, path: base + ".allow_headers[0]", value: `" X-Api-Key "`,
		fix: `has white space around the name: did you mean "X-Api-Key"?`},

	// options_success_status
	{name: "status 404", json: `{"options_success_status": 404}`, path: base + ".options_success_status", value: `404`,
		fix: `404 is above the maximum 299; a preflight answer needs a 2xx status: use 204 (the default) or 200`},
	{name: "status 199", json: `{"options_success_status": 199}`, path: base + ".options_success_status", value: `199`,
		fix: `199 is below the minimum 200; a preflight answer needs a 2xx status: use 204 (the default) or 200`},
}

func TestValidateRefuses(t *testing.T) {
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			errs := schema.Validate(schema.ServicePolicy, decodeJSON(t, tc.json), base)
			if len(errs) != 1 {
				t.Fatalf("Validate(%s) = %d errors, want 1:\n%v", tc.json, len(errs), errs)
			}
			e := errs[0]
			if e.Path != tc.path {
				t.Errorf("Path = %s, want %s", e.Path, tc.path)
			}
			if e.Value != tc.value {
				t.Errorf("Value = %q, want %q", e.Value, tc.value)
			}
			if !strings.Contains(e.Message, tc.fix) {
				t.Errorf("Message = %q\nwant it to contain %q", e.Message, tc.fix)
			}
			if got, want := e.Error(), e.Path+": "+e.Message; got != want {
				t.Errorf("Error() = %q, want %q", got, want)
			}
		})
	}
}

func TestValidateReportsEveryProblemSortedByPath(t *testing.T) {
	tests := []struct {
		name  string
		json  string
		paths []string
		fixes []string
	}{
		{
			name:  "three bad keys",
			json:  `{"max_age": 12, "debug": "yes", "allow_origin": []}`,
			paths: []string{base + ".allow_origin", base + ".debug", base + ".max_age"},
			fixes: []string{`did you mean "allow_origins"?`, `write true or false, without quotes`, `write a duration string`},
		},
		{
			name: "indexes sort by number, not as text",
			json: `{"allow_methods": ["M0", "M1", "get", "M3", "M4", "M5", "M6", "M7", "M8", "M9", "TRACE", "M11"], "allow_origins": ["https://a.example.com", "https://b.example.com", "https://c.example.com/", "https://d.example.com", "https://e.example.com", "https://f.example.com", "https://g.example.com", "https://h.example.com", "https://i.example.com", "https://j.example.com", "https://k.example.com?x", "https://l.example.com"]}`,
			paths: []string{
				base + ".allow_methods[2]",
				base + ".allow_methods[10]",
				base + ".allow_origins[2]",
				base + ".allow_origins[10]",
			},
			fixes: []string{
				`did you mean "GET"?`,
				`"TRACE" is a forbidden method`,
				`did you mean "https://c.example.com"?`,
				`did you mean "https://k.example.com"?`,
			},
		},
		{
			name: "items and keys mixed",
			json: `{"options_success_status": 404, "allow_methods": ["get", "TRACE"], "allow_origins": ["https://a.example.com/", "*"], "allow_credentials": true}`,
			paths: []string{
				base + ".allow_methods[0]",
				base + ".allow_methods[1]",
				base + ".allow_origins[0]",
				base + ".allow_origins[1]",
				base + ".options_success_status",
			},
			fixes: []string{
				`did you mean "GET"?`,
				`browsers never send; remove it`,
				`did you mean "https://a.example.com"?`,
				`or set allow_credentials to false`,
				`use 204 (the default) or 200`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := schema.Validate(schema.ServicePolicy, decodeJSON(t, tc.json), base)
			var paths []string
			for _, e := range errs {
				paths = append(paths, e.Path)
			}
			if !slices.Equal(paths, tc.paths) {
				t.Fatalf("paths = %q\nwant    %q\nerrors:\n%v", paths, tc.paths, errs)
			}
			for i, e := range errs {
				if !strings.Contains(e.Message, tc.fixes[i]) {
					t.Errorf("%s: message %q does not contain %q", e.Path, e.Message, tc.fixes[i])
				}
			}
			lines := strings.Split(errs.Error(), "\n")
			if len(lines) != len(tc.paths) {
				t.Errorf("Errors.Error() has %d lines, want %d", len(lines), len(tc.paths))
			}
		})
	}
}

// acceptedCases are blocks that the schema and the compiler both accept.
var accepted = []struct {
	name string
	json string
}{
	{"credentials with regex origins only", `{"allow_credentials": true, "allow_origins_regex": ["^https://app[.]example[.]com$"]}`},
	{"KrakenD documentation example", `{"allow_origins":["*"],"allow_methods":["GET","HEAD","POST"],"expose_headers":["Content-Length","Content-Type"],"allow_headers":["Accept-Language"],"max_age":"12h","allow_credentials":false,"debug":false}`},
	{"empty object", `{}`},
	{"comment string", `{"@comment": "owned by the web team", "allow_origins": ["https://app.example.com"]}`},
	{"comment object", `{"@comment": {"ticket": "WEB-12"}}`},
	{"all ten original keys", `{
		"allow_origins": ["https://app.example.com", "http://localhost:3000"],
		"allow_methods": ["GET", "POST", "PUT", "DELETE", "PATCH"],
		"allow_headers": ["Content-Type", "Authorization", "X-Api-Key"],
		"expose_headers": ["X-Request-Id", "Content-Length"],
		"max_age": "10m",
		"allow_credentials": true,
		"allow_private_network": true,
		"options_passthrough": true,
		"options_success_status": 200,
		"debug": true
	}`},
	{"every service key", `{
		"@comment": "web team",
		"allow_origins": ["https://app.example.com", "http://localhost:3000"],
		"allow_origins_regex": ["^https://pr-[0-9]+[.]preview[.]example[.]com$"],
		"allow_methods": ["GET", "POST", "PUT", "DELETE", "PATCH"],
		"allow_headers": ["Content-Type", "Authorization", "X-Api-Key"],
		"expose_headers": ["X-Request-Id", "Content-Length", "X-Object-Meta-*"],
		"max_age": "10m",
		"allow_credentials": true,
		"allow_any_origin_with_credentials_unsafe": false,
		"allow_private_network": true,
		"options_passthrough": true,
		"options_success_status": 200,
		"terminate_unmatched_request": true,
		"unmatched_status": 401,
		"debug": true
	}`},
	{"null without credentials", `{"allow_origins": ["https://app.example.com", "null"]}`},
	{"null with credentials false", `{"allow_origins": ["null"], "allow_credentials": false}`},
	{"regex anchored", `{"allow_origins_regex": ["^https://pr-[0-9]+\\.preview\\.example\\.com$"]}`},
	{"regex alternation in a group", `{"allow_origins_regex": ["^(?:https://a[.]example[.]com|https://b[.]example[.]com)$"]}`},
	{"regex with flags inside the anchors", `{"allow_origins_regex": ["^(?i:https://app[.]example[.]com)$"]}`},
	{"regex and origins together", `{"allow_origins": ["https://app.example.com"], "allow_origins_regex": ["^https://[a-z]+[.]example[.]net$"]}`},
	{"unsafe with credentials and no origins", `{"allow_credentials": true, "allow_any_origin_with_credentials_unsafe": true}`},
	{"unsafe with credentials and star", `{"allow_credentials": true, "allow_any_origin_with_credentials_unsafe": true, "allow_origins": ["*"]}`},
	{"unsafe with credentials and empty origins", `{"allow_credentials": true, "allow_any_origin_with_credentials_unsafe": true, "allow_origins": []}`},
	{"unsafe false without credentials", `{"allow_any_origin_with_credentials_unsafe": false}`},
	{"terminate with the default status", `{"terminate_unmatched_request": true}`},
	{"unmatched_status 200", `{"unmatched_status": 200}`},
	{"unmatched_status 599", `{"unmatched_status": 599}`},
	{"unmatched_status 401 with terminate", `{"terminate_unmatched_request": true, "unmatched_status": 401}`},
	{"expose prefix", `{"expose_headers": ["X-Object-Meta-*"]}`},
	{"expose prefix with credentials", `{"allow_credentials": true, "allow_origins": ["https://app.example.com"], "expose_headers": ["X-Request-Id", "X-Object-Meta-*"]}`},
	{"max_age 0", `{"max_age": "0"}`},
	{"max_age 0s", `{"max_age": "0s"}`},
	{"max_age 1h30m", `{"max_age": "1h30m"}`},
	{"max_age 1.0s", `{"max_age": "1.0s"}`},
	{"max_age 2000ms", `{"max_age": "2000ms"}`},
	{"allow_headers star", `{"allow_headers": ["*"]}`},
	{"expose star without credentials", `{"expose_headers": ["*"]}`},
	{"wildcard origins without credentials", `{"allow_origins": ["https://*.example.com", "https://example.com:*", "https://*.example.com:*"]}`},
	{"credentials false with star", `{"allow_credentials": false, "allow_origins": ["*"]}`},
	{"empty lists", `{"allow_origins": [], "allow_methods": [], "allow_headers": [], "expose_headers": []}`},
	{"status bounds", `{"options_success_status": 299}`},
	{"status as float without fraction", `{"options_success_status": 204.0}`},
}

func TestValidateAccepts(t *testing.T) {
	for _, tc := range accepted {
		t.Run(tc.name, func(t *testing.T) {
			if errs := schema.Validate(schema.ServicePolicy, decodeJSON(t, tc.json), base); errs != nil {
				t.Errorf("Validate(%s) refused it:\n%v", tc.json, errs)
			}
		})
	}
}

func TestValidateUnknownDefinition(t *testing.T) {
	errs := schema.Validate("noSuchDefinition", map[string]any{}, base)
	if len(errs) != 1 || errs[0].Path != base || !strings.Contains(errs[0].Message, `no schema definition "noSuchDefinition"`) {
		t.Errorf("Validate with an unknown definition = %v", errs)
	}
}

func TestValidateNotAnObject(t *testing.T) {
	hints := map[string]string{
		schema.ServicePolicy:  `not an object; write a JSON object such as {"allow_origins": ["https://app.example.com"]}`,
		schema.EndpointPolicy: `not an object; write a JSON object such as {"allow_origins": ["https://admin.example.com"]}, or {"disable": true} to exempt the endpoint`,
	}
	for def, hint := range hints {
		for _, text := range []string{`"yes"`, `[]`, `true`, `null`, `1`} {
			errs := schema.Validate(def, decodeJSON(t, text), base)
			if len(errs) != 1 || errs[0].Path != base || errs[0].Value != text || !strings.Contains(errs[0].Message, hint) {
				t.Errorf("Validate(%s, %s) = %v, want one error at %s with value %s containing %q", def, text, errs, base, text, hint)
			}
		}
	}
}

// corsKeys are the JSON keys config.CORS has a field for, exactly as
// spelled in its tags.
func corsKeys() map[string]bool {
	keys := map[string]bool{}
	typ := reflect.TypeFor[config.CORS]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		keys[name] = true
	}
	return keys
}

// decodeCORS decodes a block into config.CORS. ok is false when the Go
// struct cannot express the block: a value of the wrong type, or a key
// that config.CORS has no field for under that exact spelling
// (encoding/json would otherwise fold "Debug" into debug).
func decodeCORS(text string) (c config.CORS, ok bool) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return c, false
	}
	keys := corsKeys()
	for k := range raw {
		if !keys[k] {
			return c, false
		}
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, false
	}
	return c, true
}

func TestCompileAgreesWithSchema(t *testing.T) {
	for _, tc := range refused {
		c, ok := decodeCORS(tc.json)
		if ok == tc.notGo {
			t.Errorf("%s: decoding %s into config.CORS: ok = %v, want %v", tc.name, tc.json, ok, !tc.notGo)
		}
		if !ok {
			continue // the Go compiler cannot be handed this block
		}
		t.Run("refused/"+tc.name, func(t *testing.T) {
			_, err := policy.Compile(c, base)
			if tc.compileGap != "" {
				if err != nil {
					t.Fatalf("Compile now refuses %s (%v); the known gap %q is fixed: remove the compileGap mark", tc.json, err, tc.compileGap)
				}
				t.Logf("known disagreement: the schema refuses %s but Compile accepts it (%s)", tc.json, tc.compileGap)
				return
			}
			if err == nil {
				t.Fatalf("the schema refuses %s but Compile accepts it", tc.json)
			}
			var errs schema.Errors
			if e, ok := err.(schema.Errors); ok {
				errs = e
			} else {
				t.Fatalf("Compile error is %T, want schema.Errors", err)
			}
			// The compiler names the same key (it may name the list where
			// the schema names the item).
			key := strings.TrimPrefix(tc.path, base)
			key, _, _ = strings.Cut(key, "[")
			if tc.compileKey != "" {
				key = "." + tc.compileKey
			}
			for _, e := range errs {
				if strings.HasPrefix(e.Path, base+key) {
					return
				}
			}
			t.Errorf("Compile errors do not name %s: %v", base+key, errs)
		})
	}
	for _, tc := range accepted {
		t.Run("accepted/"+tc.name, func(t *testing.T) {
			c, ok := decodeCORS(tc.json)
			if !ok {
				// 204.0 is an integer to JSON Schema but not to encoding/json;
				// config.Parse re-encodes the decoded value, which turns it into 204.
				var v any
				if err := json.Unmarshal([]byte(tc.json), &v); err != nil {
					t.Fatal(err)
				}
				b, err := json.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				if c, ok = decodeCORS(string(b)); !ok {
					t.Fatalf("cannot decode accepted block %s into config.CORS", tc.json)
				}
			}
			if _, err := policy.Compile(c, base); err != nil {
				t.Errorf("the schema accepts %s but Compile refuses it: %v", tc.json, err)
			}
		})
	}
}

func TestSchemaDefaultsMatchRunTime(t *testing.T) {
	var doc struct {
		Defs map[string]map[string]any `json:"$defs"`
	}
	if err := json.Unmarshal(schema.CORSSchema, &doc); err != nil {
		t.Fatalf("CORSSchema is not JSON: %v", err)
	}
	def := func(name string) any {
		t.Helper()
		d, ok := doc.Defs[name]
		if !ok {
			t.Fatalf("no $defs.%s", name)
		}
		v, ok := d["default"]
		if !ok {
			t.Fatalf("$defs.%s has no default", name)
		}
		return v
	}

	var methods []string
	raw, _ := def("allow_methods").([]any)
	for _, m := range raw {
		s, _ := m.(string)
		methods = append(methods, s)
	}
	if !slices.Equal(methods, policy.DefaultMethods) {
		t.Errorf("$defs.allow_methods.default = %q, policy.DefaultMethods = %q", methods, policy.DefaultMethods)
	}

	if got := def("options_success_status"); got != float64(policy.DefaultOptionsSuccessStatus) {
		t.Errorf("$defs.options_success_status.default = %v, policy.DefaultOptionsSuccessStatus = %d", got, policy.DefaultOptionsSuccessStatus)
	}
	p, err := policy.Compile(config.CORS{}, base)
	if err != nil {
		t.Fatal(err)
	}
	if p.SuccessStatus() != policy.DefaultOptionsSuccessStatus {
		t.Errorf("an empty block compiles to status %d, want %d", p.SuccessStatus(), policy.DefaultOptionsSuccessStatus)
	}

	maxAge, _ := def("max_age").(string)
	if maxAge != "0s" {
		t.Errorf(`$defs.max_age.default = %q, want "0s"`, maxAge)
	}
	if d, err := schema.CheckDuration(maxAge); err != nil || d != 0 {
		t.Errorf("CheckDuration(%q) = %v, %v; want 0, nil", maxAge, d, err)
	}

	if got := def("unmatched_status"); got != float64(policy.DefaultUnmatchedStatus) {
		t.Errorf("$defs.unmatched_status.default = %v, policy.DefaultUnmatchedStatus = %d", got, policy.DefaultUnmatchedStatus)
	}
	if p.UnmatchedStatus() != policy.DefaultUnmatchedStatus || p.Terminate() || p.Credentials() || p.ReflectsAnyOriginWithCredentials() || p.StripRequestHeaders() {
		t.Errorf("an empty block compiles to unmatched status %d, terminate %v, credentials %v, unsafe %v, strip %v; want %d and all off",
			p.UnmatchedStatus(), p.Terminate(), p.Credentials(), p.ReflectsAnyOriginWithCredentials(), p.StripRequestHeaders(), policy.DefaultUnmatchedStatus)
	}

	for _, name := range []string{"allow_credentials", "allow_any_origin_with_credentials_unsafe", "allow_private_network", "options_passthrough", "terminate_unmatched_request", "debug", "disable", "strip_cors_request_headers"} {
		if got := def(name); got != false {
			t.Errorf("$defs.%s.default = %v, want false (a nil *bool is off)", name, got)
		}
	}
	for _, name := range []string{"allow_origins", "allow_origins_regex", "allow_headers", "expose_headers"} {
		if got, ok := def(name).([]any); !ok || len(got) != 0 {
			t.Errorf("$defs.%s.default = %v, want [] (the same as absent)", name, def(name))
		}
	}

	// A block that spells out every default is valid, at either level.
	for _, level := range []struct {
		def  string
		keys int
	}{{schema.ServicePolicy, 14}, {schema.EndpointPolicy, 16}} {
		all := map[string]any{}
		for key := range doc.Defs[level.def]["properties"].(map[string]any) {
			if strings.HasPrefix(key, "@") {
				continue
			}
			all[key] = def(key)
		}
		if len(all) != level.keys {
			t.Errorf("%s declares %d keys, want %d", level.def, len(all), level.keys)
		}
		if errs := schema.Validate(level.def, all, base); errs != nil {
			t.Errorf("the %s block of all defaults is refused:\n%v", level.def, errs)
		}
	}

	// Every key config.CORS has is declared at the endpoint level, and at
	// the service level except the two endpoint-only keys.
	service := doc.Defs[schema.ServicePolicy]["properties"].(map[string]any)
	endpoint := doc.Defs[schema.EndpointPolicy]["properties"].(map[string]any)
	for key := range corsKeys() {
		if _, ok := endpoint[key]; !ok {
			t.Errorf("config.CORS has %q but endpointPolicy does not declare it", key)
		}
		_, inService := service[key]
		if endpointOnly := key == "disable" || key == "strip_cors_request_headers"; inService == endpointOnly {
			t.Errorf("servicePolicy declares %q: %v, want %v", key, inService, !endpointOnly)
		}
	}
	if len(corsKeys()) != len(endpoint) {
		t.Errorf("config.CORS has %d keys, endpointPolicy declares %d", len(corsKeys()), len(endpoint))
	}
}

func TestCheckDuration(t *testing.T) {
	tests := []struct {
		in      string
		seconds int64
		err     string
	}{
		{in: "0", seconds: 0},
		{in: "0s", seconds: 0},
		{in: "12h", seconds: 12 * 3600},
		{in: "1h30m", seconds: 5400},
		{in: "90s", seconds: 90},
		{in: "2000ms", seconds: 2},
		{in: "12", err: "is not a duration string"},
		{in: "+1h", err: "is not a duration string"},
		{in: "-1s", err: "is negative"},
		{in: "1.5s", err: `use "1s"`},
		{in: "1h0.5s", err: "not a whole number of seconds"},
	}
	for _, tc := range tests {
		d, err := schema.CheckDuration(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("CheckDuration(%q) = %v, %v; want an error containing %q", tc.in, d, err, tc.err)
			}
			continue
		}
		if err != nil || int64(d.Seconds()) != tc.seconds {
			t.Errorf("CheckDuration(%q) = %v, %v; want %ds", tc.in, d, err, tc.seconds)
		}
	}
}

func TestPathAndIndex(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"slash key is quoted", schema.Path("extra_config", "security/cors"), `extra_config["security/cors"]`},
		{"plain key is dotted", schema.Path(`extra_config["security/cors"]`, "max_age"), `extra_config["security/cors"].max_age`},
		{"index", schema.Index(`extra_config["security/cors"].allow_origins`, 3), `extra_config["security/cors"].allow_origins[3]`},
		{"nested", schema.Index(schema.Path("endpoints", "x"), 0), `endpoints.x[0]`},
		{"plain key at the root", schema.Path("", "extra_config"), "extra_config"},
		{"quoted key at the root", schema.Path("", "security/cors"), `["security/cors"]`},
		{"at-key is quoted", schema.Path("c", "@comment"), `c["@comment"]`},
		{"leading digit is quoted", schema.Path("c", "1st"), `c["1st"]`},
		{"later digit is plain", schema.Path("c", "h2"), `c.h2`},
		{"empty key is quoted", schema.Path("c", ""), `c[""]`},
		{"quote in key is escaped", schema.Path("c", `a"b`), `c["a\"b"]`},
		{"dash is quoted", schema.Path("c", "auto-options"), `c["auto-options"]`},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, tc.got, tc.want)
		}
	}
}

func TestErrorsError(t *testing.T) {
	tests := []struct {
		name string
		errs schema.Errors
		want string
	}{
		{"none", schema.Errors{}, ""},
		{"one", schema.Errors{{Path: "a.b", Message: "bad"}}, "a.b: bad"},
		{"two", schema.Errors{{Path: "a.b", Value: "1", Message: "bad"}, {Path: "a.c", Message: "worse"}}, "a.b: bad\na.c: worse"},
	}
	for _, tc := range tests {
		if got := tc.errs.Error(); got != tc.want {
			t.Errorf("%s: Error() = %q, want %q", tc.name, got, tc.want)
		}
	}
}
