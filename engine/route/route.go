// Package route is the gateway's route set as the CORS layer sees it: the
// endpoints, each with its method and path, and a matcher that finds the
// endpoint serving a request the way lura's gin router does.
//
// The route set is built once from the gateway's configuration and never
// changes while the gateway runs; the CORS policies, which can change, are
// compiled against it (package core).
package route

import (
	"slices"
	"strings"
)

// Route is one endpoint of the gateway.
type Route struct {
	// Method is the endpoint's HTTP method, upper case.
	Method string
	// Path is the route as lura registers it, with :param segments.
	Path string
	// Index is the endpoint's position in the configuration's endpoints.
	Index int
	// Backends lists the hosts of the endpoint's backends.
	Backends []string
	// NoOp reports whether the endpoint uses the no-op output encoding,
	// the only one through which backend headers reach the client.
	NoOp bool

	pos    int      // position in Index.routes
	served []string // methods served on the same path shape
}

// Template is the path as written in the configuration, with {param}
// segments: /users/{id}.
func (r *Route) Template() string { return Template(r.Path) }

// Key names the endpoint in policy documents and messages: the method and
// the template, "GET /users/{id}".
func (r *Route) Key() string { return r.Method + " " + r.Template() }

// Pos is the route's position in Index.Routes.
func (r *Route) Pos() int { return r.pos }

// Served lists the methods the gateway serves on the route's path (for
// /users/:id and /users/:uid alike, which gin serves as one path).
func (r *Route) Served() []string { return r.served }

// Index is an immutable set of routes with a matcher.
type Index struct {
	routes      []*Route
	root        *node
	methods     []string // every method some route serves, sorted
	autoOptions bool
}

// node is one path segment of the route tree. Static children win over
// the :param child, as in gin.
type node struct {
	static  map[string]*node
	param   *node
	methods map[string]*Route
}

// New builds the index of routes, in configuration order. autoOptions is
// the router's auto_options setting, which decides what happens to an
// OPTIONS request CORS does not answer. When two routes have the same
// method and path (which gin refuses to register), the first one counts.
func New(routes []Route, autoOptions bool) *Index {
	ix := &Index{root: &node{}, autoOptions: autoOptions}
	served := map[string][]string{}
	for _, r := range routes {
		shape := pathShape(r.Path)
		if !slices.Contains(served[shape], r.Method) {
			served[shape] = append(served[shape], r.Method)
		}
		if !slices.Contains(ix.methods, r.Method) {
			ix.methods = append(ix.methods, r.Method)
		}
	}
	slices.Sort(ix.methods)
	for i := range routes {
		r := routes[i]
		r.pos = len(ix.routes)
		r.served = served[pathShape(r.Path)]
		ix.routes = append(ix.routes, &r)
		ix.insert(&r)
	}
	return ix
}

// Routes lists the routes in configuration order.
func (ix *Index) Routes() []*Route {
	if ix == nil {
		return nil
	}
	return ix.routes
}

// AutoOptions reports the router's auto_options setting.
func (ix *Index) AutoOptions() bool { return ix != nil && ix.autoOptions }

// Lookup returns the route with the given key ("GET /users/{id}"), or nil.
func (ix *Index) Lookup(key string) *Route {
	for _, r := range ix.Routes() {
		if r.Key() == key {
			return r
		}
	}
	return nil
}

// Match returns the route that serves method on a request path, or nil.
// It prefers static segments and backtracks to :param ones when the
// static branch has no such route, as gin does, and does not allocate.
func (ix *Index) Match(method, path string) *Route {
	if ix == nil || !strings.HasPrefix(path, "/") {
		return nil
	}
	return ix.root.match(path[1:], method)
}

// MethodsOn lists the methods some route serves on a request path, in
// alphabetical order.
func (ix *Index) MethodsOn(path string) []string {
	if ix == nil {
		return nil
	}
	var out []string
	for _, m := range ix.methods {
		if ix.Match(m, path) != nil {
			out = append(out, m)
		}
	}
	return out
}

func (ix *Index) insert(r *Route) {
	n := ix.root
	rest, more := strings.TrimPrefix(r.Path, "/"), true
	for more {
		var seg string
		seg, rest, more = strings.Cut(rest, "/")
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
	if _, dup := n.methods[r.Method]; !dup {
		n.methods[r.Method] = r
	}
}

// match walks a request path (without its leading slash); a trailing
// slash is an empty last segment.
func (n *node) match(path, method string) *Route {
	seg, rest, more := strings.Cut(path, "/")
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

// Template turns a lura route (/users/:id) back into the path as written
// in the configuration (/users/{id}).
func Template(route string) string {
	if !strings.Contains(route, ":") {
		return route
	}
	segs := strings.Split(route, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}

// FromTemplate turns a path as the configuration writes it (/users/{id})
// into the route lura registers (/users/:id), as lura's parser does; the
// inverse of Template.
func FromTemplate(path string) string {
	if !strings.Contains(path, "{") {
		return path
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segs[i] = ":" + s[1:len(s)-1]
		}
	}
	return strings.Join(segs, "/")
}
