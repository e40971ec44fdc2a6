package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corsgate/corsgate/internal/etcdtest"
	"github.com/corsgate/corsgate/plugin/plugintest"
)

// The KrakenD plugin with an admin section runs the run-time features
// inside KrakenD (here the host that loads the .so with lura's own
// loader): a Cloudant PUT on the plugin's admin listener changes the next
// preflight, history and rollback work, /metrics counts the decisions, the
// dashboard loads, and a plugin replica and a corsgate run replica on one
// etcd prefix each apply the other's changes.
func TestKrakenDPluginRuntime(t *testing.T) {
	t.Parallel()
	plugins, hostBin := buildKrakenDPlugin(t)
	etcd := etcdtest.Start(t)
	prefix := fmt.Sprintf("/corsgate/e2e-plugin-%d/", time.Now().UnixNano())
	store := map[string]any{"type": "etcd", "endpoints": []any{etcd.Endpoint()}, "prefix": prefix, "dial_timeout": "1s"}
	cors := plugintest.Block{"allow_origins": []any{originApp}, "allow_methods": []any{"GET", "PUT"}}
	endpoints := []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", nil)}

	// KrakenD with the plugin.
	kport, kadmin := freePort(t), freePort(t)
	kcfg := plugintest.Gateway{Endpoints: endpoints}.JSON(kport)
	kcfg["extra_config"] = map[string]any{"plugin/http-server": map[string]any{
		"name": []any{"corsgate"},
		"corsgate": map[string]any{
			"security/cors": map[string]any(cors),
			"admin": map[string]any{
				"listen": "127.0.0.1:" + strconv.Itoa(kadmin), "store": store,
				"state_dir": filepath.Join(t.TempDir(), "state"),
			},
		},
	}}
	k := startGatewayProcess(t, hostBin, []string{"-c", plugintest.WriteFile(t, kcfg), "-plugins", plugins}, kport, kadmin, nil)

	// corsgate run on the same etcd prefix.
	cport, cadmin := freePort(t), freePort(t)
	ccfg := plugintest.Gateway{CORS: cors, Endpoints: endpoints}.JSON(cport)
	ccfg["extra_config"].(map[string]any)["corsgate/admin"] = map[string]any{"store": store}
	c := startAdminGateway(t, plugintest.WriteFile(t, ccfg), cport, cadmin, "--state-dir", filepath.Join(t.TempDir(), "state"), "--replica-id", "corsgate-run")

	// A change on the plugin's admin listener: in force at once there,
	// and followed by the corsgate run replica.
	if code, _, body := k.cloudantPut(t, "", originApp, originAdmin); code != 200 {
		t.Fatalf("Cloudant PUT on the plugin: %d %s", code, body)
	}
	if got := k.allowedOrigin(t, originAdmin); got != originAdmin {
		t.Errorf("the plugin's next preflight from %s: %q", originAdmin, got)
	}
	waitAllowed(t, c, originAdmin, 10*time.Second)

	// A change on corsgate run's: followed by the plugin.
	const third = "https://third.example.com"
	if code, _, body := c.cloudantPut(t, "", originApp, third); code != 200 {
		t.Fatalf("Cloudant PUT on corsgate run: %d %s", code, body)
	}
	waitAllowed(t, k, third, 10*time.Second)

	// One history, seen from the plugin.
	resp, body := k.adminCall(t, "GET", "/v1/cors/history", "")
	var hist struct {
		History []struct {
			Revision uint64 `json:"revision"`
		} `json:"history"`
	}
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &hist) != nil || len(hist.History) != 2 {
		t.Fatalf("history on the plugin: %d %s", resp.StatusCode, body)
	}
	// Rollback to revision 1 on the plugin: originAdmin again, everywhere.
	if resp, body := k.adminCall(t, "POST", "/v1/cors/rollback", `{"revision": 1}`); resp.StatusCode != 200 {
		t.Fatalf("rollback on the plugin: %d %s", resp.StatusCode, body)
	}
	if got := k.allowedOrigin(t, originAdmin); got != originAdmin {
		t.Errorf("after the rollback, the plugin's preflight from %s: %q", originAdmin, got)
	}
	waitAllowed(t, c, originAdmin, 10*time.Second)

	// /metrics counts the plugin's decisions.
	resp, body = k.adminCall(t, "GET", "/metrics", "")
	if resp.StatusCode != 200 || !metricAbove(body, `corsgate_cors_decisions_total{kind="preflight",outcome="allowed"`, 0) {
		t.Errorf("/metrics on the plugin: %d\n%s", resp.StatusCode, grepLines(body, "corsgate_cors_decisions_total"))
	}
	// The dashboard loads.
	resp, body = k.adminCall(t, "GET", "/dashboard/", "")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "<script") {
		t.Errorf("the plugin's dashboard: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// The fleet lists both replicas.
	resp, body = k.adminCall(t, "GET", "/v1/cors/fleet", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"corsgate-run"`) || !strings.Contains(body, strconv.Itoa(kadmin)) {
		t.Errorf("the fleet seen from the plugin: %d %s", resp.StatusCode, body)
	}
}

// metricAbove reports whether a sample of text whose line starts with
// prefix has a value above min.
func metricAbove(text, prefix string, min float64) bool {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			v, err := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
			if err == nil && v > min {
				return true
			}
		}
	}
	return false
}

// grepLines returns the lines of text holding s.
func grepLines(text, s string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
