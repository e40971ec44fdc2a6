package e2e

// End-to-end tests of the admin API, hot reload and corsgate config
// against the real binary: the Cloudant API, persistence across a
// restart, the 401 and 403 answers, start-up refusals, a reload after an
// editor's rename-replace, a refused bad edit, SIGHUP, and the CLI.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corsgate/corsgate/internal/testwait"
	"github.com/corsgate/corsgate/plugin/plugintest"
)

const (
	adminUser     = "admin"
	adminPassword = "e2e-password-123"
)

// adminEnv is the environment of a gateway with an admin API.
func adminEnv() []string {
	return append(os.Environ(), "CORSGATE_ADMIN_USER="+adminUser, "CORSGATE_ADMIN_PASSWORD="+adminPassword)
}

// runningGateway is a corsgate run process with an admin API.
type runningGateway struct {
	URL, Admin string
	cmd        *exec.Cmd
	logs       *syncBuffer
	done       chan struct{}
}

// startAdminGateway runs corsgate on the configuration file at path (whose
// port is gatewayPort) with --admin-listen on adminPort.
func startAdminGateway(t *testing.T, path string, gatewayPort, adminPort int, extra ...string) *runningGateway {
	t.Helper()
	return startAdminGatewayEnv(t, path, gatewayPort, adminPort, nil, extra...)
}

// startAdminGatewayEnv is startAdminGateway with env added to the
// gateway's environment.
func startAdminGatewayEnv(t *testing.T, path string, gatewayPort, adminPort int, env []string, extra ...string) *runningGateway {
	t.Helper()
	args := append([]string{"run", "-c", path, "--admin-listen", "127.0.0.1:" + strconv.Itoa(adminPort)}, extra...)
	return startGatewayProcess(t, binPath, args, gatewayPort, adminPort, env)
}

// startGatewayProcess runs bin with args, a gateway on gatewayPort with
// its admin API on adminPort (the corsgate binary, or KrakenD with the
// plugin), with the admin credentials and env in its environment, and
// waits until both answer.
func startGatewayProcess(t *testing.T, bin string, args []string, gatewayPort, adminPort int, env []string) *runningGateway {
	t.Helper()
	g := &runningGateway{
		URL:   "http://127.0.0.1:" + strconv.Itoa(gatewayPort),
		Admin: "http://127.0.0.1:" + strconv.Itoa(adminPort),
		logs:  &syncBuffer{},
		done:  make(chan struct{}),
	}
	g.cmd = exec.Command(bin, args...)
	g.cmd.Env = append(adminEnv(), env...)
	g.cmd.Stdout, g.cmd.Stderr = g.logs, g.logs
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { g.cmd.Wait(); close(g.done) }()
	t.Cleanup(func() {
		g.stop()
		if t.Failed() {
			t.Logf("gateway output:\n%s", g.logs.String())
		}
	})
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-g.done:
			t.Fatalf("the gateway exited:\n%s", g.logs.String())
		default:
		}
		resp, err := client.Get(g.URL + "/__health")
		if err == nil {
			resp.Body.Close()
			if resp2, err := client.Get(g.Admin + "/v1/cors/status"); err == nil {
				resp2.Body.Close()
				return g
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway did not become ready:\n%s", g.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (g *runningGateway) stop() {
	select {
	case <-g.done:
		return
	default:
	}
	g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.done:
	case <-time.After(5 * time.Second):
		g.cmd.Process.Kill()
		<-g.done
	}
}

// adminCall sends a request to the admin API with the credentials.
func (g *runningGateway) adminCall(t *testing.T, method, path, body string, kv ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, g.Admin+path, strings.NewReader(body))
	req.SetBasicAuth(adminUser, adminPassword)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(kv); i += 2 {
		req.Header.Set(kv[i], kv[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

// allowedOrigin is the Access-Control-Allow-Origin of a preflight from
// origin to GET /users/1.
func (g *runningGateway) allowedOrigin(t *testing.T, origin string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodOptions, g.URL+"/users/1", nil)
	req.Header = plugintest.Preflight(origin, "GET")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("Access-Control-Allow-Origin")
}

func adminConfig(t *testing.T, port int, origins ...string) (string, plugintest.Gateway) {
	o := []any{}
	for _, s := range origins {
		o = append(o, s)
	}
	g := plugintest.Gateway{
		CORS:      plugintest.Block{"allow_origins": o, "allow_methods": []any{"GET", "PUT"}},
		Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", nil)},
	}
	cfg := g.JSON(port)
	cfg["extra_config"].(map[string]any)["corsgate/admin"] = map[string]any{"store": map[string]any{"type": "embedded", "path": filepath.Join(t.TempDir(), "state")}}
	return plugintest.WriteFile(t, cfg), g
}

func TestAdminCloudantPersistsAcrossRestart(t *testing.T) {
	t.Parallel()
	port, adminPort := freePort(t), freePort(t)
	path, _ := adminConfig(t, port, originApp)
	g := startAdminGateway(t, path, port, adminPort)
	if got := g.allowedOrigin(t, originAdmin); got != "" {
		t.Fatalf("before the change: %q", got)
	}
	resp, body := g.adminCall(t, "PUT", "/_api/v2/user/config/cors", `{"origins": ["https://admin.example.com"]}`)
	if resp.StatusCode != 200 || strings.TrimSpace(body) != "{\n  \"ok\": true\n}" {
		t.Fatalf("PUT: %d %s", resp.StatusCode, body)
	}
	if got := g.allowedOrigin(t, originAdmin); got != originAdmin {
		t.Errorf("the next preflight after the PUT: %q", got)
	}
	_, before := g.adminCall(t, "GET", "/_api/v2/user/config/cors", "")
	g.stop()

	g2 := startAdminGateway(t, path, port, adminPort)
	_, after := g2.adminCall(t, "GET", "/_api/v2/user/config/cors", "")
	if after != before || g2.allowedOrigin(t, originAdmin) != originAdmin || g2.allowedOrigin(t, originApp) != "" {
		t.Errorf("after a restart: %s, want %s", after, before)
	}
}

func TestAdminAnswers401And403(t *testing.T) {
	t.Parallel()
	port, adminPort := freePort(t), freePort(t)
	path, _ := adminConfig(t, port, originApp)
	g := startAdminGateway(t, path, port, adminPort)
	resp, err := http.Get(g.Admin + "/_api/v2/user/config/cors")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("without credentials: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body := g.adminCall(t, "PUT", "/_api/v2/user/config/cors", `{"origins": ["https://evil.example"]}`, "Origin", "https://evil.example")
	if resp.StatusCode != 403 || g.allowedOrigin(t, "https://evil.example") != "" {
		t.Errorf("from another origin: %d %s", resp.StatusCode, body)
	}
	resp, body = g.adminCall(t, "GET", "/v1/cors/status", "", "Origin", "null")
	if resp.StatusCode != 403 {
		t.Errorf("from Origin null: %d %s", resp.StatusCode, body)
	}
}

func TestAdminStartupRefusals(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	cfg := plugintest.Gateway{CORS: plugintest.Block{"allow_origins": []any{originApp}}, Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/a", nil)}}.JSON(port)
	tests := []struct {
		name  string
		block map[string]any
		env   []string
		want  string
	}{
		{"no credential", map[string]any{"listen": "127.0.0.1:9099"}, nil, "the admin listener has no credential"},
		{"user without password", map[string]any{"listen": "127.0.0.1:9099"}, []string{"CORSGATE_ADMIN_USER=admin"}, "CORSGATE_ADMIN_PASSWORD"},
		{"not loopback, no TLS", map[string]any{"listen": "0.0.0.0:9099"}, []string{"CORSGATE_ADMIN_TOKEN=0123456789abcdef0123"}, "insecure_plaintext"},
		{"the gateway's port", map[string]any{"listen": "127.0.0.1:" + strconv.Itoa(port)}, []string{"CORSGATE_ADMIN_TOKEN=0123456789abcdef0123"}, "the gateway's own port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg["extra_config"].(map[string]any)["corsgate/admin"] = tt.block
			path := plugintest.WriteFile(t, cfg)
			for _, command := range []string{"check", "run"} {
				cmd := exec.Command(binPath, command, "-c", path)
				cmd.Env = append(cleanEnv(), tt.env...)
				out, err := cmd.CombinedOutput()
				code := -1
				if ee, ok := err.(*exec.ExitError); ok {
					code = ee.ExitCode()
				}
				if code != 1 || !strings.Contains(string(out), tt.want) {
					t.Errorf("corsgate %s: exit %d, want 1 and %q:\n%s", command, code, tt.want, out)
				}
			}
		})
	}
}

// cleanEnv is the environment without CORSGATE_ADMIN_* variables.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CORSGATE_ADMIN_") {
			out = append(out, kv)
		}
	}
	return out
}

// writeLikeAnEditor replaces the file by writing a temporary file and
// renaming it over the original.
func writeLikeAnEditor(t *testing.T, path string, cfg map[string]any) {
	t.Helper()
	data, _ := json.MarshalIndent(cfg, "", "  ")
	tmp := path + ".swp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestReloadOnFileChange(t *testing.T) {
	t.Parallel()
	port, adminPort := freePort(t), freePort(t)
	path, pg := adminConfig(t, port, originApp)
	g := startAdminGateway(t, path, port, adminPort)
	cfg := readConfigFile(t, path)
	cors := cfg["extra_config"].(map[string]any)["security/cors"].(map[string]any)

	// A valid edit applies within a second or so.
	cors["allow_origins"] = []any{originApp, originAdmin}
	writeLikeAnEditor(t, path, cfg)
	testwait.Until(t, "the reload of a valid edit", func() bool { return g.allowedOrigin(t, originAdmin) == originAdmin })

	// An invalid edit applies nothing, and the status says why.
	cors["allow_origins"] = []any{"https://broken.example/"}
	writeLikeAnEditor(t, path, cfg)
	testwait.Until(t, "the report of an invalid edit", func() bool {
		_, body := g.adminCall(t, "GET", "/v1/cors/status", "")
		return strings.Contains(body, "https://broken.example/")
	})
	if g.allowedOrigin(t, originAdmin) != originAdmin {
		t.Error("an invalid edit changed the policy")
	}

	// A change outside CORS is logged as needing a restart; the CORS part
	// of the same edit applies.
	cors["allow_origins"] = []any{originLocal}
	eps := cfg["endpoints"].([]any)
	cfg["endpoints"] = append(eps, pg.JSON(port)["endpoints"].([]any)[0].(map[string]any))
	extraEP := cfg["endpoints"].([]any)[1].(map[string]any)
	extraEP["endpoint"] = "/extra"
	extraEP["backend"].([]any)[0].(map[string]any)["url_pattern"] = "/extra"
	writeLikeAnEditor(t, path, cfg)
	testwait.Until(t, "the reload of an edit with a new endpoint", func() bool { return g.allowedOrigin(t, originLocal) == originLocal })
	if !strings.Contains(g.logs.String(), "only a restart applies") {
		t.Errorf("no restart warning in the log:\n%s", g.logs.String())
	}
}

func TestReloadOnSIGHUP(t *testing.T) {
	t.Parallel()
	port, adminPort := freePort(t), freePort(t)
	path, _ := adminConfig(t, port, originApp)
	g := startAdminGateway(t, path, port, adminPort, "--no-watch")
	cfg := readConfigFile(t, path)
	cfg["extra_config"].(map[string]any)["security/cors"].(map[string]any)["allow_origins"] = []any{originAdmin}
	writeLikeAnEditor(t, path, cfg)
	time.Sleep(1500 * time.Millisecond)
	if g.allowedOrigin(t, originAdmin) != "" {
		t.Fatal("with --no-watch the edit applied without a SIGHUP")
	}
	g.cmd.Process.Signal(syscall.SIGHUP)
	testwait.Until(t, "the reload on SIGHUP", func() bool { return g.allowedOrigin(t, originAdmin) == originAdmin })
}

func TestConfigCLI(t *testing.T) {
	t.Parallel()
	port, adminPort := freePort(t), freePort(t)
	path, _ := adminConfig(t, port, originApp)
	g := startAdminGateway(t, path, port, adminPort)
	run := func(stdin string, args ...string) (int, string, string) {
		cmd := exec.Command(binPath, append([]string{"config"}, args...)...)
		cmd.Env = append(cleanEnv(), "CORSGATE_ADMIN_USER="+adminUser, "CORSGATE_ADMIN_PASSWORD="+adminPassword, "CORSGATE_ADMIN_URL="+g.Admin)
		cmd.Stdin = strings.NewReader(stdin)
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return code, out.String(), errOut.String()
	}
	if code, out, errOut := run("", "get", "--cloudant"); code != 0 || !strings.Contains(out, `"https://app.example.com"`) {
		t.Errorf("get --cloudant: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := run(`{"allow_origins": ["https://admin.example.com"]}`, "put", "--scope", "service"); code != 0 || !strings.Contains(out, `"revision": 1`) {
		t.Errorf("put --scope service: %d %s %s", code, out, errOut)
	}
	if g.allowedOrigin(t, originAdmin) != originAdmin {
		t.Error("the CLI's change did not apply")
	}
	if code, _, errOut := run(`{"service": {"allow_origins": ["nope"]}}`, "validate"); code != 1 {
		t.Errorf("validate of a bad layer: exit %d %s", code, errOut)
	}
	if code, _, errOut := run(`{"allow_origins": ["https://x.example"]}`, "put", "--scope", "service", "--if-match", "0"); code != 1 || !strings.HasPrefix(errOut, "corsgate config put: the configuration changed since revision 0; it is at revision 1") {
		t.Errorf("put with a stale --if-match: %d %s", code, errOut)
	}
	if code, out, _ := run("", "history"); code != 0 || !strings.Contains(out, `"source": "api"`) {
		t.Errorf("history: %d %s", code, out)
	}
	if code, _, errOut := run("", "reset"); code != 0 || g.allowedOrigin(t, originAdmin) != "" || g.allowedOrigin(t, originApp) != originApp {
		t.Errorf("reset: %d %s", code, errOut)
	}
	if code, _, errOut := run("", "rollback", "--revision", "1"); code != 0 || g.allowedOrigin(t, originAdmin) != originAdmin {
		t.Errorf("rollback: %d %s", code, errOut)
	}
	cmd := exec.Command(binPath, "config", "get", "--admin", g.Admin)
	cmd.Env = cleanEnv()
	out, _ := cmd.CombinedOutput()
	if !strings.HasPrefix(string(out), "corsgate config get: the admin API at "+g.Admin+" needs credentials, and none are set: set CORSGATE_ADMIN_PASSWORD") {
		t.Errorf("without credentials the CLI says: %s", out)
	}
	// The password alone is enough: the user is admin by default.
	cmd = exec.Command(binPath, "config", "get", "--admin", g.Admin)
	cmd.Env = append(cleanEnv(), "CORSGATE_ADMIN_PASSWORD="+adminPassword)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("with CORSGATE_ADMIN_PASSWORD alone: %v\n%s", err, out)
	}
	// A wrong password: the variables are named, the password is not.
	cmd = exec.Command(binPath, "config", "get", "--admin", g.Admin)
	cmd.Env = append(cleanEnv(), "CORSGATE_ADMIN_PASSWORD=wrong-password-1234")
	out, _ = cmd.CombinedOutput()
	if s := string(out); !strings.Contains(s, `refused the credentials: user "admin" (the default, as CORSGATE_ADMIN_USER is not set), password from CORSGATE_ADMIN_PASSWORD`) || strings.Contains(s, "wrong-password-1234") {
		t.Errorf("with a wrong password the CLI says: %s", s)
	}
	_ = fmt.Sprint
}

// A store that cannot be opened does not stop the gateway: the file alone
// applies, the status says why, and writes answer 503.
func TestAdminBadStoreAtStart(t *testing.T) {
	t.Parallel()
	port, adminPort := freePort(t), freePort(t)
	path, _ := adminConfig(t, port, originApp)
	cfg := readConfigFile(t, path)
	state := cfg["extra_config"].(map[string]any)["corsgate/admin"].(map[string]any)["store"].(map[string]any)["path"].(string)
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(state, "corsgate.db"), []byte("not a database at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startAdminGateway(t, path, port, adminPort)
	if got := g.allowedOrigin(t, originApp); got != originApp {
		t.Errorf("with a bad store the file's policy must apply: %q", got)
	}
	_, status := g.adminCall(t, "GET", "/v1/cors/status", "")
	if !strings.Contains(status, `"ok": false`) || !strings.Contains(status, "corsgate.db") {
		t.Errorf("status: %s", status)
	}
	resp, body := g.adminCall(t, "PUT", "/_api/v2/user/config/cors", `{"origins": ["https://admin.example.com"]}`)
	if resp.StatusCode != 503 || g.allowedOrigin(t, originAdmin) != "" {
		t.Errorf("a write without a store: %d %s", resp.StatusCode, body)
	}
	if data, _ := os.ReadFile(filepath.Join(state, "corsgate.db")); string(data) != "not a database at all" {
		t.Error("the bad store file was changed")
	}
}
