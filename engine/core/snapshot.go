// Package core is corsgate's CORS layer without lura: it compiles a policy
// document against the gateway's route set into an immutable Snapshot,
// plans what to do with each request, serves requests with a Handler, and
// swaps snapshots atomically through a Controller.
//
// The pieces, in the order a request meets them:
//
//   - Compile(document, routes) validates the document (package policy is
//     the authority on what it means) and gives a Snapshot: for every
//     route, the scope whose policy applies to it.
//   - Snapshot.Plan(request) decides: which scope, which policy, what
//     decision (including exempt, no policy and not CORS) and what action.
//     The Handler and the explanations (package explain) both use it, so
//     they cannot disagree.
//   - Handler carries out the plan in front of the gateway's router.
//   - Controller owns the current Snapshot. Apply(document) validates,
//     compiles and swaps it in one step, or changes nothing.
package core

import (
	"sync/atomic"

	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/engine/route"
)

// Scope is where a policy applies: the service, or one endpoint.
type Scope struct {
	// Route is the endpoint, or nil for the service scope (which also
	// covers requests no endpoint serves, as in KrakenD CE).
	Route *route.Route
	// Policy is the policy that applies, or nil when CORS does not apply:
	// the endpoint is exempt (disable: true), or there is no block.
	Policy *policy.Policy
	// OwnBlock reports whether the endpoint has a security/cors block of
	// its own (merged over the service block); otherwise it inherits the
	// service policy as it is.
	OwnBlock bool
	// Own lists the keys the endpoint's own block sets.
	Own []string
	// Exempt reports disable: true.
	Exempt bool

	backendCORSLogged atomic.Bool
}

// Name is how messages name the scope: "service" or the endpoint key,
// such as "GET /users/{id}".
func (s *Scope) Name() string {
	if s.Route == nil {
		return "service"
	}
	return s.Route.Key()
}

// Snapshot is a policy document compiled for a route set. It is immutable
// and safe for concurrent use; a new document gives a new Snapshot.
type Snapshot struct {
	revision uint64
	doc      *policy.Document
	routes   *route.Index
	service  *Scope
	scopes   []*Scope // by route position
	warnings policy.Errors
	// resolve is false when every route uses the service policy and no
	// debug line needs the route: Resolve then skips the route tree.
	resolve bool
	// plain is the policy of every request without an Origin when that
	// request gets Vary: Origin and nothing else: every route uses the
	// service policy (resolve is false), whose headers can be set before
	// the router runs (not WriteTimeOnly). Otherwise nil.
	plain *policy.Policy
}

// Compile validates doc against routes and compiles it. When the document
// is invalid it returns every problem, as policy.Errors, and no Snapshot.
// The Snapshot's revision is 0; a Controller numbers the ones it applies.
func Compile(doc *policy.Document, routes *route.Index) (*Snapshot, error) {
	if doc == nil {
		doc = &policy.Document{}
	}
	if routes == nil {
		routes = route.New(nil, false)
	}
	eps := make([]policy.Endpoint, len(routes.Routes()))
	for i, r := range routes.Routes() {
		eps[i] = policy.Endpoint{Key: r.Key(), Method: r.Method, Served: r.Served()}
	}
	set, err := policy.CompileDocument(doc, eps)
	if err != nil {
		return nil, err
	}
	s := &Snapshot{doc: doc.Clone(), routes: routes, warnings: set.Warnings}
	s.service = &Scope{Policy: set.Service}
	s.resolve = set.Service != nil && set.Service.Debug()
	for _, r := range routes.Routes() {
		sc := &Scope{Route: r, Policy: set.Service}
		if own, ok := set.Endpoints[r.Key()]; ok {
			sc.OwnBlock, sc.Own, sc.Exempt, sc.Policy = true, own.Own, own.Exempt, own.Policy
			s.resolve = true
		}
		s.scopes = append(s.scopes, sc)
	}
	if p := set.Service; p != nil && !s.resolve && !p.WriteTimeOnly() {
		s.plain = p
	}
	return s, nil
}

// Revision numbers the snapshots a Controller applied, from 1; 0 for one
// compiled on its own.
func (s *Snapshot) Revision() uint64 { return s.revision }

// Document returns a copy of the document the snapshot was compiled from.
func (s *Snapshot) Document() *policy.Document { return s.doc.Clone() }

// Routes returns the route set.
func (s *Snapshot) Routes() *route.Index { return s.routes }

// Service returns the service scope.
func (s *Snapshot) Service() *Scope { return s.service }

// Scope returns the scope of a route of the snapshot's route set.
func (s *Snapshot) Scope(r *route.Route) *Scope { return s.scopes[r.Pos()] }

// Warnings lists what is valid but risky or likely a mistake.
func (s *Snapshot) Warnings() policy.Errors { return s.warnings }

// Enabled reports whether any CORS policy applies anywhere.
func (s *Snapshot) Enabled() bool {
	if s == nil {
		return false
	}
	if s.service.Policy != nil {
		return true
	}
	for _, sc := range s.scopes {
		if sc.Policy != nil {
			return true
		}
	}
	return false
}

// Debug reports whether any policy has debug on.
func (s *Snapshot) Debug() bool {
	if s.service.Policy != nil && s.service.Policy.Debug() {
		return true
	}
	for _, sc := range s.scopes {
		if sc.OwnBlock && sc.Policy != nil && sc.Policy.Debug() {
			return true
		}
	}
	return false
}

// Resolve returns the scope that applies to a request with method (for a
// preflight, the method it asks for) on path: the scope of the endpoint
// that serves it, or the service scope. It does not allocate.
func (s *Snapshot) Resolve(method, path string) *Scope {
	if !s.resolve {
		return s.service
	}
	return s.resolveRoute(method, path)
}

// resolveRoute is Resolve when some route has a scope of its own; apart,
// so that Resolve stays small enough to be inlined.
func (s *Snapshot) resolveRoute(method, path string) *Scope {
	if r := s.routes.Match(method, path); r != nil {
		return s.scopes[r.Pos()]
	}
	return s.service
}
