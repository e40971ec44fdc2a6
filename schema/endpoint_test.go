package schema_test

import (
	"strings"
	"testing"

	"github.com/corsgate/corsgate/schema"
)

// endpointBase is where an endpoint-level block sits in a gateway
// configuration.
const endpointBase = `endpoints[1].extra_config["security/cors"]`

// Endpoint-level blocks may leave keys out (they are inherited), and may
// use the two endpoint-only keys.
func TestValidateEndpointAccepts(t *testing.T) {
	tests := []struct {
		name string
		json string
	}{
		{"empty object", `{}`},
		{"disable", `{"disable": true}`},
		{"disable false", `{"disable": false}`},
		{"strip_cors_request_headers", `{"strip_cors_request_headers": true}`},
		{"strip with an override", `{"strip_cors_request_headers": true, "allow_origins": ["https://admin.example.com"]}`},
		// allow_origins may be inherited: the merged policy is checked later.
		{"credentials without origins", `{"allow_credentials": true}`},
		{"credentials with exact origins", `{"allow_credentials": true, "allow_origins": ["https://admin.example.com", "http://localhost:3000"]}`},
		{"credentials with regex only", `{"allow_credentials": true, "allow_origins_regex": ["^https://admin[.]example[.]com$"]}`},
		{"credentials with unsafe and star", `{"allow_credentials": true, "allow_any_origin_with_credentials_unsafe": true, "allow_origins": ["*"]}`},
		// allow_credentials may be inherited too.
		{"unsafe alone", `{"allow_any_origin_with_credentials_unsafe": true}`},
		{"null without credentials", `{"allow_origins": ["null"]}`},
		{"star without credentials", `{"allow_origins": ["*"], "allow_credentials": false}`},
		{"expose prefix", `{"expose_headers": ["X-Request-Id", "X-Object-Meta-*"]}`},
		{"terminate", `{"terminate_unmatched_request": true, "unmatched_status": 401}`},
		{"every endpoint key", `{
			"@comment": "admin",
			"allow_origins": ["https://admin.example.com"],
			"allow_origins_regex": ["^https://pr-[0-9]+[.]admin[.]example[.]com$"],
			"allow_methods": ["GET", "PUT"],
			"allow_headers": ["Content-Type"],
			"expose_headers": ["X-Object-Meta-*"],
			"max_age": "1h",
			"allow_credentials": true,
			"allow_any_origin_with_credentials_unsafe": false,
			"allow_private_network": false,
			"options_passthrough": false,
			"options_success_status": 200,
			"terminate_unmatched_request": true,
			"unmatched_status": 403,
			"debug": false,
			"disable": false,
			"strip_cors_request_headers": true
		}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if errs := schema.Validate(schema.EndpointPolicy, decodeJSON(t, tc.json), endpointBase); errs != nil {
				t.Errorf("Validate(endpointPolicy, %s) refused it:\n%v", tc.json, errs)
			}
		})
	}
}

func TestValidateEndpointRefuses(t *testing.T) {
	const exact = `List each origin exactly (for example "https://app.example.com"), use allow_origins_regex with an anchored expression that names exactly the hosts you trust, or set allow_credentials to false`
	tests := []struct {
		name  string
		json  string
		path  string
		value string
		fix   string
	}{
		{name: "credentials with star", json: `{"allow_credentials": true, "allow_origins": ["*"]}`,
			path: endpointBase + ".allow_origins[0]", value: `"*"`,
			fix: `Browsers refuse a credentialed response whose Access-Control-Allow-Origin is "*"`},
		{name: "credentials with subdomain pattern", json: `{"allow_credentials": true, "allow_origins": ["https://admin.example.com", "https://*.example.com"]}`,
			path: endpointBase + ".allow_origins[1]", value: `"https://*.example.com"`, fix: exact},
		{name: "credentials with any port", json: `{"allow_credentials": true, "allow_origins": ["https://example.com:*"]}`,
			path: endpointBase + ".allow_origins[0]", value: `"https://example.com:*"`, fix: exact},
		{name: "credentials with null", json: `{"allow_credentials": true, "allow_origins": ["null"]}`,
			path: endpointBase + ".allow_origins[0]", value: `"null"`,
			fix: `"null" cannot be combined with allow_credentials: true: sandboxed iframes, file: pages and cross-origin redirects all send Origin: null, so any site could then act as the signed-in user. Remove "null"`},
		{name: "credentials with an empty list", json: `{"allow_credentials": true, "allow_origins": []}`,
			path: endpointBase + ".allow_origins", value: `[]`,
			fix: `the list is empty; allow_credentials: true needs allow_origins (or allow_origins_regex) to list exact origins`},
		{name: "credentials with expose star", json: `{"allow_credentials": true, "expose_headers": ["*"]}`,
			path: endpointBase + ".expose_headers[0]", value: `"*"`,
			fix: `list the header names instead`},
		{name: "disable quoted", json: `{"disable": "yes"}`,
			path: endpointBase + ".disable", value: `"yes"`,
			fix: `"yes" is a string, not a boolean; write true or false, without quotes`},
		{name: "strip as a number", json: `{"strip_cors_request_headers": 1}`,
			path: endpointBase + ".strip_cors_request_headers", value: `1`,
			fix: `1 is a number, not a boolean; write true or false, without quotes`},
		{name: "disabled typo", json: `{"disabled": true}`,
			path: endpointBase + ".disabled", value: `true`,
			fix: `unknown key "disabled"; did you mean "disable"? Known keys: allow_any_origin_with_credentials_unsafe, allow_credentials, allow_headers, allow_methods, allow_origins, allow_origins_regex, allow_private_network, debug, disable, expose_headers, max_age, options_passthrough, options_success_status, strip_cors_request_headers, terminate_unmatched_request, unmatched_status`},
		{name: "regex not anchored", json: `{"allow_origins_regex": ["^https://admin[.]example[.]com"]}`,
			path: endpointBase + ".allow_origins_regex[0]", value: `"^https://admin[.]example[.]com"`,
			fix: `write "^(?:https://admin[.]example[.]com)$"`},
		{name: "unmatched_status too high", json: `{"unmatched_status": 700}`,
			path: endpointBase + ".unmatched_status", value: `700`,
			fix: `700 is above the maximum 599`},
		{name: "options_success_status not 2xx", json: `{"options_success_status": 301}`,
			path: endpointBase + ".options_success_status", value: `301`,
			fix: `use 204 (the default) or 200`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := schema.Validate(schema.EndpointPolicy, decodeJSON(t, tc.json), endpointBase)
			if len(errs) != 1 {
				t.Fatalf("Validate(endpointPolicy, %s) = %d errors, want 1:\n%v", tc.json, len(errs), errs)
			}
			e := errs[0]
			if e.Path != tc.path || e.Value != tc.value {
				t.Errorf("Path, Value = %s, %q; want %s, %q", e.Path, e.Value, tc.path, tc.value)
			}
			if !strings.Contains(e.Message, tc.fix) {
				t.Errorf("Message = %q\nwant it to contain %q", e.Message, tc.fix)
			}
			// schema.Validate does not know the endpoint; config fills it in.
			if e.Endpoint != "" {
				t.Errorf("Endpoint = %q, want empty from schema.Validate", e.Endpoint)
			}
		})
	}
}

// The endpoint-only keys are refused at the service level, with a message
// that says where they belong and lists the service-level keys, which do
// not include them.
func TestValidateServiceRefusesEndpointOnlyKeys(t *testing.T) {
	for _, key := range []string{"disable", "strip_cors_request_headers"} {
		t.Run(key, func(t *testing.T) {
			errs := schema.Validate(schema.ServicePolicy, map[string]any{key: true}, base)
			if len(errs) != 1 {
				t.Fatalf("Validate(servicePolicy, {%q: true}) = %v, want 1 error", key, errs)
			}
			e := errs[0]
			want := `"` + key + `" only exists in an endpoint's own security/cors block (endpoints[i].extra_config); move it there.`
			if e.Path != base+"."+key || e.Value != "true" || !strings.HasPrefix(e.Message, want) {
				t.Errorf("error = %+v\nwant one at %s.%s starting with %q", e, base, key, want)
			}
			if strings.Contains(e.Message, "did you mean") {
				t.Errorf("the message suggests another key for an endpoint-only key: %s", e.Message)
			}
			_, known, _ := strings.Cut(e.Message, "Known keys: ")
			for _, k := range strings.Split(known, ", ") {
				if k == "disable" || k == "strip_cors_request_headers" {
					t.Errorf("the service-level known keys list %q: %s", k, e.Message)
				}
			}
			if !strings.Contains(known, "unmatched_status") {
				t.Errorf("the known keys lack unmatched_status: %s", e.Message)
			}
		})
	}
}

// A block valid at the service level is valid at the endpoint level: the
// endpoint definition only relaxes the service one.
func TestEndpointAcceptsEveryServiceBlock(t *testing.T) {
	for _, tc := range accepted {
		t.Run(tc.name, func(t *testing.T) {
			if errs := schema.Validate(schema.EndpointPolicy, decodeJSON(t, tc.json), endpointBase); errs != nil {
				t.Errorf("the service level accepts %s but the endpoint level refuses it:\n%v", tc.json, errs)
			}
		})
	}
}
