package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	luraconfig "github.com/luraproject/lura/v2/config"
	luracore "github.com/luraproject/lura/v2/core"
	"github.com/luraproject/lura/v2/logging"
	"github.com/luraproject/lura/v2/proxy"
	ginrouter "github.com/luraproject/lura/v2/router/gin"

	"github.com/corsgate/corsgate/admin"
	corsdebug "github.com/corsgate/corsgate/debug"
	"github.com/corsgate/corsgate/host"
	"github.com/corsgate/corsgate/plugin"
)

// runCommand validates the configuration and runs the gateway until it
// gets SIGINT or SIGTERM.
func runCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	path := configFlag(fs)
	debugMode := fs.Bool("d", false, "debug: log at DEBUG level (CORS decisions included) and enable /__debug/ and /__debug/cors")
	port := fs.Int("p", 0, "listen on this port instead of the configuration's port")
	adminListen := fs.String("admin-listen", os.Getenv("CORSGATE_ADMIN_LISTEN"), "serve the admin API on this host:port (replaces corsgate/admin's listen; credentials from CORSGATE_ADMIN_* as documented); default $CORSGATE_ADMIN_LISTEN")
	stateDir := fs.String("state-dir", os.Getenv("CORSGATE_STATE_DIR"), "the local state directory: the embedded store and the cache of an etcd store's layer (replaces corsgate/admin's state_dir and store path, so replicas can share one file); default $CORSGATE_STATE_DIR")
	replicaID := fs.String("replica-id", os.Getenv("CORSGATE_REPLICA_ID"), "this gateway's name in the fleet of an etcd store (default: host name/admin address); default $CORSGATE_REPLICA_ID")
	noWatch := fs.Bool("no-watch", false, "do not watch the configuration file for changes (SIGHUP still reloads its CORS settings)")
	harMax := fs.Int64("har-max-bytes", corsdebug.DefaultHARMaxBytes, "with -d or debug_endpoint: the largest HAR file POST /__debug/cors/har takes; explaining one takes about ten times its size in memory")
	maxConns := fs.Int("max-connections", 0, "the most connections the gateway's listener holds at once (default: three quarters of the open-file limit)")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	if *path == "" {
		fmt.Fprintln(stderr, "corsgate run: -c FILE is required")
		return 2
	}
	level := "INFO"
	if *debugMode {
		level = "DEBUG"
	}
	logger, err := logging.NewLogger(level, stdout, "[CORSGATE]")
	if err != nil {
		fmt.Fprintln(stderr, "corsgate run:", err)
		return 1
	}
	g, ok := loadConfig(*path, host.Options{Logger: logger, Overrides: admin.Overrides{Listen: *adminListen, StateDir: *stateDir, ReplicaID: *replicaID},
		NoWatch: *noWatch, HARMaxBytes: *harMax, Debug: *debugMode}, stderr)
	if !ok {
		return 1
	}
	cfg := g.cfg
	if *port != 0 {
		cfg.Port = *port
	}
	if *debugMode {
		cfg.Debug = true
	}
	for _, w := range g.warnings {
		logger.Warning("[CORSGATE]", w)
	}

	luracore.KrakendHeaderValue = "Version " + Version + " (corsgate)"

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var serveErr error
	limits := gatewayLimits(cfg, *maxConns)
	ctrl := g.ctrl
	runServer := func(ctx context.Context, cfg luraconfig.ServiceConfig, h http.Handler) error {
		// The router's endpoint handlers drop a backend's CORS headers
		// (plugin.StripBackendCORS, below), so the CORS layer can set its
		// own before the router runs, without wrapping the ResponseWriter.
		// With debug on, /__debug/cors (the fake CORS backend) is mounted
		// outside the CORS layer, so that it answers like a backend with
		// its own CORS layer.
		h = g.host.PresetHandler(h)
		logger.Info("[CORSGATE]", "gateway listener:", describeLimits(limits))
		serveErr = serveGateway(ctx, cfg, h, limits, logger)
		return serveErr
	}
	if err := g.host.Start(ctx); err != nil {
		fmt.Fprintln(stderr, "corsgate run:", err)
		return 1
	}
	// At the end, wait (a little) for the run-time features to stop: the
	// cache of the applied layer is written in the background.
	defer func() {
		stop() // ends ctx, when the gateway stopped for another reason
		g.host.Wait(5 * time.Second)
	}()

	factory := ginrouter.NewFactory(ginrouter.Config{
		Engine:         ginrouter.NewEngine(cfg, ginrouter.EngineOptions{Logger: logger, Writer: stdout}),
		Middlewares:    nil,
		HandlerFactory: plugin.StripBackendCORS(ctrl, ginrouter.EndpointHandler),
		ProxyFactory:   proxy.DefaultFactory(logger),
		Logger:         logger,
		RunServer:      runServer,
	})
	factory.NewWithContext(ctx).Run(cfg)
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "corsgate run:", serveErr)
		return 1
	}
	return 0
}
