package plugin_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	luraconfig "github.com/luraproject/lura/v2/config"
	"github.com/luraproject/lura/v2/logging"

	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/plugin"
	"github.com/corsgate/corsgate/plugin/plugintest"
)

// Wire compiles once and hands back the controller that serves: a change
// applied to it is what the wrapped server answers with next.
func TestWireReturnsTheServingController(t *testing.T) {
	cfg := plugintest.Gateway{
		CORS:      plugintest.Block{"allow_origins": []any{"https://a.example.com"}},
		Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", nil)},
	}.Config(t)
	var served http.Handler
	ctrl, run, err := plugin.Wire(cfg, nil, func(_ context.Context, _ luraconfig.ServiceConfig, h http.Handler) error {
		served = h
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	router := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	if err := run(context.Background(), cfg, router); err != nil {
		t.Fatal(err)
	}
	get := func(origin string) string {
		r := httptest.NewRequest("GET", "/users/1", nil)
		r.Header.Set("Origin", origin)
		w := httptest.NewRecorder()
		served.ServeHTTP(w, r)
		return w.Header().Get("Access-Control-Allow-Origin")
	}
	if got := get("https://a.example.com"); got != "https://a.example.com" {
		t.Fatalf("before Apply: %q", got)
	}
	if _, err := ctrl.Apply(&policy.Document{Service: &policy.Block{AllowOrigins: []string{"https://b.example.com"}}}); err != nil {
		t.Fatal(err)
	}
	if got := get("https://b.example.com"); got != "https://b.example.com" {
		t.Errorf("after Apply: %q, want the new origin", got)
	}
}

// The start-up lines of a custom gateway tell how to see the debug lines
// without naming a flag it does not have (corsgate run -d).
func TestWireStartupLog(t *testing.T) {
	var buf bytes.Buffer
	logger, err := logging.NewLogger("DEBUG", &buf, "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := plugintest.Gateway{
		CORS:      plugintest.Block{"allow_origins": []any{"https://a.example.com"}, "debug": true, "allow_methods": []any{"GET"}},
		Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", nil), plugintest.EP("DELETE", "/users/{id}", nil)},
	}.Config(t)
	if _, _, err := plugin.Wire(cfg, logger, nil); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"enabled: service policy true, 0 endpoint(s) with their own policy, 0 exempt",
		"debug is on", "run the gateway with its log level at DEBUG",
		`WARNING: [SERVICE: Gin][CORS] extra_config["security/cors"].allow_methods (endpoint "DELETE /users/{id}")`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "-d") {
		t.Errorf("log names a -d flag:\n%s", out)
	}
}
