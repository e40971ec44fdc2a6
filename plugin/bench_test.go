package plugin_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/plugin/plugintest"
)

// discard is a ResponseWriter that keeps nothing, so that a benchmark
// measures the handlers and not a recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

func benchEngine() *gin.Engine {
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.GET("/users/:id", func(c *gin.Context) { c.Status(http.StatusOK) })
	return e
}

// benchRequests are the paths the README reports.
func benchRequests() []struct {
	name string
	req  *http.Request
} {
	mk := func(method string, kv ...string) *http.Request {
		r := httptest.NewRequest(method, "/users/42", nil)
		for i := 0; i < len(kv); i += 2 {
			r.Header.Set(kv[i], kv[i+1])
		}
		return r
	}
	return []struct {
		name string
		req  *http.Request
	}{
		{"preflight_allowed", mk("OPTIONS", "Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "content-type,x-api-key")},
		{"preflight_denied", mk("OPTIONS", "Origin", "https://evil.example", "Access-Control-Request-Method", "PUT")},
		{"actual_allowed", mk("GET", "Origin", "https://app.example.com")},
		{"no_origin", mk("GET")},
	}
}

func runBench(b *testing.B, h http.Handler, r *http.Request) {
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

// BenchmarkEngine is the floor: the same requests through the bare gin
// engine, without the CORS layer.
func BenchmarkEngine(b *testing.B) {
	e := benchEngine()
	for _, c := range benchRequests() {
		b.Run(c.name, func(b *testing.B) { runBench(b, e, c.req) })
	}
}

// BenchmarkPlugin runs the same requests through the CORS Handler in front
// of the same engine.
func BenchmarkPlugin(b *testing.B) {
	h := benchGateway.Controller(b).Handler(benchEngine())
	for _, c := range benchRequests() {
		b.Run(c.name, func(b *testing.B) { runBench(b, h, c.req) })
	}
}

// benchGateway is the SPA policy of the benchmarks.
var benchGateway = plugintest.Gateway{
	CORS: plugintest.Block{
		"allow_origins":     []any{"https://app.example.com"},
		"allow_methods":     []any{"GET", "POST", "PUT"},
		"allow_headers":     []any{"Content-Type", "X-Api-Key"},
		"expose_headers":    []any{"X-Request-Id"},
		"allow_credentials": true,
		"max_age":           "1h",
	},
	Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", nil)},
}

// countingObserver counts the decisions it sees.
type countingObserver struct{ n atomic.Int64 }

func (o *countingObserver) ObserveCORS(_ *http.Request, _ *core.Scope, _ policy.Decision) { o.n.Add(1) }
