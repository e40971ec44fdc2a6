package schema_test

import (
	"testing"

	"github.com/corsgate/corsgate/schema"
)

// The endpoint definition judges a block on its own: a key it leaves out
// is inherited from the service block, so a combination rule only applies
// when the block sets every key the rule reads. These tests pin the
// combination keywords of endpointPolicy (the formats are stubs).
func TestValidateEndpointCombinations(t *testing.T) {
	s := mustNew(t, acceptAll())
	const exact = `allow_credentials: true needs exact origins`
	tests := []struct {
		name string
		json string
		// path is where the one violation is; "" means the block is valid.
		path, value, msg string
	}{
		// allow_origins may be inherited: the merged policy is judged by
		// the validator when the document is compiled.
		{name: "credentials alone", json: `{"allow_credentials": true}`},
		{name: "credentials with an empty list (regex may be inherited)", json: `{"allow_credentials": true, "allow_origins": []}`},
		{name: "credentials with exact origins", json: `{"allow_credentials": true, "allow_origins": ["https://admin.example.com", "http://localhost:3000"]}`},
		{name: "credentials with regex only", json: `{"allow_credentials": true, "allow_origins_regex": ["^https://admin[.]example[.]com$"]}`},
		{name: "credentials with unsafe and star", json: `{"allow_credentials": true, "allow_any_origin_with_credentials_unsafe": true, "allow_origins": ["*"]}`},
		// allow_credentials may be inherited too.
		{name: "unsafe alone", json: `{"allow_any_origin_with_credentials_unsafe": true}`},
		{name: "null without credentials", json: `{"allow_origins": ["null"]}`},
		{name: "star with credentials false", json: `{"allow_origins": ["*"], "allow_credentials": false}`},
		{name: "expose star without credentials", json: `{"expose_headers": ["*"]}`},
		{name: "disable alone", json: `{"disable": true}`},
		{name: "disable with a comment", json: `{"disable": true, "@comment": "legacy CORS in the backend"}`},
		{name: "disable false with keys", json: `{"disable": false, "debug": true}`},
		{name: "every endpoint key", json: `{
			"@comment": "admin",
			"allow_origins": ["https://admin.example.com"],
			"allow_origins_regex": ["^https://pr-[0-9]+[.]admin[.]example[.]com$"],
			"allow_origins_regex_unsafe": false,
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

		{name: "credentials with star", json: `{"allow_credentials": true, "allow_origins": ["*"]}`,
			path: endpointBase + ".allow_origins[0]", value: `"*"`, msg: exact},
		{name: "credentials with subdomain pattern", json: `{"allow_credentials": true, "allow_origins": ["https://admin.example.com", "https://*.example.com"]}`,
			path: endpointBase + ".allow_origins[1]", value: `"https://*.example.com"`, msg: exact},
		{name: "credentials with any port", json: `{"allow_credentials": true, "allow_origins": ["https://example.com:*"]}`,
			path: endpointBase + ".allow_origins[0]", value: `"https://example.com:*"`, msg: exact},
		{name: "credentials with null", json: `{"allow_credentials": true, "allow_origins": ["null"]}`,
			path: endpointBase + ".allow_origins[0]", value: `"null"`, msg: `"null" cannot be combined with allow_credentials: true`},
		{name: "credentials with both lists empty", json: `{"allow_credentials": true, "allow_origins": [], "allow_origins_regex": []}`,
			path: endpointBase + ".allow_origins", value: `[]`, msg: `allow_credentials: true needs allow_origins (or allow_origins_regex) to list exact origins`},
		{name: "credentials with expose star", json: `{"allow_credentials": true, "expose_headers": ["*"]}`,
			path: endpointBase + ".expose_headers[0]", value: `"*"`, msg: `list the header names instead`},
		{name: "unsafe with credentials false", json: `{"allow_any_origin_with_credentials_unsafe": true, "allow_credentials": false}`,
			path: endpointBase + ".allow_credentials", value: `false`, msg: `allow_any_origin_with_credentials_unsafe: true only matters with allow_credentials: true`},
		{name: "unsafe with listed origins", json: `{"allow_any_origin_with_credentials_unsafe": true, "allow_origins": ["https://a.example.com"]}`,
			path: endpointBase + ".allow_origins", value: `["https://a.example.com"]`, msg: `has no effect when allow_origins or allow_origins_regex list origins`},
		{name: "disable with other keys", json: `{"disable": true, "allow_origins": ["https://a.example.com"], "max_age": "1h"}`,
			path: endpointBase, value: `{"allow_origins":["https://a.example.com"],"disable":true,"max_age":"1h"}`, msg: `disable: true exempts the endpoint from CORS, so the other keys would have no effect; remove them or remove disable`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vs := s.Validate(schema.EndpointPolicy, decodeJSON(t, tc.json), endpointBase)
			if tc.path == "" {
				if vs != nil {
					t.Errorf("Validate(endpointPolicy, %s) refused it:\n%v", tc.json, vs)
				}
				return
			}
			checkOne(t, vs, shapeCase{def: schema.EndpointPolicy, json: tc.json, path: tc.path, value: tc.value, msg: tc.msg, shape: false})
		})
	}
}

// The same combinations at the service level, where an absent key means
// its default: what an endpoint may leave to inheritance, the service
// block must get right itself.
func TestValidateServiceCombinations(t *testing.T) {
	s := mustNew(t, acceptAll())
	tests := []struct {
		name, json, path, value, msg string
	}{
		{"credentials alone", `{"allow_credentials": true}`, base + ".allow_origins", ``, `allow_any_origin_with_credentials_unsafe: true forces it, unsafely`},
		{"credentials with empty origins", `{"allow_credentials": true, "allow_origins": []}`, base + ".allow_origins", `[]`, `an absent or empty allow_origins means every origin`},
		{"unsafe alone", `{"allow_any_origin_with_credentials_unsafe": true}`, base + ".allow_credentials", ``, `"allow_credentials" is missing`},
		{"unsafe with regex", `{"allow_any_origin_with_credentials_unsafe": true, "allow_credentials": true, "allow_origins_regex": ["^https://a[.]example[.]com$"]}`,
			base + ".allow_origins_regex", `["^https://a[.]example[.]com$"]`, `has no effect when allow_origins or allow_origins_regex list origins`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkOne(t, s.Validate(schema.ServicePolicy, decodeJSON(t, tc.json), base),
				shapeCase{def: schema.ServicePolicy, json: tc.json, path: tc.path, value: tc.value, msg: tc.msg})
		})
	}
}
