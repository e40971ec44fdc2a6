package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	luraconfig "github.com/luraproject/lura/v2/config"

	"github.com/corsgate/corsgate/admin"
	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/host"
	"github.com/corsgate/corsgate/plugin"
)

// gatewayConfig is a configuration file read and compiled once.
type gatewayConfig struct {
	path     string
	cfg      luraconfig.ServiceConfig
	host     *host.Gateway
	doc      *policy.Document // the file's CORS document
	ctrl     *core.Controller
	admin    *admin.Config // nil without an admin listener
	warnings []string      // about the file; the CORS warnings are the snapshot's
}

// loadConfig parses a KrakenD v3 configuration file, applies KrakenD's
// aliases and compiles the CORS settings and the admin block (host.New,
// with o and the file's path). On failure it prints every problem to
// stderr and returns false.
func loadConfig(path string, o host.Options, stderr io.Writer) (*gatewayConfig, bool) {
	cfg, dupWarnings, err := plugin.ParseFile(path)
	if err != nil {
		fmt.Fprintln(stderr, "corsgate:", err)
		return nil, false
	}
	o.Path, o.GatewayPort, o.Debug = path, cfg.Port, o.Debug || cfg.Debug
	h, err := host.New(cfg, o)
	if err != nil {
		var errs policy.Errors
		if errors.As(err, &errs) {
			printProblems(stderr, fmt.Sprintf("%s: %d problem(s) in the CORS settings:", path, len(errs)), errs)
		} else {
			fmt.Fprintf(stderr, "corsgate: %s: %v\n", path, err)
		}
		return nil, false
	}
	ctrl := h.Controller()
	g := &gatewayConfig{path: path, cfg: cfg, host: h, doc: ctrl.Snapshot().Document(), ctrl: ctrl, admin: h.Admin()}
	g.warnings = append(g.warnings, h.Warnings()...)
	for _, w := range dupWarnings {
		g.warnings = append(g.warnings, w.Error())
	}
	if paths := unsupportedNamespaces(cfg); len(paths) > 0 {
		g.warnings = append(g.warnings, namespaceWarning(paths))
	}
	return g, true
}

// printProblems prints the problems of a refused configuration after
// header, one a line, and then, once for all of them, the keys known
// where any is an unknown key (its own line keeps its "did you mean").
func printProblems(stderr io.Writer, header string, errs policy.Errors) {
	fmt.Fprintln(stderr, "corsgate:", header)
	for _, e := range errs {
		fmt.Fprintf(stderr, "  %s\n", e.Error())
	}
	for _, line := range errs.KnownKeys() {
		fmt.Fprintln(stderr, "corsgate:", line)
	}
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
