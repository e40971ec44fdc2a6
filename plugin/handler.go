package plugin

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/luraproject/lura/v2/logging"

	"github.com/corsgate/corsgate/plugin/policy"
)

// LogPrefix starts every log line of the plugin.
const LogPrefix = "[SERVICE: Gin][CORS]"

// ReasonHeader carries the reason of a refusal when the policy has debug
// on, so that it shows in the browser's network panel.
const ReasonHeader = "X-Cors-Reason"

// Handler is the CORS layer: an http.Handler that wraps the gateway's
// router. It answers preflights itself and sets the CORS headers of every
// other response just before the response's header is written, so that
// its answer wins over any CORS header a backend sent.
//
// The Table it uses can be replaced at any time with Swap; each request is
// served entirely with the Table it started with.
type Handler struct {
	next   http.Handler
	table  atomic.Pointer[Table]
	logger logging.Logger
}

// NewHandler wraps next with the CORS policies of t. logger receives the
// debug lines of policies that have debug on; nil discards them.
func NewHandler(next http.Handler, t *Table, logger logging.Logger) *Handler {
	if logger == nil {
		logger = logging.NoOp
	}
	h := &Handler{next: next, logger: logger}
	h.table.Store(t)
	return h
}

// Swap replaces the policies atomically and returns the previous ones.
func (h *Handler) Swap(t *Table) *Table { return h.table.Swap(t) }

// Table returns the policies in use.
func (h *Handler) Table() *Table { return h.table.Load() }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		if pr := policy.ReadPreflight(r.Header); pr.IsPreflight() {
			if p, _ := h.table.Load().Resolve(pr.Method[0], r.URL.Path); p != nil {
				h.preflight(w, r, p, &pr)
				return
			}
			h.next.ServeHTTP(w, r)
			return
		}
	}
	p, route := h.table.Load().Resolve(r.Method, r.URL.Path)
	if p == nil {
		h.next.ServeHTTP(w, r)
		return
	}
	origin := r.Header[hOrigin]
	d := p.CheckActual(r.Method, origin)
	if p.Debug() && d.Reason != policy.NoOrigin {
		h.explain(nil, r, p, d)
	}
	if p.Terminate() && !d.Allowed() && d.Reason != policy.NoOrigin {
		p.WriteActual(w.Header(), origin, d)
		h.terminate(w, p, d)
		return
	}
	cw := writerPool.Get().(*corsWriter)
	*cw = corsWriter{ResponseWriter: w, handler: h, policy: p, route: route, origin: origin, decision: d}
	if p.StripRequestHeaders() {
		stripCORSRequestHeaders(r.Header)
	}
	h.next.ServeHTTP(cw, r)
	cw.apply()
	*cw = corsWriter{}
	writerPool.Put(cw)
}

const hOrigin = "Origin"

// preflight answers a preflight request.
func (h *Handler) preflight(w http.ResponseWriter, r *http.Request, p *policy.Policy, pr *policy.PreflightRequest) {
	d := p.CheckPreflight(pr)
	p.AnswerPreflight(w.Header(), pr, d)
	if p.Debug() {
		h.explain(w.Header(), r, p, d)
	}
	switch {
	case d.Allowed() && p.Passthrough():
		h.next.ServeHTTP(w, r)
	case !d.Allowed() && p.Terminate():
		h.terminate(w, p, d)
	default:
		w.WriteHeader(p.SuccessStatus())
	}
}

// terminate answers a refused CORS request with unmatched_status; with
// debug on, the body names the reason.
func (h *Handler) terminate(w http.ResponseWriter, p *policy.Policy, d policy.Decision) {
	if !p.Debug() {
		w.WriteHeader(p.UnmatchedStatus())
		return
	}
	w.Header().Set(ReasonHeader, p.Text(d))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(p.UnmatchedStatus())
	io.WriteString(w, p.Text(d)+"\n")
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

// explain logs a debug line and, for refusals, sets ReasonHeader on hdr
// (when hdr is not nil).
func (h *Handler) explain(hdr http.Header, r *http.Request, p *policy.Policy, d policy.Decision) {
	text := p.Text(d)
	h.logger.Debug(LogPrefix, r.Method, r.URL.Path, text)
	if hdr != nil && !d.Allowed() {
		hdr.Set(ReasonHeader, text)
	}
}

// noteBackendCORS logs, once per endpoint and only with debug on, that the
// endpoint's backend answered CORS itself (double CORS validation).
func (h *Handler) noteBackendCORS(rt *Route, hdr http.Header) {
	if rt == nil || !rt.Policy.Debug() || len(hdr["Access-Control-Allow-Origin"]) == 0 {
		return
	}
	if rt.backendCORSLogged.CompareAndSwap(false, true) {
		h.logger.Debug(LogPrefix, "the backend of", rt.Endpoint.Name(), "("+strings.Join(rt.Endpoint.Backends, ", ")+") also answers CORS:",
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
	policy   *policy.Policy
	route    *Route
	origin   []string
	decision policy.Decision
	done     bool
}

func (w *corsWriter) apply() {
	if w.done {
		return
	}
	w.done = true
	h := w.ResponseWriter.Header()
	w.handler.noteBackendCORS(w.route, h)
	w.policy.WriteActual(h, w.origin, w.decision)
	if w.policy.Debug() && !w.decision.Allowed() && w.decision.Reason != policy.NoOrigin {
		h.Set(ReasonHeader, w.policy.Text(w.decision))
	}
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

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *corsWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
