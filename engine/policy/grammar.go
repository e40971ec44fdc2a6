package policy

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// This file holds the grammar of the values of a security/cors block. The
// policy validator (validate.go) and the JSON Schema's custom formats
// (schema.go) both call these functions, so a value means the same thing
// wherever it is checked.

// forbiddenMethods can never be sent by a browser's fetch.
var forbiddenMethods = map[string]bool{"CONNECT": true, "TRACE": true, "TRACK": true}

// CheckMethod reports whether s is a valid allow_methods entry: an HTTP
// method token without lower-case letters that a browser may send.
func CheckMethod(s string) error {
	switch {
	case s == "":
		return fmt.Errorf(`"" is not a method; write one such as "GET"`)
	case s == "*":
		return fmt.Errorf(`"*" is not accepted in allow_methods; list each method, such as ["GET", "POST", "PUT", "DELETE"]`)
	case !httpguts.ValidHeaderFieldName(s):
		return fmt.Errorf("%q is not a valid HTTP method token (letters, digits and !#$%%&'*+-.^_`|~ only)", s)
	case strings.ToUpper(s) != s:
		return fmt.Errorf("%q is not upper case; methods are case-sensitive and browsers send them in upper case: did you mean %q?", s, strings.ToUpper(s))
	case forbiddenMethods[s]:
		return fmt.Errorf("%q is a forbidden method that browsers never send; remove it", s)
	}
	return nil
}

// CheckHeaderName reports whether s is a valid header name, or "*".
func CheckHeaderName(s string) error {
	if s == "*" {
		return nil
	}
	if !httpguts.ValidHeaderFieldName(s) {
		if t := strings.TrimSpace(s); t != s && httpguts.ValidHeaderFieldName(t) {
			return fmt.Errorf("%q has white space around the name: did you mean %q?", s, t)
		}
		if name, _, ok := strings.Cut(s, ":"); ok && httpguts.ValidHeaderFieldName(strings.TrimSpace(name)) {
			return fmt.Errorf("%q is a header line, not a header name; give the name only: did you mean %q?", s, strings.TrimSpace(name))
		}
		if strings.Contains(s, ",") {
			return fmt.Errorf("%q holds several names; write one list item per header name", s)
		}
		return fmt.Errorf("%q is not a valid header name (letters, digits and !#$%%&'*+-.^_`|~ only)", s)
	}
	if strings.EqualFold(s, "Set-Cookie") || strings.EqualFold(s, "Set-Cookie2") {
		return fmt.Errorf("%q can never be set or read by a page; remove it", s)
	}
	return nil
}

// CheckExposeHeader reports whether s is a valid expose_headers entry: a
// header name, "*", or a prefix ending in "*" such as "X-Object-Meta-*".
func CheckExposeHeader(s string) error {
	if len(s) > 1 && strings.HasSuffix(s, "*") {
		if err := CheckHeaderName(strings.TrimSuffix(s, "*")); err != nil {
			return fmt.Errorf("%q is not a header name prefix: %v", s, err)
		}
		return nil
	}
	return CheckHeaderName(s)
}

// ParseMaxAge parses a max_age value: a Go duration string in whole
// seconds, such as "12h", "90m" or "45s". A zero duration means no
// Access-Control-Max-Age header; a negative one, as in KrakenD CE, means
// Access-Control-Max-Age: 0 (browsers then cache nothing).
func ParseMaxAge(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("%q is not a duration string; write a number followed by a unit, such as \"12h\", \"30m\" or \"90s\" (units: h, m, s, ms, us, ns)", s)
	}
	if d%time.Second != 0 {
		return 0, fmt.Errorf("%q is not a whole number of seconds, and Access-Control-Max-Age counts seconds; use %q", s, d.Truncate(time.Second).String())
	}
	return d, nil
}
