package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testConfig = `{
  "version": 3,
  "port": 18123,
  "extra_config": {
    "security/cors": {"allow_origins": ["https://app.example.com"], "allow_methods": ["GET", "POST"], "allow_headers": ["Content-Type"]}
  },
  "endpoints": [
    {"endpoint": "/orders", "method": "GET", "backend": [{"host": ["http://127.0.0.1:9000"], "url_pattern": "/orders"}]},
    {"endpoint": "/orders/{id}", "method": "PUT", "backend": [{"host": ["http://127.0.0.1:9000"], "url_pattern": "/orders/{id}",
      "extra_config": {"modifier/martian": {}}}],
     "extra_config": {"security/cors": {"allow_origins": ["https://admin.example.com"], "allow_methods": ["PUT"], "allow_headers": ["Content-Type", "X-Api-Key"]}}}
  ]
}`

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "gateway.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCheck(t *testing.T) {
	code, out, errOut := runCLI("check", "-c", writeConfig(t, testConfig))
	if code != 0 || !strings.Contains(out, "is valid: 2 endpoint(s)") {
		t.Errorf("check valid: code %d, out %q, err %q", code, out, errOut)
	}
	if !strings.Contains(errOut, `endpoints[1].backend[0].extra_config["modifier/martian"]`) || !strings.Contains(errOut, "no effect") {
		t.Errorf("check did not warn about the unsupported namespace: %q", errOut)
	}

	bad := strings.Replace(testConfig, `"allow_methods": ["PUT"]`, `"allow_methods": ["put"], "max_age": 12`, 1)
	code, out, errOut = runCLI("check", "-c", writeConfig(t, bad))
	if code != 1 || strings.Contains(out, "is valid") {
		t.Errorf("check invalid: code %d, out %q", code, out)
	}
	for _, want := range []string{
		`2 problem(s)`,
		`endpoints[1].extra_config["security/cors"].allow_methods[0] (endpoint "PUT /orders/{id}"): "put" is not upper case`,
		`endpoints[1].extra_config["security/cors"].max_age (endpoint "PUT /orders/{id}"): 12 is a number, not a string`,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}

	code, _, errOut = runCLI("check", "-c", writeConfig(t, `{"version": 3, "endpoints": [`))
	if code != 1 || !strings.Contains(errOut, "gateway.json") {
		t.Errorf("check of broken JSON: code %d, err %q", code, errOut)
	}
}

func TestExplain(t *testing.T) {
	cfg := writeConfig(t, testConfig)
	code, out, errOut := runCLI("explain", "-c", cfg, "--origin", "https://app.example.com", "--method", "PUT", "--path", "/orders/7", "--header", "X-Api-Key")
	if code != 0 {
		t.Fatalf("explain: code %d, err %q", code, errOut)
	}
	var ex struct {
		Endpoint struct {
			Matched  bool
			Endpoint string
		}
		Policy             struct{ Source string }
		Origin             struct{ Allowed bool }
		Verdict            struct{ Preflight, Actual, Reason string }
		Preflight_response struct {
			Status  int
			Headers map[string]string
		}
	}
	if err := json.Unmarshal([]byte(out), &ex); err != nil {
		t.Fatalf("explain output is not JSON: %v\n%s", err, out)
	}
	if !ex.Endpoint.Matched || ex.Endpoint.Endpoint != "PUT /orders/{id}" || ex.Policy.Source != "endpoint" {
		t.Errorf("endpoint/policy: %+v %+v", ex.Endpoint, ex.Policy)
	}
	if ex.Origin.Allowed || ex.Verdict.Preflight != "refused" || ex.Verdict.Actual != "refused" ||
		!strings.Contains(ex.Verdict.Reason, `origin "https://app.example.com" is not in allow_origins of PUT /orders/{id}; add it there`) {
		t.Errorf("verdict: %+v", ex.Verdict)
	}
	if ex.Preflight_response.Status != 204 || ex.Preflight_response.Headers["Access-Control-Allow-Origin"] != "" {
		t.Errorf("preflight response: %+v", ex.Preflight_response)
	}

	code, out, _ = runCLI("explain", "-c", cfg, "--origin", "https://admin.example.com", "--method", "PUT", "--path", "/orders/7", "--header", "x-api-key,content-type")
	if code != 0 || !strings.Contains(out, `"preflight": "allowed"`) || !strings.Contains(out, `"Access-Control-Allow-Headers": "x-api-key,content-type"`) {
		t.Errorf("allowed explain: code %d\n%s", code, out)
	}

	if code, _, errOut := runCLI("explain", "-c", cfg, "--path", "orders"); code != 2 || !strings.Contains(errOut, "must start with /") {
		t.Errorf("explain with a bad path: code %d, err %q", code, errOut)
	}
}

func TestUsage(t *testing.T) {
	if code, _, errOut := runCLI(); code != 2 || !strings.Contains(errOut, "Usage:") {
		t.Errorf("no args: %d %q", code, errOut)
	}
	if code, _, errOut := runCLI("frobnicate"); code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %d %q", code, errOut)
	}
	if code, _, errOut := runCLI("check"); code != 2 || !strings.Contains(errOut, "-c FILE is required") {
		t.Errorf("check without -c: %d %q", code, errOut)
	}
	if code, out, _ := runCLI("version"); code != 0 || !strings.HasPrefix(out, "corsgate dev (go") {
		t.Errorf("version: %d %q", code, out)
	}
}

func TestCheckWarnsAboutTheUnsafeOptIn(t *testing.T) {
	cfg := `{"version": 3, "extra_config": {"security/cors": {"allow_credentials": true, "allow_any_origin_with_credentials_unsafe": true}},
	  "endpoints": [{"endpoint": "/a", "backend": [{"host": ["http://127.0.0.1:9000"], "url_pattern": "/a"}]}]}`
	code, out, errOut := runCLI("check", "-c", writeConfig(t, cfg))
	if code != 0 || !strings.Contains(out, "is valid") || !strings.Contains(errOut, "warning: allow_any_origin_with_credentials_unsafe is on at the service level") {
		t.Errorf("code %d\nout %q\nerr %q", code, out, errOut)
	}
}

func TestRouterErrorReportedOnce(t *testing.T) {
	cfg := `{"version": 3, "extra_config": {"router": {"auto_options": "yes"}},
	  "endpoints": [{"endpoint": "/a", "backend": [{"host": ["http://127.0.0.1:9000"], "url_pattern": "/a"}]}]}`
	code, _, errOut := runCLI("check", "-c", writeConfig(t, cfg))
	if code != 1 || strings.Count(errOut, "auto_options") != 1 || !strings.Contains(errOut, `extra_config.router.auto_options: "yes" is not a boolean`) {
		t.Errorf("code %d, err %q", code, errOut)
	}
}

func TestHelpExitsZero(t *testing.T) {
	for _, cmd := range []string{"run", "check", "explain", "playground"} {
		if code, _, errOut := runCLI(cmd, "-h"); code != 0 || !strings.Contains(errOut, "-c") && cmd != "playground" {
			t.Errorf("%s -h: code %d, err %q", cmd, code, errOut)
		}
	}
	if code, _, _ := runCLI("check", "--no-such-flag"); code != 2 {
		t.Errorf("bad flag: code %d, want 2", code)
	}
}
