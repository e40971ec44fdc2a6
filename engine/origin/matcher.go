package origin

import (
	"maps"
	"regexp"
	"slices"
	"strings"
)

// MaxLength is the longest request origin that can match: a scheme, a
// 253-byte host and a port fit comfortably. Longer origins never match.
const MaxLength = 320

// Matcher answers whether a request origin is allowed by a list of patterns.
// It is immutable once built and safe for concurrent use.
type Matcher struct {
	any        bool
	null       bool
	exact      map[string]struct{} // "scheme://host[:port]", default port left out
	anyPort    map[string]struct{} // "scheme://host"
	sub        map[string]struct{} // "scheme://.parent[:port]"
	subAnyPort map[string]struct{} // "scheme://.parent"
	regexps    []*regexp.Regexp
	patterns   []Pattern // as given, for Explain
	// exactOnly: no pattern but exact ones (and *, null, regexps).
	exactOnly bool
	// short is the exact set as a list when exactOnly and it has at most
	// shortMax entries: comparing a few strings is cheaper than hashing.
	short []string
}

// shortMax is the longest exact list Match scans instead of hashing.
const shortMax = 8

// NewMatcher builds a Matcher from parsed patterns and anchored regular
// expressions. Regular expressions are matched against the origin as the
// browser sent it.
func NewMatcher(patterns []Pattern, regexps []*regexp.Regexp) *Matcher {
	m := &Matcher{
		exact:      map[string]struct{}{},
		anyPort:    map[string]struct{}{},
		sub:        map[string]struct{}{},
		subAnyPort: map[string]struct{}{},
		regexps:    regexps,
		patterns:   patterns,
	}
	for _, p := range patterns {
		switch {
		case p.Kind == Any:
			m.any = true
		case p.Kind == Null:
			m.null = true
		case p.Kind == Subdomain && p.Port == "*":
			m.subAnyPort[p.Scheme+"://."+p.Host] = struct{}{}
		case p.Kind == Subdomain:
			m.sub[p.Scheme+"://."+p.Host+portSuffix(p.Port)] = struct{}{}
		case p.Port == "*":
			m.anyPort[p.Scheme+"://"+p.Host] = struct{}{}
		default:
			m.exact[p.Scheme+"://"+p.Host+portSuffix(p.Port)] = struct{}{}
		}
	}
	m.exactOnly = len(m.anyPort) == 0 && len(m.sub) == 0 && len(m.subAnyPort) == 0
	if m.exactOnly && len(m.exact) > 0 && len(m.exact) <= shortMax {
		m.short = slices.Sorted(maps.Keys(m.exact))
	}
	return m
}

// Explain returns the allow_origins entry or allow_origins_regex
// expression that lets o in, or "" when none does. It is meant for
// diagnostics and allocates.
func (m *Matcher) Explain(o string) string {
	for _, p := range m.patterns {
		if NewMatcher([]Pattern{p}, nil).Match(o) {
			return p.Raw
		}
	}
	for _, re := range m.regexps {
		if re.MatchString(o) {
			return re.String()
		}
	}
	return ""
}

// AllowsAny reports whether the list contains "*".
func (m *Matcher) AllowsAny() bool { return m.any }

// Match reports whether the request origin is allowed. It does not
// allocate. An origin that is not a well-formed serialised origin (for
// example one with a path, user information, a trailing dot, non-ASCII
// bytes or a port with leading zeros) never matches a listed pattern.
func (m *Matcher) Match(o string) bool {
	if m.any {
		return true
	}
	if o == "null" {
		return m.null
	}
	// Browsers send serialised origins, which are already in the form the
	// exact set holds: try that before normalising.
	if m.short != nil {
		hit, maybe := m.inShort(o)
		if hit {
			return true
		}
		if !maybe {
			// Normalising o could not give a listed origin: only a regular
			// expression can still match.
			return m.matchRegexps(o)
		}
	} else {
		if _, hit := m.exact[o]; hit {
			return true
		}
		if m.exactOnly && isSerialized(o) {
			// o is already in normal form and missed the exact set: only
			// a regular expression can still match.
			return m.matchRegexps(o)
		}
	}
	var buf [MaxLength]byte
	n, schemeEnd, hostEnd, ok := normalize(&buf, o)
	if ok {
		if _, hit := m.exact[string(buf[:n])]; hit {
			return true
		}
		if len(m.anyPort) > 0 {
			if _, hit := m.anyPort[string(buf[:hostEnd])]; hit {
				return true
			}
		}
		if (len(m.sub) > 0 || len(m.subAnyPort) > 0) && buf[schemeEnd] != '[' {
			if m.matchSubdomain(&buf, n, schemeEnd, hostEnd) {
				return true
			}
		}
	}
	return m.matchRegexps(o)
}

// inShort looks o up in the short exact list. It also reports whether
// normalising o could give a listed origin: normalising keeps the length
// (it lower-cases ASCII; anything else never matches) unless it drops a
// default port, so only when a listed origin has o's length, or o ends
// with a port.
func (m *Matcher) inShort(o string) (hit, maybe bool) {
	for _, e := range m.short {
		if len(e) == len(o) {
			if e == o {
				return true, true
			}
			maybe = true
		}
	}
	if !maybe {
		// A port is the digits after the last colon, at the end.
		i := len(o)
		for i > 0 && o[i-1] >= '0' && o[i-1] <= '9' {
			i--
		}
		maybe = i > 0 && o[i-1] == ':'
	}
	return false, maybe
}

func (m *Matcher) matchRegexps(o string) bool {
	for _, re := range m.regexps {
		if re.MatchString(o) {
			return true
		}
	}
	return false
}

// isSerialized reports, cheaply, whether normalising o would leave it
// unchanged: no upper-case letter and no explicit port (the only colon is
// the one after the scheme). It looks for upper case eight bytes at a
// time, since a refused origin pays for it on every request.
func isSerialized(o string) bool {
	c := strings.IndexByte(o, ':')
	if c < 0 || strings.IndexByte(o[c+1:], ':') >= 0 {
		return false
	}
	for len(o) >= 8 {
		w := o[:8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		if upperBytes(x) != 0 {
			return false
		}
		o = o[8:]
	}
	for i := 0; i < len(o); i++ {
		if c := o[i]; c >= 'A' && c <= 'Z' {
			return false
		}
	}
	return true
}

// lanes has 1 in every byte of a uint64: lanes*c repeats byte c eight times.
const (
	lanes = 0x0101010101010101
	high  = 0x8080808080808080
)

// upperBytes sets the high bit of every byte of x that is an ASCII
// upper-case letter, and clears every other bit. Bytes with their own high
// bit set (not ASCII) are never letters, and no lane carries into the next.
func upperBytes(x uint64) uint64 {
	low := x &^ high               // every lane at most 0x7f
	ge := low + lanes*(0x80-'A')   // high bit: lane >= 'A'
	gt := low + lanes*(0x80-'Z'-1) // high bit: lane > 'Z'
	return ge &^ gt &^ x & high
}

// WellFormed reports whether o is a serialised origin a browser could send
// for a page (scheme://host[:port]; not "null"). It does not allocate.
func WellFormed(o string) bool {
	var buf [MaxLength]byte
	_, _, _, ok := normalize(&buf, o)
	return ok
}

// matchSubdomain looks up every proper parent domain of the normalised
// origin in buf: a.b.example.com tries .b.example.com, .example.com, .com.
func (m *Matcher) matchSubdomain(buf *[MaxLength]byte, n, schemeEnd, hostEnd int) bool {
	var key [MaxLength + 1]byte
	copy(key[:], buf[:schemeEnd]) // "scheme://"
	port := buf[hostEnd:n]        // ":port" or ""
	for i := schemeEnd + 1; i < hostEnd; i++ {
		if buf[i] != '.' {
			continue
		}
		k := schemeEnd
		k += copy(key[k:], buf[i:hostEnd])
		if _, hit := m.subAnyPort[string(key[:k])]; hit {
			return true
		}
		k += copy(key[k:], port)
		if _, hit := m.sub[string(key[:k])]; hit {
			return true
		}
	}
	return false
}

// normalize writes the lower-case serialised origin o into buf, without the
// scheme's default port. It returns the length written, the index where the
// host starts, the index where the host ends, and false when o is not a
// well-formed origin.
func normalize(buf *[MaxLength]byte, o string) (n, hostStart, hostEnd int, ok bool) {
	if len(o) > MaxLength || len(o) < 4 {
		return 0, 0, 0, false
	}
	sep := strings.Index(o, "://")
	if sep <= 0 || !validScheme(o[:sep]) {
		return 0, 0, 0, false
	}
	for i := 0; i < sep; i++ {
		buf[i] = lower(o[i])
	}
	scheme := buf[:sep]
	n = copy(buf[sep:], "://") + sep
	hostStart = n
	hp := o[sep+3:]
	if hp == "" {
		return 0, 0, 0, false
	}
	var host, port string
	if hp[0] == '[' {
		end := strings.IndexByte(hp, ']')
		if end < 3 {
			return 0, 0, 0, false
		}
		host = hp[:end+1]
		rest := hp[end+1:]
		if rest != "" {
			if rest[0] != ':' {
				return 0, 0, 0, false
			}
			port = rest[1:]
			if port == "" {
				return 0, 0, 0, false
			}
		}
		for i := 1; i < len(host)-1; i++ {
			c := lower(host[i])
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c == ':' || c == '.') {
				return 0, 0, 0, false
			}
		}
	} else {
		host = hp
		if i := strings.LastIndexByte(hp, ':'); i >= 0 {
			host, port = hp[:i], hp[i+1:]
			if port == "" {
				return 0, 0, 0, false
			}
		}
		if !validHostName(host) {
			return 0, 0, 0, false
		}
	}
	for i := 0; i < len(host); i++ {
		buf[n] = lower(host[i])
		n++
	}
	hostEnd = n
	if port != "" {
		if !validPort(port) {
			return 0, 0, 0, false
		}
		if def, known := defaultPortOf(scheme); !known || def != port {
			buf[n] = ':'
			n++
			n += copy(buf[n:], port)
		}
	}
	return n, hostStart, hostEnd, true
}

// defaultPortOf returns the default port of a lower-case scheme without
// allocating.
func defaultPortOf(scheme []byte) (string, bool) {
	switch string(scheme) {
	case "http", "ws":
		return "80", true
	case "https", "wss":
		return "443", true
	}
	return "", false
}

// validHostName accepts DNS-like names of letters, digits, '-' and '_' in
// non-empty labels; no trailing dot.
func validHostName(h string) bool {
	if h == "" {
		return false
	}
	labelLen := 0
	for i := 0; i < len(h); i++ {
		c := lower(h[i])
		switch {
		case c == '.':
			if labelLen == 0 {
				return false
			}
			labelLen = 0
		case isHostByte(c):
			labelLen++
		default:
			return false
		}
	}
	return labelLen > 0
}

func validPort(p string) bool {
	if len(p) > 5 || p[0] == '0' {
		return false
	}
	v := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c < '0' || c > '9' {
			return false
		}
		v = v*10 + int(c-'0')
	}
	return v >= 1 && v <= 65535
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
