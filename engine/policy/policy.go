// Package policy is corsgate's model of a CORS policy and the one
// authority on what it means: the document an operator writes, the rules
// that refuse a broken one, and the compiled, immutable Policy that
// answers requests.
//
// The files follow a value from the configuration to the wire:
//
//   - block.go, document.go: Block (one security/cors block) and Document
//     (the service block and the endpoints' blocks, as plain data).
//   - schema.go: ParseBlock reads a block from JSON, checking its shape
//     with the JSON Schema, whose custom formats are this package's
//     grammar (grammar.go).
//   - validate.go: every rule and every message. CompileDocument and
//     Compile run them; CheckBlock gives the verdict on one block alone.
//   - advice.go: the corrections the messages suggest (Error.Fix), worded
//     for the policy a block belongs to, so that each one is accepted.
//   - policy.go: build turns a validated block into a Policy. Everything
//     that can be worked out from the configuration is worked out there.
//   - decide.go, write.go, explain.go: the per-request decisions, the
//     response headers and the reason texts. They only read the Policy,
//     never allocate on the common paths, and are safe for concurrent use.
package policy

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/corsgate/corsgate/engine/origin"
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

	methods    []string
	methodBits uint8 // methodBit of each method in methods, and OPTIONS, always allowed

	anyHeader     bool
	headers       map[string]struct{} // lower-case names
	sortedHeaders []string            // the same names, sorted
	maxNameLen    int

	unsafeReflect bool // allow_any_origin_with_credentials_unsafe

	// wsOrigins, when not nil, are the origins allowed to open a
	// WebSocket (websocket_origins); otherwise the CORS origins are.
	wsOrigins *origin.Matcher
	wsAny     bool

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

	source Block
	scope  string // how reasons name the policy
	// keys says where each key its refusals name is set, and places says
	// it for a person (placeOf), computed once.
	keys   map[string]KeyOrigin
	places map[string]place
}

// Compile validates one block as a whole policy (a service-level block, or
// an endpoint's block already merged over the service block) and builds
// it. Problems are returned as Errors whose paths start at base; reasons
// name the policy scope, such as ServiceScope or "GET /users/{id}".
// Warnings are not returned: CompileDocument collects them.
func Compile(b Block, base, scope string) (*Policy, error) {
	v, ps := parseValues(&b, EndpointLevel, adviceFor(&b))
	ps = append(ps, checkCombinations(&b, &v, nil)...)
	var errs Errors
	for _, p := range ps {
		if !p.warn {
			errs = append(errs, p.at(base, ""))
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return build(&b, &v, scope, keyOrigins(nil, "", nil, b.Keys())), nil
}

// build turns a validated block and its parsed values into a Policy.
func build(b *Block, v *values, scope string, keys map[string]KeyOrigin) *Policy {
	p := &Policy{source: *b, scope: scope, keys: keys, places: make(map[string]place, len(keys))}
	for k, o := range keys {
		p.places[k] = placeOf(scope, k, o)
	}
	p.origins = origin.NewMatcher(v.patterns, v.regexps)
	p.anyOrigin = (len(b.AllowOrigins) == 0 && len(b.AllowOriginsRegex) == 0) || p.origins.AllowsAny()
	p.credentials = isTrue(b.AllowCredentials)
	p.unsafeReflect = isTrue(b.AllowAnyOriginWithCredentialsUnsafe)
	if len(b.WebSocketOrigins) > 0 {
		p.wsOrigins = origin.NewMatcher(v.ws, nil)
		p.wsAny = p.wsOrigins.AllowsAny()
	}

	p.methods = DefaultMethods
	if len(v.methods) > 0 {
		p.methods = v.methods
	}
	p.methodBits = methodBit(http.MethodOptions)
	for _, m := range p.methods {
		p.methodBits |= methodBit(m)
	}

	p.anyHeader = v.anyHeader
	p.headers = map[string]struct{}{}
	for _, h := range v.headers {
		p.headers[h] = struct{}{}
		p.maxNameLen = max(p.maxNameLen, len(h))
	}
	p.sortedHeaders = slices.Sorted(maps.Keys(p.headers))

	p.exposeStatic = v.expose
	p.exposePrefixes = v.prefixes
	if len(v.expose) > 0 {
		p.valExpose = value(strings.Join(v.expose, ", "))
	}
	p.stripRequest = isTrue(b.StripCORSRequestHeaders)

	switch {
	case v.maxAge > 0:
		p.valMaxAge = value(strconv.FormatInt(int64(v.maxAge/time.Second), 10))
	case v.maxAge < 0:
		p.valMaxAge = value("0")
	}

	p.successStatus = DefaultOptionsSuccessStatus
	if b.OptionsSuccessStatus != nil {
		p.successStatus = *b.OptionsSuccessStatus
	}
	p.unmatchedStatus = DefaultUnmatchedStatus
	if b.UnmatchedStatus != nil {
		p.unmatchedStatus = *b.UnmatchedStatus
	}
	p.terminate = isTrue(b.TerminateUnmatchedRequest)
	p.privateNetwork = isTrue(b.AllowPrivateNetwork)
	p.passthrough = isTrue(b.OptionsPassthrough)
	p.debug = isTrue(b.Debug)

	p.valAny = value("*")
	p.valTrue = value("true")
	p.valVaryActual = value("Origin")
	p.varyPreflight = []string{"Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"}
	if p.privateNetwork {
		p.varyPreflight = append(p.varyPreflight, "Access-Control-Request-Private-Network")
	}
	p.valVaryPreflight = value(strings.Join(p.varyPreflight, ", "))
	return p
}

// value returns a one-element header value slice whose capacity equals its
// length.
func value(s string) []string { return []string{s}[:1:1] }

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

// WriteTimeOnly reports whether the CORS headers of an actual response
// can only be set when the response header is written, not before the
// router runs (core.Controller.PresetHandler): they depend on the
// response's other headers (expose_headers with a prefix, such as
// X-Object-Meta-*), or the request's CORS headers are stripped
// (strip_cors_request_headers), which hides from the endpoint handlers
// whether the request had an Origin and so whether a backend's CORS
// headers must go.
func (p *Policy) WriteTimeOnly() bool { return len(p.exposePrefixes) > 0 || p.stripRequest }

// StripRequestHeaders reports whether the CORS request headers are kept
// from the endpoint's backends (strip_cors_request_headers).
func (p *Policy) StripRequestHeaders() bool { return p.stripRequest }

// Credentials reports whether the policy allows credentials.
func (p *Policy) Credentials() bool { return p.credentials }

// Source returns the configuration the policy was compiled from.
func (p *Policy) Source() Block { return p.source }
