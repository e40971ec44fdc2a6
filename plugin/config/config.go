// Package config reads the security/cors blocks of a lura/KrakenD gateway
// configuration into typed structs.
//
// Reading is one step: the raw block is validated against the JSON Schema
// in package schema (every problem is reported with its JSON path), then
// decoded into a CORS value. Nothing is silently dropped: a value of the
// wrong type, an unknown key or a bad origin is an error, and a gateway
// does not start with one.
package config

import (
	"bytes"
	"encoding/json"
	"fmt"

	luraconfig "github.com/luraproject/lura/v2/config"
	ginrouter "github.com/luraproject/lura/v2/router/gin"

	"github.com/corsgate/corsgate/schema"
)

// Namespace is the extra_config key of the CORS policy.
const Namespace = "security/cors"

// LegacyNamespace is the key krakend-cors v2 reads; KrakenD CE maps
// Namespace onto it. Either key is accepted, not both.
const LegacyNamespace = "github_com/devopsfaith/krakend-cors"

// RouterNamespace is KrakenD's alias for lura's gin router namespace,
// where auto_options lives.
const RouterNamespace = "router"

// CORS is one security/cors block as written. A nil slice or pointer means
// the key was absent, so that an endpoint block can later inherit it from
// the service block; the policy compiler applies the defaults.
type CORS struct {
	AllowOrigins         []string `json:"allow_origins,omitempty"`
	AllowMethods         []string `json:"allow_methods,omitempty"`
	AllowHeaders         []string `json:"allow_headers,omitempty"`
	ExposeHeaders        []string `json:"expose_headers,omitempty"`
	MaxAge               *string  `json:"max_age,omitempty"`
	AllowCredentials     *bool    `json:"allow_credentials,omitempty"`
	AllowPrivateNetwork  *bool    `json:"allow_private_network,omitempty"`
	OptionsPassthrough   *bool    `json:"options_passthrough,omitempty"`
	OptionsSuccessStatus *int     `json:"options_success_status,omitempty"`
	Debug                *bool    `json:"debug,omitempty"`
	Comment              any      `json:"@comment,omitempty"`
}

// Gateway is what corsgate reads from a whole gateway configuration.
type Gateway struct {
	// Service is the service-level policy, or nil when the service has no
	// security/cors block (CORS is then off).
	Service *CORS
	// ServicePath is the JSON path of the service block, for messages.
	ServicePath string
	// AutoOptions is extra_config.router.auto_options.
	AutoOptions bool
}

// ExtraConfigPath is the JSON path of the service-level extra_config.
const ExtraConfigPath = "extra_config"

// FromService reads the CORS settings of a parsed lura service
// configuration. It returns every problem found, as schema.Errors.
func FromService(cfg luraconfig.ServiceConfig) (*Gateway, error) {
	var errs schema.Errors
	g := &Gateway{}
	svc, path, perrs := Parse(cfg.ExtraConfig, ExtraConfigPath)
	errs = append(errs, perrs...)
	g.Service, g.ServicePath = svc, path

	auto, aerrs := autoOptions(cfg.ExtraConfig)
	errs = append(errs, aerrs...)
	g.AutoOptions = auto

	if len(errs) > 0 {
		return nil, errs
	}
	return g, nil
}

// Parse validates and decodes the security/cors block of one extra_config
// map. base is the JSON path of that map. It returns nil when there is no
// block, and the JSON path of the block it read.
func Parse(extra luraconfig.ExtraConfig, base string) (*CORS, string, schema.Errors) {
	raw, okNew := extra[Namespace]
	legacy, okOld := extra[LegacyNamespace]
	newPath, oldPath := schema.Path(base, Namespace), schema.Path(base, LegacyNamespace)
	switch {
	case okNew && okOld:
		return nil, newPath, schema.Errors{{
			Path:    oldPath,
			Message: fmt.Sprintf("both %q and %q are set; they are the same setting, keep only %q", Namespace, LegacyNamespace, Namespace),
		}}
	case okOld:
		raw, newPath = legacy, oldPath
	case !okNew:
		return nil, "", nil
	}
	if errs := schema.Validate(schema.ServicePolicy, raw, newPath); len(errs) > 0 {
		return nil, newPath, errs
	}
	c, err := decode(raw)
	if err != nil {
		return nil, newPath, schema.Errors{{Path: newPath, Message: err.Error()}}
	}
	return c, newPath, nil
}

// decode turns a schema-valid raw block into a CORS value.
func decode(raw any) (*CORS, error) {
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("cannot read the block: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	c := &CORS{}
	if err := dec.Decode(c); err != nil {
		return nil, fmt.Errorf("cannot read the block: %v", err)
	}
	return c, nil
}

// autoOptions reads auto_options from the router namespace, under either
// its KrakenD alias or lura's own key.
func autoOptions(extra luraconfig.ExtraConfig) (bool, schema.Errors) {
	var errs schema.Errors
	on := false
	for _, ns := range []string{RouterNamespace, ginrouter.Namespace} {
		block, ok := extra[ns]
		if !ok {
			continue
		}
		path := schema.Path(ExtraConfigPath, ns)
		m, ok := block.(map[string]any)
		if !ok {
			errs = append(errs, schema.Error{Path: path, Message: "the router settings must be a JSON object"})
			continue
		}
		v, ok := m["auto_options"]
		if !ok {
			continue
		}
		b, ok := v.(bool)
		if !ok {
			b, _ := json.Marshal(v)
			errs = append(errs, schema.Error{Path: schema.Path(path, "auto_options"), Value: string(b), Message: string(b) + " is not a boolean; write true or false, without quotes"})
			continue
		}
		on = on || b
	}
	return on, errs
}

// NormalizeRouter makes lura's gin router see extra_config.router under its
// own namespace, as KrakenD CE does with its alias table, so that
// auto_options and the other router settings apply. A block already under
// lura's key wins.
func NormalizeRouter(cfg *luraconfig.ServiceConfig) {
	if cfg.ExtraConfig == nil {
		return
	}
	if v, ok := cfg.ExtraConfig[RouterNamespace]; ok {
		if _, exists := cfg.ExtraConfig[ginrouter.Namespace]; !exists {
			cfg.ExtraConfig[ginrouter.Namespace] = v
		}
	}
}
