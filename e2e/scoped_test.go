package e2e

// End-to-end tests of the scoped CORS features against the corsgate
// binary: the scope table of package plugintest (which package plugin
// also runs in process), and what only the binary does: "corsgate check"
// on scope mistakes and the start-up warning of the unsafe opt-in.

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/corsgate/corsgate/plugin/plugintest"
)

// TestScopeCases runs the scope table against "corsgate run".
func TestScopeCases(t *testing.T) {
	t.Parallel()
	plugintest.RunScopeCases(t, func(t *testing.T, pg plugintest.Gateway) plugintest.Client {
		g := startGateway(t, false, pg.JSON)
		return func(t *testing.T, method, path string, h http.Header) (*http.Response, string) {
			req, err := http.NewRequest(method, g.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header = h
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp, string(body)
		}
	})
}

func TestCheckRefusesScopeMistakes(t *testing.T) {
	t.Parallel()
	const endpointCORS = `endpoints[0].extra_config["security/cors"]`
	base := func() obj {
		return plugintest.ScopeCases()[0].Gateway.JSON(8080)
	}
	// endpointBlock returns the security/cors block of endpoint i.
	endpointBlock := func(cfg obj, i int) obj {
		return cfg["endpoints"].([]any)[i].(obj)["extra_config"].(obj)["security/cors"].(obj)
	}
	serviceBlock := func(cfg obj) obj {
		return cfg["extra_config"].(obj)["security/cors"].(obj)
	}

	t.Run("the base configuration is valid", func(t *testing.T) {
		res := runCLI(t, "check", "-c", plugintest.WriteFile(t, base()))
		if res.Code != 0 {
			t.Fatalf("exit status = %d, want 0\nstdout:\n%s\nstderr:\n%s", res.Code, res.Stdout, res.Stderr)
		}
	})

	cases := []struct {
		name   string
		mutate func(cfg obj)
		want   []string // all must appear in stderr
	}{
		{
			name: "unanchored regex",
			mutate: func(cfg obj) {
				serviceBlock(cfg)["allow_origins_regex"] = []any{`https://pr-[0-9]+\.preview\.example\.com`}
			},
			want: []string{corsPath + ".allow_origins_regex[0]", "anchor",
				`"^(?:https://pr-[0-9]+\\.preview\\.example\\.com)$"`},
		},
		{
			name: "regex anchored only at the start",
			mutate: func(cfg obj) {
				serviceBlock(cfg)["allow_origins_regex"] = []any{`^https://pr-[0-9]+\.preview\.example\.com`}
			},
			want: []string{corsPath + ".allow_origins_regex[0]", "anchor"},
		},
		{
			name: "wildcard glued to the domain",
			mutate: func(cfg obj) {
				serviceBlock(cfg)["allow_origins"] = []any{"https://*example.com"}
			},
			want: []string{corsPath + ".allow_origins[0]", "did you mean", `"https://*.example.com"`},
		},
		{
			name: "null with credentials",
			mutate: func(cfg obj) {
				c := serviceBlock(cfg)
				c["allow_origins"] = []any{"null"}
				c["allow_credentials"] = true
			},
			want: []string{corsPath + ".allow_origins", `"null"`, "allow_credentials"},
		},
		{
			name: "endpoint credentials with a null origin inherited from the service",
			mutate: func(cfg obj) {
				serviceBlock(cfg)["allow_origins"] = []any{originApp, "null"}
				c := endpointBlock(cfg, 1)
				c["allow_credentials"] = true
			},
			want: []string{`endpoints[1].extra_config["security/cors"].allow_origins`,
				`(endpoint "PUT /users/{id}")`, `"null"`, "inherited"},
		},
		{
			name: "endpoint-level error names the endpoint",
			mutate: func(cfg obj) {
				endpointBlock(cfg, 0)["allow_origins"] = []any{"https://admin.example.com/"}
			},
			want: []string{endpointCORS + ".allow_origins[0]", `(endpoint "GET /admin/{id}")`, `"https://admin.example.com"`},
		},
		{
			name: "endpoint inherits allow_methods without its own method",
			mutate: func(cfg obj) {
				// PUT /users/{id} keeps a block but no longer lists its
				// methods: it inherits the service's GET, POST.
				delete(endpointBlock(cfg, 1), "allow_methods")
				endpointBlock(cfg, 1)["max_age"] = "1m"
			},
			want: []string{`endpoints[1].extra_config["security/cors"].allow_methods`, `(endpoint "PUT /users/{id}")`, "PUT", "inherited"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base()
			tc.mutate(cfg)
			res := runCLI(t, "check", "-c", plugintest.WriteFile(t, cfg))
			if res.Code != 1 {
				t.Errorf("exit status = %d, want 1", res.Code)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.Stderr, w) {
					t.Errorf("stderr does not contain %q", w)
				}
			}
			if t.Failed() {
				t.Logf("stdout:\n%s\nstderr:\n%s", res.Stdout, res.Stderr)
			}
		})
	}
}

func TestUnsafeOptInWarnsAtStartup(t *testing.T) {
	t.Parallel()
	g := startGateway(t, false, plugintest.Gateway{
		CORS:      plugintest.Block{"allow_any_origin_with_credentials_unsafe": true, "allow_credentials": true},
		Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", nil)},
	}.JSON)
	line, ok := waitForLog(g, func(line string) bool {
		return strings.Contains(line, "WARNING") && strings.Contains(line, "allow_any_origin_with_credentials_unsafe")
	})
	if !ok {
		t.Errorf("no WARNING line naming allow_any_origin_with_credentials_unsafe in the gateway output:\n%s", g.Logs())
	} else {
		t.Logf("warning: %s", line)
	}
}
