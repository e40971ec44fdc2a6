// Package admin is corsgate's admin listener: an HTTP API, on its own
// listener, that reads and changes the CORS settings while the gateway
// runs. Every change is validated like the configuration file, recorded
// as a new revision of the run-time layer in a store (package store), and
// applied through the same core.Controller.Apply, atomically.
//
// The API speaks Cloudant's CORS API (GET and PUT
// /_api/v2/user/config/cors) and a full one under /v1/cors/ for every key
// of every scope, with revisions (ETag and If-Match), a dry run, history,
// rollback and reset. Every route is behind package auth's Guard:
// credentials, and no cross-origin access.
package admin

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	luraconfig "github.com/luraproject/lura/v2/config"

	"github.com/corsgate/corsgate/admin/auth"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/schema"
)

// Namespace is the service-level extra_config key of the admin settings.
const Namespace = "corsgate/admin"

// DefaultStoreDir is the embedded store's directory when the block names
// none, relative to the configuration file's directory.
const DefaultStoreDir = "corsgate-state"

// Config is the admin listener's configuration, read from the
// corsgate/admin block.
type Config struct {
	// Listen is host:port.
	Listen string
	// StateDir is the local state directory, absolute: the embedded
	// store's database and, with a shared store, the cache of the last
	// applied layer.
	StateDir string
	// Store says where run-time changes persist.
	Store StoreConfig
	// ReplicaID names this gateway in the fleet of a shared store.
	ReplicaID string
	// TLSCertFile and TLSKeyFile make the listener serve HTTPS.
	TLSCertFile, TLSKeyFile string
	// InsecurePlaintext allows plain HTTP on a non-loopback address.
	InsecurePlaintext bool
	// Credentials are the accepted Basic users and Bearer tokens.
	Credentials *auth.Credentials
	// AllowedHosts and PublicOrigin are the Host names the listener
	// answers to besides IP addresses and localhost (auth.Options).
	AllowedHosts []string
	PublicOrigin string
}

// block is the corsgate/admin block as written.
type block struct {
	Comment           any         `json:"@comment"`
	Listen            string      `json:"listen"`
	StateDir          string      `json:"state_dir"`
	Store             *storeBlock `json:"store"`
	BasicAuthFile     string      `json:"basic_auth_file"`
	TokenFile         string      `json:"token_file"`
	ReadOnlyTokenFile string      `json:"read_only_token_file"`
	AllowedHosts      []string    `json:"allowed_hosts"`
	PublicOrigin      string      `json:"public_origin"`
	TLSCertFile       string      `json:"tls_cert_file"`
	TLSKeyFile        string      `json:"tls_key_file"`
	InsecurePlaintext bool        `json:"insecure_plaintext"`
}

// Overrides replace, for one gateway process, settings of the
// corsgate/admin block, so that several replicas can share one
// configuration file (corsgate run --admin-listen, --state-dir,
// --replica-id). Empty fields override nothing.
type Overrides struct {
	// Listen replaces listen, with or without a block.
	Listen string
	// StateDir replaces state_dir and the embedded store's path.
	StateDir string
	// ReplicaID names the gateway in the fleet; by default it is the host
	// name and the admin listener's address.
	ReplicaID string
}

// ReadConfig reads the corsgate/admin block of a service's extra_config.
// configPath is the configuration file's path: relative paths in the block
// are relative to its directory. gatewayPort is the gateway's own port,
// which the admin listener may not use. ov replaces settings of the block
// for this process. getenv reads the credentials' environment variables
// (os.Getenv when nil).
//
// It returns nil and no error when there is no block or the block has no
// listen. It refuses, with the way to fix it: a listener without any
// credential, a non-loopback listener without TLS or insecure_plaintext,
// the gateway's port, every problem of the credentials and of the store.
func ReadConfig(extra luraconfig.ExtraConfig, configPath string, gatewayPort int, ov Overrides, getenv func(string) string) (*Config, policy.Errors) {
	if getenv == nil {
		getenv = os.Getenv
	}
	listen := ov.Listen
	raw, ok := extra[Namespace]
	if !ok {
		if listen == "" {
			return nil, nil
		}
		raw = map[string]any{}
	}
	base := schema.Path("extra_config", Namespace)
	s, err := policy.Schema()
	if err != nil {
		return nil, policy.Errors{{Path: base, Message: "internal error: " + err.Error()}}
	}
	if vs := s.Validate(schema.Admin, raw, base); len(vs) > 0 {
		var errs policy.Errors
		for _, v := range vs {
			errs = append(errs, policy.Error{Path: v.Path, Value: v.Value, Message: v.Message})
		}
		return nil, errs
	}
	var b block
	if err := decodeStrict(raw, &b); err != nil {
		return nil, policy.Errors{{Path: base, Message: err.Error()}}
	}
	if listen != "" {
		b.Listen = listen // corsgate run --admin-listen
	}
	if b.Listen == "" {
		return nil, nil
	}
	dir := filepath.Dir(configPath)
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	cfg := &Config{
		Listen:            b.Listen,
		StateDir:          abs(DefaultStoreDir),
		TLSCertFile:       abs(b.TLSCertFile),
		TLSKeyFile:        abs(b.TLSKeyFile),
		InsecurePlaintext: b.InsecurePlaintext,
		ReplicaID:         ov.ReplicaID,
		AllowedHosts:      b.AllowedHosts,
		PublicOrigin:      b.PublicOrigin,
	}
	if b.StateDir != "" {
		cfg.StateDir = abs(b.StateDir)
	}
	if ov.StateDir != "" {
		cfg.StateDir = absFromWD(ov.StateDir)
	}
	if cfg.ReplicaID == "" {
		host, _ := os.Hostname()
		if host == "" {
			host = "gateway"
		}
		cfg.ReplicaID = host + "/" + b.Listen
	}

	var errs policy.Errors
	at := func(key string) string { return schema.Path(base, key) }
	sc, serrs := readStore(b.Store, cfg.StateDir, ov.StateDir != "", abs, getenv, at("store"))
	errs = append(errs, serrs...)
	cfg.Store = sc
	host, port, err := net.SplitHostPort(b.Listen)
	n, perr := strconv.Atoi(port)
	switch {
	case err != nil:
		errs = append(errs, policy.Error{Path: at("listen"), Value: strconv.Quote(b.Listen), Message: fmt.Sprintf("%q is not host:port (%v); write for example \"127.0.0.1:9091\"", b.Listen, err)})
	case perr != nil || n < 1 || n > 65535:
		errs = append(errs, policy.Error{Path: at("listen"), Value: strconv.Quote(b.Listen), Message: fmt.Sprintf("the port %q is not a number from 1 to 65535", port)})
	case n == gatewayPort:
		errs = append(errs, policy.Error{Path: at("listen"), Value: strconv.Quote(b.Listen), Message: fmt.Sprintf("port %d is the gateway's own port; the admin API needs a listener of its own, such as \"127.0.0.1:9091\"", n)})
	case !isLoopback(host) && b.TLSCertFile == "" && !b.InsecurePlaintext:
		errs = append(errs, policy.Error{Path: at("listen"), Value: strconv.Quote(b.Listen), Message: fmt.Sprintf("%q is not a loopback address, so passwords and changes would cross the network in plain text; set tls_cert_file and tls_key_file, or listen on 127.0.0.1, or set \"insecure_plaintext\": true if a TLS proxy in front of it is your choice", host)})
	}

	for i, h := range b.AllowedHosts {
		if strings.ContainsAny(h, "/?#@ ") || strings.Contains(h, "://") {
			errs = append(errs, policy.Error{Path: schema.Index(at("allowed_hosts"), i), Value: strconv.Quote(h), Message: fmt.Sprintf("%q is not a host name: write the host (with a port, or without), such as \"admin.internal.example.com\", without a scheme or a path", h)})
		}
	}
	if o := b.PublicOrigin; o != "" {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			errs = append(errs, policy.Error{Path: at("public_origin"), Value: strconv.Quote(o), Message: fmt.Sprintf("%q is not an origin: write the scheme and the host browsers use, such as \"https://admin.example.com\"", o)})
		} else {
			cfg.PublicOrigin = u.Scheme + "://" + u.Host
		}
	}
	creds, err := auth.Load(auth.Sources{BasicAuthFile: abs(b.BasicAuthFile), TokenFile: abs(b.TokenFile), ReadOnlyTokenFile: abs(b.ReadOnlyTokenFile), Getenv: getenv})
	switch {
	case err != nil:
		errs = append(errs, policy.Error{Path: base, Message: "the admin credentials: " + err.Error()})
	case creds.Empty():
		errs = append(errs, policy.Error{Path: at("listen"), Value: strconv.Quote(b.Listen), Message: fmt.Sprintf("the admin listener has no credential, and corsgate never runs it open; set %s and %s (HTTP Basic), or %s (a Bearer token), or name a basic_auth_file or token_file", auth.EnvUser, auth.EnvPassword, auth.EnvToken)})
	}
	cfg.Credentials = creds
	if len(errs) > 0 {
		return nil, errs
	}
	return cfg, nil
}

// isLoopback reports whether a listen host is a loopback address
// (localhost included). An empty host listens on every address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// absFromWD makes a path given on the command line absolute, relative to
// the working directory.
func absFromWD(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// StateLocation says where a gateway run with this configuration keeps
// its local state, without needing its listener or credentials: the state
// directory (stateDir replaces the block's, as corsgate run --state-dir
// does) and the name of its store (StoreConfig.Describe), which is what
// corsgate explain needs to find the layer the gateway last applied.
func StateLocation(extra luraconfig.ExtraConfig, configPath, stateDir string) (dir, storeName string, err error) {
	var b block
	if raw, ok := extra[Namespace]; ok {
		if err := decodeStrict(raw, &b); err != nil {
			return "", "", fmt.Errorf("%s: %v", schema.Path("extra_config", Namespace), err)
		}
	}
	base := filepath.Dir(configPath)
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	dir = abs(DefaultStoreDir)
	if b.StateDir != "" {
		dir = abs(b.StateDir)
	}
	if stateDir != "" {
		dir = absFromWD(stateDir)
	}
	// Only the store's type and place matter here: its credentials are
	// corsgate run's business, and their problems are reported there.
	sc, _ := readStore(b.Store, dir, stateDir != "", abs, func(string) string { return "" }, schema.Path(schema.Path("extra_config", Namespace), "store"))
	return dir, sc.Describe(), nil
}

// StoreWarnings lists what is risky in the store of a corsgate/admin block,
// whether or not it has a listener: an etcd store reached over plain HTTP
// on a non-loopback address (the layer and any credentials cross the
// network readable), and an etcd store without credentials (anyone who
// reaches etcd can change the gateway's CORS). getenv reads the etcd
// credentials' variables (os.Getenv when nil).
func StoreWarnings(extra luraconfig.ExtraConfig, getenv func(string) string) []string {
	if getenv == nil {
		getenv = os.Getenv
	}
	raw, ok := extra[Namespace]
	if !ok {
		return nil
	}
	var b block
	if decodeStrict(raw, &b) != nil || b.Store == nil || b.Store.Type != StoreEtcd {
		return nil
	}
	at := schema.Path(schema.Path(schema.Path("extra_config", Namespace), "store"), "endpoints")
	var out []string
	for _, ep := range b.Store.Endpoints {
		u, err := url.Parse(ep)
		if err != nil || u.Scheme != "http" || isLoopback(u.Hostname()) {
			continue
		}
		out = append(out, fmt.Sprintf("%s: the etcd endpoint %s is reached over plain HTTP on a non-loopback address: the run-time layer, and any etcd password, cross the network readable; use https:// endpoints with tls_ca_file", at, u.Redacted()))
	}
	hasUser := b.Store.Username != "" || getenv(EnvEtcdUser) != ""
	if !hasUser && b.Store.TLSCertFile == "" {
		out = append(out, fmt.Sprintf("%s: the etcd store has no credentials (no username, no %s, no tls_cert_file): anyone who can reach etcd can change which web sites may read this gateway's answers; give corsgate an etcd user with a password_file, or a client certificate", schema.Path(schema.Path("extra_config", Namespace), "store"), EnvEtcdUser))
	}
	return out
}
