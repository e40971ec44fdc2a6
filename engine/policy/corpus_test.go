package policy

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/corsgate/corsgate/schema"
)

// The corpus is a shared table of security/cors blocks, at the service and
// at the endpoint level, valid and invalid. TestBlockCorpus holds the
// gateway's load pipeline (ParseBlock, then CompileDocument or CheckBlock)
// to the verdict and the first error of each entry;
// TestSchemaAgreesWithValidator holds cors.schema.json, compiled with the
// policy grammar, to the same verdict on every entry, so that an editor
// using the schema never says a block is fine that the gateway refuses, or
// the other way round.

// serviceBase and endpointBase are where blocks sit in a configuration.
const (
	serviceBase  = `extra_config["security/cors"]`
	endpointBase = `endpoints[1].extra_config["security/cors"]`
)

// corpusEntry is one block and the gateway's verdict on it.
type corpusEntry struct {
	name  string
	level Level
	json  string
	valid bool
	// For an invalid entry, when msg is set: the first error. at is its
	// path below the block ("" for the block itself, ".max_age", ...),
	// value its exact Value, msg a part of its Message.
	at, value, msg string
	// For a valid entry, when set: a part of a warning it must get.
	warn string
	// silent: a valid entry that must get no warning at all.
	silent bool
}

func (e corpusEntry) base() string {
	if e.level == EndpointLevel {
		return endpointBase
	}
	return serviceBase
}

func (e corpusEntry) String() string {
	lv := "service"
	if e.level == EndpointLevel {
		lv = "endpoint"
	}
	return lv + "/" + e.name
}

// Constructors, to keep the table readable: s* are service-level entries,
// e* endpoint-level ones; *ok are valid, *bad are invalid.
func sok(name, js string) corpusEntry {
	return corpusEntry{name: name, level: ServiceLevel, json: js, valid: true}
}
func eok(name, js string) corpusEntry {
	return corpusEntry{name: name, level: EndpointLevel, json: js, valid: true}
}
func sbad(name, js, at, value, msg string) corpusEntry {
	return corpusEntry{name: name, level: ServiceLevel, json: js, at: at, value: value, msg: msg}
}
func ebad(name, js, at, value, msg string) corpusEntry {
	return corpusEntry{name: name, level: EndpointLevel, json: js, at: at, value: value, msg: msg}
}
func (e corpusEntry) warns(w string) corpusEntry { e.warn = w; return e }
func (e corpusEntry) quiet() corpusEntry         { e.silent = true; return e }

// Messages shared by several entries.
const (
	msgWildcardCreds = `cannot be combined with allow_credentials: true: a wildcard pattern would make the gateway echo origins you never listed together with credentials`
	msgSubdomains    = `With credentials that is refused in either form, "https://*.example.com" in allow_origins or an expression in allow_origins_regex: list the hosts you trust instead, each in allow_origins (such as "https://app.example.com") or together in allow_origins_regex (such as "^https://(app|admin)\\.example\\.com$"). To trust every host under example.com all the same, set "allow_origins_regex_unsafe": true next to such an expression; or set allow_credentials to false`
	msgNeedOrigins   = `allow_credentials: true needs the origins listed exactly, in allow_origins or allow_origins_regex`
	msgNull          = `"null" cannot be combined with allow_credentials: true: sandboxed iframes, file: pages and cross-origin redirects all send Origin: null, so any site could then act as the signed-in user. Remove "null"`
	msgUnsafeAlone   = `allow_any_origin_with_credentials_unsafe: true only matters with allow_credentials: true; remove it, or set allow_credentials: true`
	msgUnsafeListed  = `allow_any_origin_with_credentials_unsafe: true has no effect when allow_origins or allow_origins_regex list origins`
	msgExposeStar    = `browsers read "*" in Access-Control-Expose-Headers as a header literally named *; list the header names instead`
	msgBool          = `write true or false, without quotes`
	msgDuration      = `is not a duration string; write a number followed by a unit, such as "12h", "30m" or "90s"`
	msgLeakCreds     = `and with allow_credentials: true a page there could act as the signed-in user`
)

// Regular expressions that let attacker origins in: an unescaped dot, and
// a .* that lets any domain ending in the name in.
const (
	leakyDot    = `^https://api.acme-shop.com$`
	leakyPrefix = `^https://.*acme-shop\\.com$` // as written in JSON
)

var corpus = []corpusEntry{
	// ---- service level: shape (ParseBlock) ----
	sbad("max_age number", `{"max_age": 12}`, ".max_age", `12`, `12 is a number, not a string; write a duration string such as "12h"`),
	sbad("allow_origins string", `{"allow_origins": "https://app.example.com"}`, ".allow_origins", `"https://app.example.com"`, `is a string, not an array; write a list of origins, such as ["https://app.example.com"]`),
	sbad("debug quoted", `{"debug": "yes"}`, ".debug", `"yes"`, `"yes" is a string, not a boolean; `+msgBool),
	sbad("allow_credentials quoted", `{"allow_credentials": "true"}`, ".allow_credentials", `"true"`, msgBool),
	sbad("options_success_status fraction", `{"options_success_status": 200.5}`, ".options_success_status", `200.5`, `200.5 is a number, not an integer; a preflight answer needs a 2xx status: use 204 (the default) or 200`),
	sbad("options_success_status quoted", `{"options_success_status": "204"}`, ".options_success_status", `"204"`, `"204" is a string, not an integer; a preflight answer needs a 2xx status`),
	sbad("allow_methods number item", `{"allow_methods": [1]}`, ".allow_methods[0]", `1`, `1 is a number, not a string; write an upper-case HTTP method token such as "GET"`),
	sbad("allow_headers object", `{"allow_headers": {"Content-Type": true}}`, ".allow_headers", `{"Content-Type":true}`, `is an object, not an array; write a list of header names`),
	sbad("comment number", `{"@comment": 5}`, `["@comment"]`, `5`, `5 is a number, not a string or an array or an object`),
	sbad("unknown key allow_origin", `{"allow_origin": ["https://app.example.com"]}`, ".allow_origin", `["https://app.example.com"]`, `unknown key "allow_origin"; did you mean "allow_origins"?`),
	sbad("unknown key Debug", `{"Debug": true}`, ".Debug", `true`, `unknown key "Debug"; did you mean "debug"?`),
	sbad("unknown at-key", `{"@note": "x"}`, `["@note"]`, `"x"`, `unknown key "@note"`),
	sbad("unsafe quoted", `{"allow_any_origin_with_credentials_unsafe": "true"}`, ".allow_any_origin_with_credentials_unsafe", `"true"`, `"true" is a string, not a boolean; `+msgBool),
	sbad("regex list as a string", `{"allow_origins_regex": "^https://a[.]example[.]com$"}`, ".allow_origins_regex", `"^https://a[.]example[.]com$"`, `is a string, not an array; write a list of RE2 regular expressions anchored with ^ and $`),
	sbad("terminate quoted", `{"terminate_unmatched_request": "yes"}`, ".terminate_unmatched_request", `"yes"`, `"yes" is a string, not a boolean; `+msgBool),
	sbad("unmatched_status quoted", `{"unmatched_status": "401"}`, ".unmatched_status", `"401"`, `"401" is a string, not an integer; use a status from 200 to 599`),
	sbad("unmatched_status fraction", `{"unmatched_status": 401.5}`, ".unmatched_status", `401.5`, `401.5 is a number, not an integer`),
	sbad("regex unsafe quoted", `{"allow_origins_regex_unsafe": "true"}`, ".allow_origins_regex_unsafe", `"true"`, `"true" is a string, not a boolean; `+msgBool),
	sbad("disable at the service level", `{"disable": true}`, ".disable", `true`, `"disable" only exists in an endpoint's own security/cors block (endpoints[i].extra_config); move it there`),
	sbad("strip_cors_request_headers at the service level", `{"strip_cors_request_headers": false}`, ".strip_cors_request_headers", `false`, `"strip_cors_request_headers" only exists in an endpoint's own security/cors block (endpoints[i].extra_config); move it there`),
	sbad("not an object: string", `"yes"`, "", `"yes"`, `not an object; write a JSON object such as {"allow_origins": ["https://app.example.com"]}`),
	sbad("not an object: list", `[]`, "", `[]`, `is an array, not an object`),
	sbad("not an object: null", `null`, "", `null`, `null is not an object`),

	// ---- service level: max_age ----
	sbad("max_age words", `{"max_age": "12 hours"}`, ".max_age", `"12 hours"`, `"12 hours" `+msgDuration),
	sbad("max_age fraction of a second", `{"max_age": "1.5s"}`, ".max_age", `"1.5s"`, `"1.5s" is not a whole number of seconds, and Access-Control-Max-Age counts seconds; use "1s"`),
	sbad("max_age negative fraction", `{"max_age": "-1.5s"}`, ".max_age", `"-1.5s"`, `is not a whole number of seconds`),
	sbad("max_age leading plus", `{"max_age": "+1h"}`, ".max_age", `"+1h"`, `"+1h" `+msgDuration),
	sbad("max_age empty", `{"max_age": ""}`, ".max_age", `""`, `"" `+msgDuration),
	sbad("max_age without unit", `{"max_age": "12"}`, ".max_age", `"12"`, msgDuration),
	sbad("max_age overflow", `{"max_age": "9999999999h"}`, ".max_age", `"9999999999h"`, msgDuration),
	sok("max_age negative means no cache", `{"max_age": "-1s"}`),
	sok("max_age negative hours", `{"max_age": "-1h"}`),
	sok("max_age 0", `{"max_age": "0"}`),
	sok("max_age 0s", `{"max_age": "0s"}`),
	sok("max_age 1h30m", `{"max_age": "1h30m"}`),
	sok("max_age 1.0s", `{"max_age": "1.0s"}`),
	sok("max_age 2000ms", `{"max_age": "2000ms"}`),
	sok("max_age exotic spelling", `{"max_age": "1h0m0.000000000s"}`),

	// ---- service level: methods ----
	sbad("method lower case", `{"allow_methods": ["get"]}`, ".allow_methods[0]", `"get"`, `"get" is not upper case; methods are case-sensitive and browsers send them in upper case: did you mean "GET"?`),
	sbad("method lower case, listed in upper case", `{"allow_methods": ["GET", "get"]}`, ".allow_methods[1]", `"get"`, `did you mean "GET"? It is item 0 already, so remove this one`),
	sbad("method lower case, listed in upper case later", `{"allow_methods": ["get", "POST", "GET"]}`, ".allow_methods[0]", `"get"`, `did you mean "GET"? It is item 2 already, so remove this one`),
	sbad("method lower case twice", `{"allow_methods": ["get", "get"]}`, ".allow_methods[0]", `"get"`, `did you mean "GET"?`),
	sbad("method forbidden in lower case", `{"allow_methods": ["trace"]}`, ".allow_methods[0]", `"trace"`, `"trace" is a forbidden method that browsers never send; remove it`),
	sbad("method with white space", `{"allow_methods": [" get "]}`, ".allow_methods[0]", `" get "`, `" get " has white space around the method: did you mean "GET"?`),
	sbad("method with space", `{"allow_methods": ["G ET"]}`, ".allow_methods[0]", `"G ET"`, `is not a valid HTTP method token (letters, digits and`),
	sbad("method TRACE", `{"allow_methods": ["TRACE"]}`, ".allow_methods[0]", `"TRACE"`, `"TRACE" is a forbidden method that browsers never send; remove it`),
	sbad("method star", `{"allow_methods": ["*"]}`, ".allow_methods[0]", `"*"`, `list each method, such as ["GET", "POST", "PUT", "DELETE"]`),
	sbad("method empty", `{"allow_methods": [""]}`, ".allow_methods[0]", `""`, `write one such as "GET"`),
	sbad("method duplicate", `{"allow_methods": ["GET", "GET"]}`, ".allow_methods[1]", `"GET"`, `"GET" is listed twice; remove the duplicate`),

	// ---- service level: origins ----
	sbad("origin with path", `{"allow_origins": ["https://app.example.com/login"]}`, ".allow_origins[0]", `"https://app.example.com/login"`, `it has a path; an origin is scheme://host[:port] only; did you mean "https://app.example.com"?`),
	sbad("origin with trailing slash", `{"allow_origins": ["https://app.example.com/"]}`, ".allow_origins[0]", `"https://app.example.com/"`, `it ends with a slash; an origin has no path; did you mean "https://app.example.com"?`),
	sbad("origin with query", `{"allow_origins": ["https://app.example.com?x=1"]}`, ".allow_origins[0]", `"https://app.example.com?x=1"`, `it has a query; an origin is scheme://host[:port] only; did you mean "https://app.example.com"?`),
	sbad("origin with userinfo", `{"allow_origins": ["https://user:pw@app.example.com"]}`, ".allow_origins[0]", `"https://user:pw@app.example.com"`, `it has user information; an origin never carries a user name or password; did you mean "https://app.example.com"?`),
	sbad("origin without scheme", `{"allow_origins": ["app.example.com"]}`, ".allow_origins[0]", `"app.example.com"`, `it has no scheme; an origin is scheme://host[:port]; did you mean "https://app.example.com"?`),
	sbad("origin star glued to domain", `{"allow_origins": ["https://*example.com"]}`, ".allow_origins[0]", `"https://*example.com"`, `did you mean "https://*.example.com"?`),
	sbad("origin star as TLD", `{"allow_origins": ["https://example.*"]}`, ".allow_origins[0]", `"https://example.*"`, `would also match other domains; did you mean "https://example.com"?`),
	sbad("origin scheme prefix star", `{"allow_origins": ["http*"]}`, ".allow_origins[0]", `"http*"`, `a * may only stand for whole DNS labels (https://*.example.com) or the port (https://example.com:*); list each origin ("*" alone stands for every origin, and is refused with credentials)`),
	sbad("origin two stars", `{"allow_origins": ["https://*.*.example.com"]}`, ".allow_origins[0]", `"https://*.*.example.com"`, `did you mean "https://*.example.com"?`),
	sbad("origin second item bad", `{"allow_origins": ["https://ok.example.com", "https://bad.example.com/"]}`, ".allow_origins[1]", `"https://bad.example.com/"`, `did you mean "https://bad.example.com"?`),
	sbad("origin duplicate", `{"allow_origins": ["https://app.example.com", "https://b.example.com", "https://app.example.com"]}`, ".allow_origins[2]", `"https://app.example.com"`, `"https://app.example.com" is the same origin as item 0; remove the duplicate`),
	sbad("one origin spelled twice", `{"allow_origins": ["https://a.example.com", "HTTPS://A.EXAMPLE.COM:443"]}`, ".allow_origins[1]", `"HTTPS://A.EXAMPLE.COM:443"`, `"HTTPS://A.EXAMPLE.COM:443" is the same origin as item 0; remove the duplicate`),
	sbad("origin IPv4 shorthand", `{"allow_origins": ["http://127.1:3999"]}`, ".allow_origins[0]", `"http://127.1:3999"`, `browsers write this address as 127.0.0.1 and send only that form, so this entry would never match; did you mean "http://127.0.0.1:3999"?`),
	sbad("origin IPv4 in hexadecimal", `{"allow_origins": ["http://0x7f.0.0.1"]}`, ".allow_origins[0]", `"http://0x7f.0.0.1"`, `did you mean "http://127.0.0.1"?`),
	sbad("origin non-canonical IPv6", `{"allow_origins": ["https://[0:0::1]"]}`, ".allow_origins[0]", `"https://[0:0::1]"`, `browsers write this address as [::1] and send only that form, so this entry would never match; did you mean "https://[::1]"?`),
	sbad("origin IPv6 with IPv4 tail", `{"allow_origins": ["https://[::ffff:1.2.3.4]"]}`, ".allow_origins[0]", `"https://[::ffff:1.2.3.4]"`, `did you mean "https://[::ffff:102:304]"?`),
	sbad("origin file URL", `{"allow_origins": ["file:///home/me/index.html"]}`, ".allow_origins[0]", `"file:///home/me/index.html"`, `pages loaded from file: URLs send Origin: null, never a file:// origin, so this entry would never match`),
	sbad("origin wildcard on an IP", `{"allow_origins": ["https://*.127.0.0.1"]}`, ".allow_origins[0]", `"https://*.127.0.0.1"`, `an IP address has no subdomains, so *.127.0.0.1 would never match; list the address itself, such as https://127.0.0.1`),
	sbad("origin invalid punycode", `{"allow_origins": ["https://xn--a.example.com"]}`, ".allow_origins[0]", `"https://xn--a.example.com"`, `the label "xn--a" is not valid punycode, so no browser can load a page there`),
	sbad("two origins in one string, comma", `{"allow_origins": ["https://a.example.com,https://b.example.com"]}`, ".allow_origins[0]", `"https://a.example.com,https://b.example.com"`, `it holds several origins; write each one as its own list item: ["https://a.example.com", "https://b.example.com"]`),
	sbad("two origins in one string, space", `{"allow_origins": ["https://a.example.com https://b.example.com"]}`, ".allow_origins[0]", `"https://a.example.com https://b.example.com"`, `it holds several origins`),
	sbad("origin ws scheme", `{"allow_origins": ["wss://socket.example.com"]}`, ".allow_origins[0]", `"wss://socket.example.com"`, `browsers never send a wss:// origin`),
	sbad("origin not ASCII", `{"allow_origins": ["https://bücher.example"]}`, ".allow_origins[0]", `"https://bücher.example"`, `the host is not ASCII; browsers send internationalised hosts in their punycode form; did you mean "https://xn--bcher-kva.example"?`),
	sbad("origin wildcard over a TLD", `{"allow_origins": ["https://*.com"]}`, ".allow_origins[0]", `"https://*.com"`, `would match every site under the top-level domain "com"`),
	sok("origin valid punycode", `{"allow_origins": ["https://xn--bcher-kva.example"]}`),
	sok("origin canonical IPs", `{"allow_origins": ["http://127.0.0.1:3999", "https://[::1]", "http://[2001:db8::1]:8080"]}`),

	// ---- service level: credentials ----
	sbad("credentials with star", `{"allow_credentials": true, "allow_origins": ["*"]}`, ".allow_origins[0]", `"*"`, `"*" `+msgWildcardCreds),
	sbad("credentials with subdomain pattern", `{"allow_credentials": true, "allow_origins": ["https://app.example.com", "https://*.example.com"]}`, ".allow_origins[1]", `"https://*.example.com"`,
		`"https://*.example.com" cannot be combined with allow_credentials: true: it trusts every host under example.com, whoever runs it, and a page on any of them could act as the signed-in user. `+msgSubdomains),
	sbad("credentials with subdomain pattern on any port", `{"allow_credentials": true, "allow_origins": ["https://*.example.com:*"]}`, ".allow_origins[0]", `"https://*.example.com:*"`, msgSubdomains),
	sbad("credentials with any port", `{"allow_credentials": true, "allow_origins": ["https://example.com:*"]}`, ".allow_origins[0]", `"https://example.com:*"`, `it trusts example.com on every port, and a page served on any of them could act as the signed-in user. List each origin with its port, such as "https://example.com:8443", or set allow_credentials to false`),
	sbad("credentials with a star glued to the domain", `{"allow_credentials": true, "allow_origins": ["https://*example.com"]}`, ".allow_origins[0]", `"https://*example.com"`,
		`because anywhere else it would also match other domains; and "https://*.example.com", the form closest to it, cannot be combined with allow_credentials: true: it trusts every host under example.com`),
	sbad("credentials with NULL", `{"allow_credentials": true, "allow_origins": ["https://app.example.com", "NULL"]}`, ".allow_origins[1]", `"NULL"`, `the opaque origin is written in lower case; and "null" is refused with allow_credentials: true as well, so remove it`),
	sbad("credentials with NULL alone", `{"allow_credentials": true, "allow_origins": ["NULL"]}`, ".allow_origins[0]", `"NULL"`, `and "null" is refused with allow_credentials: true as well: list the origins you trust exactly instead, such as "https://app.example.com"`),
	sbad("credentials with NULL alone next to a regex", `{"allow_credentials": true, "allow_origins": ["NULL"], "allow_origins_regex": ["^https://app\\.example\\.com$"]}`, ".allow_origins[0]", `"NULL"`, `so remove it`),
	sbad("credentials with null alone", `{"allow_credentials": true, "allow_origins": ["null"]}`, ".allow_origins[0]", `"null"`, msgNull+`, and list the origins you trust exactly, such as "https://app.example.com"`),
	sbad("credentials without origins", `{"allow_credentials": true}`, ".allow_origins", ``, msgNeedOrigins),
	sbad("credentials with empty origins", `{"allow_credentials": true, "allow_origins": []}`, ".allow_origins", `[]`, msgNeedOrigins+`; with neither, every origin is allowed`),
	sbad("credentials with null", `{"allow_credentials": true, "allow_origins": ["https://app.example.com", "null"]}`, ".allow_origins[1]", `"null"`, msgNull),
	sbad("credentials without origins names the unsafe opt-in", `{"allow_credentials": true, "allow_headers": ["Content-Type"]}`, ".allow_origins", ``, `or set allow_credentials to false (allow_any_origin_with_credentials_unsafe: true forces it, unsafely)`),
	sbad("credentials with star and unsafe false", `{"allow_credentials": true, "allow_any_origin_with_credentials_unsafe": false, "allow_origins": ["*"]}`, ".allow_origins[0]", `"*"`, `or set allow_credentials to false`),
	sbad("unsafe without credentials", `{"allow_any_origin_with_credentials_unsafe": true}`, ".allow_any_origin_with_credentials_unsafe", `true`, msgUnsafeAlone),
	sbad("unsafe with credentials false", `{"allow_any_origin_with_credentials_unsafe": true, "allow_credentials": false}`, ".allow_any_origin_with_credentials_unsafe", `true`, msgUnsafeAlone),
	sbad("unsafe with star but no credentials", `{"allow_any_origin_with_credentials_unsafe": true, "allow_origins": ["*"]}`, ".allow_any_origin_with_credentials_unsafe", `true`, msgUnsafeAlone),
	sbad("unsafe with listed origins", `{"allow_any_origin_with_credentials_unsafe": true, "allow_credentials": true, "allow_origins": ["https://a.example.com"]}`, ".allow_origins", ``, msgUnsafeListed),
	sbad("unsafe with regex", `{"allow_any_origin_with_credentials_unsafe": true, "allow_credentials": true, "allow_origins_regex": ["^https://a[.]example[.]com$"]}`, ".allow_origins_regex", ``, msgUnsafeListed),
	sbad("credentials with expose star", `{"allow_credentials": true, "allow_origins": ["https://app.example.com"], "expose_headers": ["*"]}`, ".expose_headers[0]", `"*"`, msgExposeStar),
	sbad("credentials with expose star next to a prefix", `{"allow_credentials": true, "allow_origins": ["https://app.example.com"], "expose_headers": ["X-Object-Meta-*", "*"]}`, ".expose_headers[1]", `"*"`, msgExposeStar),
	sbad("unsafe reflection with expose star", `{"allow_credentials": true, "allow_any_origin_with_credentials_unsafe": true, "expose_headers": ["*"]}`, ".expose_headers[0]", `"*"`, msgExposeStar),

	// ---- service level: allow_origins_regex ----
	sbad("regex not anchored", `{"allow_origins_regex": ["https://app[.]example[.]com"]}`, ".allow_origins_regex[0]", `"https://app[.]example[.]com"`, `is not anchored at both ends, so it would also match longer origins such as https://example.com.evil.net; write "^(?:https://app[.]example[.]com)$"`),
	sbad("regex anchored at the start only", `{"allow_origins_regex": ["^https://app[.]example[.]com"]}`, ".allow_origins_regex[0]", `"^https://app[.]example[.]com"`, `write "^(?:https://app[.]example[.]com)$"`),
	sbad("regex alternation anchors one branch each", `{"allow_origins_regex": ["^https://a[.]example[.]com|https://b[.]example[.]com$"]}`, ".allow_origins_regex[0]", `"^https://a[.]example[.]com|https://b[.]example[.]com$"`, `write "^(?:https://a[.]example[.]com|https://b[.]example[.]com)$"`),
	sbad("regex second item bad", `{"allow_origins_regex": ["^https://a[.]example[.]com$", "b[.]example[.]com$"]}`, ".allow_origins_regex[1]", `"b[.]example[.]com$"`, `write "^(?:b[.]example[.]com)$"`),
	sbad("regex does not compile", `{"allow_origins_regex": ["^https://(a$"]}`, ".allow_origins_regex[0]", `"^https://(a$"`, `is not a valid RE2 regular expression: error parsing regexp: missing closing )`),
	// Verdict only: every branch is anchored, yet the expression is refused
	// as "not anchored at both ends" (reported as a message to improve).
	sok("regex alternation of anchored branches", `{"allow_origins_regex": ["^https://a[.]example[.]com$|^https://b[.]example[.]com$"]}`),
	sbad("regex multi-line anchors", `{"allow_origins_regex": ["(?m)^https://a[.]example[.]com$"]}`, ".allow_origins_regex[0]", `"(?m)^https://a[.]example[.]com$"`, `is not anchored at both ends`),
	sbad("leaky regex with credentials: unescaped dot", `{"allow_credentials": true, "allow_origins_regex": ["`+leakyDot+`"]}`, ".allow_origins_regex[0]", `"`+leakyDot+`"`,
		`"^https://api.acme-shop.com$" also matches https://apixacme-shop.com (an unescaped dot matches any character; escape it as \.), `+msgLeakCreds+`; did you mean "^https://api\\.acme-shop\\.com$"?`),
	sbad("leaky regex with credentials: any prefix", `{"allow_credentials": true, "allow_origins": ["https://app.example.com"], "allow_origins_regex": ["`+leakyPrefix+`"]}`, ".allow_origins_regex[0]", `"`+leakyPrefix+`"`,
		`also matches https://evilacme-shop.com (it matches other domains that end in "acme-shop.com"), `+msgLeakCreds+`. Even with its dots escaped and its wildcard kept to whole DNS labels, it would trust every host under acme-shop.com. With credentials that is refused in either form`),
	sbad("leaky regex with credentials: host then another domain", `{"allow_credentials": true, "allow_origins_regex": ["^https://app\\.example\\.com.*$"]}`, ".allow_origins_regex[0]", `"^https://app\\.example\\.com.*$"`,
		`also matches https://app.example.com.evil.example (it matches the host followed by another domain)`),
	sbad("leaky regex with credentials: any subdomain", `{"allow_credentials": true, "allow_origins_regex": ["^https://.+\\.example\\.com$"]}`, ".allow_origins_regex[0]", `"^https://.+\\.example\\.com$"`,
		`also matches https://evil.example.com (it trusts hosts under example.com with any name, whoever runs them), `+msgLeakCreds+`. `+msgSubdomains),
	// Any port of the host, as https://app.example.com:* in allow_origins:
	// refused with credentials, accepted without, kept with the opt-in.
	sbad("leaky regex with credentials: any port", `{"allow_credentials": true, "allow_origins_regex": ["^https://app\\.example\\.com(:[0-9]+)?$"]}`, ".allow_origins_regex[0]", `"^https://app\\.example\\.com(:[0-9]+)?$"`,
		`also matches https://app.example.com:8444 (it matches app.example.com on other ports), and with allow_credentials: true a page served on any port of app.example.com could act as the signed-in user. Name each port the expression trusts (such as "^https://app\\.example\\.com(:8443)?$")`),
	sok("regex with any port without credentials", `{"allow_origins_regex": ["^https://app\\.example\\.com(:[0-9]+)?$"]}`),
	sok("regex with one optional port and credentials", `{"allow_credentials": true, "allow_origins_regex": ["^https://app\\.example\\.com(:8443)?$"]}`),
	sok("regex with any port kept with allow_origins_regex_unsafe", `{"allow_credentials": true, "allow_origins_regex_unsafe": true, "allow_origins_regex": ["^https://app\\.example\\.com:[0-9]+$"]}`).warns(`a page served on any port of the host can act as the signed-in user`),
	sbad("unsafe reflection next to a leaky regex", `{"allow_any_origin_with_credentials_unsafe": true, "allow_credentials": true, "allow_origins_regex": ["`+leakyDot+`"]}`, ".allow_origins_regex", ``, msgUnsafeListed),
	sok("leaky regex without credentials: a warning", `{"allow_origins_regex": ["`+leakyDot+`"]}`).warns(`"^https://api.acme-shop.com$" also matches https://apixacme-shop.com (an unescaped dot matches any character; escape it as \.), so a page there can read the answers; did you mean "^https://api\\.acme-shop\\.com$"?`),
	sok("leaky regex with credentials false: a warning", `{"allow_credentials": false, "allow_origins_regex": ["`+leakyPrefix+`"]}`).warns(`also matches https://evilacme-shop.com`),
	sok("leaky regex kept with allow_origins_regex_unsafe", `{"allow_credentials": true, "allow_origins_regex_unsafe": true, "allow_origins_regex": ["`+leakyDot+`", "`+leakyPrefix+`"]}`).warns(`and allow_origins_regex_unsafe: true keeps it together with credentials: a page there can act as the signed-in user`),
	sok("allow_origins_regex_unsafe alone", `{"allow_origins_regex_unsafe": true}`),
	sok("allow_origins_regex_unsafe false with a safe regex and credentials", `{"allow_origins_regex_unsafe": false, "allow_credentials": true, "allow_origins_regex": ["^https://app\\.acme-shop\\.com$"]}`),
	sok("regex anchored", `{"allow_origins_regex": ["^https://pr-[0-9]+\\.preview\\.example\\.com$"]}`),
	sok("regex alternation in a group", `{"allow_origins_regex": ["^(?:https://a[.]example[.]com|https://b[.]example[.]com)$"]}`),
	sok("regex with flags inside the anchors", `{"allow_origins_regex": ["^(?i:https://app[.]example[.]com)$"]}`),
	sok("regex and origins together", `{"allow_origins": ["https://app.example.com"], "allow_origins_regex": ["^https://[a-z]+[.]example[.]net$"]}`),
	// Anchored as a whole, in spellings other than a literal ^ and $: the
	// validator (origin.CompileRegexp) accepts them.
	sok("regex with a flag group before the anchor", `{"allow_origins_regex": ["(?i)^https://app\\.example\\.com$"]}`),
	sok("regex anchored with \\A and \\z", `{"allow_origins_regex": ["\\Ahttps://app\\.example\\.com\\z"]}`),
	sok("regex with a new line", `{"allow_origins_regex": ["^https://app\\.example\\.com\n$"]}`),

	// ---- service level: advice that must hold (issue 21) ----
	// The sloppy expression a user wrote, the suggestion the validator
	// used to make for it, and the user's next try: without credentials
	// each gets an expression that passes without a warning, with them
	// each is told to list the hosts, and none is offered an expression
	// that is refused in turn.
	sbad("sloppy regex", `{"allow_origins_regex": ["https://.*example.com"]}`, ".allow_origins_regex[0]", `"https://.*example.com"`,
		`"https://.*example.com" is not anchored at both ends, so it would also match longer origins such as https://example.com.evil.net; write "^https://([a-z0-9-]+\\.)*example\\.com$"`),
	sok("sloppy regex anchored as a whole", `{"allow_origins_regex": ["^(?:https://.*example.com)$"]}`).warns(`"^(?:https://.*example.com)$" also matches https://evilexample.com (it matches other domains that end in "example.com"), so a page there can read the answers; did you mean "^https://([a-z0-9-]+\\.)*example\\.com$"?`),
	sok("sloppy regex repaired", `{"allow_origins_regex": ["^https://([a-z0-9-]+\\.)*example\\.com$"]}`).quiet(),
	sok("subdomains by expression, without credentials", `{"allow_origins_regex": ["^https://.*\\.example\\.com$"]}`).quiet(),
	sok("subdomains by wildcard, without credentials", `{"allow_origins": ["https://*.example.com"]}`).quiet(),
	sbad("sloppy regex with credentials", `{"allow_credentials": true, "allow_origins_regex": ["https://.*example.com"]}`, ".allow_origins_regex[0]", `"https://.*example.com"`,
		`is not anchored at both ends, so it would also match longer origins such as https://example.com.evil.net; anchored, it would trust every host under example.com. `+msgSubdomains),
	sbad("sloppy regex anchored as a whole, with credentials", `{"allow_credentials": true, "allow_origins_regex": ["^(?:https://.*example.com)$"]}`, ".allow_origins_regex[0]", `"^(?:https://.*example.com)$"`,
		`also matches https://evilexample.com (it matches other domains that end in "example.com"), `+msgLeakCreds+`. Even with its dots escaped and its wildcard kept to whole DNS labels, it would trust every host under example.com. `+msgSubdomains),
	sbad("subdomains by expression, with credentials", `{"allow_credentials": true, "allow_origins_regex": ["^https://.*\\.example\\.com$"]}`, ".allow_origins_regex[0]", `"^https://.*\\.example\\.com$"`,
		`also matches https://evil.example.com (it trusts hosts under example.com with any name, whoever runs them), `+msgLeakCreds+`. `+msgSubdomains),
	sbad("one label of any name, with credentials", `{"allow_credentials": true, "allow_origins_regex": ["^https://[a-z0-9-]+\\.example\\.com$"]}`, ".allow_origins_regex[0]", `"^https://[a-z0-9-]+\\.example\\.com$"`, msgSubdomains),
	sbad("subdomains of a subdomain, with credentials", `{"allow_credentials": true, "allow_origins_regex": ["^https://[a-z]+\\.preview\\.example\\.com$"]}`, ".allow_origins_regex[0]", `"^https://[a-z]+\\.preview\\.example\\.com$"`,
		`list the hosts you trust instead, each in allow_origins (such as "https://app.preview.example.com") or together in allow_origins_regex (such as "^https://(app|admin)\\.preview\\.example\\.com$")`),
	sok("one label of any name, kept deliberately", `{"allow_credentials": true, "allow_origins_regex_unsafe": true, "allow_origins_regex": ["^https://[a-z0-9-]+\\.example\\.com$"]}`).warns(`allow_origins_regex_unsafe: true keeps it together with credentials: a page on any host there can act as the signed-in user`),
	sok("hosts listed in an expression, with credentials", `{"allow_credentials": true, "allow_origins_regex": ["^https://(app|admin)\\.example\\.com$"], "allow_headers": ["Content-Type"]}`).quiet(),
	sbad("wildcard origin written as an expression", `{"allow_origins_regex": ["https://*.example.com"]}`, ".allow_origins_regex[0]", `"https://*.example.com"`, `write "^https://([a-z0-9-]+\\.)+example\\.com$"`),
	sbad("wildcard origin written as an expression, with credentials", `{"allow_credentials": true, "allow_origins_regex": ["https://*.example.com"]}`, ".allow_origins_regex[0]", `"https://*.example.com"`, msgSubdomains),
	sbad("sloppy regex with credentials and an exact host", `{"allow_credentials": true, "allow_origins_regex": ["https://app.example.com"]}`, ".allow_origins_regex[0]", `"https://app.example.com"`, `write "^https://app\\.example\\.com$"`),
	sbad("regex with a trailing wildcard, with credentials", `{"allow_credentials": true, "allow_origins_regex": ["^https://app\\.example\\.com.*$"]}`, ".allow_origins_regex[0]", `"^https://app\\.example\\.com.*$"`,
		`also matches https://app.example.com.evil.example (it matches the host followed by another domain), `+msgLeakCreds+`; did you mean "^https://app\\.example\\.com$"?`),
	sbad("max_age in seconds as a number", `{"max_age": 3600}`, ".max_age", `3600`, `3600 is a number, not a string; write a duration string such as "12h", "30m" or "90s"; did you mean "1h"?`),
	sbad("max_age in seconds as a string", `{"max_age": "3600"}`, ".max_age", `"3600"`, `"3600" `+msgDuration+` (units: h, m, s, ms, us, ns); a number alone is not read as seconds: did you mean "1h"?`),
	sbad("max_age 90 as a number", `{"max_age": 90}`, ".max_age", `90`, `did you mean "1m30s"?`),
	sbad("max_age 3660 as a string", `{"max_age": "3660"}`, ".max_age", `"3660"`, `did you mean "1h1m"?`),
	sbad("max_age 3605 as a number", `{"max_age": 3605}`, ".max_age", `3605`, `did you mean "1h0m5s"?`),
	sbad("max_age -1 as a string", `{"max_age": "-1"}`, ".max_age", `"-1"`, `did you mean "-1s"?`),
	sbad("max_age with a plus sign and no unit", `{"max_age": "+90"}`, ".max_age", `"+90"`, `did you mean "1m30s"?`),
	sbad("max_age fraction as a number", `{"max_age": 1.5}`, ".max_age", `1.5`, `1.5 is a number, not a string; write a duration string`),
	sbad("max_age too large as a number", `{"max_age": 1e300}`, ".max_age", `1e+300`, `is a number, not a string`),
	sbad("max_age a day as a number", `{"max_age": 86400}`, ".max_age", `86400`, `did you mean "24h"?`),
	sbad("max_age fraction of a second with minutes", `{"max_age": "1h0m0.5s"}`, ".max_age", `"1h0m0.5s"`, `use "1h"`),
	sok("max_age beyond every browser", `{"max_age": "48h"}`).warns(`write "2h" or less`),
	sbad("origin suggestion listed already", `{"allow_origins": ["https://app.example.com/", "https://app.example.com"]}`, ".allow_origins[0]", `"https://app.example.com/"`,
		`it ends with a slash; an origin has no path; it means "https://app.example.com", which is item 1 already, so remove this one`),
	sbad("origin suggestion listed already, in another spelling", `{"allow_origins": ["HTTPS://App.Example.com:443", "app.example.com"]}`, ".allow_origins[1]", `"app.example.com"`, `which is item 0 already, so remove this one`),
	sbad("header with white space around Set-Cookie", `{"expose_headers": [" Set-Cookie "]}`, ".expose_headers[0]", `" Set-Cookie "`, `" Set-Cookie " has white space around the name, and "Set-Cookie" can never be set or read by a page; remove it`),
	sbad("expose prefix with white space", `{"expose_headers": [" X-Object-Meta-*"]}`, ".expose_headers[0]", `" X-Object-Meta-*"`, `" X-Object-Meta-*" is not a header name prefix: " X-Object-Meta-" has white space around the name: did you mean "X-Object-Meta-*"?`),
	sok("plain http with credentials", `{"allow_credentials": true, "allow_origins": ["http://app.example.com"], "allow_headers": ["Content-Type"]}`).warns(`list its https:// origin instead, "https://app.example.com"`),
	sok("plain http with credentials, https listed", `{"allow_credentials": true, "allow_origins": ["https://app.example.com", "http://app.example.com"], "allow_headers": ["Content-Type"]}`).warns(`its https:// origin is item 0 already, so remove this one`),
	sok("plain http with credentials on a port", `{"allow_credentials": true, "allow_origins": ["http://app.example.com:8080"], "allow_headers": ["Content-Type"]}`).warns(`list its https:// origin instead`),
	sok("websocket null", `{"websocket_origins": ["null"]}`).warns(`open a WebSocket here, with the user's cookies; remove it`),
	sok("expose a credential", `{"expose_headers": ["Authorization"]}`).warns(`remove it from expose_headers`),

	// ---- service level: statuses ----
	sbad("unmatched_status 199", `{"unmatched_status": 199}`, ".unmatched_status", `199`, `199 is not an HTTP status from 200 to 599; use 403 (the default), 401 or 200`),
	sbad("unmatched_status 600", `{"terminate_unmatched_request": true, "unmatched_status": 600}`, ".unmatched_status", `600`, `600 is not an HTTP status from 200 to 599`),
	sbad("status 404", `{"options_success_status": 404}`, ".options_success_status", `404`, `404 is not a 2xx status; a preflight answer needs one: use 204 (the default) or 200`),
	sbad("status 199", `{"options_success_status": 199}`, ".options_success_status", `199`, `199 is not a 2xx status`),
	// Verdict only: the gateway's message for these is the decoder's
	// ("cannot read the block: json: cannot unmarshal ..."), at the block
	// rather than at the value (reported as a message to improve).
	sbad("status too large for an int", `{"options_success_status": 1e300}`, "", ``, ``),
	sbad("origin list with a duplicate and a number", `{"allow_origins": ["https://a.example.com", "https://A.example.com", 5]}`, "", ``, ``),
	sok("status bounds", `{"options_success_status": 299}`),
	sok("status as float without fraction", `{"options_success_status": 204.0}`),
	sok("status in exponent form", `{"options_success_status": 2.04e2}`),
	sok("unmatched_status 200", `{"unmatched_status": 200}`),
	sok("unmatched_status 599", `{"unmatched_status": 599}`),
	sok("unmatched_status 401 with terminate", `{"terminate_unmatched_request": true, "unmatched_status": 401}`),
	sok("terminate with the default status", `{"terminate_unmatched_request": true}`),

	// ---- service level: headers ----
	sbad("expose prefix with a space", `{"expose_headers": ["X-Object Meta-*"]}`, ".expose_headers[0]", `"X-Object Meta-*"`, `"X-Object Meta-*" is not a header name prefix: "X-Object Meta-" is not a valid header name`),
	sbad("expose prefix of Set-Cookie", `{"expose_headers": ["Set-Cookie*"]}`, ".expose_headers[0]", `"Set-Cookie*"`, `is not a header name prefix: "Set-Cookie" can never be set or read by a page`),
	sbad("expose Set-Cookie", `{"expose_headers": ["Set-Cookie"]}`, ".expose_headers[0]", `"Set-Cookie"`, `"Set-Cookie" can never be set or read by a page; remove it`),
	sbad("expose SET-COOKIE2", `{"expose_headers": ["X-Request-Id", "SET-COOKIE2"]}`, ".expose_headers[1]", `"SET-COOKIE2"`, `can never be set or read by a page; remove it`),
	sbad("header list in one item", `{"allow_headers": ["Content-Type, Authorization"]}`, ".allow_headers[0]", `"Content-Type, Authorization"`, `holds several names; write one list item per header name`),
	sbad("header with spaces", `{"allow_headers": [" X-Api-Key "]}`, ".allow_headers[0]", `" X-Api-Key "`, `has white space around the name: did you mean "X-Api-Key"?`),
	sbad("header line", `{"allow_headers": ["X-Api-Key: 1"]}`, ".allow_headers[0]", `"X-Api-Key: 1"`, `is a header line, not a header name; give the name only: did you mean "X-Api-Key"?`),
	sbad("header not ASCII", `{"allow_headers": ["X-\u212a"]}`, ".allow_headers[0]", "\"X-\u212a\"", `is not a valid header name`),
	sok("allow_headers star", `{"allow_headers": ["*"]}`),
	sok("allow_headers repeated in two cases", `{"allow_headers": ["X-Api-Key", "x-api-key"]}`),
	sok("expose star without credentials", `{"expose_headers": ["*"]}`),
	sok("expose prefix", `{"expose_headers": ["X-Object-Meta-*"]}`),
	sok("expose prefix with credentials", `{"allow_credentials": true, "allow_origins": ["https://app.example.com"], "expose_headers": ["X-Request-Id", "X-Object-Meta-*"]}`),

	// ---- service level: other valid blocks ----
	sok("credentials with regex origins only", `{"allow_credentials": true, "allow_origins_regex": ["^https://app[.]example[.]com$"]}`),
	sok("KrakenD documentation example", `{"allow_origins":["*"],"allow_methods":["GET","HEAD","POST"],"expose_headers":["Content-Length","Content-Type"],"allow_headers":["Accept-Language"],"max_age":"12h","allow_credentials":false,"debug":false}`),
	sok("empty object", `{}`),
	sok("comment string", `{"@comment": "owned by the web team", "allow_origins": ["https://app.example.com"]}`),
	sok("comment object", `{"@comment": {"ticket": "WEB-12"}}`),
	sok("nested comment", `{"@comment": [{"a": {"b": [null]}}]}`),
	sok("all ten original keys", `{
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
	}`),
	sok("every service key", `{
		"@comment": "web team",
		"allow_origins": ["https://app.example.com", "http://localhost:3000"],
		"allow_origins_regex": ["^https://pr-[0-9]+[.]preview[.]example[.]com$"],
		"allow_origins_regex_unsafe": false,
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
	}`),
	sok("null without credentials", `{"allow_origins": ["https://app.example.com", "null"]}`),
	sok("null with credentials false", `{"allow_origins": ["null"], "allow_credentials": false}`),
	sok("unsafe with credentials and no origins", `{"allow_credentials": true, "allow_any_origin_with_credentials_unsafe": true}`).warns(`every website can send credentialed requests and read the answers`),
	sok("unsafe with credentials and star", `{"allow_credentials": true, "allow_any_origin_with_credentials_unsafe": true, "allow_origins": ["*"]}`).warns(`every website can send credentialed requests`),
	sok("unsafe with credentials and empty origins", `{"allow_credentials": true, "allow_any_origin_with_credentials_unsafe": true, "allow_origins": []}`),
	sok("unsafe false without credentials", `{"allow_any_origin_with_credentials_unsafe": false}`),
	sok("wildcard origins without credentials", `{"allow_origins": ["https://*.example.com", "https://example.com:*", "https://*.example.com:*"]}`),
	sok("credentials false with star", `{"allow_credentials": false, "allow_origins": ["*"]}`),
	sok("empty lists", `{"allow_origins": [], "allow_methods": [], "allow_headers": [], "expose_headers": []}`),

	// ---- endpoint level: shape ----
	ebad("disable quoted", `{"disable": "yes"}`, ".disable", `"yes"`, `"yes" is a string, not a boolean; `+msgBool),
	ebad("strip as a number", `{"strip_cors_request_headers": 1}`, ".strip_cors_request_headers", `1`, `1 is a number, not a boolean; `+msgBool),
	ebad("disabled typo", `{"disabled": true}`, ".disabled", `true`, `unknown key "disabled"; did you mean "disable"?`),
	ebad("not an object", `true`, "", `true`, `write a JSON object such as {"allow_origins": ["https://admin.example.com"]}, or {"disable": true} to exempt the endpoint`),

	// ---- endpoint level: value rules, as at the service level ----
	ebad("regex not anchored", `{"allow_origins_regex": ["^https://admin[.]example[.]com"]}`, ".allow_origins_regex[0]", `"^https://admin[.]example[.]com"`, `write "^(?:https://admin[.]example[.]com)$"`),
	ebad("unmatched_status too high", `{"unmatched_status": 700}`, ".unmatched_status", `700`, `700 is not an HTTP status from 200 to 599`),
	ebad("options_success_status not 2xx", `{"options_success_status": 301}`, ".options_success_status", `301`, `use 204 (the default) or 200`),
	ebad("origin IPv4 shorthand", `{"allow_origins": ["http://127.1:3999"]}`, ".allow_origins[0]", `"http://127.1:3999"`, `did you mean "http://127.0.0.1:3999"?`),
	ebad("max_age fraction", `{"max_age": "0.5s"}`, ".max_age", `"0.5s"`, `use "0s"`),
	eok("max_age negative", `{"max_age": "-1s"}`),

	// ---- endpoint level: combinations of the keys the block sets ----
	ebad("credentials with star", `{"allow_credentials": true, "allow_origins": ["*"]}`, ".allow_origins[0]", `"*"`, `"*" `+msgWildcardCreds),
	ebad("credentials with subdomain pattern", `{"allow_credentials": true, "allow_origins": ["https://admin.example.com", "https://*.example.com"]}`, ".allow_origins[1]", `"https://*.example.com"`, msgSubdomains),
	ebad("credentials with any port", `{"allow_credentials": true, "allow_origins": ["https://example.com:*"]}`, ".allow_origins[0]", `"https://example.com:*"`, `List each origin with its port`),
	ebad("credentials with null", `{"allow_credentials": true, "allow_origins": ["null"]}`, ".allow_origins[0]", `"null"`, msgNull),
	ebad("credentials with both lists empty", `{"allow_credentials": true, "allow_origins": [], "allow_origins_regex": []}`, ".allow_origins", `[]`, msgNeedOrigins),
	ebad("credentials with expose star", `{"allow_credentials": true, "expose_headers": ["*"]}`, ".expose_headers[0]", `"*"`, msgExposeStar),
	ebad("unsafe with credentials false", `{"allow_any_origin_with_credentials_unsafe": true, "allow_credentials": false}`, ".allow_any_origin_with_credentials_unsafe", `true`, msgUnsafeAlone),
	ebad("unsafe with listed origins", `{"allow_any_origin_with_credentials_unsafe": true, "allow_origins": ["https://admin.example.com"]}`, ".allow_origins", ``, msgUnsafeListed),
	ebad("leaky regex with credentials", `{"allow_credentials": true, "allow_origins_regex": ["`+leakyDot+`"]}`, ".allow_origins_regex[0]", `"`+leakyDot+`"`, msgLeakCreds),
	eok("leaky regex without credentials in the block: a warning", `{"allow_origins_regex": ["`+leakyPrefix+`"]}`).warns(`also matches https://evilacme-shop.com`),
	eok("leaky regex kept with allow_origins_regex_unsafe", `{"allow_credentials": true, "allow_origins_regex_unsafe": true, "allow_origins_regex": ["`+leakyDot+`"]}`).warns(`allow_origins_regex_unsafe: true keeps it together with credentials`),
	ebad("disable with one other key", `{"disable": true, "debug": false}`, "", ``, `disable: true exempts the endpoint from CORS, so debug would have no effect; remove them or remove disable`),
	ebad("disable with several other keys", `{"disable": true, "allow_origins": ["https://a.example.com"], "strip_cors_request_headers": true, "max_age": "1h"}`, "", ``,
		`disable: true exempts the endpoint from CORS, so allow_origins, max_age, strip_cors_request_headers would have no effect; remove them or remove disable`),
	ebad("disable with allow_origins_regex_unsafe", `{"disable": true, "allow_origins_regex_unsafe": true}`, "", ``, `so allow_origins_regex_unsafe would have no effect`),
	eok("disable alone", `{"disable": true}`),
	eok("disable with a comment", `{"disable": true, "@comment": "legacy CORS in the backend"}`),
	eok("disable false", `{"disable": false}`),
	eok("disable false with keys", `{"disable": false, "debug": true}`),

	// ---- endpoint level: keys left to inheritance ----
	eok("empty object", `{}`),
	eok("strip_cors_request_headers", `{"strip_cors_request_headers": true}`),
	eok("strip with an override", `{"strip_cors_request_headers": true, "allow_origins": ["https://admin.example.com"]}`),
	// allow_origins (and allow_origins_regex) may be inherited: the merged
	// policy is checked when the document is compiled.
	eok("credentials without origins", `{"allow_credentials": true}`),
	eok("credentials with an empty list, regex inherited", `{"allow_credentials": true, "allow_origins": []}`),
	eok("credentials with exact origins", `{"allow_credentials": true, "allow_origins": ["https://admin.example.com", "http://localhost:3000"]}`),
	eok("credentials with regex only", `{"allow_credentials": true, "allow_origins_regex": ["^https://admin[.]example[.]com$"]}`),
	eok("credentials with unsafe and star", `{"allow_credentials": true, "allow_any_origin_with_credentials_unsafe": true, "allow_origins": ["*"]}`),
	eok("credentials with unsafe and both lists empty", `{"allow_credentials": true, "allow_any_origin_with_credentials_unsafe": true, "allow_origins": [], "allow_origins_regex": []}`),
	// allow_credentials may be inherited too.
	eok("unsafe alone", `{"allow_any_origin_with_credentials_unsafe": true}`),
	eok("null without credentials", `{"allow_origins": ["null"]}`),
	eok("star with credentials false", `{"allow_origins": ["*"], "allow_credentials": false}`),
	eok("expose prefix", `{"expose_headers": ["X-Request-Id", "X-Object-Meta-*"]}`),
	eok("expose star, credentials inherited", `{"expose_headers": ["*"]}`),
	eok("terminate", `{"terminate_unmatched_request": true, "unmatched_status": 401}`),
	eok("every endpoint key", `{
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
	}`),
	// A key misspelled in case is unknown at every level, whatever the
	// rest of the block says.
	ebad("credentials key in the wrong case", `{"Allow_Credentials": true}`, ".Allow_Credentials", `true`, `unknown key "Allow_Credentials"; did you mean "allow_credentials"?`),
	sbad("credentials key in the wrong case", `{"Allow_Credentials": true, "allow_origins": ["https://a.example.com"]}`, ".Allow_Credentials", `true`, `unknown key "Allow_Credentials"; did you mean "allow_credentials"?`),
	// ... even next to a regex the block-level format refuses, which must
	// not hide the unknown key nor let it be read as allow_credentials.
	sbad("credentials key in the wrong case next to a leaky regex", `{"ALLOW_CREDENTIALS": true, "allow_origins_regex": ["`+leakyDot+`"]}`, ".ALLOW_CREDENTIALS", `true`, `unknown key "ALLOW_CREDENTIALS"; did you mean "allow_credentials"?`),
	ebad("credentials key in the wrong case next to a leaky regex", `{"ALLOW_CREDENTIALS": true, "allow_origins_regex": ["`+leakyDot+`"]}`, ".ALLOW_CREDENTIALS", `true`, `unknown key "ALLOW_CREDENTIALS"; did you mean "allow_credentials"?`),
}

// decodeEntry decodes the block of an entry as lura hands it over.
func decodeEntry(t testing.TB, e corpusEntry) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(e.json), &v); err != nil {
		t.Fatalf("%s: bad corpus JSON %s: %v", e, e.json, err)
	}
	return v
}

// loadBlock runs the gateway's load pipeline on one decoded block written
// at level: ParseBlock (shape), then the validator: CompileDocument for a
// service block (as the gateway compiles it, with no endpoints), CheckBlock
// for an endpoint block (the verdict on the block on its own). b is nil
// when ParseBlock refused the block.
func loadBlock(t testing.TB, raw any, level Level, base string) (b *Block, warnings, errs Errors) {
	t.Helper()
	b, errs = ParseBlock(raw, level, base)
	if len(errs) > 0 {
		if b != nil {
			t.Fatalf("ParseBlock returned a block and errors: %v", errs)
		}
		return nil, nil, errs
	}
	if b == nil {
		t.Fatalf("ParseBlock returned neither a block nor errors")
	}
	if level == EndpointLevel {
		warnings, errs = CheckBlock(b, EndpointLevel, base)
		return b, warnings, errs
	}
	set, err := CompileDocument(&Document{Service: b, Paths: map[string]string{"": base}}, nil)
	if err != nil {
		es, ok := err.(Errors)
		if !ok || len(es) == 0 || set != nil {
			t.Fatalf("CompileDocument = %v, %T %v; want no set and a non-empty Errors", set, err, err)
		}
		return b, nil, es
	}
	if set == nil || set.Service == nil {
		t.Fatalf("CompileDocument accepted the block but compiled no service policy")
	}
	return b, set.Warnings, nil
}

// schemaVerdict is what cors.schema.json, compiled with the policy grammar,
// says about the block.
func schemaVerdict(t testing.TB, raw any, level Level, base string) []schema.Violation {
	t.Helper()
	s, err := Schema()
	if err != nil {
		t.Fatalf("Schema: %v", err)
	}
	def := schema.ServicePolicy
	if level == EndpointLevel {
		def = schema.EndpointPolicy
	}
	return s.Validate(def, raw, base)
}

// TestBlockCorpus proves the gateway's verdict on every corpus block, and
// for the invalid ones with an expectation, that the first error points at
// the right value and says how to fix it.
func TestBlockCorpus(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range corpus {
		if seen[e.String()] {
			t.Errorf("two corpus entries are named %s", e)
		}
		seen[e.String()] = true
		t.Run(e.String(), func(t *testing.T) {
			b, warnings, errs := loadBlock(t, decodeEntry(t, e), e.level, e.base())
			if e.valid {
				if len(errs) > 0 {
					t.Fatalf("%s is refused:\n%v", e.json, errs)
				}
				if e.warn != "" && !strings.Contains(warnings.Error(), e.warn) {
					t.Errorf("warnings = %v\nwant one containing %q", warnings, e.warn)
				}
				if e.silent && len(warnings) > 0 {
					t.Errorf("warnings = %v, want none", warnings)
				}
				// Compile accepts what CompileDocument accepts.
				if e.level == ServiceLevel {
					if _, err := Compile(*b, e.base(), ServiceScope); err != nil {
						t.Errorf("CompileDocument accepts %s but Compile refuses it: %v", e.json, err)
					}
				}
				return
			}
			if len(errs) == 0 {
				t.Fatalf("%s is accepted (warnings: %v)", e.json, warnings)
			}
			if e.msg != "" {
				first := errs[0]
				if want := e.base() + e.at; first.Path != want {
					t.Errorf("first error path = %s, want %s (all: %v)", first.Path, want, errs)
				}
				if first.Value != e.value {
					t.Errorf("first error value = %s, want %s", first.Value, e.value)
				}
				if !strings.Contains(first.Message, e.msg) {
					t.Errorf("first error message = %q\nwant it to contain %q", first.Message, e.msg)
				}
			}
			// Compile judges a service block as CompileDocument does.
			if b != nil && e.level == ServiceLevel {
				if _, err := Compile(*b, e.base(), ServiceScope); err == nil {
					t.Errorf("CompileDocument refuses %s but Compile accepts it", e.json)
				}
			}
		})
	}
}

// TestSchemaAgreesWithValidator proves, for every corpus block and with no
// exemption, that cors.schema.json gives the gateway's verdict: both accept
// or both refuse. Warnings do not count.
func TestSchemaAgreesWithValidator(t *testing.T) {
	for _, e := range corpus {
		t.Run(e.String(), func(t *testing.T) {
			raw := decodeEntry(t, e)
			if _, _, msg := agreement(t, raw, e.level, e.base()); msg != "" {
				t.Errorf("%s:\n%s", e.json, msg)
			}
		})
	}
}

// agreement loads a block with the gateway's pipeline (see loadBlock) and
// compares the verdict with the schema's. msg describes both sides when
// they differ, and is "" when they agree; b and errs are the pipeline's.
func agreement(t testing.TB, raw any, level Level, base string) (b *Block, errs Errors, msg string) {
	t.Helper()
	vs := schemaVerdict(t, raw, level, base)
	b, _, errs = loadBlock(t, raw, level, base)
	if (len(vs) == 0) == (len(errs) == 0) {
		return b, errs, ""
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "schema: %s", verdict(len(vs) == 0))
	for _, v := range vs {
		fmt.Fprintf(&sb, "\n  %s (value %s, shape %v): %s", v.Path, v.Value, v.Shape, v.Message)
	}
	fmt.Fprintf(&sb, "\nvalidator: %s", verdict(len(errs) == 0))
	for _, e := range errs {
		fmt.Fprintf(&sb, "\n  %s (value %s): %s", e.Path, e.Value, e.Message)
	}
	return b, errs, sb.String()
}

func verdict(valid bool) string {
	if valid {
		return "valid"
	}
	return "invalid"
}

// An endpoint block judged on its own is never held to more than a service
// block: every corpus block valid at the service level is valid at the
// endpoint level too, for the schema and for the validator.
func TestEndpointAcceptsEveryServiceBlock(t *testing.T) {
	n := 0
	for _, e := range corpus {
		if e.level != ServiceLevel || !e.valid {
			continue
		}
		n++
		t.Run(e.name, func(t *testing.T) {
			raw := decodeEntry(t, e)
			if _, _, errs := loadBlock(t, raw, EndpointLevel, endpointBase); len(errs) > 0 {
				t.Errorf("the validator accepts %s at the service level but refuses it at the endpoint level:\n%v", e.json, errs)
			}
			if vs := schemaVerdict(t, raw, EndpointLevel, endpointBase); len(vs) > 0 {
				t.Errorf("the schema refuses %s at the endpoint level:\n%v", e.json, vs)
			}
		})
	}
	if n < 50 {
		t.Errorf("only %d valid service-level corpus blocks", n)
	}
}
