// Package admin is corsgate's admin listener: the HTTP API, on its own
// listener, that reads and changes the CORS settings while the gateway
// runs. It is HTTP only: every change is made by package state (validated
// like the configuration file, committed to the store as a new revision,
// applied atomically, or nothing happens), and this package turns
// requests into calls to it and its answers and typed errors into HTTP.
//
// The pieces: the route table (Handler), handlers that return an error,
// one mapper from errors to HTTP statuses (errors.go), Cloudant's CORS
// API (GET and PUT /_api/v2/user/config/cors, cloudant.go), the full API
// under /v1/cors/ with revisions (ETag and If-Match), a dry run, history,
// rollback and reset (api.go), the fleet and ?wait=fleet (fleet.go), the
// metrics and report-only mode (observe.go), and the dashboard. Every
// route is behind package auth's Guard: credentials, and no cross-origin
// access. The corsgate/admin block is read by ReadConfig (config.go).
package admin

import (
	"net/http"
	"strings"

	"github.com/corsgate/corsgate/admin/auth"
	"github.com/corsgate/corsgate/admin/dashboard"
	"github.com/corsgate/corsgate/metrics"
	"github.com/corsgate/corsgate/state"
)

// Logger receives the admin API's log lines; lura's logging.Logger is one.
type Logger = state.Logger

// LogPrefix starts the admin API's log lines.
const LogPrefix = state.LogPrefix

// Server is the admin API of one gateway, over its run-time state.
type Server struct {
	state  *state.Manager
	cfg    *Config
	logger Logger
	// decisions counts the gateway's CORS decisions; nil without them.
	decisions *metrics.Decisions
	// guard checks every request's host, client, origin and credentials.
	guard *auth.Guard
}

// Options are what New needs.
type Options struct {
	// State is the gateway's run-time state.
	State *state.Manager
	// Config is the admin block as read (listener, credentials, store).
	Config *Config
	Logger Logger
	// Decisions, when not nil, are the gateway's CORS decisions, shown at
	// /metrics, /v1/cors/decisions and on the dashboard, and the home of
	// report-only mode.
	Decisions *metrics.Decisions
}

// New returns the admin API over o.State.
func New(o Options) *Server {
	s := &Server{state: o.State, cfg: o.Config, logger: o.Logger, decisions: o.Decisions}
	s.guard = auth.New(o.Config.Credentials, auth.Options{
		Log:          func(msg string) { s.logger.Warning(LogPrefix, msg) },
		AllowedHosts: o.Config.AllowedHosts,
		PublicOrigin: o.Config.PublicOrigin,
	})
	return s
}

// handler is a route's handler: it answers, or returns the error that
// writeError answers.
type handler func(w http.ResponseWriter, r *http.Request) error

// route is one entry of the route table: a pattern of http.ServeMux and
// its handler for each method (GET also answers HEAD).
type route struct {
	pattern string
	methods map[string]handler
}

// routes is the route table of the API.
func (s *Server) routes() []route {
	return []route{
		{CloudantPath, map[string]handler{"GET": s.getCloudant, "HEAD": s.getCloudant, "PUT": s.putCloudant}},
		{"/v1/cors/config", map[string]handler{"GET": s.getConfig}},
		{"/v1/cors/layer", map[string]handler{"GET": s.getLayer, "PUT": s.putLayer}},
		{"/v1/cors/scopes", map[string]handler{"GET": s.listScopes}},
		{"/v1/cors/scopes/service", map[string]handler{"PUT": s.putScope, "DELETE": s.putScope}},
		{"/v1/cors/scopes/{method}/{path...}", map[string]handler{"PUT": s.putScope, "DELETE": s.putScope}},
		{"/v1/cors/diff", map[string]handler{"GET": s.diff}},
		{"/v1/cors/keys/{key}", map[string]handler{"DELETE": s.dropKey}},
		{"/v1/cors/validate", map[string]handler{"POST": s.validate}},
		{"/v1/cors/history", map[string]handler{"GET": s.history}},
		{"/v1/cors/rollback", map[string]handler{"POST": s.rollback}},
		{"/v1/cors/reset", map[string]handler{"POST": s.reset}},
		{"/v1/cors/decisions", map[string]handler{"GET": s.needDecisions(s.getDecisions)}},
		{"/v1/cors/candidate", map[string]handler{"GET": s.needDecisions(s.getCandidate), "PUT": s.needDecisions(s.putCandidate), "DELETE": s.needDecisions(s.deleteCandidate)}},
		{"/v1/cors/candidate/apply", map[string]handler{"POST": s.needDecisions(s.applyCandidate)}},
		{"/v1/cors/fleet", map[string]handler{"GET": s.fleet}},
		{"/v1/cors/status", map[string]handler{"GET": s.status}},
	}
}

// Handler returns the admin API, every route behind auth.Guard.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.pattern, byMethod(rt.methods))
	}
	mux.Handle("/metrics", s.metricsHandler())
	mux.Handle("/dashboard/", dashboard.Handler())
	mux.HandleFunc("/dashboard", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/dashboard/", http.StatusMovedPermanently)
	})
	mux.Handle("/", serve(func(w http.ResponseWriter, r *http.Request) error {
		return errorf(http.StatusNotFound, "no admin route %s; the routes are %s and /v1/cors/{config,layer,scopes/...,diff,keys/...,validate,history,rollback,reset,fleet,status,decisions,candidate}, /metrics and /dashboard/", r.URL.Path, CloudantPath)
	}))
	return s.guard.Handler(mux)
}

// serve answers the error h returns.
func serve(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeError(w, err)
		}
	})
}

// byMethod dispatches by method, and answers 405 with Allow otherwise.
func byMethod(methods map[string]handler) http.Handler {
	allowed := make([]string, 0, len(methods))
	for _, m := range []string{"GET", "HEAD", "PUT", "POST", "DELETE"} {
		if _, ok := methods[m]; ok {
			allowed = append(allowed, m)
		}
	}
	return serve(func(w http.ResponseWriter, r *http.Request) error {
		h, ok := methods[r.Method]
		if !ok && r.Method == http.MethodHead {
			h, ok = methods["GET"]
		}
		if !ok {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			return errorf(http.StatusMethodNotAllowed, "%s is not allowed on %s; use %s", r.Method, r.URL.Path, strings.Join(allowed, " or "))
		}
		return h(w, r)
	})
}

// status is GET /v1/cors/status.
func (s *Server) status(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.state.Status())
	return nil
}
