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
)

// Namespace is the extra_config key the plugin reads.
const Namespace = config.Namespace

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
			logger.Info(LogPrefix, "no", Namespace, "block in the configuration: CORS is off")
		} else {
			logStartup(logger, t)
		}
		return next(ctx, cfg, NewHandler(h, t, logger))
	}
}

// Warnings lists what is valid but risky in the configuration: the unsafe
// any-origin-with-credentials opt-in. corsgate run logs them at start-up
// and corsgate check prints them.
func (t *Table) Warnings() []string {
	var out []string
	if t.service != nil && t.service.ReflectsAnyOriginWithCredentials() {
		out = append(out, "allow_any_origin_with_credentials_unsafe is on at the service level: every website can send credentialed requests and read the answers")
	}
	for _, r := range t.Routes() {
		if r.Own && r.Policy != nil && r.Policy.ReflectsAnyOriginWithCredentials() {
			out = append(out, "allow_any_origin_with_credentials_unsafe is on for "+r.Endpoint.Name()+": every website can send credentialed requests to it and read the answers")
		}
	}
	return out
}

// PrepareConfig applies KrakenD's alias for the router namespace, so that
// extra_config.router (auto_options and the other router settings) reaches
// lura's gin router. Call it on the parsed configuration before the router
// runs.
func PrepareConfig(cfg *luraconfig.ServiceConfig) { config.NormalizeRouter(cfg) }

// logStartup says at start-up what the CORS layer will do, and warns about
// the unsafe opt-in.
func logStartup(logger logging.Logger, t *Table) {
	own, exempt := 0, 0
	for _, r := range t.Routes() {
		switch {
		case r.Own && r.Policy == nil:
			exempt++
		case r.Own:
			own++
		}
	}
	logger.Info(LogPrefix, fmt.Sprintf("enabled: service policy %v, %d endpoint(s) with their own policy, %d exempt", t.service != nil, own, exempt))
	for _, w := range t.Warnings() {
		logger.Warning(LogPrefix, w)
	}
	debug := t.service != nil && t.service.Debug()
	for _, r := range t.Routes() {
		debug = debug || (r.Own && r.Policy != nil && r.Policy.Debug())
	}
	if debug {
		logger.Info(LogPrefix, "debug is on: refusals carry", ReasonHeader+", and each CORS decision is logged at DEBUG level (corsgate run -d shows them)")
	}
}
