package core

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/engine/route"
)

// LogPrefix starts every log line of the CORS layer.
const LogPrefix = "[SERVICE: Gin][CORS]"

// ReasonHeader carries the reason of a refusal when the policy has debug
// on, so that it shows in the browser's network panel.
const ReasonHeader = "X-Cors-Reason"

const hOrigin = "Origin"

// Logger receives the CORS layer's log lines. lura's logging.Logger is
// one.
type Logger interface {
	Debug(v ...any)
	Info(v ...any)
	Warning(v ...any)
}

// Observer receives the decision of every request the Handler serves: the
// request, the scope that decided it (its Route is nil for requests no
// endpoint serves) and the decision. It is called on the request path,
// before the response is written, and must not block, and should not
// allocate; it may be called concurrently. It must not change r.
type Observer interface {
	ObserveCORS(r *http.Request, sc *Scope, d policy.Decision)
}

// ScopeObserver is an Observer that needs the scope that decided each
// request, not its route: when every endpoint shares the service policy,
// the Handler then skips matching routes, and the scope it reports is the
// service's (Route nil). The counters of decisions by scope are one.
type ScopeObserver interface {
	Observer
	// ScopeOnly marks the observer; it is never called.
	ScopeOnly()
}

// Handler is the CORS layer: an http.Handler that wraps the gateway's
// router. It serves each request with the Controller's snapshot of the
// moment the request arrives and answers preflights itself.
//
// It sets the CORS headers of every other response in one of two ways,
// fixed when it is made:
//
//   - at write time (Controller.Handler): just before the response header
//     is written, through a wrapper of the ResponseWriter, so that its
//     answer replaces any CORS header a backend sent. This is right in
//     front of any handler.
//   - up front (Controller.PresetHandler): before the router runs, with no
//     wrapper. This is faster, and right only when the handlers behind it
//     add no CORS headers of their own: lura's router with the endpoint
//     handlers of plugin.StripBackendCORS, which drops a backend's CORS
//     headers where lura copies them. A policy that needs the backend's
//     response to build its headers (expose_headers with a prefix, such
//     as X-Object-Meta-*) or strips the request's CORS headers still sets
//     them at write time (policy.Policy.WriteTimeOnly).
type Handler struct {
	next     http.Handler
	c        *Controller
	current  *atomic.Pointer[Snapshot] // the controller's
	observer Observer                  // the controller's, fixed at its creation
	preset   bool                      // set the headers of actual responses up front
	// noOriginShortcut: preset and no observer, so that a request without
	// an Origin under Snapshot.plain needs only its Vary (see ServeHTTP).
	noOriginShortcut bool
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The same decision as Snapshot.Plan, spelled out so that each header
	// is read once and nothing is copied.
	snap := h.current.Load()
	if r.Method == http.MethodOptions {
		h.serveOptions(w, r, snap)
		return
	}
	origin := r.Header[hOrigin]
	if len(origin) == 0 && h.noOriginShortcut && snap.plain != nil {
		// Not a CORS request, and nothing but Vary to say (the decision
		// decideActual would make: NoOrigin, Serve).
		snap.plain.WriteNotCORS(w.Header())
		h.next.ServeHTTP(w, r)
		return
	}
	sc, d, action := snap.decideActual(r.Method, r.URL.Path, origin)
	if len(origin) != 0 && (len(r.Header[hUpgrade]) != 0 || r.Method == http.MethodConnect) {
		d, action = upgrade(r, sc, d, action)
	}
	if o := h.observer; o != nil {
		o.ObserveCORS(r, sc, d)
	}
	if action == Serve {
		h.serve(w, r, sc, origin, d)
		return
	}
	h.act(w, r, sc, action, d, nil)
}

// serveOptions serves an OPTIONS request: a preflight, or an actual
// request that is not one (no Origin or no requested method).
func (h *Handler) serveOptions(w http.ResponseWriter, r *http.Request, snap *Snapshot) {
	pr := policy.ReadPreflight(r.Header)
	var sc *Scope
	var d policy.Decision
	var action Action
	if pr.IsPreflight() {
		sc, d, action = snap.decidePreflight(r.URL.Path, &pr)
	} else {
		sc, d, action = snap.decideActual(r.Method, r.URL.Path, pr.Origin)
	}
	if o := h.observer; o != nil {
		o.ObserveCORS(r, sc, d)
	}
	if action == Serve {
		h.serve(w, r, sc, pr.Origin, d)
		return
	}
	h.act(w, r, sc, action, d, &pr)
}

// serve hands an actual request under a policy to the router, with its
// CORS headers set up front or at write time (see Handler).
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, sc *Scope, origin []string, d policy.Decision) {
	p := sc.Policy
	if p.Debug() && d.Reason != policy.NoOrigin {
		h.logDecision(r, p, d)
	}
	if p.StripRequestHeaders() {
		stripCORSRequestHeaders(r.Header)
	}
	if h.preset && !p.WriteTimeOnly() {
		writeActual(w.Header(), p, origin, d)
		h.next.ServeHTTP(w, r)
		return
	}
	cw := writerPool.Get().(*corsWriter)
	*cw = corsWriter{ResponseWriter: w, handler: h, scope: sc, origin: origin, decision: d, req: r}
	h.next.ServeHTTP(cw, r)
	cw.apply()
	*cw = corsWriter{}
	writerPool.Put(cw)
}

// act carries out every action but Serve. pr holds the CORS headers of an
// OPTIONS request (nil for any other method); the answers to a preflight
// need them.
func (h *Handler) act(w http.ResponseWriter, r *http.Request, sc *Scope, action Action, d policy.Decision, pr *policy.PreflightRequest) {
	p := sc.Policy
	switch action {
	case Forward:
		h.next.ServeHTTP(w, r)
	case Answer, AnswerAndForward:
		p.AnswerPreflight(w.Header(), pr, d)
		if p.Debug() {
			h.debug(w.Header(), r, p, d)
		}
		if action == AnswerAndForward {
			h.next.ServeHTTP(w, r)
			return
		}
		w.WriteHeader(p.SuccessStatus())
	case RefuseUpgrade:
		h.logUpgrade(r, p, d)
		if p.Debug() {
			h.debug(w.Header(), r, p, d)
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, "WebSocket upgrade refused: this origin may not open a WebSocket here\n")
	case Terminate:
		if d.Preflight {
			p.AnswerPreflight(w.Header(), pr, d)
		} else {
			p.WriteActual(w.Header(), r.Header[hOrigin], d)
		}
		if !p.Debug() {
			w.WriteHeader(p.UnmatchedStatus())
			return
		}
		h.debug(w.Header(), r, p, d)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(p.UnmatchedStatus())
		io.WriteString(w, p.Text(d)+"\n")
	}
}

// debug logs the decision of a policy with debug on and, for a refusal,
// sets ReasonHeader on hdr.
func (h *Handler) debug(hdr http.Header, r *http.Request, p *policy.Policy, d policy.Decision) {
	h.logDecision(r, p, d)
	if !d.Allowed() {
		hdr.Set(ReasonHeader, p.Text(d))
	}
}

// logDecision logs a decision of a policy with debug on.
func (h *Handler) logDecision(r *http.Request, p *policy.Policy, d policy.Decision) {
	h.c.logger.Debug(LogPrefix, r.Method, r.URL.Path, p.Text(d))
}

// upgradeLog limits the log lines of refused WebSocket upgrades to one a
// second per controller, so that a flood of them cannot flood the log; the
// line says how many were left out since the last one.
type upgradeLog struct {
	last    atomic.Int64 // unix second of the last line
	skipped atomic.Int64
}

// logUpgrade logs a refused WebSocket upgrade with its reason, at most once
// a second (see upgradeLog).
func (h *Handler) logUpgrade(r *http.Request, p *policy.Policy, d policy.Decision) {
	l := &h.c.upgrades
	now := time.Now().Unix()
	last := l.last.Load()
	if last == now || !l.last.CompareAndSwap(last, now) {
		l.skipped.Add(1)
		return
	}
	msg := p.Text(d)
	if n := l.skipped.Swap(0); n > 0 {
		msg += fmt.Sprintf(" (and %d more refused upgrade(s) since the last line)", n)
	}
	h.c.logger.Warning(LogPrefix, r.Method, r.URL.Path, msg)
}

// stripCORSRequestHeaders keeps the CORS request headers from the
// endpoint's backends (strip_cors_request_headers).
func stripCORSRequestHeaders(h http.Header) {
	for k := range h {
		if k == hOrigin || strings.HasPrefix(k, "Access-Control-Request-") || strings.HasPrefix(k, "Sec-Fetch-") {
			delete(h, k)
		}
	}
}

// noteBackendCORS logs, with debug on, that the endpoint's backend
// answered CORS itself, when hdr shows it (double CORS validation).
func (h *Handler) noteBackendCORS(sc *Scope, hdr http.Header) {
	if len(hdr["Access-Control-Allow-Origin"]) != 0 {
		h.c.noteBackendCORS(sc)
	}
}

// BackendSentCORS records that the backend of route r answered with CORS
// headers of its own, which the gateway dropped (plugin.StripBackendCORS
// calls it). With debug on in the route's policy, it says so in the log,
// once per endpoint and policy.
func (c *Controller) BackendSentCORS(r *route.Route) {
	if r == nil {
		return
	}
	if sc := c.Snapshot().Scope(r); sc.Policy != nil && sc.Policy.Debug() {
		c.noteBackendCORS(sc)
	}
}

// noteBackendCORS logs once per scope that the endpoint's backend
// answered CORS itself (double CORS validation).
func (c *Controller) noteBackendCORS(sc *Scope) {
	if sc.Route == nil {
		return
	}
	if sc.backendCORSLogged.CompareAndSwap(false, true) {
		c.logger.Debug(LogPrefix, "the backend of", sc.Name(), "("+strings.Join(sc.Route.Backends, ", ")+") also answers CORS:",
			"the gateway replaces its Access-Control-* headers with its own; to stop forwarding Origin to it, set strip_cors_request_headers: true on the endpoint, or turn CORS off in the backend")
	}
}

var writerPool = sync.Pool{New: func() any { return new(corsWriter) }}

// corsWriter sets the CORS headers of an actual response at the moment its
// header is written. Only ServeHTTP uses it, and only until it returns, as
// the net/http contract requires of every handler.
type corsWriter struct {
	http.ResponseWriter
	handler  *Handler
	scope    *Scope
	origin   []string
	decision policy.Decision
	req      *http.Request
	done     bool
}

func (w *corsWriter) apply() {
	if w.done {
		return
	}
	w.done = true
	h := w.ResponseWriter.Header()
	if w.scope.Policy.Debug() {
		w.handler.noteBackendCORS(w.scope, h)
	}
	writeActual(h, w.scope.Policy, w.origin, w.decision)
}

// WriteHeader implements http.ResponseWriter.
func (w *corsWriter) WriteHeader(code int) {
	w.apply()
	w.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *corsWriter) Write(b []byte) (int, error) {
	w.apply()
	return w.ResponseWriter.Write(b)
}

// Flush implements http.Flusher when the underlying writer does.
func (w *corsWriter) Flush() {
	w.apply()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack implements http.Hijacker when the underlying writer does, for
// WebSocket upgrades through the gateway.
func (w *corsWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.apply()
	if hj, ok := w.ResponseWriter.(http.Hijacker); ok {
		return hj.Hijack()
	}
	return nil, nil, errors.New("corsgate: the underlying ResponseWriter does not support Hijack")
}

// CloseNotify implements the deprecated http.CloseNotifier, which gin's
// Context.Stream still asserts on the writer: it delegates when the
// underlying writer has it, and otherwise reports the end of the request's
// context.
func (w *corsWriter) CloseNotify() <-chan bool {
	//lint:ignore SA1019 gin's Stream needs it
	if cn, ok := w.ResponseWriter.(http.CloseNotifier); ok { //nolint:staticcheck
		return cn.CloseNotify()
	}
	ch := make(chan bool, 1)
	ctx := w.req.Context()
	go func() {
		<-ctx.Done()
		ch <- true
	}()
	return ch
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *corsWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
