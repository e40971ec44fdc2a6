package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	luraconfig "github.com/luraproject/lura/v2/config"

	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/engine/route"
	"github.com/corsgate/corsgate/plugin"
)

// checkPluginLayout judges a KrakenD configuration whose
// plugin/http-server block loads corsgate as the plugin will read it: the
// plugin's block (its security/cors, endpoint overrides and admin
// section), with the paths of that file. It warns about a leftover
// security/cors block beside the plugin (double CORS), endpoint blocks
// the plugin never reads, and overrides naming no endpoint of the file.
// It returns the exit status of check.
func checkPluginLayout(path string, cfg luraconfig.ServiceConfig, dups policy.Errors, block map[string]any, strict bool, stdout, stderr io.Writer) int {
	pcfg, o, ok := pluginConfig(path, block, stderr)
	if !ok {
		return 1
	}
	h := newHost(path, pcfg, o, pluginSettings, stderr)
	if h == nil {
		return 1
	}
	var warnings []string
	warnings = append(warnings, h.Warnings()...)
	for _, d := range dups {
		warnings = append(warnings, d.Error())
	}
	if _, ok := cfg.ExtraConfig[plugin.Namespace]; ok {
		warnings = append(warnings, fmt.Sprintf(`extra_config[%q]: double CORS: KrakenD's own CORS layer reads this block while the corsgate plugin answers CORS from %s[%q]; the plugin's headers replace KrakenD's, so this block is a second policy to keep in step for nothing: remove it`, plugin.Namespace, plugin.PluginBlockPath, plugin.Namespace))
	}
	endpoints := map[string]bool{}
	for i, e := range cfg.Endpoints {
		key := strings.ToUpper(e.Method) + " " + route.Template(e.Endpoint)
		endpoints[key] = true
		if _, ok := e.ExtraConfig[plugin.Namespace]; ok {
			warnings = append(warnings, fmt.Sprintf(`endpoints[%d].extra_config[%q]: the corsgate plugin does not read endpoint blocks (a plugin sees only its own block): move it to %s.endpoints[%q]`, i, plugin.Namespace, plugin.PluginBlockPath, key))
		}
	}
	for _, e := range pcfg.Endpoints {
		key := e.Method + " " + route.Template(e.Endpoint)
		if !endpoints[key] {
			warnings = append(warnings, fmt.Sprintf(`%s.endpoints[%q]: this file has no endpoint %s, so the override applies to nothing; name an endpoint as the file writes it, such as %q`, plugin.PluginBlockPath, key, key, firstKey(cfg)))
		}
	}
	if w, note := h.CompactionWarning(2 * time.Second); w != "" {
		warnings = append(warnings, w)
	} else if note != "" {
		fmt.Fprintln(stderr, "corsgate: note:", note)
	}
	for _, w := range warnings {
		fmt.Fprintln(stderr, "corsgate: warning:", w)
	}
	corsWarnings := o.MapErrors(h.Controller().Snapshot().Warnings())
	for _, w := range corsWarnings {
		fmt.Fprintln(stderr, "corsgate: warning:", w.Error())
	}
	if n := len(warnings) + len(corsWarnings); strict && n > 0 {
		fmt.Fprintf(stderr, "corsgate check: %s has %d warning(s), and --strict makes them fail; fix them, or drop --strict\n", path, n)
		return 1
	}
	fmt.Fprintf(stdout, "%s is valid: %d endpoint(s), the corsgate plugin's CORS policy valid\n", path, len(cfg.Endpoints))
	return 0
}

// firstKey names the first endpoint of cfg as an override key, for a
// message's example.
func firstKey(cfg luraconfig.ServiceConfig) string {
	if len(cfg.Endpoints) == 0 {
		return "GET /users/{id}"
	}
	return strings.ToUpper(cfg.Endpoints[0].Method) + " " + route.Template(cfg.Endpoints[0].Endpoint)
}
