package debug

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	luraconfig "github.com/luraproject/lura/v2/config"

	"github.com/corsgate/corsgate/plugin"
)

func explainTable(t *testing.T) *plugin.Table {
	t.Helper()
	cfg := luraconfig.ServiceConfig{
		Version: 3,
		ExtraConfig: luraconfig.ExtraConfig{"security/cors": map[string]any{
			"allow_origins": []any{"https://app.example.com"}, "allow_headers": []any{"Content-Type"},
		}},
		Endpoints: []*luraconfig.EndpointConfig{
			{Endpoint: "/orders", Method: "GET", Backend: []*luraconfig.Backend{{URLPattern: "/orders", Host: []string{"http://127.0.0.1:9000"}}},
				ExtraConfig: luraconfig.ExtraConfig{"security/cors": map[string]any{"allow_headers": []any{"Content-Type", "X-Api-Key"}}}},
		},
	}
	if err := cfg.Init(); err != nil {
		t.Fatal(err)
	}
	tb, err := plugin.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func TestExplainEndpoint(t *testing.T) {
	tb := explainTable(t)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := Explain(next, func() *plugin.Table { return tb })

	get := func(target string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
		return w
	}

	w := get("/__debug/cors/explain?origin=https://app.example.com&method=GET&path=/orders&headers=x-api-key,x-secret&credentials=true")
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("explain: %d %v", w.Code, w.Header())
	}
	var ex plugin.Explanation
	if err := json.Unmarshal(w.Body.Bytes(), &ex); err != nil {
		t.Fatal(err)
	}
	if ex.Endpoint.Endpoint != "GET /orders" || ex.Policy.Source != "endpoint" || len(ex.Policy.Inherited) != 1 || ex.Policy.Inherited[0] != "allow_origins" {
		t.Errorf("endpoint/policy: %+v %+v", ex.Endpoint, ex.Policy)
	}
	if len(ex.Headers) != 2 || !ex.Headers[0].Allowed || ex.Headers[1].Allowed ||
		ex.Headers[1].Reason != "header x-secret is not in allow_headers of GET /orders; add it there" {
		t.Errorf("headers: %+v", ex.Headers)
	}
	if ex.Verdict.Preflight != "refused" || ex.PreflightResponse == nil || ex.PreflightResponse.Status != 204 {
		t.Errorf("verdict %+v, preflight %+v", ex.Verdict, ex.PreflightResponse)
	}
	if ex.Credentials.Allowed {
		t.Errorf("credentials sent but not allowed: %+v", ex.Credentials)
	}

	// A simple request needs no preflight; the actual response is shown.
	w = get("/__debug/cors/explain?origin=https://app.example.com&path=/orders")
	if !strings.Contains(w.Body.String(), `"preflight": "not needed"`) || !strings.Contains(w.Body.String(), `"Access-Control-Allow-Origin": "https://app.example.com"`) {
		t.Errorf("simple request:\n%s", w.Body)
	}

	w = get("/__debug/cors/policy")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"endpoint": "GET /orders"`) || !strings.Contains(w.Body.String(), `"source": "endpoint"`) {
		t.Errorf("policy: %d\n%s", w.Code, w.Body)
	}

	if w = get("/__debug/cors/explain?path=orders"); w.Code != 400 || !strings.Contains(w.Body.String(), "must start with /") {
		t.Errorf("bad path: %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/__debug/cors/explain", nil))
	if w.Code != 405 || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d %v", w.Code, w.Header())
	}
	if w = get("/orders"); w.Code != http.StatusTeapot {
		t.Errorf("other paths must reach next, got %d", w.Code)
	}
}
