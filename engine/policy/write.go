package policy

import (
	"net/http"
	"slices"
	"strings"
)

// corsPrefix starts the name of every CORS response header. Whatever a
// backend put there is replaced by the gateway's answer.
const corsPrefix = "Access-Control-"

// ClearCORS removes every CORS response header (Access-Control-*) from h.
func ClearCORS(h http.Header) {
	if len(h) == 0 {
		return
	}
	for k := range h {
		if len(k) > len(corsPrefix) && k[:len(corsPrefix)] == corsPrefix {
			delete(h, k)
		}
	}
}

// WritePreflight writes the answer to a preflight into h: Vary always, and
// the Access-Control-Allow-* headers when d allows the request. req is the
// request's header.
func (p *Policy) WritePreflight(h, req http.Header, d Decision) {
	r := ReadPreflight(req)
	p.AnswerPreflight(h, &r, d)
}

// AnswerPreflight is WritePreflight for request headers already read.
func (p *Policy) AnswerPreflight(h http.Header, req *PreflightRequest, d Decision) {
	ClearCORS(h)
	mergeVary(h, p.valVaryPreflight, p.varyPreflight)
	if !d.Allowed() {
		return
	}
	h[hAllowOrigin] = p.allowOrigin(req.Origin)
	h[hAllowMethods] = req.Method[:1:1]
	if acrh := req.Headers(); len(acrh) > 0 {
		h[hAllowHeaders] = acrh[:len(acrh):len(acrh)]
	}
	if p.credentials {
		h[hAllowCreds] = p.valTrue
	}
	if p.valMaxAge != nil {
		h[hMaxAge] = p.valMaxAge
	}
	if p.privateNetwork {
		if v := req.header[hReqPrivateNet]; len(v) == 1 && v[0] == "true" {
			h[hAllowPrivNet] = p.valTrue
		}
	}
}

// WriteActual writes the CORS headers of an actual response into h, which
// may already hold headers from a backend: the gateway's answer replaces
// any CORS header the backend sent, and Vary gets Origin exactly once.
// origin is the request's Origin header (its values).
//
// A request without an Origin is not a CORS request: whatever CORS headers
// a backend sent it are left alone, since no browser reads them.
func (p *Policy) WriteActual(h http.Header, origin []string, d Decision) {
	if d.Reason != NoOrigin {
		ClearCORS(h)
	}
	mergeVary(h, p.valVaryActual, p.valVaryActual)
	if !d.Allowed() {
		return
	}
	h[hAllowOrigin] = p.allowOrigin(origin)
	if p.credentials {
		h[hAllowCreds] = p.valTrue
	}
	if len(p.exposePrefixes) > 0 {
		if v := p.exposeWithPrefixes(h); v != nil {
			h[hExpose] = v
		}
	} else if p.valExpose != nil {
		h[hExpose] = p.valExpose
	}
}

// WriteNotCORS writes the CORS header of a response to a request without
// an Origin: Vary: Origin, merged into h's Vary. It is WriteActual for the
// decision NoOrigin.
func (p *Policy) WriteNotCORS(h http.Header) {
	mergeVary(h, p.valVaryActual, p.valVaryActual)
}

// exposeWithPrefixes lists the configured names plus every header of the
// response whose name starts with a configured prefix, such as
// X-Object-Meta-*. It allocates.
func (p *Policy) exposeWithPrefixes(h http.Header) []string {
	names := slices.Clone(p.exposeStatic)
	var found []string
	for k := range h {
		for _, pre := range p.exposePrefixes {
			if len(k) > len(pre) && strings.EqualFold(k[:len(pre)], pre) {
				found = append(found, k)
				break
			}
		}
	}
	slices.Sort(found)
	names = append(names, found...)
	if len(names) == 0 {
		return nil
	}
	return value(strings.Join(names, ", "))
}

func (p *Policy) allowOrigin(origin []string) []string {
	if p.anyOrigin && !p.credentials {
		return p.valAny
	}
	return origin[:1:1]
}

// maxVaryTokens bounds the Vary tokens checked without allocating; a longer
// Vary is rebuilt.
const maxVaryTokens = 16

// mergeVary makes sure that every token of add appears exactly once in h's
// Vary, keeping the tokens already there. val is add joined into one value,
// used as-is when h has no Vary. Only a Vary that lacks a token or repeats
// one is rebuilt (and that allocates).
func mergeVary(h http.Header, val, add []string) {
	if len(h) == 0 {
		h[hVary] = val // the usual case up front: nothing to merge with
		return
	}
	cur := h[hVary]
	if len(cur) == 0 {
		h[hVary] = val
		return
	}
	var seen [maxVaryTokens]string
	n, ok := 0, true
	for _, line := range cur {
		for line != "" && ok {
			var tok string
			tok, line = nextElement(line)
			if tok == "" {
				continue
			}
			if tok == "*" {
				return // Vary: * already covers everything
			}
			for _, s := range seen[:n] {
				if strings.EqualFold(s, tok) {
					ok = false
				}
			}
			if n == maxVaryTokens {
				ok = false
				break
			}
			seen[n] = tok
			n++
		}
	}
	if ok {
		missing := false
		for _, a := range add {
			found := false
			for _, s := range seen[:n] {
				if strings.EqualFold(s, a) {
					found = true
					break
				}
			}
			missing = missing || !found
		}
		if !missing {
			return
		}
	}
	h[hVary] = rebuildVary(cur, add)
}

// rebuildVary joins the distinct tokens of cur and then add into one value.
func rebuildVary(cur, add []string) []string {
	var toks []string
	has := func(t string) bool {
		for _, s := range toks {
			if strings.EqualFold(s, t) {
				return true
			}
		}
		return false
	}
	for _, line := range cur {
		for _, t := range strings.Split(line, ",") {
			if t = trimOWS(t); t != "" && !has(t) {
				toks = append(toks, t)
			}
		}
	}
	for _, t := range add {
		if !has(t) {
			toks = append(toks, t)
		}
	}
	return value(strings.Join(toks, ", "))
}

// TrimBackend returns the headers of a backend's response as they may be
// added to a response whose CORS headers the gateway has already set, in
// gw, before the backend answered (core.Controller.PresetHandler). It
// trims only when gw's Vary names Origin, which every response under a
// policy has:
//
//   - the backend's Vary tokens that gw's Vary already has are dropped,
//     so that Vary names each once;
//   - when cors is true (the request has an Origin: it is a CORS
//     request), every Access-Control-* header of the backend is dropped
//     too, so that the gateway's answer is the only one. A request
//     without an Origin keeps them, as WriteActual does.
//
// backend itself is never changed (a plugin may share one map between
// responses): TrimBackend returns nil when nothing needs dropping, and
// otherwise a trimmed copy, with dropped reporting whether it dropped a
// CORS header. It allocates only then. A backend's own Vary is otherwise
// left as it is (the gateway's line and the backend's are both sent).
func TrimBackend(gw, backend http.Header, cors bool) (trimmed http.Header, dropped bool) {
	gv := gw[hVary]
	if len(backend) == 0 || !hasToken(gv, "Origin") {
		return nil, false
	}
	vary := false
	for k, v := range backend {
		if cors && isCORSHeader(k) {
			dropped = true
		} else if strings.EqualFold(k, hVary) && sharesToken(v, gv) {
			vary = true
		}
	}
	if !dropped && !vary {
		return nil, false
	}
	trimmed = make(http.Header, len(backend))
	for k, v := range backend {
		switch {
		case cors && isCORSHeader(k):
			continue
		case strings.EqualFold(k, hVary):
			if v = dropTokens(v, gv); len(v) == 0 {
				continue
			}
		}
		trimmed[k] = v
	}
	return trimmed, dropped
}

// isCORSHeader reports whether a header name, in any case, is a CORS
// response header (Access-Control-*).
func isCORSHeader(k string) bool {
	return len(k) > len(corsPrefix) && strings.EqualFold(k[:len(corsPrefix)], corsPrefix)
}

// hasToken reports whether the list header lines hold tok, in any case.
func hasToken(lines []string, tok string) bool {
	for _, line := range lines {
		for line != "" {
			var t string
			t, line = nextElement(line)
			if strings.EqualFold(t, tok) {
				return true
			}
		}
	}
	return false
}

// sharesToken reports whether any token of the list header lines a is in b.
func sharesToken(a, b []string) bool {
	for _, line := range a {
		for line != "" {
			var t string
			t, line = nextElement(line)
			if t != "" && hasToken(b, t) {
				return true
			}
		}
	}
	return false
}

// dropTokens returns the tokens of the list header lines a that are not in
// b, joined into one line, or nil when none is left.
func dropTokens(a, b []string) []string {
	var keep []string
	for _, line := range a {
		for line != "" {
			var t string
			t, line = nextElement(line)
			if t != "" && !hasToken(b, t) && !slices.ContainsFunc(keep, func(k string) bool { return strings.EqualFold(k, t) }) {
				keep = append(keep, t)
			}
		}
	}
	if len(keep) == 0 {
		return nil
	}
	return value(strings.Join(keep, ", "))
}
