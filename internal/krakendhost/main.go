// Command krakendhost is a gateway that loads http-server plugins the way
// KrakenD does, for the end-to-end test of corsgate's KrakenD plugin: it
// reads a KrakenD configuration, loads every .so in -plugins with lura's
// own loader (transport/http/server/plugin), and serves the gin router
// through the plugin/http-server block, with no CORS layer of its own.
//
//	krakendhost -c krakend.json -plugins DIR
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	luraconfig "github.com/luraproject/lura/v2/config"
	"github.com/luraproject/lura/v2/logging"
	"github.com/luraproject/lura/v2/proxy"
	ginrouter "github.com/luraproject/lura/v2/router/gin"
	"github.com/luraproject/lura/v2/transport/http/server"
	serverplugin "github.com/luraproject/lura/v2/transport/http/server/plugin"

	"github.com/corsgate/corsgate/plugin"
)

func main() {
	path := flag.String("c", "", "the KrakenD configuration")
	plugins := flag.String("plugins", "", "the folder of the .so plugins")
	flag.Parse()
	logger, _ := logging.NewLogger("DEBUG", os.Stdout, "[KRAKENDHOST]")
	// KrakenD's alias of the http-server plugin block.
	luraconfig.ExtraConfigAlias["plugin/http-server"] = serverplugin.Namespace
	cfg, err := luraconfig.NewParser().Parse(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "krakendhost:", err)
		os.Exit(1)
	}
	plugin.PrepareConfig(&cfg)
	n, err := serverplugin.LoadWithLogger(*plugins, ".so", serverplugin.RegisterHandler, logger)
	if err != nil {
		fmt.Fprintln(os.Stderr, "krakendhost: loading the plugins:", err)
		os.Exit(1)
	}
	logger.Info("[KRAKENDHOST]", n, "http-server plugin(s) loaded")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ginrouter.NewFactory(ginrouter.Config{
		Engine:         ginrouter.NewEngine(cfg, ginrouter.EngineOptions{Logger: logger, Writer: os.Stdout}),
		HandlerFactory: ginrouter.EndpointHandler,
		ProxyFactory:   proxy.DefaultFactory(logger),
		Logger:         logger,
		RunServer:      ginrouter.RunServerFunc(serverplugin.New(logger, server.RunServer)),
	}).NewWithContext(ctx).Run(cfg)
}
