package core_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/plugin/plugintest"
)

// In front of handlers that add no CORS headers, both ways of setting the
// headers of actual responses (up front, and at write time) must give the
// same answer, on every kind of request and configuration, including the
// shortcut for requests without an Origin; and both must match what the
// Snapshot's Plan says they write.
func TestPresetHandlerMatchesWriteTime(t *testing.T) {
	quiet := func() http.Handler {
		e := gin.New()
		e.HandleMethodNotAllowed = true
		e.GET("/users/:id", func(c *gin.Context) { c.Header("X-Object-Meta-Color", "blue"); c.String(http.StatusOK, "ok") })
		e.GET("/fail", func(c *gin.Context) { c.Status(http.StatusInternalServerError) })
		return e
	}
	base := plugintest.Block{"allow_origins": []any{"https://app.example.com"}, "allow_credentials": true, "expose_headers": []any{"X-Request-Id"}}
	with := func(k string, v any) plugintest.Block {
		b := plugintest.Block{}
		for kk, vv := range base {
			b[kk] = vv
		}
		b[k] = v
		return b
	}
	gateways := map[string]plugintest.Gateway{
		"service policy":        {CORS: base, Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", nil), plugintest.EP("GET", "/fail", nil)}},
		"any origin":            {CORS: plugintest.Block{"allow_origins": []any{"*"}}, Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", nil)}},
		"strip request headers": {CORS: base, Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", plugintest.Block{"strip_cors_request_headers": true})}},
		"expose prefix":         {CORS: with("expose_headers", []any{"X-Object-Meta-*"}), Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", nil)}},
		"debug":                 {CORS: with("debug", true), Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", nil)}},
		"endpoint scope":        {CORS: base, Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", plugintest.Block{"allow_origins": []any{"https://other.example.com"}}), plugintest.EP("GET", "/fail", nil)}},
		"exempt endpoint":       {CORS: base, Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", plugintest.Block{"disable": true})}},
		"terminate unmatched":   {CORS: with("terminate_unmatched_request", true), Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", nil)}},
		"no CORS block":         {Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", nil)}},
	}
	requests := []struct {
		name, method, path string
		hdr                []string
	}{
		{"no Origin", "GET", "/users/1", nil},
		{"no Origin, Vary already set by nobody", "GET", "/users/1", []string{"Accept", "*/*"}},
		{"allowed", "GET", "/users/1", []string{"Origin", "https://app.example.com"}},
		{"other", "GET", "/users/1", []string{"Origin", "https://other.example.com"}},
		{"refused", "GET", "/users/1", []string{"Origin", "https://evil.example.org"}},
		{"404", "GET", "/nowhere", []string{"Origin", "https://app.example.com"}},
		{"404 without Origin", "GET", "/nowhere", nil},
		{"405", "DELETE", "/users/1", []string{"Origin", "https://app.example.com"}},
		{"500", "GET", "/fail", []string{"Origin", "https://app.example.com"}},
		{"OPTIONS, not a preflight", "OPTIONS", "/users/1", []string{"Origin", "https://app.example.com"}},
	}
	for gname, g := range gateways {
		ctrl := g.Controller(t)
		writeTime, preset := ctrl.Handler(quiet()), ctrl.PresetHandler(quiet())
		for _, rq := range requests {
			t.Run(fmt.Sprintf("%s/%s", gname, rq.name), func(t *testing.T) {
				serve := func(h http.Handler) *httptest.ResponseRecorder {
					r := httptest.NewRequest(rq.method, rq.path, nil)
					r.Header = plugintest.Header(rq.hdr...)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					return w
				}
				a, b := serve(writeTime), serve(preset)
				if a.Code != b.Code || !reflect.DeepEqual(a.Header(), b.Header()) {
					t.Errorf("write time: %d %v\nup front:   %d %v", a.Code, a.Header(), b.Code, b.Header())
				}
				r := httptest.NewRequest(rq.method, rq.path, nil)
				r.Header = plugintest.Header(rq.hdr...)
				plan := ctrl.Snapshot().Plan(r)
				want := http.Header{}
				if plan.Action != core.Forward {
					plan.WriteHeaders(want)
				}
				for k, v := range want {
					if got := b.Header()[k]; !reflect.DeepEqual(got, v) {
						t.Errorf("%s = %q up front, the plan says %q", k, got, v)
					}
				}
			})
		}
	}
}
