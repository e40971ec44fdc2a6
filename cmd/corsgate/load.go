package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	luraconfig "github.com/luraproject/lura/v2/config"

	"github.com/corsgate/corsgate/plugin"
	"github.com/corsgate/corsgate/schema"
)

// loadConfig parses a KrakenD v3 configuration file with lura's parser,
// applies KrakenD's router alias and validates the CORS settings. On
// failure it prints every problem to stderr and returns false.
func loadConfig(path string, stderr io.Writer) (luraconfig.ServiceConfig, *plugin.Table, bool) {
	cfg, err := luraconfig.NewParser().Parse(path)
	if err != nil {
		fmt.Fprintf(stderr, "corsgate: %s: %v\n", path, err)
		return cfg, nil, false
	}
	plugin.PrepareConfig(&cfg)
	applyAliases(&cfg)
	if paths := unsupportedNamespaces(cfg); len(paths) > 0 {
		fmt.Fprint(stderr, namespaceWarning(paths))
	}
	t, err := plugin.Build(cfg)
	if err != nil {
		var errs schema.Errors
		if errors.As(err, &errs) {
			fmt.Fprintf(stderr, "corsgate: %s: %d problem(s) in the CORS settings:\n", path, len(errs))
			for _, e := range errs {
				fmt.Fprintf(stderr, "  %s\n", e.Error())
			}
		} else {
			fmt.Fprintf(stderr, "corsgate: %s: %v\n", path, err)
		}
		return cfg, nil, false
	}
	return cfg, t, true
}

// configFlag registers -c/--config on fs.
func configFlag(fs *flag.FlagSet) *string {
	p := fs.String("c", "", "path of the gateway configuration (KrakenD v3 JSON)")
	fs.StringVar(p, "config", "", "same as -c")
	return p
}

// parseFlags parses args, and reports a usage error to stderr. It returns
// -1 when the command should go on, or the exit status otherwise: 0 after
// -h, 2 after a usage error.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) int {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "corsgate %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return 2
	}
	return -1
}
