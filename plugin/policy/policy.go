// Package policy compiles a security/cors block into an immutable Policy
// and answers CORS requests with it.
//
// Everything that can be worked out from the configuration is worked out
// in Compile: origin sets, the lower-case header set, the exact header
// values to send. The per-request methods (Preflight, Actual and the
// header writers) only read the Policy, never allocate on the common
// paths, and are safe for concurrent use. A Policy is never changed after
// Compile; a new configuration means a new Policy.
package policy

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/corsgate/corsgate/plugin/config"
	"github.com/corsgate/corsgate/plugin/origin"
	"github.com/corsgate/corsgate/schema"
)

// Defaults applied when a key is absent; cors.schema.json states the same.
var (
	DefaultMethods              = []string{http.MethodGet, http.MethodHead, http.MethodPost}
	DefaultOptionsSuccessStatus = http.StatusNoContent
	DefaultUnmatchedStatus      = http.StatusForbidden
)

// Policy is a compiled CORS policy.
type Policy struct {
	origins     *origin.Matcher
	anyOrigin   bool // allow_origins absent, empty or "*": answer with "*"
	credentials bool

	methods []string

	anyHeader     bool
	headers       map[string]struct{} // lower-case names
	sortedHeaders []string            // the same names, sorted
	maxNameLen    int

	unsafeReflect bool // allow_any_origin_with_credentials_unsafe

	privateNetwork  bool
	passthrough     bool
	successStatus   int
	terminate       bool
	unmatchedStatus int
	debug           bool

	exposePrefixes []string // prefixes of "X-Object-Meta-*" entries
	exposeStatic   []string // the other entries, canonical
	stripRequest   bool     // strip_cors_request_headers

	// Header values, computed once. Every slice has len == cap, so that a
	// later handler appending to one gets a copy instead of writing into
	// memory shared by all requests.
	valAny           []string
	valTrue          []string
	valMaxAge        []string
	valExpose        []string
	valVaryActual    []string
	valVaryPreflight []string
	varyPreflight    []string // the tokens of valVaryPreflight

	source config.CORS
	scope  string // how reasons name the policy
}

// Compile validates c and builds a Policy, applying the defaults for absent
// keys. Problems are returned as schema.Errors whose paths name the keys
// below base. Reasons name the policy "the service-level policy".
func Compile(c config.CORS, base string) (*Policy, error) {
	return CompileScoped(c, base, "the service-level policy")
}

// CompileScoped is Compile for a policy that reasons name scope, such as
// the endpoint "GET /users/{id}".
func CompileScoped(c config.CORS, base, scope string) (*Policy, error) {
	var errs schema.Errors
	add := func(key string, i int, err error) {
		path := schema.Path(base, key)
		if i >= 0 {
			path = schema.Index(path, i)
		}
		errs = append(errs, schema.Error{Path: path, Message: err.Error()})
	}
	p := &Policy{source: c, scope: scope, successStatus: DefaultOptionsSuccessStatus}

	// Origins.
	var patterns []origin.Pattern
	wildcard, null := "", false
	seen := map[string]int{}
	for i, o := range c.AllowOrigins {
		pat, err := origin.ParsePattern(o)
		if err != nil {
			add("allow_origins", i, err)
			continue
		}
		if j, dup := seen[pat.String()]; dup {
			add("allow_origins", i, fmt.Errorf("%q is the same origin as item %d; remove the duplicate", o, j))
			continue
		}
		seen[pat.String()] = i
		if pat.IsWildcard() && wildcard == "" {
			wildcard = o
		}
		null = null || pat.Kind == origin.Null
		patterns = append(patterns, pat)
	}
	var regexps []*regexp.Regexp
	for i, expr := range c.AllowOriginsRegex {
		re, err := origin.CompileRegexp(expr)
		if err != nil {
			add("allow_origins_regex", i, err)
			continue
		}
		regexps = append(regexps, re)
	}
	p.origins = origin.NewMatcher(patterns, regexps)
	p.anyOrigin = (len(c.AllowOrigins) == 0 && len(c.AllowOriginsRegex) == 0) || p.origins.AllowsAny()
	p.credentials = isTrue(c.AllowCredentials)
	p.unsafeReflect = isTrue(c.AllowAnyOriginWithCredentialsUnsafe)
	switch {
	case p.unsafeReflect && !p.credentials:
		errs = append(errs, schema.Error{Path: schema.Path(base, "allow_any_origin_with_credentials_unsafe"), Message: errUnsafeAlone.Error()})
	case p.unsafeReflect && !p.anyOrigin:
		errs = append(errs, schema.Error{Path: schema.Path(base, "allow_any_origin_with_credentials_unsafe"), Message: errUnsafeListed.Error()})
	case p.credentials && !p.unsafeReflect:
		switch {
		case p.anyOrigin && wildcard == "":
			errs = append(errs, schema.Error{Path: schema.Path(base, "allow_origins"), Message: errCredentialsAny.Error()})
		case wildcard != "":
			errs = append(errs, schema.Error{Path: schema.Path(base, "allow_origins"), Message: strconv.Quote(wildcard) + " " + errCredentialsWildcard.Error()})
		case null:
			errs = append(errs, schema.Error{Path: schema.Path(base, "allow_origins"), Message: errCredentialsNull.Error()})
		}
	}

	// Methods.
	p.methods = DefaultMethods
	if len(c.AllowMethods) > 0 {
		p.methods = nil
		for i, m := range c.AllowMethods {
			if err := schema.CheckMethod(m); err != nil {
				add("allow_methods", i, err)
				continue
			}
			if slices.Contains(p.methods, m) {
				add("allow_methods", i, fmt.Errorf("%q is listed twice; remove the duplicate", m))
				continue
			}
			p.methods = append(p.methods, m)
		}
	}

	// Request headers.
	p.headers = map[string]struct{}{}
	p.anyHeader = len(c.AllowHeaders) == 0
	for i, h := range c.AllowHeaders {
		if err := schema.CheckHeaderName(h); err != nil {
			add("allow_headers", i, err)
			continue
		}
		if h == "*" {
			p.anyHeader = true
			continue
		}
		l := strings.ToLower(h)
		p.headers[l] = struct{}{}
		p.maxNameLen = max(p.maxNameLen, len(l))
	}

	for h := range p.headers {
		p.sortedHeaders = append(p.sortedHeaders, h)
	}
	slices.Sort(p.sortedHeaders)

	// Exposed headers.
	var expose []string
	for i, h := range c.ExposeHeaders {
		if err := schema.CheckExposeHeader(h); err != nil {
			add("expose_headers", i, err)
			continue
		}
		if len(h) > 1 && strings.HasSuffix(h, "*") {
			p.exposePrefixes = append(p.exposePrefixes, strings.TrimSuffix(h, "*"))
			continue
		}
		if h == "*" {
			if p.credentials {
				add("expose_headers", i, errExposeStar)
				continue
			}
			expose = append(expose, "*")
			continue
		}
		expose = append(expose, http.CanonicalHeaderKey(h))
	}
	if len(expose) > 0 {
		p.valExpose = value(strings.Join(expose, ", "))
	}
	p.exposeStatic = expose
	p.stripRequest = isTrue(c.StripCORSRequestHeaders)

	// Max age.
	if c.MaxAge != nil {
		d, err := schema.CheckDuration(*c.MaxAge)
		if err != nil {
			add("max_age", -1, err)
		} else if d > 0 {
			p.valMaxAge = value(strconv.FormatInt(int64(d/time.Second), 10))
		}
	}

	if c.OptionsSuccessStatus != nil {
		s := *c.OptionsSuccessStatus
		if s < 200 || s > 299 {
			add("options_success_status", -1, errStatus(s))
		} else {
			p.successStatus = s
		}
	}
	p.unmatchedStatus = DefaultUnmatchedStatus
	if c.UnmatchedStatus != nil {
		s := *c.UnmatchedStatus
		if s < 200 || s > 599 {
			add("unmatched_status", -1, constError(strconv.Itoa(s)+" is not an HTTP status from 200 to 599; use 403 (the default), 401 or 200"))
		} else {
			p.unmatchedStatus = s
		}
	}
	p.terminate = isTrue(c.TerminateUnmatchedRequest)
	p.privateNetwork = isTrue(c.AllowPrivateNetwork)
	p.passthrough = isTrue(c.OptionsPassthrough)
	p.debug = isTrue(c.Debug)

	p.valAny = value("*")
	p.valTrue = value("true")
	p.valVaryActual = value("Origin")
	p.varyPreflight = []string{"Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"}
	if p.privateNetwork {
		p.varyPreflight = append(p.varyPreflight, "Access-Control-Request-Private-Network")
	}
	p.valVaryPreflight = value(strings.Join(p.varyPreflight, ", "))

	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

type constError string

func (e constError) Error() string { return string(e) }

const (
	errUnsafeAlone         = constError("allow_any_origin_with_credentials_unsafe: true only matters with allow_credentials: true; remove it, or set allow_credentials: true if you really mean to let any site send credentials")
	errUnsafeListed        = constError("allow_any_origin_with_credentials_unsafe: true has no effect when allow_origins or allow_origins_regex list origins: only the listed origins get credentials. Remove it (safer), or remove the lists if you really mean every origin")
	errCredentialsAny      = constError("allow_credentials: true needs allow_origins to list exact origins; an absent or empty allow_origins, or \"*\", means every origin, which browsers refuse together with credentials. List each origin exactly (for example \"https://app.example.com\"), or set allow_credentials to false (allow_any_origin_with_credentials_unsafe: true forces it, unsafely)")
	errCredentialsWildcard = constError("cannot be combined with allow_credentials: true: a wildcard pattern would make the gateway echo origins you never listed together with credentials, which lets any matching site act as the signed-in user. List each origin exactly, use allow_origins_regex with an anchored expression that names exactly the hosts you trust, or set allow_credentials to false")
	errCredentialsNull     = constError("\"null\" cannot be combined with allow_credentials: true: sandboxed iframes, file: pages and cross-origin redirects all send Origin: null, so any site could then act as the signed-in user. Remove \"null\"")
)

const errExposeStar = constError(`with allow_credentials: true browsers read "*" in Access-Control-Expose-Headers as a header literally named *; list the header names instead`)

func errStatus(s int) error {
	return constError(strconv.Itoa(s) + " is not a 2xx status; a preflight answer needs one: use 204 (the default) or 200")
}

// value returns a one-element header value slice whose capacity equals its
// length.
func value(s string) []string { return []string{s}[:1:1] }

func isTrue(b *bool) bool { return b != nil && *b }

// Debug reports whether the policy asks for decisions to be logged and
// explained.
func (p *Policy) Debug() bool { return p.debug }

// Passthrough reports whether an allowed preflight goes on to the router.
func (p *Policy) Passthrough() bool { return p.passthrough }

// SuccessStatus is the status of a preflight answered by the gateway.
func (p *Policy) SuccessStatus() int { return p.successStatus }

// Terminate reports whether refused CORS requests are answered by the
// gateway (terminate_unmatched_request).
func (p *Policy) Terminate() bool { return p.terminate }

// UnmatchedStatus is the status of a refused request when Terminate.
func (p *Policy) UnmatchedStatus() int { return p.unmatchedStatus }

// ReflectsAnyOriginWithCredentials reports whether the policy was forced,
// with allow_any_origin_with_credentials_unsafe, to echo every origin
// together with credentials.
func (p *Policy) ReflectsAnyOriginWithCredentials() bool {
	return p.unsafeReflect && p.credentials && p.anyOrigin
}

// StripRequestHeaders reports whether the CORS request headers are kept
// from the endpoint's backends (strip_cors_request_headers).
func (p *Policy) StripRequestHeaders() bool { return p.stripRequest }

// Credentials reports whether the policy allows credentials.
func (p *Policy) Credentials() bool { return p.credentials }

// Source returns the configuration the policy was compiled from.
func (p *Policy) Source() config.CORS { return p.source }
