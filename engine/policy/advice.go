package policy

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/corsgate/corsgate/engine/origin"
	"github.com/corsgate/corsgate/schema"
)

// This file words the corrections the validator suggests where they
// depend on the rest of the policy: a wildcard origin is a fine
// correction without credentials and none with them. Every suggestion is
// one the validator accepts in that policy, and comes as an Error's Fix
// too (corpus_test.go applies each one of its corpus and checks again).

// advice is what the value rules need to know of the policy a block is
// part of (its own keys, with those it inherits), so that the corrections
// they suggest hold there.
type advice struct {
	credentials bool // allow_credentials: true
	regexUnsafe bool // allow_origins_regex_unsafe: true
	regexps     bool // allow_origins_regex lists an expression
}

// adviceFor is the advice for the policy m, which may be nil.
func adviceFor(m *Block) advice {
	if m == nil {
		return advice{}
	}
	return advice{credentials: isTrue(m.AllowCredentials), regexUnsafe: isTrue(m.AllowOriginsRegexUnsafe), regexps: len(m.AllowOriginsRegex) > 0}
}

// origin words the refusal err of item i of the list key (allow_origins
// or websocket_origins), with the correction it suggests: none where the
// corrected origin would be refused in turn (a wildcard, or "null", with
// credentials), and the removal of the item where the list has that
// origin already.
func (a advice) origin(key string, list []string, i int, err error) (string, *Fix) {
	var pe *origin.PatternError
	if !errors.As(err, &pe) || pe.Suggestion == "" {
		return err.Error(), nil
	}
	sug, perr := origin.ParsePattern(pe.Suggestion)
	bare := *pe
	bare.Suggestion = ""
	if perr != nil {
		return bare.Error(), nil
	}
	if key == "allow_origins" && a.credentials {
		switch {
		case sug.Kind == origin.Null && len(list) == 1 && !a.regexps:
			// Removed, it would leave no origin, which credentials
			// refuse too.
			return bare.Error() + `; and "null" is refused with allow_credentials: true as well: list the origins you trust exactly instead, such as "https://app.example.com"`, nil
		case sug.Kind == origin.Null:
			return bare.Error() + `; and "null" is refused with allow_credentials: true as well, so remove it`, schema.RemoveIt()
		case sug.IsWildcard():
			return fmt.Sprintf("%s; and %q, the form closest to it, %s", bare.Error(), sug.Raw, credentialsRefusal(sug)), nil
		}
	}
	for j, o := range list {
		if p, err := origin.ParsePattern(o); j != i && err == nil && identity(p) == identity(sug) {
			return fmt.Sprintf("%s; it means %q, which is item %d already, so remove this one", bare.Error(), sug.Raw, j), schema.RemoveIt()
		}
	}
	return err.Error(), schema.ReplaceWith(pe.Suggestion)
}

// regexp words the refusal err of an allow_origins_regex expression, with
// the correction it suggests: none where the corrected expression trusts
// every host under a domain and the policy has credentials.
func (a advice) regexp(err error) (string, *Fix) {
	var re *origin.RegexpError
	if !errors.As(err, &re) || re.Suggestion == "" {
		return err.Error(), nil
	}
	if leak := origin.ProbeRegexp(regexp.MustCompile(re.Suggestion)); leak != nil && a.credentials && !a.regexUnsafe {
		bare := *re
		bare.Suggestion = ""
		scheme, port := originPlace(leak.Origin)
		return fmt.Sprintf("%s; anchored, it would trust every host under %s. %s", bare.Error(), leak.Domain, subdomainAdvice(scheme, leak.Domain, port)), nil
	}
	return err.Error(), schema.ReplaceWith(re.Suggestion)
}

// credentialsRefusal says why the wildcard pattern p cannot be combined
// with allow_credentials: true, and what to write instead, after the
// quoted pattern.
func credentialsRefusal(p origin.Pattern) string {
	switch {
	case p.Kind == origin.Subdomain:
		port := p.Port
		if port == "*" {
			port = ""
		}
		return fmt.Sprintf("cannot be combined with allow_credentials: true: it trusts every host under %s, whoever runs it, and a page on any of them could act as the signed-in user. %s", p.Host, subdomainAdvice(p.Scheme, p.Host, port))
	case p.Port == "*":
		return fmt.Sprintf("cannot be combined with allow_credentials: true: it trusts %s on every port, and a page served on any of them could act as the signed-in user. List each origin with its port, such as %q, or set allow_credentials to false", p.Host, p.Scheme+"://"+p.Host+":8443")
	}
	return errCredentialsWildcard
}

// subdomainAdvice is what to do instead of trusting every host under
// domain with credentials, in the same words for both forms that would
// (a wildcard origin and an expression), so that neither is offered for
// the other. Its examples are valid with credentials
// (TestSubdomainAdviceExamples).
func subdomainAdvice(scheme, domain, port string) string {
	exact, expr := trustedExamples(scheme, domain, port)
	return fmt.Sprintf(`With credentials that is refused in either form, %q in allow_origins or an expression in allow_origins_regex: list the hosts you trust instead, each in allow_origins (such as %q) or together in allow_origins_regex (such as %q). To trust every host under %s all the same, set "allow_origins_regex_unsafe": true next to such an expression; or set allow_credentials to false`,
		scheme+"://*."+domain, exact, expr, domain)
}

// trustedExamples are an origin and an expression that name hosts under
// domain exactly, for messages.
func trustedExamples(scheme, domain, port string) (exact, expr string) {
	suffix := ""
	if port != "" {
		suffix = ":" + port
	}
	return scheme + "://app." + domain + suffix,
		"^" + regexp.QuoteMeta(scheme) + `://(app|admin)\.` + regexp.QuoteMeta(domain) + regexp.QuoteMeta(suffix) + "$"
}

// originPlace returns the scheme and the port of an origin.
func originPlace(o string) (scheme, port string) {
	p, err := origin.ParsePattern(o)
	if err != nil {
		return "https", ""
	}
	return p.Scheme, p.Port
}
