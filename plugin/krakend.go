package plugin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	luraconfig "github.com/luraproject/lura/v2/config"
	serverplugin "github.com/luraproject/lura/v2/transport/http/server/plugin"

	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/engine/route"
	"github.com/corsgate/corsgate/schema"
)

// The KrakenD plugin's block: KrakenD hands an http-server plugin the
// value of its service's extra_config["plugin/http-server"], in which
// corsgate's settings are under the plugin's name.
const (
	// HTTPServerNamespace is KrakenD's namespace of http-server plugins.
	HTTPServerNamespace = "plugin/http-server"
	// PluginName is corsgate's name in it ("name": ["corsgate"]).
	PluginName = "corsgate"
	// AdminNamespace is the corsgate/admin block, which the plugin's
	// "admin" key holds.
	AdminNamespace = "corsgate/admin"
)

// PluginBlockPath is the JSON path of the plugin's block in a KrakenD
// configuration file.
var PluginBlockPath = schema.Path(schema.Path("extra_config", HTTPServerNamespace), PluginName)

// PluginBlock is corsgate's block under plugin/http-server:
//
//	"plugin/http-server": {
//	  "name": ["corsgate"],
//	  "corsgate": {
//	    "security/cors": {"allow_origins": ["https://app.example.com"]},
//	    "endpoints": {"GET /reports": {"allow_origins": ["https://admin.example.com"]}},
//	    "admin": {"listen": "127.0.0.1:9091", "store": {"type": "etcd", ...}},
//	    "debug_endpoint": false
//	  }
//	}
type PluginBlock struct {
	// CORS is the service-level security/cors block.
	CORS map[string]any `json:"security/cors"`
	// Endpoints are the per-endpoint blocks, keyed "METHOD /endpoint" as
	// the configuration writes the endpoint: a plugin does not see the
	// configuration's endpoints.
	Endpoints map[string]map[string]any `json:"endpoints"`
	// Admin holds the keys of the corsgate/admin block: with a listen,
	// the plugin runs the admin API, the store, metrics and the
	// dashboard inside KrakenD.
	Admin map[string]any `json:"admin"`
	// DebugEndpoint serves /__debug/cors/* (the plugin does not see
	// KrakenD's own debug_endpoint).
	DebugEndpoint bool `json:"debug_endpoint"`
	Comment       any  `json:"@comment"`
}

// PluginConfig reads the plugin's block, given as the plugin/http-server
// value KrakenD hands the plugin (extra), into the lura configuration the
// rest of corsgate reads: the security/cors block as the service's, an
// endpoint for each override, and the admin section as the corsgate/admin
// block. It also returns whether the debug endpoints are on, and a
// function that rewrites the paths of that configuration's problems into
// the block's own (under PluginBlockPath), so that an error names the
// place the user wrote. A block it cannot read is an error naming its
// path.
func PluginConfig(extra map[string]any) (cfg luraconfig.ServiceConfig, debug bool, mapErrs func(policy.Errors) policy.Errors, err error) {
	raw, ok := extra[PluginName]
	if !ok {
		return cfg, false, nil, fmt.Errorf("%s: there is no %q key; write \"%s\": {\"security/cors\": {...}} beside \"name\"", schema.Path("extra_config", HTTPServerNamespace), PluginName, PluginName)
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return cfg, false, nil, err
	}
	var b PluginBlock
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return cfg, false, nil, fmt.Errorf("%s: %v; its keys are \"security/cors\" (the service-level CORS settings), \"endpoints\" (overrides keyed by \"METHOD /endpoint\"), \"admin\" (the keys of corsgate/admin) and \"debug_endpoint\"", PluginBlockPath, err)
	}
	if b.CORS == nil {
		return cfg, false, nil, fmt.Errorf("%s has no \"security/cors\" block; write the service-level CORS settings there", PluginBlockPath)
	}
	cfg.ExtraConfig = luraconfig.ExtraConfig{Namespace: b.CORS}
	if b.Admin != nil {
		cfg.ExtraConfig[AdminNamespace] = b.Admin
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range b.Endpoints {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		method, path, ok := strings.Cut(k, " ")
		if !ok || !strings.HasPrefix(path, "/") || method != strings.ToUpper(method) || method == "" {
			return cfg, false, nil, fmt.Errorf("%s: name an endpoint as \"METHOD /endpoint\", such as \"GET /users/{id}\"", schema.Path(schema.Path(PluginBlockPath, "endpoints"), k))
		}
		cfg.Endpoints = append(cfg.Endpoints, &luraconfig.EndpointConfig{Endpoint: route.FromTemplate(path), Method: method, ExtraConfig: luraconfig.ExtraConfig{Namespace: b.Endpoints[k]}})
	}
	// The paths the rest of corsgate gives, and the block's own.
	prefixes := [][2]string{
		{schema.Path("extra_config", Namespace), schema.Path(PluginBlockPath, Namespace)},
		{schema.Path("extra_config", AdminNamespace), schema.Path(PluginBlockPath, "admin")},
	}
	for i, k := range keys {
		prefixes = append(prefixes, [2]string{
			schema.Path(fmt.Sprintf("endpoints[%d].extra_config", i), Namespace),
			schema.Path(schema.Path(PluginBlockPath, "endpoints"), k),
		})
	}
	mapErrs = func(errs policy.Errors) policy.Errors {
		out := make(policy.Errors, len(errs))
		for i, e := range errs {
			for _, p := range prefixes {
				if rest, ok := strings.CutPrefix(e.Path, p[0]); ok && (rest == "" || rest[0] == '.' || rest[0] == '[') {
					e.Path = p[1] + rest
					break
				}
			}
			out[i] = e
		}
		return out
	}
	return cfg, b.DebugEndpoint, mapErrs, nil
}

// PluginNamed reports whether a service's plugin/http-server block (under
// KrakenD's name, or lura's own namespace it is an alias of) loads
// corsgate: its "name" is "corsgate" or a list holding it. It returns the
// block.
func PluginNamed(extra luraconfig.ExtraConfig) (map[string]any, bool) {
	block, ok := extra[HTTPServerNamespace].(map[string]any)
	if !ok {
		if block, ok = extra[serverplugin.Namespace].(map[string]any); !ok {
			return nil, false
		}
	}
	switch n := block["name"].(type) {
	case string:
		return block, n == PluginName
	case []any:
		for _, v := range n {
			if v == PluginName {
				return block, true
			}
		}
	}
	return block, false
}
