package origin

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/publicsuffix"
)

// CompileRegexp compiles one allow_origins_regex entry. The expression must
// be anchored at both ends (^...$) as a whole, so that it cannot match a
// longer, attacker-controlled origin: "^a|b$" is refused because its second
// branch is not anchored at the start. A refusal is a *RegexpError.
func CompileRegexp(expr string) (*regexp.Regexp, error) {
	parsed, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, &RegexpError{Value: expr, Reason: fmt.Sprintf("is not a valid RE2 regular expression: %v", err)}
	}
	if !anchored(parsed) {
		return nil, &RegexpError{Value: expr, Reason: "is not anchored at both ends, so it would also match longer origins such as https://example.com.evil.net", Suggestion: anchoredSuggestion(expr)}
	}
	return regexp.MustCompile(expr), nil
}

// RegexpError explains why a string is not a valid allow_origins_regex
// expression.
type RegexpError struct {
	// Value is the expression as written.
	Value string
	// Reason says what is wrong, after the quoted expression.
	Reason string
	// Suggestion is an expression to write instead, or "". It is anchored
	// and lets in no origin outside the domain it names (ProbeRegexp finds
	// no leak in it but, maybe, a Subdomain one).
	Suggestion string
}

// Error implements error.
func (e *RegexpError) Error() string {
	msg := fmt.Sprintf("%q %s", e.Value, e.Reason)
	if e.Suggestion != "" {
		msg += fmt.Sprintf("; write %q", e.Suggestion)
	}
	return msg
}

// anchoredSuggestion is what to write instead of expr, which is not
// anchored: the expression of the same origins when expr is written as an
// allow_origins entry (https://*.example.com), expr anchored as a whole
// when that lets no other domain in, or else the expression RepairRegexp
// makes of it, or "".
func anchoredSuggestion(expr string) string {
	if p, err := ParsePattern(expr); err == nil && (p.Kind == Exact || p.Kind == Subdomain) && p.Port != "*" {
		var b strings.Builder
		b.WriteString("^" + regexp.QuoteMeta(p.Scheme) + "://")
		if p.Kind == Subdomain {
			b.WriteString(`([a-z0-9-]+\.)+`)
		}
		b.WriteString(regexp.QuoteMeta(p.Host) + regexp.QuoteMeta(portSuffix(p.Port)) + "$")
		return b.String()
	}
	wrapped := "^(?:" + strings.TrimSuffix(strings.TrimPrefix(expr, "^"), "$") + ")$"
	if parsed, err := syntax.Parse(wrapped, syntax.Perl); err == nil && anchored(parsed) {
		if leak := ProbeRegexp(regexp.MustCompile(wrapped)); leak == nil || leak.Subdomain {
			return wrapped
		}
	}
	if fixed, ok := RepairRegexp(expr); ok {
		return fixed
	}
	return ""
}

// RepairRegexp rewrites a careless allow_origins_regex expression as its
// author most likely meant it: anchored at both ends, with every dot of
// the host escaped, a leading .* or .+ narrowed to whole DNS labels
// (([a-z0-9-]+\.)* before the domain, or + when a dot or a .+ says that
// at least one label is meant), and a trailing .* dropped. It reads an
// expression made of a scheme, ://, an optional leading wildcard, a host
// and an optional port, such as https://.*example.com, and reports false
// for any other, or when the host is not a domain name (a leading
// wildcard also needs a registrable domain: never .*\.com). The result
// matches no origin outside the host's domain: ProbeRegexp finds no leak
// in it, or a Subdomain one when it has the leading wildcard.
func RepairRegexp(expr string) (string, bool) {
	parsed, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return "", false
	}
	items := flatten(parsed)
	for len(items) > 0 && (items[0].Op == syntax.OpBeginText || items[0].Op == syntax.OpBeginLine) {
		items = items[1:]
	}
	for len(items) > 0 && (items[len(items)-1].Op == syntax.OpEndText || items[len(items)-1].Op == syntax.OpEndLine) {
		items = items[:len(items)-1]
	}
	// The scheme, as written, up to ://.
	var scheme strings.Builder
	var host strings.Builder
	i, found := 0, false
	for ; i < len(items) && !found; i++ {
		it := items[i]
		if it.Op != syntax.OpLiteral {
			if w := it.String(); strings.ContainsAny(w, ".*+:/") {
				return "", false
			}
			scheme.WriteString(it.String())
			continue
		}
		lit := literal(it)
		before, after, ok := strings.Cut(lit, "://")
		scheme.WriteString(regexp.QuoteMeta(before))
		if ok {
			scheme.WriteString("://")
			host.WriteString(after)
			found = true
		}
	}
	if !found || scheme.Len() == len("://") {
		return "", false
	}
	// The host: an optional leading wildcard, then literals and
	// unescaped dots, then an optional trailing wildcard.
	lead := ""
	for j, it := range items[i:] {
		switch {
		case isWildcard(it) && j == 0 && host.Len() == 0:
			lead = "*"
			if it.Op == syntax.OpPlus {
				lead = "+"
			}
		case isWildcard(it) && i+j == len(items)-1:
			// a trailing .*: the host, followed by anything; dropped.
		case it.Op == syntax.OpLiteral:
			host.WriteString(literal(it))
		case it.Op == syntax.OpAnyChar || it.Op == syntax.OpAnyCharNotNL:
			host.WriteByte('.')
		default:
			return "", false
		}
	}
	h, port, _ := strings.Cut(host.String(), ":")
	if port != "" && checkPort(port) != "" {
		return "", false
	}
	if strings.HasPrefix(h, ".") {
		if lead == "" {
			return "", false
		}
		h, lead = h[1:], "+"
	}
	if p, err := ParsePattern("https://" + h); err != nil || p.Kind != Exact || p.Host != h || isIPv4(h) || !strings.Contains(h, ".") {
		return "", false
	}
	if _, err := publicsuffix.EffectiveTLDPlusOne(h); lead != "" && err != nil {
		return "", false
	}
	var b strings.Builder
	b.WriteString("^" + scheme.String())
	if lead != "" {
		b.WriteString(`([a-z0-9-]+\.)` + lead)
	}
	b.WriteString(regexp.QuoteMeta(h))
	if port != "" {
		b.WriteString(":" + port)
	}
	b.WriteString("$")
	fixed := b.String()
	re, err := regexp.Compile(fixed)
	if err != nil {
		return "", false
	}
	if leak := ProbeRegexp(re); leak != nil && !leak.Subdomain {
		return "", false
	}
	return fixed, true
}

// flatten lists the parts of a concatenation, through groups.
func flatten(re *syntax.Regexp) []*syntax.Regexp {
	switch re.Op {
	case syntax.OpConcat:
		var out []*syntax.Regexp
		for _, sub := range re.Sub {
			out = append(out, flatten(sub)...)
		}
		return out
	case syntax.OpCapture:
		return flatten(re.Sub[0])
	}
	return []*syntax.Regexp{re}
}

// isWildcard reports whether re is .* or .+ or the like: a repetition of
// any character, or of a class with the dot, which can stand for several
// DNS labels ([^/]*). A class without the dot ([a-z0-9-]+) stands for
// one label, which the rewrite cannot keep: it is no wildcard here.
func isWildcard(re *syntax.Regexp) bool {
	if re.Op != syntax.OpStar && re.Op != syntax.OpPlus {
		return false
	}
	switch sub := re.Sub[0]; sub.Op {
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return true
	case syntax.OpCharClass:
		for i := 0; i+1 < len(sub.Rune); i += 2 {
			if sub.Rune[i] <= '.' && '.' <= sub.Rune[i+1] {
				return true
			}
		}
	}
	return false
}

// literal is the text of a literal, in lower case.
func literal(re *syntax.Regexp) string {
	rs := make([]rune, len(re.Rune))
	for i, r := range re.Rune {
		rs[i] = toLowerASCII(r)
	}
	return string(rs)
}

// anchored reports whether re is ^...$ as a whole, or an alternation of
// branches that each are.
func anchored(re *syntax.Regexp) bool {
	if re.Op == syntax.OpAlternate {
		for _, sub := range re.Sub {
			if !anchored(sub) {
				return false
			}
		}
		return true
	}
	if re.Op != syntax.OpConcat || len(re.Sub) < 2 {
		return false
	}
	first, last := re.Sub[0], re.Sub[len(re.Sub)-1]
	return first.Op == syntax.OpBeginText && last.Op == syntax.OpEndText
}

// Leak is an origin that a regular expression lets in although it is not
// one the expression names.
type Leak struct {
	// Origin is the attacker origin the expression matches.
	Origin string
	// Why names the mistake in the expression, for a person.
	Why string
	// Subdomain is true when Origin is under the domain the expression
	// names, with a name the expression does not list: the expression
	// trusts whoever runs a host there, as https://*.example.com does in
	// allow_origins. Otherwise Origin is on another domain.
	Subdomain bool
	// Domain is, for a Subdomain leak, the domain whose hosts the
	// expression trusts, such as example.com.
	Domain string
	// AnyPort is true when Origin is the expression's own host on a port
	// it does not name: the expression trusts whatever is served on the
	// host's other ports, as https://example.com:* does in allow_origins.
	AnyPort bool
}

// ProbeRegexp tries an anchored allow_origins_regex expression against
// origins an attacker can obtain, derived from the expression's own
// literal host: the host with a suffix (example.com.evil.example), a
// prefix glued to its registrable domain (evilexample.com), each dot
// replaced by another character (an unescaped dot matches any character:
// apixacme-shop.com), then, under its own domain, each label of the host
// replaced (evil.example.com for a [a-z]+ label) and a new label in front
// (evil.app.example.com), and last the host on another port. It returns
// the first one the expression matches, or nil when it matches none or no
// example host can be derived from it.
func ProbeRegexp(re *regexp.Regexp) *Leak {
	scheme, host, port, ok := exampleOrigin(re)
	if !ok {
		return nil
	}
	mk := func(h string) string {
		o := scheme + "://" + h
		if port != "" {
			o += ":" + port
		}
		return o
	}
	try := func(h, why string) *Leak {
		if o := mk(h); re.MatchString(o) {
			return &Leak{Origin: o, Why: why}
		}
		return nil
	}
	under := func(h, domain string) *Leak {
		l := try(h, fmt.Sprintf("it trusts hosts under %s with any name, whoever runs them", domain))
		if l != nil {
			l.Subdomain, l.Domain = true, domain
		}
		return l
	}
	if l := try(host+".evil.example", "it matches the host followed by another domain"); l != nil {
		return l
	}
	reg, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err == nil {
		sub := strings.TrimSuffix(host, reg)
		if l := try(sub+"evil"+reg, fmt.Sprintf("it matches other domains that end in %q", reg)); l != nil {
			return l
		}
	}
	for i := 0; i < len(host); i++ {
		if host[i] == '.' {
			if l := try(host[:i]+"x"+host[i+1:], "an unescaped dot matches any character; escape it as \\."); l != nil {
				return l
			}
		}
	}
	if err == nil && host != reg {
		labels := strings.Split(strings.TrimSuffix(host, "."+reg), ".")
		for i := range labels {
			if labels[i] == "evil" {
				continue
			}
			h := slices.Concat(labels[:i], []string{"evil"}, labels[i+1:], []string{reg})
			if l := under(strings.Join(h, "."), strings.Join(append(slices.Clone(labels[i+1:]), reg), ".")); l != nil {
				return l
			}
		}
	}
	if l := under("evil."+host, host); l != nil {
		return l
	}
	other := "8444"
	if port == other {
		other = "8445"
	}
	if o := scheme + "://" + host + ":" + other; re.MatchString(o) {
		return &Leak{Origin: o, Why: "it matches " + host + " on other ports", AnyPort: true}
	}
	return nil
}

// exampleOrigin builds one origin the expression matches, taking the
// shortest way through it: no repetition of a *, ? or {0,}, one of a +,
// the first branch of an alternation, the lowest character of a class,
// and a dot for an unescaped dot. When that gives no well-formed origin
// (as ^https://.*\.example\.com$ gives https://.example.com), it tries
// again with one repetition of everything and a letter for each
// unescaped dot inside a repetition.
func exampleOrigin(re *regexp.Regexp) (scheme, host, port string, ok bool) {
	parsed, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return "", "", "", false
	}
	for _, atLeastOne := range []bool{false, true} {
		var b strings.Builder
		if !sample(&b, parsed, atLeastOne, false) {
			continue
		}
		o := b.String()
		if !re.MatchString(o) {
			continue
		}
		p, err := ParsePattern(o)
		if err != nil || p.Kind != Exact || p.Host == "" || p.Host[0] == '[' || isIPv4(p.Host) {
			continue
		}
		return p.Scheme, p.Host, p.Port, true
	}
	return "", "", "", false
}

// sample appends to b a string re matches; see exampleOrigin.
func sample(b *strings.Builder, re *syntax.Regexp, atLeastOne, inRepeat bool) bool {
	if b.Len() > MaxLength {
		return false
	}
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginText, syntax.OpEndText, syntax.OpBeginLine, syntax.OpEndLine,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 {
				r = toLowerASCII(r)
			}
			b.WriteRune(r)
		}
		return true
	case syntax.OpCharClass:
		if len(re.Rune) < 2 {
			return false
		}
		r := re.Rune[0]
		// Prefer a lower-case letter or a digit when the class has one:
		// 1 rather than 0, so that a port made of the class is valid.
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if lo <= 'a' && 'a' <= hi {
				r = 'a'
				break
			}
			if lo <= '1' && '1' <= hi {
				r = '1'
			} else if lo <= '0' && '0' <= hi && r != '1' {
				r = '0'
			}
		}
		if r >= utf8.RuneSelf {
			return false
		}
		b.WriteRune(r)
		return true
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		if inRepeat {
			b.WriteByte('a')
		} else {
			b.WriteByte('.')
		}
		return true
	case syntax.OpCapture:
		return sample(b, re.Sub[0], atLeastOne, inRepeat)
	case syntax.OpStar, syntax.OpQuest:
		if atLeastOne {
			return sample(b, re.Sub[0], atLeastOne, true)
		}
		return true
	case syntax.OpPlus:
		return sample(b, re.Sub[0], atLeastOne, true)
	case syntax.OpRepeat:
		n := re.Min
		if n == 0 && atLeastOne && re.Max != 0 {
			n = 1
		}
		for i := 0; i < n; i++ {
			if !sample(b, re.Sub[0], atLeastOne, true) {
				return false
			}
		}
		return true
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if !sample(b, sub, atLeastOne, inRepeat) {
				return false
			}
		}
		return true
	case syntax.OpAlternate:
		return sample(b, re.Sub[0], atLeastOne, inRepeat)
	}
	return false
}

func toLowerASCII(r rune) rune {
	if r >= 'A' && r <= 'Z' {
		return r + 'a' - 'A'
	}
	return r
}
