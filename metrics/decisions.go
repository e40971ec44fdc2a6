// Package metrics watches the CORS decisions a gateway makes, for its
// operators: it counts them by kind (preflight or actual), outcome, reason
// and policy scope; keeps, per scope, the origins refused most often in a
// structure of fixed size; keeps the counts of the last minutes as a time
// series; and evaluates a candidate policy beside the one in force
// (report-only mode). It exports all of it to Prometheus.
//
// Decisions is a core.Observer: the CORS layer calls it on every request.
// Counting is an atomic add into an array sized when the route set is
// known, so it allocates nothing; recording a refused origin copies at most
// MaxOriginBytes bytes into a fixed slot, so it allocates nothing either.
// Origins are never metric labels: a label per origin would let anyone
// grow the metrics without bound by sending made-up origins.
package metrics

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/engine/route"
)

// numReasons is the number of policy.Reason values.
const numReasons = int(policy.NumReasons)

// Kinds of request.
const (
	kindActual = iota
	kindPreflight
	numKinds
)

var kindNames = [numKinds]string{"actual", "preflight"}

// Outcome names how a reason ends for the request: allowed (CORS headers
// sent), refused (no CORS headers, or a refusal), or ignored (no Origin,
// no policy, or an exempt endpoint: CORS does not apply).
func Outcome(r policy.Reason) string {
	switch r {
	case policy.Allowed:
		return "allowed"
	case policy.NoOrigin, policy.NoPolicy, policy.Exempt:
		return "ignored"
	}
	return "refused"
}

// Decisions counts the CORS decisions of a gateway. Create it with New.
type Decisions struct {
	scopes []string        // "service", then each route's key, by position
	counts []atomic.Uint64 // [kind][reason][scope]
	top    []scopeTop      // per scope

	candidate atomic.Pointer[Candidate]

	seriesMu sync.Mutex
	series   []Point // oldest first, at most maxPoints
	last     Point   // the totals at the last sample
	step     time.Duration
}

// New returns the counters of a gateway that serves routes.
func New(routes *route.Index) *Decisions {
	d := &Decisions{scopes: []string{"service"}, step: DefaultStep}
	if routes != nil {
		for _, r := range routes.Routes() {
			d.scopes = append(d.scopes, r.Key())
		}
	}
	d.counts = make([]atomic.Uint64, numKinds*numReasons*len(d.scopes))
	d.top = make([]scopeTop, len(d.scopes))
	return d
}

// scopeTop keeps a scope's refused origins in two TopKs, so that the
// refusals of allowed origins (a method or a header) never push the
// refused origins out, nor the other way round.
type scopeTop struct {
	origins TopK // refused for the origin itself
	others  TopK // allowed origins refused for the method, headers or upgrade
}

// scopeIndex is the position of the scope that decided: the endpoint's when
// it has a block of its own (or is exempt), else the service's.
func scopeIndex(sc *core.Scope) int {
	if sc == nil || sc.Route == nil || !(sc.OwnBlock || sc.Exempt) {
		return 0
	}
	return 1 + sc.Route.Pos()
}

// ObserveCORS implements core.Observer: it counts the decision, records a
// refused origin, and, in report-only mode, evaluates the candidate.
func (d *Decisions) ObserveCORS(r *http.Request, sc *core.Scope, dec policy.Decision) {
	i := scopeIndex(sc)
	if i >= len(d.scopes) {
		i = 0
	}
	kind := kindActual
	if dec.Preflight {
		kind = kindPreflight
	}
	d.counts[(kind*numReasons+int(dec.Reason))*len(d.scopes)+i].Add(1)
	if Outcome(dec.Reason) == "refused" {
		origin := dec.Detail
		if dec.Reason != policy.OriginDenied && dec.Reason != policy.OriginMalformed {
			if v := r.Header["Origin"]; len(v) > 0 {
				origin = v[0]
			}
		}
		t := &d.top[i].others
		if RefusalKind(dec.Reason) == "origin" {
			t = &d.top[i].origins
		}
		t.Add(origin, dec.Reason)
	}
	if c := d.candidate.Load(); c != nil {
		c.observe(r, dec)
	}
}

// Count is one counter of decisions.
type Count struct {
	Kind, Outcome, Reason, Scope string
	N                            uint64
}

// Counts lists the counters that are not zero.
func (d *Decisions) Counts() []Count {
	var out []Count
	for k := 0; k < numKinds; k++ {
		for r := 0; r < numReasons; r++ {
			for s, name := range d.scopes {
				if n := d.counts[(k*numReasons+r)*len(d.scopes)+s].Load(); n > 0 {
					out = append(out, Count{Kind: kindNames[k], Outcome: Outcome(policy.Reason(r)), Reason: policy.Reason(r).String(), Scope: name, N: n})
				}
			}
		}
	}
	return out
}

// ScopeTop is the top refused origins of one scope.
type ScopeTop struct {
	Scope   string   `json:"scope"`
	Origins []Origin `json:"origins"`
}

// TopRefused lists, for each scope that refused something, the origins it
// refused most often: those refused for themselves first, most frequent
// first, then the allowed origins refused for a method, headers or an
// upgrade (Origin.Kind tells them apart).
func (d *Decisions) TopRefused() []ScopeTop {
	out := []ScopeTop{}
	for i := range d.top {
		o := append(d.top[i].origins.Top(), d.top[i].others.Top()...)
		if len(o) > 0 {
			out = append(out, ScopeTop{Scope: d.scopes[i], Origins: o})
		}
	}
	return out
}

// ScopeOnly implements core.ScopeObserver: the counters need the scope
// that decided, so the gateway need not match the route of every request
// when all endpoints share the service policy.
func (d *Decisions) ScopeOnly() {}

var _ core.ScopeObserver = (*Decisions)(nil)

// SetCandidate starts report-only mode with c, or stops it with nil.
func (d *Decisions) SetCandidate(c *Candidate) { d.candidate.Store(c) }

// EndCandidate stops report-only mode if c is still its candidate, and
// reports whether it was.
func (d *Decisions) EndCandidate(c *Candidate) bool { return d.candidate.CompareAndSwap(c, nil) }

// Candidate returns the candidate in report-only mode, or nil.
func (d *Decisions) Candidate() *Candidate { return d.candidate.Load() }
