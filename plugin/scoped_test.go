package plugin_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"
	luraconfig "github.com/luraproject/lura/v2/config"
	"github.com/luraproject/lura/v2/logging"

	"github.com/corsgate/corsgate/plugin"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// scRoute is one route of the gin engine that stands for the gateway's
// router.
type scRoute struct {
	method, path string
	handle       gin.HandlerFunc
}

// scEngine is a gin engine like lura's (HandleMethodNotAllowed on).
func scEngine(routes ...scRoute) *gin.Engine {
	e := gin.New()
	e.HandleMethodNotAllowed = true
	for _, r := range routes {
		e.Handle(r.method, r.path, r.handle)
	}
	return e
}

// scOK answers 200 with a body naming the route, and counts its calls.
func scOK(name string, calls *atomic.Int32) gin.HandlerFunc {
	return func(c *gin.Context) {
		if calls != nil {
			calls.Add(1)
		}
		c.String(http.StatusOK, name)
	}
}

func scDo(h http.Handler, method, target string, kv ...string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, scRequest(method, target, kv...))
	return w
}

// allowHeaders lists the Access-Control-Allow-* headers of a response.
func allowHeaders(h http.Header) []string {
	var names []string
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-Allow-") {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return names
}

func scLogger(t *testing.T) (logging.Logger, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	logger, err := logging.NewLogger("DEBUG", &buf, "")
	if err != nil {
		t.Fatal(err)
	}
	return logger, &buf
}

const (
	appOrigin   = "https://app.example.com"
	adminOrigin = "https://admin.example.com"
	evilOrigin  = "https://evil.example"
)

func TestScopedEndpointOverride(t *testing.T) {
	tb := scBuild(t, map[string]any{"allow_origins": []any{appOrigin}, "allow_methods": []any{"GET", "PUT"}},
		scEndpoint("GET", "/users/{id}", nil),
		scEndpoint("PUT", "/users/{id}", map[string]any{"allow_origins": []any{adminOrigin}}),
		scEndpoint("GET", "/admin", map[string]any{"allow_origins": []any{adminOrigin}}),
	)
	h := plugin.NewHandler(scEngine(
		scRoute{"GET", "/users/:id", scOK("user", nil)},
		scRoute{"PUT", "/users/:id", scOK("put user", nil)},
		scRoute{"GET", "/admin", scOK("admin", nil)},
	), tb, nil)

	tests := []struct {
		name         string
		method, path string
		kv           []string
		status       int
		acao         string
	}{
		{"service policy: its origin", "GET", "/users/7", []string{"Origin", appOrigin}, 200, appOrigin},
		{"service policy: the endpoint's origin is refused", "GET", "/users/7", []string{"Origin", adminOrigin}, 200, ""},
		{"endpoint policy: its origin", "GET", "/admin", []string{"Origin", adminOrigin}, 200, adminOrigin},
		{"endpoint policy: the service's origin is refused", "GET", "/admin", []string{"Origin", appOrigin}, 200, ""},
		{"preflight to the endpoint: its origin", "OPTIONS", "/admin", []string{"Origin", adminOrigin, "Access-Control-Request-Method", "GET"}, 204, adminOrigin},
		{"preflight to the endpoint: the service's origin", "OPTIONS", "/admin", []string{"Origin", appOrigin, "Access-Control-Request-Method", "GET"}, 204, ""},
		// One path, two endpoints: the preflight is resolved by the method it asks for.
		{"preflight for PUT takes the PUT endpoint's policy", "OPTIONS", "/users/7", []string{"Origin", adminOrigin, "Access-Control-Request-Method", "PUT"}, 204, adminOrigin},
		{"preflight for PUT refuses the service's origin", "OPTIONS", "/users/7", []string{"Origin", appOrigin, "Access-Control-Request-Method", "PUT"}, 204, ""},
		{"preflight for GET takes the service policy", "OPTIONS", "/users/7", []string{"Origin", appOrigin, "Access-Control-Request-Method", "GET"}, 204, appOrigin},
		{"actual PUT takes the PUT endpoint's policy", "PUT", "/users/7", []string{"Origin", adminOrigin}, 200, adminOrigin},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := scDo(h, tc.method, tc.path, tc.kv...)
			if w.Code != tc.status || w.Header().Get("Access-Control-Allow-Origin") != tc.acao {
				t.Errorf("got %d %v; want %d with Access-Control-Allow-Origin %q", w.Code, w.Header(), tc.status, tc.acao)
			}
			if !strings.HasPrefix(w.Header().Get("Vary"), "Origin") {
				t.Errorf("Vary = %q, want it to start with Origin", w.Header().Values("Vary"))
			}
		})
	}
}

func TestScopedExemptEndpoint(t *testing.T) {
	var legacyCalls, optionsCalls atomic.Int32
	legacy := func(c *gin.Context) {
		legacyCalls.Add(1)
		h := c.Writer.Header()
		h.Set("Access-Control-Allow-Origin", "https://backend-choice.example")
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Expose-Headers", "X-Backend")
		h.Set("Vary", "Accept")
		c.String(http.StatusOK, "legacy")
	}
	tb := scBuild(t, map[string]any{"allow_origins": []any{appOrigin}},
		scEndpoint("GET", "/legacy", map[string]any{"disable": true}),
		scEndpoint("GET", "/bare", map[string]any{"disable": true}),
		scEndpoint("GET", "/users/{id}", nil),
	)
	routes := []scRoute{
		{"GET", "/legacy", legacy},
		{"OPTIONS", "/legacy", func(c *gin.Context) { optionsCalls.Add(1); c.Header("Allow", "GET, OPTIONS"); c.Status(http.StatusOK) }}, // like auto_options
		{"GET", "/bare", scOK("bare", nil)},
		{"GET", "/users/:id", scOK("user", nil)},
	}
	h := plugin.NewHandler(scEngine(routes...), tb, nil)

	t.Run("backend CORS headers pass through untouched", func(t *testing.T) {
		w := scDo(h, "GET", "/legacy", "Origin", appOrigin)
		want := http.Header{
			"Access-Control-Allow-Origin":      {"https://backend-choice.example"},
			"Access-Control-Allow-Credentials": {"true"},
			"Access-Control-Expose-Headers":    {"X-Backend"},
			"Vary":                             {"Accept"},
		}
		for k, v := range want {
			if got := w.Header().Values(k); !slices.Equal(got, v) {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}
		if w.Code != 200 || w.Body.String() != "legacy" {
			t.Errorf("got %d %q", w.Code, w.Body)
		}
	})
	t.Run("no CORS headers added", func(t *testing.T) {
		w := scDo(h, "GET", "/bare", "Origin", evilOrigin)
		if w.Code != 200 || len(allowHeaders(w.Header())) != 0 || w.Header().Get("Vary") != "" {
			t.Errorf("got %d %v; want 200 without CORS headers or Vary", w.Code, w.Header())
		}
	})
	t.Run("preflight falls to the router's OPTIONS route", func(t *testing.T) {
		before := optionsCalls.Load()
		w := scDo(h, "OPTIONS", "/legacy", "Origin", appOrigin, "Access-Control-Request-Method", "GET")
		if w.Code != 200 || w.Header().Get("Allow") != "GET, OPTIONS" || optionsCalls.Load() != before+1 {
			t.Errorf("got %d %v (OPTIONS route calls %d); want the router's 200 with Allow", w.Code, w.Header(), optionsCalls.Load()-before)
		}
		if names := allowHeaders(w.Header()); len(names) != 0 || w.Header().Get("Vary") != "" {
			t.Errorf("the gateway answered the exempt preflight: %v", w.Header())
		}
	})
	t.Run("preflight without an OPTIONS route gets gin's 405", func(t *testing.T) {
		w := scDo(h, "OPTIONS", "/bare", "Origin", appOrigin, "Access-Control-Request-Method", "GET")
		if w.Code != http.StatusMethodNotAllowed || len(allowHeaders(w.Header())) != 0 || w.Header().Get("Vary") != "" {
			t.Errorf("got %d %v; want gin's 405 without CORS headers", w.Code, w.Header())
		}
	})
	t.Run("preflight without an OPTIONS route gets gin's 404", func(t *testing.T) {
		e := scEngine(routes...)
		e.HandleMethodNotAllowed = false
		w := scDo(plugin.NewHandler(e, tb, nil), "OPTIONS", "/bare", "Origin", appOrigin, "Access-Control-Request-Method", "GET")
		if w.Code != http.StatusNotFound || len(allowHeaders(w.Header())) != 0 {
			t.Errorf("got %d %v; want gin's 404 without CORS headers", w.Code, w.Header())
		}
	})
	t.Run("other endpoints keep the service policy", func(t *testing.T) {
		w := scDo(h, "OPTIONS", "/users/7", "Origin", appOrigin, "Access-Control-Request-Method", "GET")
		if w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != appOrigin {
			t.Errorf("got %d %v", w.Code, w.Header())
		}
	})
	if legacyCalls.Load() != 1 {
		t.Errorf("GET /legacy ran %d times, want 1", legacyCalls.Load())
	}
}

func TestScopedTerminateUnmatched(t *testing.T) {
	for _, debug := range []bool{false, true} {
		t.Run(fmt.Sprintf("debug %v", debug), func(t *testing.T) {
			var calls atomic.Int32
			tb := scBuild(t, map[string]any{
				"allow_origins":               []any{appOrigin},
				"allow_methods":               []any{"GET", "POST"},
				"allow_headers":               []any{"Content-Type"},
				"terminate_unmatched_request": true,
				"unmatched_status":            401,
				"debug":                       debug,
			}, scEndpoint("GET", "/users/{id}", nil), scEndpoint("DELETE", "/users/{id}", nil))
			h := plugin.NewHandler(scEngine(
				scRoute{"GET", "/users/:id", scOK("user", &calls)},
				scRoute{"DELETE", "/users/:id", scOK("deleted", &calls)},
			), tb, nil)

			refused := []struct {
				name   string
				method string
				kv     []string
				reason string
			}{
				{"preflight from a refused origin", "OPTIONS", []string{"Origin", evilOrigin, "Access-Control-Request-Method", "GET"}, `origin "https://evil.example" is not in allow_origins`},
				{"preflight for a refused method", "OPTIONS", []string{"Origin", appOrigin, "Access-Control-Request-Method", "DELETE"}, `method "DELETE" is not in allow_methods`},
				{"preflight for a refused header", "OPTIONS", []string{"Origin", appOrigin, "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "X-Secret"}, `header "x-secret" is not in allow_headers`},
				{"actual request from a refused origin", "GET", []string{"Origin", evilOrigin}, `request refused: origin "https://evil.example" is not in allow_origins`},
				{"actual request with a refused method", "DELETE", []string{"Origin", appOrigin}, `request refused: method "DELETE" is not in allow_methods`},
			}
			for _, tc := range refused {
				t.Run(tc.name, func(t *testing.T) {
					before := calls.Load()
					w := scDo(h, tc.method, "/users/7", tc.kv...)
					if w.Code != http.StatusUnauthorized {
						t.Errorf("status = %d, want 401", w.Code)
					}
					if names := allowHeaders(w.Header()); len(names) != 0 {
						t.Errorf("refused answer carries %q", names)
					}
					if w.Header().Get("Vary") == "" {
						t.Error("refused answer has no Vary")
					}
					if calls.Load() != before {
						t.Errorf("the route handler ran %d times", calls.Load()-before)
					}
					reason := w.Header().Get(plugin.ReasonHeader)
					if debug {
						if !strings.Contains(reason, tc.reason) || !strings.Contains(w.Body.String(), tc.reason) {
							t.Errorf("%s = %q, body %q; want both to contain %q", plugin.ReasonHeader, reason, w.Body, tc.reason)
						}
					} else if reason != "" || w.Body.Len() != 0 {
						t.Errorf("debug off leaked: %s %q, body %q", plugin.ReasonHeader, reason, w.Body)
					}
				})
			}

			t.Run("requests without Origin reach the route", func(t *testing.T) {
				before := calls.Load()
				w := scDo(h, "DELETE", "/users/7")
				if w.Code != 200 || w.Body.String() != "deleted" || calls.Load() != before+1 {
					t.Errorf("got %d %q, handler calls %d", w.Code, w.Body, calls.Load()-before)
				}
			})
			t.Run("allowed requests reach the route", func(t *testing.T) {
				before := calls.Load()
				w := scDo(h, "GET", "/users/7", "Origin", appOrigin)
				if w.Code != 200 || w.Body.String() != "user" || calls.Load() != before+1 || w.Header().Get("Access-Control-Allow-Origin") != appOrigin {
					t.Errorf("got %d %q %v, handler calls %d", w.Code, w.Body, w.Header(), calls.Load()-before)
				}
				if w.Header().Get(plugin.ReasonHeader) != "" {
					t.Errorf("allowed request carries %s", plugin.ReasonHeader)
				}
			})
			t.Run("allowed preflights get options_success_status", func(t *testing.T) {
				before := calls.Load()
				w := scDo(h, "OPTIONS", "/users/7", "Origin", appOrigin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
				if w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != appOrigin || calls.Load() != before {
					t.Errorf("got %d %v, handler calls %d", w.Code, w.Header(), calls.Load()-before)
				}
			})
		})
	}
}

func TestScopedTerminateAtTheEndpointOnly(t *testing.T) {
	var calls atomic.Int32
	tb := scBuild(t, map[string]any{"allow_origins": []any{appOrigin}},
		scEndpoint("GET", "/strict", map[string]any{"terminate_unmatched_request": true, "unmatched_status": 200}),
		scEndpoint("GET", "/lax", nil),
	)
	h := plugin.NewHandler(scEngine(scRoute{"GET", "/strict", scOK("strict", &calls)}, scRoute{"GET", "/lax", scOK("lax", &calls)}), tb, nil)
	w := scDo(h, "GET", "/strict", "Origin", evilOrigin)
	if w.Code != 200 || w.Body.Len() != 0 || calls.Load() != 0 {
		t.Errorf("strict: got %d %q, handler calls %d; want an empty 200 from the gateway", w.Code, w.Body, calls.Load())
	}
	w = scDo(h, "GET", "/lax", "Origin", evilOrigin)
	if w.Code != 200 || w.Body.String() != "lax" || calls.Load() != 1 {
		t.Errorf("lax: got %d %q, handler calls %d; want the route's answer", w.Code, w.Body, calls.Load())
	}
}

// Without terminate_unmatched_request the gateway behaves as KrakenD CE.
func TestScopedDefaultKeepsKrakenDBehaviour(t *testing.T) {
	var calls atomic.Int32
	tb := scBuild(t, map[string]any{"allow_origins": []any{appOrigin}, "unmatched_status": 401}, scEndpoint("GET", "/users/{id}", nil))
	h := plugin.NewHandler(scEngine(scRoute{"GET", "/users/:id", scOK("user", &calls)}), tb, nil)

	w := scDo(h, "OPTIONS", "/users/7", "Origin", evilOrigin, "Access-Control-Request-Method", "GET")
	if w.Code != 204 || len(allowHeaders(w.Header())) != 0 || calls.Load() != 0 {
		t.Errorf("refused preflight: got %d %v, handler calls %d; want 204 without CORS headers", w.Code, w.Header(), calls.Load())
	}
	w = scDo(h, "GET", "/users/7", "Origin", evilOrigin)
	if w.Code != 200 || w.Body.String() != "user" || calls.Load() != 1 || len(allowHeaders(w.Header())) != 0 {
		t.Errorf("refused actual request: got %d %q %v, handler calls %d; want the route's 200 without CORS headers", w.Code, w.Body, w.Header(), calls.Load())
	}
	if w.Header().Get("Vary") != "Origin" {
		t.Errorf("Vary = %q", w.Header().Values("Vary"))
	}
}

func TestScopedOriginsRegex(t *testing.T) {
	tb := scBuild(t, map[string]any{
		"allow_origins":       []any{appOrigin},
		"allow_origins_regex": []any{`^https://pr-[0-9]+\.preview\.example\.com$`},
	}, scEndpoint("GET", "/x", nil))
	h := plugin.NewHandler(scEngine(scRoute{"GET", "/x", scOK("x", nil)}), tb, nil)
	tests := []struct {
		origin string
		want   string
	}{
		{"https://pr-12.preview.example.com", "https://pr-12.preview.example.com"},
		{"https://pr-1.preview.example.com", "https://pr-1.preview.example.com"},
		{appOrigin, appOrigin},
		{"https://pr-x.preview.example.com", ""},
		{"https://pr-12.preview.example.com.evil.net", ""},
		{"https://pr-12XpreviewXexample.com", ""},
		{"http://pr-12.preview.example.com", ""},
		{"https://evil.example/?https://pr-1.preview.example.com", ""},
	}
	for _, tc := range tests {
		w := scDo(h, "GET", "/x", "Origin", tc.origin)
		if got := w.Header().Get("Access-Control-Allow-Origin"); got != tc.want {
			t.Errorf("Origin %s: Access-Control-Allow-Origin = %q, want %q", tc.origin, got, tc.want)
		}
		w = scDo(h, "OPTIONS", "/x", "Origin", tc.origin, "Access-Control-Request-Method", "GET")
		if got := w.Header().Get("Access-Control-Allow-Origin"); got != tc.want {
			t.Errorf("preflight from %s: Access-Control-Allow-Origin = %q, want %q", tc.origin, got, tc.want)
		}
	}
}

func TestScopedUnsafeAnyOriginWithCredentials(t *testing.T) {
	tb := scBuild(t, map[string]any{"allow_credentials": true, "allow_any_origin_with_credentials_unsafe": true}, scEndpoint("GET", "/me", nil))
	if !tb.Service().ReflectsAnyOriginWithCredentials() {
		t.Fatal("the service policy does not report the unsafe opt-in")
	}
	h := plugin.NewHandler(scEngine(scRoute{"GET", "/me", scOK("me", nil)}), tb, nil)
	for _, origin := range []string{"https://anything.example", "http://localhost:1234"} {
		w := scDo(h, "GET", "/me", "Origin", origin)
		if got := w.Header().Get("Access-Control-Allow-Origin"); got != origin {
			t.Errorf("Origin %s: Access-Control-Allow-Origin = %q, want it reflected", origin, got)
		}
		if w.Header().Get("Access-Control-Allow-Credentials") != "true" || w.Header().Get("Vary") != "Origin" {
			t.Errorf("Origin %s: headers %v; want credentials and Vary: Origin", origin, w.Header())
		}
		w = scDo(h, "OPTIONS", "/me", "Origin", origin, "Access-Control-Request-Method", "GET")
		if w.Header().Get("Access-Control-Allow-Origin") != origin || w.Header().Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("preflight from %s: headers %v", origin, w.Header())
		}
	}
	// Even the unsafe opt-in never reflects "null" or a malformed origin.
	for _, origin := range []string{"null", "https://a.example/path", "https://user@a.example"} {
		if w := scDo(h, "GET", "/me", "Origin", origin); w.Header().Get("Access-Control-Allow-Origin") != "" || w.Header().Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("Origin %s reflected: %v", origin, w.Header())
		}
	}
	// Without the opt-in the same block does not build.
	if _, err := plugin.Build(scConfig(t, map[string]any{"allow_credentials": true}, scEndpoint("GET", "/me", nil))); err == nil {
		t.Error("allow_credentials without origins built without the unsafe opt-in")
	}
}

// runServer calls the RunServerFunc made by plugin.NewRunServer with a stub
// that records the handler it is given.
func runServer(t *testing.T, logger logging.Logger, cfg luraconfig.ServiceConfig, router http.Handler) (http.Handler, bool, error) {
	t.Helper()
	var got http.Handler
	called := false
	next := func(_ context.Context, _ luraconfig.ServiceConfig, h http.Handler) error {
		called, got = true, h
		return nil
	}
	err := plugin.NewRunServer(logger, next)(context.Background(), cfg, router)
	return got, called, err
}

func TestNewRunServerWarnsAboutUnsafe(t *testing.T) {
	router := scEngine(scRoute{"GET", "/me", scOK("me", nil)}, scRoute{"GET", "/admin", scOK("admin", nil)})
	t.Run("service level", func(t *testing.T) {
		logger, buf := scLogger(t)
		cfg := scConfig(t, map[string]any{"allow_credentials": true, "allow_any_origin_with_credentials_unsafe": true}, scEndpoint("GET", "/me", nil))
		h, called, err := runServer(t, logger, cfg, router)
		if err != nil || !called {
			t.Fatalf("RunServer: called %v, error %v", called, err)
		}
		if !strings.Contains(buf.String(), "WARNING") || !strings.Contains(buf.String(), "allow_any_origin_with_credentials_unsafe") {
			t.Errorf("no start-up warning:\n%s", buf)
		}
		w := scDo(h, "GET", "/me", "Origin", "https://anything.example")
		if w.Header().Get("Access-Control-Allow-Origin") != "https://anything.example" {
			t.Errorf("the handler given to the server does not serve the policy: %v", w.Header())
		}
	})
	t.Run("endpoint level", func(t *testing.T) {
		logger, buf := scLogger(t)
		cfg := scConfig(t, map[string]any{"allow_origins": []any{appOrigin}},
			scEndpoint("GET", "/me", nil),
			scEndpoint("GET", "/admin", map[string]any{"allow_credentials": true, "allow_origins": []any{}, "allow_any_origin_with_credentials_unsafe": true}))
		if _, _, err := runServer(t, logger, cfg, router); err != nil {
			t.Fatal(err)
		}
		var warnings []string
		for _, line := range strings.Split(buf.String(), "\n") {
			if strings.Contains(line, "WARNING") {
				warnings = append(warnings, line)
			}
		}
		if len(warnings) != 1 || !strings.Contains(warnings[0], "allow_any_origin_with_credentials_unsafe") || !strings.Contains(warnings[0], "GET /admin") {
			t.Errorf("warnings = %q, want one naming GET /admin", warnings)
		}
	})
	t.Run("safe policy: no warning", func(t *testing.T) {
		logger, buf := scLogger(t)
		cfg := scConfig(t, map[string]any{"allow_credentials": true, "allow_origins": []any{appOrigin}}, scEndpoint("GET", "/me", nil))
		if _, _, err := runServer(t, logger, cfg, router); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), "WARNING") || !strings.Contains(buf.String(), "enabled") {
			t.Errorf("log:\n%s", buf)
		}
	})
	t.Run("CORS off: requests reach the router untouched", func(t *testing.T) {
		logger, buf := scLogger(t)
		cfg := scConfig(t, nil, scEndpoint("GET", "/me", map[string]any{"disable": true}))
		h, called, err := runServer(t, logger, cfg, router)
		if err != nil || !called || h == nil {
			t.Fatalf("called %v, error %v, handler %T", called, err, h)
		}
		if !strings.Contains(buf.String(), "CORS is off") || strings.Contains(buf.String(), "WARNING") {
			t.Errorf("log:\n%s", buf)
		}
		w := scDo(h, "GET", "/me", "Origin", appOrigin)
		if w.Code != 200 || w.Body.String() != "me" || len(allowHeaders(w.Header())) != 0 || w.Header().Get("Vary") != "" {
			t.Errorf("GET /me: %d %q %v; want the router's answer without CORS headers", w.Code, w.Body, w.Header())
		}
		w = scDo(h, "OPTIONS", "/me", "Origin", appOrigin, "Access-Control-Request-Method", "GET")
		if w.Code != http.StatusMethodNotAllowed || len(allowHeaders(w.Header())) != 0 {
			t.Errorf("preflight: %d %v; want gin's 405 without CORS headers", w.Code, w.Header())
		}
	})
	t.Run("invalid configuration: the server does not start", func(t *testing.T) {
		logger, _ := scLogger(t)
		cfg := scConfig(t, map[string]any{"allow_origins": []any{"*"}}, scEndpoint("GET", "/me", map[string]any{"allow_credentials": true}))
		_, called, err := runServer(t, logger, cfg, router)
		var errs interface{ Error() string }
		if called || err == nil || !errors.As(err, &errs) || !strings.Contains(err.Error(), "invalid CORS configuration") || !strings.Contains(err.Error(), `(endpoint "GET /me")`) {
			t.Errorf("called %v, error %v", called, err)
		}
	})
}

func TestScopedExposeHeaderPrefixes(t *testing.T) {
	tb := scBuild(t, map[string]any{"expose_headers": []any{"X-Request-Id", "X-Object-Meta-*"}},
		scEndpoint("GET", "/object", nil), scEndpoint("GET", "/plain", nil))
	h := plugin.NewHandler(scEngine(
		scRoute{"GET", "/object", func(c *gin.Context) {
			h := c.Writer.Header()
			h.Set("X-Object-Meta-Size", "42")
			h.Set("X-Object-Meta-Color", "blue")
			h.Set("X-Object-Metadata", "not under the prefix")
			h.Set("X-Request-Id", "7")
			c.String(http.StatusOK, "object")
		}},
		scRoute{"GET", "/plain", scOK("plain", nil)},
	), tb, nil)

	w := scDo(h, "GET", "/object", "Origin", appOrigin)
	if got := w.Header().Values("Access-Control-Expose-Headers"); !slices.Equal(got, []string{"X-Request-Id, X-Object-Meta-Color, X-Object-Meta-Size"}) {
		t.Errorf("Access-Control-Expose-Headers = %q, want [X-Request-Id, X-Object-Meta-Color, X-Object-Meta-Size]", got)
	}
	w = scDo(h, "GET", "/plain", "Origin", appOrigin)
	if got := w.Header().Values("Access-Control-Expose-Headers"); !slices.Equal(got, []string{"X-Request-Id"}) {
		t.Errorf("without prefixed headers: Access-Control-Expose-Headers = %q, want [X-Request-Id]", got)
	}
	w = scDo(h, "OPTIONS", "/object", "Origin", appOrigin, "Access-Control-Request-Method", "GET")
	if got := w.Header().Get("Access-Control-Expose-Headers"); got != "" || w.Code != 204 {
		t.Errorf("preflight: %d, Access-Control-Expose-Headers = %q, want none", w.Code, got)
	}
	w = scDo(h, "GET", "/object")
	if got := w.Header().Get("Access-Control-Expose-Headers"); got != "" {
		t.Errorf("request without Origin: Access-Control-Expose-Headers = %q, want none", got)
	}
}

func TestScopedStripCORSRequestHeaders(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]http.Header{}
	record := func(name string) gin.HandlerFunc {
		return func(c *gin.Context) {
			mu.Lock()
			seen[name] = c.Request.Header.Clone()
			mu.Unlock()
			c.String(http.StatusOK, name)
		}
	}
	tb := scBuild(t, map[string]any{"allow_origins": []any{appOrigin}, "allow_credentials": true},
		scEndpoint("POST", "/proxied", map[string]any{"strip_cors_request_headers": true}),
		scEndpoint("POST", "/plain", nil),
	)
	h := plugin.NewHandler(scEngine(scRoute{"POST", "/proxied", record("proxied")}, scRoute{"POST", "/plain", record("plain")}), tb, nil)
	kv := []string{
		"Origin", appOrigin,
		"Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "content-type",
		"Sec-Fetch-Mode", "cors",
		"Sec-Fetch-Site", "cross-site",
		"Sec-Fetch-Dest", "empty",
		"Authorization", "Bearer t",
		"X-Keep", "1",
		"Cookie", "s=1",
	}
	stripped := func(name string) bool {
		return name == "Origin" || strings.HasPrefix(name, "Access-Control-Request-") || strings.HasPrefix(name, "Sec-Fetch-")
	}

	w := scDo(h, "POST", "/proxied", kv...)
	if w.Header().Get("Access-Control-Allow-Origin") != appOrigin || w.Header().Get("Access-Control-Allow-Credentials") != "true" || w.Header().Get("Vary") != "Origin" {
		t.Errorf("response headers %v; want the gateway's CORS answer", w.Header())
	}
	for i := 0; i < len(kv); i += 2 {
		got := seen["proxied"].Get(kv[i])
		if stripped(kv[i]) && got != "" {
			t.Errorf("the route saw %s: %q", kv[i], got)
		}
		if !stripped(kv[i]) && got != kv[i+1] {
			t.Errorf("the route saw %s = %q, want %q", kv[i], got, kv[i+1])
		}
	}

	// A refused origin: stripped too, and no CORS headers.
	w = scDo(h, "POST", "/proxied", "Origin", evilOrigin, "Sec-Fetch-Mode", "cors")
	if w.Header().Get("Access-Control-Allow-Origin") != "" || seen["proxied"].Get("Origin") != "" || seen["proxied"].Get("Sec-Fetch-Mode") != "" {
		t.Errorf("refused origin: response %v, route saw %v", w.Header(), seen["proxied"])
	}

	// Other endpoints forward the headers.
	w = scDo(h, "POST", "/plain", kv...)
	if w.Header().Get("Access-Control-Allow-Origin") != appOrigin || seen["plain"].Get("Origin") != appOrigin || seen["plain"].Get("Sec-Fetch-Mode") != "cors" {
		t.Errorf("plain endpoint: response %v, route saw %v", w.Header(), seen["plain"])
	}
}

func TestScopedBackendCORSLoggedOncePerEndpoint(t *testing.T) {
	backendCORS := func(c *gin.Context) {
		c.Writer.Header().Set("Access-Control-Allow-Origin", "*")
		c.String(http.StatusOK, "ok")
	}
	routes := []scRoute{
		{"GET", "/users/:id", backendCORS},
		{"GET", "/other", backendCORS},
		{"GET", "/quiet", scOK("quiet", nil)},
	}
	endpoints := func() []*luraconfig.EndpointConfig {
		return []*luraconfig.EndpointConfig{
			scEndpoint("GET", "/users/{id}", nil),
			scEndpoint("GET", "/other", map[string]any{"max_age": "1m"}),
			scEndpoint("GET", "/quiet", nil),
		}
	}
	count := func(buf *bytes.Buffer, parts ...string) int {
		n := 0
		for _, line := range strings.Split(buf.String(), "\n") {
			all := true
			for _, p := range parts {
				all = all && strings.Contains(line, p)
			}
			if all {
				n++
			}
		}
		return n
	}

	logger, buf := scLogger(t)
	tb := scBuild(t, map[string]any{"allow_origins": []any{appOrigin}, "debug": true}, endpoints()...)
	h := plugin.NewHandler(scEngine(routes...), tb, logger)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for _, target := range []string{fmt.Sprintf("/users/%d", i), "/other", "/quiet", "/users/x"} {
				w := scDo(h, "GET", target, "Origin", appOrigin)
				if got := w.Header().Values("Access-Control-Allow-Origin"); !slices.Equal(got, []string{appOrigin}) {
					t.Errorf("%s: Access-Control-Allow-Origin = %q, want the gateway's", target, got)
				}
			}
		}(i)
	}
	wg.Wait()
	if n := count(buf, "also answers CORS"); n != 2 {
		t.Errorf("%d lines say \"also answers CORS\", want 2 (one per endpoint):\n%s", n, buf)
	}
	if count(buf, "also answers CORS", "GET /users/{id}") != 1 || count(buf, "also answers CORS", "GET /other") != 1 {
		t.Errorf("the lines do not name each endpoint once:\n%s", buf)
	}
	if count(buf, "also answers CORS", "http://127.0.0.1:9000") != 2 {
		t.Errorf("the lines do not name the backend hosts:\n%s", buf)
	}

	// Debug off: nothing.
	logger, buf = scLogger(t)
	tb = scBuild(t, map[string]any{"allow_origins": []any{appOrigin}}, endpoints()...)
	h = plugin.NewHandler(scEngine(routes...), tb, logger)
	scDo(h, "GET", "/users/1", "Origin", appOrigin)
	scDo(h, "GET", "/other", "Origin", appOrigin)
	if buf.Len() != 0 {
		t.Errorf("debug off logged:\n%s", buf)
	}
}

// With an endpoint policy and no service policy, paths no endpoint policy
// covers get no CORS at all.
func TestScopedEndpointPolicyWithoutService(t *testing.T) {
	tb := scBuild(t, nil,
		scEndpoint("GET", "/admin", map[string]any{"allow_origins": []any{adminOrigin}}),
		scEndpoint("GET", "/public", nil),
	)
	h := plugin.NewHandler(scEngine(scRoute{"GET", "/admin", scOK("admin", nil)}, scRoute{"GET", "/public", scOK("public", nil)}), tb, nil)

	w := scDo(h, "GET", "/admin", "Origin", adminOrigin)
	if w.Header().Get("Access-Control-Allow-Origin") != adminOrigin || w.Header().Get("Vary") != "Origin" {
		t.Errorf("GET /admin: %v", w.Header())
	}
	for _, tc := range []struct {
		method, path string
		kv           []string
		status       int
	}{
		{"GET", "/public", []string{"Origin", adminOrigin}, 200},
		{"GET", "/nowhere", []string{"Origin", adminOrigin}, 404},
		{"OPTIONS", "/public", []string{"Origin", adminOrigin, "Access-Control-Request-Method", "GET"}, 405},
		{"OPTIONS", "/nowhere", []string{"Origin", adminOrigin, "Access-Control-Request-Method", "GET"}, 404},
	} {
		w := scDo(h, tc.method, tc.path, tc.kv...)
		if w.Code != tc.status || len(allowHeaders(w.Header())) != 0 || len(w.Header().Values("Vary")) != 0 {
			t.Errorf("%s %s: got %d %v; want %d without any CORS header or Vary", tc.method, tc.path, w.Code, w.Header(), tc.status)
		}
	}
}
