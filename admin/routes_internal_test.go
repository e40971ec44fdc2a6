package admin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/corsgate/corsgate/admin/auth"
	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/policy"
	routes "github.com/corsgate/corsgate/engine/route"
	"github.com/corsgate/corsgate/state"
)

// Every route of the route table, with every method it answers, needs
// credentials (401 without) and refuses another origin (403), and never
// answers with a CORS header: a route added to the table is covered
// without being listed here.
func TestEveryRouteOfTheTableIsGuarded(t *testing.T) {
	ctrl, err := core.NewController(routes.New(nil, false), &policy.Document{})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := auth.Load(auth.Sources{Getenv: func(k string) string {
		return map[string]string{auth.EnvUser: "admin", auth.EnvPassword: "correct-horse-battery"}[k]
	}})
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{State: state.New(state.Options{Controller: ctrl, File: &policy.Document{}}), Config: &Config{Credentials: creds}, Logger: nopLogger{}})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	n := 0
	for _, rt := range s.routes() {
		path := strings.NewReplacer("{method}", "GET", "{path...}", "users", "{key}", "allow_origins").Replace(rt.pattern)
		for method := range rt.methods {
			n++
			for _, c := range []struct {
				name   string
				auth   bool
				origin string
				want   int
			}{{"without credentials", false, "", 401}, {"from another origin", true, "https://evil.example", 403}} {
				req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(`{}`))
				req.Header.Set("Content-Type", "application/json")
				if c.auth {
					req.SetBasicAuth("admin", "correct-horse-battery")
				}
				if c.origin != "" {
					req.Header.Set("Origin", c.origin)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != c.want {
					t.Errorf("%s %s %s: %d, want %d", method, path, c.name, resp.StatusCode, c.want)
				}
				for k := range resp.Header {
					if strings.HasPrefix(k, "Access-Control-") {
						t.Errorf("%s %s %s: %s on an admin answer", method, path, c.name, k)
					}
				}
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d routes and methods checked", n)
	}
}

type nopLogger struct{}

func (nopLogger) Info(...any)    {}
func (nopLogger) Warning(...any) {}
func (nopLogger) Error(...any)   {}
