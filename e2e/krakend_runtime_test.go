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
	store, cors, endpoints, c := runtimeFleet(t, "plugin")

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

	exerciseRuntime(t, "the plugin", k, c, kadmin)
}

// exerciseRuntime holds a gateway's run-time features to what corsgate
// run does: h, the gateway under test (with its admin API on hadmin),
// shares an etcd prefix with c, a corsgate run replica named
// "corsgate-run". A Cloudant PUT on h changes h's next preflight and is
// followed by c; a change on c is followed by h; history and rollback
// work on h; /metrics counts h's decisions; h's dashboard loads; h's fleet
// lists both.
func exerciseRuntime(t *testing.T, what string, h, c *runningGateway, hadmin int) {
	t.Helper()
	if code, _, body := h.cloudantPut(t, "", originApp, originAdmin); code != 200 {
		t.Fatalf("%s: Cloudant PUT: %d %s", what, code, body)
	}
	if got := h.allowedOrigin(t, originAdmin); got != originAdmin {
		t.Errorf("%s: the next preflight from %s: %q", what, originAdmin, got)
	}
	waitAllowed(t, c, originAdmin, 10*time.Second)

	// A change on corsgate run's: followed by h.
	const third = "https://third.example.com"
	if code, _, body := c.cloudantPut(t, "", originApp, third); code != 200 {
		t.Fatalf("Cloudant PUT on corsgate run: %d %s", code, body)
	}
	waitAllowed(t, h, third, 10*time.Second)

	// One history, seen from h.
	resp, body := h.adminCall(t, "GET", "/v1/cors/history", "")
	var hist struct {
		History []struct {
			Revision uint64 `json:"revision"`
		} `json:"history"`
	}
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &hist) != nil || len(hist.History) != 2 {
		t.Fatalf("%s: history: %d %s", what, resp.StatusCode, body)
	}
	// Rollback to revision 1 on h: originAdmin again, everywhere.
	if resp, body := h.adminCall(t, "POST", "/v1/cors/rollback", `{"revision": 1}`); resp.StatusCode != 200 {
		t.Fatalf("%s: rollback: %d %s", what, resp.StatusCode, body)
	}
	if got := h.allowedOrigin(t, originAdmin); got != originAdmin {
		t.Errorf("%s: after the rollback, the preflight from %s: %q", what, originAdmin, got)
	}
	waitAllowed(t, c, originAdmin, 10*time.Second)

	// /metrics counts h's decisions.
	resp, body = h.adminCall(t, "GET", "/metrics", "")
	if resp.StatusCode != 200 || !metricAbove(body, `corsgate_cors_decisions_total{kind="preflight",outcome="allowed"`, 0) {
		t.Errorf("%s: /metrics: %d\n%s", what, resp.StatusCode, grepLines(body, "corsgate_cors_decisions_total"))
	}
	// The dashboard loads.
	resp, body = h.adminCall(t, "GET", "/dashboard/", "")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "<script") {
		t.Errorf("%s: the dashboard: %d %s", what, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// The fleet lists both replicas.
	resp, body = h.adminCall(t, "GET", "/v1/cors/fleet", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"corsgate-run"`) || !strings.Contains(body, strconv.Itoa(hadmin)) {
		t.Errorf("%s: the fleet: %d %s", what, resp.StatusCode, body)
	}
}

// runtimeFleet starts an etcd and, on a prefix of its own, a corsgate run
// replica named "corsgate-run"; it returns the store block that shares
// that prefix, the CORS block and endpoints of the replica, and the
// replica.
func runtimeFleet(t *testing.T, name string) (store map[string]any, cors plugintest.Block, endpoints []plugintest.Endpoint, c *runningGateway) {
	t.Helper()
	etcd := etcdtest.Start(t)
	prefix := fmt.Sprintf("/corsgate/e2e-%s-%d/", name, time.Now().UnixNano())
	store = map[string]any{"type": "etcd", "endpoints": []any{etcd.Endpoint()}, "prefix": prefix, "dial_timeout": "1s"}
	cors = plugintest.Block{"allow_origins": []any{originApp}, "allow_methods": []any{"GET", "PUT"}}
	endpoints = []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", nil)}
	cport, cadmin := freePort(t), freePort(t)
	ccfg := plugintest.Gateway{CORS: cors, Endpoints: endpoints}.JSON(cport)
	ccfg["extra_config"].(map[string]any)["corsgate/admin"] = map[string]any{"store": store}
	c = startAdminGateway(t, plugintest.WriteFile(t, ccfg), cport, cadmin, "--state-dir", filepath.Join(t.TempDir(), "state"), "--replica-id", "corsgate-run")
	return store, cors, endpoints, c
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

// The custom gateway of docs/custom-gateway.md gets the same run-time
// features from host.Wire, with a corsgate/admin block in its file.
func TestCustomGatewayRuntime(t *testing.T) {
	t.Parallel()
	store, cors, endpoints, c := runtimeFleet(t, "custom")

	gport, gadmin := freePort(t), freePort(t)
	gcfg := plugintest.Gateway{CORS: cors, Endpoints: endpoints}.JSON(gport)
	gcfg["extra_config"].(map[string]any)["corsgate/admin"] = map[string]any{
		"listen": "127.0.0.1:" + strconv.Itoa(gadmin), "store": store, "state_dir": filepath.Join(t.TempDir(), "state"),
	}
	g := startGatewayProcess(t, customGatewayPath, []string{plugintest.WriteFile(t, gcfg)}, gport, gadmin, nil)

	exerciseRuntime(t, "the custom gateway", g, c, gadmin)
}
