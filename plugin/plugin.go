// Package plugin adds corsgate's CORS layer to a lura/KrakenD gateway built
// on lura's gin router. It is the one place that knows lura: it reads the
// security/cors blocks and the endpoints of a lura ServiceConfig into a
// policy document and a route set (Read), compiles them into a
// core.Controller (New), and wraps the router's RunServer function so
// that the server runs behind the CORS layer (Wire, NewRunServer).
//
// Adding it to a lura gateway takes one line: wrap the RunServer function
// of the gin router with NewRunServer (see the example), or with Wire to
// keep the Controller, which can replace the policies while the gateway
// runs.
package plugin

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	luraconfig "github.com/luraproject/lura/v2/config"
	"github.com/luraproject/lura/v2/logging"
	ginrouter "github.com/luraproject/lura/v2/router/gin"

	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/engine/route"
	"github.com/corsgate/corsgate/schema"
)

// Namespace is the extra_config key of the CORS policy.
const Namespace = "security/cors"

// LegacyNamespace is the key krakend-cors v2 reads; KrakenD CE maps
// Namespace onto it. Either key is accepted, not both.
const LegacyNamespace = "github_com/devopsfaith/krakend-cors"

// RouterNamespace is KrakenD's alias for lura's gin router namespace,
// where auto_options lives.
const RouterNamespace = "router"

// ExtraConfigPath is the JSON path of the service-level extra_config.
const ExtraConfigPath = "extra_config"

// Read reads the CORS settings and the endpoints of a parsed lura
// configuration: the policy document and the route set. It checks the
// shape of every block (a value of the wrong type, an unknown key, a
// block where lura never reads it); what the values mean is judged when
// the document is compiled (core.Compile, or New). The error, when not
// nil, is a policy.Errors with every problem; the document then holds the
// blocks that could be read, and Paths names the others too.
func Read(cfg luraconfig.ServiceConfig) (*policy.Document, *route.Index, error) {
	doc := &policy.Document{Paths: map[string]string{}}
	var errs policy.Errors

	svc, path, perrs := readBlock(cfg.ExtraConfig, ExtraConfigPath, policy.ServiceLevel)
	errs = append(errs, perrs...)
	doc.Service = svc
	if path != "" {
		doc.Paths[""] = path
	}

	var routes []route.Route
	for i, ep := range cfg.Endpoints {
		r := route.Route{Method: strings.ToUpper(ep.Method), Path: ep.Endpoint, Index: i, NoOp: ep.OutputEncoding == "no-op"}
		key := r.Key()
		for j, b := range ep.Backend {
			r.Backends = append(r.Backends, b.Host...)
			for _, ns := range []string{Namespace, LegacyNamespace} {
				if _, ok := b.ExtraConfig[ns]; ok {
					e := misplaced(schema.Path(fmt.Sprintf("endpoints[%d].backend[%d].extra_config", i, j), ns), i)
					e.Endpoint = key
					errs = append(errs, e)
				}
			}
		}
		routes = append(routes, r)
		block, path, perrs := readBlock(ep.ExtraConfig, schema.Index("endpoints", i)+".extra_config", policy.EndpointLevel)
		for _, e := range perrs {
			e.Endpoint = key
			errs = append(errs, e)
		}
		if path == "" {
			continue
		}
		if prev, dup := doc.Paths[key]; dup {
			errs = append(errs, policy.Error{Path: path, Endpoint: key, Message: fmt.Sprintf("%s also has a block at %s; lura serves one endpoint per method and path, so keep one of them", key, prev)})
			continue
		}
		doc.Paths[key] = path
		if len(perrs) > 0 {
			continue // recorded in Paths, so that New knows the block is broken
		}
		if doc.Endpoints == nil {
			doc.Endpoints = map[string]*policy.Block{}
		}
		doc.Endpoints[key] = block
	}

	auto, aerrs := autoOptions(cfg.ExtraConfig)
	errs = append(errs, aerrs...)
	return doc, route.New(routes, auto), errs.Err()
}

// readBlock reads the security/cors block of one extra_config map. base
// is the JSON path of that map. It returns nil and "" when there is no
// block.
func readBlock(extra luraconfig.ExtraConfig, base string, level policy.Level) (*policy.Block, string, policy.Errors) {
	raw, okNew := extra[Namespace]
	legacy, okOld := extra[LegacyNamespace]
	newPath, oldPath := schema.Path(base, Namespace), schema.Path(base, LegacyNamespace)
	switch {
	case okNew && okOld:
		return nil, newPath, policy.Errors{{
			Path:    oldPath,
			Message: fmt.Sprintf("both %q and %q are set; they are the same setting, keep only %q", Namespace, LegacyNamespace, Namespace),
		}}
	case okOld:
		raw, newPath = legacy, oldPath
	case !okNew:
		return nil, "", nil
	}
	b, errs := policy.ParseBlock(raw, level, newPath)
	return b, newPath, errs
}

// misplaced is the error of a security/cors block where lura never reads
// it; endpoint is the index of the endpoint it sits in, or -1.
func misplaced(path string, endpoint int) policy.Error {
	where := `extra_config (for the whole gateway) or endpoints[i].extra_config (for one endpoint)`
	if endpoint >= 0 {
		where = fmt.Sprintf("endpoints[%d].extra_config", endpoint)
	}
	msg := fmt.Sprintf("a CORS block here has no effect: the gateway answers CORS for whole endpoints and reads it only in extra_config and endpoints[i].extra_config; move it to %s", where)
	if strings.Contains(path, "backend[") {
		msg = fmt.Sprintf("a CORS block in a backend's extra_config has no effect: the gateway answers CORS for the whole endpoint, before any backend is called; move it to %s", where)
	}
	return policy.Error{Path: path, Message: msg}
}

// autoOptions reads auto_options from the router namespace, under either
// its KrakenD alias or lura's own key.
func autoOptions(extra luraconfig.ExtraConfig) (bool, policy.Errors) {
	var errs policy.Errors
	on := false
	for _, ns := range []string{RouterNamespace, ginrouter.Namespace} {
		block, ok := extra[ns]
		if !ok {
			continue
		}
		if ns == ginrouter.Namespace && sameMap(block, extra[RouterNamespace]) {
			continue // PrepareConfig's copy of the router block
		}
		path := schema.Path(ExtraConfigPath, ns)
		m, ok := block.(map[string]any)
		if !ok {
			errs = append(errs, policy.Error{Path: path, Message: "the router settings must be a JSON object"})
			continue
		}
		v, ok := m["auto_options"]
		if !ok {
			continue
		}
		b, ok := v.(bool)
		if !ok {
			errs = append(errs, policy.Error{Path: schema.Path(path, "auto_options"), Value: jsonText(v), Message: jsonText(v) + " is not a boolean; write true or false, without quotes"})
			continue
		}
		on = on || b
	}
	return on, errs
}

// New reads and compiles the CORS settings of cfg: the Controller of the
// gateway's CORS layer. logger receives the debug lines of policies with
// debug on; nil discards them. The error, when not nil, is a policy.Errors
// with every problem. extra adds options to the controller (an observer).
func New(cfg luraconfig.ServiceConfig, logger logging.Logger, extra ...core.Option) (*core.Controller, error) {
	doc, routes, err := Read(cfg)
	if err != nil {
		return nil, withMeaningErrors(err.(policy.Errors), doc, routes)
	}
	opts := extra
	if logger != nil {
		opts = append(opts, core.WithLogger(logger))
	}
	return core.NewController(routes, doc, opts...)
}

// withMeaningErrors adds to the shape problems of Read what the blocks that
// could be read mean, so that one run reports every problem. When the
// service block is unreadable, which every endpoint block inherits from,
// the endpoint blocks are judged on their own.
func withMeaningErrors(errs policy.Errors, doc *policy.Document, routes *route.Index) error {
	if doc.Service == nil && doc.Paths[""] != "" {
		for key, b := range doc.Endpoints {
			_, berrs := policy.CheckBlock(b, policy.EndpointLevel, doc.Path(key))
			for _, e := range berrs {
				e.Endpoint = key
				errs = append(errs, e)
			}
		}
	} else if _, err := core.Compile(doc, routes); err != nil {
		errs = append(errs, err.(policy.Errors)...)
	}
	return errs
}

// Validate reports every problem in the CORS settings of cfg, or nil.
func Validate(cfg luraconfig.ServiceConfig) error {
	_, err := New(cfg, nil)
	return err
}

// Wire reads and compiles the CORS settings of cfg once, logs what the
// CORS layer will do, and returns its Controller together with a
// RunServerFunc that runs next behind it. Keep the Controller to replace
// the policies while the gateway runs (Controller.Apply).
func Wire(cfg luraconfig.ServiceConfig, logger logging.Logger, next ginrouter.RunServerFunc) (*core.Controller, ginrouter.RunServerFunc, error) {
	if logger == nil {
		logger = logging.NoOp
	}
	c, err := New(cfg, logger)
	if err != nil {
		return nil, nil, err
	}
	LogStartup(logger, c.Snapshot())
	return c, func(ctx context.Context, cfg luraconfig.ServiceConfig, h http.Handler) error {
		return next(ctx, cfg, c.Handler(h))
	}, nil
}

// NewRunServer wraps a lura gin RunServerFunc so that the server it starts
// serves the gateway's router behind the CORS layer. It compiles the
// policies from the configuration it is given when the server starts, and
// returns the validation errors instead of starting when there are any.
// Use Wire instead to get the Controller.
func NewRunServer(logger logging.Logger, next ginrouter.RunServerFunc) ginrouter.RunServerFunc {
	return func(ctx context.Context, cfg luraconfig.ServiceConfig, h http.Handler) error {
		_, run, err := Wire(cfg, logger, next)
		if err != nil {
			return fmt.Errorf("invalid CORS configuration:\n%w", err)
		}
		return run(ctx, cfg, h)
	}
}

// LogStartup says at start-up what the CORS layer will do, and warns
// about what is risky. Wire calls it.
func LogStartup(logger logging.Logger, s *core.Snapshot) {
	if !s.Enabled() {
		logger.Info(core.LogPrefix, "no", Namespace, "block in the configuration: CORS is off")
		return
	}
	own, exempt := 0, 0
	for _, r := range s.Routes().Routes() {
		switch sc := s.Scope(r); {
		case sc.Exempt:
			exempt++
		case sc.OwnBlock:
			own++
		}
	}
	logger.Info(core.LogPrefix, fmt.Sprintf("enabled: service policy %v, %d endpoint(s) with their own policy, %d exempt", s.Service().Policy != nil, own, exempt))
	for _, w := range s.Warnings() {
		logger.Warning(core.LogPrefix, w.Error())
	}
	if s.Debug() {
		logger.Info(core.LogPrefix, "debug is on: refusals carry", core.ReasonHeader+", and each CORS decision is logged at DEBUG level (run the gateway with its log level at DEBUG to see them)")
	}
}
