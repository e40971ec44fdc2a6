package admin_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	luraconfig "github.com/luraproject/lura/v2/config"

	"github.com/corsgate/corsgate/admin"
)

// env gives the admin credentials, and etcd's when asked.
func env(extra map[string]string) func(string) string {
	m := map[string]string{"CORSGATE_ADMIN_USER": "admin", "CORSGATE_ADMIN_PASSWORD": "a-long-enough-password"}
	for k, v := range extra {
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

func readBlock(t *testing.T, block map[string]any, ov admin.Overrides, getenv func(string) string) (*admin.Config, string) {
	t.Helper()
	if ov.Listen == "" {
		ov.Listen = "127.0.0.1:9091"
	}
	cfg, errs := admin.ReadConfig(luraconfig.ExtraConfig{admin.Namespace: block}, "/etc/gw/krakend.json", 8080, ov, getenv)
	if errs != nil {
		return nil, errs.Error()
	}
	return cfg, ""
}

func TestStoreBlock(t *testing.T) {
	etcd := func(kv ...any) map[string]any {
		s := map[string]any{"type": "etcd", "endpoints": []any{"http://127.0.0.1:2379"}, "prefix": "/corsgate/shop/"}
		for i := 0; i+1 < len(kv); i += 2 {
			s[kv[i].(string)] = kv[i+1]
		}
		return map[string]any{"store": s}
	}
	pwFile := filepath.Join(t.TempDir(), "etcd-password")
	os.WriteFile(pwFile, []byte("s3cret\n"), 0o600)
	openFile := filepath.Join(t.TempDir(), "open-password")
	os.WriteFile(openFile, []byte("s3cret\n"), 0o644)

	for _, tt := range []struct {
		name  string
		block map[string]any
		env   map[string]string
		want  string // a part of the error; "" for none
	}{
		{"default embedded", map[string]any{}, nil, ""},
		{"allowed hosts and a public origin", map[string]any{"allowed_hosts": []any{"admin.internal.example", "admin.example:8443"}, "public_origin": "https://admin.example.com"}, nil, ""},
		{"a password in an etcd endpoint is not shown", etcd("endpoints", []any{"http://root:hunter2-secret@127.0.0.1:2379"}), nil, `"http://root:xxxxx@127.0.0.1:2379": an etcd endpoint is scheme://host:port`},
		{"a URL in allowed_hosts", map[string]any{"allowed_hosts": []any{"https://admin.example"}}, nil, `"https://admin.example" is not a host name`},
		{"a public origin with a path", map[string]any{"public_origin": "https://admin.example.com/dashboard"}, nil, `is not an origin`},
		{"etcd", etcd(), nil, ""},
		{"unknown type", map[string]any{"store": map[string]any{"type": "consul"}}, nil, `"embedded" or "etcd"`},
		{"etcd without endpoints", map[string]any{"store": map[string]any{"type": "etcd", "prefix": "/corsgate/shop/"}}, nil, "needs its endpoints"},
		{"etcd without prefix", map[string]any{"store": map[string]any{"type": "etcd", "endpoints": []any{"http://127.0.0.1:2379"}}}, nil, "needs a prefix of its own"},
		{"prefix without slashes", etcd("prefix", "corsgate"), nil, `must start and end with "/"`},
		{"endpoint without scheme", etcd("endpoints", []any{"127.0.0.1:2379"}), nil, "endpoints[0]"},
		{"endpoint with a path", etcd("endpoints", []any{"http://127.0.0.1:2379/v3"}), nil, "scheme://host:port and nothing else"},
		{"endpoint with a user", etcd("endpoints", []any{"http://root:pw@127.0.0.1:2379"}), nil, "nothing else"},
		{"dial_timeout not a duration", etcd("dial_timeout", "2"), nil, "dial_timeout"},
		{"dial_timeout too long", etcd("dial_timeout", "5m"), nil, "from 100ms to 1m"},
		{"path on etcd", etcd("path", "/var/lib/x"), nil, "embedded store's directory"},
		{"endpoints on embedded", map[string]any{"store": map[string]any{"type": "embedded", "endpoints": []any{"http://127.0.0.1:2379"}}}, nil, `"endpoints" is a setting of the etcd store`},
		{"user without password", etcd("username", "corsgate"), nil, "has no password"},
		{"user with password from env", etcd("username", "corsgate"), map[string]string{admin.EnvEtcdPassword: "pw"}, ""},
		{"password without user", etcd(), map[string]string{admin.EnvEtcdPassword: "pw"}, "no user"},
		{"password file", etcd("username", "corsgate", "password_file", pwFile), nil, ""},
		{"password file others can read", etcd("username", "corsgate", "password_file", openFile), nil, "chmod 600"},
		{"cert without key", etcd("endpoints", []any{"https://127.0.0.1:2379"}, "tls_cert_file", "/x.pem"), nil, "both tls_cert_file and tls_key_file"},
		{"TLS files with http", etcd("tls_ca_file", "/ca.pem"), nil, "only apply to https:// endpoints"},
		{"http and https", etcd("endpoints", []any{"http://127.0.0.1:2379", "https://127.0.0.1:2380"}), nil, "mix http:// and https://"},
		{"https without files", etcd("endpoints", []any{"https://etcd.internal:2379"}), nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readBlock(t, tt.block, admin.Overrides{}, env(tt.env))
			switch {
			case tt.want == "" && err != "":
				t.Errorf("refused: %s", err)
			case tt.want != "" && !strings.Contains(err, tt.want):
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestStoreBlockValues(t *testing.T) {
	cfg, err := readBlock(t, map[string]any{"store": map[string]any{"type": "etcd", "endpoints": []any{"http://127.0.0.1:2379"}, "prefix": "/corsgate/shop/", "dial_timeout": "500ms"}}, admin.Overrides{}, env(nil))
	if err != "" {
		t.Fatal(err)
	}
	e := cfg.Store.Etcd
	if !cfg.Store.Shared() || e == nil || e.DialTimeout != 500*time.Millisecond || e.Prefix != "/corsgate/shop/" || cfg.StateDir != "/etc/gw/corsgate-state" {
		t.Errorf("config %+v, etcd %+v", cfg, e)
	}
	if !strings.HasSuffix(cfg.ReplicaID, "/127.0.0.1:9091") {
		t.Errorf("default replica id %q, want host/listen", cfg.ReplicaID)
	}
	if got := cfg.Store.Describe(); got != "etcd http://127.0.0.1:2379 prefix /corsgate/shop/" {
		t.Errorf("Describe: %q", got)
	}
}

// --state-dir replaces state_dir and the embedded store's path; the
// overrides of listen and replica id apply per process.
func TestOverrides(t *testing.T) {
	block := map[string]any{"listen": "127.0.0.1:9091", "state_dir": "state", "store": map[string]any{"type": "embedded", "path": "/var/lib/corsgate"}}
	cfg, err := readBlock(t, block, admin.Overrides{Listen: "127.0.0.1:9102"}, env(nil))
	if err != "" {
		t.Fatal(err)
	}
	if cfg.Store.Path != "/var/lib/corsgate" || cfg.StateDir != "/etc/gw/state" || cfg.Listen != "127.0.0.1:9102" {
		t.Errorf("without --state-dir: %+v", cfg)
	}
	cfg, err = readBlock(t, block, admin.Overrides{Listen: "127.0.0.1:9102", StateDir: "/tmp/r2", ReplicaID: "r2"}, env(nil))
	if err != "" {
		t.Fatal(err)
	}
	if cfg.Store.Path != "/tmp/r2" || cfg.StateDir != "/tmp/r2" || cfg.ReplicaID != "r2" {
		t.Errorf("with --state-dir and --replica-id: %+v", cfg)
	}
}

// check warns about an etcd store reached in plain text over the network,
// and about one without credentials.
func TestStoreWarnings(t *testing.T) {
	block := func(store map[string]any) luraconfig.ExtraConfig {
		return luraconfig.ExtraConfig{admin.Namespace: map[string]any{"store": store}}
	}
	for _, tt := range []struct {
		name  string
		store map[string]any
		env   map[string]string
		want  []string
	}{
		{"loopback, with a user", map[string]any{"type": "etcd", "endpoints": []any{"http://127.0.0.1:2379"}, "prefix": "/p/", "username": "gw"}, nil, nil},
		{"plain http over the network", map[string]any{"type": "etcd", "endpoints": []any{"http://10.0.0.5:2379"}, "prefix": "/p/", "username": "gw"}, nil, []string{"http://10.0.0.5:2379 is reached over plain HTTP on a non-loopback address"}},
		{"no credentials", map[string]any{"type": "etcd", "endpoints": []any{"https://etcd.internal:2379"}, "prefix": "/p/"}, nil, []string{"the etcd store has no credentials"}},
		{"a user from the environment", map[string]any{"type": "etcd", "endpoints": []any{"https://etcd.internal:2379"}, "prefix": "/p/"}, map[string]string{admin.EnvEtcdUser: "gw"}, nil},
		{"embedded", map[string]any{"type": "embedded"}, nil, nil},
	} {
		got := admin.StoreWarnings(block(tt.store), env(tt.env))
		if len(got) != len(tt.want) {
			t.Errorf("%s: %q, want %d warning(s)", tt.name, got, len(tt.want))
			continue
		}
		for i, w := range tt.want {
			if !strings.Contains(got[i], w) {
				t.Errorf("%s: %q, want %q", tt.name, got[i], w)
			}
		}
	}
}
