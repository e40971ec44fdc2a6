package core

import (
	"net/http"

	"github.com/corsgate/corsgate/engine/policy"
)

// Action is what the Handler does with a request.
type Action uint8

// The actions of a Plan.
const (
	// Forward hands the request to the router untouched: CORS does not
	// apply to it (an exempt endpoint, or no policy).
	Forward Action = iota
	// Serve hands an actual request to the router with its CORS headers:
	// Vary, and the Access-Control-* headers when it is allowed, set when
	// the response header is written or before the router runs (see
	// Handler).
	Serve
	// Answer answers a preflight with the policy's success status, with
	// the Access-Control-Allow-* headers when it is allowed.
	Answer
	// AnswerAndForward sets the headers of an allowed preflight and hands
	// it on to the router (options_passthrough).
	AnswerAndForward
	// Terminate answers a refused CORS request with unmatched_status; the
	// router and the backends never see it (terminate_unmatched_request).
	Terminate
	// RefuseUpgrade answers 403 to a WebSocket upgrade from an origin the
	// policy does not allow to open sockets.
	RefuseUpgrade
)

var actionNames = [...]string{Forward: "forward", Serve: "serve", Answer: "answer", AnswerAndForward: "answer and forward", Terminate: "terminate", RefuseUpgrade: "refuse upgrade"}

// String names the action.
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "unknown"
}

// Plan is what the gateway does with one request, and why.
type Plan struct {
	// Scope is the scope that applies.
	Scope *Scope
	// Decision is the CORS decision. Its Reason is policy.NoPolicy or
	// policy.Exempt when CORS does not apply, and policy.NoOrigin for a
	// request that is not a CORS request.
	Decision policy.Decision
	// Action is what the Handler does.
	Action Action

	preflight policy.PreflightRequest
	origin    []string
}

// Plan decides what to do with r. The Handler makes the same decision
// for every request (with decide); Plan packs it, with what is needed to
// write the answer, for explanations and tests.
func (s *Snapshot) Plan(r *http.Request) Plan {
	pr := readCORSHeaders(r)
	sc, d, a := s.decide(r, &pr)
	pl := Plan{Scope: sc, Decision: d, Action: a}
	if d.Preflight {
		pl.preflight = pr
	} else {
		pl.origin = pr.Origin
	}
	return pl
}

// Decide is the decision this snapshot makes for r: the scope and the CORS
// decision, without the explanation Plan packs. It does not allocate.
// Report-only mode evaluates a candidate snapshot with it, beside the one
// in force.
func (s *Snapshot) Decide(r *http.Request) (*Scope, policy.Decision) {
	pr := readCORSHeaders(r)
	sc, d, _ := s.decide(r, &pr)
	return sc, d
}

// readCORSHeaders reads the CORS request headers decide needs, each once:
// Origin, and for an OPTIONS request the requested method too.
func readCORSHeaders(r *http.Request) policy.PreflightRequest {
	if r.Method == http.MethodOptions {
		return policy.ReadPreflight(r.Header)
	}
	return policy.PreflightRequest{Origin: r.Header[hOrigin]}
}

// decide is the decision of every request: the scope that applies, the
// CORS decision and the action. pr holds the request's CORS headers, read
// once by the caller (readCORSHeaders). It does not allocate, and returns
// in registers.
func (s *Snapshot) decide(r *http.Request, pr *policy.PreflightRequest) (*Scope, policy.Decision, Action) {
	if r.Method == http.MethodOptions && pr.IsPreflight() {
		return s.decidePreflight(r.URL.Path, pr)
	}
	sc, d, a := s.decideActual(r.Method, r.URL.Path, pr.Origin)
	d, a = upgrade(r, sc, d, a)
	return sc, d, a
}

// hUpgrade is the header of a WebSocket upgrade request.
const hUpgrade = "Upgrade"

// upgrade decides a WebSocket upgrade request that a policy covers:
// browsers apply no CORS to it, so its Origin is checked here
// (Policy.CheckUpgrade) and a refused one is answered 403. Any other
// request keeps d and a. The check costs one header lookup, for GET
// requests with an Origin only.
func upgrade(r *http.Request, sc *Scope, d policy.Decision, a Action) (policy.Decision, Action) {
	if sc.Policy == nil || d.Reason == policy.NoOrigin || !policy.IsUpgrade(r.Method, r.Header) {
		return d, a
	}
	u := sc.Policy.CheckUpgrade(r.Header[hOrigin])
	if u.Reason == policy.UpgradeDenied {
		return u, RefuseUpgrade
	}
	// Allowed to open a socket: it goes to the router whatever the CORS
	// checks of an ordinary request said (websocket_origins may allow an
	// origin allow_origins does not, and terminate_unmatched_request must
	// not stop it), without CORS headers, which WebSockets do not use.
	return u, Forward
}

// decidePreflight decides a preflight request.
func (s *Snapshot) decidePreflight(path string, pr *policy.PreflightRequest) (*Scope, policy.Decision, Action) {
	sc := s.Resolve(pr.Method[0], path)
	p := sc.Policy
	if p == nil {
		return sc, sc.notApplied(true), Forward
	}
	d := p.CheckPreflight(pr)
	a := Answer
	if d.Allowed() {
		if p.Passthrough() {
			a = AnswerAndForward
		}
	} else if p.Terminate() {
		a = Terminate
	}
	return sc, d, a
}

// decideActual decides any other request.
func (s *Snapshot) decideActual(method, path string, origin []string) (*Scope, policy.Decision, Action) {
	sc := s.Resolve(method, path)
	p := sc.Policy
	if p == nil {
		return sc, sc.notApplied(false), Forward
	}
	d := p.CheckActual(method, origin)
	if p.Terminate() && !d.Allowed() && d.Reason != policy.NoOrigin {
		return sc, d, Terminate
	}
	return sc, d, Serve
}

// notApplied is the decision of a scope without a policy.
func (sc *Scope) notApplied(preflight bool) policy.Decision {
	if sc.Exempt {
		return policy.Decision{Preflight: preflight, Reason: policy.Exempt}
	}
	return policy.Decision{Preflight: preflight, Reason: policy.NoPolicy}
}

// WriteHeaders writes the CORS headers the plan's answer carries into h:
// for a preflight, its answer; for an actual request, the headers set on
// the response (h may already hold a backend's). It adds the reason of a
// refusal when the policy has debug on, and writes nothing when CORS does
// not apply.
func (pl *Plan) WriteHeaders(h http.Header) {
	if pl.Decision.Preflight {
		writePreflight(h, pl.Scope.Policy, &pl.preflight, pl.Decision)
	} else {
		writeActual(h, pl.Scope.Policy, pl.origin, pl.Decision)
	}
}

// writePreflight writes the answer to a preflight.
func writePreflight(h http.Header, p *policy.Policy, pr *policy.PreflightRequest, d policy.Decision) {
	if p == nil {
		return
	}
	p.AnswerPreflight(h, pr, d)
	if p.Debug() && !d.Allowed() {
		h.Set(ReasonHeader, p.Text(d))
	}
}

// writeActual writes the CORS headers of an actual response.
func writeActual(h http.Header, p *policy.Policy, origin []string, d policy.Decision) {
	if p == nil {
		return
	}
	p.WriteActual(h, origin, d)
	if p.Debug() && !d.Allowed() && d.Reason != policy.NoOrigin {
		h.Set(ReasonHeader, p.Text(d))
	}
}

// Status is the status the gateway itself answers with: the success
// status of an answered preflight, unmatched_status of a terminated
// request, or 0 when the router (and the backend) answer.
func (pl *Plan) Status() int { return status(pl.Scope.Policy, pl.Action) }

func status(p *policy.Policy, a Action) int {
	switch a {
	case Answer:
		return p.SuccessStatus()
	case Terminate:
		return p.UnmatchedStatus()
	case RefuseUpgrade:
		return http.StatusForbidden
	}
	return 0
}
