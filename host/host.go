// Package host runs corsgate inside a gateway process: the CORS layer
// and, when the configuration has a corsgate/admin block with a listener,
// the run-time features around it: the admin API (Cloudant's and the
// full one) and the dashboard on their own listener, the store (embedded
// or etcd) with its history, the loop that follows the other replicas of
// an etcd store, the decisions for /metrics and the dashboard, the hot
// reload of the configuration file, and /__debug/cors/* when the
// configuration has debug on.
//
// It is what the corsgate binary runs, what the KrakenD plugin runs, and
// what a custom lura gateway calls (Wire). The stages are:
//
//   - New validates the CORS settings and the admin block of a lura
//     configuration and compiles them, once; a configuration that does not
//     validate is a policy.Errors naming every problem.
//   - Start opens the store, starts the admin listener, the follow loop
//     and the file watch; all of them stop when its context ends.
//   - Handler puts the CORS layer (and the debug endpoints) in front of
//     the gateway's handler.
//   - Wait returns once everything Start started has stopped.
package host

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	luraconfig "github.com/luraproject/lura/v2/config"
	"github.com/luraproject/lura/v2/logging"
	ginrouter "github.com/luraproject/lura/v2/router/gin"

	"github.com/corsgate/corsgate/admin"
	corsdebug "github.com/corsgate/corsgate/debug"
	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/engine/route"
	"github.com/corsgate/corsgate/internal/listener"
	"github.com/corsgate/corsgate/metrics"
	"github.com/corsgate/corsgate/plugin"
	"github.com/corsgate/corsgate/state"
	"github.com/corsgate/corsgate/store"
)

// Options configure New. The zero value is a gateway without a file to
// watch, logging nowhere, reading the environment.
type Options struct {
	// Path is the configuration file's path: relative paths of the admin
	// block are resolved against its directory, the admin status shows
	// it, and Start watches it for changes of the CORS settings (unless
	// NoWatch). Leave it empty when the configuration does not come from
	// a file of its own (the KrakenD plugin).
	Path string
	// Logger receives what the CORS layer and the run-time features log.
	Logger logging.Logger
	// Overrides replace keys of the admin block, per replica (corsgate
	// run's --admin-listen, --state-dir and --replica-id).
	Overrides admin.Overrides
	// Getenv reads the environment (the admin credentials, the etcd
	// user); os.Getenv when nil.
	Getenv func(string) string
	// GatewayPort is the gateway's own port, which the admin listener may
	// not use; 0 when unknown.
	GatewayPort int
	// NoWatch watches the file only for SIGHUP, not for changes.
	NoWatch bool
	// HARMaxBytes bounds POST /__debug/cors/har with debug on;
	// debug.DefaultHARMaxBytes when zero.
	HARMaxBytes int64
	// Debug serves /__debug/cors/*, as the configuration's debug_endpoint
	// does.
	Debug bool
	// MapErrors rewrites the paths of the configuration's problems into
	// those of the file the user wrote (the KrakenD plugin's block); nil
	// leaves them.
	MapErrors func(policy.Errors) policy.Errors
}

// Gateway is a gateway's CORS layer and its run-time features, validated
// and compiled by New.
type Gateway struct {
	cfg       luraconfig.ServiceConfig
	o         Options
	ctrl      *core.Controller
	doc       *policy.Document // the file's CORS document
	admin     *admin.Config    // nil without an admin listener
	decisions *metrics.Decisions
	warnings  []string

	mu      sync.Mutex
	state   *state.Manager
	running sync.WaitGroup // what Start started
}

// New reads the CORS settings and the admin block of cfg, a configuration
// lura parsed (and plugin.PrepareConfig prepared), validates and compiles
// them. It returns every problem as policy.Errors, with the paths
// o.MapErrors gives them.
func New(cfg luraconfig.ServiceConfig, o Options) (*Gateway, error) {
	if o.Logger == nil {
		o.Logger = logging.NoOp
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.HARMaxBytes == 0 {
		o.HARMaxBytes = corsdebug.DefaultHARMaxBytes
	}
	adminCfg, adminErrs := admin.ReadConfig(cfg.ExtraConfig, o.Path, o.GatewayPort, o.Overrides, o.Getenv)
	var opts []core.Option
	var decisions *metrics.Decisions
	if adminCfg != nil {
		// The admin listener shows the decisions (/metrics, the
		// dashboard): count them.
		opts = append(opts, core.WithObserverFor(func(routes *route.Index) core.Observer {
			decisions = metrics.New(routes)
			return decisions
		}))
	}
	ctrl, err := plugin.New(cfg, o.Logger, opts...)
	var errs policy.Errors
	switch {
	case err == nil && len(adminErrs) > 0:
		errs = adminErrs
	case errors.As(err, &errs):
		errs = append(errs, adminErrs...)
	case err != nil:
		return nil, err
	}
	if len(errs) > 0 {
		if o.MapErrors != nil {
			errs = o.MapErrors(errs)
		}
		return nil, errs
	}
	g := &Gateway{cfg: cfg, o: o, ctrl: ctrl, doc: ctrl.Snapshot().Document(), admin: adminCfg, decisions: decisions}
	if adminCfg != nil {
		g.warnings = append(g.warnings, adminCfg.Credentials.Warnings()...)
	}
	g.warnings = append(g.warnings, admin.StoreWarnings(cfg.ExtraConfig, o.Getenv)...)
	return g, nil
}

// Controller returns the CORS layer's controller.
func (g *Gateway) Controller() *core.Controller { return g.ctrl }

// Admin returns the admin listener's settings, or nil without one.
func (g *Gateway) Admin() *admin.Config { return g.admin }

// Warnings lists what is valid but risky in the admin block (weak
// credentials, an etcd store without credentials or over plain HTTP);
// the CORS settings' own are the controller snapshot's.
func (g *Gateway) Warnings() []string { return g.warnings }

// State returns the run-time state, once Start has run (nil before).
func (g *Gateway) State() *state.Manager {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.state
}

// Start starts the run-time features until ctx ends: with an admin block,
// the store (one that cannot be opened is not fatal: the file alone
// applies, and the status says why), the loop that follows it, the
// decisions and the admin listener; with a Path, the watch of the file.
// An admin listener that cannot be bound is an error, and nothing is left
// running then. Call it once.
func (g *Gateway) Start(ctx context.Context) error {
	o := state.Options{Controller: g.ctrl, File: g.doc, ConfigPath: g.o.Path, Logger: g.o.Logger}
	var st store.Store
	if cfg := g.admin; cfg != nil {
		var err error
		st, err = cfg.OpenStore()
		o.Store, o.StoreErr = st, err
		o.StoreInfo, o.StateDir, o.Timeout = cfg.Store.Info(), cfg.StateDir, cfg.Store.Timeout()
		o.Replica, o.Admin = cfg.ReplicaID, cfg.Listen
	}
	m := state.New(o)
	g.mu.Lock()
	g.state = m
	g.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	if g.admin != nil {
		if err := g.serveAdmin(ctx, m); err != nil {
			cancel()
			if st != nil {
				_ = st.Close()
			}
			return err
		}
		if g.decisions != nil {
			g.goRun(func() { g.decisions.Run(ctx) })
		}
	}
	if e, ok := st.(*store.Etcd); ok {
		g.goRun(func() { warnCompaction(ctx, e, g.o.Logger) })
	}
	if st != nil {
		g.goRun(func() {
			m.Run(ctx) // returns once the cache holds the last layer
			_ = st.Close()
		})
	}
	if g.o.Path != "" {
		g.goRun(func() { watchFile(ctx, g, m) })
	}
	g.goRun(func() { <-ctx.Done(); cancel() })
	plugin.LogStartup(g.o.Logger, g.ctrl.Snapshot())
	return nil
}

// goRun runs f in a goroutine that Wait waits for.
func (g *Gateway) goRun(f func()) {
	g.running.Add(1)
	go func() {
		defer g.running.Done()
		f()
	}()
}

// Wait waits, at most timeout, until everything Start started has
// stopped (after its context ended): the admin listener closed, the store
// closed, the cache of the applied layer written. It reports whether it
// all stopped in time.
func (g *Gateway) Wait(timeout time.Duration) bool {
	done := make(chan struct{})
	go func() { g.running.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// serveAdmin serves the admin API over m until ctx ends.
func (g *Gateway) serveAdmin(ctx context.Context, m *state.Manager) error {
	cfg := g.admin
	srv := admin.New(admin.Options{State: m, Config: cfg, Logger: g.o.Logger, Decisions: g.decisions})
	ln, err := listener.Admin.Listen(cfg.Listen)
	if err != nil {
		return fmt.Errorf("the admin listener %s: %w", cfg.Listen, err)
	}
	hs := &http.Server{Handler: srv.Handler()}
	listener.Admin.Apply(hs)
	scheme := "http"
	if cfg.TLSCertFile != "" {
		scheme = "https"
	}
	g.goRun(func() {
		var err error
		if cfg.TLSCertFile != "" {
			err = hs.ServeTLS(ln, cfg.TLSCertFile, cfg.TLSKeyFile)
		} else {
			err = hs.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.o.Logger.Error(admin.LogPrefix, "the admin listener stopped:", err)
		}
	})
	g.goRun(func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(shutdown)
	})
	g.o.Logger.Info(admin.LogPrefix, fmt.Sprintf("admin API on %s://%s (credentials: %s; store: %s)", scheme, ln.Addr(), cfg.Credentials.Describe(), cfg.Store.Describe()))
	return nil
}

// Handler puts the CORS layer in front of next, and, with Options.Debug,
// /__debug/cors/* in front of that (the explain endpoint and the HAR
// upload; /__debug/cors itself answers like a backend with its own CORS
// layer, outside corsgate's).
func (g *Gateway) Handler(next http.Handler) http.Handler {
	return g.debug(g.ctrl.Handler(next))
}

// PresetHandler is Handler for a router whose endpoint handlers drop the
// backends' CORS headers (plugin.StripBackendCORS): the CORS layer sets
// its headers before the router runs, without wrapping the writer.
func (g *Gateway) PresetHandler(next http.Handler) http.Handler {
	return g.debug(g.ctrl.PresetHandler(next))
}

func (g *Gateway) debug(h http.Handler) http.Handler {
	if !g.o.Debug {
		return h
	}
	return corsdebug.Wrap(corsdebug.Explain(h, g.ctrl.Snapshot, corsdebug.Options{HARMaxBytes: g.o.HARMaxBytes}), g.o.Logger)
}

// Wire is the one call a custom lura gateway makes: it validates cfg's
// CORS settings and admin block (New), starts the run-time features until
// ctx ends (Start), and returns the gateway and a RunServerFunc that
// serves the router through next behind the CORS layer (Handler; with
// o.Debug or cfg.Debug, /__debug/cors/* too). Pass the RunServerFunc to
// ginrouter.Config.RunServer, and call Wait after ctx ended.
func Wire(ctx context.Context, cfg luraconfig.ServiceConfig, o Options, next ginrouter.RunServerFunc) (*Gateway, ginrouter.RunServerFunc, error) {
	if o.GatewayPort == 0 {
		o.GatewayPort = cfg.Port
	}
	o.Debug = o.Debug || cfg.Debug
	g, err := New(cfg, o)
	if err != nil {
		return nil, nil, err
	}
	if err := g.Start(ctx); err != nil {
		return nil, nil, err
	}
	run := func(ctx context.Context, cfg luraconfig.ServiceConfig, h http.Handler) error {
		return next(ctx, cfg, g.Handler(h))
	}
	return g, run, nil
}
