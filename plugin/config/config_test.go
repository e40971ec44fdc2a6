package config_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	luraconfig "github.com/luraproject/lura/v2/config"
	ginrouter "github.com/luraproject/lura/v2/router/gin"

	"github.com/corsgate/corsgate/plugin/config"
	"github.com/corsgate/corsgate/schema"
)

const (
	newPath    = `extra_config["security/cors"]`
	legacyPath = `extra_config["github_com/devopsfaith/krakend-cors"]`
	luraPath   = `extra_config["github_com/luraproject/lura/router/gin"]`
)

// extra decodes an extra_config object from JSON text, as lura does.
func extra(t *testing.T, text string) luraconfig.ExtraConfig {
	t.Helper()
	var e luraconfig.ExtraConfig
	if err := json.Unmarshal([]byte(text), &e); err != nil {
		t.Fatalf("bad test input %s: %v", text, err)
	}
	return e
}

func ptr[T any](v T) *T { return &v }

func TestNamespaces(t *testing.T) {
	if config.Namespace != "security/cors" {
		t.Errorf("Namespace = %q", config.Namespace)
	}
	if config.LegacyNamespace != "github_com/devopsfaith/krakend-cors" {
		t.Errorf("LegacyNamespace = %q", config.LegacyNamespace)
	}
	if got := schema.Path(config.ExtraConfigPath, ginrouter.Namespace); got != luraPath {
		t.Errorf("lura's router namespace path = %s, want %s", got, luraPath)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		extra    string
		base     string // config.ExtraConfigPath when empty
		want     *config.CORS
		wantPath string
		errPaths []string
		errText  []string // a part of each error's message
	}{
		{
			name:     "no key",
			extra:    `{"router": {"auto_options": true}}`,
			want:     nil,
			wantPath: "",
		},
		{
			name:     "empty extra_config",
			extra:    `{}`,
			want:     nil,
			wantPath: "",
		},
		{
			name:     "new key",
			extra:    `{"security/cors": {"allow_origins": ["https://app.example.com"], "max_age": "12h"}}`,
			want:     &config.CORS{AllowOrigins: []string{"https://app.example.com"}, MaxAge: ptr("12h")},
			wantPath: newPath,
		},
		{
			name:     "legacy key",
			extra:    `{"github_com/devopsfaith/krakend-cors": {"allow_origins": ["https://app.example.com"], "allow_credentials": true}}`,
			want:     &config.CORS{AllowOrigins: []string{"https://app.example.com"}, AllowCredentials: ptr(true)},
			wantPath: legacyPath,
		},
		{
			name:     "legacy key with a bad value names the legacy key",
			extra:    `{"github_com/devopsfaith/krakend-cors": {"max_age": 12}}`,
			wantPath: legacyPath,
			errPaths: []string{legacyPath + ".max_age"},
			errText:  []string{`write a duration string such as "12h"`},
		},
		{
			name:     "both keys",
			extra:    `{"security/cors": {}, "github_com/devopsfaith/krakend-cors": {}}`,
			wantPath: newPath,
			errPaths: []string{legacyPath},
			errText:  []string{`both "security/cors" and "github_com/devopsfaith/krakend-cors" are set; they are the same setting, keep only "security/cors"`},
		},
		{
			name:     "not an object",
			extra:    `{"security/cors": "yes"}`,
			wantPath: newPath,
			errPaths: []string{newPath},
			errText:  []string{`"yes" is a string, not an object`},
		},
		{
			name:     "null block",
			extra:    `{"security/cors": null}`,
			wantPath: newPath,
			errPaths: []string{newPath},
			errText:  []string{`null is null, not an object`},
		},
		{
			name:     "every problem at once",
			extra:    `{"security/cors": {"allow_origin": [], "debug": "yes", "allow_methods": ["get"]}}`,
			wantPath: newPath,
			errPaths: []string{newPath + ".allow_methods[0]", newPath + ".allow_origin", newPath + ".debug"},
			errText:  []string{`did you mean "GET"?`, `did you mean "allow_origins"?`, `write true or false, without quotes`},
		},
		{
			name:     "endpoint base",
			extra:    `{"security/cors": {"options_success_status": 404}}`,
			base:     `endpoints[2].extra_config`,
			wantPath: `endpoints[2].extra_config["security/cors"]`,
			errPaths: []string{`endpoints[2].extra_config["security/cors"].options_success_status`},
			errText:  []string{`use 204 (the default) or 200`},
		},
		{
			name:     "empty block: every field absent",
			extra:    `{"security/cors": {}}`,
			want:     &config.CORS{},
			wantPath: newPath,
		},
		{
			name:     "false and empty values are kept, not dropped",
			extra:    `{"security/cors": {"debug": false, "allow_origins": [], "max_age": "0s"}}`,
			want:     &config.CORS{Debug: ptr(false), AllowOrigins: []string{}, MaxAge: ptr("0s")},
			wantPath: newPath,
		},
		{
			name: "every key",
			extra: `{"security/cors": {
				"@comment": "web team",
				"allow_origins": ["https://app.example.com", "http://localhost:3000"],
				"allow_origins_regex": ["^https://pr-[0-9]+[.]example[.]com$"],
				"allow_methods": ["GET", "PUT"],
				"allow_headers": ["Content-Type"],
				"expose_headers": ["X-Request-Id", "X-Object-Meta-*"],
				"max_age": "10m",
				"allow_credentials": true,
				"allow_any_origin_with_credentials_unsafe": false,
				"allow_private_network": false,
				"options_passthrough": true,
				"options_success_status": 200,
				"terminate_unmatched_request": true,
				"unmatched_status": 401,
				"debug": true
			}}`,
			want: &config.CORS{
				AllowOrigins:                        []string{"https://app.example.com", "http://localhost:3000"},
				AllowOriginsRegex:                   []string{"^https://pr-[0-9]+[.]example[.]com$"},
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
			extra:    `{"security/cors": {"allow_origins": ["https://app.example.com", "null"], "allow_credentials": true}}`,
			wantPath: newPath,
			errPaths: []string{newPath + ".allow_origins[1]"},
			errText:  []string{`Remove "null"`},
		},
		{
			name:     "endpoint-only key at the service level",
			extra:    `{"security/cors": {"disable": true}}`,
			wantPath: newPath,
			errPaths: []string{newPath + ".disable"},
			errText:  []string{`"disable" only exists in an endpoint's own security/cors block (endpoints[i].extra_config); move it there.`},
		},
		{
			name:     "integral float status",
			extra:    `{"security/cors": {"options_success_status": 204.0}}`,
			want:     &config.CORS{OptionsSuccessStatus: ptr(204)},
			wantPath: newPath,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.base
			if b == "" {
				b = config.ExtraConfigPath
			}
			got, path, errs := config.Parse(extra(t, tc.extra), b)
			if path != tc.wantPath {
				t.Errorf("path = %s, want %s", path, tc.wantPath)
			}
			if len(tc.errPaths) > 0 {
				if got != nil {
					t.Errorf("got a block %+v together with errors", got)
				}
				if len(errs) != len(tc.errPaths) {
					t.Fatalf("errors = %d, want %d:\n%v", len(errs), len(tc.errPaths), errs)
				}
				for i, e := range errs {
					if e.Path != tc.errPaths[i] {
						t.Errorf("error %d path = %s, want %s", i, e.Path, tc.errPaths[i])
					}
					if !strings.Contains(e.Message, tc.errText[i]) {
						t.Errorf("error %d message = %q, want it to contain %q", i, e.Message, tc.errText[i])
					}
				}
				return
			}
			if errs != nil {
				t.Fatalf("unexpected errors:\n%v", errs)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("block = %s, want %s", dump(got), dump(tc.want))
			}
		})
	}
}

func TestParseNilExtraConfig(t *testing.T) {
	c, path, errs := config.Parse(nil, config.ExtraConfigPath)
	if c != nil || path != "" || errs != nil {
		t.Errorf("Parse(nil) = %v, %q, %v; want nil, \"\", nil", c, path, errs)
	}
}

// dump renders a *config.CORS with its pointers followed.
func dump(c *config.CORS) string {
	if c == nil {
		return "nil"
	}
	b, _ := json.Marshal(c)
	var nils []string
	v := reflect.ValueOf(*c)
	for i := range v.NumField() {
		if f := v.Field(i); (f.Kind() == reflect.Pointer || f.Kind() == reflect.Slice) && f.IsNil() {
			nils = append(nils, v.Type().Field(i).Name)
		}
	}
	return string(b) + " nil:" + strings.Join(nils, ",")
}

func TestFromService(t *testing.T) {
	tests := []struct {
		name        string
		extra       string
		wantService *config.CORS
		wantPath    string
		wantAuto    bool
		errPaths    []string
		errValues   []string
		errText     []string
	}{
		{
			name:  "no extra_config",
			extra: `null`,
		},
		{
			name:        "cors only",
			extra:       `{"security/cors": {"allow_methods": ["GET"]}}`,
			wantService: &config.CORS{AllowMethods: []string{"GET"}},
			wantPath:    newPath,
		},
		{
			name:        "router auto_options true",
			extra:       `{"security/cors": {}, "router": {"auto_options": true}}`,
			wantService: &config.CORS{},
			wantPath:    newPath,
			wantAuto:    true,
		},
		{
			name:  "router auto_options false",
			extra: `{"router": {"auto_options": false}}`,
		},
		{
			name:  "router without auto_options",
			extra: `{"router": {"return_error_msg": true}}`,
		},
		{
			name:     "lura namespace auto_options true",
			extra:    `{"github_com/luraproject/lura/router/gin": {"auto_options": true}}`,
			wantAuto: true,
		},
		{
			name:     "either namespace turns it on",
			extra:    `{"router": {"auto_options": false}, "github_com/luraproject/lura/router/gin": {"auto_options": true}}`,
			wantAuto: true,
		},
		{
			name:     "lura's false does not turn off the router's true",
			extra:    `{"router": {"auto_options": true}, "github_com/luraproject/lura/router/gin": {"auto_options": false}}`,
			wantAuto: true,
		},
		{
			name:      "router auto_options quoted",
			extra:     `{"router": {"auto_options": "yes"}}`,
			errPaths:  []string{"extra_config.router.auto_options"},
			errValues: []string{`"yes"`},
			errText:   []string{`"yes" is not a boolean; write true or false, without quotes`},
		},
		{
			name:      "lura namespace auto_options number",
			extra:     `{"github_com/luraproject/lura/router/gin": {"auto_options": 1}}`,
			errPaths:  []string{luraPath + ".auto_options"},
			errValues: []string{`1`},
			errText:   []string{`1 is not a boolean`},
		},
		{
			name:      "router not an object",
			extra:     `{"router": "yes"}`,
			errPaths:  []string{"extra_config.router"},
			errValues: []string{``},
			errText:   []string{`the router settings must be a JSON object`},
		},
		{
			name:      "cors and router problems together",
			extra:     `{"security/cors": {"max_age": "-1h"}, "router": {"auto_options": "true"}}`,
			errPaths:  []string{newPath + ".max_age", "extra_config.router.auto_options"},
			errValues: []string{`"-1h"`, `"true"`},
			errText:   []string{`is negative`, `write true or false, without quotes`},
		},
		{
			name:        "legacy key",
			extra:       `{"github_com/devopsfaith/krakend-cors": {"debug": true}}`,
			wantService: &config.CORS{Debug: ptr(true)},
			wantPath:    legacyPath,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := luraconfig.ServiceConfig{ExtraConfig: extra(t, tc.extra)}
			g, err := config.FromService(cfg)
			if len(tc.errPaths) > 0 {
				if g != nil {
					t.Errorf("got a gateway %+v together with an error", g)
				}
				var errs schema.Errors
				if !errors.As(err, &errs) {
					t.Fatalf("error = %T %v, want schema.Errors", err, err)
				}
				if len(errs) != len(tc.errPaths) {
					t.Fatalf("errors = %d, want %d:\n%v", len(errs), len(tc.errPaths), errs)
				}
				for i, e := range errs {
					if e.Path != tc.errPaths[i] {
						t.Errorf("error %d path = %s, want %s", i, e.Path, tc.errPaths[i])
					}
					if e.Value != tc.errValues[i] {
						t.Errorf("error %d value = %q, want %q", i, e.Value, tc.errValues[i])
					}
					if !strings.Contains(e.Message, tc.errText[i]) {
						t.Errorf("error %d message = %q, want it to contain %q", i, e.Message, tc.errText[i])
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error:\n%v", err)
			}
			if g == nil {
				t.Fatal("nil gateway without an error")
			}
			if !reflect.DeepEqual(g.Service, tc.wantService) {
				t.Errorf("Service = %s, want %s", dump(g.Service), dump(tc.wantService))
			}
			if g.ServicePath != tc.wantPath {
				t.Errorf("ServicePath = %s, want %s", g.ServicePath, tc.wantPath)
			}
			if g.AutoOptions != tc.wantAuto {
				t.Errorf("AutoOptions = %v, want %v", g.AutoOptions, tc.wantAuto)
			}
		})
	}
}

func TestNormalizeRouter(t *testing.T) {
	tests := []struct {
		name  string
		extra string
		want  string // the extra_config afterwards, as JSON; "null" for none
	}{
		{
			name:  "router is copied to lura's namespace",
			extra: `{"router": {"auto_options": true}}`,
			want:  `{"router": {"auto_options": true}, "github_com/luraproject/lura/router/gin": {"auto_options": true}}`,
		},
		{
			name:  "lura's namespace is not overwritten",
			extra: `{"router": {"auto_options": true}, "github_com/luraproject/lura/router/gin": {"return_error_msg": true}}`,
			want:  `{"router": {"auto_options": true}, "github_com/luraproject/lura/router/gin": {"return_error_msg": true}}`,
		},
		{
			name:  "no router block adds nothing",
			extra: `{"security/cors": {}}`,
			want:  `{"security/cors": {}}`,
		},
		{
			name:  "lura's namespace alone is left alone",
			extra: `{"github_com/luraproject/lura/router/gin": {"auto_options": false}}`,
			want:  `{"github_com/luraproject/lura/router/gin": {"auto_options": false}}`,
		},
		{
			name:  "nil extra_config stays nil",
			extra: `null`,
			want:  `null`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &luraconfig.ServiceConfig{ExtraConfig: extra(t, tc.extra)}
			config.NormalizeRouter(cfg)
			if want := extra(t, tc.want); !reflect.DeepEqual(cfg.ExtraConfig, want) {
				got, _ := json.Marshal(cfg.ExtraConfig)
				t.Errorf("extra_config = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestNormalizeRouterFeedsLura checks that after NormalizeRouter, lura's
// own key holds the router settings, so that FromService and lura's gin
// router read the same auto_options.
func TestNormalizeRouterFeedsLura(t *testing.T) {
	cfg := &luraconfig.ServiceConfig{ExtraConfig: extra(t, `{"router": {"auto_options": true}}`)}
	config.NormalizeRouter(cfg)
	block, ok := cfg.ExtraConfig[ginrouter.Namespace].(map[string]any)
	if !ok || block["auto_options"] != true {
		t.Fatalf("extra_config[%q] = %v, want the router block", ginrouter.Namespace, cfg.ExtraConfig[ginrouter.Namespace])
	}
	g, err := config.FromService(*cfg)
	if err != nil || !g.AutoOptions {
		t.Errorf("FromService after NormalizeRouter = %+v, %v; want AutoOptions", g, err)
	}
}
