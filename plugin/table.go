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
		if !slices.Contains(served[e.Path], e.Method) {
			served[e.Path] = append(served[e.Path], e.Method)
		}
	}
	for _, e := range g.Endpoints {
		r := &Route{Endpoint: e, Policy: t.service, Served: served[e.Path]}
		if e.CORS != nil {
			r.Own = true
			if e.CORS.Disable != nil && *e.CORS.Disable {
				r.Policy = nil
			} else {
				merged := config.Merge(g.Service, e.CORS)
				if merged.AllowMethods == nil {
					merged.AllowMethods = r.Served
				} else if !slices.Contains(merged.AllowMethods, e.Method) {
					errs = append(errs, schema.Error{
						Path:     schema.Path(e.CORSPath, "allow_methods"),
						Endpoint: e.Name(),
						Message: fmt.Sprintf("the endpoint's own method %s is not in allow_methods %s (inherited from %s), so every preflight for it would be refused; set \"allow_methods\" in the endpoint block, for example %s",
							e.Method, jsonList(merged.AllowMethods), g.ServicePath, jsonList(r.Served)),
					})
				}
				p, err := policy.Compile(merged, e.CORSPath)
				for _, pe := range asErrors(err) {
					pe.Endpoint = e.Name()
					if inherited(pe.Path, e) {
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

// inherited reports whether the key an error path names comes from the
// service block rather than the endpoint's own.
func inherited(path string, e config.Endpoint) bool {
	key := strings.TrimPrefix(path, e.CORSPath+".")
	if i := strings.IndexAny(key, ".["); i >= 0 {
		key = key[:i]
	}
	return !slices.Contains(e.CORS.Keys(), key)
}

func (t *Table) insert(path, method string, r *Route) {
	n := t.root
	for _, seg := range strings.Split(strings.Trim(path, "/"), "/") {
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

// match finds the node of a request path, preferring static segments and
// backtracking to :param ones. It does not allocate.
func (n *node) match(path string) *node {
	if path == "" {
		if n.methods != nil {
			return n
		}
		return nil
	}
	seg, rest := path, ""
	if i := strings.IndexByte(path, '/'); i >= 0 {
		seg, rest = path[:i], path[i+1:]
	}
	if child, ok := n.static[seg]; ok {
		if m := child.match(rest); m != nil {
			return m
		}
	}
	if n.param != nil && seg != "" {
		return n.param.match(rest)
	}
	return nil
}

// Route returns the endpoint that serves method on path, or nil.
func (t *Table) Route(method, path string) *Route {
	if t == nil {
		return nil
	}
	p := strings.TrimPrefix(path, "/")
	if n := t.root.match(p); n != nil {
		return n.methods[method]
	}
	return nil
}

// Lookup returns the policy that applies to r and the endpoint it was
// resolved to (nil for paths and methods no endpoint serves, which keep
// the service-level policy, as in KrakenD CE). A nil policy means CORS
// does not apply. A preflight is resolved with the method it asks for.
func (t *Table) Lookup(r *http.Request, preflight bool) (*policy.Policy, *Route) {
	if t == nil {
		return nil, nil
	}
	method := r.Method
	if preflight {
		method = r.Header["Access-Control-Request-Method"][0]
	}
	if rt := t.Route(method, r.URL.Path); rt != nil {
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
