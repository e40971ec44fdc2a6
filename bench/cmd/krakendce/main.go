// Command krakendce is the reference gateway of the load test: lura's gin
// router behind krakend-cors, wired the way KrakenD CE wires them, so that
// corsgate can be compared with what it replaces on the same machine.
//
//	krakendce -c FILE [-p PORT]
//
// As in KrakenD CE, the CORS block is read from extra_config["security/cors"]
// (and the router settings from extra_config.router): the aliases map them
// onto the namespaces krakend-cors v2 and lura read, then the whole lura
// router is wrapped by krakend-cors' RunServer, so preflights are answered
// before routing.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	krakendcors "github.com/krakend/krakend-cors/v2"
	krakendcorsgin "github.com/krakend/krakend-cors/v2/gin"
	luraconfig "github.com/luraproject/lura/v2/config"
	"github.com/luraproject/lura/v2/logging"
	"github.com/luraproject/lura/v2/proxy"
	ginrouter "github.com/luraproject/lura/v2/router/gin"
	"github.com/luraproject/lura/v2/transport/http/server"
)

func main() {
	path := flag.String("c", "", "gateway configuration (KrakenD v3 JSON)")
	port := flag.Int("p", 0, "listen on this port instead of the configuration's")
	flag.Parse()
	if *path == "" {
		fmt.Fprintln(os.Stderr, "krakendce: -c FILE is required")
		os.Exit(2)
	}

	// KrakenD CE's namespace aliases.
	luraconfig.ExtraConfigAlias["security/cors"] = krakendcors.Namespace
	luraconfig.ExtraConfigAlias["router"] = ginrouter.Namespace

	cfg, err := luraconfig.NewParser().Parse(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "krakendce:", err)
		os.Exit(1)
	}
	cfg.Normalize()
	if *port != 0 {
		cfg.Port = *port
	}
	logger, err := logging.NewLogger("ERROR", os.Stdout, "[KRAKEND]")
	if err != nil {
		fmt.Fprintln(os.Stderr, "krakendce:", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	runServer := krakendcorsgin.NewRunServerWithLogger(krakendcorsgin.RunServer(server.RunServerWithLoggerFactory(logger)), logger)
	ginrouter.NewFactory(ginrouter.Config{
		Engine:         ginrouter.NewEngine(cfg, ginrouter.EngineOptions{Logger: logger, Writer: os.Stdout}),
		HandlerFactory: ginrouter.EndpointHandler,
		ProxyFactory:   proxy.DefaultFactory(logger),
		Logger:         logger,
		RunServer:      ginrouter.RunServerFunc(runServer),
	}).NewWithContext(ctx).Run(cfg)
}
