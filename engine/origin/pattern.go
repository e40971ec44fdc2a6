// Package origin parses the origin patterns of a CORS policy and matches
// request origins against them.
//
// The grammar accepted in allow_origins is deliberately small, so that every
// pattern means exactly what it looks like:
//
//   - any origin
//     null                       the opaque origin "null", only when listed literally
//     https://app.example.com    one origin; scheme and host compare case-insensitively,
//     and the scheme's default port equals no port
//     https://*.example.com      one or more DNS labels under example.com, and nothing
//     else (never example.com itself, never evil-example.com)
//     https://example.com:*      example.com on any port (combines with *.)
//
// A * anywhere else would cross a domain boundary and is refused with a
// suggestion. Matching a request origin never allocates, and its cost does
// not grow with the number of exact origins or subdomain patterns.
package origin

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// Kind tells which form of the grammar a Pattern uses.
type Kind uint8

// The forms of an origin pattern.
const (
	// Exact is a single serialised origin such as https://app.example.com.
	Exact Kind = iota
	// Any is the pattern "*".
	Any
	// Null is the pattern "null".
	Null
	// Subdomain is https://*.example.com: one or more labels under a domain.
	Subdomain
)

// Pattern is one parsed entry of allow_origins.
type Pattern struct {
	// Raw is the pattern as written in the configuration.
	Raw string
	// Kind is the form of the pattern.
	Kind Kind
	// Scheme is the lower-case scheme, without "://" (empty for Any and Null).
	Scheme string
	// Host is the lower-case host. For Subdomain it is the parent domain
	// (example.com for https://*.example.com).
	Host string
	// Port is the explicit port, "" for the scheme's default port, or "*"
	// for any port.
	Port string
}

// IsWildcard reports whether the pattern can match an origin that is not
// written out in full in the configuration.
func (p Pattern) IsWildcard() bool {
	return p.Kind == Any || p.Kind == Subdomain || p.Port == "*"
}

// String returns the normalised form of the pattern.
func (p Pattern) String() string {
	switch p.Kind {
	case Any:
		return "*"
	case Null:
		return "null"
	}
	var b strings.Builder
	b.WriteString(p.Scheme)
	b.WriteString("://")
	if p.Kind == Subdomain {
		b.WriteString("*.")
	}
	b.WriteString(p.Host)
	if p.Port != "" {
		b.WriteByte(':')
		b.WriteString(p.Port)
	}
	return b.String()
}

// PatternError explains why a string is not a valid origin pattern.
type PatternError struct {
	// Value is the pattern as written.
	Value string
	// Reason says what is wrong, in a few words.
	Reason string
	// Suggestion is a corrected pattern, when one can be guessed.
	Suggestion string
}

// Error implements error.
func (e *PatternError) Error() string {
	msg := fmt.Sprintf("%q is not a valid origin: %s", e.Value, e.Reason)
	if e.Suggestion != "" {
		msg += fmt.Sprintf("; did you mean %q?", e.Suggestion)
	}
	return msg
}

// defaultPorts maps a scheme to the port that its serialised origins omit.
var defaultPorts = map[string]string{
	"http":  "80",
	"https": "443",
	"ws":    "80",
	"wss":   "443",
}

// ParsePattern parses one allow_origins entry. It returns a *PatternError
// that names the problem and, where possible, a corrected pattern.
//
// A suggestion is only made when it is itself a valid pattern.
func ParsePattern(raw string) (Pattern, error) { return parsePattern(raw, true) }

// parsePattern is ParsePattern; check says whether to parse a suggestion
// before making it (a suggestion's own suggestion is never made, so it is
// not checked).
func parsePattern(raw string, check bool) (Pattern, error) {
	fail := func(reason, suggestion string) (Pattern, error) {
		if suggestion != "" && check {
			if _, err := parsePattern(suggestion, false); err != nil {
				suggestion = ""
			}
		}
		return Pattern{}, &PatternError{Value: raw, Reason: reason, Suggestion: suggestion}
	}
	switch raw {
	case "":
		return fail(`it is empty; write an origin such as "https://app.example.com"`, "")
	case "*":
		return Pattern{Raw: raw, Kind: Any}, nil
	case "null":
		return Pattern{Raw: raw, Kind: Null}, nil
	}
	if t := strings.TrimSpace(raw); t != raw {
		return fail("it has leading or trailing white space", t)
	}
	if strings.EqualFold(raw, "null") {
		return fail("the opaque origin is written in lower case", "null")
	}
	if scheme, _, ok := strings.Cut(raw, ":"); ok && validScheme(scheme) {
		if reason, opaque := opaqueSchemes[strings.ToLower(scheme)]; opaque {
			return fail(reason, "")
		}
	}
	if strings.ContainsAny(raw, ", \t|;") {
		if parts := strings.FieldsFunc(raw, func(r rune) bool { return strings.ContainsRune(", \t|;", r) }); len(parts) > 1 && (strings.Contains(raw, ",") || strings.Count(raw, "://") > 1) {
			return fail(fmt.Sprintf("it holds several origins; write each one as its own list item: %s", quoteList(parts)), "")
		}
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		s := strings.TrimPrefix(strings.TrimPrefix(raw, "//"), "*://")
		if strings.HasSuffix(raw, "*") && !strings.Contains(raw, "/") {
			return fail("a * may only stand for whole DNS labels (https://*.example.com) or the port (https://example.com:*); list each origin (\"*\" alone stands for every origin, and is refused with credentials)", "")
		}
		scheme := "https://"
		if h := strings.ToLower(s); strings.HasPrefix(h, "localhost") || strings.HasPrefix(h, "127.") || strings.HasPrefix(h, "[::1]") {
			scheme = "http://" // local development servers rarely run TLS
		}
		return fail("it has no scheme; an origin is scheme://host[:port]", scheme+strings.TrimSuffix(s, "/"))
	}
	if !validScheme(scheme) {
		if strings.Contains(scheme, "*") {
			return fail("the scheme cannot be a wildcard; list each scheme", "https://"+rest)
		}
		return fail("the scheme must be a letter followed by letters, digits, '+', '-' or '.'", "")
	}
	scheme = strings.ToLower(scheme)
	if reason, ok := opaqueSchemes[scheme]; ok {
		return fail(reason, "")
	}
	hostport := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		hostport = rest[:i]
		fixed := scheme + "://" + hostport
		switch {
		case rest[i:] == "/":
			return fail("it ends with a slash; an origin has no path", fixed)
		case rest[i] == '/':
			return fail("it has a path; an origin is scheme://host[:port] only", fixed)
		case rest[i] == '?':
			return fail("it has a query; an origin is scheme://host[:port] only", fixed)
		default:
			return fail("it has a fragment; an origin is scheme://host[:port] only", fixed)
		}
	}
	if i := strings.LastIndexByte(hostport, '@'); i >= 0 {
		return fail("it has user information; an origin never carries a user name or password", scheme+"://"+hostport[i+1:])
	}
	if strings.HasPrefix(hostport, "*.[") {
		return fail("an IP address has no subdomains, so a * in front of it would never match; list the address itself", scheme+"://"+hostport[2:])
	}
	host, port, err := splitHostPort(hostport)
	if err != "" {
		return fail(err, "")
	}
	p := Pattern{Raw: raw, Kind: Exact, Scheme: scheme, Port: port}
	if port != "*" && port != "" {
		if port == defaultPorts[scheme] {
			p.Port = ""
		}
	}
	if strings.HasPrefix(host, "*.") {
		p.Kind = Subdomain
		host = host[2:]
	}
	if strings.Contains(host, "*") {
		return fail("a * may only stand for whole DNS labels at the start of the host (https://*.example.com) or for the port (https://example.com:*), because anywhere else it would also match other domains", suggestWildcard(scheme, host, port, p.Kind == Subdomain))
	}
	if strings.Count(raw, "*") > 1 && !(p.Kind == Subdomain && port == "*") {
		return fail("only one * is allowed in the host", "")
	}
	// Check the host as written: strings.ToLower folds some non-ASCII
	// letters to ASCII ones (U+0130 to i, the Kelvin sign to k).
	if !isASCII(host) {
		ascii, ierr := idna.Lookup.ToASCII(host)
		suggestion := ""
		if ierr == nil {
			q := p
			q.Host = ascii
			suggestion = q.String()
		}
		return fail("the host is not ASCII; browsers send internationalised hosts in their punycode form", suggestion)
	}
	lower := strings.ToLower(host)
	if msg := checkHost(lower); msg != "" {
		suggestion := ""
		if strings.HasSuffix(lower, ".") && !strings.HasSuffix(lower, "..") {
			q := p
			q.Host = strings.TrimSuffix(lower, ".")
			suggestion = q.String()
		}
		return fail(msg, suggestion)
	}
	canonical, msg := canonicalHost(lower)
	if msg != "" {
		return fail(msg, "")
	}
	if canonical != lower {
		q := p
		q.Host = canonical
		return fail(fmt.Sprintf("browsers write this address as %s and send only that form, so this entry would never match", canonical), q.String())
	}
	if p.Kind == Subdomain && (lower[0] == '[' || isIPv4(lower)) {
		return fail(fmt.Sprintf("an IP address has no subdomains, so *.%s would never match; list the address itself, such as %s://%s", lower, scheme, lower), "")
	}
	if p.Kind == Subdomain && !strings.Contains(lower, ".") && lower != "localhost" {
		return fail(fmt.Sprintf("*.%s would match every site under the top-level domain %q; name the registered domain, such as https://*.example.%s", lower, lower, lower), "")
	}
	p.Host = lower
	return p, nil
}

// opaqueSchemes are schemes whose pages have an opaque origin: a browser
// sends Origin: null for them, never the URL's scheme and host. ws: and
// wss: are never a page's origin either: a WebSocket handshake carries
// the origin of the page that opens the socket.
var opaqueSchemes = map[string]string{
	"file":       `pages loaded from file: URLs send Origin: null, never a file:// origin, so this entry would never match; serve the page over http(s), or list "null" (never with credentials)`,
	"about":      `about: pages send Origin: null, so this entry would never match`,
	"data":       `data: URLs have an opaque origin and send Origin: null, so this entry would never match`,
	"blob":       `a blob: URL has the origin of the page that made it; list that page's origin`,
	"javascript": `javascript: URLs run in the page that opened them; list that page's origin`,
	"ws":         `browsers never send a ws:// origin: a WebSocket handshake carries the origin of the page that opens it (http:// or https://); list that page's origin`,
	"wss":        `browsers never send a wss:// origin: a WebSocket handshake carries the origin of the page that opens it (http:// or https://); list that page's origin`,
}

// quoteList renders strings as a JSON-like list for messages.
func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// suggestWildcard guesses the pattern the user meant when a * stands in a
// place where it would cross a domain boundary.
func suggestWildcard(scheme, host, port string, sub bool) string {
	rebuild := func(h string) string {
		s := scheme + "://"
		if sub {
			s += "*."
		}
		s += h
		if port != "" {
			s += ":" + port
		}
		return s
	}
	switch {
	case host == "*":
		return "*"
	case sub && strings.HasPrefix(host, "*."):
		// https://*.*.example.com: one *. already covers several labels.
		return rebuild(strings.TrimLeft(host, "*."))
	case strings.HasPrefix(host, "*") && !sub:
		// https://*example.com: the * glues onto the domain.
		return scheme + "://*." + strings.TrimLeft(host[1:], ".") + portSuffix(port)
	case strings.HasSuffix(host, ".*"):
		return rebuild(strings.TrimSuffix(host, ".*") + ".com")
	}
	return ""
}

func portSuffix(port string) string {
	if port == "" {
		return ""
	}
	return ":" + port
}

// splitHostPort splits host[:port] and checks the port. It returns a reason
// when the text is not acceptable.
func splitHostPort(hp string) (host, port, reason string) {
	if hp == "" {
		return "", "", "the host is empty"
	}
	if hp[0] == '[' {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return "", "", "an IPv6 host must be closed with ]"
		}
		host, rest := hp[:end+1], hp[end+1:]
		if rest == "" {
			return host, "", ""
		}
		if rest[0] != ':' {
			return "", "", "unexpected text after the IPv6 host"
		}
		port = rest[1:]
		if r := checkPort(port); r != "" {
			return "", "", r
		}
		return host, port, ""
	}
	host = hp
	if i := strings.LastIndexByte(hp, ':'); i >= 0 {
		host, port = hp[:i], hp[i+1:]
		if r := checkPort(port); r != "" {
			return "", "", r
		}
	}
	return host, port, ""
}

func checkPort(port string) string {
	if port == "*" {
		return ""
	}
	if port == "" {
		return "the port after ':' is empty; leave out the ':' for the default port"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || port[0] == '0' || port[0] == '+' {
		return fmt.Sprintf("the port %q is not a number from 1 to 65535", port)
	}
	return ""
}

// checkHost reports what is wrong with a lower-case ASCII host, or "".
func checkHost(h string) string {
	if h == "" {
		return "the host is empty"
	}
	if h[0] == '[' {
		if len(h) < 4 || !strings.HasSuffix(h, "]") {
			return "the IPv6 host is malformed"
		}
		for i := 1; i < len(h)-1; i++ {
			c := h[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c == ':' || c == '.') {
				return "the IPv6 host is malformed"
			}
		}
		return ""
	}
	if strings.HasSuffix(h, ".") && !strings.HasSuffix(h, "..") {
		return "the host ends with a dot, which makes it another origin: only a page whose address itself ends with the dot (http://example.com./) sends it, and corsgate never matches it"
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" {
			return "the host has an empty DNS label (two dots in a row)"
		}
		for i := 0; i < len(label); i++ {
			if !isHostByte(label[i]) {
				return fmt.Sprintf("the host contains %q, which is not allowed in a host name", label[i])
			}
		}
	}
	return ""
}

func validScheme(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(isAlpha(c) || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// isHostByte reports whether c may appear in a lower-case host label.
func isHostByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
