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
	return loadParsed(path, cfg, dupWarnings, o, "", stderr)
}

// loadAsDeciding is loadConfig for corsgate explain: a KrakenD
// configuration that loads corsgate as its http-server plugin is read as
// the plugin reads it, its block's CORS settings and endpoint overrides
// (with the block's paths in errors), since the plugin, not the file's
// top-level blocks, decides inside KrakenD.
func loadAsDeciding(path string, stderr io.Writer) (*gatewayConfig, bool) {
	cfg, dupWarnings, err := plugin.ParseFile(path)
	if err != nil {
		fmt.Fprintln(stderr, "corsgate:", err)
		return nil, false
	}
	block, ok := plugin.PluginNamed(cfg.ExtraConfig)
	if !ok {
		return loadParsed(path, cfg, dupWarnings, host.Options{}, "", stderr)
	}
	pcfg, o, ok := pluginConfig(path, block, stderr)
	if !ok {
		return nil, false
	}
	pcfg.Port = cfg.Port
	g, ok := loadParsed(path, pcfg, dupWarnings, o, pluginSettings, stderr)
	if ok {
		fmt.Fprintf(stderr, "corsgate explain: %s loads the corsgate plugin: explained as the plugin decides inside KrakenD, by %s (its CORS settings and endpoint overrides), not by top-level security/cors blocks\n", path, plugin.PluginBlockPath)
	}
	return g, ok
}

// pluginSettings names the plugin's CORS settings in a refusal's header.
const pluginSettings = " of the corsgate plugin"

// pluginConfig reads the corsgate plugin's block of a KrakenD
// configuration as the plugin does (plugin.PluginConfig), with the host
// options it implies; on failure it prints why and returns false.
func pluginConfig(path string, block map[string]any, stderr io.Writer) (luraconfig.ServiceConfig, host.Options, bool) {
	pcfg, debug, mapErrs, err := plugin.PluginConfig(block)
	if err != nil {
		fmt.Fprintf(stderr, "corsgate: %s: %v\n", path, err)
		return pcfg, host.Options{}, false
	}
	return pcfg, host.Options{Path: path, Debug: debug, MapErrors: mapErrs}, true
}

// newHost is host.New, which prints every problem of a refusal after a
// header; what names whose CORS settings they are ("" for the file's own,
// or pluginSettings). It returns nil on a refusal.
func newHost(path string, cfg luraconfig.ServiceConfig, o host.Options, what string, stderr io.Writer) *host.Gateway {
	h, err := host.New(cfg, o)
	if err != nil {
		var errs policy.Errors
		if errors.As(err, &errs) {
			printProblems(stderr, fmt.Sprintf("%s: %d problem(s) in the CORS settings%s:", path, len(errs), what), errs)
		} else {
			fmt.Fprintf(stderr, "corsgate: %s: %v\n", path, err)
		}
		return nil
	}
	return h
}

// loadParsed is loadConfig once the file is parsed; what is newHost's.
func loadParsed(path string, cfg luraconfig.ServiceConfig, dupWarnings policy.Errors, o host.Options, what string, stderr io.Writer) (*gatewayConfig, bool) {
	o.Path, o.GatewayPort, o.Debug = path, cfg.Port, o.Debug || cfg.Debug
	h := newHost(path, cfg, o, what, stderr)
	if h == nil {
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
