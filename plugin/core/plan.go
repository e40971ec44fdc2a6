package core

import (
	"net/http"

	"github.com/corsgate/corsgate/plugin/policy"
)

// Action is what the Handler does with a request.
type Action uint8

// The actions of a Plan.
const (
	// Forward hands the request to the router untouched: CORS does not
	// apply to it (an exempt endpoint, or no policy).
	Forward Action = iota
	// Serve hands an actual request to the router and sets its CORS
	// headers when the response header is written (none when refused).
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
)

var actionNames = [...]string{Forward: "forward", Serve: "serve", Answer: "answer", AnswerAndForward: "answer and forward", Terminate: "terminate"}

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

// Plan decides what to do with r. It reads each request header at most
// once and does not allocate.
func (s *Snapshot) Plan(r *http.Request) Plan {
	if r.Method == http.MethodOptions {
		if pr := policy.ReadPreflight(r.Header); pr.IsPreflight() {
			sc := s.Resolve(pr.Method[0], r.URL.Path)
			p := sc.Policy
			if p == nil {
				return Plan{Scope: sc, Decision: sc.notApplied(true), Action: Forward}
			}
			d := p.CheckPreflight(&pr)
			plan := Plan{Scope: sc, Decision: d, Action: Answer, preflight: pr}
			switch {
			case d.Allowed() && p.Passthrough():
				plan.Action = AnswerAndForward
			case !d.Allowed() && p.Terminate():
				plan.Action = Terminate
			}
			return plan
		}
	}
	sc := s.Resolve(r.Method, r.URL.Path)
	p := sc.Policy
	if p == nil {
		return Plan{Scope: sc, Decision: sc.notApplied(false), Action: Forward}
	}
	origin := r.Header[hOrigin]
	d := p.CheckActual(r.Method, origin)
	plan := Plan{Scope: sc, Decision: d, Action: Serve, origin: origin}
	if p.Terminate() && !d.Allowed() && d.Reason != policy.NoOrigin {
		plan.Action = Terminate
	}
	return plan
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
// the response (h may already hold a backend's). debug adds the reason of
// a refusal when the policy has debug on. It writes nothing when CORS
// does not apply.
func (pl *Plan) WriteHeaders(h http.Header) {
	p := pl.Scope.Policy
	if p == nil {
		return
	}
	if pl.Decision.Preflight {
		p.AnswerPreflight(h, &pl.preflight, pl.Decision)
	} else {
		p.WriteActual(h, pl.origin, pl.Decision)
	}
	if p.Debug() && !pl.Decision.Allowed() && pl.Decision.Reason != policy.NoOrigin {
		h.Set(ReasonHeader, p.Text(pl.Decision))
	}
}

// Status is the status the gateway itself answers with: the success
// status of an answered preflight, unmatched_status of a terminated
// request, or 0 when the router (and the backend) answer.
func (pl *Plan) Status() int {
	switch pl.Action {
	case Answer:
		return pl.Scope.Policy.SuccessStatus()
	case Terminate:
		return pl.Scope.Policy.UnmatchedStatus()
	}
	return 0
}
