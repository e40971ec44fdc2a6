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
//	    "endpoints": {"GET /reports": {"allow_origins": ["https://admin.example.com"]}},
//	    "admin": {"listen": "127.0.0.1:9091", "store": {"type": "embedded"}}
//	  }
//	}
//
// "security/cors" takes the keys of the service-level block of corsgate
// (and of KrakenD), "endpoints" the per-endpoint overrides, keyed by the
// method and the endpoint as the configuration writes it. A plugin sees
// only its own block, not the endpoints of the configuration, so the
// overrides name theirs. "admin" takes the keys of the corsgate/admin
// block: with a listen, the plugin runs the admin API, the dashboard, the
// store (embedded, or etcd shared with other replicas, corsgate run's
// included), the follow loop and /metrics inside KrakenD, until KrakenD
// stops (package host). "debug_endpoint": true serves /__debug/cors/*.
// The block is read by plugin.PluginConfig and validated as corsgate
// check validates a file, and its problems name its own paths; a block
// that does not validate is an error KrakenD logs, and the plugin is then
// not installed: the gateway answers without any CORS header, which
// browsers treat as a refusal.
//
// The plugin and KrakenD must be built with the same Go version and the
// same versions of every module they share (make check-plugin compares).
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/luraproject/lura/v2/logging"

	"github.com/corsgate/corsgate/admin"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/host"
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

// newHandler builds the CORS layer from the plugin/http-server block and
// puts it in front of next; with an admin section, it also starts the
// run-time features (the admin API and dashboard, the store, the follow
// loop, the metrics), which stop when ctx, KrakenD's, ends.
func newHandler(ctx context.Context, extra map[string]any, next http.Handler) (http.Handler, error) {
	cfg, debug, mapErrs, err := plugin.PluginConfig(extra)
	if err != nil {
		err = fmt.Errorf("corsgate: %w", err)
		logger.Error("[PLUGIN: corsgate]", err)
		return nil, err
	}
	o := host.Options{Logger: logger, Debug: debug, MapErrors: mapErrs}
	if _, ok := cfg.ExtraConfig[plugin.AdminNamespace]; ok {
		// Replicas of KrakenD share one file: each may name its own
		// listener, state directory and name in the fleet, as corsgate
		// run's --admin-listen, --state-dir and --replica-id do.
		o.Overrides = admin.Overrides{Listen: os.Getenv("CORSGATE_ADMIN_LISTEN"), StateDir: os.Getenv("CORSGATE_STATE_DIR"), ReplicaID: os.Getenv("CORSGATE_REPLICA_ID")}
	}
	g, err := host.New(cfg, o)
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
	for _, w := range g.Warnings() {
		logger.Warning("[PLUGIN: corsgate]", w)
	}
	if g.Admin() == nil {
		plugin.LogStartup(logger, g.Controller().Snapshot())
		return g.Handler(next), nil
	}
	if err := g.Start(ctx); err != nil {
		err = fmt.Errorf("corsgate: %w", err)
		logger.Error("[PLUGIN: corsgate]", err)
		return nil, err
	}
	return g.Handler(next), nil
}

func main() {}
