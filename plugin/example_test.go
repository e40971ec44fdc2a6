package plugin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	luraconfig "github.com/luraproject/lura/v2/config"
	"github.com/luraproject/lura/v2/logging"
	"github.com/luraproject/lura/v2/proxy"
	ginrouter "github.com/luraproject/lura/v2/router/gin"

	"github.com/corsgate/corsgate/plugin"
)

// A custom lura gateway gets CORS by wrapping the RunServer function of
// its gin router with plugin.NewRunServer. In a real gateway the wrapped
// function is server.RunServer from lura's transport/http/server package;
// here a stand-in serves one preflight instead of listening on a port.
func Example() {
	cfg := luraconfig.ServiceConfig{
		Version: 3,
		ExtraConfig: luraconfig.ExtraConfig{
			"security/cors": map[string]any{
				"allow_origins": []any{"https://app.example.com"},
				"allow_methods": []any{"GET", "PUT"},
				"max_age":       "1h",
			},
		},
		Endpoints: []*luraconfig.EndpointConfig{{
			Endpoint: "/users/{id}",
			Method:   "PUT",
			Backend:  []*luraconfig.Backend{{URLPattern: "/users/{id}", Host: []string{"http://127.0.0.1:9000"}}},
		}},
	}
	if err := cfg.Init(); err != nil {
		fmt.Println(err)
		return
	}
	plugin.PrepareConfig(&cfg) // KrakenD's "router" alias, for auto_options

	// Fail fast: every problem, with its JSON path.
	if err := plugin.Validate(cfg); err != nil {
		fmt.Println(err)
		return
	}

	logger, _ := logging.NewLogger("ERROR", os.Stderr, "")
	serveOnePreflight := func(_ context.Context, _ luraconfig.ServiceConfig, h http.Handler) error {
		r := httptest.NewRequest("OPTIONS", "/users/42", nil)
		r.Header.Set("Origin", "https://app.example.com")
		r.Header.Set("Access-Control-Request-Method", "PUT")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("Access-Control-Allow-Origin"), w.Header().Get("Access-Control-Allow-Methods"), w.Header().Get("Access-Control-Max-Age"))
		return nil
	}

	factory := ginrouter.NewFactory(ginrouter.Config{
		Engine:         ginrouter.NewEngine(cfg, ginrouter.EngineOptions{Logger: logger, Writer: os.Stderr}),
		HandlerFactory: ginrouter.EndpointHandler,
		ProxyFactory:   proxy.DefaultFactory(logger),
		Logger:         logger,
		RunServer:      plugin.NewRunServer(logger, serveOnePreflight), // the one added line
	})
	factory.New().Run(cfg)
	// Output: 204 https://app.example.com PUT 3600
}

// The faster wiring, as corsgate run does it: the CORS layer sets its
// headers before the router runs (Controller.PresetHandler), and the
// endpoint handlers drop what a backend says about CORS
// (StripBackendCORS), so that the gateway's answer is the only one. Here
// the backend answers "Access-Control-Allow-Origin: *" itself, through
// the no-op encoding, which passes its headers on.
func ExampleStripBackendCORS() {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Add("Vary", "Origin, Accept-Encoding")
		fmt.Fprint(w, `{"id":42}`)
	}))
	defer backend.Close()

	cfg := luraconfig.ServiceConfig{
		Version: 3,
		ExtraConfig: luraconfig.ExtraConfig{
			"security/cors": map[string]any{"allow_origins": []any{"https://app.example.com"}},
		},
		Endpoints: []*luraconfig.EndpointConfig{{
			Endpoint:       "/users/{id}",
			Method:         "GET",
			OutputEncoding: "no-op",
			Backend:        []*luraconfig.Backend{{URLPattern: "/users/{id}", Host: []string{backend.URL}, Encoding: "no-op"}},
		}},
	}
	if err := cfg.Init(); err != nil {
		fmt.Println(err)
		return
	}
	logger, _ := logging.NewLogger("ERROR", os.Stderr, "")
	ctrl, err := plugin.New(cfg, logger)
	if err != nil {
		fmt.Println(err)
		return
	}

	serveOneRequest := func(_ context.Context, _ luraconfig.ServiceConfig, h http.Handler) error {
		h = ctrl.PresetHandler(h) // the CORS layer in front of the router
		for _, origin := range []string{"https://app.example.com", "https://evil.example.org"} {
			r := httptest.NewRequest("GET", "/users/42", nil)
			r.Header.Set("Origin", origin)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			fmt.Println(w.Code, origin, "->", w.Header().Values("Access-Control-Allow-Origin"), w.Header().Values("Vary"))
		}
		return nil
	}
	ginrouter.NewFactory(ginrouter.Config{
		Engine:         ginrouter.NewEngine(cfg, ginrouter.EngineOptions{Logger: logger, Writer: os.Stderr}),
		HandlerFactory: plugin.StripBackendCORS(ctrl, ginrouter.EndpointHandler),
		ProxyFactory:   proxy.DefaultFactory(logger),
		Logger:         logger,
		RunServer:      serveOneRequest,
	}).New().Run(cfg)
	// Output:
	// 200 https://app.example.com -> [https://app.example.com] [Origin Accept-Encoding]
	// 200 https://evil.example.org -> [] [Origin Accept-Encoding]
}
