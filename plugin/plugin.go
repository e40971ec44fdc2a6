// Package plugin is corsgate's CORS layer for lura/KrakenD gateways built
// on lura's gin router.
//
// It reads the security/cors namespace of a gateway configuration
// (package config), validates it against the JSON Schema (package schema),
// compiles it into immutable policies (package policy) and serves them
// with Handler, an http.Handler that wraps the whole router, as KrakenD CE
// does, so that preflights are answered before routing and the gateway's
// own 404, 405 and error responses carry CORS headers too.
//
// Adding it to a lura gateway takes one line: wrap the RunServer function
// of the gin router with NewRunServer (see the example).
package plugin

import (
	"context"
	"fmt"
	"net/http"

	luraconfig "github.com/luraproject/lura/v2/config"
	"github.com/luraproject/lura/v2/logging"
	ginrouter "github.com/luraproject/lura/v2/router/gin"

	"github.com/corsgate/corsgate/plugin/config"
	"github.com/corsgate/corsgate/plugin/policy"
)

// Namespace is the extra_config key the plugin reads.
const Namespace = config.Namespace

// Table is the set of compiled policies of one gateway configuration. It is
// immutable; a new configuration gives a new Table.
type Table struct {
	service *policy.Policy
	gateway *config.Gateway
}

// Build reads, validates and compiles the CORS settings of a parsed lura
// configuration. The error, when not nil, is a schema.Errors listing every
// problem with its JSON path.
func Build(cfg luraconfig.ServiceConfig) (*Table, error) {
	g, err := config.FromService(cfg)
	if err != nil {
		return nil, err
	}
	t := &Table{gateway: g}
	if g.Service != nil {
		p, err := policy.Compile(*g.Service, g.ServicePath)
		if err != nil {
			return nil, err
		}
		t.service = p
	}
	return t, nil
}

// Validate reports every problem in the CORS settings of cfg, or nil.
func Validate(cfg luraconfig.ServiceConfig) error {
	_, err := Build(cfg)
	return err
}

// Enabled reports whether any CORS policy is configured.
func (t *Table) Enabled() bool { return t != nil && t.service != nil }

// Service returns the service-level policy, or nil when CORS is off.
func (t *Table) Service() *policy.Policy { return t.service }

// Lookup returns the policy that applies to r, or nil when CORS does not
// apply. preflight tells whether r is a preflight, whose policy is the one
// of the method it asks for.
func (t *Table) Lookup(r *http.Request, preflight bool) *policy.Policy {
	if t == nil {
		return nil
	}
	return t.service
}

// NewRunServer wraps a lura gin RunServerFunc so that the server it starts
// serves the gateway's router behind the CORS Handler. It builds the
// policies from the configuration it is given when the server starts, and
// returns the validation errors instead of starting when there are any.
//
// The Handler wraps the router from the outside, so its preflight answers
// do not depend on the router's routes, redirects or h2c setting.
func NewRunServer(logger logging.Logger, next ginrouter.RunServerFunc) ginrouter.RunServerFunc {
	if logger == nil {
		logger = logging.NoOp
	}
	return func(ctx context.Context, cfg luraconfig.ServiceConfig, h http.Handler) error {
		t, err := Build(cfg)
		if err != nil {
			return fmt.Errorf("invalid CORS configuration:\n%w", err)
		}
		if !t.Enabled() {
			logger.Info(LogPrefix, "no", Namespace, "block in the service extra_config: CORS is off")
			return next(ctx, cfg, h)
		}
		logger.Info(LogPrefix, "enabled for all requests")
		if t.service.Debug() {
			logger.Info(LogPrefix, "debug is on: one DEBUG line per CORS decision, and refusals carry", ReasonHeader)
		}
		return next(ctx, cfg, NewHandler(h, t, logger))
	}
}

// PrepareConfig applies KrakenD's alias for the router namespace, so that
// extra_config.router (auto_options and the other router settings) reaches
// lura's gin router. Call it on the parsed configuration before the router
// runs.
func PrepareConfig(cfg *luraconfig.ServiceConfig) { config.NormalizeRouter(cfg) }
