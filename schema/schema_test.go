package schema_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/corsgate/corsgate/schema"
)

// These tests hold the schema package to its own contract: the shape
// checks (types, unknown keys), the rendering of violations (paths,
// values, sorting, the Shape flag) and the combination keywords of
// cors.schema.json. The CORS grammar is not this package's: the formats
// here are stubs, and engine/policy tests the schema compiled with the
// real grammar against the policy validator.

// base is where a service-level block sits in a gateway configuration.
const base = `extra_config["security/cors"]`

// endpointBase is where an endpoint-level block sits.
const endpointBase = `endpoints[1].extra_config["security/cors"]`

// serviceKnownKeys are the keys of a service-level block: the Known list
// of an unknown service-level key.
var serviceKnownKeys = strings.Split("allow_any_origin_with_credentials_unsafe allow_credentials allow_headers allow_methods allow_origins allow_origins_regex allow_origins_regex_unsafe allow_private_network debug expose_headers max_age options_passthrough options_success_status terminate_unmatched_request unmatched_status websocket_origins", " ")

// endpointKnownKeys are the keys of an endpoint-level block.
var endpointKnownKeys = strings.Split("allow_any_origin_with_credentials_unsafe allow_credentials allow_headers allow_methods allow_origins allow_origins_regex allow_origins_regex_unsafe allow_private_network debug disable expose_headers max_age options_passthrough options_success_status strip_cors_request_headers terminate_unmatched_request unmatched_status websocket_origins", " ")

// acceptAll is a format set that defines every format the schema needs and
// accepts every value, so that only the schema's own keywords judge.
func acceptAll() []schema.Format {
	fs := make([]schema.Format, 0, len(schema.FormatNames))
	for _, name := range schema.FormatNames {
		fs = append(fs, schema.Format{Name: name, Check: func(any) error { return nil }})
	}
	return fs
}

// refusing is acceptAll, except that the format name refuses every string
// that starts with "bad", with the message "<value> is refused by the stub".
func refusing(name string) []schema.Format {
	fs := acceptAll()
	for i := range fs {
		if fs[i].Name == name {
			fs[i].Check = func(v any) error {
				if s, ok := v.(string); ok && strings.HasPrefix(s, "bad") {
					return errors.New(s + " is refused by the stub")
				}
				return nil
			}
		}
	}
	return fs
}

func mustNew(t *testing.T, formats []schema.Format) *schema.Schema {
	t.Helper()
	s, err := schema.New(formats...)
	if err != nil {
		t.Fatalf("schema.New: %v", err)
	}
	return s
}

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

// New compiles the schema only with a checker for every format it names:
// leaving any one out is an error that names it, so that a format can
// never be silently unchecked.
func TestNewRefusesAMissingFormat(t *testing.T) {
	tests := []struct {
		name    string
		formats []schema.Format
		want    string // "" when New must succeed
	}{
		{name: "no formats at all", formats: nil, want: `no checker for the format "` + schema.FormatNames[0] + `"`},
		{name: "every format", formats: acceptAll()},
		{name: "every format and an extra one", formats: append(acceptAll(), schema.Format{Name: "unused", Check: func(any) error { return nil }})},
	}
	for _, missing := range schema.FormatNames {
		tests = append(tests, struct {
			name    string
			formats []schema.Format
			want    string
		}{
			name:    "without " + missing,
			formats: slices.DeleteFunc(acceptAll(), func(f schema.Format) bool { return f.Name == missing }),
			want:    `no checker for the format "` + missing + `"`,
		})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := schema.New(tc.formats...)
			if tc.want == "" {
				if err != nil || s == nil {
					t.Fatalf("New = %v, %v; want a schema", s, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || s != nil {
				t.Fatalf("New = %v, %v; want no schema and an error containing %q", s, err, tc.want)
			}
		})
	}
}

// FormatNames lists exactly the formats cors.schema.json uses: a format
// added to the file but not to the list would never be asserted, and a
// name in the list that the file does not use would make every caller
// define a checker for nothing.
func TestFormatNamesMatchTheSchemaFile(t *testing.T) {
	var doc any
	if err := json.Unmarshal(schema.CORSSchema, &doc); err != nil {
		t.Fatalf("cors.schema.json is not JSON: %v", err)
	}
	used := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch n := v.(type) {
		case map[string]any:
			for k, c := range n {
				if s, ok := c.(string); ok && k == "format" {
					used[s] = true
				}
				walk(c)
			}
		case []any:
			for _, c := range n {
				walk(c)
			}
		}
	}
	walk(doc)
	var got []string
	for name := range used {
		got = append(got, name)
	}
	sort.Strings(got)
	want := slices.Clone(schema.FormatNames)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("formats used in cors.schema.json = %q\nFormatNames                     = %q", got, want)
	}
}

// shapeCase is a block with exactly one violation.
type shapeCase struct {
	name  string
	def   string
	json  string
	path  string // exact
	value string // exact
	msg   string // a part of the message
	shape bool   // the Shape flag
}

// Wrong JSON types and unknown keys are shape violations: the schema says
// what the value is, what is wanted, and (from x-hint) what to write; an
// unknown key gets its nearest known key and the list of known keys.
func TestValidateShape(t *testing.T) {
	s := mustNew(t, acceptAll())
	S, E := schema.ServicePolicy, schema.EndpointPolicy
	tests := []shapeCase{
		// wrong types
		{"max_age number", S, `{"max_age": 12}`, base + ".max_age", `12`, `12 is a number, not a string; write a duration string such as "12h", "30m" or "90s"`, true},
		{"allow_origins string", S, `{"allow_origins": "https://app.example.com"}`, base + ".allow_origins", `"https://app.example.com"`, `"https://app.example.com" is a string, not an array; write a list of origins, such as ["https://app.example.com"]`, true},
		{"debug quoted", S, `{"debug": "yes"}`, base + ".debug", `"yes"`, `"yes" is a string, not a boolean; write true or false, without quotes`, true},
		{"allow_credentials quoted", S, `{"allow_credentials": "true"}`, base + ".allow_credentials", `"true"`, `"true" is a string, not a boolean; write true or false, without quotes`, true},
		{"options_success_status fraction", S, `{"options_success_status": 200.5}`, base + ".options_success_status", `200.5`, `200.5 is a number, not an integer; a preflight answer needs a 2xx status: use 204 (the default) or 200`, true},
		{"options_success_status quoted", S, `{"options_success_status": "204"}`, base + ".options_success_status", `"204"`, `"204" is a string, not an integer; a preflight answer needs a 2xx status`, true},
		{"allow_methods number item", S, `{"allow_methods": [1]}`, base + ".allow_methods[0]", `1`, `1 is a number, not a string; write an upper-case HTTP method token such as "GET"`, true},
		{"allow_methods null item", S, `{"allow_methods": ["GET", null]}`, base + ".allow_methods[1]", `null`, `null is not a string; write an upper-case HTTP method token`, true},
		{"allow_headers object", S, `{"allow_headers": {"Content-Type": true}}`, base + ".allow_headers", `{"Content-Type":true}`, `is an object, not an array; write a list of header names, such as ["Content-Type", "Authorization"]`, true},
		{"expose_headers boolean item", S, `{"expose_headers": [true]}`, base + ".expose_headers[0]", `true`, `true is a boolean, not a string; write a response header name such as "X-Request-Id"`, true},
		{"comment number", S, `{"@comment": 5}`, base + `["@comment"]`, `5`, `5 is a number, not a string or an array or an object`, true},
		{"regex list as a string", S, `{"allow_origins_regex": "^https://a[.]example[.]com$"}`, base + ".allow_origins_regex", `"^https://a[.]example[.]com$"`, `is a string, not an array; write a list of RE2 regular expressions anchored with ^ and $`, true},
		{"terminate quoted", S, `{"terminate_unmatched_request": "yes"}`, base + ".terminate_unmatched_request", `"yes"`, `"yes" is a string, not a boolean; write true or false, without quotes`, true},
		{"unmatched_status quoted", S, `{"unmatched_status": "401"}`, base + ".unmatched_status", `"401"`, `"401" is a string, not an integer; use a status from 200 to 599`, true},
		{"unmatched_status fraction", S, `{"unmatched_status": 401.5}`, base + ".unmatched_status", `401.5`, `401.5 is a number, not an integer`, true},
		{"unsafe quoted", S, `{"allow_any_origin_with_credentials_unsafe": "true"}`, base + ".allow_any_origin_with_credentials_unsafe", `"true"`, `"true" is a string, not a boolean; write true or false, without quotes`, true},
		{"regex unsafe quoted", S, `{"allow_origins_regex_unsafe": "yes"}`, base + ".allow_origins_regex_unsafe", `"yes"`, `"yes" is a string, not a boolean; write true or false, without quotes`, true},
		{"null value", S, `{"max_age": null}`, base + ".max_age", `null`, `null is not a string; write a duration string`, true},
		{"disable quoted", E, `{"disable": "yes"}`, endpointBase + ".disable", `"yes"`, `"yes" is a string, not a boolean; write true or false, without quotes`, true},
		{"strip as a number", E, `{"strip_cors_request_headers": 1}`, endpointBase + ".strip_cors_request_headers", `1`, `1 is a number, not a boolean; write true or false, without quotes`, true},

		// unknown keys
		{"unknown key allow_origin", S, `{"allow_origin": ["https://app.example.com"]}`, base + ".allow_origin", `["https://app.example.com"]`, `unknown key "allow_origin"; did you mean "allow_origins"?`, true},
		{"unknown key Debug", S, `{"Debug": true}`, base + ".Debug", `true`, `unknown key "Debug"; did you mean "debug"?`, true},
		{"unknown key regex_unsafe typo", S, `{"allow_origin_regex_unsafe": true}`, base + ".allow_origin_regex_unsafe", `true`, `did you mean "allow_origins_regex_unsafe"?`, true},
		{"unknown at-key", S, `{"@note": "x"}`, base + `["@note"]`, `"x"`, `unknown key "@note"`, true},
		{"unknown key far from any", S, `{"zzzzzzzzzzzz": 1}`, base + ".zzzzzzzzzzzz", `1`, `unknown key "zzzzzzzzzzzz"`, true},
		{"disabled typo", E, `{"disabled": true}`, endpointBase + ".disabled", `true`, `unknown key "disabled"; did you mean "disable"?`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vs := s.Validate(tc.def, decodeJSON(t, tc.json), pathBase(tc.def))
			checkOne(t, vs, tc)
			// A key far from every known key gets no suggestion.
			if far := strings.HasPrefix(tc.name, "unknown key far") || strings.HasPrefix(tc.name, "unknown at-key"); far && strings.Contains(vs[0].Message, "did you mean") {
				t.Errorf("Message = %q suggests a key for %s", vs[0].Message, tc.json)
			}
		})
	}
}

// An unknown key's message leaves the known keys out, for a report to
// list them once: Known carries them, those of the object's level. A key
// close to a known one gets the rename as its Fix, unless the object has
// that key already (then the fix removes the misspelt one).
func TestValidateUnknownKeys(t *testing.T) {
	s := mustNew(t, acceptAll())
	S, E := schema.ServicePolicy, schema.EndpointPolicy
	tests := []struct {
		name, def, json, msg string
		known                []string
		fix                  *schema.Fix
	}{
		{"typo", S, `{"allow_origin": []}`, `unknown key "allow_origin"; did you mean "allow_origins"?`, serviceKnownKeys, schema.RenameTo("allow_origins")},
		{"case", S, `{"Debug": true}`, `unknown key "Debug"; did you mean "debug"?`, serviceKnownKeys, schema.RenameTo("debug")},
		{"endpoint typo", E, `{"disabled": true}`, `unknown key "disabled"; did you mean "disable"?`, endpointKnownKeys, schema.RenameTo("disable")},
		{"far from any", S, `{"zzzzzzzzzzzz": 1}`, `unknown key "zzzzzzzzzzzz"`, serviceKnownKeys, nil},
		{"typo next to the key", S, `{"allow_origin": [], "allow_origins": []}`, `unknown key "allow_origin", a misspelt "allow_origins", which is set here too; remove one of them`, serviceKnownKeys, schema.RemoveIt()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vs := s.Validate(tc.def, decodeJSON(t, tc.json), pathBase(tc.def))
			if len(vs) != 1 {
				t.Fatalf("Validate(%s) = %v, want one violation", tc.json, vs)
			}
			v := vs[0]
			if v.Message != tc.msg {
				t.Errorf("Message = %q, want %q", v.Message, tc.msg)
			}
			if strings.Contains(v.Message, "allow_private_network") {
				t.Errorf("Message = %q lists the known keys", v.Message)
			}
			if !slices.Equal(v.Known, tc.known) {
				t.Errorf("Known = %v, want %v", v.Known, tc.known)
			}
			if !sameFix(v.Fix, tc.fix) {
				t.Errorf("Fix = %+v, want %+v", v.Fix, tc.fix)
			}
		})
	}
}

// A value of the wrong type that says what it means gets that value as
// its Fix, and the message suggests it: a quoted boolean or integer
// unquoted (an integer only within the schema's range), and what the
// format's Suggest makes of it, when the format accepts that.
func TestValidateSuggestsTheType(t *testing.T) {
	formats := acceptAll()
	for i := range formats {
		if formats[i].Name == "go-duration" {
			formats[i].Suggest = func(v any) (any, bool) {
				if f, ok := v.(float64); ok && f >= 0 {
					return fmt.Sprintf("%gs", f), true
				}
				return "", false
			}
			formats[i].Check = func(v any) error {
				if s, _ := v.(string); s == "7s" {
					return errors.New("7s is refused by the stub")
				}
				return nil
			}
		}
	}
	s := mustNew(t, formats)
	tests := []struct {
		name, json, at, msg string
		fix                 *schema.Fix
	}{
		{"quoted true", `{"debug": "true"}`, ".debug", `"true" is a string, not a boolean; write true or false, without quotes; did you mean true?`, schema.ReplaceWith(true)},
		{"quoted false", `{"allow_credentials": "false"}`, ".allow_credentials", `did you mean false?`, schema.ReplaceWith(false)},
		{"yes", `{"debug": "yes"}`, ".debug", `write true or false, without quotes`, nil},
		{"quoted status", `{"options_success_status": "204"}`, ".options_success_status", `"204" is a string, not an integer; a preflight answer needs a 2xx status: use 204 (the default) or 200; did you mean 204?`, schema.ReplaceWith(204)},
		{"quoted status out of range", `{"options_success_status": "404"}`, ".options_success_status", `"404" is a string, not an integer`, nil},
		{"quoted unmatched status", `{"unmatched_status": "401"}`, ".unmatched_status", `did you mean 401?`, schema.ReplaceWith(401)},
		{"quoted number with a sign", `{"unmatched_status": "+401"}`, ".unmatched_status", `is a string, not an integer`, nil},
		{"duration as a number", `{"max_age": 12}`, ".max_age", `12 is a number, not a string; write a duration string such as "12h", "30m" or "90s"; did you mean "12s"?`, schema.ReplaceWith("12s")},
		{"duration the format refuses", `{"max_age": 7}`, ".max_age", `7 is a number, not a string`, nil},
		{"duration Suggest declines", `{"max_age": -3}`, ".max_age", `-3 is a number, not a string`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vs := s.Validate(schema.ServicePolicy, decodeJSON(t, tc.json), base)
			if len(vs) != 1 || vs[0].Path != base+tc.at {
				t.Fatalf("Validate(%s) = %v, want one violation at %s", tc.json, vs, base+tc.at)
			}
			if !strings.Contains(vs[0].Message, tc.msg) {
				t.Errorf("Message = %q\nwant it to contain %q", vs[0].Message, tc.msg)
			}
			if !sameFix(vs[0].Fix, tc.fix) {
				t.Errorf("Fix = %+v, want %+v", vs[0].Fix, tc.fix)
			}
			if tc.fix == nil && strings.Contains(vs[0].Message, "did you mean") {
				t.Errorf("Message = %q suggests a value, but there is no fix", vs[0].Message)
			}
		})
	}
}

// sameFix reports whether two fixes do the same.
func sameFix(a, b *schema.Fix) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Op == b.Op && a.Key == b.Key && string(a.Value) == string(b.Value)
}

func pathBase(def string) string {
	if def == schema.EndpointPolicy {
		return endpointBase
	}
	return base
}

func checkOne(t *testing.T, vs []schema.Violation, tc shapeCase) {
	t.Helper()
	if len(vs) != 1 {
		t.Fatalf("Validate(%s, %s) = %d violations, want 1:\n%v", tc.def, tc.json, len(vs), vs)
	}
	v := vs[0]
	if v.Path != tc.path || v.Value != tc.value {
		t.Errorf("Path, Value = %s, %s; want %s, %s", v.Path, v.Value, tc.path, tc.value)
	}
	if !strings.Contains(v.Message, tc.msg) {
		t.Errorf("Message = %q\nwant it to contain %q", v.Message, tc.msg)
	}
	if v.Shape != tc.shape {
		t.Errorf("Shape = %v, want %v (message %q)", v.Shape, tc.shape, v.Message)
	}
	if got, want := v.Error(), v.Path+": "+v.Message; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// Violations of meaning (ranges, lists, formats, the combination rules)
// are never Shape: ParseBlock in engine/policy keeps only Shape violations
// and leaves meaning to the validator, so a wrong flag would either make
// the gateway refuse twice or judge a meaning by the schema's words.
func TestValidateMeaningIsNotShape(t *testing.T) {
	S, E := schema.ServicePolicy, schema.EndpointPolicy
	tests := []struct {
		shapeCase
		formats []schema.Format
	}{
		{shapeCase{"status above the maximum", S, `{"options_success_status": 404}`, base + ".options_success_status", `404`, `404 is above the maximum 299; a preflight answer needs a 2xx status: use 204 (the default) or 200`, false}, acceptAll()},
		{shapeCase{"status below the minimum", S, `{"unmatched_status": 199}`, base + ".unmatched_status", `199`, `199 is below the minimum 200; use a status from 200 to 599, such as 403 (the default), 401 (as Swift) or 200 (as Azure)`, false}, acceptAll()},
		{shapeCase{"method listed twice", S, `{"allow_methods": ["GET", "GET"]}`, base + ".allow_methods", `["GET","GET"]`, `items 0 and 1 are both "GET"; remove the duplicate`, false}, acceptAll()},
		{shapeCase{"forbidden method", S, `{"allow_methods": ["TRACE"]}`, base + ".allow_methods[0]", `"TRACE"`, `"TRACE" is not accepted: write an upper-case HTTP method token such as "GET" or "DELETE"; CONNECT, TRACE and TRACK can never be sent by a browser`, false}, acceptAll()},
		{shapeCase{"regex pattern", S, `{"allow_origins_regex": ["https://a[.]example[.]com"]}`, base + ".allow_origins_regex[0]", `"https://a[.]example[.]com"`, `is not accepted: anchor the expression at both ends: ^https://...$`, false}, acceptAll()},
		{shapeCase{"format refusal carries the checker's words", S, `{"allow_methods": ["badMETHOD"]}`, base + ".allow_methods[0]", `"badMETHOD"`, `badMETHOD is refused by the stub`, false}, refusing("http-method")},
		{shapeCase{"format on max_age", S, `{"max_age": "bad1h"}`, base + ".max_age", `"bad1h"`, `bad1h is refused by the stub`, false}, refusing("go-duration")},
		{shapeCase{"credentials without origins", S, `{"allow_credentials": true}`, base + ".allow_origins", ``, `allow_credentials: true needs allow_origins (or allow_origins_regex) to list exact origins`, false}, acceptAll()},
		{shapeCase{"credentials with star", S, `{"allow_credentials": true, "allow_origins": ["*"]}`, base + ".allow_origins[0]", `"*"`, `allow_credentials: true needs exact origins`, false}, acceptAll()},
		{shapeCase{"unsafe without credentials", S, `{"allow_any_origin_with_credentials_unsafe": true}`, base + ".allow_credentials", ``, `"allow_credentials" is missing; allow_any_origin_with_credentials_unsafe: true only matters with allow_credentials: true`, false}, acceptAll()},
		{shapeCase{"disable with another key", E, `{"disable": true, "debug": true}`, endpointBase, `{"debug":true,"disable":true}`, `disable: true exempts the endpoint from CORS, so the other keys would have no effect`, false}, acceptAll()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustNew(t, tc.formats)
			checkOne(t, s.Validate(tc.def, decodeJSON(t, tc.json), pathBase(tc.def)), tc.shapeCase)
		})
	}
}

// In a block with both kinds of problems, each violation carries the Shape
// flag of its own kind, whatever else is wrong.
func TestValidateShapeFlagPerViolation(t *testing.T) {
	s := mustNew(t, refusing("http-method"))
	vs := s.Validate(schema.ServicePolicy, decodeJSON(t, `{"max_age": 12, "allow_origin": [], "options_success_status": 404, "allow_methods": ["badGET"], "debug": "no"}`), base)
	want := []struct {
		path  string
		shape bool
	}{
		{base + ".allow_methods[0]", false},
		{base + ".allow_origin", true},
		{base + ".debug", true},
		{base + ".max_age", true},
		{base + ".options_success_status", false},
	}
	if len(vs) != len(want) {
		t.Fatalf("%d violations, want %d:\n%v", len(vs), len(want), vs)
	}
	for i, w := range want {
		if vs[i].Path != w.path || vs[i].Shape != w.shape {
			t.Errorf("violation %d = %s (Shape %v), want %s (Shape %v): %s", i, vs[i].Path, vs[i].Shape, w.path, w.shape, vs[i].Message)
		}
	}
}

// A format error says more than the pattern next to it: when both refuse
// one value, only the format's message is reported. When the format
// accepts a value the pattern refuses, the pattern still reports it.
func TestValidateFormatHidesPattern(t *testing.T) {
	tests := []struct {
		name    string
		formats []schema.Format
		json    string
		msgs    []string
	}{
		{"format and pattern refuse", refusing("cors-origin"), `{"allow_origins": ["bad origin/"]}`, []string{`bad origin/ is refused by the stub`}},
		{"only the pattern refuses", acceptAll(), `{"allow_origins": ["bad origin/"]}`, []string{`"bad origin/" is not accepted: an origin is scheme://host[:port] with no path`}},
		{"only the format refuses", refusing("cors-origin"), `{"allow_origins": ["bad://x.example.com"]}`, []string{`bad://x.example.com is refused by the stub`}},
		{"neither refuses", refusing("cors-origin"), `{"allow_origins": ["https://x.example.com"]}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vs := mustNew(t, tc.formats).Validate(schema.ServicePolicy, decodeJSON(t, tc.json), base)
			if len(vs) != len(tc.msgs) {
				t.Fatalf("%d violations, want %d:\n%v", len(vs), len(tc.msgs), vs)
			}
			for i, m := range tc.msgs {
				if !strings.Contains(vs[i].Message, m) || vs[i].Path != base+".allow_origins[0]" {
					t.Errorf("violation %d = %s: %s\nwant at %s.allow_origins[0] containing %q", i, vs[i].Path, vs[i].Message, base, m)
				}
			}
		})
	}
}

// The block-level format (cors-regex-trust) and the list format
// (cors-origin-set) get the value as encoding/json decodes it, and their
// refusal is reported at the value they judge, with the checker's words.
func TestValidateFormatsGetDecodedValues(t *testing.T) {
	var gotBlock, gotList any
	fs := acceptAll()
	for i := range fs {
		switch fs[i].Name {
		case "cors-regex-trust":
			fs[i].Check = func(v any) error {
				gotBlock = v
				if m, ok := v.(map[string]any); ok && m["debug"] == true {
					return errors.New("block refused by the stub")
				}
				return nil
			}
		case "cors-origin-set":
			fs[i].Check = func(v any) error {
				gotList = v
				if l, ok := v.([]any); ok && len(l) > 1 {
					return errors.New("set refused by the stub")
				}
				return nil
			}
		}
	}
	s := mustNew(t, fs)
	tests := []struct {
		json, path, value, msg string
	}{
		{`{"debug": true}`, base, `{"debug":true}`, "block refused by the stub"},
		{`{"allow_origins": ["https://a.example.com", "https://b.example.com"]}`, base + ".allow_origins", `["https://a.example.com","https://b.example.com"]`, "set refused by the stub"},
	}
	for _, tc := range tests {
		gotBlock, gotList = nil, nil
		vs := s.Validate(schema.ServicePolicy, decodeJSON(t, tc.json), base)
		if len(vs) != 1 || vs[0].Path != tc.path || vs[0].Value != tc.value || vs[0].Message != tc.msg || vs[0].Shape {
			t.Errorf("Validate(%s) = %+v\nwant one violation at %s, value %s, message %q, not Shape", tc.json, vs, tc.path, tc.value, tc.msg)
		}
		if _, ok := gotBlock.(map[string]any); !ok {
			t.Errorf("%s: cors-regex-trust got %T, want map[string]any", tc.json, gotBlock)
		}
	}
	if l, ok := gotList.([]any); !ok || len(l) != 2 {
		t.Errorf("cors-origin-set got %#v, want the two-item []any", gotList)
	}
}

// A value that is not an object is one shape violation at the block's own
// path, with the definition's hint.
func TestValidateNotAnObject(t *testing.T) {
	s := mustNew(t, acceptAll())
	hints := map[string]string{
		schema.ServicePolicy:  `not an object; write a JSON object such as {"allow_origins": ["https://app.example.com"]}`,
		schema.EndpointPolicy: `not an object; write a JSON object such as {"allow_origins": ["https://admin.example.com"]}, or {"disable": true} to exempt the endpoint`,
	}
	for def, hint := range hints {
		for _, text := range []string{`"yes"`, `[]`, `true`, `null`, `1`} {
			t.Run(def+"/"+text, func(t *testing.T) {
				checkOne(t, s.Validate(def, decodeJSON(t, text), base), shapeCase{def: def, json: text, path: base, value: text, msg: hint, shape: true})
			})
		}
	}
}

// An unknown definition name is reported, not a panic or a silent pass.
func TestValidateUnknownDefinition(t *testing.T) {
	vs := mustNew(t, acceptAll()).Validate("noSuchDefinition", map[string]any{}, base)
	if len(vs) != 1 || vs[0].Path != base || !strings.Contains(vs[0].Message, `no schema definition "noSuchDefinition"`) {
		t.Errorf("Validate with an unknown definition = %v", vs)
	}
}

// The endpoint-only keys are refused at the service level as unknown keys
// (Shape), with a message that says where they belong, suggests no other
// key, and, if it gives the known keys, gives the service-level ones only.
func TestValidateServiceRefusesEndpointOnlyKeys(t *testing.T) {
	s := mustNew(t, acceptAll())
	for _, key := range []string{"disable", "strip_cors_request_headers"} {
		for _, val := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s=%v", key, val), func(t *testing.T) {
				vs := s.Validate(schema.ServicePolicy, map[string]any{key: val}, base)
				want := `"` + key + `" only exists in an endpoint's own security/cors block (endpoints[i].extra_config); move it there`
				checkOne(t, vs, shapeCase{json: key, path: base + "." + key, value: fmt.Sprint(val), msg: want, shape: true})
				if strings.Contains(vs[0].Message, "did you mean") {
					t.Errorf("the message suggests another key for an endpoint-only key: %s", vs[0].Message)
				}
				for _, k := range vs[0].Known {
					if k == "disable" || k == "strip_cors_request_headers" {
						t.Errorf("the service-level known keys list %q: %v", k, vs[0].Known)
					}
				}
				if vs[0].Fix != nil {
					t.Errorf("an endpoint-only key gets the fix %+v; it must be moved, which no fix does", *vs[0].Fix)
				}
			})
		}
	}
}

// Valid blocks give no violation (nil, not an empty list), at each level.
func TestValidateAccepts(t *testing.T) {
	s := mustNew(t, acceptAll())
	tests := []struct {
		name string
		def  string
		json string
	}{
		{"empty", schema.ServicePolicy, `{}`},
		{"comment kinds", schema.ServicePolicy, `{"@comment": ["a", {"b": 1}]}`},
		{"status as float without fraction", schema.ServicePolicy, `{"options_success_status": 204.0}`},
		{"credentials with regex only", schema.ServicePolicy, `{"allow_credentials": true, "allow_origins_regex": ["^https://a[.]example[.]com$"]}`},
		{"unsafe with credentials and star", schema.ServicePolicy, `{"allow_credentials": true, "allow_any_origin_with_credentials_unsafe": true, "allow_origins": ["*"]}`},
		{"endpoint disable with comment", schema.EndpointPolicy, `{"disable": true, "@comment": "legacy"}`},
		{"endpoint disable false with keys", schema.EndpointPolicy, `{"disable": false, "debug": true}`},
		{"endpoint credentials inherit origins", schema.EndpointPolicy, `{"allow_credentials": true}`},
		{"endpoint unsafe inherits credentials", schema.EndpointPolicy, `{"allow_any_origin_with_credentials_unsafe": true}`},
		{"endpoint strip", schema.EndpointPolicy, `{"strip_cors_request_headers": true, "allow_origins": ["https://a.example.com"]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if vs := s.Validate(tc.def, decodeJSON(t, tc.json), base); vs != nil {
				t.Errorf("Validate(%s, %s) = %v, want nil", tc.def, tc.json, vs)
			}
		})
	}
}

// Every violation is reported at once, sorted by path as a person reads
// it: keys alphabetically, indexes by number ([2] before [10]).
func TestValidateReportsEveryProblemSortedByPath(t *testing.T) {
	// twelve is a JSON list of twelve good items, item(i), but for bad.
	twelve := func(item func(i int) string, bad map[int]string) string {
		items := make([]string, 12)
		for i := range items {
			items[i] = `"` + item(i) + `"`
			if b, ok := bad[i]; ok {
				items[i] = `"` + b + `"`
			}
		}
		return "[" + strings.Join(items, ", ") + "]"
	}
	method := func(i int) string { return "M" + string(rune('A'+i)) }
	origin := func(i int) string { return "https://" + string(rune('a'+i)) + ".example.com" }
	tests := []struct {
		name    string
		formats []schema.Format
		json    string
		paths   []string
		msgs    []string
	}{
		{
			name:    "three bad keys",
			formats: acceptAll(),
			json:    `{"max_age": 12, "debug": "yes", "allow_origin": []}`,
			paths:   []string{base + ".allow_origin", base + ".debug", base + ".max_age"},
			msgs:    []string{`did you mean "allow_origins"?`, `write true or false, without quotes`, `write a duration string`},
		},
		{
			name:    "indexes sort by number, not as text",
			formats: refusing("cors-origin"),
			json: `{"allow_methods": ` + twelve(method, map[int]string{2: "get", 10: "TRACE"}) +
				`, "allow_origins": ` + twelve(origin, map[int]string{2: "bad-c", 10: "bad-k"}) + `}`,
			paths: []string{base + ".allow_methods[2]", base + ".allow_methods[10]", base + ".allow_origins[2]", base + ".allow_origins[10]"},
			msgs:  []string{`"get" is not accepted: write an upper-case HTTP method token`, `"TRACE" is not accepted`, `bad-c is refused by the stub`, `bad-k is refused by the stub`},
		},
		{
			name:    "items and keys mixed",
			formats: refusing("cors-origin"),
			json:    `{"options_success_status": 404, "allow_methods": ["get", "TRACE"], "allow_origins": ["bad-a", "*"], "allow_credentials": true}`,
			paths:   []string{base + ".allow_methods[0]", base + ".allow_methods[1]", base + ".allow_origins[0]", base + ".allow_origins[1]", base + ".options_success_status"},
			msgs:    []string{`"get" is not accepted`, `"TRACE" is not accepted`, `bad-a is refused by the stub`, `allow_credentials: true needs exact origins`, `use 204 (the default) or 200`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vs := mustNew(t, tc.formats).Validate(schema.ServicePolicy, decodeJSON(t, tc.json), base)
			var paths []string
			for _, v := range vs {
				paths = append(paths, v.Path)
			}
			if !slices.Equal(paths, tc.paths) {
				t.Fatalf("paths = %q\nwant    %q\nviolations:\n%v", paths, tc.paths, vs)
			}
			for i, v := range vs {
				if !strings.Contains(v.Message, tc.msgs[i]) {
					t.Errorf("%s: message %q does not contain %q", v.Path, v.Message, tc.msgs[i])
				}
			}
		})
	}
}

// Path and Index write JSON paths as the violations do: .key for a plain
// key, ["key"] for any other, [n] for an index.
func TestPathAndIndex(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"slash key is quoted", schema.Path("extra_config", "security/cors"), `extra_config["security/cors"]`},
		{"plain key is dotted", schema.Path(`extra_config["security/cors"]`, "max_age"), `extra_config["security/cors"].max_age`},
		{"index", schema.Index(`extra_config["security/cors"].allow_origins`, 3), `extra_config["security/cors"].allow_origins[3]`},
		{"index at the root", schema.Index("", 0), `[0]`},
		{"nested", schema.Index(schema.Path("endpoints", "x"), 0), `endpoints.x[0]`},
		{"plain key at the root", schema.Path("", "extra_config"), "extra_config"},
		{"quoted key at the root", schema.Path("", "security/cors"), `["security/cors"]`},
		{"at-key is quoted", schema.Path("c", "@comment"), `c["@comment"]`},
		{"leading digit is quoted", schema.Path("c", "1st"), `c["1st"]`},
		{"later digit is plain", schema.Path("c", "h2"), `c.h2`},
		{"upper case is plain", schema.Path("c", "Debug"), `c.Debug`},
		{"empty key is quoted", schema.Path("c", ""), `c[""]`},
		{"quote in key is escaped", schema.Path("c", `a"b`), `c["a\"b"]`},
		{"dash is quoted", schema.Path("c", "auto-options"), `c["auto-options"]`},
		{"endpoint key with a space", schema.Path("endpoints", "GET /users/{id}"), `endpoints["GET /users/{id}"]`},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, tc.got, tc.want)
		}
	}
}

// ComparePaths sorts JSON paths as the violations are sorted: indexes by
// number, a path before the paths below it; and it is a consistent
// comparison (0 only for equal paths, opposite signs when the arguments
// swap), as slices.SortFunc needs.
func TestComparePaths(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"a[2]", "a[10]", -1},
		{"a[10]", "a[2]", 1},
		{"endpoints[9].x", "endpoints[10].a", -1},
		{"a", "a.b", -1},
		{"a.b", "a[0]", -1},
		{"a.b", "a.c", -1},
		{"a[1].y", "a[1].x", 1},
		{`c["@comment"]`, "c.allow_origins", 1},
		{"a.b", "a.b", 0},
		{"", "", 0},
		// Different paths whose numbers are equal (as in keys "h01" and
		// "h1"): either order, but not 0 and not the same sign both ways.
		{"a.h01", "a.h1", 2},
	}
	for _, tc := range tests {
		if got := schema.ComparePaths(tc.a, tc.b); got != tc.want && (tc.want != 2 || got == 0) {
			t.Errorf("ComparePaths(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got, back := schema.ComparePaths(tc.a, tc.b), schema.ComparePaths(tc.b, tc.a); got != -back {
			t.Errorf("ComparePaths(%q, %q) = %d but ComparePaths(%q, %q) = %d", tc.a, tc.b, got, tc.b, tc.a, back)
		}
	}
	paths := []string{"x[10]", "x[2]", "x", "w.z", "x[2].a"}
	slices.SortFunc(paths, schema.ComparePaths)
	if want := []string{"w.z", "x", "x[2]", "x[2].a", "x[10]"}; !slices.Equal(paths, want) {
		t.Errorf("sorted = %q, want %q", paths, want)
	}
}
