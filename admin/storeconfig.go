package admin

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/schema"
	"github.com/corsgate/corsgate/state"
	"github.com/corsgate/corsgate/store"
)

// Store types.
const (
	// StoreEmbedded is a bbolt database in the state directory: one
	// gateway, no server. The default.
	StoreEmbedded = "embedded"
	// StoreEtcd is an etcd cluster shared by every replica that uses the
	// same prefix.
	StoreEtcd = "etcd"
)

// EnvEtcdUser and EnvEtcdPassword give the etcd user and password when
// the store block does not.
const (
	EnvEtcdUser     = "CORSGATE_ETCD_USER"
	EnvEtcdPassword = "CORSGATE_ETCD_PASSWORD"
)

// DefaultDialTimeout is the etcd store's dial_timeout when the block names
// none; it also bounds every call to etcd.
const DefaultDialTimeout = 2 * time.Second

// StoreConfig says where run-time changes persist.
type StoreConfig struct {
	// Type is StoreEmbedded or StoreEtcd.
	Type string
	// Path is the embedded store's directory, absolute.
	Path string
	// Etcd is the etcd store's settings, with Type StoreEtcd.
	Etcd *EtcdConfig
}

// Shared reports whether several gateways share the store.
func (c StoreConfig) Shared() bool { return c.Type == StoreEtcd }

// Describe names the store for logs and the status: its type and where it
// is.
func (c StoreConfig) Describe() string {
	if c.Etcd != nil {
		return fmt.Sprintf("etcd %s prefix %s", strings.Join(c.Etcd.Endpoints, ","), c.Etcd.Prefix)
	}
	return "embedded " + c.Path
}

// Info describes the store for the run-time state's status and cache.
func (c StoreConfig) Info() state.StoreInfo {
	info := state.StoreInfo{Type: c.Type, Name: c.Describe()}
	if e := c.Etcd; e != nil {
		info.Endpoints, info.Prefix = e.Endpoints, e.Prefix
	} else {
		info.Path = c.Path
	}
	return info
}

// Timeout bounds each call to the store made outside a request.
func (c StoreConfig) Timeout() time.Duration {
	if e := c.Etcd; e != nil {
		return e.DialTimeout
	}
	return 5 * time.Second
}

// EtcdConfig is the etcd store's settings.
type EtcdConfig struct {
	Endpoints   []string
	Prefix      string
	DialTimeout time.Duration
	Username    string
	Password    string
	// CAFile verifies the servers' certificates; CertFile and KeyFile are
	// this gateway's client certificate.
	CAFile, CertFile, KeyFile string
}

// storeBlock is the store object as written.
type storeBlock struct {
	Type         string   `json:"type"`
	Path         string   `json:"path"`
	Endpoints    []string `json:"endpoints"`
	Prefix       string   `json:"prefix"`
	DialTimeout  string   `json:"dial_timeout"`
	Username     string   `json:"username"`
	PasswordFile string   `json:"password_file"`
	TLSCAFile    string   `json:"tls_ca_file"`
	TLSCertFile  string   `json:"tls_cert_file"`
	TLSKeyFile   string   `json:"tls_key_file"`
}

// readStore reads the store object. stateDir is the state directory;
// stateOverride says that --state-dir gave it, which then also replaces
// the embedded store's path.
func readStore(b *storeBlock, stateDir string, stateOverride bool, abs func(string) string, getenv func(string) string, at string) (StoreConfig, policy.Errors) {
	if b == nil {
		b = &storeBlock{Type: StoreEmbedded}
	}
	var errs policy.Errors
	fail := func(key, value, format string, args ...any) {
		path := at
		if key != "" {
			path = schema.Path(at, key)
		}
		errs = append(errs, policy.Error{Path: path, Value: value, Message: fmt.Sprintf(format, args...)})
	}
	etcdOnly := map[string]bool{"endpoints": len(b.Endpoints) > 0, "prefix": b.Prefix != "", "dial_timeout": b.DialTimeout != "", "username": b.Username != "", "password_file": b.PasswordFile != "", "tls_ca_file": b.TLSCAFile != "", "tls_cert_file": b.TLSCertFile != "", "tls_key_file": b.TLSKeyFile != ""}
	switch b.Type {
	case StoreEmbedded:
		for _, k := range []string{"endpoints", "prefix", "dial_timeout", "username", "password_file", "tls_ca_file", "tls_cert_file", "tls_key_file"} {
			if etcdOnly[k] {
				fail(k, "", "%q is a setting of the etcd store, and this store is embedded; remove it, or set \"type\": \"etcd\"", k)
			}
		}
		c := StoreConfig{Type: StoreEmbedded, Path: stateDir}
		if b.Path != "" && !stateOverride {
			c.Path = abs(b.Path)
		}
		return c, errs
	case StoreEtcd:
	default:
		fail("type", strconv.Quote(b.Type), "unknown store type %q; write \"embedded\" (the default) or \"etcd\"", b.Type)
		return StoreConfig{}, errs
	}
	if b.Path != "" {
		fail("path", strconv.Quote(b.Path), "path is the embedded store's directory, and this store is etcd; remove it (the local cache of an etcd store lives in state_dir)")
	}
	e := &EtcdConfig{Prefix: b.Prefix, DialTimeout: DefaultDialTimeout, Username: b.Username, CAFile: abs(b.TLSCAFile), CertFile: abs(b.TLSCertFile), KeyFile: abs(b.TLSKeyFile)}
	if len(b.Endpoints) == 0 {
		fail("endpoints", "", "the etcd store needs its endpoints, such as [\"http://127.0.0.1:2379\"]")
	}
	for i, ep := range b.Endpoints {
		if msg := checkEndpoint(ep); msg != "" {
			shown := ep
			if u, err := url.Parse(ep); err == nil && u.User != nil {
				shown = u.Redacted()
			}
			fail(schema.Index("endpoints", i), strconv.Quote(shown), "%s", msg)
			continue
		}
		e.Endpoints = append(e.Endpoints, ep)
	}
	switch {
	case b.Prefix == "":
		fail("prefix", "", "the etcd store needs a prefix of its own, such as \"/corsgate/shop-gateway/\": every gateway with the same prefix shares one run-time configuration")
	case !strings.HasPrefix(b.Prefix, "/") || !strings.HasSuffix(b.Prefix, "/") || len(b.Prefix) < 3:
		fail("prefix", strconv.Quote(b.Prefix), "the prefix %q must start and end with \"/\" and name something, such as \"/corsgate/shop-gateway/\"", b.Prefix)
	}
	if b.DialTimeout != "" {
		d, err := time.ParseDuration(b.DialTimeout)
		switch {
		case err != nil:
			fail("dial_timeout", strconv.Quote(b.DialTimeout), "%q is not a duration; write for example \"2s\" or \"500ms\"", b.DialTimeout)
		case d < 100*time.Millisecond || d > time.Minute:
			fail("dial_timeout", strconv.Quote(b.DialTimeout), "%s is out of range; write a duration from 100ms to 1m, such as \"2s\"", d)
		default:
			e.DialTimeout = d
		}
	}
	if e.Username == "" {
		e.Username = getenv(EnvEtcdUser)
	}
	switch {
	case b.PasswordFile != "":
		pw, err := readSecret(abs(b.PasswordFile))
		if err != nil {
			fail("password_file", strconv.Quote(b.PasswordFile), "%v", err)
		}
		e.Password = pw
	default:
		e.Password = getenv(EnvEtcdPassword)
	}
	switch {
	case e.Username != "" && e.Password == "":
		fail("username", strconv.Quote(e.Username), "the etcd user %q has no password; set %s or name a password_file", e.Username, EnvEtcdPassword)
	case e.Username == "" && e.Password != "":
		fail("", "", "an etcd password is set but no user; set \"username\" in the store block or %s", EnvEtcdUser)
	}
	https := 0
	for _, ep := range e.Endpoints {
		if strings.HasPrefix(ep, "https://") {
			https++
		}
	}
	switch {
	case https > 0 && https < len(e.Endpoints):
		fail("endpoints", "", "the endpoints mix http:// and https://; a cluster is reached one way, so use https:// for all of them or for none")
	case https == 0 && len(e.Endpoints) > 0 && (b.TLSCAFile != "" || b.TLSCertFile != ""):
		fail("endpoints", "", "tls_ca_file and tls_cert_file only apply to https:// endpoints, and these are http://; write the endpoints with https://, or remove the TLS files")
	}
	if (b.TLSCertFile == "") != (b.TLSKeyFile == "") {
		fail("tls_cert_file", "", "a client certificate needs both tls_cert_file and tls_key_file; set both, or neither")
	}
	return StoreConfig{Type: StoreEtcd, Path: stateDir, Etcd: e}, errs
}

// checkEndpoint says what is wrong with an etcd endpoint, or "", naming
// the endpoint with any password in it hidden.
func checkEndpoint(ep string) string {
	u, err := url.Parse(ep)
	if err == nil && u.User != nil {
		return fmt.Sprintf("%q: an etcd endpoint is scheme://host:port and nothing else; the user and password have keys of their own (username, password_file, or %s)", u.Redacted(), EnvEtcdPassword)
	}
	switch {
	case err != nil:
		return fmt.Sprintf("%q is not a URL (%v); write for example \"http://127.0.0.1:2379\"", ep, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("%q: an etcd endpoint is an http:// or https:// URL, such as \"http://127.0.0.1:2379\"", ep)
	case u.Port() == "" || u.Hostname() == "":
		return fmt.Sprintf("%q has no host:port; write for example \"http://127.0.0.1:2379\"", ep)
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil || u.Fragment != "":
		return fmt.Sprintf("%q: an etcd endpoint is scheme://host:port and nothing else; the user and password have keys of their own", ep)
	}
	return ""
}

// readSecret reads a one-line secret from a file that only its owner may
// read.
func readSecret(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot be read (%v); fix the path, or let the user corsgate runs as read the file", errors.Unwrap(err))
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", err
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return "", fmt.Errorf("group or others may read or write %s (mode %04o), and it holds a password: run chmod 600 on it", path, perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return "", err
	}
	pw, _, _ := strings.Cut(string(data), "\n")
	pw = strings.TrimRight(pw, "\r")
	if pw == "" {
		return "", fmt.Errorf("%s holds no password on its first line", path)
	}
	return pw, nil
}

// OpenStore opens the configured store. An etcd store opens without
// reaching etcd, so that a gateway started while etcd is down still
// starts (and serves its cache).
func (c *Config) OpenStore() (store.Store, error) {
	if c.Store.Type != StoreEtcd {
		st, err := store.OpenEmbedded(c.Store.Path, store.EmbeddedOptions{})
		if err != nil {
			return nil, err // not a nil *Embedded in a non-nil Store
		}
		return st, nil
	}
	e := c.Store.Etcd
	opts := store.EtcdOptions{Endpoints: e.Endpoints, Prefix: e.Prefix, DialTimeout: e.DialTimeout, Username: e.Username, Password: e.Password}
	if e.CAFile != "" || e.CertFile != "" {
		t := &tls.Config{MinVersion: tls.VersionTLS12}
		if e.CAFile != "" {
			pem, err := os.ReadFile(e.CAFile)
			if err != nil {
				return nil, fmt.Errorf("tls_ca_file %s: %v", e.CAFile, err)
			}
			t.RootCAs = x509.NewCertPool()
			if !t.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("tls_ca_file %s holds no PEM certificate", e.CAFile)
			}
		}
		if e.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(e.CertFile, e.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("tls_cert_file %s and tls_key_file %s: %v", e.CertFile, e.KeyFile, err)
			}
			t.Certificates = []tls.Certificate{cert}
		}
		opts.TLS = t
	}
	st, err := store.OpenEtcd(opts)
	if err != nil {
		return nil, err
	}
	return st, nil
}
