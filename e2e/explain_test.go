package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/corsgate/corsgate/plugin/plugintest"
)

// TestExplainEndpointMatchesCLI checks that GET /__debug/cors/explain on
// the running gateway and `corsgate explain` on the same file give the
// same JSON, that the reason names the policy and the fix, and that
// /__debug/cors/policy lists the endpoints.
func TestExplainEndpointMatchesCLI(t *testing.T) {
	t.Parallel()
	be := newBackend(t)
	var cfgPath string
	g := startGateway(t, true, func(port int) obj {
		cfg := plugintest.Gateway{
			CORS:       obj{"allow_origins": []any{"https://app.example.com"}, "allow_headers": []any{"Content-Type", "X-Api-Key"}},
			BackendURL: be.URL,
			Endpoints: []plugintest.Endpoint{
				{Method: "GET", Path: "/orders", URLPattern: "/users", CORS: obj{"allow_headers": []any{"Content-Type"}}},
				plugintest.EP("GET", "/users/{id}", nil),
			},
		}.JSON(port)
		cfgPath = plugintest.WriteFile(t, cfg)
		return cfg
	})

	q := url.Values{"origin": {"https://app.example.com"}, "method": {"GET"}, "path": {"/orders"}, "headers": {"x-api-key"}}
	resp, body := do(t, http.MethodGet, g.URL+"/__debug/cors/explain?"+q.Encode(), nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("explain: %d %v\n%s", resp.StatusCode, resp.Header, body)
	}
	cli := runCLI(t, "explain", "-c", cfgPath, "--origin", "https://app.example.com", "--method", "GET", "--path", "/orders", "--header", "x-api-key")
	if cli.Code != 1 { // the header is refused: the browser would block
		t.Fatalf("corsgate explain: exit %d, want 1\n%s", cli.Code, cli.Stderr)
	}
	var fromHTTP, fromCLI map[string]any
	if err := json.Unmarshal([]byte(body), &fromHTTP); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(cli.Stdout), &fromCLI); err != nil {
		t.Fatal(err)
	}
	// The CLI says which run-time layer it used; the gateway needs not.
	if layer, _ := fromCLI["layer"].(map[string]any); layer["from"] != "none" {
		t.Errorf("the CLI's layer: %v", fromCLI["layer"])
	}
	delete(fromCLI, "layer")
	if !reflect.DeepEqual(fromHTTP, fromCLI) {
		t.Errorf("the endpoint and the CLI disagree:\nHTTP %s\nCLI  %s", body, cli.Stdout)
	}
	verdict, _ := fromHTTP["verdict"].(map[string]any)
	if verdict["preflight"] != "refused" || !strings.Contains(verdict["reason"].(string), `header "x-api-key" is not in allow_headers of GET /orders (set in the configuration file); add it there`) {
		t.Errorf("verdict: %v", verdict)
	}

	resp, body = do(t, http.MethodGet, g.URL+"/__debug/cors/policy", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `"endpoint": "GET /orders"`) || !strings.Contains(body, `"source": "endpoint"`) || !strings.Contains(body, `"endpoint": "GET /users/{id}"`) {
		t.Errorf("policy: %d\n%s", resp.StatusCode, body)
	}
}

// TestExplainExitStatuses runs the real binary: 0 when the browser allows
// the request, 1 when it would block it (one request, or any of a HAR
// file), 2 without a verdict; JSON when stdout is a pipe, the text form
// on request.
func TestExplainExitStatuses(t *testing.T) {
	t.Parallel()
	cfg := plugintest.WriteFile(t, cliGateway(obj{"allow_origins": []any{"https://app.example.com"}, "allow_methods": []any{"GET", "PUT"}, "allow_headers": []any{"Content-Type"}}).JSON(8080))
	env := []string{"CORSGATE_STATE_DIR=" + t.TempDir()}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string // parts of stdout; "{" first: the JSON form
		stderr string
	}{
		{"allowed, piped: JSON", []string{"-c", cfg, "--origin", "https://app.example.com", "--path", "/users/7"}, 0,
			[]string{"{", `"actual": "allowed"`, `"failures": []`}, ""},
		{"blocked, piped: JSON with every failure", []string{"-c", cfg, "--origin", "https://evil.example", "--method", "DELETE", "--path", "/users/7", "--header", "X-Api-Key"}, 1,
			[]string{"{", `"actual": "refused"`, `"check": "origin"`, `"check": "method"`, `"check": "header"`}, ""},
		{"blocked, text", []string{"-c", cfg, "--origin", "https://evil.example", "--method", "DELETE", "--path", "/users/7", "--header", "X-Api-Key", "--format", "text"}, 1,
			[]string{"blocked: the browser stops at the preflight", "failing checks: 3", `  2. also: method "DELETE"`, `  3. also: header "x-api-key"`}, ""},
		{"a URL as the path", []string{"-c", cfg, "--origin", "https://app.example.com", "--path", "https://api.example.com/users/7?x=1", "--summary"}, 0,
			[]string{"request: GET /users/7 from https://app.example.com"}, `is a URL: explaining its path "/users/7"`},
		{"HAR file with refused requests", []string{"-c", "../docs/examples/spa.json", "--har", "../docs/examples/spa.har", "--gateway", "https://api.example.com", "--summary"}, 1,
			[]string{"6 request(s): 3 explained (1 allowed, 2 refused)"}, ""},
		{"malformed input", []string{"-c", cfg, "--origin", "localhost:5173"}, 2, nil, `did you mean "http://localhost:5173"?`},
		{"a host as the path", []string{"-c", cfg, "--path", "api.example.com/users/7"}, 2, nil, `did you mean "/users/7"?`},
		{"a configuration that does not load", []string{"-c", filepath.Join(t.TempDir(), "missing.json")}, 2, nil, "missing.json"},
		{"disagreeing flags", []string{"-c", cfg, "--json", "--summary"}, 2, nil, "ask for different outputs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLIEnv(t, env, append([]string{"explain"}, tt.args...)...)
			if res.Code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.Code, tt.code, res.Stdout, res.Stderr)
			}
			for i, w := range tt.stdout {
				if i == 0 && w == "{" {
					if !json.Valid([]byte(res.Stdout)) {
						t.Errorf("stdout is not JSON:\n%s", res.Stdout)
					}
					continue
				}
				if !strings.Contains(res.Stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, res.Stdout)
				}
			}
			if tt.code == 2 && res.Stdout != "" {
				t.Errorf("stdout %q; want nothing without a verdict", res.Stdout)
			}
			if !strings.Contains(res.Stderr, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, res.Stderr)
			}
		})
	}
}
