package origin

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/publicsuffix"
)

// CompileRegexp compiles one allow_origins_regex entry. The expression must
// be anchored at both ends (^...$) as a whole, so that it cannot match a
// longer, attacker-controlled origin: "^a|b$" is refused because its second
// branch is not anchored at the start.
func CompileRegexp(expr string) (*regexp.Regexp, error) {
	parsed, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("%q is not a valid RE2 regular expression: %v", expr, err)
	}
	if !anchored(parsed) {
		fixed := "^(?:" + strings.TrimSuffix(strings.TrimPrefix(expr, "^"), "$") + ")$"
		return nil, fmt.Errorf("%q is not anchored at both ends, so it would also match longer origins such as https://example.com.evil.net; write %q", expr, fixed)
	}
	return regexp.MustCompile(expr), nil
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
// under the domain the expression names.
type Leak struct {
	// Origin is the attacker origin the expression matches.
	Origin string
	// Why names the mistake in the expression, for a person.
	Why string
}

// ProbeRegexp tries an anchored allow_origins_regex expression against
// origins an attacker can obtain, derived from the expression's own
// literal host: the host with a suffix (example.com.evil.example), a
// prefix glued to its registrable domain (evilexample.com), each dot
// replaced by another character (an unescaped dot matches any character:
// apixexample.com), and a new subdomain label (evil.app.example.com).
// It returns the first one the expression matches, or nil when it matches
// none or no example host can be derived from it.
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
	if l := try(host+".evil.example", "it matches the host followed by another domain"); l != nil {
		return l
	}
	if reg, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
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
	return try("evil."+host, "it matches hosts with any name in front of the domain, whoever runs them; name the subdomains you trust, or match one label with [a-z0-9-]+")
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
		// Prefer a lower-case letter or a digit when the class has one.
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if lo <= 'a' && 'a' <= hi {
				r = 'a'
				break
			}
			if lo <= '0' && '0' <= hi {
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
