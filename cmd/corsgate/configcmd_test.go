package main

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	luraconfig "github.com/luraproject/lura/v2/config"

	"github.com/corsgate/corsgate/admin/client"
	"github.com/corsgate/corsgate/host"
)

// The gateway's credentials in these tests: the user of make run.
const (
	adminUser     = "admin"
	adminPassword = "the-gateway-password-42"
)

// adminAPI serves, through host as corsgate run does, the admin API of
// a gateway with an embedded store in a temporary directory and the Basic
// user adminUser, until the test ends, and returns its URL.
func adminAPI(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := luraconfig.ServiceConfig{ExtraConfig: luraconfig.ExtraConfig{
		"security/cors":  map[string]any{"allow_origins": []any{"https://app.example.com"}},
		"corsgate/admin": map[string]any{"listen": addr, "state_dir": t.TempDir()},
	}}
	g, err := host.New(cfg, host.Options{Getenv: func(k string) string {
		return map[string]string{"CORSGATE_ADMIN_USER": adminUser, "CORSGATE_ADMIN_PASSWORD": adminPassword}[k]
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := g.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); g.Wait(5 * time.Second) })
	return "http://" + addr
}

// credentials sets the environment corsgate config reads its credentials
// from; "" leaves a variable unset.
func credentials(t *testing.T, user, password string) {
	t.Setenv("CORSGATE_ADMIN_TOKEN", "")
	t.Setenv("CORSGATE_ADMIN_URL", "")
	t.Setenv("CORSGATE_ADMIN_USER", user)
	t.Setenv("CORSGATE_ADMIN_PASSWORD", password)
}

// CORSGATE_ADMIN_PASSWORD alone is enough: the user is admin, the one
// make run and the docs use.
func TestConfigDefaultUser(t *testing.T) {
	url := adminAPI(t)
	credentials(t, "", adminPassword)
	code, out, errOut := runCLI("config", "get", "--cloudant", "--admin", url)
	if code != 0 || !strings.Contains(out, `"https://app.example.com"`) {
		t.Errorf("config get with only CORSGATE_ADMIN_PASSWORD: exit %d\n%s%s", code, out, errOut)
	}
}

// A 401 says which credentials were sent and from which variables, never
// the password, and gives no curl advice.
func TestConfigRefusedCredentials(t *testing.T) {
	const wrong = "not-the-password-7"
	for _, tt := range []struct {
		name, user, password string
		want                 []string
	}{
		{"default user", "", wrong, []string{
			`corsgate config get: the admin API at http://127.0.0.1:`,
			` refused the credentials: user "admin" (the default, as CORSGATE_ADMIN_USER is not set), password from CORSGATE_ADMIN_PASSWORD; check them against the users the gateway runs with (its CORSGATE_ADMIN_USER and CORSGATE_ADMIN_PASSWORD, or the basic_auth_file of its corsgate/admin block)`,
		}},
		{"user from the environment", "ops", adminPassword, []string{
			`refused the credentials: user "ops" from CORSGATE_ADMIN_USER, password from CORSGATE_ADMIN_PASSWORD;`,
		}},
		{"no credentials", "", "", []string{
			`needs credentials, and none are set: set CORSGATE_ADMIN_PASSWORD to the gateway's admin password (with CORSGATE_ADMIN_USER, by default "admin"), or CORSGATE_ADMIN_TOKEN to its token`,
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			url := adminAPI(t)
			credentials(t, tt.user, tt.password)
			code, out, errOut := runCLI("config", "get", "--admin", url)
			if code != 1 || out != "" {
				t.Errorf("exit %d, stdout %q; want 1 and nothing", code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("the message does not say %q:\n%s", w, errOut)
				}
			}
			if strings.Count(errOut, "\n") != 1 {
				t.Errorf("the message is not one line:\n%s", errOut)
			}
			// The address is taken out first: its random port may hold "401".
			rest := strings.ReplaceAll(errOut, url, "URL")
			for _, never := range []string{wrong, adminPassword, "curl", "401"} {
				if strings.Contains(rest, never) {
					t.Errorf("the message holds %q:\n%s", never, errOut)
				}
			}
		})
	}
}

// A rollback to a revision that does not exist says so, and which is the
// newest, in one sentence: not the store's error chained after the
// state's and the route's.
func TestConfigRollbackToAMissingRevision(t *testing.T) {
	url := adminAPI(t)
	credentials(t, adminUser, adminPassword)
	api, err := client.New(url, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, origin := range []string{"https://one.example.com", "https://two.example.com"} {
		a, err := api.Do(context.Background(), "PUT", "/_api/v2/user/config/cors", "", []byte(`{"origins": ["`+origin+`"]}`))
		if err != nil || !a.OK() {
			t.Fatalf("PUT: %v %+v", err, a)
		}
	}
	code, out, errOut := runCLI("config", "rollback", "--revision", "99", "--admin", url)
	want := "corsgate config rollback: revision 99 does not exist; the newest is 2 (see corsgate config history)\n"
	if code != 1 || out != "" || errOut != want {
		t.Errorf("rollback --revision 99: exit %d, stdout %q, stderr\n%s\nwant exit 1 and\n%s", code, out, errOut, want)
	}
	if code, _, errOut := runCLI("config", "rollback", "--revision", "1", "--admin", url); code != 0 {
		t.Errorf("rollback --revision 1: exit %d\n%s", code, errOut)
	}
}

// A file that cannot be read is named with its flag, without os's
// "open PATH:" chained before the reason.
func TestConfigPutMissingFile(t *testing.T) {
	credentials(t, adminUser, adminPassword)
	code, _, errOut := runCLI("config", "put", "-f", "/nonexistent/layer.json", "--admin", "http://127.0.0.1:1")
	want := "corsgate config put: -f /nonexistent/layer.json: there is no such file; check the path, or give -f - to read standard input\n"
	if code != 2 || errOut != want {
		t.Errorf("exit %d\n%s\nwant exit 2 and\n%s", code, errOut, want)
	}
}
