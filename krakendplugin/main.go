// Command krakendplugin is corsgate as a KrakenD http-server plugin: built
// with go build -buildmode=plugin (make plugin gives bin/corsgate.so), it
// is loaded by KrakenD's plugin loader (lura's transport/http/server/plugin)
// and wraps the gateway's router with corsgate's CORS layer, so that a
// KrakenD deployment keeps everything else it runs.
//
// It is configured in its own block, under plugin/http-server:
//
//	"plugin/http-server": {
//	  "name": ["corsgate"],
//	  "corsgate": {
//	    "security/cors": {"allow_origins": ["https://app.example.com"]},
//	    "endpoints": {"GET /reports": {"allow_origins": ["https://admin.example.com"]}}
//	  }
//	}
//
// "security/cors" takes the keys of the service-level block of corsgate
// (and of KrakenD), "endpoints" the per-endpoint overrides, keyed by the
// method and the endpoint as the configuration writes it. A plugin sees
// only its own block, not the endpoints of the configuration, so the
// overrides name theirs. The block is validated as corsgate check
// validates a file; a block that does not validate is an error KrakenD
// logs, and the plugin is then not installed: the gateway answers without
// any CORS header, which browsers treat as a refusal.
//
// The plugin and KrakenD must be built with the same Go version and the
// same versions of every module they share (make check-plugin compares).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	luraconfig "github.com/luraproject/lura/v2/config"
	"github.com/luraproject/lura/v2/logging"

	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/engine/route"
	"github.com/corsgate/corsgate/plugin"
)

// Name is the plugin's name in the plugin/http-server block.
const Name = "corsgate"

// registerer is what KrakenD's loader looks up.
type registerer string

// HandlerRegisterer is the symbol KrakenD's http-server plugin loader
// looks up.
var HandlerRegisterer = registerer(Name)

var logger logging.Logger = logging.NoOp

// RegisterLogger receives KrakenD's logger.
func (registerer) RegisterLogger(v any) {
	if l, ok := v.(logging.Logger); ok {
		logger = l
	}
}

// RegisterHandlers registers the plugin's handler factory.
func (r registerer) RegisterHandlers(register func(string, func(context.Context, map[string]any, http.Handler) (http.Handler, error))) {
	register(string(r), newHandler)
	logger.Debug("[PLUGIN: corsgate] registered")
}

// block is the plugin's configuration.
type block struct {
	CORS      map[string]any            `json:"security/cors"`
	Endpoints map[string]map[string]any `json:"endpoints"`
	Comment   any                       `json:"@comment"`
}

// newHandler builds the CORS layer from the plugin/http-server block and
// puts it in front of next.
func newHandler(_ context.Context, extra map[string]any, next http.Handler) (http.Handler, error) {
	cfg, err := serviceConfig(extra)
	if err != nil {
		logger.Error("[PLUGIN: corsgate]", err)
		return nil, err
	}
	ctrl, err := plugin.New(cfg, logger)
	if err != nil {
		var errs policy.Errors
		if errors.As(err, &errs) {
			lines := make([]string, len(errs))
			for i, e := range errs {
				lines[i] = "  " + e.Error()
			}
			err = fmt.Errorf("corsgate: %d problem(s) in the plugin/http-server block, so the CORS layer is not installed and the gateway answers without CORS headers:\n%s", len(errs), strings.Join(lines, "\n"))
		}
		logger.Error("[PLUGIN: corsgate]", err)
		return nil, err
	}
	plugin.LogStartup(logger, ctrl.Snapshot())
	return ctrl.Handler(next), nil
}

// serviceConfig turns the plugin's block into the lura configuration
// corsgate reads: the service block, and an endpoint for each override.
func serviceConfig(extra map[string]any) (luraconfig.ServiceConfig, error) {
	var cfg luraconfig.ServiceConfig
	raw, ok := extra[Name]
	if !ok {
		return cfg, fmt.Errorf("corsgate: the plugin/http-server block has no %q key; write \"%s\": {\"security/cors\": {...}} beside \"name\"", Name, Name)
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return cfg, err
	}
	var b block
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return cfg, fmt.Errorf("corsgate: plugin/http-server.%s: %v; its keys are \"security/cors\" (the service-level CORS settings) and \"endpoints\" (overrides keyed by \"METHOD /endpoint\")", Name, err)
	}
	if b.CORS == nil {
		return cfg, fmt.Errorf("corsgate: plugin/http-server.%s has no \"security/cors\" block; write the service-level CORS settings there", Name)
	}
	cfg.ExtraConfig = luraconfig.ExtraConfig{plugin.Namespace: b.CORS}
	keys := make([]string, 0, len(b.Endpoints))
	for k := range b.Endpoints {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		method, path, ok := strings.Cut(k, " ")
		if !ok || !strings.HasPrefix(path, "/") || method != strings.ToUpper(method) {
			return cfg, fmt.Errorf("corsgate: plugin/http-server.%s.endpoints[%q]: name an endpoint as \"METHOD /endpoint\", such as \"GET /users/{id}\"", Name, k)
		}
		cfg.Endpoints = append(cfg.Endpoints, &luraconfig.EndpointConfig{Endpoint: route.FromTemplate(path), Method: method, ExtraConfig: luraconfig.ExtraConfig{plugin.Namespace: b.Endpoints[k]}})
	}
	return cfg, nil
}

func main() {}
