package host_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	luraconfig "github.com/luraproject/lura/v2/config"

	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/host"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// New refuses every problem of the CORS settings and of the admin block
// together, with the paths MapErrors gives them.
func TestNewRefuses(t *testing.T) {
	cfg := luraconfig.ServiceConfig{ExtraConfig: luraconfig.ExtraConfig{
		"security/cors":  map[string]any{"allow_origins": []any{"https://app.example.com/"}},
		"corsgate/admin": map[string]any{"listen": "127.0.0.1:" + strconv.Itoa(freePort(t))},
	}}
	_, err := host.New(cfg, host.Options{Getenv: env(nil), MapErrors: func(errs policy.Errors) policy.Errors {
		for i := range errs {
			errs[i].Path = "mapped:" + errs[i].Path
		}
		return errs
	}})
	var errs policy.Errors
	if !errors.As(err, &errs) || len(errs) != 2 {
		t.Fatalf("New: %v, want the origin's and the credentials' problems", err)
	}
	for _, e := range errs {
		if !strings.HasPrefix(e.Path, "mapped:") {
			t.Errorf("unmapped path %s", e.Path)
		}
	}
}

// Start serves the admin API (behind its guard) with an embedded store,
// Handler puts the CORS layer in front of the gateway's handler, and
// everything stops when the context ends.
func TestStartAndStop(t *testing.T) {
	port := freePort(t)
	cfg := luraconfig.ServiceConfig{ExtraConfig: luraconfig.ExtraConfig{
		"security/cors":  map[string]any{"allow_origins": []any{"https://app.example.com"}},
		"corsgate/admin": map[string]any{"listen": "127.0.0.1:" + strconv.Itoa(port), "state_dir": t.TempDir()},
	}}
	g, err := host.New(cfg, host.Options{Getenv: env(map[string]string{"CORSGATE_ADMIN_USER": "admin", "CORSGATE_ADMIN_PASSWORD": "a-long-enough-password"})})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := g.Start(ctx); err != nil {
		t.Fatal(err)
	}
	admin := "http://127.0.0.1:" + strconv.Itoa(port)
	resp, err := http.Get(admin + "/v1/cors/status")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the admin API without credentials: %d, want 401", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", admin+"/v1/cors/status", nil)
	req.SetBasicAuth("admin", "a-long-enough-password")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("the admin API with credentials: %v %v", resp, err)
	}
	if g.State() == nil || !g.State().Status().Store.OK {
		t.Errorf("the store: %+v", g.State())
	}

	h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	r := httptest.NewRequest("GET", "/users", nil)
	r.Header.Set("Origin", "https://app.example.com")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if got := w.Header().Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
		t.Errorf("the CORS layer: Access-Control-Allow-Origin %q", got)
	}

	cancel()
	if !g.Wait(10 * time.Second) {
		t.Fatal("not everything stopped within 10s of the context's end")
	}
	if _, err := http.Get(admin + "/v1/cors/status"); err == nil {
		t.Error("the admin listener still answers after the context ended")
	}
}
