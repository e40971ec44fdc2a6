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
	"net/http"
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
)

// Policy is a compiled CORS policy.
type Policy struct {
	origins     *origin.Matcher
	anyOrigin   bool // allow_origins absent, empty or "*": answer with "*"
	credentials bool

	methods []string

	anyHeader  bool
	headers    map[string]struct{} // lower-case names
	maxNameLen int

	privateNetwork bool
	passthrough    bool
	successStatus  int
	debug          bool

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
}

// Compile validates c and builds a Policy, applying the defaults for absent
// keys. Problems are returned as schema.Errors whose paths name the keys
// below base.
func Compile(c config.CORS, base string) (*Policy, error) {
	var errs schema.Errors
	add := func(key string, i int, err error) {
		path := schema.Path(base, key)
		if i >= 0 {
			path = schema.Index(path, i)
		}
		errs = append(errs, schema.Error{Path: path, Message: err.Error()})
	}
	p := &Policy{source: c, successStatus: DefaultOptionsSuccessStatus}

	// Origins.
	var patterns []origin.Pattern
	wildcard := ""
	for i, s := range c.AllowOrigins {
		pat, err := origin.ParsePattern(s)
		if err != nil {
			add("allow_origins", i, err)
			continue
		}
		if pat.IsWildcard() && wildcard == "" {
			wildcard = s
		}
		patterns = append(patterns, pat)
	}
	p.origins = origin.NewMatcher(patterns, nil)
	p.anyOrigin = len(c.AllowOrigins) == 0 || p.origins.AllowsAny()
	p.credentials = isTrue(c.AllowCredentials)
	if p.credentials {
		switch {
		case len(c.AllowOrigins) == 0:
			errs = append(errs, schema.Error{Path: schema.Path(base, "allow_origins"), Message: "allow_credentials: true needs allow_origins to list exact origins; an absent or empty allow_origins means every origin, which browsers refuse together with credentials"})
		case wildcard != "":
			errs = append(errs, schema.Error{Path: schema.Path(base, "allow_origins"), Message: strconv.Quote(wildcard) + " cannot be combined with allow_credentials: true; browsers refuse \"*\" with credentials, and a wildcard pattern would echo origins you never listed together with credentials. List each origin exactly"})
		}
	}

	// Methods.
	p.methods = DefaultMethods
	if c.AllowMethods != nil && len(c.AllowMethods) > 0 {
		p.methods = nil
		for i, m := range c.AllowMethods {
			if err := schema.CheckMethod(m); err != nil {
				add("allow_methods", i, err)
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

	// Exposed headers.
	var expose []string
	for i, h := range c.ExposeHeaders {
		if err := schema.CheckHeaderName(h); err != nil {
			add("expose_headers", i, err)
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

// Credentials reports whether the policy allows credentials.
func (p *Policy) Credentials() bool { return p.credentials }

// Source returns the configuration the policy was compiled from.
func (p *Policy) Source() config.CORS { return p.source }
