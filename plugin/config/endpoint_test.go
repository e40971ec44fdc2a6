package config_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	luraconfig "github.com/luraproject/lura/v2/config"

	"github.com/corsgate/corsgate/plugin/config"
	"github.com/corsgate/corsgate/schema"
)

// fullService sets every service-level key.
func fullService() *config.CORS {
	return &config.CORS{
		AllowOrigins:                        []string{"https://app.example.com"},
		AllowOriginsRegex:                   []string{"^https://pr-[0-9]+[.]example[.]com$"},
		AllowMethods:                        []string{"GET", "POST"},
		AllowHeaders:                        []string{"Content-Type"},
		ExposeHeaders:                       []string{"X-Request-Id"},
		MaxAge:                              ptr("1h"),
		AllowCredentials:                    ptr(true),
		AllowAnyOriginWithCredentialsUnsafe: ptr(false),
		AllowPrivateNetwork:                 ptr(true),
		OptionsPassthrough:                  ptr(true),
		OptionsSuccessStatus:                ptr(200),
		TerminateUnmatchedRequest:           ptr(true),
		UnmatchedStatus:                     ptr(401),
		Debug:                               ptr(true),
	}
}

func TestMergeOverridesKeyByKey(t *testing.T) {
	service := fullService()
	before := dump(service)
	endpoint := &config.CORS{
		AllowOrigins:    []string{"https://admin.example.com"},
		MaxAge:          ptr("0s"),
		Debug:           ptr(false), // an explicit false overrides true
		UnmatchedStatus: ptr(403),
		ExposeHeaders:   []string{}, // an explicit empty list overrides too
	}
	got := config.Merge(service, endpoint)
	want := *fullService()
	want.AllowOrigins = []string{"https://admin.example.com"}
	want.MaxAge = ptr("0s")
	want.Debug = ptr(false)
	want.UnmatchedStatus = ptr(403)
	want.ExposeHeaders = []string{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Merge =\n %s\nwant\n %s", dump(&got), dump(&want))
	}
	if got.ExposeHeaders == nil {
		t.Error("an endpoint's empty expose_headers was dropped: the service's list would be inherited")
	}
	if after := dump(service); after != before {
		t.Errorf("Merge changed the service block:\n before %s\n after  %s", before, after)
	}
}

// TestMergeEveryField sets each key on one side only and checks that it
// reaches the merged block (from the endpoint: always; from the service:
// except the endpoint-only keys), so that a key added to CORS but
// forgotten in Merge fails here.
func TestMergeEveryField(t *testing.T) {
	typ := reflect.TypeFor[config.CORS]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Name == "Comment" {
			continue
		}
		key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		var set reflect.Value
		switch f.Type.Kind() {
		case reflect.Slice:
			set = reflect.ValueOf([]string{"x"})
		case reflect.Pointer:
			set = reflect.New(f.Type.Elem())
			switch f.Type.Elem().Kind() {
			case reflect.Bool:
				set.Elem().SetBool(true)
			case reflect.Int:
				set.Elem().SetInt(299)
			case reflect.String:
				set.Elem().SetString("5s")
			}
		default:
			t.Fatalf("unexpected field kind %s of %s", f.Type.Kind(), f.Name)
		}
		endpointOnly := key == "disable" || key == "strip_cors_request_headers"
		t.Run(key, func(t *testing.T) {
			var one config.CORS
			reflect.ValueOf(&one).Elem().Field(i).Set(set)

			fromEndpoint := config.Merge(&config.CORS{}, &one)
			if !reflect.DeepEqual(reflect.ValueOf(fromEndpoint).Field(i).Interface(), set.Interface()) {
				t.Errorf("the endpoint's %s is lost: merged %s", key, dump(&fromEndpoint))
			}
			if keys := fromEndpoint.Keys(); !slices.Equal(keys, []string{key}) {
				t.Errorf("merged Keys() = %q, want [%s]", keys, key)
			}

			fromService := config.Merge(&one, &config.CORS{})
			inherited := !reflect.ValueOf(fromService).Field(i).IsNil()
			if inherited == endpointOnly {
				t.Errorf("%s inherited from the service: %v, want %v", key, inherited, !endpointOnly)
			}
		})
	}
}

func TestMergeNeverInheritsEndpointOnlyKeys(t *testing.T) {
	service := fullService()
	service.Disable, service.StripCORSRequestHeaders = ptr(true), ptr(true)
	for name, endpoint := range map[string]*config.CORS{"nil endpoint": nil, "empty endpoint": {}, "other keys": {Debug: ptr(false)}} {
		m := config.Merge(service, endpoint)
		if m.Disable != nil || m.StripCORSRequestHeaders != nil {
			t.Errorf("%s: merged Disable %v, StripCORSRequestHeaders %v; want both nil", name, m.Disable, m.StripCORSRequestHeaders)
		}
		if m.AllowCredentials == nil || !*m.AllowCredentials {
			t.Errorf("%s: the other service keys were not inherited: %s", name, dump(&m))
		}
	}
	if service.Disable == nil || service.StripCORSRequestHeaders == nil {
		t.Error("Merge cleared the service block's own fields")
	}
	// The endpoint's own values stay, true or false.
	m := config.Merge(service, &config.CORS{StripCORSRequestHeaders: ptr(true), Disable: ptr(false)})
	if m.StripCORSRequestHeaders == nil || !*m.StripCORSRequestHeaders || m.Disable == nil || *m.Disable {
		t.Errorf("the endpoint's own keys: Disable %v, StripCORSRequestHeaders %v", m.Disable, m.StripCORSRequestHeaders)
	}
}

func TestMergeNil(t *testing.T) {
	endpoint := &config.CORS{AllowOrigins: []string{"https://admin.example.com"}, AllowCredentials: ptr(true), StripCORSRequestHeaders: ptr(true)}
	if got := config.Merge(nil, endpoint); !reflect.DeepEqual(got, *endpoint) {
		t.Errorf("Merge(nil, e) = %s, want e = %s", dump(&got), dump(endpoint))
	}
	service := fullService()
	if got := config.Merge(service, nil); !reflect.DeepEqual(got, *fullService()) {
		t.Errorf("Merge(s, nil) = %s, want s = %s", dump(&got), dump(service))
	}
	if got := config.Merge(nil, nil); !reflect.DeepEqual(got, config.CORS{}) {
		t.Errorf("Merge(nil, nil) = %s, want the zero block", dump(&got))
	}
}

func TestKeys(t *testing.T) {
	var none *config.CORS
	if k := none.Keys(); k != nil {
		t.Errorf("(*CORS)(nil).Keys() = %q, want nil", k)
	}
	if k := (&config.CORS{Comment: "only a comment"}).Keys(); len(k) != 0 {
		t.Errorf("Keys() of a block with only @comment = %q, want none", k)
	}
	got := (&config.CORS{
		Debug:            ptr(false),
		AllowOrigins:     []string{},
		UnmatchedStatus:  ptr(401),
		AllowCredentials: ptr(false),
		Disable:          ptr(false),
	}).Keys()
	if want := []string{"allow_origins", "allow_credentials", "unmatched_status", "debug", "disable"}; !slices.Equal(got, want) {
		t.Errorf("Keys() = %q, want %q (false and empty count as set; schema order)", got, want)
	}
	all := fullService()
	all.Disable, all.StripCORSRequestHeaders = ptr(true), ptr(true)
	want := []string{
		"allow_origins", "allow_origins_regex", "allow_methods", "allow_headers", "expose_headers",
		"max_age", "allow_credentials", "allow_any_origin_with_credentials_unsafe", "allow_private_network",
		"options_passthrough", "options_success_status", "terminate_unmatched_request", "unmatched_status",
		"debug", "disable", "strip_cors_request_headers",
	}
	if got := all.Keys(); !slices.Equal(got, want) {
		t.Errorf("Keys() of a full block =\n %q\nwant\n %q", got, want)
	}
}

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
		if got := config.Template(in); got != want {
			t.Errorf("Template(%q) = %q, want %q", in, got, want)
		}
	}
}

// endpoint builds one lura endpoint with one backend.
func endpoint(method, path string, extra luraconfig.ExtraConfig, hosts ...string) *luraconfig.EndpointConfig {
	if len(hosts) == 0 {
		hosts = []string{"http://127.0.0.1:9000"}
	}
	return &luraconfig.EndpointConfig{
		Endpoint:    path,
		Method:      method,
		ExtraConfig: extra,
		Backend:     []*luraconfig.Backend{{URLPattern: "/x", Host: hosts}},
	}
}

// service builds and initialises a lura configuration, as the gateway does
// before the router starts.
func service(t *testing.T, extra luraconfig.ExtraConfig, endpoints ...*luraconfig.EndpointConfig) luraconfig.ServiceConfig {
	t.Helper()
	cfg := luraconfig.ServiceConfig{Version: 3, ExtraConfig: extra, Endpoints: endpoints}
	if err := cfg.Init(); err != nil {
		t.Fatalf("lura Init: %v", err)
	}
	return cfg
}

func cors(block map[string]any) luraconfig.ExtraConfig {
	return luraconfig.ExtraConfig{config.Namespace: block}
}

func TestFromServiceEndpoints(t *testing.T) {
	noop := endpoint("GET", "/users/{id}", cors(map[string]any{"allow_origins": []any{"https://admin.example.com"}, "strip_cors_request_headers": true}),
		"http://127.0.0.1:9001", "http://127.0.0.1:9002")
	noop.OutputEncoding = "no-op"
	orders := endpoint("put", "/users/{id}/orders/{oid}", cors(map[string]any{"disable": true}))
	orders.Backend = append(orders.Backend, &luraconfig.Backend{URLPattern: "/y", Host: []string{"http://127.0.0.1:9003"}})
	legacy := endpoint("POST", "/legacy", luraconfig.ExtraConfig{config.LegacyNamespace: map[string]any{"debug": true}})
	cfg := service(t, cors(map[string]any{"allow_origins": []any{"https://app.example.com"}}),
		endpoint("GET", "/users", nil),
		noop,
		orders,
		legacy,
	)

	g, err := config.FromService(cfg)
	if err != nil {
		t.Fatalf("FromService: %v", err)
	}
	if g.Service == nil || !slices.Equal(g.Service.AllowOrigins, []string{"https://app.example.com"}) || g.ServicePath != newPath {
		t.Errorf("Service = %s at %s", dump(g.Service), g.ServicePath)
	}
	want := []config.Endpoint{
		{Index: 0, Method: "GET", Path: "/users", Template: "/users", Backends: []string{"http://127.0.0.1:9000"}},
		{
			Index: 1, Method: "GET", Path: "/users/:id", Template: "/users/{id}",
			CORS:     &config.CORS{AllowOrigins: []string{"https://admin.example.com"}, StripCORSRequestHeaders: ptr(true)},
			CORSPath: `endpoints[1].extra_config["security/cors"]`,
			Backends: []string{"http://127.0.0.1:9001", "http://127.0.0.1:9002"},
			NoOp:     true,
		},
		{
			Index: 2, Method: "PUT", Path: "/users/:id/orders/:oid", Template: "/users/{id}/orders/{oid}",
			CORS:     &config.CORS{Disable: ptr(true)},
			CORSPath: `endpoints[2].extra_config["security/cors"]`,
			Backends: []string{"http://127.0.0.1:9000", "http://127.0.0.1:9003"},
		},
		{
			Index: 3, Method: "POST", Path: "/legacy", Template: "/legacy",
			CORS:     &config.CORS{Debug: ptr(true)},
			CORSPath: `endpoints[3].extra_config["github_com/devopsfaith/krakend-cors"]`,
			Backends: []string{"http://127.0.0.1:9000"},
		},
	}
	if len(g.Endpoints) != len(want) {
		t.Fatalf("Endpoints = %d, want %d: %+v", len(g.Endpoints), len(want), g.Endpoints)
	}
	for i, w := range want {
		got := g.Endpoints[i]
		if !reflect.DeepEqual(got, w) {
			t.Errorf("Endpoints[%d] =\n %+v (CORS %s)\nwant\n %+v (CORS %s)", i, got, dump(got.CORS), w, dump(w.CORS))
		}
	}
	if got := g.Endpoints[2].Name(); got != "PUT /users/{id}/orders/{oid}" {
		t.Errorf("Name() = %q", got)
	}
}

func TestFromServiceEndpointErrors(t *testing.T) {
	cfg := service(t, nil,
		endpoint("GET", "/users", nil),
		endpoint("GET", "/users/{id}", cors(map[string]any{"max_age": 12.0})),
	)
	g, err := config.FromService(cfg)
	if g != nil {
		t.Errorf("got a gateway together with an error: %+v", g)
	}
	var errs schema.Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("error = %T %v, want one schema.Error", err, err)
	}
	e := errs[0]
	if e.Endpoint != "GET /users/{id}" {
		t.Errorf("Endpoint = %q, want %q", e.Endpoint, "GET /users/{id}")
	}
	if e.Path != `endpoints[1].extra_config["security/cors"].max_age` || e.Value != "12" {
		t.Errorf("Path, Value = %s, %s", e.Path, e.Value)
	}
	const wantText = `endpoints[1].extra_config["security/cors"].max_age (endpoint "GET /users/{id}"): 12 is a number, not a string; write a duration string such as "12h"`
	if !strings.HasPrefix(e.Error(), wantText) {
		t.Errorf("Error() = %q\nwant it to start with %q", e.Error(), wantText)
	}
	if err.Error() != e.Error() {
		t.Errorf("Errors.Error() = %q, want the one line %q", err.Error(), e.Error())
	}
}

func TestFromServiceEveryEndpointProblem(t *testing.T) {
	cfg := service(t, cors(map[string]any{"disable": true}),
		endpoint("GET", "/a", cors(map[string]any{"disabled": true})),
		endpoint("GET", "/b", nil),
		endpoint("DELETE", "/c/{id}", cors(map[string]any{"allow_credentials": true, "allow_origins": []any{"*"}})),
	)
	_, err := config.FromService(cfg)
	var errs schema.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error = %T %v, want schema.Errors", err, err)
	}
	want := []struct{ path, endpoint, text string }{
		{newPath + ".disable", "", `"disable" only exists in an endpoint's own security/cors block`},
		{`endpoints[0].extra_config["security/cors"].disabled`, "GET /a", `did you mean "disable"?`},
		{`endpoints[2].extra_config["security/cors"].allow_origins[0]`, "DELETE /c/{id}", `allow_credentials: true needs exact origins`},
	}
	if len(errs) != len(want) {
		t.Fatalf("errors = %d, want %d:\n%v", len(errs), len(want), errs)
	}
	for i, w := range want {
		if e := errs[i]; e.Path != w.path || e.Endpoint != w.endpoint || !strings.Contains(e.Message, w.text) {
			t.Errorf("error %d = %+v\nwant path %s, endpoint %q, text %q", i, e, w.path, w.endpoint, w.text)
		}
	}
}

func TestFromServiceDisableWithOtherKeys(t *testing.T) {
	tests := []struct {
		name  string
		block map[string]any
		// others is the list the message must name; empty means no error.
		others string
	}{
		{name: "alone", block: map[string]any{"disable": true}},
		{name: "with a comment", block: map[string]any{"disable": true, "@comment": "legacy CORS in the backend"}},
		{name: "disable false with keys", block: map[string]any{"disable": false, "debug": true}},
		{name: "one other key", block: map[string]any{"disable": true, "debug": false}, others: "debug"},
		{name: "several other keys", block: map[string]any{"disable": true, "allow_origins": []any{"https://a.example.com"}, "strip_cors_request_headers": true, "max_age": "1h"},
			others: "allow_origins, max_age, strip_cors_request_headers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := service(t, nil, endpoint("GET", "/a", nil), endpoint("PATCH", "/items/{id}", cors(tc.block)))
			g, err := config.FromService(cfg)
			if tc.others == "" {
				if err != nil {
					t.Fatalf("FromService: %v", err)
				}
				if c := g.Endpoints[1].CORS; c == nil || c.Disable == nil || *c.Disable != tc.block["disable"] {
					t.Errorf("CORS = %s", dump(c))
				}
				return
			}
			var errs schema.Errors
			if !errors.As(err, &errs) || len(errs) != 1 {
				t.Fatalf("error = %v, want one schema.Error", err)
			}
			e := errs[0]
			if e.Path != `endpoints[1].extra_config["security/cors"]` || e.Endpoint != "PATCH /items/{id}" {
				t.Errorf("Path %s, Endpoint %q", e.Path, e.Endpoint)
			}
			if want := "disable: true exempts the endpoint from CORS, so " + tc.others + " would have no effect; remove them or remove disable"; e.Message != want {
				t.Errorf("Message = %q\nwant      %q", e.Message, want)
			}
		})
	}
}

// At the endpoint level the schema lets allow_origins be inherited, so
// allow_credentials alone is no error in FromService (the merged policy is
// checked when it is compiled).
func TestFromServiceEndpointMayInheritOrigins(t *testing.T) {
	cfg := service(t, cors(map[string]any{"allow_origins": []any{"https://app.example.com"}}),
		endpoint("GET", "/me", cors(map[string]any{"allow_credentials": true})))
	g, err := config.FromService(cfg)
	if err != nil {
		t.Fatalf("FromService: %v", err)
	}
	if c := g.Endpoints[0].CORS; c == nil || c.AllowCredentials == nil || !*c.AllowCredentials || c.AllowOrigins != nil {
		t.Errorf("endpoint CORS = %s", dump(c))
	}
}
