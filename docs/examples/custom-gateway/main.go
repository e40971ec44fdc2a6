// Command custom-gateway is a minimal lura gateway with corsgate's CORS
// layer: the program of docs/custom-gateway.md.
//
//	go run ./docs/examples/custom-gateway config.example.json
//
// It reads the file as corsgate does (plugin.ParseFile), refuses to start
// when the CORS settings are invalid, and re-reads the CORS settings of the
// same file when it changes and on SIGHUP, as corsgate run does (the
// endpoints themselves are fixed at start).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/luraproject/lura/v2/logging"
	"github.com/luraproject/lura/v2/proxy"
	ginrouter "github.com/luraproject/lura/v2/router/gin"
	"github.com/luraproject/lura/v2/transport/http/server"

	"github.com/corsgate/corsgate/plugin"
	"github.com/corsgate/corsgate/watch"
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

	// Compile the CORS settings once; runServer serves the router behind
	// the CORS layer, ctrl replaces its policies while the gateway runs.
	ctrl, runServer, err := plugin.Wire(cfg, logger, server.RunServer)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: invalid CORS settings:\n%v\n", path, err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Reload the CORS settings when the file changes and on SIGHUP: an
	// invalid file changes nothing, and Apply returns every problem.
	go watch.Watch(ctx, path, watch.Options{SIGHUP: true}, func(reason watch.Reason, _ []byte) {
		_, doc, err := plugin.ReadCORS(path)
		if err == nil {
			_, err = ctrl.Apply(doc)
		}
		if err != nil {
			logger.Error("[CORS reload]", reason, "settings not applied:", err)
			return
		}
		logger.Info("[CORS reload]", reason, "settings applied, revision", ctrl.Snapshot().Revision())
	})
	ginrouter.NewFactory(ginrouter.Config{
		Engine:         ginrouter.NewEngine(cfg, ginrouter.EngineOptions{Logger: logger, Writer: os.Stdout}),
		HandlerFactory: ginrouter.EndpointHandler,
		ProxyFactory:   proxy.DefaultFactory(logger),
		Logger:         logger,
		RunServer:      runServer,
	}).NewWithContext(ctx).Run(cfg)
}
