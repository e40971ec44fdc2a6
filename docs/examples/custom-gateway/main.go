// Command custom-gateway is a minimal lura gateway with corsgate: the
// program of docs/custom-gateway.md.
//
//	go run ./docs/examples/custom-gateway config.example.json
//
// It reads the file as corsgate does (plugin.ParseFile), refuses to start
// when the CORS settings or the corsgate/admin block are invalid, and gets
// everything corsgate run has around its CORS layer from one call,
// host.Wire: the hot reload of the file's CORS settings (when it changes
// and on SIGHUP; the endpoints themselves are fixed at start), and, when
// the file has a corsgate/admin block with a listen, the admin API
// (Cloudant's and the full one), the dashboard, /metrics, the store and
// its history, and the other replicas' changes through etcd.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/luraproject/lura/v2/logging"
	"github.com/luraproject/lura/v2/proxy"
	ginrouter "github.com/luraproject/lura/v2/router/gin"
	"github.com/luraproject/lura/v2/transport/http/server"

	"github.com/corsgate/corsgate/host"
	"github.com/corsgate/corsgate/plugin"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: custom-gateway CONFIG.json")
		os.Exit(2)
	}
	path := os.Args[1]

	// JSON syntax, keys written twice, misplaced CORS blocks, then lura's
	// own parser and KrakenD's router, proxy and backend/http aliases.
	cfg, warnings, err := plugin.ParseFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, w := range warnings {
		fmt.Fprintln(os.Stderr, "warning:", w)
	}

	logger, err := logging.NewLogger("INFO", os.Stdout, "[GATEWAY]")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Validate and compile the CORS settings and the admin block once,
	// start the run-time features until ctx ends, and get the RunServer
	// that serves the router behind the CORS layer.
	gw, runServer, err := host.Wire(ctx, cfg, host.Options{Path: path, Logger: logger}, server.RunServer)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: invalid CORS settings:\n%v\n", path, err)
		os.Exit(1)
	}
	for _, w := range gw.Warnings() {
		fmt.Fprintln(os.Stderr, "warning:", w)
	}
	ginrouter.NewFactory(ginrouter.Config{
		Engine:         ginrouter.NewEngine(cfg, ginrouter.EngineOptions{Logger: logger, Writer: os.Stdout}),
		HandlerFactory: ginrouter.EndpointHandler,
		ProxyFactory:   proxy.DefaultFactory(logger),
		Logger:         logger,
		RunServer:      runServer,
	}).NewWithContext(ctx).Run(cfg)

	// The cache of the applied layer is written in the background.
	stop()
	gw.Wait(5 * time.Second)
}
