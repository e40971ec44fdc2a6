package origin

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestParsePatternAccepts(t *testing.T) {
	tests := []struct {
		in   string
		want string
		kind Kind
	}{
		{"*", "*", Any},
		{"null", "null", Null},
		{"https://app.example.com", "https://app.example.com", Exact},
		{"HTTPS://App.Example.COM", "https://app.example.com", Exact},
		{"https://example.com:443", "https://example.com", Exact},
		{"http://example.com:80", "http://example.com", Exact},
		{"http://example.com:8080", "http://example.com:8080", Exact},
		{"https://*.example.com", "https://*.example.com", Subdomain},
		{"https://*.example.com:*", "https://*.example.com:*", Subdomain},
		{"https://example.com:*", "https://example.com:*", Exact},
		{"http://localhost:3000", "http://localhost:3000", Exact},
		{"http://*.localhost", "http://*.localhost", Subdomain},
		{"http://[::1]:8080", "http://[::1]:8080", Exact},
		{"capacitor://localhost", "capacitor://localhost", Exact},
		{"http://127.0.0.1:5173", "http://127.0.0.1:5173", Exact},
	}
	for _, tt := range tests {
		p, err := ParsePattern(tt.in)
		if err != nil {
			t.Errorf("ParsePattern(%q): unexpected error %v", tt.in, err)
			continue
		}
		if p.String() != tt.want || p.Kind != tt.kind {
			t.Errorf("ParsePattern(%q) = %q kind %d, want %q kind %d", tt.in, p.String(), p.Kind, tt.want, tt.kind)
		}
	}
}

func TestParsePatternRefuses(t *testing.T) {
	tests := []struct {
		in         string
		reason     string // a substring of the reason
		suggestion string
	}{
		{"", "empty", ""},
		{"https://example.com/", "ends with a slash", "https://example.com"},
		{"https://example.com/app", "has a path", "https://example.com"},
		{"https://example.com?x=1", "has a query", "https://example.com"},
		{"https://example.com#top", "has a fragment", "https://example.com"},
		{"https://user:pw@example.com", "user information", "https://example.com"},
		{"example.com", "no scheme", "https://example.com"},
		{"*.example.com", "no scheme", "https://*.example.com"},
		{"https://*example.com", "would also match other domains", "https://*.example.com"},
		{"https://example.*", "would also match other domains", "https://example.com"},
		{"http*", "whole DNS labels", ""},
		{"https://*", "would also match other domains", "*"},
		{"https://*.*.example.com", "would also match other domains", "https://*.example.com"},
		{"https://ex*ample.com", "would also match other domains", ""},
		{"https://*.com", "top-level domain", ""},
		{"https://example.com:0", "not a number from 1 to 65535", ""},
		{"https://example.com:99999", "not a number from 1 to 65535", ""},
		{"https://example.com:", "empty", ""},
		{"https://example.com.", "only a page whose address itself ends with the dot", "https://example.com"},
		{"https://exa mple.com", "not allowed in a host", ""},
		{"https://bücher.example", "punycode", "https://xn--bcher-kva.example"},
		{"https://İ.example.com", "not ASCII", "https://xn--i-9bb.example.com"},
		{"https://\u212aelvin.example.com", "not ASCII", "https://kelvin.example.com"},
		{" https://example.com", "white space", "https://example.com"},
		{"NULL", "lower case", "null"},
		{"ht tp://example.com", "scheme", ""},
		{"*://example.com", "scheme cannot be a wildcard", "https://example.com"},
		// Two origins in one string: no half-origin as a suggestion.
		{"https://a.example.com, https://b.example.com", `several origins; write each one as its own list item: ["https://a.example.com", "https://b.example.com"]`, ""},
		{"https://a.example.com https://b.example.com", "several origins", ""},
		// Entries no browser ever sends.
		{"http://127.1:3999", "browsers write this address as 127.0.0.1", "http://127.0.0.1:3999"},
		{"http://0x7f.0.0.1", "browsers write this address as 127.0.0.1", "http://127.0.0.1"},
		{"http://2130706433", "browsers write this address as 127.0.0.1", "http://127.0.0.1"},
		{"http://256.0.0.1", "not a valid one", ""},
		{"http://example.42", "not a valid one", ""},
		{"http://[2001:4860:4860:0000:0000:0000:0000:8888]", "[2001:4860:4860::8888]", "http://[2001:4860:4860::8888]"},
		{"http://[::FFFF:127.0.0.1]", "[::ffff:7f00:1]", "http://[::ffff:7f00:1]"},
		{"http://[1:2:3]", "not a valid IPv6 address", ""},
		{"file:///home/me/app.html", "send Origin: null", ""},
		{"file://localhost", "send Origin: null", ""},
		{"ws://localhost:3000", "WebSocket handshake carries the origin of the page", ""},
		{"https://*.127.0.0.1", "an IP address has no subdomains", ""},
		{"https://*.[::1]", "an IP address has no subdomains", "https://[::1]"},
		{"https://xn--a.example.com", "not valid punycode", ""},
		{"about:blank", "about: pages send Origin: null", ""},
		{"javascript:alert(1)", "javascript: URLs run in the page that opened them", ""},
		{"data:text/html,hi", "data: URLs have an opaque origin", ""},
		{"blob:https://app.example.com/1", "a blob: URL has the origin of the page that made it", ""},
		{"https://a.example.com|https://b.example.com", `several origins; write each one as its own list item: ["https://a.example.com", "https://b.example.com"]`, ""},
		{"localhost:5173", "no scheme", "http://localhost:5173"},
	}
	for _, tt := range tests {
		_, err := ParsePattern(tt.in)
		var pe *PatternError
		if !errors.As(err, &pe) {
			t.Errorf("ParsePattern(%q): got %v, want a *PatternError", tt.in, err)
			continue
		}
		if !strings.Contains(pe.Reason, tt.reason) {
			t.Errorf("ParsePattern(%q) reason %q does not contain %q", tt.in, pe.Reason, tt.reason)
		}
		if pe.Suggestion != tt.suggestion {
			t.Errorf("ParsePattern(%q) suggestion %q, want %q", tt.in, pe.Suggestion, tt.suggestion)
		}
	}
}

func mustMatcher(t testing.TB, patterns ...string) *Matcher {
	t.Helper()
	var ps []Pattern
	var res []*regexp.Regexp
	for _, s := range patterns {
		if strings.HasPrefix(s, "^") {
			re, err := CompileRegexp(s)
			if err != nil {
				t.Fatal(err)
			}
			res = append(res, re)
			continue
		}
		p, err := ParsePattern(s)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return NewMatcher(ps, res)
}

func TestMatch(t *testing.T) {
	tests := []struct {
		patterns []string
		origin   string
		want     bool
	}{
		{[]string{"https://example.com"}, "https://example.com", true},
		{[]string{"https://example.com"}, "HTTPS://EXAMPLE.COM", true},
		{[]string{"https://example.com"}, "https://example.com:443", true},
		{[]string{"https://example.com:443"}, "https://example.com", true},
		{[]string{"https://example.com"}, "http://example.com", false},
		{[]string{"https://example.com"}, "https://example.com:8443", false},
		{[]string{"https://example.com"}, "https://example.com/", false},
		{[]string{"https://example.com"}, "https://example.com.", false},
		{[]string{"https://example.com"}, "https://user@example.com", false},
		{[]string{"https://example.com"}, "https://example.com.evil.net", false},
		{[]string{"https://example.com"}, "https://evil-example.com", false},
		{[]string{"https://example.com"}, "https://example.com:0443", false},
		{[]string{"https://example.com"}, "null", false},
		{[]string{"https://example.com"}, "", false},
		{[]string{"https://example.com"}, "https://exämple.com", false},
		{[]string{"https://*.example.com"}, "https://a.example.com", true},
		{[]string{"https://*.example.com"}, "https://a.b.example.com", true},
		{[]string{"https://*.example.com"}, "https://A.Example.Com", true},
		{[]string{"https://*.example.com"}, "https://example.com", false},
		{[]string{"https://*.example.com"}, "https://evil-example.com", false},
		{[]string{"https://*.example.com"}, "https://example.com.evil.net", false},
		{[]string{"https://*.example.com"}, "https://a.example.com.evil.net", false},
		{[]string{"https://*.example.com"}, "http://a.example.com", false},
		{[]string{"https://*.example.com"}, "https://a.example.com:8443", false},
		{[]string{"https://*.example.com"}, "https://.example.com", false},
		{[]string{"https://*.example.com"}, "https://a..example.com", false},
		{[]string{"https://*.example.com:*"}, "https://a.example.com:8443", true},
		{[]string{"https://*.example.com:8443"}, "https://a.example.com:8443", true},
		{[]string{"https://*.example.com:8443"}, "https://a.example.com", false},
		{[]string{"https://example.com:*"}, "https://example.com:1234", true},
		{[]string{"https://example.com:*"}, "https://example.com", true},
		{[]string{"https://example.com:*"}, "https://a.example.com:1234", false},
		{[]string{"http://[::1]:8080"}, "http://[::1]:8080", true},
		{[]string{"null"}, "null", true},
		{[]string{"null"}, "NULL", false},
		{[]string{"*"}, "https://anything.example", true},
		{[]string{`^https://[a-z]+\.example\.com$`}, "https://app.example.com", true},
		{[]string{`^https://[a-z]+\.example\.com$`}, "https://app.example.com.evil.net", false},
	}
	for _, tt := range tests {
		m := mustMatcher(t, tt.patterns...)
		if got := m.Match(tt.origin); got != tt.want {
			t.Errorf("%v.Match(%q) = %v, want %v", tt.patterns, tt.origin, got, tt.want)
		}
	}
}

func TestCompileRegexp(t *testing.T) {
	for _, bad := range []string{`https://example\.com`, `^https://example\.com`, `https://example\.com$`, `^https://a\.com|https://b\.com$`} {
		if _, err := CompileRegexp(bad); err == nil || !strings.Contains(err.Error(), "anchored") {
			t.Errorf("CompileRegexp(%q) = %v, want an anchoring error", bad, err)
		}
	}
	if _, err := CompileRegexp(`^(`); err == nil || !strings.Contains(err.Error(), "RE2") {
		t.Errorf("CompileRegexp(invalid) = %v, want a syntax error", err)
	}
	if _, err := CompileRegexp(`^https://(?:a|b)\.example\.com$`); err != nil {
		t.Errorf("anchored alternation refused: %v", err)
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	m := mustMatcher(t, "https://a.example.com", "https://*.example.org", "https://x.example.net:*")
	for _, o := range []string{"https://a.example.com", "https://b.c.example.org", "https://x.example.net:81", "https://nope.example"} {
		if n := testing.AllocsPerRun(100, func() { m.Match(o) }); n != 0 {
			t.Errorf("Match(%q) allocates %v times per call", o, n)
		}
	}
}

func TestParsePatternAcceptsCanonicalAddresses(t *testing.T) {
	for _, in := range []string{"http://127.0.0.1:3999", "http://[::1]:8080", "http://[2001:4860:4860::8888]", "https://xn--bcher-kva.example", "https://*.xn--bcher-kva.example", "chrome-extension://abcdefghijklmnop", "tauri://localhost"} {
		if _, err := ParsePattern(in); err != nil {
			t.Errorf("ParsePattern(%q): %v", in, err)
		}
	}
}

// Every attacker origin ProbeRegexp reports is matched by the expression
// and is not the origin the expression names; careful expressions get no
// report. An expression that trusts names it does not list under its own
// domain gets a Subdomain report naming that domain, and one that trusts
// its host on any port an AnyPort report.
func TestProbeRegexp(t *testing.T) {
	tests := []struct {
		expr   string
		origin string // "" when the expression is safe
		why    string
		domain string // for a Subdomain leak
	}{
		{`^https://api.acme-shop.com$`, "https://apixacme-shop.com", "unescaped dot", ""},
		{`^https://.*acme-shop\.com$`, "https://evilacme-shop.com", `other domains that end in "acme-shop.com"`, ""},
		{`^https://example\.com.*$`, "https://example.com.evil.example", "followed by another domain", ""},
		{`^https://.*\.example\.com$`, "https://evil.example.com", "hosts under example.com with any name", "example.com"},
		{`^https://[^/]+\.example\.com$`, "https://evil.example.com", "hosts under example.com with any name", "example.com"},
		{`^https://.+\.example\.com$`, "https://evil.example.com", "hosts under example.com with any name", "example.com"},
		{`^https://[a-z0-9-]+\.example\.com$`, "https://evil.example.com", "hosts under example.com with any name", "example.com"},
		{`^https://[a-z0-9-]+\.example\.com(:[0-9]+)?$`, "https://evil.example.com", "any name", "example.com"},
		{`^https://([a-z0-9-]+\.)*example\.com$`, "https://evil.example.com", "hosts under example.com with any name", "example.com"},
		{`^https://[a-z]+\.preview\.example\.com$`, "https://evil.preview.example.com", "hosts under preview.example.com", "preview.example.com"},
		{`^https://(.*\.)?app\.example\.com$`, "https://evil.app.example.com", "hosts under app.example.com", "app.example.com"},
		{`^https://api\.acme-shop\.com$`, "", "", ""},
		{`^https://admin[.]example[.]com$`, "", "", ""},
		{`^https://pr-[0-9]+\.preview\.example\.com$`, "", "", ""},
		{`^https://(app|admin)\.example\.com$`, "", "", ""},
		{`^https://(www\.)?example\.com$`, "", "", ""},
		{`^(https://a\.example\.com|https://b\.example\.com)$`, "", "", ""},
		// Any port of the host, as http://localhost:* would be in
		// allow_origins.
		{`^https?://localhost:[0-9]+$`, "http://localhost:8444", "localhost on other ports", ""},
		{`^https://app\.example\.com(:[0-9]+)?$`, "https://app.example.com:8444", "app.example.com on other ports", ""},
		{`^https://app\.example\.com:8444$`, "", "", ""},
		{`^https://app\.example\.com(:8443)?$`, "", "", ""},
	}
	for _, tt := range tests {
		re, err := CompileRegexp(tt.expr)
		if err != nil {
			t.Fatalf("CompileRegexp(%q): %v", tt.expr, err)
		}
		leak := ProbeRegexp(re)
		switch {
		case tt.origin == "" && leak != nil:
			t.Errorf("ProbeRegexp(%q) = %+v, want nothing", tt.expr, *leak)
		case tt.origin != "" && leak == nil:
			t.Errorf("ProbeRegexp(%q) found nothing, want %s", tt.expr, tt.origin)
		case leak != nil && (leak.Origin != tt.origin || !strings.Contains(leak.Why, tt.why) || !re.MatchString(leak.Origin)):
			t.Errorf("ProbeRegexp(%q) = %+v, want origin %s and a reason with %q", tt.expr, *leak, tt.origin, tt.why)
		case leak != nil && (leak.Subdomain != (tt.domain != "") || leak.Domain != tt.domain):
			t.Errorf("ProbeRegexp(%q) = %+v, want Subdomain %v and Domain %q", tt.expr, *leak, tt.domain != "", tt.domain)
		case leak != nil && leak.AnyPort != strings.Contains(tt.why, "other ports"):
			t.Errorf("ProbeRegexp(%q) = %+v, want AnyPort %v", tt.expr, *leak, !leak.AnyPort)
		}
	}
}

// RepairRegexp rewrites the careless expressions people write into the
// careful form they meant, which lets no other domain in; it declines
// what it cannot read as a scheme, a host and a port.
func TestRepairRegexp(t *testing.T) {
	tests := []struct {
		expr, want string // want "" when it declines
	}{
		{`https://.*example.com`, `^https://([a-z0-9-]+\.)*example\.com$`},
		{`^(?:https://.*example.com)$`, `^https://([a-z0-9-]+\.)*example\.com$`},
		{`^https://.*\.example\.com$`, `^https://([a-z0-9-]+\.)+example\.com$`},
		{`^https://.+example\.com$`, `^https://([a-z0-9-]+\.)+example\.com$`},
		{`^https://[^/]*\.example\.com$`, `^https://([a-z0-9-]+\.)+example\.com$`},
		{`^https://.*acme-shop\.com$`, `^https://([a-z0-9-]+\.)*acme-shop\.com$`},
		{`^https://api.acme-shop.com$`, `^https://api\.acme-shop\.com$`},
		{`https://app[.]example[.]com`, `^https://app\.example\.com$`},
		{`^https://app\.example\.com.*$`, `^https://app\.example\.com$`},
		{`^https?://.*example.com:8443$`, `^https?://([a-z0-9-]+\.)*example\.com:8443$`},
		{`^HTTPS://APP.EXAMPLE.COM$`, `^https://app\.example\.com$`},
		{`^https://.*\.com$`, ""},             // every .com
		{`^https://.*$`, ""},                  // no host
		{`^https://app\.example\.com:0$`, ""}, // not a port
		{`^https://(a|b)\.example\.com$`, ""},
		{`^https://[a-z0-9-]+\.example\.com$`, ""}, // one label: no rewrite keeps it
		{`^https://[a-z.]*example\.com$`, `^https://([a-z0-9-]+\.)*example\.com$`},
		{`example\.com`, ""}, // no scheme
		{`^https://127.0.0.1$`, ""},
	}
	for _, tt := range tests {
		got, ok := RepairRegexp(tt.expr)
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("RepairRegexp(%q) = %q, %v; want %q", tt.expr, got, ok, tt.want)
			continue
		}
		if !ok {
			continue
		}
		re, err := CompileRegexp(got)
		if err != nil {
			t.Errorf("RepairRegexp(%q) = %q, which CompileRegexp refuses: %v", tt.expr, got, err)
			continue
		}
		if leak := ProbeRegexp(re); leak != nil && !leak.Subdomain {
			t.Errorf("RepairRegexp(%q) = %q, which still lets in %s", tt.expr, got, leak.Origin)
		}
	}
}

// An expression that is not anchored is refused with an expression to
// write instead: the same, anchored as a whole, when that lets no other
// domain in, and otherwise the repaired one. The suggestion is accepted.
func TestCompileRegexpSuggestion(t *testing.T) {
	tests := []struct {
		expr, want string
	}{
		{`https://app[.]example[.]com`, `^(?:https://app[.]example[.]com)$`},
		{`^https://a[.]example[.]com|https://b[.]example[.]com$`, `^(?:https://a[.]example[.]com|https://b[.]example[.]com)$`},
		{`https://.*example.com`, `^https://([a-z0-9-]+\.)*example\.com$`},
		{`https://.*\.example\.com`, `^(?:https://.*\.example\.com)$`}, // only subdomains: kept
		{`https://api.acme-shop.com`, `^https://api\.acme-shop\.com$`},
		{`https://(a|b).example.com`, ``},
		{`https://*.example.com`, `^https://([a-z0-9-]+\.)+example\.com$`}, // an allow_origins entry
		{`https://app.example.com:8443`, `^https://app\.example\.com:8443$`},
		{`http://[::1]:3000`, `^http://\[::1\]:3000$`},
	}
	for _, tt := range tests {
		_, err := CompileRegexp(tt.expr)
		var re *RegexpError
		if !errors.As(err, &re) || re.Value != tt.expr {
			t.Errorf("CompileRegexp(%q) = %v, want a *RegexpError", tt.expr, err)
			continue
		}
		if re.Suggestion != tt.want {
			t.Errorf("CompileRegexp(%q) suggests %q, want %q", tt.expr, re.Suggestion, tt.want)
		}
		if tt.want != "" && !strings.HasSuffix(err.Error(), "write "+strconv.Quote(tt.want)) {
			t.Errorf("CompileRegexp(%q) = %q, want it to end with the suggestion", tt.expr, err)
		}
		if re.Suggestion == "" {
			continue
		}
		if _, err := CompileRegexp(re.Suggestion); err != nil {
			t.Errorf("CompileRegexp(%q) suggests %q, which it refuses: %v", tt.expr, re.Suggestion, err)
		}
	}
}
