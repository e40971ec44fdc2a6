package policy

import (
	"net/http"
	"strings"

	"github.com/corsgate/corsgate/engine/origin"
)

// Reason says why a request was or was not given CORS headers.
type Reason uint8

// The reasons of a Decision.
const (
	// Allowed: the request gets CORS headers.
	Allowed Reason = iota
	// NoOrigin: the request has no Origin header, so it is not a CORS request.
	NoOrigin
	// OriginDenied: the Origin is not in allow_origins.
	OriginDenied
	// OriginMalformed: the request has several Origin header lines.
	OriginMalformed
	// MethodDenied: the (requested) method is not in allow_methods.
	MethodDenied
	// HeaderDenied: a requested header is not in allow_headers.
	HeaderDenied
	// HeaderMalformed: Access-Control-Request-Headers holds something that
	// is not a header name.
	HeaderMalformed
	// NoPolicy: no security/cors block applies to the request, so CORS
	// does not apply.
	NoPolicy
	// Exempt: the endpoint is exempt from CORS (disable: true).
	Exempt
	// UpgradeDenied: a WebSocket upgrade from an origin the policy does
	// not allow to open sockets (websocket_origins, or allow_origins).
	UpgradeDenied
	// NumReasons is the number of reasons; not a reason.
	NumReasons
)

var reasonNames = [...]string{
	Allowed: "allowed", NoOrigin: "no_origin", OriginDenied: "origin_denied", OriginMalformed: "origin_malformed",
	MethodDenied: "method_denied", HeaderDenied: "header_denied", HeaderMalformed: "header_malformed",
	NoPolicy: "no_policy", Exempt: "exempt", UpgradeDenied: "upgrade_denied",
}

// String names the reason in snake case, as metrics and JSON do.
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// Decision is the outcome of checking one request against a Policy.
type Decision struct {
	// Preflight is true for a CORS preflight request.
	Preflight bool
	// Reason is why the request is allowed or refused.
	Reason Reason
	// Detail is the offending origin, method or header name, as sent.
	Detail string
}

// Allowed reports whether the request gets CORS headers.
func (d Decision) Allowed() bool { return d.Reason == Allowed }

// Canonical header names read and written on the per-request path.
const (
	hOrigin        = "Origin"
	hVary          = "Vary"
	hReqMethod     = "Access-Control-Request-Method"
	hReqHeaders    = "Access-Control-Request-Headers"
	hReqPrivateNet = "Access-Control-Request-Private-Network"
	hAllowOrigin   = "Access-Control-Allow-Origin"
	hAllowCreds    = "Access-Control-Allow-Credentials"
	hAllowMethods  = "Access-Control-Allow-Methods"
	hAllowHeaders  = "Access-Control-Allow-Headers"
	hExpose        = "Access-Control-Expose-Headers"
	hMaxAge        = "Access-Control-Max-Age"
	hAllowPrivNet  = "Access-Control-Allow-Private-Network"
)

// IsPreflight reports whether r is a CORS preflight request: an OPTIONS
// request with an Origin and a non-empty Access-Control-Request-Method.
// An OPTIONS request without them is an ordinary request for the router
// (for example for auto_options).
func IsPreflight(r *http.Request) bool {
	if r.Method != http.MethodOptions {
		return false
	}
	pr := ReadPreflight(r.Header)
	return pr.IsPreflight()
}

// PreflightRequest holds the request headers a preflight is decided on,
// each read from the header map at most once: Origin and the requested
// method at once, the others only when the decision gets that far.
type PreflightRequest struct {
	Origin, Method []string
	header         http.Header
}

// ReadPreflight reads the CORS request headers of h.
func ReadPreflight(h http.Header) PreflightRequest {
	return PreflightRequest{Origin: h[hOrigin], Method: h[hReqMethod], header: h}
}

// Headers returns the Access-Control-Request-Headers lines.
func (r *PreflightRequest) Headers() []string { return r.header[hReqHeaders] }

// IsPreflight reports whether an OPTIONS request with these headers is a
// CORS preflight: it has an Origin and a non-empty requested method.
func (r *PreflightRequest) IsPreflight() bool {
	return len(r.Method) > 0 && r.Method[0] != "" && len(r.Origin) > 0
}

// Preflight checks a preflight request's Origin, requested method and
// requested headers, in that order, and returns the first failure.
func (p *Policy) Preflight(h http.Header) Decision {
	r := ReadPreflight(h)
	return p.CheckPreflight(&r)
}

// CheckPreflight is Preflight for headers already read.
func (p *Policy) CheckPreflight(r *PreflightRequest) Decision {
	d := p.checkOrigin(r.Origin)
	d.Preflight = true
	if d.Reason != Allowed {
		return d
	}
	m := r.Method
	if len(m) != 1 || !p.allowsMethod(m[0]) {
		d.Reason, d.Detail = MethodDenied, strings.Join(m, ", ")
		if len(m) == 1 {
			d.Detail = m[0]
		}
		return d
	}
	if name, reason := p.checkRequestHeaders(r.Headers()); reason != Allowed {
		d.Reason, d.Detail = reason, name
	}
	return d
}

// Actual checks an actual (non-preflight) request's Origin and method.
// As in KrakenD CE, the method must be in allow_methods for the response
// to get CORS headers.
func (p *Policy) Actual(method string, h http.Header) Decision {
	return p.CheckActual(method, h[hOrigin])
}

// CheckActual is Actual for an Origin header already read.
func (p *Policy) CheckActual(method string, origin []string) Decision {
	d := p.checkOrigin(origin)
	if d.Reason == Allowed && !p.allowsMethod(method) {
		d.Reason, d.Detail = MethodDenied, method
	}
	return d
}

// CheckUpgrade decides a WebSocket upgrade request (browsers apply no CORS
// to it, so the gateway must): its Origin must be one of websocket_origins,
// or, without that key, one the policy allows for CORS. An upgrade without
// Origin (not from a browser page) is NoOrigin; a refused one is
// UpgradeDenied.
func (p *Policy) CheckUpgrade(origins []string) Decision {
	switch {
	case len(origins) == 0:
		return Decision{Reason: NoOrigin}
	case len(origins) > 1:
		return Decision{Reason: UpgradeDenied, Detail: severalOrigins}
	case p.wsOrigins != nil:
		if p.wsAny || p.wsOrigins.Match(origins[0]) {
			return Decision{Reason: Allowed}
		}
		return Decision{Reason: UpgradeDenied, Detail: origins[0]}
	}
	if d := p.checkOrigin(origins); d.Reason != Allowed {
		return Decision{Reason: UpgradeDenied, Detail: origins[0]}
	}
	return Decision{Reason: Allowed}
}

// IsUpgrade reports whether a request opens a WebSocket: a GET with
// Upgrade: websocket (HTTP/1.1), or a CONNECT with the :protocol
// websocket (HTTP/2's extended CONNECT, RFC 8441).
func IsUpgrade(method string, h map[string][]string) bool {
	var v []string
	switch method {
	case http.MethodGet:
		v = h["Upgrade"]
	case http.MethodConnect:
		v = h[":protocol"]
	}
	return len(v) > 0 && strings.EqualFold(strings.TrimSpace(v[0]), "websocket")
}

// severalOrigins is the Detail of an upgrade refused for its several
// Origin header lines.
const severalOrigins = "\x00several"

func (p *Policy) checkOrigin(o []string) Decision {
	switch {
	case len(o) == 0:
		return Decision{Reason: NoOrigin}
	case len(o) > 1:
		return Decision{Reason: OriginMalformed, Detail: o[0]}
	case !p.anyOrigin && !p.origins.Match(o[0]):
		return Decision{Reason: OriginDenied, Detail: o[0]}
	case p.anyOrigin && p.credentials && !origin.WellFormed(o[0]):
		// The unsafe opt-in reflects any origin a page can have, never
		// "null" nor a malformed value.
		return Decision{Reason: OriginDenied, Detail: o[0]}
	}
	return Decision{Reason: Allowed}
}

func (p *Policy) allowsMethod(m string) bool {
	if b := methodBit(m); b != 0 {
		return p.methodBits&b != 0
	}
	for _, a := range p.methods {
		if a == m {
			return true
		}
	}
	return false
}

// methodBit numbers the methods browsers send most, so that allowsMethod
// answers them with one test of the policy's methodBits.
func methodBit(m string) uint8 {
	switch m {
	case http.MethodGet:
		return 1
	case http.MethodHead:
		return 2
	case http.MethodPost:
		return 4
	case http.MethodPut:
		return 8
	case http.MethodDelete:
		return 16
	case http.MethodPatch:
		return 32
	case http.MethodOptions:
		return 64
	}
	return 0
}

// lookupBufLen bounds the stack buffer used to lower-case a header name
// for the set lookup; longer allowed names fall back to strings.ToLower.
const lookupBufLen = 128

// checkRequestHeaders walks every name in every Access-Control-Request-
// Headers line, in any case and order, with optional white space, and
// returns the first name that is malformed or not allowed.
//
// Browsers send the names lower case and sorted, so they are first matched
// by walking the sorted allowed names alongside them; a name that walk
// misses (other case, other order) is looked up in the set.
func (p *Policy) checkRequestHeaders(lines []string) (string, Reason) {
	j := 0 // position in p.sortedHeaders
	for _, line := range lines {
		for line != "" {
			var name string
			name, line = nextElement(line)
			if name == "" {
				continue
			}
			// Browsers send the names lower case and sorted: walk the
			// sorted allowed names alongside. A name equal to an allowed
			// one is a valid token, and needs no further look.
			for j < len(p.sortedHeaders) && p.sortedHeaders[j] < name {
				j++
			}
			if j < len(p.sortedHeaders) && p.sortedHeaders[j] == name {
				continue
			}
			if !isToken(name) {
				return name, HeaderMalformed
			}
			if !p.anyHeader && !p.allowsHeader(name) {
				return name, HeaderDenied
			}
		}
	}
	return "", Allowed
}

func (p *Policy) allowsHeader(name string) bool {
	if len(name) > p.maxNameLen {
		return false
	}
	if len(name) > lookupBufLen {
		_, ok := p.headers[strings.ToLower(name)]
		return ok
	}
	var buf [lookupBufLen]byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	_, ok := p.headers[string(buf[:len(name)])]
	return ok
}

// nextElement splits the first element off a comma-separated header list
// and trims its optional white space.
func nextElement(list string) (elem, rest string) {
	if i := strings.IndexByte(list, ','); i >= 0 {
		return trimOWS(list[:i]), list[i+1:]
	}
	return trimOWS(list), ""
}

func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// isToken reports whether s is an RFC 9110 token.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if !tokenByte[s[i]] {
			return false
		}
	}
	return s != ""
}

var tokenByte = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()
