package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// krakendLayout is the KrakenD configuration of docs/krakend.md: the
// corsgate plugin's block under plugin/http-server, and one endpoint.
func krakendLayout() map[string]any {
	return map[string]any{
		"version": 3,
		"plugin":  map[string]any{"pattern": ".so", "folder": "/opt/krakend/plugins/"},
		"extra_config": map[string]any{
			"plugin/http-server": map[string]any{
				"name": []any{"corsgate"},
				"corsgate": map[string]any{
					"security/cors": map[string]any{
						"allow_origins": []any{"https://app.example.com"}, "allow_methods": []any{"GET", "POST"},
						"allow_credentials": true, "allow_headers": []any{"Content-Type", "Authorization"},
					},
					"endpoints": map[string]any{"GET /reports/{id}": map[string]any{"allow_origins": []any{"https://admin.example.com"}}},
				},
			},
		},
		"endpoints": []any{map[string]any{"endpoint": "/reports/{id}", "method": "GET",
			"backend": []any{map[string]any{"host": []any{"http://127.0.0.1:9000"}, "url_pattern": "/reports/{id}"}}}},
	}
}

// pluginBlock is the corsgate block of a krakendLayout.
func pluginBlock(cfg map[string]any) map[string]any {
	return cfg["extra_config"].(map[string]any)["plugin/http-server"].(map[string]any)["corsgate"].(map[string]any)
}

func checkLayout(t *testing.T, cfg map[string]any) (int, string, string) {
	t.Helper()
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return runCLI("check", "-c", writeConfig(t, string(data)))
}

// check judges the plugin's block of a KrakenD configuration as the
// plugin reads it, with the paths of that file.
func TestCheckPluginLayout(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(cfg map[string]any)
		code   int
		want   []string
		not    []string
	}{
		{"the layout of docs/krakend.md", func(map[string]any) {}, 0,
			[]string{"is valid: 1 endpoint(s), the corsgate plugin's CORS policy valid"}, []string{"warning", "no effect"}},
		{"a trailing slash and a numeric max_age", func(cfg map[string]any) {
			cors := pluginBlock(cfg)["security/cors"].(map[string]any)
			cors["allow_origins"] = []any{"https://app.example.com/"}
			cors["max_age"] = 3600
		}, 1, []string{
			`extra_config["plugin/http-server"].corsgate["security/cors"].allow_origins[0]: "https://app.example.com/" is not a valid origin: it ends with a slash`,
			`extra_config["plugin/http-server"].corsgate["security/cors"].max_age: 3600 is a number, not a string`,
		}, []string{"has no effect", `endpoints[0]`}},
		{"an override's mistake", func(cfg map[string]any) {
			pluginBlock(cfg)["endpoints"].(map[string]any)["GET /reports/{id}"] = map[string]any{"allow_methods": []any{"get"}}
		}, 1, []string{`extra_config["plugin/http-server"].corsgate.endpoints["GET /reports/{id}"].allow_methods[0]`}, nil},
		{"an admin section's mistake", func(cfg map[string]any) {
			pluginBlock(cfg)["admin"] = map[string]any{"listen": "127.0.0.1:9091", "store": map[string]any{"type": "etcd"}}
		}, 1, []string{`extra_config["plugin/http-server"].corsgate.admin`}, []string{`extra_config["corsgate/admin"]`}},
		{"an unknown key in the block", func(cfg map[string]any) {
			pluginBlock(cfg)["securty/cors"] = map[string]any{}
		}, 1, []string{`extra_config["plugin/http-server"].corsgate: json: unknown field "securty/cors"`}, nil},
		{"double CORS", func(cfg map[string]any) {
			cfg["extra_config"].(map[string]any)["security/cors"] = map[string]any{"allow_origins": []any{"https://app.example.com"}}
		}, 0, []string{`extra_config["security/cors"]: double CORS`, "remove it"}, nil},
		{"an endpoint block the plugin does not read", func(cfg map[string]any) {
			cfg["endpoints"].([]any)[0].(map[string]any)["extra_config"] = map[string]any{"security/cors": map[string]any{"allow_origins": []any{"https://x.example.com"}}}
		}, 0, []string{`endpoints[0].extra_config["security/cors"]: the corsgate plugin does not read endpoint blocks`, `move it to extra_config["plugin/http-server"].corsgate.endpoints["GET /reports/{id}"]`}, nil},
		{"an override of no endpoint", func(cfg map[string]any) {
			pluginBlock(cfg)["endpoints"] = map[string]any{"GET /report/{id}": map[string]any{"allow_origins": []any{"https://admin.example.com"}}}
		}, 0, []string{`corsgate.endpoints["GET /report/{id}"]: this file has no endpoint GET /report/{id}`, `such as "GET /reports/{id}"`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := krakendLayout()
			tc.change(cfg)
			code, out, errOut := checkLayout(t, cfg)
			all := out + errOut
			if code != tc.code {
				t.Errorf("exit %d, want %d:\n%s", code, tc.code, all)
			}
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("output lacks %q:\n%s", w, all)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(all, w) {
					t.Errorf("output has %q:\n%s", w, all)
				}
			}
		})
	}
}

// The advice of check's warnings on the plugin layout works: moving the
// endpoint block where the warning says, and naming the override as it
// suggests, leave a file without warnings.
func TestCheckPluginLayoutAdviceWorks(t *testing.T) {
	cfg := krakendLayout()
	pluginBlock(cfg)["endpoints"] = map[string]any{"GET /report/{id}": map[string]any{"allow_origins": []any{"https://admin.example.com"}}}
	block := map[string]any{"allow_origins": []any{"https://x.example.com"}}
	cfg["endpoints"].([]any)[0].(map[string]any)["extra_config"] = map[string]any{"security/cors": block}
	if _, _, errOut := checkLayout(t, cfg); strings.Count(errOut, "warning:") != 2 {
		t.Fatalf("want two warnings:\n%s", errOut)
	}
	// As the warnings say: the override named "GET /reports/{id}", the
	// endpoint's block moved there.
	delete(cfg["endpoints"].([]any)[0].(map[string]any), "extra_config")
	pluginBlock(cfg)["endpoints"] = map[string]any{"GET /reports/{id}": block}
	code, out, errOut := runCLIStrict(t, cfg)
	if code != 0 || strings.Contains(errOut, "warning") || !strings.Contains(out, "is valid") {
		t.Errorf("after the advice: exit %d\n%s%s", code, out, errOut)
	}
}

func runCLIStrict(t *testing.T, cfg map[string]any) (int, string, string) {
	t.Helper()
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return runCLI("check", "--strict", "-c", writeConfig(t, string(data)))
}

// explain reads a KrakenD configuration that loads the corsgate plugin as
// the plugin decides: by its block and its endpoint overrides, not by a
// top-level security/cors block; a problem in the block is named with the
// block's path.
func TestExplainPluginLayout(t *testing.T) {
	cfg := krakendLayout()
	cfg["extra_config"].(map[string]any)["security/cors"] = map[string]any{"allow_origins": []any{"https://top-level.example.com"}}
	cfg["endpoints"] = append(cfg["endpoints"].([]any), map[string]any{"endpoint": "/other", "method": "GET",
		"backend": []any{map[string]any{"host": []any{"http://127.0.0.1:9000"}, "url_pattern": "/other"}}})
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := writeConfig(t, string(data))
	for _, tc := range []struct {
		origin, path string
		code         int
	}{
		{"https://admin.example.com", "/reports/7", 0},     // the block's endpoint override
		{"https://app.example.com", "/reports/7", 1},       // which replaces the service origins
		{"https://app.example.com", "/other", 0},           // the block's service-level settings
		{"https://top-level.example.com", "/other", 1},     // not the top-level block
		{"https://top-level.example.com", "/reports/7", 1}, // nor there
	} {
		code, out, errOut := runCLI("explain", "-c", path, "--state-dir", t.TempDir(), "--json", "--origin", tc.origin, "--path", tc.path)
		if code != tc.code {
			t.Errorf("explain %s from %s: exit %d, want %d\n%s%s", tc.path, tc.origin, code, tc.code, out, errOut)
		}
		if !strings.Contains(errOut, `loads the corsgate plugin: explained as the plugin decides inside KrakenD, by extra_config["plugin/http-server"].corsgate`) {
			t.Errorf("explain does not say it read the plugin's block:\n%s", errOut)
		}
	}

	pluginBlock(cfg)["security/cors"].(map[string]any)["allow_origins"] = []any{"https://app.example.com/"}
	data, _ = json.Marshal(cfg)
	code, _, errOut := runCLI("explain", "-c", writeConfig(t, string(data)), "--origin", "https://app.example.com", "--path", "/other")
	if code != 2 || !strings.Contains(errOut, `problem(s) in the CORS settings of the corsgate plugin`) || !strings.Contains(errOut, `extra_config["plugin/http-server"].corsgate["security/cors"].allow_origins[0]`) {
		t.Errorf("explain of a plugin block with a trailing slash: exit %d\n%s", code, errOut)
	}
}
