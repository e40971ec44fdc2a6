package route_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/corsgate/corsgate/engine/route"
)

// routes builds route.Route values from "METHOD /lura/:path" pairs, with
// Index set to the position in the list, as plugin.Read does.
func routes(mp ...string) []route.Route {
	var rs []route.Route
	for i := 0; i+1 < len(mp); i += 2 {
		rs = append(rs, route.Route{Method: mp[i], Path: mp[i+1], Index: i / 2})
	}
	return rs
}

// key names a matched route for messages, "<nil>" for none.
func key(r *route.Route) string {
	if r == nil {
		return "<nil>"
	}
	return r.Key()
}

// TestIndexMatch proves that Match finds the route gin would serve:
// static segments win over :param ones, the matcher backtracks to a
// :param branch when the static branch has no such route, and empty
// segments, trailing slashes, other methods and relative paths match
// nothing.
func TestIndexMatch(t *testing.T) {
	ix := route.New(routes(
		"GET", "/users/:id",
		"GET", "/users/me",
		"PUT", "/users/:id",
		"GET", "/users",
		"GET", "/a/:x/c",
		"GET", "/a/b/d",
		"GET", "/users/:id/orders/:oid",
		"GET", "/",
	), false)
	tests := []struct {
		method, path string
		want         string // the route's key, or <nil>
	}{
		{method: "GET", path: "/users/me", want: "GET /users/me"},
		{method: "GET", path: "/users/7", want: "GET /users/{id}"},
		{method: "PUT", path: "/users/7", want: "PUT /users/{id}"},
		{method: "GET", path: "/users", want: "GET /users"},
		{method: "GET", path: "/users/7/orders/9", want: "GET /users/{id}/orders/{oid}"},
		{method: "GET", path: "/users/me/orders/9", want: "GET /users/{id}/orders/{oid}"}, // backtracks from the static "me"
		{method: "GET", path: "/a/b/d", want: "GET /a/b/d"},
		{method: "GET", path: "/a/b/c", want: "GET /a/{x}/c"}, // backtracks from the static "b"
		{method: "GET", path: "/a/z/c", want: "GET /a/{x}/c"},
		{method: "GET", path: "/a/z/d", want: "<nil>"},
		{method: "GET", path: "/a/b", want: "<nil>"},
		{method: "GET", path: "/nowhere", want: "<nil>"},
		{method: "GET", path: "/users/7/orders", want: "<nil>"},
		{method: "GET", path: "/users//orders/9", want: "<nil>"},
		{method: "DELETE", path: "/users/7", want: "<nil>"},
		{method: "GET", path: "", want: "<nil>"},
		{method: "GET", path: "users/7", want: "<nil>"},
		{method: "GET", path: "/users/7/", want: "<nil>"},
		{method: "GET", path: "/users/", want: "<nil>"},
		{method: "PUT", path: "/users/me", want: "PUT /users/{id}"}, // no PUT on the static "me": the :id route serves it
		{method: "GET", path: "/", want: "GET /"},
		{method: "get", path: "/users/7", want: "<nil>"}, // methods are case-sensitive, as in gin
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			if got := key(ix.Match(tc.method, tc.path)); got != tc.want {
				t.Errorf("Match(%s, %q) = %s, want %s", tc.method, tc.path, got, tc.want)
			}
		})
	}
}

// TestIndexNil proves that a nil *Index is an empty route set: it matches
// nothing, serves no method, has auto_options off and finds no key.
func TestIndexNil(t *testing.T) {
	var ix *route.Index
	tests := []struct {
		name string
		call func() any
		want string
	}{
		{name: "Match", call: func() any { return ix.Match("GET", "/x") }, want: "(*route.Route)(nil)"},
		{name: "MethodsOn", call: func() any { return ix.MethodsOn("/x") }, want: "[]string(nil)"},
		{name: "AutoOptions", call: func() any { return ix.AutoOptions() }, want: "false"},
		{name: "Lookup", call: func() any { return ix.Lookup("GET /x") }, want: "(*route.Route)(nil)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s on a nil *Index panics: %v", tc.name, p)
				}
			}()
			if got := fmt.Sprintf("%#v", tc.call()); got != tc.want {
				t.Errorf("%s on a nil *Index = %s, want %s", tc.name, got, tc.want)
			}
		})
	}
}

// TestIndexRoutesAndLookup proves that Routes keeps the configuration
// order with each route's Index, Pos, Key and Template, that Lookup finds
// a route by its key (and only by its exact key), and that Match resolves
// the requests a CORS layer asks about (an actual request, the method of
// a preflight) to the route of the right method.
func TestIndexRoutesAndLookup(t *testing.T) {
	ix := route.New([]route.Route{
		{Method: "GET", Path: "/users/:id", Index: 0, Backends: []string{"http://a:8080"}},
		{Method: "PUT", Path: "/users/:id", Index: 1, NoOp: true},
		{Method: "GET", Path: "/exempt", Index: 2},
		{Method: "GET", Path: "/plain", Index: 3},
	}, true)
	if !ix.AutoOptions() {
		t.Error("AutoOptions() = false, want the true New was given")
	}
	want := []struct{ key, template string }{
		{"GET /users/{id}", "/users/{id}"},
		{"PUT /users/{id}", "/users/{id}"},
		{"GET /exempt", "/exempt"},
		{"GET /plain", "/plain"},
	}
	rs := ix.Routes()
	if len(rs) != len(want) {
		t.Fatalf("Routes() = %d routes, want %d", len(rs), len(want))
	}
	for i, w := range want {
		r := rs[i]
		if r.Key() != w.key || r.Template() != w.template || r.Index != i || r.Pos() != i {
			t.Errorf("Routes()[%d]: Key %q, Template %q, Index %d, Pos %d; want %q, %q, %d, %d", i, r.Key(), r.Template(), r.Index, r.Pos(), w.key, w.template, i, i)
		}
		if got := ix.Lookup(w.key); got != r {
			t.Errorf("Lookup(%q) = %s, want Routes()[%d]", w.key, key(got), i)
		}
	}
	if !slices.Equal(rs[0].Backends, []string{"http://a:8080"}) || rs[0].NoOp || !rs[1].NoOp {
		t.Errorf("Backends %q, NoOp %v/%v: the fields given to New are lost", rs[0].Backends, rs[0].NoOp, rs[1].NoOp)
	}
	for _, k := range []string{"GET /users/:id", "get /users/{id}", "DELETE /users/{id}", "GET /users/7", ""} {
		if got := ix.Lookup(k); got != nil {
			t.Errorf("Lookup(%q) = %s, want nil (not a key)", k, key(got))
		}
	}

	tests := []struct {
		name         string
		method, path string // for a preflight, the method it asks for
		want         string
	}{
		{"an actual GET finds the GET endpoint", "GET", "/users/7", "GET /users/{id}"},
		{"a preflight for PUT finds the PUT endpoint", "PUT", "/users/7", "PUT /users/{id}"},
		{"a method not served finds none", "DELETE", "/users/7", "<nil>"},
		{"a bare OPTIONS finds none (no OPTIONS endpoint)", "OPTIONS", "/users/7", "<nil>"},
		{"a path no endpoint serves finds none", "GET", "/nowhere", "<nil>"},
		{"an exempt endpoint is still a route", "GET", "/exempt", "GET /exempt"},
		{"an endpoint without a block is a route", "GET", "/plain", "GET /plain"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := key(ix.Match(tc.method, tc.path)); got != tc.want {
				t.Errorf("Match(%s, %s) = %s, want %s", tc.method, tc.path, got, tc.want)
			}
		})
	}
}

// TestIndexServed proves that Served lists the methods served on a
// route's path shape, in configuration order, whatever the parameters
// are named (gin serves /users/:id and /users/:uid as one path), and not
// the methods of other paths.
func TestIndexServed(t *testing.T) {
	ix := route.New(routes(
		"GET", "/users/:id",
		"PUT", "/users/:uid",
		"DELETE", "/other/:id",
		"GET", "/users/:id/orders",
		"PATCH", "/users/:x",
	), false)
	want := map[string][]string{
		"GET /users/{id}":        {"GET", "PUT", "PATCH"},
		"PUT /users/{uid}":       {"GET", "PUT", "PATCH"},
		"PATCH /users/{x}":       {"GET", "PUT", "PATCH"},
		"DELETE /other/{id}":     {"DELETE"},
		"GET /users/{id}/orders": {"GET"},
	}
	for _, r := range ix.Routes() {
		if got := r.Served(); !slices.Equal(got, want[r.Key()]) {
			t.Errorf("%s: Served() = %q, want %q", r.Key(), got, want[r.Key()])
		}
	}
	if got := key(ix.Match("PUT", "/users/7")); got != "PUT /users/{uid}" {
		t.Errorf("Match(PUT, /users/7) = %s, want PUT /users/{uid}", got)
	}
}

// TestIndexMethodsOn proves that MethodsOn lists, in alphabetical order,
// every method some route serves on a request path, taken from the routes
// themselves: methods such as PROPFIND, HEAD or OPTIONS count as much as
// GET or POST, and no method is listed that no route serves there.
func TestIndexMethodsOn(t *testing.T) {
	ix := route.New(routes(
		"GET", "/dav/:file",
		"PROPFIND", "/dav/:file",
		"HEAD", "/dav/:file",
		"MKCOL", "/dav/new",
		"OPTIONS", "/dav/:file",
		"POST", "/orders",
		"PURGE", "/cache/:key",
	), false)
	tests := []struct {
		path string
		want []string
	}{
		{"/dav/a.txt", []string{"GET", "HEAD", "OPTIONS", "PROPFIND"}},
		{"/dav/new", []string{"GET", "HEAD", "MKCOL", "OPTIONS", "PROPFIND"}}, // the static route and, by backtracking, the :file ones
		{"/orders", []string{"POST"}},
		{"/cache/k1", []string{"PURGE"}},
		{"/nowhere", nil},
		{"/dav/a.txt/more", nil},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			if got := ix.MethodsOn(tc.path); !slices.Equal(got, tc.want) {
				t.Errorf("MethodsOn(%s) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
}

// TestIndexDuplicateKeepsFirst proves that when two routes have the same
// method and path (which gin refuses to register), or the same method on
// the same path shape, Match and Lookup give the first one, while Routes
// still lists both.
func TestIndexDuplicateKeepsFirst(t *testing.T) {
	tests := []struct {
		name          string
		routes        []route.Route
		method, path  string
		lookup        string
		wantIndex     int
		wantLookupIdx int
	}{
		{
			name:   "same method and path",
			routes: routes("GET", "/a", "GET", "/a"),
			method: "GET", path: "/a", lookup: "GET /a", wantIndex: 0, wantLookupIdx: 0,
		},
		{
			name:   "same method and path after another route",
			routes: routes("POST", "/a", "GET", "/a/:id", "GET", "/a/:id"),
			method: "GET", path: "/a/7", lookup: "GET /a/{id}", wantIndex: 1, wantLookupIdx: 1,
		},
		{
			name:   "same method, parameters named differently",
			routes: routes("GET", "/users/:id", "GET", "/users/:uid"),
			method: "GET", path: "/users/7", lookup: "GET /users/{uid}", wantIndex: 0, wantLookupIdx: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ix := route.New(tc.routes, false)
			if n := len(ix.Routes()); n != len(tc.routes) {
				t.Errorf("Routes() = %d routes, want %d", n, len(tc.routes))
			}
			r := ix.Match(tc.method, tc.path)
			if r == nil || r.Index != tc.wantIndex {
				t.Errorf("Match(%s, %s) = %+v, want the route with Index %d", tc.method, tc.path, r, tc.wantIndex)
			}
			if l := ix.Lookup(tc.lookup); l == nil || l.Index != tc.wantLookupIdx {
				t.Errorf("Lookup(%q) = %+v, want the route with Index %d", tc.lookup, l, tc.wantLookupIdx)
			}
		})
	}
}

// TestIndexMatchDoesNotAllocate proves that Match allocates nothing, for
// a hit on a static path and on a :param path, for a hit found by
// backtracking, and for a miss: it runs on every CORS request.
func TestIndexMatchDoesNotAllocate(t *testing.T) {
	ix := route.New(routes(
		"GET", "/users/:id",
		"GET", "/users/me",
		"GET", "/users/:id/orders/:oid",
		"GET", "/health",
	), false)
	tests := []struct {
		name, method, path string
		hit                bool
	}{
		{"static", "GET", "/health", true},
		{"param", "GET", "/users/7", true},
		{"backtracking", "GET", "/users/me/orders/9", true},
		{"miss", "GET", "/users/7/nowhere", false},
		{"miss by method", "DELETE", "/users/7", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ix.Match(tc.method, tc.path) != nil; got != tc.hit {
				t.Fatalf("Match(%s, %s) found a route: %v, want %v", tc.method, tc.path, got, tc.hit)
			}
			if n := testing.AllocsPerRun(100, func() { ix.Match(tc.method, tc.path) }); n != 0 {
				t.Errorf("Match(%s, %s) allocates %v times per call, want 0", tc.method, tc.path, n)
			}
		})
	}
}

// TestTemplate proves that Template turns lura's :param segments back
// into {param} and leaves everything else as it is.
func TestTemplate(t *testing.T) {
	tests := map[string]string{
		"/users/:id/orders/:oid": "/users/{id}/orders/{oid}",
		"/users/:id":             "/users/{id}",
		"/users":                 "/users",
		"/":                      "/",
		"/a/:x/c":                "/a/{x}/c",
		"/time/10:30":            "/time/10:30", // a colon inside a segment is not a parameter
	}
	for in, want := range tests {
		if got := route.Template(in); got != want {
			t.Errorf("Template(%q) = %q, want %q", in, got, want)
		}
		r := route.Route{Method: "GET", Path: in}
		if got := r.Template(); got != want {
			t.Errorf("Route{Path: %q}.Template() = %q, want %q", in, got, want)
		}
		if got := r.Key(); got != "GET "+want {
			t.Errorf("Route{Path: %q}.Key() = %q, want %q", in, got, "GET "+want)
		}
	}
}

func TestFromTemplate(t *testing.T) {
	for in, want := range map[string]string{"/users/{id}": "/users/:id", "/a/{x}/b/{y}": "/a/:x/b/:y", "/plain": "/plain", "/odd{x}": "/odd{x}"} {
		if got := route.FromTemplate(in); got != want || route.Template(got) != in {
			t.Errorf("FromTemplate(%q) = %q, want %q", in, got, want)
		}
	}
}
