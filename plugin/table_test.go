package plugin_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	luraconfig "github.com/luraproject/lura/v2/config"

	"github.com/corsgate/corsgate/plugin"
	"github.com/corsgate/corsgate/plugin/policy"
	"github.com/corsgate/corsgate/schema"
)

// scEndpoint is one lura endpoint with one backend; block, when not nil,
// is its own security/cors block.
func scEndpoint(method, path string, block map[string]any) *luraconfig.EndpointConfig {
	e := &luraconfig.EndpointConfig{
		Endpoint: path,
		Method:   method,
		Backend:  []*luraconfig.Backend{{URLPattern: "/x", Host: []string{"http://127.0.0.1:9000"}}},
	}
	if block != nil {
		e.ExtraConfig = luraconfig.ExtraConfig{plugin.Namespace: block}
	}
	return e
}

// scConfig is an initialised lura configuration, as the router gets it;
// service, when not nil, is the service-level security/cors block.
func scConfig(t testing.TB, service map[string]any, endpoints ...*luraconfig.EndpointConfig) luraconfig.ServiceConfig {
	t.Helper()
	cfg := luraconfig.ServiceConfig{Version: 3, Endpoints: endpoints}
	if service != nil {
		cfg.ExtraConfig = luraconfig.ExtraConfig{plugin.Namespace: service}
	}
	if err := cfg.Init(); err != nil {
		t.Fatalf("lura Init: %v", err)
	}
	return cfg
}

func scBuild(t testing.TB, service map[string]any, endpoints ...*luraconfig.EndpointConfig) *plugin.Table {
	t.Helper()
	tb, err := plugin.Build(scConfig(t, service, endpoints...))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return tb
}

// scBuildErrors builds a configuration that must be refused and returns
// its errors.
func scBuildErrors(t testing.TB, service map[string]any, endpoints ...*luraconfig.EndpointConfig) schema.Errors {
	t.Helper()
	tb, err := plugin.Build(scConfig(t, service, endpoints...))
	if tb != nil {
		t.Errorf("Build returned a table together with an error")
	}
	var errs schema.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Build error = %T %v, want schema.Errors", err, err)
	}
	return errs
}

// scRequest builds a request; kv are header names and values.
func scRequest(method, target string, kv ...string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i < len(kv); i += 2 {
		r.Header.Add(kv[i], kv[i+1])
	}
	return r
}

func routeName(r *plugin.Route) string {
	if r == nil {
		return "<nil>"
	}
	return r.Endpoint.Name()
}

func TestTableRoute(t *testing.T) {
	tb := scBuild(t, map[string]any{},
		scEndpoint("GET", "/users/{id}", nil),
		scEndpoint("GET", "/users/me", map[string]any{"allow_origins": []any{"https://me.example.com"}}),
		scEndpoint("PUT", "/users/{id}", nil),
		scEndpoint("GET", "/users", nil),
		scEndpoint("GET", "/a/{x}/c", nil),
		scEndpoint("GET", "/a/b/d", nil),
		scEndpoint("GET", "/users/{id}/orders/{oid}", nil),
		scEndpoint("GET", "/", nil),
	)
	tests := []struct {
		method, path string
		want         string // the endpoint's name, or <nil>
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
		{method: "GET", path: "/users/7/", want: "<nil>"},
		{method: "GET", path: "/users/", want: "<nil>"},
		{method: "PUT", path: "/users/me", want: "PUT /users/{id}"},
		{method: "GET", path: "/", want: "GET /"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			got := routeName(tb.Route(tc.method, tc.path))
			if got != tc.want {
				t.Errorf("Route(%s, %s) = %s, want %s", tc.method, tc.path, got, tc.want)
			}
		})
	}
}

func TestTableNil(t *testing.T) {
	var tb *plugin.Table
	if r := tb.Route("GET", "/x"); r != nil {
		t.Errorf("nil table Route = %v", r)
	}
	if p, r := tb.Lookup(scRequest("GET", "/x"), false); p != nil || r != nil {
		t.Errorf("nil table Lookup = %v, %v", p, r)
	}
	if tb.Enabled() {
		t.Error("nil table is Enabled")
	}
}

func TestTableLookup(t *testing.T) {
	tb := scBuild(t, map[string]any{"allow_origins": []any{"https://app.example.com"}, "allow_methods": []any{"GET", "PUT", "POST"}},
		scEndpoint("GET", "/users/{id}", map[string]any{"allow_origins": []any{"https://admin.example.com"}}),
		scEndpoint("PUT", "/users/{id}", nil),
		scEndpoint("GET", "/exempt", map[string]any{"disable": true}),
		scEndpoint("GET", "/plain", nil),
	)
	svc := tb.Service()
	if svc == nil {
		t.Fatal("no service policy")
	}
	routes := tb.Routes()
	if len(routes) != 4 {
		t.Fatalf("Routes() = %d, want 4", len(routes))
	}
	for i, want := range []string{"GET /users/{id}", "PUT /users/{id}", "GET /exempt", "GET /plain"} {
		if got := routes[i].Endpoint.Name(); got != want {
			t.Errorf("Routes()[%d] = %s, want %s", i, got, want)
		}
	}
	own := routes[0].Policy
	if own == nil || own == svc || !routes[0].Own {
		t.Fatalf("GET /users/{id}: Policy %p (service %p), Own %v; want its own policy", own, svc, routes[0].Own)
	}

	tests := []struct {
		name      string
		r         *http.Request
		preflight bool
		policy    *policy.Policy
		route     string
	}{
		{"actual GET takes the endpoint policy", scRequest("GET", "/users/7", "Origin", "https://admin.example.com"), false, own, "GET /users/{id}"},
		{"preflight for GET takes the GET endpoint's policy", scRequest("OPTIONS", "/users/7", "Origin", "https://admin.example.com", "Access-Control-Request-Method", "GET"), true, own, "GET /users/{id}"},
		{"preflight for PUT takes the PUT endpoint's policy", scRequest("OPTIONS", "/users/7", "Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT"), true, svc, "PUT /users/{id}"},
		{"preflight for a method not served keeps the service policy", scRequest("OPTIONS", "/users/7", "Origin", "https://app.example.com", "Access-Control-Request-Method", "DELETE"), true, svc, "<nil>"},
		{"actual method not served keeps the service policy", scRequest("DELETE", "/users/7", "Origin", "https://app.example.com"), false, svc, "<nil>"},
		{"bare OPTIONS is resolved as OPTIONS", scRequest("OPTIONS", "/users/7"), false, svc, "<nil>"},
		{"path no endpoint serves keeps the service policy", scRequest("GET", "/nowhere", "Origin", "https://app.example.com"), false, svc, "<nil>"},
		{"exempt endpoint has no policy", scRequest("GET", "/exempt", "Origin", "https://app.example.com"), false, nil, "GET /exempt"},
		{"preflight to an exempt endpoint has no policy", scRequest("OPTIONS", "/exempt", "Origin", "https://app.example.com", "Access-Control-Request-Method", "GET"), true, nil, "GET /exempt"},
		{"endpoint without a block shares the service policy", scRequest("GET", "/plain", "Origin", "https://app.example.com"), false, svc, "GET /plain"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := policy.IsPreflight(tc.r); got != tc.preflight {
				t.Fatalf("IsPreflight = %v, want %v", got, tc.preflight)
			}
			p, r := tb.Lookup(tc.r, tc.preflight)
			if p != tc.policy {
				t.Errorf("policy = %p, want %p (service %p, own %p)", p, tc.policy, svc, own)
			}
			if got := routeName(r); got != tc.route {
				t.Errorf("route = %s, want %s", got, tc.route)
			}
		})
	}

	exempt, plain := tb.Route("GET", "/exempt"), tb.Route("GET", "/plain")
	if exempt.Policy != nil || !exempt.Own {
		t.Errorf("exempt route: Policy %v, Own %v; want nil, true", exempt.Policy, exempt.Own)
	}
	if plain.Policy != svc || plain.Own {
		t.Errorf("plain route: Policy %p (service %p), Own %v; want the service pointer, false", plain.Policy, svc, plain.Own)
	}
	if !tb.Enabled() || tb.Gateway() == nil || len(tb.Gateway().Endpoints) != 4 {
		t.Errorf("Enabled %v, Gateway %+v", tb.Enabled(), tb.Gateway())
	}
}

func TestBuildServedMethods(t *testing.T) {
	tb := scBuild(t, map[string]any{"allow_origins": []any{"https://app.example.com"}},
		scEndpoint("GET", "/users/{id}", map[string]any{"max_age": "1h"}),
		scEndpoint("PUT", "/users/{id}", map[string]any{"debug": false}),
		scEndpoint("DELETE", "/other/{id}", nil),
	)
	get, put := tb.Route("GET", "/users/7"), tb.Route("PUT", "/users/7")
	for _, r := range []*plugin.Route{get, put} {
		if !slices.Equal(r.Served, []string{"GET", "PUT"}) {
			t.Errorf("%s: Served = %q, want [GET PUT]", r.Endpoint.Name(), r.Served)
		}
		if got := r.Policy.Source().AllowMethods; !slices.Equal(got, []string{"GET", "PUT"}) {
			t.Errorf("%s: allow_methods = %q, want the methods served on the path", r.Endpoint.Name(), got)
		}
	}
	if got := tb.Route("DELETE", "/other/7").Served; !slices.Equal(got, []string{"DELETE"}) {
		t.Errorf("DELETE /other/{id}: Served = %q", got)
	}

	preflight := func(method string) *http.Request {
		return scRequest("OPTIONS", "/users/7", "Origin", "https://app.example.com", "Access-Control-Request-Method", method)
	}
	// Through the table: PUT resolves to the PUT endpoint, whose policy
	// allows the methods served on the path.
	p, r := tb.Lookup(preflight("PUT"), true)
	if routeName(r) != "PUT /users/{id}" || !p.Preflight(preflight("PUT").Header).Allowed() {
		t.Errorf("preflight for PUT: route %s, decision %+v; want allowed", routeName(r), p.Preflight(preflight("PUT").Header))
	}
	p, r = tb.Lookup(preflight("DELETE"), true)
	if d := p.Preflight(preflight("DELETE").Header); r != nil || d.Reason != policy.MethodDenied {
		t.Errorf("preflight for DELETE: route %s, decision %+v; want refused for its method", routeName(r), d)
	}
	// The GET endpoint's own policy allows PUT (served on its path) and
	// refuses DELETE (served elsewhere only).
	if d := get.Policy.Preflight(preflight("PUT").Header); !d.Allowed() {
		t.Errorf("GET endpoint policy refuses a PUT preflight: %+v", d)
	}
	if d := get.Policy.Preflight(preflight("DELETE").Header); d.Reason != policy.MethodDenied || d.Detail != "DELETE" {
		t.Errorf("GET endpoint policy on a DELETE preflight: %+v, want MethodDenied", d)
	}
	// The service policy keeps its defaults: PUT is not among them.
	if d := tb.Service().Preflight(preflight("PUT").Header); d.Reason != policy.MethodDenied {
		t.Errorf("service policy on a PUT preflight: %+v, want MethodDenied (defaults GET, HEAD, POST)", d)
	}
}

func TestBuildInheritedMethodsLackTheEndpointMethod(t *testing.T) {
	errs := scBuildErrors(t, map[string]any{"allow_methods": []any{"GET", "POST"}},
		scEndpoint("GET", "/a", nil),
		scEndpoint("DELETE", "/items/{id}", map[string]any{"allow_origins": []any{"https://admin.example.com"}}),
		scEndpoint("PATCH", "/items/{id}", nil), // no block: keeps the service policy as it is
	)
	if len(errs) != 1 {
		t.Fatalf("errors = %d, want 1:\n%v", len(errs), errs)
	}
	e := errs[0]
	if e.Path != `endpoints[1].extra_config["security/cors"].allow_methods` || e.Endpoint != "DELETE /items/{id}" {
		t.Errorf("Path %s, Endpoint %q", e.Path, e.Endpoint)
	}
	for _, want := range []string{
		`the endpoint's own method DELETE is not in allow_methods ["GET", "POST"]`,
		`inherited from extra_config["security/cors"]`,
		`set "allow_methods" in the endpoint block, for example ["DELETE", "PATCH"]`,
	} {
		if !strings.Contains(e.Message, want) {
			t.Errorf("message %q lacks %q", e.Message, want)
		}
	}
	if !strings.Contains(e.Error(), `allow_methods (endpoint "DELETE /items/{id}"): `) {
		t.Errorf("Error() = %q does not name the endpoint", e.Error())
	}

	// Setting allow_methods in the endpoint block fixes it.
	scBuild(t, map[string]any{"allow_methods": []any{"GET", "POST"}},
		scEndpoint("DELETE", "/items/{id}", map[string]any{"allow_origins": []any{"https://admin.example.com"}, "allow_methods": []any{"DELETE"}}))
}

func TestBuildEndpointPolicyWithoutService(t *testing.T) {
	tb := scBuild(t, nil,
		scEndpoint("GET", "/admin", map[string]any{"allow_origins": []any{"https://admin.example.com"}}),
		scEndpoint("GET", "/public", nil),
	)
	if tb.Service() != nil {
		t.Errorf("Service() = %p, want nil", tb.Service())
	}
	if !tb.Enabled() {
		t.Error("a table with an endpoint policy is not Enabled")
	}
	admin := tb.Route("GET", "/admin")
	if admin == nil || admin.Policy == nil {
		t.Fatalf("GET /admin has no policy: %+v", admin)
	}
	if d := admin.Policy.Actual("GET", scRequest("GET", "/admin", "Origin", "https://admin.example.com").Header); !d.Allowed() {
		t.Errorf("GET /admin refuses its own origin: %+v", d)
	}
	if r := tb.Route("GET", "/public"); r == nil || r.Policy != nil {
		t.Errorf("GET /public: %+v, want a route without a policy", r)
	}
	if p, r := tb.Lookup(scRequest("GET", "/nowhere", "Origin", "https://admin.example.com"), false); p != nil || r != nil {
		t.Errorf("Lookup(/nowhere) = %p, %v; want no policy", p, r)
	}

	// Exempt endpoints alone do not turn CORS on.
	off := scBuild(t, nil, scEndpoint("GET", "/x", map[string]any{"disable": true}), scEndpoint("GET", "/y", nil))
	if off.Enabled() {
		t.Error("a table whose only endpoint block is disable: true is Enabled")
	}
}

func TestBuildMergedConflicts(t *testing.T) {
	const inherited = `(the key is inherited from the service-level block, extra_config["security/cors"])`
	tests := []struct {
		name      string
		service   map[string]any
		block     map[string]any
		path      string // below endpoints[1].extra_config["security/cors"]
		text      string
		inherited bool
	}{
		{
			name:    "service star, endpoint credentials",
			service: map[string]any{"allow_origins": []any{"*"}},
			block:   map[string]any{"allow_credentials": true},
			path:    ".allow_origins", text: `"*" cannot be combined with allow_credentials: true`, inherited: true,
		},
		{
			name:    "service subdomain pattern, endpoint credentials",
			service: map[string]any{"allow_origins": []any{"https://*.example.com"}},
			block:   map[string]any{"allow_credentials": true},
			path:    ".allow_origins", text: `"https://*.example.com" cannot be combined with allow_credentials: true`, inherited: true,
		},
		{
			name:    "service null, endpoint credentials",
			service: map[string]any{"allow_origins": []any{"https://app.example.com", "null"}},
			block:   map[string]any{"allow_credentials": true},
			path:    ".allow_origins", text: `Remove "null"`, inherited: true,
		},
		{
			name:    "service expose star, endpoint credentials",
			service: map[string]any{"expose_headers": []any{"*"}},
			block:   map[string]any{"allow_credentials": true, "allow_origins": []any{"https://admin.example.com"}},
			path:    ".expose_headers[0]", text: `list the header names instead`, inherited: true,
		},
		{
			name:    "service credentials, endpoint star",
			service: map[string]any{"allow_credentials": true, "allow_origins": []any{"https://app.example.com"}},
			block:   map[string]any{"allow_origins": []any{"*"}},
			path:    ".allow_origins", text: `"*" cannot be combined with allow_credentials: true`, inherited: false,
		},
		{
			name:    "endpoint unsafe without credentials anywhere",
			service: map[string]any{},
			block:   map[string]any{"allow_any_origin_with_credentials_unsafe": true},
			path:    ".allow_any_origin_with_credentials_unsafe", text: `only matters with allow_credentials: true`, inherited: false,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := scBuildErrors(t, tc.service,
				scEndpoint("GET", "/a", nil),
				scEndpoint("GET", "/me", tc.block),
			)
			if len(errs) != 1 {
				t.Fatalf("errors = %d, want 1:\n%v", len(errs), errs)
			}
			e := errs[0]
			if want := `endpoints[1].extra_config["security/cors"]` + tc.path; e.Path != want {
				t.Errorf("Path = %s, want %s", e.Path, want)
			}
			if e.Endpoint != "GET /me" || !strings.Contains(e.Error(), `(endpoint "GET /me")`) {
				t.Errorf("Endpoint = %q, Error() = %q; want it named", e.Endpoint, e.Error())
			}
			if !strings.Contains(e.Message, tc.text) {
				t.Errorf("Message = %q, want it to contain %q", e.Message, tc.text)
			}
			if got := strings.Contains(e.Message, inherited); got != tc.inherited {
				t.Errorf("message says the key is inherited: %v, want %v: %q", got, tc.inherited, e.Message)
			}
		})
	}

	// Every endpoint's conflict is reported, each with its endpoint.
	errs := scBuildErrors(t, map[string]any{"allow_origins": []any{"*"}},
		scEndpoint("GET", "/one", map[string]any{"allow_credentials": true}),
		scEndpoint("GET", "/two", nil),
		scEndpoint("POST", "/three", map[string]any{"allow_credentials": true}),
	)
	var names []string
	for _, e := range errs {
		names = append(names, e.Endpoint)
	}
	if !slices.Equal(names, []string{"GET /one", "POST /three"}) {
		t.Errorf("errors name %q, want [GET /one, POST /three]:\n%v", names, errs)
	}
}

func TestTableServedIgnoresParameterNames(t *testing.T) {
	tb := scBuild(t, nil,
		scEndpoint("GET", "/users/{id}", map[string]any{}),
		scEndpoint("PUT", "/users/{uid}", map[string]any{}),
	)
	for _, r := range tb.Routes() {
		if got := strings.Join(r.Served, ","); got != "GET,PUT" {
			t.Errorf("%s: Served = %s, want GET,PUT", r.Endpoint.Name(), got)
		}
	}
}

func TestTableMessagesWithoutServiceBlock(t *testing.T) {
	errs := scBuildErrors(t, nil, scEndpoint("GET", "/a", map[string]any{"allow_methods": []any{"POST"}}))
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "set in the endpoint block; add it there") || strings.Contains(errs[0].Message, "inherited") {
		t.Errorf("own allow_methods lacking the endpoint's method: %v", errs)
	}
	errs = scBuildErrors(t, nil, scEndpoint("GET", "/a", map[string]any{"allow_credentials": true}))
	if len(errs) == 0 || strings.Contains(errs.Error(), "inherited") {
		t.Errorf("credentials without origins anywhere: %v", errs)
	}
	// An empty allow_methods means the default, at both levels.
	if _, err := plugin.Build(scConfig(t, nil, scEndpoint("GET", "/a", map[string]any{"allow_methods": []any{}}))); err != nil {
		t.Errorf("allow_methods [] refused: %v", err)
	}
}
