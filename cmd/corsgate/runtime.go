package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	luraconfig "github.com/luraproject/lura/v2/config"
	"github.com/luraproject/lura/v2/logging"

	"github.com/corsgate/corsgate/admin"
	"github.com/corsgate/corsgate/watch"
	"github.com/corsgate/corsgate/plugin"
	"github.com/corsgate/corsgate/engine/core"
)

// startAdmin opens the store, applies its run-time layer over the file and
// serves the admin API until ctx is done. A store that cannot be opened is
// not fatal: the file alone applies and the status says why. The listener
// that cannot be bound is.
func startAdmin(ctx context.Context, g *gatewayConfig, logger logging.Logger) (*admin.Server, error) {
	cfg := g.admin
	st, storeErr := cfg.OpenStore()
	srv := admin.NewServer(admin.Options{Controller: g.ctrl, File: g.doc, Store: st, StoreErr: storeErr, Config: cfg, ConfigPath: g.path, Logger: logger, Decisions: g.decisions})
	if g.decisions != nil {
		go g.decisions.Run(ctx)
	}
	if storeErr == nil {
		go func() { srv.Run(ctx); st.Close() }()
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("the admin listener %s: %w", cfg.Listen, err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
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
	return srv, nil
}

// watchFile reloads the CORS settings of the configuration file when it
// changes (and on SIGHUP), until ctx is done. A valid change to the CORS
// blocks applies at once; an invalid one applies nothing and is logged
// (and shown in the admin status); a change outside the CORS blocks is
// logged as needing a restart.
func watchFile(ctx context.Context, g *gatewayConfig, srv *admin.Server, logger logging.Logger) {
	err := watch.Watch(ctx, g.path, watch.Options{SIGHUP: true, OnError: func(err error) {
		logger.Error("[RELOAD]", err)
	}}, func(reason watch.Reason, _ []byte) {
		reload(g, srv, logger, reason)
	})
	if err != nil {
		logger.Error("[RELOAD] the configuration file is not watched:", err)
	}
}

// reloadOnSIGHUP reloads the file's CORS settings on every SIGHUP, until
// ctx is done (corsgate run --no-watch).
func reloadOnSIGHUP(ctx context.Context, g *gatewayConfig, srv *admin.Server, logger logging.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			reload(g, srv, logger, watch.Signal)
		}
	}
}

// reload reads the file again and applies its CORS part.
func reload(g *gatewayConfig, srv *admin.Server, logger logging.Logger, reason watch.Reason) {
	cfg, _, err := plugin.ParseFile(g.path)
	if err != nil {
		logger.Error("[RELOAD]", fmt.Sprintf("(%s) nothing applied:", reason), err)
		if srv != nil {
			srv.ReloadFailed(err)
		}
		return
	}
	doc, routes, err := plugin.Read(cfg)
	if err == nil {
		_, err = core.Compile(doc, routes) // the file on its own must be valid too
	}
	if err != nil {
		logger.Error("[RELOAD]", fmt.Sprintf("(%s) %s: nothing applied:\n%v", reason, g.path, err))
		if srv != nil {
			srv.ReloadFailed(err)
		}
		return
	}
	restart := restartRequired(g.cfg, cfg)
	for _, r := range restart {
		logger.Warning("[RELOAD]", fmt.Sprintf("(%s) %s changed, which only a restart applies; the CORS settings of the same edit apply now", reason, r))
	}
	if srv != nil {
		err = srv.ReloadFile(doc, restart)
	} else {
		_, err = g.ctrl.Apply(doc)
	}
	if err != nil {
		logger.Error("[RELOAD]", fmt.Sprintf("(%s) %s: nothing applied:\n%v", reason, g.path, err))
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
