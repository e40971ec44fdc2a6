package origin

import (
	"errors"
	"strings"
	"testing"
)

// Fuzz targets of the origin grammar and matcher. Seeds are added here and
// in testdata/fuzz/<FuzzName>/; make fuzz runs each target for FUZZTIME.

// FuzzParsePattern: ParsePattern never panics, explains every refusal with
// a *PatternError whose suggestion, if any, it accepts, and an accepted
// pattern has a normal form (String) that parses back to the same
// pattern, is lower case, shows a * exactly when the pattern is a
// wildcard, and, for a pattern without wildcard, is matched by a Matcher
// built from that pattern alone (as is the pattern as written).
func FuzzParsePattern(f *testing.F) {
	for _, s := range []string{
		"*", "null", "NULL", "", " https://a.example.com",
		"https://app.example.com", "HTTPS://App.Example.COM:443", "http://localhost:3000",
		"https://*.example.com", "https://*.example.com:*", "https://example.com:*",
		"https://*.com", "https://*example.com", "https://a.*.example.com", "*://example.com",
		"https://[::1]:8443", "https://[::1", "https://example.com.", "https://user@example.com",
		"https://example.com/", "https://example.com/path?q#f", "https://exаmple.com",
		"https://xn--exmple-cua.com", "https://example.com:0443", "https://example.com:65536",
		"chrome-extension://abcdef", "a+b-c.d://host", "https://example..com", "example.com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := ParsePattern(raw)
		if err != nil {
			var pe *PatternError
			if !errors.As(err, &pe) || pe.Value != raw || pe.Reason == "" {
				t.Fatalf("ParsePattern(%q): error %v is not a *PatternError naming the value and a reason", raw, err)
			}
			if pe.Suggestion != "" && pe.Suggestion == raw {
				t.Fatalf("ParsePattern(%q) refuses the value and suggests the same value", raw)
			}
			if pe.Suggestion != "" {
				if _, err := ParsePattern(pe.Suggestion); err != nil {
					t.Fatalf("ParsePattern(%q) suggests %q, which it refuses: %v", raw, pe.Suggestion, err)
				}
			}
			return
		}
		if p.Raw != raw {
			t.Fatalf("ParsePattern(%q).Raw = %q", raw, p.Raw)
		}
		s := p.String()
		q, err := ParsePattern(s)
		if err != nil {
			t.Fatalf("ParsePattern(%q) = %+v, whose normal form %q does not parse: %v", raw, p, s, err)
		}
		if q.Kind != p.Kind || q.Scheme != p.Scheme || q.Host != p.Host || q.Port != p.Port {
			t.Fatalf("ParsePattern(%q) = %+v, but its normal form %q parses to %+v", raw, p, s, q)
		}
		if q.String() != s {
			t.Fatalf("normal form not stable: %q -> %q -> %q", raw, s, q.String())
		}
		if s != strings.ToLower(s) {
			t.Fatalf("normal form %q of %q is not lower case", s, raw)
		}
		if p.IsWildcard() != strings.Contains(s, "*") {
			t.Fatalf("%q: IsWildcard() = %v but normal form %q", raw, p.IsWildcard(), s)
		}
		if p.IsWildcard() {
			return
		}
		if !isASCII(raw[strings.Index(raw, "://")+3:]) {
			t.Fatalf("non-ASCII host %q accepted as %q", raw, s)
		}
		m := NewMatcher([]Pattern{p}, nil)
		if len(s) <= MaxLength && !m.Match(s) {
			t.Fatalf("pattern %q does not match its own normal form %q", raw, s)
		}
		if len(raw) <= MaxLength && !m.Match(raw) {
			t.Fatalf("pattern %q does not match itself as a request origin", raw)
		}
	})
}

// FuzzMatch: for any list of valid patterns (one per line of the first
// argument) and any request origin, Matcher.Match agrees with a reference
// written from the grammar: an origin matches only if ParsePattern accepts
// it as a plain origin (no *) whose normal form equals a listed exact
// pattern's, has the listed host under a *. pattern (same scheme, same
// port unless :*), or has the host of a :* pattern; "null" only when null
// is listed; anything only when * is listed. In particular Match is never
// true for an origin that ParsePattern refuses (a path, user information,
// a trailing dot, non-ASCII, a bad port...) unless * is configured.
func FuzzMatch(f *testing.F) {
	for _, c := range [][2]string{
		{"https://app.example.com", "https://app.example.com"},
		{"https://app.example.com", "HTTPS://APP.EXAMPLE.COM:443"},
		{"https://app.example.com", "https://app.example.com."},
		{"https://app.example.com", "https://app.example.com/"},
		{"https://app.example.com", "https://user@app.example.com"},
		{"https://app.example.com", "http://app.example.com"},
		{"https://app.example.com:8443", "https://app.example.com:08443"},
		{"https://*.example.com", "https://evil-example.com"},
		{"https://*.example.com", "https://example.com"},
		{"https://*.example.com", "https://a.b.example.com"},
		{"https://*.example.com", "https://example.com.evil.net"},
		{"https://*.example.com:*", "https://a.example.com:1"},
		{"https://example.com:*", "https://example.com"},
		{"http://localhost:*\nhttps://*.example.com", "http://localhost:5173"},
		{"null", "null"},
		{"https://app.example.com", "null"},
		{"*", "https://anything.invalid/path"},
		{"https://exаmple.com\nhttps://xn--exmple-cua.com", "https://xn--exmple-cua.com"},
		{"https://[::1]:8443", "https://[::1]:8443"},
		{"https://[::1]\nhttps://*.[::1]", "https://a.[::1]"},
		{"foo+bar://host:80", "foo+bar://host:80"},
		{"https://i.example.com", "https://\u0130.example.com"},
		{"https://kelvin.example.com", "https://\u212aelvin.example.com"},
	} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, list, o string) {
		var pats []Pattern
		for _, line := range strings.SplitN(list, "\n", 8) {
			if p, err := ParsePattern(line); err == nil {
				pats = append(pats, p)
			}
		}
		got := NewMatcher(pats, nil).Match(o)
		want, why := referenceMatch(pats, o)
		if got != want {
			t.Fatalf("Match(%q) with patterns %q = %v, want %v (%s)", o, rawList(pats), got, want, why)
		}
	})
}

func rawList(pats []Pattern) []string {
	out := make([]string, len(pats))
	for i, p := range pats {
		out[i] = p.Raw
	}
	return out
}

// referenceMatch is the matching rule stated from the grammar, without
// the Matcher's buffers and maps.
func referenceMatch(pats []Pattern, o string) (bool, string) {
	for _, p := range pats {
		if p.Kind == Any {
			return true, "* is listed"
		}
	}
	if o == "null" {
		for _, p := range pats {
			if p.Kind == Null {
				return true, "null is listed"
			}
		}
		return false, "null is not listed"
	}
	if len(o) > MaxLength {
		return false, "longer than MaxLength"
	}
	if !isASCII(o) {
		// Browsers send hosts in punycode.
		return false, "not ASCII"
	}
	q, err := ParsePattern(o)
	if err != nil {
		return false, "not an origin: " + err.Error()
	}
	if q.Kind != Exact || q.Port == "*" {
		return false, "the origin is itself a pattern"
	}
	for _, p := range pats {
		switch {
		case p.Kind == Exact && p.Port != "*" && p.String() == q.String():
			return true, "exact " + p.Raw
		case p.Kind == Exact && p.Port == "*" && p.Scheme == q.Scheme && p.Host == q.Host:
			return true, "any port " + p.Raw
		case p.Kind == Subdomain && p.Scheme == q.Scheme && strings.HasSuffix(q.Host, "."+p.Host) &&
			(p.Port == "*" || p.Port == q.Port):
			return true, "subdomain " + p.Raw
		}
	}
	return false, "no listed pattern covers " + q.String()
}
