package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/corsgate/corsgate/internal/testwait"
	"github.com/corsgate/corsgate/plugin/plugintest"
)

// provenanceGateway is a gateway with an admin API, debug on (so that
// refusals carry X-Cors-Reason) and its own state directory, on the file
// it returns the path of.
func provenanceGateway(t *testing.T, origins ...string) (*runningGateway, string, plugintest.Gateway, int) {
	t.Helper()
	be := newBackend(t)
	port, adminPort := freePort(t), freePort(t)
	o := []any{}
	for _, s := range origins {
		o = append(o, s)
	}
	gw := plugintest.Gateway{
		CORS:       plugintest.Block{"allow_origins": o, "allow_methods": []any{"GET", "PUT"}, "debug": true},
		BackendURL: be.URL,
		Endpoints: []plugintest.Endpoint{
			plugintest.EP("GET", "/users/{id}", nil),
			plugintest.EP("PUT", "/users/{id}", plugintest.Block{"allow_headers": []any{"Content-Type"}}),
		},
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "gateway.json")
	writeGatewayFile(t, path, gw, port)
	g := startAdminGateway(t, path, port, adminPort)
	return g, path, gw, port
}

// writeGatewayFile writes gw's configuration, on port, at path.
func writeGatewayFile(t *testing.T, path string, gw plugintest.Gateway, port int) {
	t.Helper()
	data, err := json.MarshalIndent(gw.JSON(port), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// preflight sends a preflight from origin for method on path, and returns
// the answer's Access-Control-Allow-Origin and X-Cors-Reason.
func (g *runningGateway) preflight(t *testing.T, path, origin, method string) (string, string) {
	t.Helper()
	resp, _ := do(t, http.MethodOptions, g.URL+path, plugintest.Preflight(origin, method))
	return resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("X-Cors-Reason")
}

// cli runs corsgate config against g's admin API.
func (g *runningGateway) cli(t *testing.T, args ...string) cliResult {
	t.Helper()
	return runCLIEnv(t, []string{"CORSGATE_ADMIN_URL=" + g.Admin, "CORSGATE_ADMIN_USER=" + adminUser, "CORSGATE_ADMIN_PASSWORD=" + adminPassword}, args...)
}

// A file edit that the run-time layer masks: the reload logs a warning
// naming the key, the scope, the layer's revision and author and the
// command that resolves it; the status lists it; X-Cors-Reason names the
// layer; corsgate config diff shows it; and the command the warning gives,
// run as given, makes the file's edit apply.
func TestMaskedFileEditEndToEnd(t *testing.T) {
	t.Parallel()
	g, path, gw, port := provenanceGateway(t, originApp)
	if code, _, body := g.cloudantPut(t, "", originAdmin); code != 200 {
		t.Fatalf("Cloudant PUT: %d %s", code, body)
	}
	// The operator adds http://localhost:3000 to the file.
	gw.CORS["allow_origins"] = []any{originApp, originLocal}
	writeGatewayFile(t, path, gw, port)
	var warning string
	testwait.Until(t, "the reload's warning", func() bool {
		for _, line := range strings.Split(g.logs.String(), "\n") {
			if strings.Contains(line, "does not apply: the run-time layer sets it") {
				warning = line
				return true
			}
		}
		return false
	})
	for _, want := range []string{"allow_origins", "scope service", "revision 1, by admin", "corsgate config drop allow_origins --scope service"} {
		if !strings.Contains(warning, want) {
			t.Errorf("the warning lacks %q: %s", want, warning)
		}
	}
	acao, reason := g.preflight(t, "/users/1", originLocal, "GET")
	if acao != "" || !strings.Contains(reason, "set by the run-time layer, revision 1, by admin, at ") || !strings.Contains(reason, "corsgate config drop allow_origins --scope service") {
		t.Errorf("a refused preflight: %q, X-Cors-Reason %q", acao, reason)
	}
	var st struct {
		File struct {
			Masked []struct {
				Scope, Key string
				SetBy      struct{ Revision uint64 } `json:"set_by"`
			}
		}
	}
	_, body := g.adminCall(t, "GET", "/v1/cors/status", "")
	if err := json.Unmarshal([]byte(body), &st); err != nil || len(st.File.Masked) != 1 || st.File.Masked[0].Key != "allow_origins" || st.File.Masked[0].SetBy.Revision != 1 {
		t.Errorf("status: %s", body)
	}
	diff := g.cli(t, "config", "diff")
	if diff.Code != 0 || !strings.Contains(diff.Stdout, "allow_origins") || !strings.Contains(diff.Stdout, "layer (revision 1, by admin), masks the file") || !strings.Contains(diff.Stdout, "1 masked by the run-time layer") {
		t.Errorf("corsgate config diff: exit %d\n%s%s", diff.Code, diff.Stdout, diff.Stderr)
	}
	// The command of the warning, as given.
	_, cmd, _ := strings.Cut(warning, "drop it from the layer with: corsgate ")
	cmd, _, _ = strings.Cut(cmd, " (")
	args := strings.Fields(cmd)
	if len(args) < 2 {
		t.Fatalf("no command in the warning: %s", warning)
	}
	if res := g.cli(t, args...); res.Code != 0 {
		t.Fatalf("corsgate %s: exit %d\n%s%s", cmd, res.Code, res.Stdout, res.Stderr)
	}
	if acao, reason := g.preflight(t, "/users/1", originLocal, "GET"); acao != originLocal {
		t.Errorf("after the drop, the file's edit does not apply: %q %q", acao, reason)
	}
	_, body = g.adminCall(t, "GET", "/v1/cors/status", "")
	if strings.Contains(body, `"masked"`) {
		t.Errorf("the status still lists masked keys: %s", body)
	}
}

// corsgate explain agrees with the running gateway: with a run-time layer
// (read from the state directory, or from --admin) and without one.
func TestExplainAgreesWithTheGateway(t *testing.T) {
	t.Parallel()
	g, path, _, _ := provenanceGateway(t, originApp)
	verdict := func(args ...string) (string, string) {
		t.Helper()
		res := runCLI(t, append([]string{"explain", "-c", path, "--origin", originAdmin, "--method", "PUT", "--path", "/users/1"}, args...)...)
		var ex struct {
			Layer   struct{ From string }
			Verdict struct{ Preflight, Reason string }
		}
		if err := json.Unmarshal([]byte(res.Stdout), &ex); err != nil {
			t.Fatalf("explain %v: %v\n%s%s", args, err, res.Stdout, res.Stderr)
		}
		return ex.Layer.From + " " + ex.Verdict.Preflight, ex.Verdict.Reason
	}
	gateway := func() string {
		if acao, _ := g.preflight(t, "/users/1", originAdmin, "PUT"); acao != "" {
			return "allowed"
		}
		return "refused"
	}
	// No layer yet.
	if got, _ := verdict(); got != "none refused" || gateway() != "refused" {
		t.Errorf("without a layer: explain %q, the gateway %s", got, gateway())
	}
	if code, _, body := g.cloudantPut(t, "", originApp, originAdmin); code != 200 {
		t.Fatalf("Cloudant PUT: %d %s", code, body)
	}
	if gateway() != "allowed" {
		t.Fatal("the gateway does not apply the layer")
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "cache allowed"},
		{[]string{"--admin", g.Admin}, "admin allowed"},
		{[]string{"--file-only"}, "file-only refused"},
	} {
		res := runCLIEnv(t, []string{"CORSGATE_ADMIN_USER=" + adminUser, "CORSGATE_ADMIN_PASSWORD=" + adminPassword}, append([]string{"explain", "-c", path, "--origin", originAdmin, "--method", "PUT", "--path", "/users/1"}, c.args...)...)
		var ex struct {
			Layer   struct{ From string }
			Verdict struct{ Preflight string }
		}
		json.Unmarshal([]byte(res.Stdout), &ex)
		if got := ex.Layer.From + " " + ex.Verdict.Preflight; got != c.want {
			t.Errorf("explain %v: %q, want %q\n%s%s", c.args, got, c.want, res.Stdout, res.Stderr)
		}
	}
	// A refusal names the layer, as the gateway does.
	_, reason := g.preflight(t, "/users/1", "https://evil.example", "PUT")
	res := runCLI(t, "explain", "-c", path, "--origin", "https://evil.example", "--method", "PUT", "--path", "/users/1")
	if !strings.Contains(reason, "set by the run-time layer, revision 1") || !strings.Contains(res.Stdout, strings.ReplaceAll(strings.TrimPrefix(reason, "preflight refused: "), `"`, `\"`)) {
		t.Errorf("X-Cors-Reason %q and explain disagree:\n%s", reason, res.Stdout)
	}
}

// corsgate config export, then a gateway started on the exported file with
// an empty layer, answers every request as the gateway with the layer did.
func TestExportThenResetGivesTheSameAnswers(t *testing.T) {
	t.Parallel()
	g, path, _, _ := provenanceGateway(t, originApp)
	if code, _, body := g.cloudantPut(t, "", originAdmin, originLocal); code != 200 {
		t.Fatalf("Cloudant PUT: %d %s", code, body)
	}
	if resp, body := g.adminCall(t, "PUT", "/v1/cors/scopes/PUT/users/{id}", `{"allow_headers": ["Content-Type", "X-Api-Key"], "max_age": "10m"}`, "If-Match", `"1"`); resp.StatusCode != 200 {
		t.Fatalf("scope PUT: %d %s", resp.StatusCode, body)
	}
	export := g.cli(t, "config", "export", "-c", path)
	if export.Code != 0 {
		t.Fatalf("export: exit %d\n%s", export.Code, export.Stderr)
	}
	exported := filepath.Join(t.TempDir(), "exported.json")
	if err := os.WriteFile(exported, []byte(export.Stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	if check := runCLI(t, "check", "-c", exported); check.Code != 0 {
		t.Fatalf("the exported file does not pass check:\n%s%s", check.Stdout, check.Stderr)
	}
	patch := g.cli(t, "config", "export", "-c", path, "--patch")
	if patch.Code != 0 || !strings.Contains(patch.Stdout, `"path": "/extra_config/security~1cors"`) || !strings.Contains(patch.Stdout, `"path": "/endpoints/1/extra_config/security~1cors"`) {
		t.Errorf("export --patch: exit %d\n%s%s", patch.Code, patch.Stdout, patch.Stderr)
	}
	port, adminPort := freePort(t), freePort(t)
	h := startAdminGateway(t, exported, port, adminPort, "-p", strconv.Itoa(port), "--state-dir", t.TempDir())
	requests := []struct {
		method, path string
		header       http.Header
	}{
		{"OPTIONS", "/users/1", plugintest.Preflight(originAdmin, "GET")},
		{"OPTIONS", "/users/1", plugintest.Preflight(originApp, "GET")},
		{"OPTIONS", "/users/1", plugintest.Preflight(originLocal, "PUT", "X-Api-Key")},
		{"OPTIONS", "/users/1", plugintest.Preflight(originLocal, "PUT", "X-Other")},
		{"OPTIONS", "/users/1", plugintest.Preflight("https://evil.example", "GET")},
		{"GET", "/users/1", plugintest.Header("Origin", originAdmin)},
		{"GET", "/users/1", plugintest.Header("Origin", "https://evil.example")},
	}
	answer := func(base string, i int) string {
		r := requests[i]
		resp, _ := do(t, r.method, base+r.path, r.header)
		var b strings.Builder
		b.WriteString(resp.Status)
		for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age", "Access-Control-Allow-Credentials", "Vary"} {
			b.WriteString("|" + k + "=" + strings.Join(resp.Header.Values(k), ","))
		}
		return b.String()
	}
	for i := range requests {
		if a, b := answer(g.URL, i), answer(h.URL, i); a != b {
			t.Errorf("request %d: the gateway with the layer answers\n %s\nthe one on the exported file\n %s", i, a, b)
		}
	}
	// And with the layer reset, the first gateway answers the same as long
	// as it runs the exported file: reset on the exported gateway changes
	// nothing.
	if res := runCLIEnv(t, []string{"CORSGATE_ADMIN_URL=" + h.Admin, "CORSGATE_ADMIN_USER=" + adminUser, "CORSGATE_ADMIN_PASSWORD=" + adminPassword}, "config", "reset"); res.Code != 0 {
		t.Fatalf("reset: %s", res.Stderr)
	}
	for i := range requests {
		if a, b := answer(g.URL, i), answer(h.URL, i); a != b {
			t.Errorf("after reset, request %d differs:\n %s\n %s", i, a, b)
		}
	}
}

// A Cloudant PUT through the binary writes only what differs from the
// effective values.
func TestCloudantWritesOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	g, _, _, _ := provenanceGateway(t, originApp)
	resp, body := g.adminCall(t, "PUT", "/_api/v2/user/config/cors", `{"enable_cors": true, "allow_credentials": false, "origins": ["`+originApp+`", "`+originLocal+`"]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("PUT: %d %s", resp.StatusCode, body)
	}
	_, layer := g.adminCall(t, "GET", "/v1/cors/layer", "")
	if strings.Join(strings.Fields(layer), "") != `{"service":{"allow_origins":["`+originApp+`","`+originLocal+`"]}}` {
		t.Errorf("the layer holds more than what changed: %s", layer)
	}
}
