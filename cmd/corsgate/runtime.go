package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	luraconfig "github.com/luraproject/lura/v2/config"
	"github.com/luraproject/lura/v2/logging"

	"github.com/corsgate/corsgate/admin"
	"github.com/corsgate/corsgate/internal/listener"
	"github.com/corsgate/corsgate/plugin"
	"github.com/corsgate/corsgate/state"
	"github.com/corsgate/corsgate/store"
	"github.com/corsgate/corsgate/watch"
)

// openState loads the gateway's run-time state: with an admin block, its
// store's layer over the file (a store that cannot be opened is not fatal:
// the file alone applies and the status says why); without one, the file
// alone. It returns the store to close, or nil.
func openState(g *gatewayConfig, logger logging.Logger) (*state.Manager, store.Store) {
	o := state.Options{Controller: g.ctrl, File: g.doc, ConfigPath: g.path, Logger: logger}
	var st store.Store
	if cfg := g.admin; cfg != nil {
		var err error
		st, err = cfg.OpenStore()
		o.Store, o.StoreErr = st, err
		o.StoreInfo, o.StateDir, o.Timeout = cfg.Store.Info(), cfg.StateDir, cfg.Store.Timeout()
		o.Replica, o.Admin = cfg.ReplicaID, cfg.Listen
	}
	return state.New(o), st
}

// startAdmin serves the admin API over m until ctx is done. The listener
// that cannot be bound is fatal.
func startAdmin(ctx context.Context, g *gatewayConfig, m *state.Manager, logger logging.Logger) error {
	cfg := g.admin
	srv := admin.New(admin.Options{State: m, Config: cfg, Logger: logger, Decisions: g.decisions})
	ln, err := listener.Admin.Listen(cfg.Listen)
	if err != nil {
		return fmt.Errorf("the admin listener %s: %w", cfg.Listen, err)
	}
	hs := &http.Server{Handler: srv.Handler()}
	listener.Admin.Apply(hs)
	scheme := "http"
	go func() {
		var err error
		if cfg.TLSCertFile != "" {
			err = hs.ServeTLS(ln, cfg.TLSCertFile, cfg.TLSKeyFile)
		} else {
			err = hs.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error(admin.LogPrefix, "the admin listener stopped:", err)
		}
	}()
	if cfg.TLSCertFile != "" {
		scheme = "https"
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(shutdown)
	}()
	logger.Info(admin.LogPrefix, fmt.Sprintf("admin API on %s://%s (credentials: %s; store: %s)", scheme, ln.Addr(), cfg.Credentials.Describe(), cfg.Store.Describe()))
	return nil
}

// watchFile reloads the CORS settings of the configuration file when it
// changes and on SIGHUP (only on SIGHUP with signalOnly: corsgate run
// --no-watch), until ctx is done. A valid change to the CORS blocks
// applies at once; an invalid one applies nothing and is logged (and
// shown in the admin status); a change outside the CORS blocks is logged
// as needing a restart.
func watchFile(ctx context.Context, g *gatewayConfig, m *state.Manager, logger logging.Logger, signalOnly bool) {
	err := watch.Watch(ctx, g.path, watch.Options{SIGHUP: true, SignalOnly: signalOnly, OnError: func(err error) {
		logger.Error("[RELOAD]", err)
	}}, func(reason watch.Reason, _ []byte) {
		reload(g, m, logger, reason)
	})
	if err != nil {
		logger.Error("[RELOAD] the configuration file is not watched:", err)
	}
}

// reload reads the file again and puts its CORS part in force.
func reload(g *gatewayConfig, m *state.Manager, logger logging.Logger, reason watch.Reason) {
	cfg, doc, err := plugin.ReadCORS(g.path)
	if err != nil {
		// Never the file's text: the log and the status are read by
		// others than the file's owner, and a line may hold a secret.
		msg := plugin.Redacted(err)
		var fe *plugin.FileError
		if errors.As(err, &fe) {
			logger.Error("[RELOAD]", fmt.Sprintf("(%s) nothing applied:", reason), msg)
		} else {
			logger.Error("[RELOAD]", fmt.Sprintf("(%s) %s: nothing applied:\n%s", reason, g.path, msg))
		}
		m.ReloadFailed(errors.New(msg))
		return
	}
	restart := restartRequired(g.cfg, cfg)
	for _, r := range restart {
		logger.Warning("[RELOAD]", fmt.Sprintf("(%s) %s changed, which only a restart applies; the CORS settings of the same edit apply now", reason, r))
	}
	if err := m.ReloadFile(doc, restart); err != nil {
		logger.Error("[RELOAD]", fmt.Sprintf("(%s) %s: nothing applied:\n%s", reason, g.path, state.Detail(err)))
		return
	}
	logger.Info("[RELOAD]", fmt.Sprintf("(%s) %s: CORS settings applied (snapshot %d)", reason, g.path, g.ctrl.Snapshot().Revision()))
}

// restartRequired lists what changed in the file that a running gateway
// cannot apply: its endpoints and backends, its port and listen address.
func restartRequired(old, cur luraconfig.ServiceConfig) []string {
	var out []string
	if !slices.Equal(routesOf(old), routesOf(cur)) {
		out = append(out, "the endpoints or their backends")
	}
	if old.Port != cur.Port {
		out = append(out, fmt.Sprintf("the port (%d to %d)", old.Port, cur.Port))
	}
	if old.Address != cur.Address {
		out = append(out, "listen_ip")
	}
	return out
}

// routesOf describes the endpoints and backends of a configuration.
func routesOf(cfg luraconfig.ServiceConfig) []string {
	var out []string
	for _, e := range cfg.Endpoints {
		line := strings.ToUpper(e.Method) + " " + e.Endpoint
		for _, b := range e.Backend {
			line += " -> " + strings.Join(b.Host, ",") + b.URLPattern
		}
		out = append(out, line)
	}
	return out
}
