package policy

import "slices"

// Block is one security/cors block as written. A nil slice or pointer
// means the key is absent, so that an endpoint block can inherit it from
// the service block; Compile applies the defaults.
//
// The keys and their meaning are documented in cors.schema.json and
// docs/configuration.md. Disable and StripCORSRequestHeaders only exist
// at the endpoint level.
type Block struct {
	AllowOrigins                        []string `json:"allow_origins,omitempty"`
	AllowOriginsRegex                   []string `json:"allow_origins_regex,omitempty"`
	AllowOriginsRegexUnsafe             *bool    `json:"allow_origins_regex_unsafe,omitempty"`
	AllowMethods                        []string `json:"allow_methods,omitempty"`
	AllowHeaders                        []string `json:"allow_headers,omitempty"`
	ExposeHeaders                       []string `json:"expose_headers,omitempty"`
	MaxAge                              *string  `json:"max_age,omitempty"`
	AllowCredentials                    *bool    `json:"allow_credentials,omitempty"`
	AllowAnyOriginWithCredentialsUnsafe *bool    `json:"allow_any_origin_with_credentials_unsafe,omitempty"`
	AllowPrivateNetwork                 *bool    `json:"allow_private_network,omitempty"`
	WebSocketOrigins                    []string `json:"websocket_origins,omitempty"`
	OptionsPassthrough                  *bool    `json:"options_passthrough,omitempty"`
	OptionsSuccessStatus                *int     `json:"options_success_status,omitempty"`
	TerminateUnmatchedRequest           *bool    `json:"terminate_unmatched_request,omitempty"`
	UnmatchedStatus                     *int     `json:"unmatched_status,omitempty"`
	Debug                               *bool    `json:"debug,omitempty"`
	Disable                             *bool    `json:"disable,omitempty"`
	StripCORSRequestHeaders             *bool    `json:"strip_cors_request_headers,omitempty"`
	Comment                             any      `json:"@comment,omitempty"`
}

// Level says where a block sits: at the service level or in an endpoint.
type Level uint8

// The levels of a block.
const (
	ServiceLevel Level = iota
	EndpointLevel
)

// Exempt reports whether the block exempts its endpoint from CORS
// (disable: true).
func (b *Block) Exempt() bool { return b != nil && isTrue(b.Disable) }

// Merge returns the policy of an endpoint: every key the endpoint block
// sets overrides the service block's; the others are inherited. Either may
// be nil. Disable and StripCORSRequestHeaders are never inherited.
func Merge(service, endpoint *Block) Block {
	var m Block
	if service != nil {
		m = *service
	}
	m.Disable, m.StripCORSRequestHeaders = nil, nil
	if endpoint == nil {
		return m
	}
	e := endpoint
	for _, f := range []struct{ dst, src *[]string }{
		{&m.AllowOrigins, &e.AllowOrigins},
		{&m.AllowOriginsRegex, &e.AllowOriginsRegex},
		{&m.AllowMethods, &e.AllowMethods},
		{&m.AllowHeaders, &e.AllowHeaders},
		{&m.ExposeHeaders, &e.ExposeHeaders},
		{&m.WebSocketOrigins, &e.WebSocketOrigins},
	} {
		if *f.src != nil {
			*f.dst = *f.src
		}
	}
	for _, f := range [][2]**bool{
		{&m.AllowOriginsRegexUnsafe, &e.AllowOriginsRegexUnsafe},
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
	if e.MaxAge != nil {
		m.MaxAge = e.MaxAge
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
func (b *Block) Keys() []string {
	if b == nil {
		return nil
	}
	var keys []string
	add := func(set bool, key string) {
		if set {
			keys = append(keys, key)
		}
	}
	add(b.AllowOrigins != nil, "allow_origins")
	add(b.AllowOriginsRegex != nil, "allow_origins_regex")
	add(b.AllowOriginsRegexUnsafe != nil, "allow_origins_regex_unsafe")
	add(b.AllowMethods != nil, "allow_methods")
	add(b.AllowHeaders != nil, "allow_headers")
	add(b.ExposeHeaders != nil, "expose_headers")
	add(b.MaxAge != nil, "max_age")
	add(b.AllowCredentials != nil, "allow_credentials")
	add(b.AllowAnyOriginWithCredentialsUnsafe != nil, "allow_any_origin_with_credentials_unsafe")
	add(b.AllowPrivateNetwork != nil, "allow_private_network")
	add(b.WebSocketOrigins != nil, "websocket_origins")
	add(b.OptionsPassthrough != nil, "options_passthrough")
	add(b.OptionsSuccessStatus != nil, "options_success_status")
	add(b.TerminateUnmatchedRequest != nil, "terminate_unmatched_request")
	add(b.UnmatchedStatus != nil, "unmatched_status")
	add(b.Debug != nil, "debug")
	add(b.Disable != nil, "disable")
	add(b.StripCORSRequestHeaders != nil, "strip_cors_request_headers")
	return keys
}

// Clone returns a copy of b that shares no list or value with it (but
// @comment, which the gateway never reads).
func (b *Block) Clone() *Block {
	if b == nil {
		return nil
	}
	c := *b
	for _, l := range []*[]string{&c.AllowOrigins, &c.AllowOriginsRegex, &c.AllowMethods, &c.AllowHeaders, &c.ExposeHeaders} {
		if *l != nil {
			*l = slices.Clone(*l)
		}
	}
	for _, f := range []**bool{&c.AllowOriginsRegexUnsafe, &c.AllowCredentials, &c.AllowAnyOriginWithCredentialsUnsafe, &c.AllowPrivateNetwork,
		&c.OptionsPassthrough, &c.TerminateUnmatchedRequest, &c.Debug, &c.Disable, &c.StripCORSRequestHeaders} {
		if *f != nil {
			v := **f
			*f = &v
		}
	}
	for _, f := range []**int{&c.OptionsSuccessStatus, &c.UnmatchedStatus} {
		if *f != nil {
			v := **f
			*f = &v
		}
	}
	if c.MaxAge != nil {
		v := *c.MaxAge
		c.MaxAge = &v
	}
	return &c
}

func isTrue(b *bool) bool { return b != nil && *b }
