package plugin

import (
	"strings"
	"testing"

	luraconfig "github.com/luraproject/lura/v2/config"
)

func explainGateway(t *testing.T, service map[string]any, endpoints ...*luraconfig.EndpointConfig) *Table {
	t.Helper()
	cfg := luraconfig.ServiceConfig{Version: 3, ExtraConfig: luraconfig.ExtraConfig{}, Endpoints: endpoints}
	if service != nil {
		cfg.ExtraConfig[Namespace] = service
	}
	if err := cfg.Init(); err != nil {
		t.Fatal(err)
	}
	tb, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func endpoint(method, path string, cors map[string]any) *luraconfig.EndpointConfig {
	e := &luraconfig.EndpointConfig{Endpoint: path, Method: method,
		Backend: []*luraconfig.Backend{{URLPattern: "/x", Host: []string{"http://127.0.0.1:9000"}}}}
	if cors != nil {
		e.ExtraConfig = luraconfig.ExtraConfig{Namespace: cors}
	}
	return e
}

func TestExplain(t *testing.T) {
	svc := map[string]any{"allow_origins": []any{"https://app.example.com"}, "allow_methods": []any{"GET", "PUT"}}
	tb := explainGateway(t, svc,
		endpoint("GET", "/public", map[string]any{"disable": true}),
		endpoint("PUT", "/strict/{id}", map[string]any{"terminate_unmatched_request": true, "unmatched_status": 401}),
		endpoint("GET", "/users/{id}", nil),
	)
	tests := []struct {
		name      string
		in        ExplainInput
		source    string
		preflight string
		actual    string
		reason    string // substring of the verdict's reason
		status    int    // of the preflight answer, 0 when none
	}{
		{"exempt endpoint", ExplainInput{Origin: "https://app.example.com", Path: "/public"}, "exempt", "not answered by CORS", "refused", "adds no CORS headers to GET /public (disable: true)", 0},
		{"terminated", ExplainInput{Origin: "https://evil.example", Method: "PUT", Path: "/strict/1"}, "endpoint", "refused", "refused", `origin "https://evil.example" is not in allow_origins of PUT /strict/{id}`, 401},
		{"inherited and allowed", ExplainInput{Origin: "https://app.example.com", Method: "GET", Path: "/users/1", Headers: []string{"Accept"}}, "service", "not needed", "allowed", "lets the page read", 0},
		{"method not served on the path", ExplainInput{Origin: "https://app.example.com", Method: "DELETE", Path: "/users/1"}, "service", "refused", "refused", "method DELETE is not in allow_methods", 204},
		{"credentials not allowed", ExplainInput{Origin: "https://app.example.com", Path: "/users/1", Credentials: true}, "service", "not needed", "refused", "allow_credentials is false", 0},
		{"no origin", ExplainInput{Path: "/users/1"}, "service", "not needed", "allowed", "not a cross-origin request", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := tb.Explain(tt.in)
			if ex.Policy.Source != tt.source || ex.Verdict.Preflight != tt.preflight || ex.Verdict.Actual != tt.actual || !strings.Contains(ex.Verdict.Reason, tt.reason) {
				t.Errorf("got source %q, verdict %+v", ex.Policy.Source, ex.Verdict)
			}
			got := 0
			if ex.PreflightResponse != nil {
				got = ex.PreflightResponse.Status
			}
			if got != tt.status {
				t.Errorf("preflight status %d, want %d", got, tt.status)
			}
		})
	}
	if ex := tb.Explain(ExplainInput{Origin: "https://app.example.com", Method: "DELETE", Path: "/users/1"}); !strings.Contains(ex.Endpoint.Note, "served for GET but not for DELETE") {
		t.Errorf("note %q", ex.Endpoint.Note)
	}
	if ex := tb.Explain(ExplainInput{Origin: "https://app.example.com", Method: "PUT", Path: "/users/1"}); ex.Verdict.Actual != "allowed" || !strings.Contains(ex.Verdict.Reason, "the gateway answers 405 Method Not Allowed") {
		t.Errorf("PUT on a GET-only path: %+v", ex.Verdict)
	}
	if ex := tb.Explain(ExplainInput{Origin: "https://app.example.com", Path: "/nowhere"}); !strings.Contains(ex.Verdict.Reason, "the gateway answers 404 Not Found") {
		t.Errorf("unknown path: %+v", ex.Verdict)
	}

	if ex := tb.Explain(ExplainInput{Origin: "https://app.example.com", Path: "/public"}); !strings.Contains(ex.Verdict.Reason, "the router answers it 405 or 404 (router.auto_options is off)") {
		t.Errorf("exempt endpoint without auto_options: %q", ex.Verdict.Reason)
	}
	auto := luraconfig.ServiceConfig{Version: 3, ExtraConfig: luraconfig.ExtraConfig{"router": map[string]any{"auto_options": true}},
		Endpoints: []*luraconfig.EndpointConfig{endpoint("GET", "/public", map[string]any{"disable": true})}}
	if err := auto.Init(); err != nil {
		t.Fatal(err)
	}
	withAuto, err := Build(auto)
	if err != nil {
		t.Fatal(err)
	}
	if ex := withAuto.Explain(ExplainInput{Origin: "https://app.example.com", Path: "/public"}); !strings.Contains(ex.Verdict.Reason, "router.auto_options answers it 200 with Allow") {
		t.Errorf("exempt endpoint with auto_options: %q", ex.Verdict.Reason)
	}

	none := explainGateway(t, nil, endpoint("GET", "/a", nil))
	if ex := none.Explain(ExplainInput{Origin: "https://x.example", Path: "/a"}); ex.Policy.Source != "none" || ex.Verdict.Actual != "refused" {
		t.Errorf("no CORS at all: %+v %+v", ex.Policy, ex.Verdict)
	}
}
