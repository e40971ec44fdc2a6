package e2e

import (
	"strings"
	"testing"
)

// /metrics of the real binary counts the decisions of its gateway, by
// reason and scope, and never names an origin.
func TestMetricsOfTheBinary(t *testing.T) {
	t.Parallel()
	port, adminPort := freePort(t), freePort(t)
	path, _ := adminConfig(t, port, originApp)
	g := startAdminGateway(t, path, port, adminPort)
	for _, o := range []string{originApp, originAdmin, originAdmin} {
		g.allowedOrigin(t, o)
	}
	resp, body := g.adminCall(t, "GET", "/metrics", "")
	for _, want := range []string{
		`corsgate_cors_decisions_total{kind="preflight",outcome="allowed",reason="allowed",scope="service"} 1`,
		`corsgate_cors_decisions_total{kind="preflight",outcome="refused",reason="origin_denied",scope="service"} 2`,
		`corsgate_config_revision 0`,
		`corsgate_store_up{type="embedded"} 1`,
		`process_cpu_seconds_total`,
	} {
		if resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics: %d, no %q in\n%s", resp.StatusCode, want, body)
		}
	}
	if strings.Contains(body, originAdmin) {
		t.Error("/metrics names an origin")
	}
	_, body = g.adminCall(t, "GET", "/v1/cors/decisions", "")
	if !strings.Contains(body, `"origin": "`+originAdmin+`"`) || !strings.Contains(body, `"count": 2`) {
		t.Errorf("top refused origins: %s", body)
	}
}
