package plugin_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	luraconfig "github.com/luraproject/lura/v2/config"
	"github.com/luraproject/lura/v2/proxy"
	ginrouter "github.com/luraproject/lura/v2/router/gin"
	"github.com/luraproject/lura/v2/transport/http/client"

	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/engine/route"
	"github.com/corsgate/corsgate/plugin"
	"github.com/corsgate/corsgate/plugin/plugintest"
	"github.com/corsgate/corsgate/schema"
)

const (
	newPath    = `extra_config["security/cors"]`
	legacyPath = `extra_config["github_com/devopsfaith/krakend-cors"]`
	luraPath   = `extra_config["github_com/luraproject/lura/router/gin"]`

	appOrigin   = "https://app.example.com"
	adminOrigin = "https://admin.example.com"
)

// block is a JSON object, as plugintest writes it.
type block = plugintest.Block

func ptr[T any](v T) *T { return &v }

// ep is an endpoint with its own security/cors block (nil for none).
func ep(method, path string, cors block) plugintest.Endpoint {
	return plugintest.EP(method, path, cors)
}

// config is the lura configuration of g as the corsgate binary reads it.
func config(t *testing.T, g plugintest.Gateway) luraconfig.ServiceConfig {
	t.Helper()
	return g.Config(t)
}

// read reads a configuration that plugin.Read must accept.
func read(t *testing.T, g plugintest.Gateway) (*policy.Document, *route.Index) {
	t.Helper()
	doc, routes, err := plugin.Read(config(t, g))
	if err != nil {
		t.Fatalf("plugin.Read: %v", err)
	}
	if doc == nil || routes == nil {
		t.Fatalf("plugin.Read = %v, %v without an error", doc, routes)
	}
	return doc, routes
}

// readErrors reads a configuration that plugin.Read must refuse.
func readErrors(t *testing.T, cfg luraconfig.ServiceConfig) policy.Errors {
	t.Helper()
	doc, routes, err := plugin.Read(cfg)
	if doc == nil || routes == nil {
		t.Errorf("plugin.Read returned no document or routes together with its error; it must return what it could read")
	}
	var errs policy.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("plugin.Read error = %T %v, want policy.Errors", err, err)
	}
	return errs
}

// newErrors returns the problems of a configuration plugin.New must refuse.
func newErrors(t *testing.T, g plugintest.Gateway) policy.Errors {
	t.Helper()
	return g.Errors(t)
}

// snapshot compiles a configuration plugin.New must accept.
func snapshot(t *testing.T, g plugintest.Gateway) *core.Snapshot {
	t.Helper()
	c, err := plugin.New(config(t, g), nil)
	if err != nil {
		t.Fatalf("plugin.New: %v", err)
	}
	return c.Snapshot()
}

// dump renders a block with its pointers followed and its set keys.
func dump(b *policy.Block) string {
	if b == nil {
		return "nil"
	}
	j, _ := json.Marshal(b)
	return string(j) + " keys:" + strings.Join(b.Keys(), ",")
}

// checkErrors holds errs to paths and to one part of each message, in order.
func checkErrors(t *testing.T, errs policy.Errors, paths, texts []string) {
	t.Helper()
	if len(errs) != len(paths) {
		t.Fatalf("errors = %d, want %d:\n%v", len(errs), len(paths), errs)
	}
	for i, e := range errs {
		if e.Path != paths[i] {
			t.Errorf("error %d path = %s, want %s", i, e.Path, paths[i])
		}
		if !strings.Contains(e.Message, texts[i]) {
			t.Errorf("error %d message = %q, want it to contain %q", i, e.Message, texts[i])
		}
	}
}

// TestReadNamespaces proves the namespace constants are the keys KrakenD
// and lura use, and that JSON paths name lura's router namespace the way
// messages print it.
func TestReadNamespaces(t *testing.T) {
	tests := []struct{ name, got, want string }{
		{"Namespace", plugin.Namespace, "security/cors"},
		{"LegacyNamespace", plugin.LegacyNamespace, "github_com/devopsfaith/krakend-cors"},
		{"RouterNamespace", plugin.RouterNamespace, "router"},
		{"ExtraConfigPath", plugin.ExtraConfigPath, "extra_config"},
		{"lura's router namespace path", schema.Path(plugin.ExtraConfigPath, ginrouter.Namespace), luraPath},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

// TestReadServiceBlock proves how plugin.Read turns the service-level
// extra_config into the document's service block: either namespace,
// every key with its type, false and empty values kept as set, and the
// block's JSON path; and that shape problems (wrong type, unknown key,
// both namespaces) are Read's errors while meaning problems are New's,
// each with its path and words.
func TestReadServiceBlock(t *testing.T) {
	tests := []struct {
		name     string
		extra    block // the service-level extra_config
		want     *policy.Block
		wantPath string // doc.Paths[""]; "" for no entry
		// readErrs, when set, are the paths of Read's errors; newErrs the
		// paths of New's (Read accepts the configuration then).
		readErrs, newErrs []string
		errText           []string // a part of each error's message
	}{
		{
			name:  "no key",
			extra: block{"router": block{"auto_options": true}},
		},
		{
			name:  "empty extra_config",
			extra: block{},
		},
		{
			name:     "new key",
			extra:    block{"security/cors": block{"allow_origins": []any{appOrigin}, "max_age": "12h"}},
			want:     &policy.Block{AllowOrigins: []string{appOrigin}, MaxAge: ptr("12h")},
			wantPath: newPath,
		},
		{
			name:     "legacy key",
			extra:    block{"github_com/devopsfaith/krakend-cors": block{"allow_origins": []any{appOrigin}, "allow_credentials": true}},
			want:     &policy.Block{AllowOrigins: []string{appOrigin}, AllowCredentials: ptr(true)},
			wantPath: legacyPath,
		},
		{
			name:     "legacy key with a bad value names the legacy key",
			extra:    block{"github_com/devopsfaith/krakend-cors": block{"max_age": 12}},
			readErrs: []string{legacyPath + ".max_age"},
			errText:  []string{`12 is a number, not a string; write a duration string such as "12h"`},
		},
		{
			name:     "both keys",
			extra:    block{"security/cors": block{}, "github_com/devopsfaith/krakend-cors": block{}},
			readErrs: []string{legacyPath},
			errText:  []string{`both "security/cors" and "github_com/devopsfaith/krakend-cors" are set; they are the same setting, keep only "security/cors"`},
		},
		{
			name:     "not an object",
			extra:    block{"security/cors": "yes"},
			readErrs: []string{newPath},
			errText:  []string{`"yes" is a string, not an object`},
		},
		{
			name:     "null block",
			extra:    block{"security/cors": nil},
			readErrs: []string{newPath},
			errText:  []string{`null is not an object; write a JSON object`},
		},
		{
			name:     "every shape problem at once",
			extra:    block{"security/cors": block{"allow_origin": []any{}, "debug": "yes", "max_age": true}},
			readErrs: []string{newPath + ".allow_origin", newPath + ".debug", newPath + ".max_age"},
			errText:  []string{`did you mean "allow_origins"?`, `write true or false, without quotes`, `true is a boolean, not a string`},
		},
		{
			name:     "a meaning problem is New's",
			extra:    block{"security/cors": block{"allow_methods": []any{"get"}}},
			want:     &policy.Block{AllowMethods: []string{"get"}},
			wantPath: newPath,
			newErrs:  []string{newPath + ".allow_methods[0]"},
			errText:  []string{`did you mean "GET"?`},
		},
		{
			name:     "empty block: every field absent",
			extra:    block{"security/cors": block{}},
			want:     &policy.Block{},
			wantPath: newPath,
		},
		{
			name:     "false and empty values are kept, not dropped",
			extra:    block{"security/cors": block{"debug": false, "allow_origins": []any{}, "max_age": "0s"}},
			want:     &policy.Block{Debug: ptr(false), AllowOrigins: []string{}, MaxAge: ptr("0s")},
			wantPath: newPath,
		},
		{
			name: "every key",
			extra: block{"security/cors": block{
				"@comment":                   "web team",
				"allow_origins":              []any{appOrigin, "http://localhost:3000"},
				"allow_origins_regex":        []any{"^https://pr-[0-9]+[.]example[.]com$"},
				"allow_origins_regex_unsafe": false,
				"allow_methods":              []any{"GET", "PUT"},
				"allow_headers":              []any{"Content-Type"},
				"expose_headers":             []any{"X-Request-Id", "X-Object-Meta-*"},
				"max_age":                    "10m",
				"allow_credentials":          true,
				"allow_any_origin_with_credentials_unsafe": false,
				"allow_private_network":                    false,
				"options_passthrough":                      true,
				"options_success_status":                   200,
				"terminate_unmatched_request":              true,
				"unmatched_status":                         401,
				"debug":                                    true,
			}},
			want: &policy.Block{
				AllowOrigins:                        []string{appOrigin, "http://localhost:3000"},
				AllowOriginsRegex:                   []string{"^https://pr-[0-9]+[.]example[.]com$"},
				AllowOriginsRegexUnsafe:             ptr(false),
				AllowMethods:                        []string{"GET", "PUT"},
				AllowHeaders:                        []string{"Content-Type"},
				ExposeHeaders:                       []string{"X-Request-Id", "X-Object-Meta-*"},
				MaxAge:                              ptr("10m"),
				AllowCredentials:                    ptr(true),
				AllowAnyOriginWithCredentialsUnsafe: ptr(false),
				AllowPrivateNetwork:                 ptr(false),
				OptionsPassthrough:                  ptr(true),
				OptionsSuccessStatus:                ptr(200),
				TerminateUnmatchedRequest:           ptr(true),
				UnmatchedStatus:                     ptr(401),
				Debug:                               ptr(true),
				Comment:                             "web team",
			},
			wantPath: newPath,
		},
		{
			name:     "null with credentials is refused",
			extra:    block{"security/cors": block{"allow_origins": []any{appOrigin, "null"}, "allow_credentials": true}},
			want:     &policy.Block{AllowOrigins: []string{appOrigin, "null"}, AllowCredentials: ptr(true)},
			wantPath: newPath,
			newErrs:  []string{newPath + ".allow_origins[1]"},
			errText:  []string{`Remove "null"`},
		},
		{
			name:     "endpoint-only key at the service level",
			extra:    block{"security/cors": block{"disable": true}},
			readErrs: []string{newPath + ".disable"},
			errText:  []string{`"disable" only exists in an endpoint's own security/cors block (endpoints[i].extra_config); move it there`},
		},
		{
			name:     "a status decoded as a float64 is an int",
			extra:    block{"security/cors": block{"options_success_status": 204.0}},
			want:     &policy.Block{OptionsSuccessStatus: ptr(204)},
			wantPath: newPath,
		},
		{
			name:     "a fractional status is refused",
			extra:    block{"security/cors": block{"options_success_status": 204.5}},
			readErrs: []string{newPath + ".options_success_status"},
			errText:  []string{`204.5`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := plugintest.Gateway{Extra: tc.extra, Endpoints: []plugintest.Endpoint{ep("GET", "/a", nil)}}
			if tc.readErrs != nil {
				checkErrors(t, readErrors(t, config(t, g)), tc.readErrs, tc.errText)
				return
			}
			doc, _ := read(t, g)
			if !reflect.DeepEqual(doc.Service, tc.want) {
				t.Errorf("Service = %s, want %s", dump(doc.Service), dump(tc.want))
			}
			if got := doc.Paths[""]; got != tc.wantPath {
				t.Errorf(`Paths[""] = %q, want %q`, got, tc.wantPath)
			}
			if tc.newErrs != nil {
				checkErrors(t, newErrors(t, g), tc.newErrs, tc.errText)
			} else if _, err := plugin.New(config(t, g), nil); err != nil {
				t.Errorf("plugin.New: %v", err)
			}
		})
	}
}

// TestReadNilExtraConfig proves that a configuration without any
// extra_config reads as a document without blocks, and compiles to a
// CORS layer that is off.
func TestReadNilExtraConfig(t *testing.T) {
	cfg := config(t, plugintest.Gateway{Endpoints: []plugintest.Endpoint{ep("GET", "/a", nil)}})
	cfg.ExtraConfig = nil
	doc, routes, err := plugin.Read(cfg)
	if err != nil {
		t.Fatalf("plugin.Read: %v", err)
	}
	if doc.Service != nil || doc.Endpoints != nil || len(doc.Paths) != 0 || routes.AutoOptions() || len(routes.Routes()) != 1 {
		t.Errorf("Read = %+v, auto_options %v, %d routes; want no block, no auto_options, 1 route", doc, routes.AutoOptions(), len(routes.Routes()))
	}
	c, err := plugin.New(cfg, nil)
	if err != nil || c.Snapshot().Enabled() {
		t.Errorf("plugin.New = %v, %v; want a CORS layer that is off", c, err)
	}
}

// TestReadService proves how plugin.Read reads the router's auto_options
// under either namespace (either turns it on), and that a bad router
// block is an error naming the key as written, with its value as JSON,
// reported together with the CORS block's problems.
func TestReadService(t *testing.T) {
	tests := []struct {
		name      string
		extra     block
		wantPath  string
		wantAuto  bool
		errPaths  []string
		errValues []string
		errText   []string
	}{
		{name: "cors only", extra: block{"security/cors": block{"allow_methods": []any{"GET"}}}, wantPath: newPath},
		{name: "router auto_options true", extra: block{"security/cors": block{}, "router": block{"auto_options": true}}, wantPath: newPath, wantAuto: true},
		{name: "router auto_options false", extra: block{"router": block{"auto_options": false}}},
		{name: "router without auto_options", extra: block{"router": block{"return_error_msg": true}}},
		{name: "lura namespace auto_options true", extra: block{"github_com/luraproject/lura/router/gin": block{"auto_options": true}}, wantAuto: true},
		{
			name:     "either namespace turns it on",
			extra:    block{"router": block{"auto_options": false}, "github_com/luraproject/lura/router/gin": block{"auto_options": true}},
			wantAuto: true,
		},
		{
			name:     "lura's false does not turn off the router's true",
			extra:    block{"router": block{"auto_options": true}, "github_com/luraproject/lura/router/gin": block{"auto_options": false}},
			wantAuto: true,
		},
		{
			name:      "router auto_options quoted",
			extra:     block{"router": block{"auto_options": "yes"}},
			errPaths:  []string{"extra_config.router.auto_options"},
			errValues: []string{`"yes"`},
			errText:   []string{`"yes" is not a boolean; write true or false, without quotes`},
		},
		{
			name:      "lura namespace auto_options number",
			extra:     block{"github_com/luraproject/lura/router/gin": block{"auto_options": 1}},
			errPaths:  []string{luraPath + ".auto_options"},
			errValues: []string{`1`},
			errText:   []string{`1 is not a boolean`},
		},
		{
			// Only the key the user wrote is named, not the copy
			// PrepareConfig makes for lura's router.
			name:      "router not an object",
			extra:     block{"router": "yes"},
			errPaths:  []string{"extra_config.router"},
			errValues: []string{``},
			errText:   []string{`the router settings must be a JSON object`},
		},
		{
			name:      "cors and router problems together",
			extra:     block{"security/cors": block{"max_age": 12}, "router": block{"auto_options": "true"}},
			errPaths:  []string{newPath + ".max_age", "extra_config.router.auto_options"},
			errValues: []string{`12`, `"true"`},
			errText:   []string{`12 is a number, not a string`, `write true or false, without quotes`},
		},
		{name: "legacy key", extra: block{"github_com/devopsfaith/krakend-cors": block{"debug": true}}, wantPath: legacyPath},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := plugintest.Gateway{Extra: tc.extra, Endpoints: []plugintest.Endpoint{ep("GET", "/a", nil)}}
			if tc.errPaths != nil {
				errs := readErrors(t, config(t, g))
				checkErrors(t, errs, tc.errPaths, tc.errText)
				for i, e := range errs {
					if e.Value != tc.errValues[i] {
						t.Errorf("error %d value = %q, want %q", i, e.Value, tc.errValues[i])
					}
				}
				return
			}
			doc, routes := read(t, g)
			if got := doc.Paths[""]; got != tc.wantPath {
				t.Errorf(`Paths[""] = %q, want %q`, got, tc.wantPath)
			}
			if (doc.Service != nil) != (tc.wantPath != "") {
				t.Errorf("Service = %s, want a block: %v", dump(doc.Service), tc.wantPath != "")
			}
			if routes.AutoOptions() != tc.wantAuto {
				t.Errorf("AutoOptions() = %v, want %v", routes.AutoOptions(), tc.wantAuto)
			}
		})
	}
}

// TestPrepareConfig proves that PrepareConfig copies KrakenD's router
// alias to lura's gin namespace without overwriting a block already
// there, and applies the proxy and backend/http aliases, so that lura's
// components read the settings written under KrakenD's names.
func TestPrepareConfig(t *testing.T) {
	tests := []struct {
		name    string
		extra   block // the service-level extra_config; nil for none
		backend block // a backend's extra_config; nil for no endpoint
		want    block
		wantBE  block
	}{
		{
			name:  "router is copied to lura's namespace",
			extra: block{"router": block{"auto_options": true}},
			want:  block{"router": block{"auto_options": true}, ginrouter.Namespace: block{"auto_options": true}},
		},
		{
			name:  "lura's namespace is not overwritten",
			extra: block{"router": block{"auto_options": true}, ginrouter.Namespace: block{"return_error_msg": true}},
			want:  block{"router": block{"auto_options": true}, ginrouter.Namespace: block{"return_error_msg": true}},
		},
		{
			name:  "no router block adds nothing",
			extra: block{"security/cors": block{}},
			want:  block{"security/cors": block{}},
		},
		{
			name:  "lura's namespace alone is left alone",
			extra: block{ginrouter.Namespace: block{"auto_options": false}},
			want:  block{ginrouter.Namespace: block{"auto_options": false}},
		},
		{
			name:  "nil extra_config stays nil",
			extra: nil,
			want:  nil,
		},
		{
			name:  "the proxy alias reaches lura's proxy namespace",
			extra: block{"proxy": block{"sequential": true}},
			want:  block{proxy.Namespace: block{"sequential": true}},
		},
		{
			name:    "the backend/http alias reaches lura's http client namespace",
			extra:   block{},
			backend: block{"backend/http": block{"return_error_code": true}},
			want:    block{},
			wantBE:  block{client.Namespace: block{"return_error_code": true}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &luraconfig.ServiceConfig{}
			if tc.extra != nil {
				cfg.ExtraConfig = luraconfig.ExtraConfig(tc.extra)
			}
			var be *luraconfig.Backend
			if tc.backend != nil {
				be = &luraconfig.Backend{ExtraConfig: luraconfig.ExtraConfig(tc.backend)}
				cfg.Endpoints = []*luraconfig.EndpointConfig{{Endpoint: "/a", Backend: []*luraconfig.Backend{be}}}
			}
			plugin.PrepareConfig(cfg)
			var want luraconfig.ExtraConfig
			if tc.want != nil {
				want = luraconfig.ExtraConfig(tc.want)
			}
			if !reflect.DeepEqual(cfg.ExtraConfig, want) {
				t.Errorf("extra_config = %v, want %v", cfg.ExtraConfig, want)
			}
			if be != nil && !reflect.DeepEqual(be.ExtraConfig, luraconfig.ExtraConfig(tc.wantBE)) {
				t.Errorf("backend extra_config = %v, want %v", be.ExtraConfig, tc.wantBE)
			}
		})
	}
}

// TestPrepareConfigFeedsLura proves that after PrepareConfig lura's own
// router key holds the router settings, so that plugin.Read and lura's
// gin router read the same auto_options: the router then answers a bare
// OPTIONS request with 200, where without it gin refuses the method.
func TestPrepareConfigFeedsLura(t *testing.T) {
	cfg := &luraconfig.ServiceConfig{ExtraConfig: luraconfig.ExtraConfig{"router": map[string]any{"auto_options": true}}}
	plugin.PrepareConfig(cfg)
	if b, ok := cfg.ExtraConfig[ginrouter.Namespace].(map[string]any); !ok || b["auto_options"] != true {
		t.Fatalf("extra_config[%q] = %v, want the router block", ginrouter.Namespace, cfg.ExtraConfig[ginrouter.Namespace])
	}
	doc, routes, err := plugin.Read(*cfg)
	if err != nil || !routes.AutoOptions() || doc.Service != nil {
		t.Errorf("plugin.Read after PrepareConfig = %+v, %v; want AutoOptions and no CORS block", doc, err)
	}

	tests := []struct {
		name   string
		router block
		status int
		allow  string
	}{
		{"auto_options through the router alias", block{"auto_options": true}, http.StatusOK, "GET"},
		{"no router block: gin refuses the method", nil, http.StatusMethodNotAllowed, "GET"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := plugintest.Gateway{Router: tc.router, Endpoints: []plugintest.Endpoint{ep("GET", "/a", nil)}}
			h, _ := g.Serve(t, nil)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodOptions, "/a", nil))
			if w.Code != tc.status || w.Header().Get("Allow") != tc.allow {
				t.Errorf("OPTIONS /a: status %d, Allow %q; want %d, %q", w.Code, w.Header().Get("Allow"), tc.status, tc.allow)
			}
		})
	}
}

// TestReadEndpoints proves that plugin.Read gives one route per endpoint,
// in configuration order, with its method in upper case, lura's path, its
// backends' hosts and no-op encoding, and the endpoint blocks under their
// keys, with their JSON paths (legacy namespace included).
func TestReadEndpoints(t *testing.T) {
	const testBackend = "http://127.0.0.1:9000"
	noop := ep("GET", "/users/{id}", block{"allow_origins": []any{adminOrigin}, "strip_cors_request_headers": true})
	noop.NoOp = true
	noop.Extra = block{"backend": []any{block{"host": []any{"http://127.0.0.1:9001", "http://127.0.0.1:9002"}, "url_pattern": "/x", "encoding": "no-op"}}}
	orders := ep("put", "/users/{id}/orders/{oid}", block{"disable": true})
	orders.Extra = block{"backend": []any{
		block{"host": []any{testBackend}, "url_pattern": "/x"},
		block{"host": []any{"http://127.0.0.1:9003"}, "url_pattern": "/y"},
	}}
	legacy := ep("POST", "/legacy", nil)
	legacy.Extra = block{"extra_config": block{"github_com/devopsfaith/krakend-cors": block{"debug": true}}}
	doc, routes := read(t, plugintest.Gateway{
		BackendURL: testBackend,
		CORS:       block{"allow_origins": []any{appOrigin}},
		Endpoints:  []plugintest.Endpoint{ep("GET", "/users", nil), noop, orders, legacy},
	})

	if doc.Service == nil || !slices.Equal(doc.Service.AllowOrigins, []string{appOrigin}) || doc.Paths[""] != newPath {
		t.Errorf("Service = %s at %q", dump(doc.Service), doc.Paths[""])
	}
	want := []struct {
		method, path, key string
		backends          []string
		noOp              bool
		cors              *policy.Block
		corsPath          string
	}{
		{"GET", "/users", "GET /users", []string{testBackend}, false, nil, ""},
		{"GET", "/users/:id", "GET /users/{id}", []string{"http://127.0.0.1:9001", "http://127.0.0.1:9002"}, true,
			&policy.Block{AllowOrigins: []string{adminOrigin}, StripCORSRequestHeaders: ptr(true)}, `endpoints[1].extra_config["security/cors"]`},
		{"PUT", "/users/:id/orders/:oid", "PUT /users/{id}/orders/{oid}", []string{testBackend, "http://127.0.0.1:9003"}, false,
			&policy.Block{Disable: ptr(true)}, `endpoints[2].extra_config["security/cors"]`},
		{"POST", "/legacy", "POST /legacy", []string{testBackend}, false,
			&policy.Block{Debug: ptr(true)}, `endpoints[3].extra_config["github_com/devopsfaith/krakend-cors"]`},
	}
	rs := routes.Routes()
	if len(rs) != len(want) {
		t.Fatalf("routes = %d, want %d", len(rs), len(want))
	}
	for i, w := range want {
		r := rs[i]
		if r.Method != w.method || r.Path != w.path || r.Key() != w.key || r.Index != i || r.NoOp != w.noOp || !slices.Equal(r.Backends, w.backends) {
			t.Errorf("route %d = %s %s (key %q, index %d, no-op %v, backends %q)\nwant %s %s (key %q, index %d, no-op %v, backends %q)",
				i, r.Method, r.Path, r.Key(), r.Index, r.NoOp, r.Backends, w.method, w.path, w.key, i, w.noOp, w.backends)
		}
		if got := doc.Endpoints[w.key]; !reflect.DeepEqual(got, w.cors) {
			t.Errorf("Endpoints[%q] = %s, want %s", w.key, dump(got), dump(w.cors))
		}
		if got, ok := doc.Paths[w.key]; got != w.corsPath || ok != (w.corsPath != "") {
			t.Errorf("Paths[%q] = %q (set %v), want %q", w.key, got, ok, w.corsPath)
		}
	}
	if len(doc.Endpoints) != 3 {
		t.Errorf("Endpoints has %d blocks, want 3: %v", len(doc.Endpoints), doc.Endpoints)
	}
}

// TestReadEndpointErrors proves that a shape error in an endpoint block
// names its JSON path, its value and its endpoint, on one line.
func TestReadEndpointErrors(t *testing.T) {
	errs := readErrors(t, config(t, plugintest.Gateway{Endpoints: []plugintest.Endpoint{
		ep("GET", "/users", nil),
		ep("GET", "/users/{id}", block{"max_age": 12.0}),
	}}))
	if len(errs) != 1 {
		t.Fatalf("errors = %d, want 1:\n%v", len(errs), errs)
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
	if errs.Error() != e.Error() {
		t.Errorf("Errors.Error() = %q, want the one line %q", errs.Error(), e.Error())
	}
}

// TestReadDuplicateEndpointBlocks proves that two endpoints with the same
// method and path (lura serves one of them) may not both have a block:
// the second is refused, naming the first; one block is accepted.
func TestReadDuplicateEndpointBlocks(t *testing.T) {
	tests := []struct {
		name          string
		first, second block
		want          bool // an error
	}{
		{name: "both with a block", first: block{"debug": true}, second: block{"debug": false}, want: true},
		{name: "the first with a block", first: block{"debug": true}},
		{name: "the second with a block", second: block{"debug": true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config(t, plugintest.Gateway{Endpoints: []plugintest.Endpoint{ep("GET", "/a", tc.first), ep("GET", "/a", tc.second)}})
			if !tc.want {
				if doc, _, err := plugin.Read(cfg); err != nil || len(doc.Endpoints) != 1 {
					t.Errorf("plugin.Read = %v, %v; want one endpoint block", doc, err)
				}
				return
			}
			errs := readErrors(t, cfg)
			checkErrors(t, errs, []string{`endpoints[1].extra_config["security/cors"]`}, []string{`GET /a also has a block at endpoints[0].extra_config["security/cors"]`})
			if errs[0].Endpoint != "GET /a" {
				t.Errorf("Endpoint = %q, want GET /a", errs[0].Endpoint)
			}
		})
	}
}

// TestValidateEveryProblem proves that plugin.Validate reports every
// problem of every block at once, shape problems (an endpoint-only key at
// the service level, an unknown key) and meaning problems (a wildcard
// with credentials) alike, each with its endpoint; and that plugin.Read
// reports the shape problems.
func TestValidateEveryProblem(t *testing.T) {
	g := plugintest.Gateway{CORS: block{"disable": true}, Endpoints: []plugintest.Endpoint{
		ep("GET", "/a", block{"disabled": true}),
		ep("GET", "/b", nil),
		ep("DELETE", "/c/{id}", block{"allow_credentials": true, "allow_origins": []any{"*"}}),
	}}
	want := []struct{ path, endpoint, text string }{
		{newPath + ".disable", "", `"disable" only exists in an endpoint's own security/cors block`},
		{`endpoints[0].extra_config["security/cors"].disabled`, "GET /a", `did you mean "disable"?`},
		{`endpoints[2].extra_config["security/cors"].allow_origins[0]`, "DELETE /c/{id}", `"*" cannot be combined with allow_credentials: true`},
	}
	check := func(t *testing.T, errs policy.Errors, want []struct{ path, endpoint, text string }) {
		t.Helper()
		if len(errs) != len(want) {
			t.Fatalf("errors = %d, want %d:\n%v", len(errs), len(want), errs)
		}
		for i, w := range want {
			if e := errs[i]; e.Path != w.path || e.Endpoint != w.endpoint || !strings.Contains(e.Message, w.text) {
				t.Errorf("error %d = %+v\nwant path %s, endpoint %q, text %q", i, e, w.path, w.endpoint, w.text)
			}
		}
	}
	t.Run("Read: the shape problems", func(t *testing.T) {
		check(t, readErrors(t, config(t, g)), want[:2])
	})
	t.Run("Validate: every problem", func(t *testing.T) {
		var errs policy.Errors
		if err := plugin.Validate(config(t, g)); !errors.As(err, &errs) {
			t.Fatalf("Validate = %T %v, want policy.Errors", err, err)
		}
		check(t, errs, want)
	})
}

// TestValidate proves that plugin.Validate accepts a valid configuration
// and refuses an invalid one with policy.Errors, whether the problem is
// found by Read (shape) or by the compiler (meaning).
func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cors block
		want string // a part of the error; "" for none
	}{
		{"valid", block{"allow_origins": []any{appOrigin}, "allow_credentials": true}, ""},
		{"shape", block{"allow_credentials": "yes"}, `allow_credentials: "yes" is a string, not a boolean`},
		{"meaning", block{"allow_origins": []any{"https://app.example.com/"}}, `allow_origins[0]:`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := plugin.Validate(config(t, plugintest.Gateway{CORS: tc.cors, Endpoints: []plugintest.Endpoint{ep("GET", "/a", nil)}}))
			if tc.want == "" {
				if err != nil {
					t.Errorf("Validate = %v, want nil", err)
				}
				return
			}
			var errs policy.Errors
			if !errors.As(err, &errs) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %T %v, want policy.Errors containing %q", err, err, tc.want)
			}
		})
	}
}

// TestNewDisableWithOtherKeys proves that disable: true with other keys
// is refused with the list of keys that would have no effect, and that
// disable alone, with a comment, or false is accepted.
func TestNewDisableWithOtherKeys(t *testing.T) {
	tests := []struct {
		name  string
		block block
		// others is the list the message must name; empty means no error.
		others string
	}{
		{name: "alone", block: block{"disable": true}},
		{name: "with a comment", block: block{"disable": true, "@comment": "legacy CORS in the backend"}},
		{name: "disable false with keys", block: block{"disable": false, "debug": true}},
		{name: "one other key", block: block{"disable": true, "debug": false}, others: "debug"},
		{name: "several other keys", block: block{"disable": true, "allow_origins": []any{"https://a.example.com"}, "strip_cors_request_headers": true, "max_age": "1h"},
			others: "allow_origins, max_age, strip_cors_request_headers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := plugintest.Gateway{Endpoints: []plugintest.Endpoint{ep("GET", "/a", nil), ep("PATCH", "/items/{id}", tc.block)}}
			if tc.others == "" {
				s := snapshot(t, g)
				sc := s.Scope(s.Routes().Lookup("PATCH /items/{id}"))
				if want := tc.block["disable"] == true; sc.Exempt != want || !sc.OwnBlock {
					t.Errorf("scope: Exempt %v, OwnBlock %v; want %v, true", sc.Exempt, sc.OwnBlock, want)
				}
				return
			}
			errs := newErrors(t, g)
			if len(errs) != 1 {
				t.Fatalf("errors = %d, want 1:\n%v", len(errs), errs)
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

// TestReadEndpointMayInheritOrigins proves that an endpoint block may set
// allow_credentials alone: Read keeps allow_origins absent, and the
// compiled policy inherits the service's origins with credentials.
func TestReadEndpointMayInheritOrigins(t *testing.T) {
	g := plugintest.Gateway{CORS: block{"allow_origins": []any{appOrigin}}, Endpoints: []plugintest.Endpoint{ep("GET", "/me", block{"allow_credentials": true})}}
	doc, _ := read(t, g)
	if c := doc.Endpoints["GET /me"]; c == nil || c.AllowCredentials == nil || !*c.AllowCredentials || c.AllowOrigins != nil {
		t.Errorf("endpoint block = %s", dump(c))
	}
	s := snapshot(t, g)
	p := s.Scope(s.Routes().Lookup("GET /me")).Policy
	if p == nil || !p.Credentials() || !p.Actual("GET", plugintest.Header("Origin", appOrigin)).Allowed() || p.Actual("GET", plugintest.Header("Origin", adminOrigin)).Allowed() {
		t.Errorf("GET /me policy = %+v; want credentials for the service's origin only", p)
	}
}

// preflight is an OPTIONS request from origin asking for method.
func preflight(path, origin, method string) *http.Request {
	r := httptest.NewRequest(http.MethodOptions, path, nil)
	r.Header = plugintest.Preflight(origin, method)
	return r
}

// TestNewServedMethods proves that an endpoint block without allow_methods
// allows the methods the gateway serves on the endpoint's path (not the
// defaults, not the methods of other paths), while the service policy
// keeps the defaults, and that a preflight is judged by the endpoint of
// the method it asks for.
func TestNewServedMethods(t *testing.T) {
	s := snapshot(t, plugintest.Gateway{
		CORS: block{"allow_origins": []any{appOrigin}},
		Endpoints: []plugintest.Endpoint{
			ep("GET", "/users/{id}", block{"max_age": "1h"}),
			ep("PUT", "/users/{id}", block{"debug": false}),
			ep("DELETE", "/other/{id}", nil),
		},
	})
	routes := s.Routes()
	for _, key := range []string{"GET /users/{id}", "PUT /users/{id}"} {
		r := routes.Lookup(key)
		if !slices.Equal(r.Served(), []string{"GET", "PUT"}) {
			t.Errorf("%s: Served = %q, want [GET PUT]", key, r.Served())
		}
		if got := s.Scope(r).Policy.Source().AllowMethods; !slices.Equal(got, []string{"GET", "PUT"}) {
			t.Errorf("%s: allow_methods = %q, want the methods served on the path", key, got)
		}
	}
	if got := routes.Lookup("DELETE /other/{id}").Served(); !slices.Equal(got, []string{"DELETE"}) {
		t.Errorf("DELETE /other/{id}: Served = %q", got)
	}

	get := s.Scope(routes.Lookup("GET /users/{id}")).Policy
	tests := []struct {
		name   string
		method string // the method the preflight asks for
		scope  string // the scope that judges it
		reason policy.Reason
		judge  *policy.Policy // judge instead of the plan's scope, when set
	}{
		{name: "PUT: the PUT endpoint's policy allows it", method: "PUT", scope: "PUT /users/{id}", reason: policy.Allowed},
		{name: "DELETE: no endpoint, the service policy refuses it", method: "DELETE", scope: "service", reason: policy.MethodDenied},
		{name: "the GET endpoint's policy allows PUT, served on its path", method: "PUT", reason: policy.Allowed, judge: get},
		{name: "the GET endpoint's policy refuses DELETE, served elsewhere", method: "DELETE", reason: policy.MethodDenied, judge: get},
		{name: "the service policy keeps its defaults, without PUT", method: "PUT", reason: policy.MethodDenied, judge: s.Service().Policy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := preflight("/users/7", appOrigin, tc.method)
			var d policy.Decision
			if tc.judge != nil {
				d = tc.judge.Preflight(r.Header)
			} else {
				plan := s.Plan(r)
				if plan.Scope.Name() != tc.scope {
					t.Errorf("scope = %s, want %s", plan.Scope.Name(), tc.scope)
				}
				d = plan.Decision
			}
			if d.Reason != tc.reason || (tc.reason == policy.MethodDenied && d.Detail != tc.method) {
				t.Errorf("decision = %+v, want %v for %s", d, tc.reason, tc.method)
			}
		})
	}
}

// TestNewInheritedMethodsLackTheEndpointMethod proves that an endpoint
// block inheriting service methods that lack the endpoint's own method is
// refused, with the path, the endpoint, and a fix listing the methods
// served on its path; and that setting allow_methods in the block fixes it.
func TestNewInheritedMethodsLackTheEndpointMethod(t *testing.T) {
	errs := newErrors(t, plugintest.Gateway{
		CORS: block{"allow_methods": []any{"GET", "POST"}},
		Endpoints: []plugintest.Endpoint{
			ep("GET", "/a", nil),
			ep("DELETE", "/items/{id}", block{"allow_origins": []any{adminOrigin}}),
			ep("PATCH", "/items/{id}", nil), // no block: keeps the service policy as it is (a warning)
		},
	})
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
	// The message says once where allow_methods comes from.
	if n := strings.Count(e.Message, "inherited"); n != 1 {
		t.Errorf("message %q says %d times that allow_methods is inherited, want once", e.Message, n)
	}

	// Setting allow_methods in the endpoint block fixes it.
	snapshot(t, plugintest.Gateway{
		CORS:      block{"allow_methods": []any{"GET", "POST"}},
		Endpoints: []plugintest.Endpoint{ep("DELETE", "/items/{id}", block{"allow_origins": []any{adminOrigin}, "allow_methods": []any{"DELETE"}})},
	})
}

// TestNewEndpointPolicyWithoutService proves that an endpoint block
// without a service block governs its endpoint only: other endpoints and
// unknown paths get no policy; and that exempt endpoints alone leave
// CORS off.
func TestNewEndpointPolicyWithoutService(t *testing.T) {
	s := snapshot(t, plugintest.Gateway{Endpoints: []plugintest.Endpoint{
		ep("GET", "/admin", block{"allow_origins": []any{adminOrigin}}),
		ep("GET", "/public", nil),
	}})
	if s.Service().Policy != nil || !s.Enabled() {
		t.Errorf("service policy %p, Enabled %v; want none, true", s.Service().Policy, s.Enabled())
	}
	admin := s.Resolve("GET", "/admin")
	if admin.Policy == nil || !admin.OwnBlock || !admin.Policy.Actual("GET", plugintest.Header("Origin", adminOrigin)).Allowed() {
		t.Errorf("GET /admin scope %+v: want its own policy allowing its origin", admin)
	}
	if sc := s.Resolve("GET", "/public"); sc.Route == nil || sc.Policy != nil || sc.OwnBlock {
		t.Errorf("GET /public scope %+v: want the route without a policy", sc)
	}
	if sc := s.Resolve("GET", "/nowhere"); sc != s.Service() || sc.Policy != nil {
		t.Errorf("GET /nowhere scope %+v: want the service scope, without a policy", sc)
	}

	off := snapshot(t, plugintest.Gateway{Endpoints: []plugintest.Endpoint{ep("GET", "/x", block{"disable": true}), ep("GET", "/y", nil)}})
	if off.Enabled() {
		t.Error("a gateway whose only endpoint block is disable: true has CORS on")
	}
}

// TestNewMergedConflicts proves that a combination problem of an
// endpoint's merged policy is reported at the offending value below the
// endpoint block, with the endpoint, saying when the offending key is
// inherited from the service block; and that every endpoint's problem is
// reported.
func TestNewMergedConflicts(t *testing.T) {
	tests := []struct {
		name    string
		service block
		block   block
		path    string // below endpoints[1].extra_config["security/cors"]
		text    string
		// inherited is the key the message must say is inherited, or "".
		inherited string
	}{
		{
			name:    "service star, endpoint credentials",
			service: block{"allow_origins": []any{"*"}},
			block:   block{"allow_credentials": true},
			path:    ".allow_origins[0]", text: `"*" cannot be combined with allow_credentials: true`, inherited: "allow_origins",
		},
		{
			name:    "service subdomain pattern, endpoint credentials",
			service: block{"allow_origins": []any{"https://*.example.com"}},
			block:   block{"allow_credentials": true},
			path:    ".allow_origins[0]", text: `"https://*.example.com" cannot be combined with allow_credentials: true`, inherited: "allow_origins",
		},
		{
			name:    "service null, endpoint credentials",
			service: block{"allow_origins": []any{appOrigin, "null"}},
			block:   block{"allow_credentials": true},
			path:    ".allow_origins[1]", text: `Remove "null"`, inherited: "allow_origins",
		},
		{
			name:    "service expose star, endpoint credentials",
			service: block{"expose_headers": []any{"*"}},
			block:   block{"allow_credentials": true, "allow_origins": []any{adminOrigin}},
			path:    ".expose_headers[0]", text: `list the header names instead`, inherited: "expose_headers",
		},
		{
			name:    "service credentials, endpoint star",
			service: block{"allow_credentials": true, "allow_origins": []any{appOrigin}},
			block:   block{"allow_origins": []any{"*"}},
			path:    ".allow_origins[0]", text: `"*" cannot be combined with allow_credentials: true`,
		},
		{
			name:    "endpoint unsafe without credentials anywhere",
			service: block{},
			block:   block{"allow_any_origin_with_credentials_unsafe": true},
			path:    ".allow_any_origin_with_credentials_unsafe", text: `only matters with allow_credentials: true`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := newErrors(t, plugintest.Gateway{CORS: tc.service, Endpoints: []plugintest.Endpoint{ep("GET", "/a", nil), ep("GET", "/me", tc.block)}})
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
			suffix := ""
			if tc.inherited != "" {
				suffix = " (" + tc.inherited + " is inherited from " + newPath + "." + tc.inherited + ")"
			}
			if says := strings.Contains(e.Message, "inherited"); says != (suffix != "") || !strings.HasSuffix(e.Message, suffix) {
				t.Errorf("Message = %q, want it to end with %q", e.Message, suffix)
			}
		})
	}

	// Every endpoint's conflict is reported, each with its endpoint.
	errs := newErrors(t, plugintest.Gateway{CORS: block{"allow_origins": []any{"*"}}, Endpoints: []plugintest.Endpoint{
		ep("GET", "/one", block{"allow_credentials": true}),
		ep("GET", "/two", nil),
		ep("POST", "/three", block{"allow_credentials": true}),
	}})
	var names []string
	for _, e := range errs {
		names = append(names, e.Endpoint)
	}
	if !slices.Equal(names, []string{"GET /one", "POST /three"}) {
		t.Errorf("errors name %q, want [GET /one, POST /three]:\n%v", names, errs)
	}
}

// TestNewMessagesWithoutServiceBlock proves that without a service block
// no message speaks of inherited keys, and that an empty allow_methods
// means the default (the methods served on the path).
func TestNewMessagesWithoutServiceBlock(t *testing.T) {
	tests := []struct {
		name  string
		block block
		want  string // a part of the one error; "" for none
	}{
		{"own allow_methods lacking the endpoint's method", block{"allow_methods": []any{"POST"}}, "set in the endpoint block; add it there"},
		{"credentials without origins anywhere", block{"allow_credentials": true}, "allow_credentials: true needs the origins listed exactly"},
		{"an empty allow_methods is the default", block{"allow_methods": []any{}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := plugintest.Gateway{Endpoints: []plugintest.Endpoint{ep("GET", "/a", tc.block)}}
			if tc.want == "" {
				snapshot(t, g)
				return
			}
			errs := newErrors(t, g)
			if len(errs) != 1 || !strings.Contains(errs[0].Message, tc.want) || strings.Contains(errs.Error(), "inherited") {
				t.Errorf("errors = %v\nwant one containing %q and not speaking of inherited keys", errs, tc.want)
			}
		})
	}
}

// TestReadErrorsNamePaths proves that Validate's errors name each bad
// value by its JSON path, in the CORS block and in the router block.
func TestReadErrorsNamePaths(t *testing.T) {
	err := plugin.Validate(config(t, plugintest.Gateway{
		CORS:      block{"max_age": 12.0, "allow_origin": []any{}},
		Router:    block{"auto_options": "yes"},
		Endpoints: []plugintest.Endpoint{ep("GET", "/a", nil)},
	}))
	if err == nil {
		t.Fatal("Validate accepted a bad configuration")
	}
	for _, want := range []string{
		`extra_config["security/cors"].allow_origin: unknown key "allow_origin"; did you mean "allow_origins"?`,
		`extra_config["security/cors"].max_age: 12 is a number, not a string`,
		`extra_config.router.auto_options: "yes" is not a boolean`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// TestReadBackendBlock proves that plugin.Read refuses a CORS block in a
// backend's extra_config, under either namespace, naming its path, its
// endpoint, and where to move it.
func TestReadBackendBlock(t *testing.T) {
	for _, ns := range []string{plugin.Namespace, plugin.LegacyNamespace} {
		t.Run(ns, func(t *testing.T) {
			cfg := config(t, plugintest.Gateway{Endpoints: []plugintest.Endpoint{ep("GET", "/a", nil), ep("GET", "/users/{id}", nil)}})
			cfg.Endpoints[1].Backend[0].ExtraConfig = luraconfig.ExtraConfig{ns: map[string]any{"allow_origins": []any{appOrigin}}}
			errs := readErrors(t, cfg)
			if len(errs) != 1 {
				t.Fatalf("errors = %d, want 1:\n%v", len(errs), errs)
			}
			e := errs[0]
			if want := schema.Path("endpoints[1].backend[0].extra_config", ns); e.Path != want {
				t.Errorf("Path = %s, want %s", e.Path, want)
			}
			if !strings.Contains(e.Message, "move it to endpoints[1].extra_config") {
				t.Errorf("Message = %q, want it to say: move it to endpoints[1].extra_config", e.Message)
			}
			if e.Endpoint != "GET /users/{id}" {
				t.Errorf("Endpoint = %q, want %q", e.Endpoint, "GET /users/{id}")
			}
		})
	}
}

// TestSameMistakeSameWords proves that a wildcard origin with credentials
// gets the same words and the same kind of path wherever it is found: in
// the service block, inherited by an endpoint block that sets
// allow_credentials, and in an endpoint block itself.
func TestSameMistakeSameWords(t *testing.T) {
	const inherited = ` (allow_origins is inherited from extra_config["security/cors"].allow_origins)`
	tests := []struct {
		name     string
		g        plugintest.Gateway
		path     string
		endpoint string
		suffix   string
	}{
		{
			name:     "service block",
			g:        plugintest.Gateway{CORS: block{"allow_origins": []any{"*"}, "allow_credentials": true}, Endpoints: []plugintest.Endpoint{ep("GET", "/a", nil)}},
			path:     `extra_config["security/cors"].allow_origins[0]`,
			endpoint: "",
		},
		{
			name:     "inherited by an endpoint block",
			g:        plugintest.Gateway{CORS: block{"allow_origins": []any{"*"}}, Endpoints: []plugintest.Endpoint{ep("GET", "/a", block{"allow_credentials": true})}},
			path:     `endpoints[0].extra_config["security/cors"].allow_origins[0]`,
			endpoint: "GET /a",
			suffix:   inherited,
		},
		{
			name:     "endpoint block",
			g:        plugintest.Gateway{Endpoints: []plugintest.Endpoint{ep("GET", "/a", block{"allow_origins": []any{"*"}, "allow_credentials": true})}},
			path:     `endpoints[0].extra_config["security/cors"].allow_origins[0]`,
			endpoint: "GET /a",
		},
	}
	var words []string
	for _, tc := range tests {
		errs := newErrors(t, tc.g)
		if len(errs) != 1 {
			t.Fatalf("%s: errors = %d, want 1:\n%v", tc.name, len(errs), errs)
		}
		e := errs[0]
		if e.Path != tc.path || e.Endpoint != tc.endpoint || !strings.HasSuffix(e.Path, ".allow_origins[0]") {
			t.Errorf("%s: Path %s, Endpoint %q; want %s, %q", tc.name, e.Path, e.Endpoint, tc.path, tc.endpoint)
		}
		msg, ok := strings.CutSuffix(e.Message, tc.suffix)
		if !ok || strings.Contains(msg, "inherited") {
			t.Errorf("%s: Message = %q, want it to end with %q and only there speak of inheritance", tc.name, e.Message, tc.suffix)
		}
		if !strings.HasPrefix(msg, `"*" cannot be combined with allow_credentials: true`) {
			t.Errorf("%s: Message = %q, want it to name the wildcard and credentials", tc.name, msg)
		}
		words = append(words, msg)
	}
	for i := range words {
		if words[i] != words[0] {
			t.Errorf("%s says\n %q\nbut %s says\n %q", tests[i].name, words[i], tests[0].name, words[0])
		}
	}
}

// TestWarnServiceMethods proves that an endpoint without a block of its
// own whose method the service's allow_methods (set, or the default GET,
// HEAD, POST) lacks compiles with a warning naming the endpoint, the
// method and the fix, and that there is no warning when the endpoint has
// its own block or the method is allowed.
func TestWarnServiceMethods(t *testing.T) {
	tests := []struct {
		name     string
		service  block
		endpoint plugintest.Endpoint
		want     []string // parts of the one warning; nil for none
	}{
		{
			name:     "allow_methods set without the endpoint's method",
			service:  block{"allow_methods": []any{"GET"}},
			endpoint: ep("POST", "/orders", nil),
			want:     []string{"POST /orders", `allow_methods ["GET"]`, "lacks POST", `Add "POST" to allow_methods`},
		},
		{
			name:     "the default allow_methods lacks PUT",
			service:  block{},
			endpoint: ep("PUT", "/orders", nil),
			want:     []string{"PUT /orders", `["GET", "HEAD", "POST"]`, "lacks PUT", `Add "PUT" to allow_methods`},
		},
		{
			name:     "the endpoint has its own block with its method",
			service:  block{"allow_methods": []any{"GET"}},
			endpoint: ep("POST", "/orders", block{"allow_methods": []any{"POST"}}),
		},
		{
			name:     "the endpoint has its own block, the default is its path's methods",
			service:  block{},
			endpoint: ep("PUT", "/orders", block{}),
		},
		{
			name:     "the method is allowed",
			service:  block{"allow_methods": []any{"GET", "POST"}},
			endpoint: ep("POST", "/orders", nil),
		},
		{
			name:     "the default allows POST",
			service:  block{},
			endpoint: ep("POST", "/orders", nil),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ws := snapshot(t, plugintest.Gateway{CORS: tc.service, Endpoints: []plugintest.Endpoint{tc.endpoint}}).Warnings()
			if tc.want == nil {
				if len(ws) != 0 {
					t.Errorf("warnings = %v, want none", ws)
				}
				return
			}
			if len(ws) != 1 {
				t.Fatalf("warnings = %d, want 1:\n%v", len(ws), ws)
			}
			w := ws[0]
			key := tc.endpoint.Method + " " + tc.endpoint.Path
			if w.Endpoint != key || w.Path != newPath+".allow_methods" {
				t.Errorf("warning Endpoint %q, Path %s; want %q, %s", w.Endpoint, w.Path, key, newPath+".allow_methods")
			}
			for _, part := range tc.want {
				if !strings.Contains(w.Message, part) {
					t.Errorf("warning %q lacks %q", w.Message, part)
				}
			}
			if strings.Contains(w.Message, "service-level the ") {
				t.Errorf("warning %q is not a sentence: \"service-level the ...\"", w.Message)
			}
		})
	}
}

// TestNewLeakyRegex proves that an allow_origins_regex expression that
// lets an attacker origin in (an unescaped dot) is refused with
// credentials, naming the attacker origin and the expression meant (the
// dot escaped); is a warning with the same suggestion without
// credentials; and is a warning, not an error, with
// allow_origins_regex_unsafe: true.
func TestNewLeakyRegex(t *testing.T) {
	const leaky, attacker = `^https://api.acme-shop.com$`, "https://apixacme-shop.com"
	tests := []struct {
		name     string
		service  block
		endpoint block
		path     string
		err      bool     // an error, not a warning
		want     []string // parts of the one error or warning
		endpKey  string
	}{
		{
			name:    "credentials: an error",
			service: block{"allow_origins_regex": []any{leaky}, "allow_credentials": true},
			path:    newPath + ".allow_origins_regex[0]", err: true,
			want: []string{attacker, "signed-in user", `did you mean "^https://api\\.acme-shop\\.com$"?`},
		},
		{
			name:     "credentials in an endpoint block: an error naming the endpoint",
			endpoint: block{"allow_origins_regex": []any{leaky}, "allow_credentials": true},
			path:     `endpoints[0].extra_config["security/cors"].allow_origins_regex[0]`, err: true, endpKey: "GET /a",
			want: []string{attacker, "signed-in user"},
		},
		{
			name:    "without credentials: a warning",
			service: block{"allow_origins_regex": []any{leaky}},
			path:    newPath + ".allow_origins_regex[0]",
			want:    []string{attacker, `did you mean "^https://api\\.acme-shop\\.com$"?`},
		},
		{
			name:    "allow_origins_regex_unsafe: a warning, no error",
			service: block{"allow_origins_regex": []any{leaky}, "allow_credentials": true, "allow_origins_regex_unsafe": true, "allow_headers": []any{"Content-Type"}},
			path:    newPath + ".allow_origins_regex[0]",
			want:    []string{attacker, "allow_origins_regex_unsafe: true keeps it"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := plugintest.Gateway{CORS: tc.service, Endpoints: []plugintest.Endpoint{ep("GET", "/a", tc.endpoint)}}
			var found policy.Errors
			if tc.err {
				found = newErrors(t, g)
			} else {
				found = snapshot(t, g).Warnings()
			}
			if len(found) != 1 {
				t.Fatalf("found %d problems, want 1:\n%v", len(found), found)
			}
			e := found[0]
			if e.Path != tc.path || e.Endpoint != tc.endpKey || e.Value != `"`+leaky+`"` {
				t.Errorf("Path %s, Endpoint %q, Value %s; want %s, %q, %q", e.Path, e.Endpoint, e.Value, tc.path, tc.endpKey, leaky)
			}
			for _, part := range tc.want {
				if !strings.Contains(e.Message, part) {
					t.Errorf("message %q lacks %q", e.Message, part)
				}
			}
		})
	}
}
