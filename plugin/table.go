package plugin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	luraconfig "github.com/luraproject/lura/v2/config"

	"github.com/corsgate/corsgate/plugin/config"
	"github.com/corsgate/corsgate/plugin/policy"
	"github.com/corsgate/corsgate/schema"
)

// Table is the set of compiled policies of one gateway configuration: the
// service-level policy and, for every endpoint, the policy that applies
// to it. It is immutable; a new configuration gives a new Table.
type Table struct {
	service *policy.Policy
	gateway *config.Gateway
	root    *node
	routes  []*Route
	// resolve is false when every route uses the service policy and no
	// debug line needs the route: Lookup then skips the route tree.
	resolve bool
}

// Route is one endpoint as the CORS layer sees it.
type Route struct {
	// Endpoint is the endpoint's configuration.
	Endpoint config.Endpoint
	// Policy is the policy that applies, or nil when the endpoint is
	// exempt (disable: true) or when CORS is off.
	Policy *policy.Policy
	// Own reports whether the endpoint has its own security/cors block
	// (merged over the service block); otherwise it inherits the service
	// policy as it is.
	Own bool
	// Served lists the methods the gateway serves on the endpoint's path.
	Served []string

	backendCORSLogged atomic.Bool
}

// node is one path segment of the route tree. Static children win over
// the :param child, as in gin.
type node struct {
	static  map[string]*node
	param   *node
	methods map[string]*Route
}

// Build reads, validates and compiles the CORS settings of a parsed lura
// configuration. The error, when not nil, is a schema.Errors listing every
// problem with its JSON path.
func Build(cfg luraconfig.ServiceConfig) (*Table, error) {
	g, err := config.FromService(cfg)
	if err != nil {
		return nil, err
	}
	t := &Table{gateway: g, root: &node{}}
	var errs schema.Errors
	if g.Service != nil {
		p, err := policy.Compile(*g.Service, g.ServicePath)
		errs = append(errs, asErrors(err)...)
		t.service = p
	}

	served := map[string][]string{}
	for _, e := range g.Endpoints {
		shape := pathShape(e.Path)
		if !slices.Contains(served[shape], e.Method) {
			served[shape] = append(served[shape], e.Method)
		}
	}
	for _, e := range g.Endpoints {
		r := &Route{Endpoint: e, Policy: t.service, Served: served[pathShape(e.Path)]}
		if e.CORS != nil {
			r.Own = true
			if e.CORS.Disable != nil && *e.CORS.Disable {
				r.Policy = nil
			} else {
				merged := config.Merge(g.Service, e.CORS)
				if len(merged.AllowMethods) == 0 {
					merged.AllowMethods = r.Served
				} else if !slices.Contains(merged.AllowMethods, e.Method) {
					where := "set in the endpoint block; add it there"
					if inherited(schema.Path(e.CORSPath, "allow_methods"), e) {
						where = fmt.Sprintf("inherited from %s; set \"allow_methods\" in the endpoint block, for example %s", g.ServicePath, jsonList(r.Served))
					}
					errs = append(errs, schema.Error{
						Path:     schema.Path(e.CORSPath, "allow_methods"),
						Endpoint: e.Name(),
						Message: fmt.Sprintf("the endpoint's own method %s is not in allow_methods %s (%s), so every preflight for it would be refused",
							e.Method, jsonList(merged.AllowMethods), where),
					})
				}
				p, err := policy.CompileScoped(merged, e.CORSPath, e.Name())
				for _, pe := range asErrors(err) {
					pe.Endpoint = e.Name()
					if g.Service != nil && inherited(pe.Path, e) && slices.Contains(g.Service.Keys(), errorKey(pe.Path, e)) {
						pe.Message += " (the key is inherited from the service-level block, " + g.ServicePath + ")"
					}
					errs = append(errs, pe)
				}
				r.Policy = p
			}
		}
		t.routes = append(t.routes, r)
		t.insert(e.Path, e.Method, r)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	t.resolve = t.service != nil && t.service.Debug()
	for _, r := range t.routes {
		t.resolve = t.resolve || r.Own
	}
	return t, nil
}

// asErrors unpacks the errors of policy.Compile.
func asErrors(err error) schema.Errors {
	if err == nil {
		return nil
	}
	if es, ok := err.(schema.Errors); ok {
		return es
	}
	return schema.Errors{{Message: err.Error()}}
}

// errorKey is the security/cors key an error path below e's block names.
func errorKey(path string, e config.Endpoint) string {
	key := strings.TrimPrefix(path, e.CORSPath+".")
	if i := strings.IndexAny(key, ".["); i >= 0 {
		key = key[:i]
	}
	return key
}

// inherited reports whether the key an error path names is not set in the
// endpoint's own block.
func inherited(path string, e config.Endpoint) bool {
	return !slices.Contains(e.CORS.Keys(), errorKey(path, e))
}

// pathShape is a route with its parameter names left out, so that
// /users/:id and /users/:uid, which gin serves as one path, compare equal.
func pathShape(route string) string {
	segs := strings.Split(route, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			segs[i] = ":"
		}
	}
	return strings.Join(segs, "/")
}

// nextSegment splits a route or request path after its leading slash, keeping
// an empty last segment for a trailing slash ("/" has one empty segment).
func nextSegment(path string) (seg, rest string, more bool) {
	seg, rest, more = strings.Cut(path, "/")
	return seg, rest, more
}

func (t *Table) insert(path, method string, r *Route) {
	n := t.root
	rest, more := strings.TrimPrefix(path, "/"), true
	for more {
		var seg string
		seg, rest, more = nextSegment(rest)
		if strings.HasPrefix(seg, ":") || strings.HasPrefix(seg, "*") {
			if n.param == nil {
				n.param = &node{}
			}
			n = n.param
			continue
		}
		if n.static == nil {
			n.static = map[string]*node{}
		}
		child, ok := n.static[seg]
		if !ok {
			child = &node{}
			n.static[seg] = child
		}
		n = child
	}
	if n.methods == nil {
		n.methods = map[string]*Route{}
	}
	if _, dup := n.methods[method]; !dup {
		n.methods[method] = r
	}
}

// match finds the route serving method on a request path (without its
// leading slash), preferring static segments and backtracking to :param
// ones when the static branch has no such route, as gin does. It does not
// allocate.
func (n *node) match(path, method string) *Route {
	seg, rest, more := nextSegment(path)
	if child, ok := n.static[seg]; ok {
		if r := child.next(rest, more, method); r != nil {
			return r
		}
	}
	if n.param != nil && seg != "" {
		return n.param.next(rest, more, method)
	}
	return nil
}

func (n *node) next(rest string, more bool, method string) *Route {
	if !more {
		return n.methods[method]
	}
	return n.match(rest, method)
}

// Route returns the endpoint that serves method on path, or nil.
func (t *Table) Route(method, path string) *Route {
	if t == nil || !strings.HasPrefix(path, "/") {
		return nil
	}
	return t.root.match(path[1:], method)
}

// Lookup returns the policy that applies to r and the endpoint it was
// resolved to (nil for paths and methods no endpoint serves, which keep
// the service-level policy, as in KrakenD CE). A nil policy means CORS
// does not apply. A preflight is resolved with the method it asks for.
func (t *Table) Lookup(r *http.Request, preflight bool) (*policy.Policy, *Route) {
	method := r.Method
	if preflight {
		method = r.Header["Access-Control-Request-Method"][0]
	}
	return t.Resolve(method, r.URL.Path)
}

// Resolve is Lookup for a request's method (the method a preflight asks
// for) and path.
func (t *Table) Resolve(method, path string) (*policy.Policy, *Route) {
	if t == nil {
		return nil, nil
	}
	if !t.resolve {
		return t.service, nil
	}
	if rt := t.Route(method, path); rt != nil {
		return rt.Policy, rt
	}
	return t.service, nil
}

// Validate reports every problem in the CORS settings of cfg, or nil.
func Validate(cfg luraconfig.ServiceConfig) error {
	_, err := Build(cfg)
	return err
}

// Enabled reports whether any CORS policy is configured.
func (t *Table) Enabled() bool {
	if t == nil {
		return false
	}
	if t.service != nil {
		return true
	}
	for _, r := range t.routes {
		if r.Policy != nil {
			return true
		}
	}
	return false
}

// Service returns the service-level policy, or nil when there is none.
func (t *Table) Service() *policy.Policy { return t.service }

// Routes lists the endpoints in configuration order.
func (t *Table) Routes() []*Route { return t.routes }

// Gateway returns the configuration the table was built from.
func (t *Table) Gateway() *config.Gateway { return t.gateway }

// jsonList renders a list of strings as JSON, for messages.
func jsonList(list []string) string {
	b, _ := json.Marshal(list)
	return strings.ReplaceAll(string(b), `","`, `", "`)
}
