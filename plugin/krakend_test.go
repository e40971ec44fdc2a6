package plugin_test

import (
	"strings"
	"testing"

	luraconfig "github.com/luraproject/lura/v2/config"

	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/plugin"
)

func TestPluginConfig(t *testing.T) {
	extra := map[string]any{"name": []any{"corsgate"}, "corsgate": map[string]any{
		"security/cors": map[string]any{"allow_origins": []any{"https://app.example.com"}},
		"endpoints": map[string]any{
			"PUT /b":          map[string]any{"allow_methods": []any{"PUT"}},
			"GET /users/{id}": map[string]any{"allow_origins": []any{"https://admin.example.com"}},
		},
		"admin":          map[string]any{"listen": "127.0.0.1:9091"},
		"debug_endpoint": true,
	}}
	cfg, debug, mapErrs, err := plugin.PluginConfig(extra)
	if err != nil {
		t.Fatal(err)
	}
	if !debug || cfg.ExtraConfig[plugin.AdminNamespace] == nil || cfg.ExtraConfig[plugin.Namespace] == nil {
		t.Errorf("config %+v, debug %v", cfg.ExtraConfig, debug)
	}
	if len(cfg.Endpoints) != 2 || cfg.Endpoints[0].Method != "GET" || cfg.Endpoints[1].Method != "PUT" {
		t.Fatalf("endpoints %+v, want GET /users/{id} then PUT /b", cfg.Endpoints)
	}
	got := mapErrs(policy.Errors{
		{Path: `extra_config["security/cors"].max_age`},
		{Path: `endpoints[0].extra_config["security/cors"].allow_origins[1]`},
		{Path: `endpoints[1].extra_config["security/cors"]`},
		{Path: `extra_config["corsgate/admin"].store.type`},
		{Path: `extra_config["security/corsx"]`},
	})
	want := []string{
		`extra_config["plugin/http-server"].corsgate["security/cors"].max_age`,
		`extra_config["plugin/http-server"].corsgate.endpoints["GET /users/{id}"].allow_origins[1]`,
		`extra_config["plugin/http-server"].corsgate.endpoints["PUT /b"]`,
		`extra_config["plugin/http-server"].corsgate.admin.store.type`,
		`extra_config["security/corsx"]`, // not a prefix of ours: left alone
	}
	for i, w := range want {
		if got[i].Path != w {
			t.Errorf("path %d: %s, want %s", i, got[i].Path, w)
		}
	}

	for _, tc := range []struct {
		extra map[string]any
		want  string
	}{
		{map[string]any{"name": "corsgate"}, `extra_config["plugin/http-server"]: there is no "corsgate" key`},
		{map[string]any{"corsgate": map[string]any{}}, `extra_config["plugin/http-server"].corsgate has no "security/cors" block`},
		{map[string]any{"corsgate": map[string]any{"security/cors": map[string]any{}, "endpoint": map[string]any{}}}, `unknown field "endpoint"`},
		{map[string]any{"corsgate": map[string]any{"security/cors": map[string]any{}, "endpoints": map[string]any{"/users": map[string]any{}}}}, `corsgate.endpoints["/users"]: name an endpoint as "METHOD /endpoint"`},
		{map[string]any{"corsgate": map[string]any{"security/cors": map[string]any{}, "endpoints": map[string]any{"get /users": map[string]any{}}}}, `corsgate.endpoints["get /users"]`},
	} {
		if _, _, _, err := plugin.PluginConfig(tc.extra); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.extra, err, tc.want)
		}
	}
}

func TestPluginNamed(t *testing.T) {
	for _, tc := range []struct {
		extra luraconfig.ExtraConfig
		want  bool
	}{
		{luraconfig.ExtraConfig{"plugin/http-server": map[string]any{"name": []any{"other", "corsgate"}}}, true},
		{luraconfig.ExtraConfig{"plugin/http-server": map[string]any{"name": "corsgate"}}, true},
		{luraconfig.ExtraConfig{"github_com/devopsfaith/krakend/transport/http/server/handler": map[string]any{"name": []any{"corsgate"}}}, true},
		{luraconfig.ExtraConfig{"plugin/http-server": map[string]any{"name": []any{"other"}}}, false},
		{luraconfig.ExtraConfig{}, false},
	} {
		if _, got := plugin.PluginNamed(tc.extra); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.extra, got, tc.want)
		}
	}
}
