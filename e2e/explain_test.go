package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
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
	if cli.Code != 0 {
		t.Fatalf("corsgate explain: exit %d\n%s", cli.Code, cli.Stderr)
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
