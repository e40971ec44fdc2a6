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
	"reflect"
	"strings"

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
//
// The keys and their meaning are documented in cors.schema.json and the
// README; Disable and StripCORSRequestHeaders only exist at the endpoint
// level.
type CORS struct {
	AllowOrigins                        []string `json:"allow_origins,omitempty"`
	AllowOriginsRegex                   []string `json:"allow_origins_regex,omitempty"`
	AllowMethods                        []string `json:"allow_methods,omitempty"`
	AllowHeaders                        []string `json:"allow_headers,omitempty"`
	ExposeHeaders                       []string `json:"expose_headers,omitempty"`
	MaxAge                              *string  `json:"max_age,omitempty"`
	AllowCredentials                    *bool    `json:"allow_credentials,omitempty"`
	AllowAnyOriginWithCredentialsUnsafe *bool    `json:"allow_any_origin_with_credentials_unsafe,omitempty"`
	AllowPrivateNetwork                 *bool    `json:"allow_private_network,omitempty"`
	OptionsPassthrough                  *bool    `json:"options_passthrough,omitempty"`
	OptionsSuccessStatus                *int     `json:"options_success_status,omitempty"`
	TerminateUnmatchedRequest           *bool    `json:"terminate_unmatched_request,omitempty"`
	UnmatchedStatus                     *int     `json:"unmatched_status,omitempty"`
	Debug                               *bool    `json:"debug,omitempty"`
	Disable                             *bool    `json:"disable,omitempty"`
	StripCORSRequestHeaders             *bool    `json:"strip_cors_request_headers,omitempty"`
	Comment                             any      `json:"@comment,omitempty"`
}

// Merge returns the policy of an endpoint: every key the endpoint block
// sets overrides the service block's; the others are inherited. Either
// may be nil. Disable and StripCORSRequestHeaders are never inherited.
func Merge(service, endpoint *CORS) CORS {
	var m CORS
	if service != nil {
		m = *service
	}
	m.Disable, m.StripCORSRequestHeaders = nil, nil
	if endpoint == nil {
		return m
	}
	e := endpoint
	pick := func(dst *[]string, src []string) {
		if src != nil {
			*dst = src
		}
	}
	pick(&m.AllowOrigins, e.AllowOrigins)
	pick(&m.AllowOriginsRegex, e.AllowOriginsRegex)
	pick(&m.AllowMethods, e.AllowMethods)
	pick(&m.AllowHeaders, e.AllowHeaders)
	pick(&m.ExposeHeaders, e.ExposeHeaders)
	if e.MaxAge != nil {
		m.MaxAge = e.MaxAge
	}
	for _, f := range [][2]**bool{
		{&m.AllowCredentials, &e.AllowCredentials},
		{&m.AllowAnyOriginWithCredentialsUnsafe, &e.AllowAnyOriginWithCredentialsUnsafe},
		{&m.AllowPrivateNetwork, &e.AllowPrivateNetwork},
		{&m.OptionsPassthrough, &e.OptionsPassthrough},
		{&m.TerminateUnmatchedRequest, &e.TerminateUnmatchedRequest},
		{&m.Debug, &e.Debug},
		{&m.Disable, &e.Disable},
		{&m.StripCORSRequestHeaders, &e.StripCORSRequestHeaders},
	} {
		if *f[1] != nil {
			*f[0] = *f[1]
		}
	}
	if e.OptionsSuccessStatus != nil {
		m.OptionsSuccessStatus = e.OptionsSuccessStatus
	}
	if e.UnmatchedStatus != nil {
		m.UnmatchedStatus = e.UnmatchedStatus
	}
	return m
}

// Keys lists the keys set in the block, in the order of the schema.
func (c *CORS) Keys() []string {
	if c == nil {
		return nil
	}
	var keys []string
	add := func(set bool, key string) {
		if set {
			keys = append(keys, key)
		}
	}
	add(c.AllowOrigins != nil, "allow_origins")
	add(c.AllowOriginsRegex != nil, "allow_origins_regex")
	add(c.AllowMethods != nil, "allow_methods")
	add(c.AllowHeaders != nil, "allow_headers")
	add(c.ExposeHeaders != nil, "expose_headers")
	add(c.MaxAge != nil, "max_age")
	add(c.AllowCredentials != nil, "allow_credentials")
	add(c.AllowAnyOriginWithCredentialsUnsafe != nil, "allow_any_origin_with_credentials_unsafe")
	add(c.AllowPrivateNetwork != nil, "allow_private_network")
	add(c.OptionsPassthrough != nil, "options_passthrough")
	add(c.OptionsSuccessStatus != nil, "options_success_status")
	add(c.TerminateUnmatchedRequest != nil, "terminate_unmatched_request")
	add(c.UnmatchedStatus != nil, "unmatched_status")
	add(c.Debug != nil, "debug")
	add(c.Disable != nil, "disable")
	add(c.StripCORSRequestHeaders != nil, "strip_cors_request_headers")
	return keys
}

// Gateway is what corsgate reads from a whole gateway configuration.
type Gateway struct {
	// Service is the service-level policy, or nil when the service has no
	// security/cors block.
	Service *CORS
	// ServicePath is the JSON path of the service block, for messages.
	ServicePath string
	// Endpoints lists every endpoint of the configuration, in order, with
	// its own block when it has one.
	Endpoints []Endpoint
	// AutoOptions is extra_config.router.auto_options.
	AutoOptions bool
}

// Endpoint is one endpoint of the gateway and its own security/cors block.
type Endpoint struct {
	// Index is the endpoint's position in the configuration's endpoints.
	Index int
	// Method is the endpoint's HTTP method, upper case.
	Method string
	// Path is the route as lura registers it, with :param segments.
	Path string
	// Template is the path as written in the configuration, with {param}.
	Template string
	// CORS is the endpoint's own block, or nil.
	CORS *CORS
	// CORSPath is the JSON path of the endpoint's block, for messages.
	CORSPath string
	// Backends lists the hosts of the endpoint's backends.
	Backends []string
	// NoOp reports whether the endpoint uses the no-op output encoding,
	// the only one through which backend headers reach the client.
	NoOp bool
}

// Name is how messages name the endpoint: "GET /users/{id}".
func (e Endpoint) Name() string { return e.Method + " " + e.Template }

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

	for i, ep := range cfg.Endpoints {
		e := Endpoint{
			Index:    i,
			Method:   strings.ToUpper(ep.Method),
			Path:     ep.Endpoint,
			Template: Template(ep.Endpoint),
			NoOp:     ep.OutputEncoding == "no-op",
		}
		for _, b := range ep.Backend {
			e.Backends = append(e.Backends, b.Host...)
		}
		base := schema.Index("endpoints", i) + ".extra_config"
		c, path, perrs := parseBlock(ep.ExtraConfig, base, schema.EndpointPolicy)
		for _, pe := range perrs {
			pe.Endpoint = e.Name()
			errs = append(errs, pe)
		}
		e.CORS, e.CORSPath = c, path
		if c != nil && c.Disable != nil && *c.Disable {
			if others := c.Keys(); len(others) > 1 {
				errs = append(errs, schema.Error{Path: path, Endpoint: e.Name(), Message: fmt.Sprintf("disable: true exempts the endpoint from CORS, so %s would have no effect; remove them or remove disable", strings.Join(without(others, "disable"), ", "))})
			}
		}
		g.Endpoints = append(g.Endpoints, e)
	}

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
	return parseBlock(extra, base, schema.ServicePolicy)
}

func parseBlock(extra luraconfig.ExtraConfig, base, def string) (*CORS, string, schema.Errors) {
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
	if errs := schema.Validate(def, raw, newPath); len(errs) > 0 {
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
		if ns == ginrouter.Namespace && sameValue(block, extra[RouterNamespace]) {
			continue // NormalizeRouter's copy of the router block
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

// sameValue reports whether a and b are the same map (not merely equal).
func sameValue(a, b any) bool {
	ma, okA := a.(map[string]any)
	mb, okB := b.(map[string]any)
	return okA && okB && reflect.ValueOf(ma).UnsafePointer() == reflect.ValueOf(mb).UnsafePointer()
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

// Template turns a lura route (/users/:id) back into the path as written
// in the configuration (/users/{id}).
func Template(route string) string {
	if !strings.Contains(route, ":") {
		return route
	}
	segs := strings.Split(route, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}

func without(list []string, drop string) []string {
	var out []string
	for _, s := range list {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}
