package main

import (
	"fmt"
	"sort"
	"strings"

	luraconfig "github.com/luraproject/lura/v2/config"
	"github.com/luraproject/lura/v2/proxy"
	ginrouter "github.com/luraproject/lura/v2/router/gin"
	"github.com/luraproject/lura/v2/transport/http/client"

	"github.com/corsgate/corsgate/admin"
	"github.com/corsgate/corsgate/plugin"
)

// supported lists the extra_config namespaces this binary acts on.
var supported = map[string]bool{
	plugin.Namespace:       true,
	plugin.LegacyNamespace: true,
	plugin.RouterNamespace: true,
	admin.Namespace:        true,
	ginrouter.Namespace:    true,
	proxy.Namespace:        true,
	client.Namespace:       true,
	"proxy":                true,
	"backend/http":         true,
}

// unsupportedNamespaces lists, by JSON path, the extra_config namespaces
// of cfg that this binary does not act on (KrakenD CE and EE components
// such as modifier/martian or auth/validator). lura ignores them; the
// binary says so instead of ignoring them silently.
func unsupportedNamespaces(cfg luraconfig.ServiceConfig) []string {
	var out []string
	check := func(path string, extra luraconfig.ExtraConfig) {
		var keys []string
		for k := range extra {
			if !supported[k] {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, fmt.Sprintf("%s[%q]", path, k))
		}
	}
	check("extra_config", cfg.ExtraConfig)
	for i, e := range cfg.Endpoints {
		check(fmt.Sprintf("endpoints[%d].extra_config", i), e.ExtraConfig)
		for j, b := range e.Backend {
			check(fmt.Sprintf("endpoints[%d].backend[%d].extra_config", i, j), b.ExtraConfig)
		}
	}
	return out
}

// namespaceWarning is the text printed for unsupportedNamespaces.
func namespaceWarning(paths []string) string {
	return "this gateway runs lura's core and the corsgate CORS plugin only, so these settings have no effect:\n  " +
		strings.Join(paths, "\n  ")
}
