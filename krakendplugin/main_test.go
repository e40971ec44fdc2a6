package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func ok() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
}

func allowed(t *testing.T, h http.Handler, method, path, origin string) string {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	r.Header.Set("Origin", origin)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Header().Get("Access-Control-Allow-Origin")
}

// The plugin's block gives the service policy and endpoint overrides.
func TestHandler(t *testing.T) {
	var registered string
	var factory func(context.Context, map[string]any, http.Handler) (http.Handler, error)
	HandlerRegisterer.RegisterHandlers(func(name string, f func(context.Context, map[string]any, http.Handler) (http.Handler, error)) {
		registered, factory = name, f
	})
	if registered != "corsgate" {
		t.Fatalf("registered %q", registered)
	}
	h, err := factory(context.Background(), map[string]any{
		"name": []any{"corsgate"},
		"corsgate": map[string]any{
			"security/cors": map[string]any{"allow_origins": []any{"https://app.example.com"}},
			"endpoints": map[string]any{
				"GET /users/{id}": map[string]any{"allow_origins": []any{"https://admin.example.com"}},
			},
		},
	}, ok())
	if err != nil {
		t.Fatal(err)
	}
	if got := allowed(t, h, "GET", "/orders", "https://app.example.com"); got != "https://app.example.com" {
		t.Errorf("service policy: %q", got)
	}
	if got := allowed(t, h, "GET", "/users/7", "https://admin.example.com"); got != "https://admin.example.com" {
		t.Errorf("endpoint override: %q", got)
	}
	if got := allowed(t, h, "GET", "/users/7", "https://app.example.com"); got != "" {
		t.Errorf("the override replaces the service origins: %q", got)
	}
}

func TestHandlerRefusesBadBlocks(t *testing.T) {
	for _, tc := range []struct {
		extra map[string]any
		want  string
	}{
		{map[string]any{"name": "corsgate"}, `there is no "corsgate" key`},
		{map[string]any{"corsgate": map[string]any{}}, `has no "security/cors" block`},
		{map[string]any{"corsgate": map[string]any{"security/cors": map[string]any{}, "endpoint": map[string]any{}}}, `unknown field "endpoint"`},
		{map[string]any{"corsgate": map[string]any{"security/cors": map[string]any{}, "endpoints": map[string]any{"/users": map[string]any{}}}}, `name an endpoint as "METHOD /endpoint"`},
		{map[string]any{"corsgate": map[string]any{"security/cors": map[string]any{"allow_origins": []any{"app.example.com"}}}}, `it has no scheme`},
		{map[string]any{"corsgate": map[string]any{"security/cors": map[string]any{"allow_origins": []any{"*"}, "allow_credentials": true}}}, `allow_credentials`},
	} {
		_, err := newHandler(context.Background(), tc.extra, ok())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.extra, err, tc.want)
		}
	}
}
