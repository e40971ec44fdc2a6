package core

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/engine/route"
)

// Controller owns the CORS layer of one gateway: its route set, which
// never changes, and the current Snapshot, which Apply replaces. Every
// change of CORS at run time goes through Apply.
type Controller struct {
	routes   *route.Index
	current  atomic.Pointer[Snapshot]
	mu       sync.Mutex // serialises Apply
	logger   Logger
	observer Observer
	upgrades upgradeLog
}

// Option configures a Controller.
type Option func(*Controller)

// WithLogger sends the debug lines of policies with debug on to l.
func WithLogger(l Logger) Option { return func(c *Controller) { c.logger = l } }

// WithObserver makes the Handler report every decision to o.
func WithObserver(o Observer) Option { return func(c *Controller) { c.observer = o } }

// WithObserverFor is WithObserver for an observer that needs the route set
// to be built (to size its counters, for example): newObserver gets the
// controller's routes.
func WithObserverFor(newObserver func(*route.Index) Observer) Option {
	return func(c *Controller) { c.observer = newObserver(c.routes) }
}

// NewController compiles doc for routes and returns a Controller serving
// it, as revision 1. It returns the document's problems (policy.Errors)
// when it is invalid.
func NewController(routes *route.Index, doc *policy.Document, opts ...Option) (*Controller, error) {
	s, err := Compile(doc, routes)
	if err != nil {
		return nil, err
	}
	c := &Controller{routes: s.routes, logger: nopLogger{}}
	for _, o := range opts {
		o(c)
	}
	c.publish(s, 1)
	return c, nil
}

// Apply validates doc, compiles it against the controller's routes, and
// makes it the policy of every request that arrives afterwards; requests
// under way finish with the snapshot they started with. When doc is
// invalid it returns every problem (policy.Errors) and changes nothing.
// It is Compile followed by Publish.
func (c *Controller) Apply(doc *policy.Document) (*Snapshot, error) {
	s, err := Compile(doc, c.routes)
	if err != nil {
		return nil, err
	}
	if err := c.Publish(s); err != nil {
		return nil, err
	}
	return s, nil
}

// Publish makes s, which Compile gave for the controller's routes, the
// snapshot of every request that arrives afterwards, with the next
// revision number. It returns an error and changes nothing when s was
// compiled for another route set, or was published already: a snapshot is
// published once, by one controller.
func (c *Controller) Publish(s *Snapshot) error {
	if s == nil {
		return errors.New("core: Publish of a nil snapshot")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case s.routes != c.routes:
		return errors.New("core: the snapshot was compiled for another route set than the controller's; compile it with Controller.Routes()")
	case s.revision != 0:
		return fmt.Errorf("core: the snapshot was published already, as revision %d; compile the document again", s.revision)
	}
	c.publish(s, c.current.Load().revision+1)
	return nil
}

// publish numbers s and makes it the snapshot in use. With an observer,
// every request is resolved to its route, even when all routes share the
// service policy, so that the observer always learns the route, unless it
// is a ScopeObserver.
func (c *Controller) publish(s *Snapshot, revision uint64) {
	s.revision = revision
	if _, scopeOnly := c.observer.(ScopeObserver); c.observer != nil && !scopeOnly {
		s.resolve = true
	}
	c.current.Store(s)
}

// Snapshot returns the snapshot in use.
func (c *Controller) Snapshot() *Snapshot { return c.current.Load() }

// Routes returns the route set.
func (c *Controller) Routes() *route.Index { return c.routes }

// Handler returns the CORS layer in front of next, the gateway's router.
// It always serves the controller's current snapshot, and sets the CORS
// headers of actual responses at write time, replacing any that next set:
// it is right in front of any handler (see Handler).
func (c *Controller) Handler(next http.Handler) *Handler {
	return &Handler{next: next, c: c, current: &c.current, observer: c.observer}
}

// PresetHandler is Handler for a next that adds no CORS response headers
// of its own, such as lura's router with the endpoint handlers of
// plugin.StripBackendCORS: it sets the CORS headers of actual responses
// before next runs, without wrapping the ResponseWriter, which is faster.
// In front of a handler that sets Access-Control-* headers itself, a
// response could carry both its headers and the gateway's: use Handler
// there.
func (c *Controller) PresetHandler(next http.Handler) *Handler {
	h := c.Handler(next)
	h.preset = true
	h.noOriginShortcut = h.observer == nil
	return h
}

type nopLogger struct{}

func (nopLogger) Debug(...any)   {}
func (nopLogger) Info(...any)    {}
func (nopLogger) Warning(...any) {}
