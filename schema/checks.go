package schema

import (
	"fmt"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/net/http/httpguts"

	"github.com/corsgate/corsgate/plugin/origin"
)

// formats are the custom formats that cors.schema.json names. Each one
// calls the checker that the policy compiler uses too.
var formats = []*jsonschema.Format{
	{Name: "cors-origin", Validate: stringFormat(CheckOrigin)},
	{Name: "cors-origin-set", Validate: checkOriginSet},
	{Name: "http-method", Validate: stringFormat(CheckMethod)},
	{Name: "http-header-name", Validate: stringFormat(CheckHeaderName)},
	{Name: "http-expose-header", Validate: stringFormat(CheckExposeHeader)},
	{Name: "anchored-regexp", Validate: stringFormat(CheckOriginRegexp)},
	{Name: "go-duration", Validate: stringFormat(func(s string) error { _, err := CheckDuration(s); return err })},
}

func stringFormat(check func(string) error) func(any) error {
	return func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil // the type keyword reports it
		}
		return check(s)
	}
}

// CheckOrigin reports whether s is a valid allow_origins entry.
func CheckOrigin(s string) error {
	_, err := origin.ParsePattern(s)
	return err
}

// checkOriginSet refuses two entries of an allow_origins list that are the
// same origin spelled differently ("https://a.example.com" and
// "HTTPS://A.EXAMPLE.COM:443"), which uniqueItems cannot see.
func checkOriginSet(v any) error {
	list, ok := v.([]any)
	if !ok {
		return nil // the type keyword reports it
	}
	seen := map[string]int{}
	for i, item := range list {
		s, ok := item.(string)
		if !ok {
			continue
		}
		p, err := origin.ParsePattern(s)
		if err != nil {
			continue // the item's own format reports it
		}
		if j, dup := seen[p.String()]; dup && list[j] != item {
			return fmt.Errorf("items %d and %d, %q and %q, are the same origin; remove one", j, i, list[j], s)
		}
		seen[p.String()] = i
	}
	return nil
}

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
		if strings.Contains(s, ",") {
			return fmt.Errorf("%q holds several names; write one list item per header name", s)
		}
		return fmt.Errorf("%q is not a valid header name (letters, digits and !#$%%&'*+-.^_`|~ only)", s)
	}
	if strings.EqualFold(s, "Set-Cookie") || strings.EqualFold(s, "Set-Cookie2") {
		return fmt.Errorf("%q can never be read by a page; remove it", s)
	}
	return nil
}

// CheckDuration parses a max_age value: a Go duration string in whole,
// non-negative seconds, such as "12h", "90m" or "45s".
func CheckDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("%q is not a duration string; write a number followed by a unit, such as \"12h\", \"30m\" or \"90s\" (units: h, m, s, ms, us, ns)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative; use \"0s\" to send no Access-Control-Max-Age, or a positive duration such as \"10m\"", s)
	}
	if d%time.Second != 0 {
		return 0, fmt.Errorf("%q is not a whole number of seconds, and Access-Control-Max-Age counts seconds; use %q", s, d.Truncate(time.Second).String())
	}
	return d, nil
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

// CheckOriginRegexp reports whether s is a valid allow_origins_regex
// entry: an RE2 expression anchored at both ends.
func CheckOriginRegexp(s string) error {
	_, err := origin.CompileRegexp(s)
	return err
}
