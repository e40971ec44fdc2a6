package plugin_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	luraconfig "github.com/luraproject/lura/v2/config"
	"github.com/luraproject/lura/v2/logging"
	"github.com/luraproject/lura/v2/proxy"
	ginrouter "github.com/luraproject/lura/v2/router/gin"

	"github.com/corsgate/corsgate/plugin"
	"github.com/corsgate/corsgate/plugin/plugintest"
)

// With the CORS headers set up front, the endpoint handlers of
// StripBackendCORS are what keeps a backend's CORS headers out: through
// lura's no-op encoding, the backend's own Access-Control-Allow-Origin and
// Vary: Origin would otherwise be added next to the gateway's.
func TestStripBackendCORSThroughLura(t *testing.T) {
	b := plugintest.NewBackend(t)
	var logs bytes.Buffer
	logger, err := logging.NewLogger("DEBUG", &logs, "")
	if err != nil {
		t.Fatal(err)
	}
	g := plugintest.Gateway{
		CORS:       plugintest.Block{"allow_origins": []any{appOrigin}, "debug": true},
		BackendURL: b.URL,
		Endpoints: []plugintest.Endpoint{
			{Method: "GET", Path: "/own-cors", NoOp: true},
			{Method: "GET", Path: "/exempt", URLPattern: "/own-cors", NoOp: true, CORS: plugintest.Block{"disable": true}},
			{Method: "GET", Path: "/stripped", URLPattern: "/own-cors", NoOp: true, CORS: plugintest.Block{"strip_cors_request_headers": true}},
		},
	}
	h, _ := g.Serve(t, logger)
	get := func(path string, hdr ...string) http.Header {
		t.Helper()
		r := httptest.NewRequest("GET", path, nil)
		r.Header = plugintest.Header(hdr...)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK || w.Header().Get("X-Backend") != "own-cors" {
			t.Fatalf("GET %s: status %d, headers %v: the backend's answer did not come through", path, w.Code, w.Header())
		}
		return w.Header()
	}
	varyTokens := func(h http.Header) []string {
		var toks []string
		for _, line := range h.Values("Vary") {
			for _, tok := range strings.Split(line, ",") {
				toks = append(toks, strings.TrimSpace(tok))
			}
		}
		return toks
	}

	t.Run("allowed origin: only the gateway's answer", func(t *testing.T) {
		hdr := get("/own-cors", "Origin", appOrigin)
		if got := hdr.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != appOrigin {
			t.Errorf("Access-Control-Allow-Origin = %q, want only %q", got, appOrigin)
		}
		if got := varyTokens(hdr); len(got) != 1 || got[0] != "Origin" {
			t.Errorf("Vary tokens = %q, want Origin once", got)
		}
	})
	t.Run("refused origin: none of the backend's", func(t *testing.T) {
		hdr := get("/own-cors", "Origin", "https://evil.example.org")
		if got := hdr.Values("Access-Control-Allow-Origin"); len(got) != 0 {
			t.Errorf("Access-Control-Allow-Origin = %q, want none: the gateway refused this origin", got)
		}
		if got := varyTokens(hdr); len(got) != 1 || got[0] != "Origin" {
			t.Errorf("Vary tokens = %q, want Origin once", got)
		}
	})
	t.Run("no Origin: the backend's headers stay, Vary names Origin once", func(t *testing.T) {
		hdr := get("/own-cors")
		if got := hdr.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != plugintest.OtherOrigin {
			t.Errorf("Access-Control-Allow-Origin = %q, want the backend's %q", got, plugintest.OtherOrigin)
		}
		if got := varyTokens(hdr); len(got) != 1 || got[0] != "Origin" {
			t.Errorf("Vary tokens = %q, want Origin once", got)
		}
	})
	t.Run("exempt endpoint: the backend answers CORS itself", func(t *testing.T) {
		hdr := get("/exempt", "Origin", appOrigin)
		if got := hdr.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != plugintest.OtherOrigin {
			t.Errorf("Access-Control-Allow-Origin = %q, want the backend's %q", got, plugintest.OtherOrigin)
		}
	})
	t.Run("request CORS headers stripped: the backend's still go", func(t *testing.T) {
		// The backend never sees the Origin here, and still answers
		// CORS: the endpoint handler cannot tell a CORS request from the
		// request it gets, so this policy sets its headers at write time.
		hdr := get("/stripped", "Origin", appOrigin)
		if got := hdr.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != appOrigin {
			t.Errorf("Access-Control-Allow-Origin = %q, want only %q", got, appOrigin)
		}
		if got := varyTokens(hdr); len(got) != 1 || got[0] != "Origin" {
			t.Errorf("Vary tokens = %q, want Origin once", got)
		}
		if got := b.LastHeaders().Get("Origin"); got != "" {
			t.Errorf("the backend got Origin %q, want it stripped", got)
		}
	})
	t.Run("debug: the double CORS is logged once", func(t *testing.T) {
		get("/own-cors", "Origin", appOrigin)
		// Once for /own-cors, once for /stripped (two endpoints).
		if n := strings.Count(logs.String(), "GET /own-cors ("); n != 1 {
			t.Errorf("the log names GET /own-cors %d times as a backend that also answers CORS, want once:\n%s", n, logs.String())
		}
	})
}

// headerError is an error that carries response headers, as lura's
// endpoint handler reads them (plugins and KrakenD components return such
// errors).
type headerError struct{ h map[string][]string }

func (e headerError) Error() string                { return "backend failed" }
func (e headerError) StatusCode() int              { return http.StatusBadGateway }
func (e headerError) Headers() map[string][]string { return e.h }

// An error's headers reach the response too (lura's endpoint handler adds
// them when there is no response): they are trimmed in the same way.
func TestStripBackendCORSErrorHeaders(t *testing.T) {
	g := plugintest.Gateway{
		CORS:      plugintest.Block{"allow_origins": []any{appOrigin}},
		Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/fail", nil)},
	}
	ctrl := g.Controller(t)
	// One map for every error, as a plugin with fixed headers would have:
	// the gateway must not change it.
	shared := map[string][]string{
		"Access-Control-Allow-Origin": {"*"},
		"Vary":                        {"Origin"},
		"X-Upstream":                  {"down"},
	}
	failing := func(context.Context, *proxy.Request) (*proxy.Response, error) {
		return nil, headerError{h: shared}
	}
	ep := &luraconfig.EndpointConfig{Endpoint: "/fail", Method: "GET", Timeout: time.Second}
	engine := gin.New()
	engine.GET("/fail", plugin.StripBackendCORS(ctrl, ginrouter.EndpointHandler)(ep, failing))
	h := ctrl.PresetHandler(engine)

	r := httptest.NewRequest("GET", "/fail", nil)
	r.Header.Set("Origin", appOrigin)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusBadGateway {
		t.Fatalf("status %d, want the error's 502", w.Code)
	}
	if got := w.Header().Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != appOrigin {
		t.Errorf("Access-Control-Allow-Origin = %q, want only the gateway's %q", got, appOrigin)
	}
	if got := w.Header().Values("Vary"); len(got) != 1 || got[0] != "Origin" {
		t.Errorf("Vary = %q, want one Origin", got)
	}
	if got := w.Header().Get("X-Upstream"); got != "down" {
		t.Errorf("X-Upstream = %q: the error's other headers must stay", got)
	}
	if len(shared) != 3 || shared["Access-Control-Allow-Origin"][0] != "*" {
		t.Errorf("the error's own header map was changed: %v", shared)
	}
}
