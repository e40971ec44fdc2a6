package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/corsgate/corsgate/schema"

	"golang.org/x/net/http/httpguts"
)

// This file holds the grammar of the values of a security/cors block. The
// policy validator (validate.go) and the JSON Schema's custom formats
// (schema.go) both call these functions, so a value means the same thing
// wherever it is checked.

// forbiddenMethods can never be sent by a browser's fetch.
var forbiddenMethods = map[string]bool{"CONNECT": true, "TRACE": true, "TRACK": true}

// adviceError is a refusal whose message suggests a correction; fix is
// that correction, for a program to apply.
type adviceError struct {
	msg string
	fix *Fix
}

func (e *adviceError) Error() string { return e.msg }

// advise returns a refusal with its correction.
func advise(fix *Fix, format string, args ...any) error {
	return &adviceError{msg: fmt.Sprintf(format, args...), fix: fix}
}

// fixOf returns the correction a refusal of this file suggests, or nil.
func fixOf(err error) *Fix {
	var ae *adviceError
	if errors.As(err, &ae) {
		return ae.fix
	}
	return nil
}

// CheckMethod reports whether s is a valid allow_methods entry: an HTTP
// method token without lower-case letters that a browser may send.
func CheckMethod(s string) error {
	upper := strings.ToUpper(s)
	switch {
	case s == "":
		return fmt.Errorf(`"" is not a method; write one such as "GET"`)
	case s == "*":
		return fmt.Errorf(`"*" is not accepted in allow_methods; list each method, such as ["GET", "POST", "PUT", "DELETE"]`)
	case !httpguts.ValidHeaderFieldName(s):
		if t := strings.ToUpper(strings.TrimSpace(s)); t != "" && t != upper && CheckMethod(t) == nil {
			return advise(schema.ReplaceWith(t), "%q has white space around the method: did you mean %q?", s, t)
		}
		return fmt.Errorf("%q is not a valid HTTP method token (letters, digits and !#$%%&'*+-.^_`|~ only)", s)
	case forbiddenMethods[upper]:
		return advise(schema.RemoveIt(), "%q is a forbidden method that browsers never send; remove it", s)
	case upper != s:
		return advise(schema.ReplaceWith(upper), "%q is not upper case; methods are case-sensitive and browsers send them in upper case: did you mean %q?", s, upper)
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
			return suggestName(fmt.Sprintf("%q has white space around the name", s), t)
		}
		if name, _, ok := strings.Cut(s, ":"); ok && httpguts.ValidHeaderFieldName(strings.TrimSpace(name)) {
			return suggestName(fmt.Sprintf("%q is a header line, not a header name; give the name only", s), strings.TrimSpace(name))
		}
		if strings.Contains(s, ",") {
			return fmt.Errorf("%q holds several names; write one list item per header name", s)
		}
		return fmt.Errorf("%q is not a valid header name (letters, digits and !#$%%&'*+-.^_`|~ only)", s)
	}
	if strings.EqualFold(s, "Set-Cookie") || strings.EqualFold(s, "Set-Cookie2") {
		return advise(schema.RemoveIt(), "%q can never be set or read by a page; remove it", s)
	}
	return nil
}

// suggestName words the refusal of a header name whose intended name,
// name, could be read from it: "did you mean" name, unless name is
// refused too (then why, with its correction).
func suggestName(what, name string) error {
	if err := CheckHeaderName(name); err != nil {
		return &adviceError{msg: what + ", and " + err.Error(), fix: fixOf(err)}
	}
	return advise(schema.ReplaceWith(name), "%s: did you mean %q?", what, name)
}

// CheckExposeHeader reports whether s is a valid expose_headers entry: a
// header name, "*", or a prefix ending in "*" such as "X-Object-Meta-*".
func CheckExposeHeader(s string) error {
	if len(s) > 1 && strings.HasSuffix(s, "*") {
		if err := CheckHeaderName(strings.TrimSuffix(s, "*")); err != nil {
			fix := fixOf(err)
			var name string
			if fix != nil && fix.Op == schema.FixReplace && json.Unmarshal(fix.Value, &name) == nil {
				// The name's correction, as a prefix.
				why := strings.TrimSuffix(err.Error(), fmt.Sprintf(": did you mean %q?", name))
				return advise(schema.ReplaceWith(name+"*"), "%q is not a header name prefix: %s: did you mean %q?", s, why, name+"*")
			}
			return &adviceError{msg: fmt.Sprintf("%q is not a header name prefix: %v", s, err), fix: fix}
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
		msg := fmt.Sprintf("%q is not a duration string; write a number followed by a unit, such as \"12h\", \"30m\" or \"90s\" (units: h, m, s, ms, us, ns)", s)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			if fixed, ok := secondsText(n); ok {
				return 0, advise(schema.ReplaceWith(fixed), "%s; a number alone is not read as seconds: did you mean %q?", msg, fixed)
			}
		}
		if t := strings.TrimPrefix(s, "+"); t != s {
			if _, err := ParseMaxAge(t); err == nil {
				return 0, advise(schema.ReplaceWith(t), "%s; did you mean %q?", msg, t)
			}
		}
		return 0, errors.New(msg)
	}
	if d%time.Second != 0 {
		fixed := DurationText(d.Truncate(time.Second))
		return 0, advise(schema.ReplaceWith(fixed), "%q is not a whole number of seconds, and Access-Control-Max-Age counts seconds; use %q", s, fixed)
	}
	return d, nil
}

// maxSeconds is the largest number of seconds a time.Duration holds.
const maxSeconds = int64(math.MaxInt64 / time.Second)

// secondsText is n seconds as a max_age duration string (DurationText),
// or false when a time.Duration cannot hold it.
func secondsText(n int64) (string, bool) {
	if n > maxSeconds || n < -maxSeconds {
		return "", false
	}
	return DurationText(time.Duration(n) * time.Second), true
}

// DurationText writes d as the shortest duration string that
// time.Duration's String writes without zero units at its end: "1h"
// rather than "1h0m0s", "1m30s", "1h0m5s", "0s". ParseMaxAge reads it
// back as d when d is a whole number of seconds.
func DurationText(d time.Duration) string {
	s := d.String()
	if t, ok := strings.CutSuffix(s, "m0s"); ok {
		s = t + "m"
		if t, ok := strings.CutSuffix(s, "h0m"); ok {
			s = t + "h"
		}
	}
	return s
}
