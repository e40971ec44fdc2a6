package policy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/corsgate/corsgate/engine/origin"
	"github.com/corsgate/corsgate/schema"
)

// This file is the validator: every rule about what a security/cors block
// means, and every message that explains a broken one. Parsing a block
// from JSON (block.go, schema.go) only checks its shape; compiling
// (policy.go) only builds what the validator accepted.
//
// The rules come in two kinds. Value rules judge one key of one block
// (the grammar of an origin, a duplicate method, a status out of range)
// and run on the block where the value is written. Combination rules
// judge keys together (credentials with a wildcard origin) and run on the
// policy as it applies: the service block, and each endpoint block merged
// over it. Either way the same mistake gets the same words; an endpoint
// whose problem comes from a key it inherits is told where that key is.

// problem is one finding, relative to a block.
type problem struct {
	key   string // the key it concerns, "" for the block as a whole
	index int    // the item of a list key, or -1
	value any    // the offending value, or nil
	msg   string
	warn  bool
	// fix is the correction msg suggests, or nil (see Error.Fix).
	fix *Fix
	// rule is the combination rule that found it, or nil for a value rule.
	rule *rule
}

// values holds the values of a block, parsed; the invalid ones are left
// out (a problem names them).
type values struct {
	patterns  []origin.Pattern
	patternAt []int            // the allow_origins index of each pattern
	ws        []origin.Pattern // websocket_origins
	wsAt      []int
	regexps   []*regexp.Regexp
	regexpAt  []int
	methods   []string
	headers   []string // lower case, without "*"
	anyHeader bool
	expose    []string // canonical names and "*"
	exposeAt  []int
	prefixes  []string // of expose_headers entries such as X-Object-Meta-*
	maxAge    time.Duration
	hasMaxAge bool
}

// Messages of the combination rules, shared by every place that reports
// them.
const (
	errUnsafeAlone         = "allow_any_origin_with_credentials_unsafe: true only matters with allow_credentials: true; remove it, or set allow_credentials: true if you really mean to let any site send credentials"
	errUnsafeListed        = "allow_any_origin_with_credentials_unsafe: true has no effect when allow_origins or allow_origins_regex list origins: only the listed origins get credentials. Remove it (safer), or remove the lists if you really mean every origin"
	errCredentialsAny      = "allow_credentials: true needs the origins listed exactly, in allow_origins or allow_origins_regex; with neither, every origin is allowed, which browsers refuse together with credentials. List each origin exactly (for example \"https://app.example.com\"), or set allow_credentials to false (allow_any_origin_with_credentials_unsafe: true forces it, unsafely)"
	errCredentialsWildcard = "cannot be combined with allow_credentials: true: a wildcard pattern would make the gateway echo origins you never listed together with credentials, which lets any matching site act as the signed-in user. List each origin exactly, use allow_origins_regex with an anchored expression that names exactly the hosts you trust, or set allow_credentials to false"
	errCredentialsNull     = "\"null\" cannot be combined with allow_credentials: true: sandboxed iframes, file: pages and cross-origin redirects all send Origin: null, so any site could then act as the signed-in user. Remove \"null\""
	errExposeStar          = `with allow_credentials: true browsers read "*" in Access-Control-Expose-Headers as a header literally named *; list the header names instead`
)

// parseValues applies the value rules to a block written at level, whose
// corrections must hold in the policy ctx describes.
func parseValues(b *Block, level Level, ctx advice) (values, []problem) {
	var v values
	var ps []problem
	add := func(key string, i int, val any, msg string, fix *Fix) {
		ps = append(ps, problem{key: key, index: i, value: val, msg: msg, fix: fix})
	}

	// parseOrigins parses a list of origins (allow_origins,
	// websocket_origins): the valid ones, and the index of each.
	parseOrigins := func(key string, list []string) (pats []origin.Pattern, at []int) {
		if len(list) == 0 {
			return nil, nil
		}
		seen := make(map[sameOrigin]int, len(list))
		pats, at = make([]origin.Pattern, 0, len(list)), make([]int, 0, len(list))
		for i, o := range list {
			pat, err := origin.ParsePattern(o)
			if err != nil {
				msg, fix := ctx.origin(key, list, i, err)
				add(key, i, o, msg, fix)
				continue
			}
			k := identity(pat)
			if j, dup := seen[k]; dup {
				add(key, i, o, sameOriginMessage(o, j), schema.RemoveIt())
				continue
			}
			seen[k] = i
			pats, at = append(pats, pat), append(at, i)
		}
		return pats, at
	}
	v.patterns, v.patternAt = parseOrigins("allow_origins", b.AllowOrigins)
	v.ws, v.wsAt = parseOrigins("websocket_origins", b.WebSocketOrigins)
	for i, expr := range b.AllowOriginsRegex {
		re, err := origin.CompileRegexp(expr)
		if err != nil {
			msg, fix := ctx.regexp(err)
			add("allow_origins_regex", i, expr, msg, fix)
			continue
		}
		v.regexps = append(v.regexps, re)
		v.regexpAt = append(v.regexpAt, i)
	}
	for i, m := range b.AllowMethods {
		if err := CheckMethod(m); err != nil {
			msg, fix := err.Error(), fixOf(err)
			// The method it means may be listed already.
			if j := otherItem(b.AllowMethods, i, fix); j >= 0 {
				msg, fix = fmt.Sprintf("%s It is item %d already, so remove this one", msg, j), schema.RemoveIt()
			}
			add("allow_methods", i, m, msg, fix)
			continue
		}
		if slices.Contains(v.methods, m) {
			add("allow_methods", i, m, fmt.Sprintf("%q is listed twice; remove the duplicate", m), schema.RemoveIt())
			continue
		}
		v.methods = append(v.methods, m)
	}
	v.anyHeader = len(b.AllowHeaders) == 0
	for i, h := range b.AllowHeaders {
		if err := CheckHeaderName(h); err != nil {
			add("allow_headers", i, h, err.Error(), fixOf(err))
			continue
		}
		if h == "*" {
			v.anyHeader = true
			continue
		}
		if l := strings.ToLower(h); !slices.Contains(v.headers, l) {
			v.headers = append(v.headers, l)
		}
	}
	for i, h := range b.ExposeHeaders {
		if err := CheckExposeHeader(h); err != nil {
			add("expose_headers", i, h, err.Error(), fixOf(err))
			continue
		}
		switch {
		case len(h) > 1 && strings.HasSuffix(h, "*"):
			v.prefixes = append(v.prefixes, strings.TrimSuffix(h, "*"))
		case h == "*":
			v.expose, v.exposeAt = append(v.expose, "*"), append(v.exposeAt, i)
		default:
			v.expose, v.exposeAt = append(v.expose, http.CanonicalHeaderKey(h)), append(v.exposeAt, i)
		}
	}
	if b.MaxAge != nil {
		d, err := ParseMaxAge(*b.MaxAge)
		if err != nil {
			add("max_age", -1, *b.MaxAge, err.Error(), fixOf(err))
		} else {
			v.maxAge, v.hasMaxAge = d, true
		}
	}
	if s := b.OptionsSuccessStatus; s != nil && (*s < 200 || *s > 299) {
		add("options_success_status", -1, *s, strconv.Itoa(*s)+" is not a 2xx status; a preflight answer needs one: use 204 (the default) or 200", schema.ReplaceWith(DefaultOptionsSuccessStatus))
	}
	if s := b.UnmatchedStatus; s != nil && (*s < 200 || *s > 599) {
		add("unmatched_status", -1, *s, strconv.Itoa(*s)+" is not an HTTP status from 200 to 599; use 403 (the default), 401 or 200", schema.ReplaceWith(DefaultUnmatchedStatus))
	}
	switch level {
	case ServiceLevel:
		for _, k := range []struct {
			set bool
			key string
		}{{b.Disable != nil, "disable"}, {b.StripCORSRequestHeaders != nil, "strip_cors_request_headers"}} {
			if k.set {
				add(k.key, -1, nil, fmt.Sprintf("%q only exists in an endpoint's own security/cors block (endpoints[i].extra_config); move it there.", k.key), nil)
			}
		}
	case EndpointLevel:
		if b.Exempt() {
			if others := slices.DeleteFunc(b.Keys(), func(k string) bool { return k == "disable" }); len(others) > 0 {
				add("", -1, nil, fmt.Sprintf("disable: true exempts the endpoint from CORS, so %s would have no effect; remove them or remove disable", strings.Join(others, ", ")), nil)
			}
		}
	}
	return v, ps
}

// sameOriginMessage says that the allow_origins entry o is item j again.
func sameOriginMessage(o string, j int) string {
	return fmt.Sprintf("%q is the same origin as item %d; remove the duplicate", o, j)
}

// sameOrigin is what two patterns of one origin agree on: all but how
// they were written.
type sameOrigin struct {
	kind               origin.Kind
	scheme, host, port string
}

func identity(p origin.Pattern) sameOrigin { return sameOrigin{p.Kind, p.Scheme, p.Host, p.Port} }

// otherItem returns the index of an item of list other than i that the
// replacement fix would repeat, or -1.
func otherItem(list []string, i int, fix *Fix) int {
	var s string
	if fix == nil || fix.Op != schema.FixReplace || json.Unmarshal(fix.Value, &s) != nil {
		return -1
	}
	for j, o := range list {
		if j != i && o == s {
			return j
		}
	}
	return -1
}

// rule is a combination rule. needs are the keys it reads; a block judged
// on its own (an endpoint block before merging, as the JSON Schema judges
// it) is only held to the rule when it sets all of them. also are keys it
// reads with their default when unset (the unsafe opt-ins).
type rule struct {
	needs, also []string
	check       func(m *Block, v *values) []problem
}

// regexLeakRule is the rule on allow_origins_regex expressions that let
// attacker origins in; the schema's cors-regex-trust format runs it. An
// expression that lets in other domains is refused with credentials and
// warned about without; one that trusts every host under its own domain
// is refused with credentials, as "https://*.example.com" is in
// allow_origins, and accepted without, as that is.
var regexLeakRule = &rule{
	needs: []string{"allow_origins_regex"},
	also:  []string{"allow_credentials", "allow_origins_regex_unsafe"},
	check: func(m *Block, v *values) []problem {
		var ps []problem
		creds, unsafe := isTrue(m.AllowCredentials), isTrue(m.AllowOriginsRegexUnsafe)
		for i, re := range v.regexps {
			leak := origin.ProbeRegexp(re)
			if leak == nil || ((leak.Subdomain || leak.AnyPort) && !creds) {
				continue
			}
			p := problem{key: "allow_origins_regex", index: v.regexpAt[i], value: re.String()}
			found := fmt.Sprintf("%q also matches %s (%s)", re.String(), leak.Origin, leak.Why)
			// The expression its author most likely meant, if this policy
			// accepts it.
			fixed, ok := origin.RepairRegexp(re.String())
			var fixedLeak *origin.Leak
			if ok {
				fixedLeak = origin.ProbeRegexp(regexp.MustCompile(fixed))
				// With credentials, only an expression that lets nobody
				// else in is a correction; without, one that trusts every
				// host under its own domain is too (as *.example.com is).
				ok = fixed != re.String() && (fixedLeak == nil || !creds)
			}
			switch {
			case creds && !unsafe && leak.AnyPort:
				// As https://example.com:* in allow_origins.
				scheme, _ := originPlace(leak.Origin)
				host := strings.TrimPrefix(leak.Origin[:strings.LastIndexByte(leak.Origin, ':')], scheme+"://")
				p.msg = fmt.Sprintf("%s, and with allow_credentials: true a page served on any port of %s could act as the signed-in user. Name each port the expression trusts (such as %q), list each origin with its port in allow_origins, or set allow_credentials to false; to trust every port all the same, set \"allow_origins_regex_unsafe\": true", found, host, "^"+regexp.QuoteMeta(scheme+"://"+host)+"(:8443)?$")
			case creds && leak.AnyPort:
				p.warn = true
				p.msg = found + ", and allow_origins_regex_unsafe: true keeps it together with credentials: a page served on any port of the host can act as the signed-in user"
			case creds && !unsafe && leak.Subdomain:
				scheme, port := originPlace(leak.Origin)
				p.msg = found + ", and with allow_credentials: true a page there could act as the signed-in user. " + subdomainAdvice(scheme, leak.Domain, port)
			case creds && !unsafe && ok:
				p.msg = fmt.Sprintf("%s, and with allow_credentials: true a page there could act as the signed-in user; did you mean %q?", found, fixed)
				p.fix = schema.ReplaceWith(fixed)
			case creds && !unsafe && fixedLeak != nil:
				scheme, port := originPlace(fixedLeak.Origin)
				p.msg = fmt.Sprintf("%s, and with allow_credentials: true a page there could act as the signed-in user. Even with its dots escaped and its wildcard kept to whole DNS labels, it would trust every host under %s. %s", found, fixedLeak.Domain, subdomainAdvice(scheme, fixedLeak.Domain, port))
			case creds && !unsafe:
				p.msg = found + ", and with allow_credentials: true a page there could act as the signed-in user. Fix the expression: anchor it, escape its dots, and name the hosts you trust"
			case creds && leak.Subdomain:
				p.warn = true
				p.msg = found + ", and allow_origins_regex_unsafe: true keeps it together with credentials: a page on any host there can act as the signed-in user"
			case creds:
				p.warn = true
				p.msg = found + ", and allow_origins_regex_unsafe: true keeps it together with credentials: a page there can act as the signed-in user"
				if ok {
					p.msg += fmt.Sprintf("; did you mean %q?", fixed)
					p.fix = schema.ReplaceWith(fixed)
				}
			case ok:
				p.warn = true
				p.msg = fmt.Sprintf("%s, so a page there can read the answers; did you mean %q?", found, fixed)
				p.fix = schema.ReplaceWith(fixed)
			default:
				p.warn = true
				p.msg = found + ", so a page there can read the answers; fix the expression"
			}
			ps = append(ps, p)
		}
		return ps
	},
}

var rules = []*rule{
	{
		needs: []string{"allow_any_origin_with_credentials_unsafe", "allow_credentials"},
		check: func(m *Block, v *values) []problem {
			if isTrue(m.AllowAnyOriginWithCredentialsUnsafe) && !isTrue(m.AllowCredentials) {
				return []problem{{key: "allow_any_origin_with_credentials_unsafe", index: -1, value: true, msg: errUnsafeAlone, fix: schema.RemoveIt()}}
			}
			return nil
		},
	},
	{
		needs: []string{"allow_any_origin_with_credentials_unsafe"},
		check: func(m *Block, v *values) []problem {
			if !isTrue(m.AllowAnyOriginWithCredentialsUnsafe) {
				return nil
			}
			var ps []problem
			if slices.ContainsFunc(m.AllowOrigins, func(o string) bool { return o != "*" }) {
				ps = append(ps, problem{key: "allow_origins", index: -1, msg: errUnsafeListed})
			}
			if len(m.AllowOriginsRegex) > 0 {
				ps = append(ps, problem{key: "allow_origins_regex", index: -1, msg: errUnsafeListed})
			}
			return ps
		},
	},
	{
		needs: []string{"allow_credentials", "allow_origins", "allow_origins_regex"},
		also:  []string{"allow_any_origin_with_credentials_unsafe"},
		check: func(m *Block, v *values) []problem {
			if isTrue(m.AllowCredentials) && !isTrue(m.AllowAnyOriginWithCredentialsUnsafe) && len(m.AllowOrigins) == 0 && len(m.AllowOriginsRegex) == 0 {
				p := problem{key: "allow_origins", index: -1, msg: errCredentialsAny}
				if m.AllowOrigins != nil {
					p.value = m.AllowOrigins
				}
				return []problem{p}
			}
			return nil
		},
	},
	{
		needs: []string{"allow_credentials", "allow_origins"},
		also:  []string{"allow_any_origin_with_credentials_unsafe"},
		check: func(m *Block, v *values) []problem {
			if !isTrue(m.AllowCredentials) || (isTrue(m.AllowAnyOriginWithCredentialsUnsafe) && slices.Equal(m.AllowOrigins, []string{"*"})) {
				return nil
			}
			var ps []problem
			for i, p := range v.patterns {
				at := v.patternAt[i]
				switch {
				case p.IsWildcard():
					ps = append(ps, problem{key: "allow_origins", index: at, value: p.Raw, msg: strconv.Quote(p.Raw) + " " + credentialsRefusal(p)})
				case p.Kind == origin.Null && len(m.AllowOrigins) == 1 && len(m.AllowOriginsRegex) == 0:
					// Removed, it would leave no origin, which credentials
					// refuse too.
					ps = append(ps, problem{key: "allow_origins", index: at, value: p.Raw, msg: errCredentialsNull + ", and list the origins you trust exactly, such as \"https://app.example.com\""})
				case p.Kind == origin.Null:
					ps = append(ps, problem{key: "allow_origins", index: at, value: p.Raw, msg: errCredentialsNull, fix: schema.RemoveIt()})
				}
			}
			return ps
		},
	},
	{
		needs: []string{"allow_credentials", "expose_headers"},
		check: func(m *Block, v *values) []problem {
			if !isTrue(m.AllowCredentials) {
				return nil
			}
			for i, h := range v.expose {
				if h == "*" {
					return []problem{{key: "expose_headers", index: v.exposeAt[i], value: "*", msg: errExposeStar}}
				}
			}
			return nil
		},
	},
	regexLeakRule,
}

// checkCombinations applies the combination rules to the policy m (a
// block as it applies, or, when known is not nil, a block judged on its
// own: a rule then only applies when known reports all its needs).
func checkCombinations(m *Block, v *values, known func(key string) bool) []problem {
	var ps []problem
	for _, r := range slices.Concat(rules, lintRules) {
		if known != nil && slices.ContainsFunc(r.needs, func(k string) bool { return !known(k) }) {
			continue
		}
		for _, p := range r.check(m, v) {
			p.rule = r
			ps = append(ps, p)
		}
	}
	return ps
}

// CheckBlock is the validator's verdict on one block on its own, written
// at level: the value rules, and the combination rules whose keys the
// block sets itself (at the service level every key counts as set, with
// its default). It returns the problems as Errors whose paths start at
// base. This is the verdict cors.schema.json mirrors for editors.
func CheckBlock(b *Block, level Level, base string) (warnings, errs Errors) {
	v, ps := parseValues(b, level, adviceFor(b))
	var known func(string) bool
	if level == EndpointLevel {
		own := b.Keys()
		known = func(k string) bool { return slices.Contains(own, k) }
	}
	ps = append(ps, checkCombinations(b, &v, known)...)
	for _, p := range ps {
		e := p.at(base, "")
		if p.warn {
			warnings = append(warnings, e)
		} else {
			errs = append(errs, e)
		}
	}
	return warnings, errs
}

// at renders a problem as an Error below the block at base.
func (p problem) at(base, endpoint string) Error {
	path := base
	if p.key != "" {
		path = schema.Path(base, p.key)
	}
	if p.index >= 0 {
		path = schema.Index(path, p.index)
	}
	e := Error{Path: path, Message: p.msg, Endpoint: endpoint, Fix: p.fix}
	if p.value != nil {
		b, _ := json.Marshal(p.value)
		e.Value = string(b)
	}
	return e
}
