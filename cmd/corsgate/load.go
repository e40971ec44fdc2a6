package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	luraconfig "github.com/luraproject/lura/v2/config"
	"github.com/luraproject/lura/v2/logging"

	"github.com/corsgate/corsgate/admin"
	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/engine/route"
	"github.com/corsgate/corsgate/metrics"
	"github.com/corsgate/corsgate/plugin"
)

// gatewayConfig is a configuration file read and compiled once.
type gatewayConfig struct {
	path  string
	cfg   luraconfig.ServiceConfig
	doc   *policy.Document // the file's CORS document
	ctrl  *core.Controller
	admin *admin.Config // nil without an admin listener
	// decisions counts the CORS decisions, with an admin listener.
	decisions *metrics.Decisions
	warnings  []string // about the file; the CORS warnings are the snapshot's
}

// loadConfig parses a KrakenD v3 configuration file, applies KrakenD's
// aliases and compiles the CORS settings. On failure it prints every
// problem to stderr and returns false. logger receives the debug lines of
// policies with debug on; nil discards them.
func loadConfig(path string, logger logging.Logger, ov admin.Overrides, stderr io.Writer) (*gatewayConfig, bool) {
	cfg, dupWarnings, err := plugin.ParseFile(path)
	if err != nil {
		fmt.Fprintln(stderr, "corsgate:", err)
		return nil, false
	}
	adminCfg, adminErrs := admin.ReadConfig(cfg.ExtraConfig, path, cfg.Port, ov, os.Getenv)
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
	ctrl, err := plugin.New(cfg, logger, opts...)
	if err == nil && len(adminErrs) > 0 {
		err = adminErrs
	} else if errs, ok := err.(policy.Errors); ok && len(adminErrs) > 0 {
		err = append(errs, adminErrs...)
	}
	if err != nil {
		var errs policy.Errors
		if errors.As(err, &errs) {
			fmt.Fprintf(stderr, "corsgate: %s: %d problem(s) in the CORS settings:\n", path, len(errs))
			for _, e := range errs {
				fmt.Fprintf(stderr, "  %s\n", e.Error())
			}
		} else {
			fmt.Fprintf(stderr, "corsgate: %s: %v\n", path, err)
		}
		return nil, false
	}
	g := &gatewayConfig{path: path, cfg: cfg, doc: ctrl.Snapshot().Document(), ctrl: ctrl, admin: adminCfg, decisions: decisions}
	if adminCfg != nil {
		g.warnings = append(g.warnings, adminCfg.Credentials.Warnings()...)
	}
	for _, w := range dupWarnings {
		g.warnings = append(g.warnings, w.Error())
	}
	g.warnings = append(g.warnings, admin.StoreWarnings(cfg.ExtraConfig, os.Getenv)...)
	if paths := unsupportedNamespaces(cfg); len(paths) > 0 {
		g.warnings = append(g.warnings, namespaceWarning(paths))
	}
	return g, true
}

// printWarnings prints the warnings of a loaded configuration: those of
// the file and those of the CORS settings.
func (g *gatewayConfig) printWarnings(stderr io.Writer) {
	for _, w := range g.warnings {
		fmt.Fprintln(stderr, "corsgate: warning:", w)
	}
	for _, w := range g.ctrl.Snapshot().Warnings() {
		fmt.Fprintln(stderr, "corsgate: warning:", w.Error())
	}
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
