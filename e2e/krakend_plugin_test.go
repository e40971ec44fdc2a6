package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corsgate/corsgate/plugin/plugintest"
)

// corsgate as a KrakenD plugin: the test builds the .so (make plugin) and
// a gateway that loads http-server plugins with lura's own loader, as
// KrakenD does, and sends it browser-shaped requests: preflights, actual
// requests, and an endpoint override.
func TestKrakenDPlugin(t *testing.T) {
	t.Parallel()
	plugins, hostBin := buildKrakenDPlugin(t)

	be := newBackend(t)
	port := freePort(t)
	cfg := plugintest.Gateway{
		BackendURL: be.URL,
		Endpoints: []plugintest.Endpoint{
			{Method: "GET", Path: "/data", NoOp: true},
			{Method: "PUT", Path: "/data", NoOp: true},
			{Method: "GET", Path: "/users/{id}", NoOp: true},
			{Method: "GET", Path: "/cors-backend", NoOp: true},
		},
	}.JSON(port)
	cfg["extra_config"] = map[string]any{"plugin/http-server": map[string]any{
		"name": []any{"corsgate"},
		"corsgate": map[string]any{
			"security/cors": map[string]any{"allow_origins": []any{originApp}, "allow_methods": []any{"GET", "PUT"}, "allow_headers": []any{"Content-Type"}},
			"endpoints":     map[string]any{"GET /users/{id}": map[string]any{"allow_origins": []any{originAdmin}}},
		},
	}}
	path := plugintest.WriteFile(t, cfg)
	logs := &syncBuffer{}
	cmd := exec.Command(hostBin, "-c", path, "-plugins", plugins)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if resp, err := http.Get(url + "/__health"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway did not start:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "Injecting plugin corsgate") {
		t.Errorf("lura's loader did not inject the plugin:\n%s", logs.String())
	}

	for _, tc := range []struct {
		name, method, path, origin string
		kv                         []string
		status                     int
		acao                       string
	}{
		{"preflight allowed", "OPTIONS", "/data", originApp, []string{"Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "content-type"}, 204, originApp},
		{"preflight refused origin", "OPTIONS", "/data", originAdmin, []string{"Access-Control-Request-Method", "PUT"}, 204, ""},
		{"preflight refused method", "OPTIONS", "/data", originApp, []string{"Access-Control-Request-Method", "DELETE"}, 204, ""},
		{"actual allowed", "GET", "/data", originApp, nil, 200, originApp},
		{"actual refused", "GET", "/data", originAdmin, nil, 200, ""},
		{"override allows its origin", "GET", "/users/7", originAdmin, nil, 200, originAdmin},
		{"override replaces the service origins", "GET", "/users/7", originApp, nil, 200, ""},
		{"a backend's own CORS headers give way", "GET", "/cors-backend", originApp, nil, 200, originApp},
	} {
		hdr := http.Header{"Origin": {tc.origin}}
		for i := 0; i+1 < len(tc.kv); i += 2 {
			hdr.Set(tc.kv[i], tc.kv[i+1])
		}
		resp, _ := do(t, tc.method, url+tc.path, hdr)
		if resp.StatusCode != tc.status || resp.Header.Get("Access-Control-Allow-Origin") != tc.acao || len(resp.Header.Values("Access-Control-Allow-Origin")) > 1 {
			t.Errorf("%s: %d, Access-Control-Allow-Origin %q; want %d, %q", tc.name, resp.StatusCode, resp.Header.Values("Access-Control-Allow-Origin"), tc.status, tc.acao)
		}
		if tc.method == "OPTIONS" && !strings.Contains(resp.Header.Get("Vary"), "Origin") {
			t.Errorf("%s: Vary %q", tc.name, resp.Header.Get("Vary"))
		}
	}
}

// The KrakenD plugin and the host that loads it, built once for the
// tests that need them (go build -buildmode=plugin takes a while).
var krakendBuild struct {
	once             sync.Once
	plugins, hostBin string
	err              error
}

// buildKrakenDPlugin builds bin/corsgate.so into a plugin folder (make
// plugin) and internal/krakendhost, a gateway that loads http-server
// plugins with lura's own loader, as KrakenD does.
func buildKrakenDPlugin(t *testing.T) (plugins, hostBin string) {
	t.Helper()
	b := &krakendBuild
	b.once.Do(func() {
		root, _ := filepath.Abs("..")
		b.plugins = filepath.Join(e2eDir, "plugins")
		b.hostBin = filepath.Join(e2eDir, "krakendhost")
		if b.err = os.MkdirAll(b.plugins, 0o755); b.err != nil {
			return
		}
		for _, args := range [][]string{
			{"-buildmode=plugin", "-o", filepath.Join(b.plugins, "corsgate.so"), "./krakendplugin"},
			{"-o", b.hostBin, "./internal/krakendhost"},
		} {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			cmd := exec.CommandContext(ctx, "go", append([]string{"build"}, args...)...)
			cmd.Dir = root
			out, err := cmd.CombinedOutput()
			cancel()
			if err != nil {
				b.err = fmt.Errorf("go build %v: %v\n%s", args, err, out)
				return
			}
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.plugins, b.hostBin
}
