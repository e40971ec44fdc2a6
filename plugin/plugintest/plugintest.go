// Package plugintest builds gateway configurations with CORS blocks for
// tests: one description of a gateway (Gateway) gives the KrakenD JSON
// file the corsgate binary runs, the lura configuration a custom gateway
// gets, the compiled CORS layer, and lura's real router serving it in
// process. It also holds the table of scope cases (scopes.go) that runs
// both in process and end to end.
package plugintest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	luraconfig "github.com/luraproject/lura/v2/config"
	"github.com/luraproject/lura/v2/logging"
	"github.com/luraproject/lura/v2/proxy"
	ginrouter "github.com/luraproject/lura/v2/router/gin"

	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/plugin"
)

// Block is a JSON object: a security/cors block, or any other.
type Block = map[string]any

// Endpoint is one endpoint of a Gateway, with one backend.
type Endpoint struct {
	Method, Path string
	// CORS is the endpoint's own security/cors block, or nil.
	CORS Block
	// Backend is the backend's host; "" means BackendURL of the Gateway.
	Backend string
	// URLPattern is the backend path; "" means Path.
	URLPattern string
	// NoOp proxies the backend's answer as it is (status, headers and
	// body) and forwards every request header.
	NoOp bool
	// InputHeaders are the request headers forwarded to the backend
	// (ignored with NoOp).
	InputHeaders []string
	// Extra is merged into the endpoint's JSON object.
	Extra Block
}

// EP is an endpoint with its own block (nil for none).
func EP(method, path string, cors Block) Endpoint {
	return Endpoint{Method: method, Path: path, CORS: cors}
}

// Gateway describes a gateway configuration.
type Gateway struct {
	// CORS is the service-level security/cors block, or nil.
	CORS Block
	// Router is extra_config.router, or nil.
	Router Block
	// Extra holds other service-level extra_config entries.
	Extra Block
	// Endpoints in configuration order.
	Endpoints []Endpoint
	// BackendURL is the default backend host (http://127.0.0.1:19, which
	// refuses connections, when empty).
	BackendURL string
	// DebugEndpoint sets debug_endpoint: true (the /__debug/ endpoints).
	DebugEndpoint bool
}

// JSON returns the gateway as a KrakenD v3 configuration listening on
// 127.0.0.1:port.
func (g Gateway) JSON(port int) Block {
	extra := Block{}
	for k, v := range g.Extra {
		extra[k] = v
	}
	if g.CORS != nil {
		extra[plugin.Namespace] = g.CORS
	}
	if g.Router != nil {
		extra[plugin.RouterNamespace] = g.Router
	}
	eps := []any{}
	for _, e := range g.Endpoints {
		host := e.Backend
		if host == "" {
			host = g.BackendURL
		}
		if host == "" {
			host = "http://127.0.0.1:19"
		}
		pattern := e.URLPattern
		if pattern == "" {
			pattern = e.Path
		}
		backend := Block{"host": []any{host}, "url_pattern": pattern, "encoding": "json"}
		ep := Block{"endpoint": e.Path, "method": e.Method, "backend": []any{backend}}
		if e.NoOp {
			backend["encoding"] = "no-op"
			ep["output_encoding"] = "no-op"
			ep["input_headers"] = []any{"*"}
		} else if len(e.InputHeaders) > 0 {
			ep["input_headers"] = e.InputHeaders
		}
		if e.CORS != nil {
			ep["extra_config"] = Block{plugin.Namespace: e.CORS}
		}
		for k, v := range e.Extra {
			ep[k] = v
		}
		eps = append(eps, ep)
	}
	out := Block{
		"version":      3,
		"port":         port,
		"listen_ip":    "127.0.0.1",
		"timeout":      "3s",
		"endpoints":    eps,
		"extra_config": extra,
	}
	if g.DebugEndpoint {
		out["debug_endpoint"] = true
	}
	// A deep copy, so that a test may change the result without changing
	// the Gateway (or the next JSON of it).
	b, err := json.Marshal(out)
	if err != nil {
		panic("plugintest: the configuration is not JSON: " + err.Error())
	}
	var cp Block
	if err := json.Unmarshal(b, &cp); err != nil {
		panic(err)
	}
	return cp
}

// WriteFile writes v as indented JSON to a new file in a temporary
// directory and returns its path.
func WriteFile(t testing.TB, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatalf("plugintest: marshalling the configuration: %v", err)
	}
	path := filepath.Join(t.TempDir(), "corsgate.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatalf("plugintest: %v", err)
	}
	return path
}

// Config returns the configuration as the corsgate binary reads it:
// written to a file, parsed by plugin.ParseFile.
func (g Gateway) Config(t testing.TB) luraconfig.ServiceConfig {
	t.Helper()
	cfg, _, err := plugin.ParseFile(WriteFile(t, g.JSON(8080)))
	if err != nil {
		t.Fatalf("plugintest: %v", err)
	}
	return cfg
}

// Controller compiles the gateway's CORS layer; the test fails when the
// configuration is invalid.
func (g Gateway) Controller(t testing.TB, opts ...core.Option) *core.Controller {
	t.Helper()
	doc, routes, err := plugin.Read(g.Config(t))
	if err != nil {
		t.Fatalf("plugintest: plugin.Read: %v", err)
	}
	c, err := core.NewController(routes, doc, opts...)
	if err != nil {
		t.Fatalf("plugintest: the configuration is invalid:\n%v", err)
	}
	return c
}

// Snapshot is Controller(t).Snapshot().
func (g Gateway) Snapshot(t testing.TB) *core.Snapshot {
	t.Helper()
	return g.Controller(t).Snapshot()
}

// Errors returns the problems of a configuration that must be refused;
// the test fails when it is accepted.
func (g Gateway) Errors(t testing.TB) policy.Errors {
	t.Helper()
	_, err := plugin.New(g.Config(t), nil)
	var errs policy.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("plugintest: the configuration is accepted (err %v), want it refused", err)
	}
	return errs
}

// Serve builds lura's gin router for the gateway in process, exactly as
// corsgate run does (the endpoints proxy to their backends over HTTP, and
// drop their backends' CORS headers: plugin.StripBackendCORS), behind the
// CORS layer that sets its headers up front (Controller.PresetHandler),
// and returns it with the controller.
func (g Gateway) Serve(t testing.TB, logger logging.Logger) (http.Handler, *core.Controller) {
	t.Helper()
	cfg := g.Config(t)
	if logger == nil {
		logger = logging.NoOp
	}
	ctrl, err := plugin.New(cfg, logger)
	if err != nil {
		t.Fatalf("plugintest: the configuration is invalid:\n%v", err)
	}
	var handler http.Handler
	run := func(_ context.Context, _ luraconfig.ServiceConfig, h http.Handler) error {
		handler = ctrl.PresetHandler(h)
		return nil
	}
	g.router(t, cfg, logger, plugin.StripBackendCORS(ctrl, ginrouter.EndpointHandler), run)
	return handler, ctrl
}

// ServeWriteTime is Serve as a custom gateway built with plugin.Wire runs:
// lura's own endpoint handlers, behind the CORS layer that sets its
// headers at write time (Controller.Handler).
func (g Gateway) ServeWriteTime(t testing.TB, logger logging.Logger) (http.Handler, *core.Controller) {
	t.Helper()
	cfg := g.Config(t)
	if logger == nil {
		logger = logging.NoOp
	}
	var handler http.Handler
	capture := func(_ context.Context, _ luraconfig.ServiceConfig, h http.Handler) error {
		handler = h
		return nil
	}
	ctrl, run, err := plugin.Wire(cfg, logger, capture)
	if err != nil {
		t.Fatalf("plugintest: the configuration is invalid:\n%v", err)
	}
	g.router(t, cfg, logger, ginrouter.EndpointHandler, run)
	return handler, ctrl
}

// router builds and runs lura's gin router for cfg, and checks that its
// RunServerFunc was called.
func (g Gateway) router(t testing.TB, cfg luraconfig.ServiceConfig, logger logging.Logger, hf ginrouter.HandlerFactory, run ginrouter.RunServerFunc) {
	t.Helper()
	started := false
	ginrouter.NewFactory(ginrouter.Config{
		Engine:         ginrouter.NewEngine(cfg, ginrouter.EngineOptions{Logger: logger, Writer: discard{}}),
		HandlerFactory: hf,
		ProxyFactory:   proxy.DefaultFactory(logger),
		Logger:         logger,
		RunServer: func(ctx context.Context, cfg luraconfig.ServiceConfig, h http.Handler) error {
			started = true
			return run(ctx, cfg, h)
		},
	}).NewWithContext(t.Context()).Run(cfg)
	if !started {
		t.Fatal("plugintest: lura's router did not start")
	}
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// Header builds an http.Header from names and values.
func Header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// Preflight is the header of a browser preflight from origin asking for
// method and, when given, the request headers (one comma-separated line).
func Preflight(origin, method string, headers ...string) http.Header {
	h := Header("Origin", origin, "Access-Control-Request-Method", method)
	if len(headers) > 0 {
		h.Set("Access-Control-Request-Headers", strings.ToLower(strings.Join(headers, ",")))
	}
	return h
}
