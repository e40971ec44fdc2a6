package admin_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/corsgate/corsgate/admin"
	"github.com/corsgate/corsgate/admin/auth"
	"github.com/corsgate/corsgate/engine/core"

	"github.com/corsgate/corsgate/internal/testwait"
	"github.com/corsgate/corsgate/plugin"
	"github.com/corsgate/corsgate/plugin/plugintest"
	"github.com/corsgate/corsgate/state"
	"github.com/corsgate/corsgate/store"
)

// newReplica is a gateway whose admin API shares st, an in-memory shared
// store that stands for etcd (the etcd store meets the same contract, and
// the e2e fleet tests run on a real etcd): its run-time state follows the
// store (Run) until the test ends.
func newReplica(t *testing.T, g plugintest.Gateway, st *store.Memory, dir, id string) *fixture {
	t.Helper()
	doc, routes, err := plugin.Read(g.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	ctrl, err := core.NewController(routes, doc)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := auth.Load(auth.Sources{Getenv: func(k string) string {
		return map[string]string{auth.EnvUser: user, auth.EnvPassword: password}[k]
	}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &admin.Config{Listen: "127.0.0.1:0", StateDir: dir, ReplicaID: id, Credentials: creds,
		Store: admin.StoreConfig{Type: admin.StoreEtcd, Path: dir, Etcd: &admin.EtcdConfig{Endpoints: []string{"http://127.0.0.1:2379"}, Prefix: "/corsgate/test/", DialTimeout: time.Second}}}
	f := &fixture{t: t, ctrl: ctrl, dir: dir}
	f.serve(doc, st, nil, cfg, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.state.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	f.admin = httptest.NewServer(f.srv.Handler())
	t.Cleanup(f.admin.Close)
	f.gateway = httptest.NewServer(ctrl.Handler(okHandler{}))
	t.Cleanup(f.gateway.Close)
	return f
}

// A revision that another replica committed and that this one refuses
// (its file lacks the endpoint) cannot be undone by a write based on the
// layer it keeps: 409, unless the write names it with If-Match.
func TestSharedRefusedRevisionNeedsIfMatch(t *testing.T) {
	st := store.NewMemory()
	withEndpoint := spa()
	withEndpoint.Endpoints = append(withEndpoint.Endpoints, plugintest.EP("GET", "/reports", nil))
	a := newReplica(t, withEndpoint, st, t.TempDir(), "a")
	b := newReplica(t, spa(), st, t.TempDir(), "b")

	if resp, v := a.call("PUT", "/v1/cors/scopes/GET/reports", `{"allow_origins": ["https://reports.example.com"]}`, "If-Match", `"0"`); resp.StatusCode != 200 {
		t.Fatalf("write on a: %d %s", resp.StatusCode, jsonText(v))
	}
	testwait.Until(t, "b refusing revision 1", func() bool {
		st := b.state.Status()
		return st.Store.Refused != nil && st.Store.Refused.Revision == 1
	})
	if st := b.state.Status(); st.Revision != 0 || st.Store.OK || !strings.Contains(st.Store.Error, "GET /reports") {
		t.Errorf("b's status: revision %d, store %+v", st.Revision, st.Store)
	}
	for _, ifMatch := range []string{"", `"0"`} {
		resp, v := b.call("PUT", admin.CloudantPath, `{"origins": ["https://other.example.com"]}`, "If-Match", ifMatch)
		if resp.StatusCode != 409 || !strings.Contains(fmt.Sprint(v["reason"]), `If-Match: "1"`) {
			t.Errorf("write on b with If-Match %q: %d %s", ifMatch, resp.StatusCode, jsonText(v))
		}
	}
	if got := a.allowedOn("/reports", "https://reports.example.com"); got != "https://reports.example.com" {
		t.Errorf("a's change was undone: %q", got)
	}
	// Naming the refused revision replaces it, everywhere.
	resp, v := b.call("PUT", admin.CloudantPath, `{"origins": ["https://other.example.com"]}`, "If-Match", `"1"`)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != `"2"` {
		t.Fatalf("write on b with If-Match \"1\": %d %s", resp.StatusCode, jsonText(v))
	}
	testwait.Until(t, "a applying revision 2", func() bool { return a.state.Status().Revision == 2 })
	if got := a.allowed(other); got != other {
		t.Errorf("a after revision 2: %q", got)
	}
	if st := b.state.Status(); !st.Store.OK || st.Store.Refused != nil {
		t.Errorf("b after revision 2: %+v", st.Store)
	}
}

// While the store does not answer: writes answer 503 at once with Retry-After,
// reads are marked stale; a replica started then serves its cache, unless
// another user could have written the cache.
func TestSharedStoreDown(t *testing.T) {
	st := store.NewMemory()
	dir := t.TempDir()
	a := newReplica(t, spa(), st, dir, "a")
	if resp, v := a.call("PUT", admin.CloudantPath, `{"origins": ["https://other.example.com"]}`); resp.StatusCode != 200 {
		t.Fatalf("PUT: %d %s", resp.StatusCode, jsonText(v))
	}
	cache := filepath.Join(dir, state.CacheFile)
	if info, err := os.Stat(cache); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the cache %s: %v, %v", cache, info, err)
	}

	st.SetDown(errors.New("dial tcp 127.0.0.1:2379: connection refused"))
	testwait.Until(t, "a noticing the outage", func() bool { return a.state.Status().Store.UnreachableSince != nil })
	start := time.Now()
	resp, v := a.call("PUT", admin.CloudantPath, `{"origins": ["https://third.example.com"]}`)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(fmt.Sprint(v["reason"]), "does not answer") || time.Since(start) > 900*time.Millisecond {
		t.Errorf("a write during the outage: %d in %s, Retry-After %q, %s", resp.StatusCode, time.Since(start), resp.Header.Get("Retry-After"), jsonText(v))
	}
	resp, v = a.call("GET", admin.CloudantPath, "")
	if resp.StatusCode != 200 || resp.Header.Get(admin.StaleHeader) == "" || !strings.HasPrefix(resp.Header.Get("Warning"), "110 ") || jsonText(v) != `{"allow_credentials":true,"enable_cors":true,"origins":["https://other.example.com"]}` {
		t.Errorf("a read during the outage: %d %v %s", resp.StatusCode, resp.Header, jsonText(v))
	}
	if got := a.allowed(other); got != other {
		t.Errorf("the gateway during the outage: %q", got)
	}

	// A replica started now, with a's state directory, serves the cache.
	c := newReplica(t, spa(), st, dir, "c")
	if got := c.allowed(other); got != other || c.state.Status().Revision != 1 {
		t.Errorf("a replica started during the outage: %q at revision %d, want the cached revision 1", got, c.state.Status().Revision)
	}
	// Not a cache that others may write.
	if err := os.Chmod(cache, 0o666); err != nil {
		t.Fatal(err)
	}
	d := newReplica(t, spa(), st, dir, "d")
	if got := d.allowed(app); got != app || d.state.Status().Revision != 0 {
		t.Errorf("a replica with a group-writable cache: %q at revision %d, want the file alone", got, d.state.Status().Revision)
	}

	st.SetDown(nil)
	testwait.Until(t, "a seeing etcd again", func() bool { return a.state.Status().Store.OK })
	if resp, v := a.call("PUT", admin.CloudantPath, `{"origins": ["https://third.example.com"]}`); resp.StatusCode != 200 {
		t.Errorf("a write after the outage: %d %s", resp.StatusCode, jsonText(v))
	}
	testwait.Until(t, "d following revision 2", func() bool { return d.state.Status().Revision == 2 })
}

// okHandler is the router behind the gateway's CORS layer: 200.
type okHandler struct{}

func (okHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }

// allowedOn reports the Access-Control-Allow-Origin the gateway answers an
// actual GET of path from origin with.
func (f *fixture) allowedOn(path, origin string) string {
	f.t.Helper()
	req, _ := http.NewRequest("GET", f.gateway.URL+path, nil)
	req.Header.Set("Origin", origin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("Access-Control-Allow-Origin")
}
