package main

import (
	"bytes"
	"encoding/json"
	"net"
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

	// Unknown keys: each line keeps its "did you mean"; the known keys
	// are printed once for each kind of block, not after every line.
	typos := strings.Replace(testConfig, `"allow_methods": ["GET", "POST"]`, `"allow_method": ["GET", "POST"], "@note": "x", "maxage": "1h"`, 1)
	typos = strings.Replace(typos, `"allow_methods": ["PUT"]`, `"allow_methods": ["PUT"], "disabled": false`, 1)
	code, _, errOut = runCLI("check", "-c", writeConfig(t, typos))
	if code != 1 {
		t.Errorf("check with unknown keys: code %d", code)
	}
	for _, want := range []string{
		`4 problem(s)`,
		"  " + `extra_config["security/cors"].allow_method: unknown key "allow_method"; did you mean "allow_methods"?` + "\n",
		"  " + `extra_config["security/cors"].maxage: unknown key "maxage"; did you mean "max_age"?` + "\n",
		"  " + `extra_config["security/cors"]["@note"]: unknown key "@note"` + "\n",
		"  " + `endpoints[1].extra_config["security/cors"].disabled (endpoint "PUT /orders/{id}"): unknown key "disabled"; did you mean "disable"?` + "\n",
		"corsgate: the keys known at " + `extra_config["security/cors"]` + " are allow_any_origin_with_credentials_unsafe, allow_credentials, allow_headers, allow_methods, allow_origins, allow_origins_regex, allow_origins_regex_unsafe, allow_private_network, debug, expose_headers, max_age, options_passthrough, options_success_status, terminate_unmatched_request, unmatched_status, websocket_origins\n",
		"corsgate: the keys known at " + `endpoints[1].extra_config["security/cors"]` + " are allow_any_origin_with_credentials_unsafe, allow_credentials, allow_headers, allow_methods, allow_origins, allow_origins_regex, allow_origins_regex_unsafe, allow_private_network, debug, disable, expose_headers,",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if n := strings.Count(errOut, "allow_private_network"); n != 2 {
		t.Errorf("the known keys are printed %d times, want once for each kind of block:\n%s", n, errOut)
	}

	code, _, errOut = runCLI("check", "-c", writeConfig(t, `{"version": 3, "endpoints": [`))
	if code != 1 || !strings.Contains(errOut, "gateway.json") {
		t.Errorf("check of broken JSON: code %d, err %q", code, errOut)
	}
}

func TestExplain(t *testing.T) {
	cfg := writeConfig(t, testConfig)
	code, out, errOut := runCLI("explain", "-c", cfg, "--origin", "https://app.example.com", "--method", "PUT", "--path", "/orders/7", "--header", "X-Api-Key")
	if code != 1 {
		t.Fatalf("explain of a refused request: code %d, want 1; err %q", code, errOut)
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
		!strings.Contains(ex.Verdict.Reason, `origin "https://app.example.com" is not in allow_origins of PUT /orders/{id} (set in the configuration file); add it there`) {
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
	if code, out, errOut := runCLI("version", "extra"); code != 2 || out != "" || !strings.Contains(errOut, `unexpected argument "extra"`) {
		t.Errorf("version extra: %d %q %q", code, out, errOut)
	}
}

// The problems a JSON decoder hides, and JSON syntax errors, are reported
// with their place and a fix, and the file's path once.
func TestCheckFileProblems(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"duplicate key in a CORS block", `{"version": 3, "extra_config": {"security/cors": {
  "allow_origins": ["https://app.example.com"],
  "allow_origins": []}}, "endpoints": []}`,
			[]string{`extra_config["security/cors"].allow_origins: "allow_origins" is written twice in this object, on lines 2 and 3`}},
		{"CORS block at the top level", `{"version": 3, "security/cors": {"allow_origins": ["https://app.example.com"]}, "endpoints": []}`,
			[]string{`["security/cors"]: a CORS block here has no effect`, "move it to extra_config (for the whole gateway)"}},
		{"CORS block in a backend", `{"version": 3, "endpoints": [{"endpoint": "/a", "backend": [{"host": ["http://127.0.0.1:9000"], "url_pattern": "/a",
  "extra_config": {"security/cors": {"allow_origins": ["https://app.example.com"]}}}]}]}`,
			[]string{`endpoints[0].backend[0].extra_config["security/cors"]: a CORS block in a backend's extra_config has no effect`, "move it to endpoints[0].extra_config"}},
		{"trailing comma", "{\n  \"version\": 3,\n  \"endpoints\": [],\n}\n",
			[]string{"gateway.json:4:1: not valid JSON", "hint: JSON allows no comma after the last item"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.body)
			code, out, errOut := runCLI("check", "-c", path)
			if code != 1 || out != "" {
				t.Errorf("exit %d, stdout %q; want 1 and nothing", code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if n := strings.Count(errOut, path); n != 1 {
				t.Errorf("the path appears %d times:\n%s", n, errOut)
			}
		})
	}
}

// check warns about an endpoint whose method the service methods lack.
func TestCheckWarnsAboutServiceMethods(t *testing.T) {
	cfg := `{"version": 3, "extra_config": {"security/cors": {"allow_origins": ["https://app.example.com"], "allow_methods": ["GET"]}},
	  "endpoints": [{"endpoint": "/orders", "method": "POST", "backend": [{"host": ["http://127.0.0.1:9000"], "url_pattern": "/a"}]}]}`
	code, out, errOut := runCLI("check", "-c", writeConfig(t, cfg))
	if code != 0 || !strings.Contains(out, "is valid") ||
		!strings.Contains(errOut, `warning: extra_config["security/cors"].allow_methods (endpoint "POST /orders"): endpoint POST /orders has no security/cors block of its own`) ||
		!strings.Contains(errOut, `Add "POST" to allow_methods`) {
		t.Errorf("code %d\nout %q\nerr %q", code, out, errOut)
	}
}

// explain refuses malformed input with exit status 2, naming each flag.
func TestExplainRefusesMalformedInput(t *testing.T) {
	cfg := writeConfig(t, `{"version": 3, "extra_config": {"security/cors": {"allow_origins": ["https://app.example.com"]}}, "endpoints": []}`)
	code, out, errOut := runCLI("explain", "-c", cfg, "--origin", "localhost:5173", "--method", "get", "--header", "Content-Type: application/json")
	for _, w := range []string{
		`--origin "localhost:5173": not an origin a browser sends`, `did you mean "http://localhost:5173"?`,
		`--method "get": "get" is not upper case`,
		`--header "Content-Type: application/json": "Content-Type: application/json" is a header line, not a header name`,
	} {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errOut)
		}
	}
	if code != 2 || out != "" {
		t.Errorf("exit %d, stdout %q; want 2 and nothing", code, out)
	}
}

func TestCheckWarnsAboutTheUnsafeOptIn(t *testing.T) {
	cfg := `{"version": 3, "extra_config": {"security/cors": {"allow_credentials": true, "allow_any_origin_with_credentials_unsafe": true}},
	  "endpoints": [{"endpoint": "/a", "backend": [{"host": ["http://127.0.0.1:9000"], "url_pattern": "/a"}]}]}`
	code, out, errOut := runCLI("check", "-c", writeConfig(t, cfg))
	if code != 0 || !strings.Contains(out, "is valid") || !strings.Contains(errOut, `corsgate: warning: extra_config["security/cors"].allow_any_origin_with_credentials_unsafe: allow_any_origin_with_credentials_unsafe is on at the service level: every website`) {
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

// explain --har refuses the flags of one request, a missing file and a
// file that is not a HAR, each with exit status 2 and a message.
func TestExplainHARInputs(t *testing.T) {
	cfg := writeConfig(t, `{"version": 3, "extra_config": {"security/cors": {"allow_origins": ["https://app.example.com"]}}, "endpoints": []}`)
	notHAR := writeConfig(t, `{"version": 3}`)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--har", "x.har", "--origin", "https://a.example"}, "--har reads the requests from the file; drop --origin"},
		{[]string{"--har", "/nonexistent.har"}, "--har /nonexistent.har: no such file"},
		{[]string{"--har", notHAR}, "not a HAR file: it has no log.entries"},
		{[]string{"--gateway", "https://api.example.com", "--origin", "https://a.example"}, "--gateway only goes with --har"},
	} {
		code, out, errOut := runCLI(append([]string{"explain", "-c", cfg}, tc.args...)...)
		if code != 2 || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args, code, out, errOut, tc.want)
		}
	}
}

// check asks the etcd of an etcd store whether anything compacts it; when
// etcd does not answer, it says it cannot tell, and the file is still
// valid.
func TestCheckAsksEtcdAboutCompaction(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	t.Setenv("CORSGATE_ADMIN_TOKEN", "0123456789abcdef0123")
	cfg := strings.Replace(testConfig, `"extra_config": {`, `"extra_config": {
    "corsgate/admin": {"listen": "127.0.0.1:19093", "store": {"type": "etcd", "endpoints": ["http://`+dead+`"], "prefix": "/corsgate/check/", "dial_timeout": "500ms"}},`, 1)
	code, out, errOut := runCLI("check", "-c", writeConfig(t, cfg))
	if code != 0 || !strings.Contains(out, "is valid") {
		t.Fatalf("check: code %d, out %q, err %q", code, out, errOut)
	}
	if !strings.Contains(errOut, "note: whether anything compacts etcd's history cannot be told: etcd at http://") {
		t.Errorf("check with etcd down: %q", errOut)
	}
}
