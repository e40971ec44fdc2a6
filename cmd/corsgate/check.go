package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/corsgate/corsgate/host"
	"github.com/corsgate/corsgate/plugin"
)

// checkCommand validates a configuration without starting the gateway.
func checkCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	path := configFlag(fs)
	strict := fs.Bool("strict", false, "fail (exit status 1) when there is any warning, for CI")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	if *path == "" {
		fmt.Fprintln(stderr, "corsgate check: -c FILE is required")
		return 2
	}
	// A KrakenD configuration that loads the corsgate plugin is judged as
	// the plugin reads it.
	if cfg, dups, err := plugin.ParseFile(*path); err == nil {
		if block, ok := plugin.PluginNamed(cfg.ExtraConfig); ok {
			return checkPluginLayout(*path, cfg, dups, block, *strict, stdout, stderr)
		}
	}
	g, ok := loadConfig(*path, host.Options{}, stderr)
	if !ok {
		return 1
	}
	// The one question only etcd can answer: does anything compact it?
	if w, note := g.host.CompactionWarning(2 * time.Second); w != "" {
		g.warnings = append(g.warnings, w)
	} else if note != "" {
		fmt.Fprintln(stderr, "corsgate: note:", note)
	}
	g.printWarnings(stderr)
	if n := len(g.warnings) + len(g.ctrl.Snapshot().Warnings()); *strict && n > 0 {
		fmt.Fprintf(stderr, "corsgate check: %s has %d warning(s), and --strict makes them fail; fix them, or drop --strict\n", *path, n)
		return 1
	}
	cors := "no security/cors block: CORS is off"
	if g.ctrl.Snapshot().Enabled() {
		cors = "CORS policy valid"
	}
	fmt.Fprintf(stdout, "%s is valid: %d endpoint(s), %s\n", *path, len(g.cfg.Endpoints), cors)
	return 0
}
