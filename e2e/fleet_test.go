package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/corsgate/corsgate/internal/etcdtest"
	"github.com/corsgate/corsgate/internal/testwait"
	"github.com/corsgate/corsgate/plugin/plugintest"
)

// fleet is a real etcd and replicas of one configuration file, each a
// corsgate run process with its own gateway port, admin port, state
// directory and replica id.
type fleet struct {
	t        *testing.T
	etcd     *etcdtest.Server
	path     string
	prefix   string
	ports    []int
	admins   []int
	states   []string
	replicas []*runningGateway
}

// startFleet starts etcd and n replicas that allow originApp.
func startFleet(t *testing.T, n int) *fleet {
	t.Helper()
	f := &fleet{t: t, etcd: etcdtest.Start(t), prefix: fmt.Sprintf("/corsgate/e2e-%d/", time.Now().UnixNano())}
	g := plugintest.Gateway{
		CORS:      plugintest.Block{"allow_origins": []any{originApp}, "allow_methods": []any{"GET", "PUT"}},
		Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", nil)},
	}
	cfg := g.JSON(freePort(t))
	cfg["extra_config"].(map[string]any)["corsgate/admin"] = map[string]any{"store": map[string]any{
		"type": "etcd", "endpoints": []any{f.etcd.Endpoint()}, "prefix": f.prefix, "dial_timeout": "1s",
	}}
	f.path = plugintest.WriteFile(t, cfg)
	f.replicas = make([]*runningGateway, n)
	for i := 0; i < n; i++ {
		f.ports = append(f.ports, freePort(t))
		f.admins = append(f.admins, freePort(t))
		f.states = append(f.states, filepath.Join(t.TempDir(), "state"))
		f.start(i)
	}
	return f
}

// start (re)starts replica i.
func (f *fleet) start(i int) *runningGateway {
	f.t.Helper()
	p := strconv.Itoa(f.ports[i])
	f.replicas[i] = startAdminGateway(f.t, f.path, f.ports[i], f.admins[i], "-p", p, "--state-dir", f.states[i], "--replica-id", "r"+strconv.Itoa(i+1), "--no-watch")
	return f.replicas[i]
}

// status is a replica's GET /v1/cors/status.
type replicaStatus struct {
	Revision uint64
	Store    struct {
		OK               bool
		Error            string
		UnreachableSince *time.Time `json:"unreachable_since"`
		Refused          *struct{ Revision uint64 }
	}
}

func (g *runningGateway) status(t *testing.T) replicaStatus {
	t.Helper()
	resp, body := g.adminCall(t, "GET", "/v1/cors/status", "")
	var st replicaStatus
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &st) != nil {
		t.Fatalf("status: %d %s", resp.StatusCode, body)
	}
	return st
}

// cloudantPut sets the service's origins through Cloudant's API and
// returns the answer's status and revision (its ETag).
func (g *runningGateway) cloudantPut(t *testing.T, query string, origins ...string) (int, uint64, string) {
	t.Helper()
	o, _ := json.Marshal(origins)
	resp, body := g.adminCall(t, "PUT", "/_api/v2/user/config/cors"+query, `{"origins": `+string(o)+`}`)
	rev, _ := strconv.ParseUint(strings.Trim(resp.Header.Get("ETag"), `"`), 10, 64)
	return resp.StatusCode, rev, body
}

// waitAllowed waits until a preflight from origin is allowed on g, and
// returns how long that took.
func waitAllowed(t *testing.T, g *runningGateway, origin string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for g.allowedOrigin(t, origin) != origin {
		if time.Since(start) > limit {
			t.Fatalf("%s: a preflight from %s was not allowed within %s", g.Admin, origin, limit)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Since(start)
}

// quantile of sorted durations.
func quantile(d []time.Duration, q float64) time.Duration {
	return d[min(len(d)-1, int(q*float64(len(d))))]
}

// One fleet, in order: convergence of 200 changes, wait=fleet and the
// CLI, concurrent writers with If-Match, and a bad document written
// straight into etcd.
func TestFleet(t *testing.T) {
	t.Parallel()
	f := startFleet(t, 3)
	r1, r2, r3 := f.replicas[0], f.replicas[1], f.replicas[2]

	t.Run("Convergence", func(t *testing.T) {
		const changes = 200
		var lat []time.Duration
		for i := 0; i < changes; i++ {
			origin := fmt.Sprintf("https://c%d.example.com", i)
			code, _, body := r1.cloudantPut(t, "", originApp, origin)
			if code != 200 {
				t.Fatalf("change %d: %d %s", i, code, body)
			}
			// The writer applies before it answers.
			if got := r1.allowedOrigin(t, origin); got != origin {
				t.Fatalf("change %d: the writing replica's next preflight got %q", i, got)
			}
			var mu sync.Mutex
			var wg sync.WaitGroup
			for _, g := range []*runningGateway{r2, r3} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					d := waitAllowed(t, g, origin, 5*time.Second)
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				}()
			}
			wg.Wait()
		}
		slices.Sort(lat)
		p50, p99, max := quantile(lat, 0.50), quantile(lat, 0.99), lat[len(lat)-1]
		report := fmt.Sprintf("convergence over %d changes on replica 1, seen by replicas 2 and 3 (%d samples): p50 %s, p99 %s, max %s\n", changes, len(lat), p50, p99, max)
		t.Log(report)
		if out := os.Getenv("CORSGATE_FLEET_REPORT"); out != "" {
			os.WriteFile(out, []byte(report), 0o644)
		}
		if r3.status(t).Revision != r1.status(t).Revision {
			t.Errorf("after the changes, r3 applies revision %d and r1 %d", r3.status(t).Revision, r1.status(t).Revision)
		}
	})

	t.Run("WaitFleet", func(t *testing.T) {
		code, rev, body := r2.cloudantPut(t, "?wait=fleet&timeout=5s", originApp, originAdmin)
		var v struct {
			Fleet struct {
				Complete bool
				Revision uint64
				Members  []struct {
					ID      string
					Applied uint64 `json:"applied_revision"`
				}
			}
		}
		if code != 200 || json.Unmarshal([]byte(body), &v) != nil || !v.Fleet.Complete || v.Fleet.Revision != rev || len(v.Fleet.Members) != 3 {
			t.Fatalf("PUT ?wait=fleet: %d %s", code, body)
		}
		// Once it answered, every replica follows the change.
		for _, g := range f.replicas {
			if got := g.allowedOrigin(t, originAdmin); got != originAdmin {
				t.Errorf("%s after wait=fleet: %q", g.Admin, got)
			}
		}
		res := runCLIEnv(t, []string{"CORSGATE_ADMIN_USER=" + adminUser, "CORSGATE_ADMIN_PASSWORD=" + adminPassword}, "config", "fleet", "--admin", r3.Admin)
		for _, id := range []string{`"r1"`, `"r2"`, `"r3"`, `"converged": true`} {
			if res.Code != 0 || !strings.Contains(res.Stdout, id) {
				t.Errorf("corsgate config fleet: exit %d, no %s in\n%s%s", res.Code, id, res.Stdout, res.Stderr)
			}
		}
		if code, _, body := r1.cloudantPut(t, "?wait=everyone", originApp); code != 400 || !strings.Contains(body, "wait=fleet") {
			t.Errorf("an unknown wait: %d %s", code, body)
		}
	})

	t.Run("ConcurrentIfMatch", func(t *testing.T) {
		const each = 10
		var wg sync.WaitGroup
		var conflicts [2]int
		for w, g := range []*runningGateway{r1, r2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					origin := fmt.Sprintf("https://w%d-%d.example.com", w, i)
					for attempt := 0; ; attempt++ {
						if attempt > 200 {
							t.Errorf("writer %d: %s never went through", w, origin)
							return
						}
						resp, body := g.adminCall(t, "GET", "/v1/cors/layer", "")
						var layer struct {
							Service map[string]json.RawMessage
						}
						json.Unmarshal([]byte(body), &layer)
						var origins []string
						json.Unmarshal(layer.Service["allow_origins"], &origins)
						if len(origins) == 0 {
							origins = []string{originApp}
						}
						o, _ := json.Marshal(append(origins, origin))
						put, pbody := g.adminCall(t, "PUT", "/v1/cors/scopes/service", `{"allow_origins": `+string(o)+`}`, "If-Match", resp.Header.Get("ETag"))
						if put.StatusCode == 200 {
							break
						}
						if put.StatusCode != 412 {
							t.Errorf("writer %d: %d %s", w, put.StatusCode, pbody)
							return
						}
						conflicts[w]++
					}
				}
			}()
		}
		wg.Wait()
		t.Logf("412 answers: writer 1 %d, writer 2 %d", conflicts[0], conflicts[1])
		// No update is lost: every origin of both writers is allowed on
		// the third replica.
		for w := 0; w < 2; w++ {
			for i := 0; i < each; i++ {
				waitAllowed(t, r3, fmt.Sprintf("https://w%d-%d.example.com", w, i), 5*time.Second)
			}
		}
	})

	t.Run("BadDocumentInEtcd", func(t *testing.T) {
		cli, err := clientv3.New(clientv3.Config{Endpoints: []string{f.etcd.Endpoint()}, DialTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer cli.Close()
		before := r1.status(t).Revision
		good := "https://w0-0.example.com"
		bad := []string{
			`not json at all`,
			// A record whose layer does not validate: max_age is no
			// duration.
			fmt.Sprintf(`{"revision": %d, "time": "2026-12-06T00:00:00Z", "user": "tool", "source": "api", "layer": {"service": {"allow_origins": ["https://evil.example"], "max_age": "forever"}}}`, before+1),
		}
		for _, doc := range bad {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, err := cli.Put(ctx, f.prefix+"current", doc)
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range f.replicas {
				testwait.Until(t, g.Admin+" reporting the bad document", func() bool {
					st := g.status(t)
					return st.Store.Refused != nil && !st.Store.OK
				})
				if st := g.status(t); st.Revision != before {
					t.Errorf("%s applies revision %d, want the last good %d", g.Admin, st.Revision, before)
				}
				if got := g.allowedOrigin(t, good); got != good {
					t.Errorf("%s no longer serves its last good policy: %q", g.Admin, got)
				}
				if got := g.allowedOrigin(t, "https://evil.example"); got != "" {
					t.Errorf("%s allowed the bad document's origin", g.Admin)
				}
			}
		}
		// A write that does not name the refused revision would undo it
		// unseen: 409, saying how to replace it.
		if code, _, body := r1.cloudantPut(t, "", originApp, "https://fixed.example.com"); code != 409 || !strings.Contains(body, fmt.Sprintf(`If-Match: \"%d\"`, before+1)) {
			t.Errorf("a write over a refused revision without If-Match: %d %s", code, body)
		}
		// A good write with If-Match of the refused revision replaces it.
		resp, body := r1.adminCall(t, "PUT", "/_api/v2/user/config/cors?wait=fleet", `{"origins": ["`+originApp+`", "https://fixed.example.com"]}`, "If-Match", fmt.Sprintf(`"%d"`, before+1))
		rev, _ := strconv.ParseUint(strings.Trim(resp.Header.Get("ETag"), `"`), 10, 64)
		if resp.StatusCode != 200 {
			t.Fatalf("the write over the bad document: %d %s", resp.StatusCode, body)
		}
		for _, g := range f.replicas {
			if st := g.status(t); st.Revision != rev || st.Store.Refused != nil || !st.Store.OK {
				t.Errorf("%s after the fix: %+v", g.Admin, st)
			}
			if got := g.allowedOrigin(t, "https://fixed.example.com"); got != "https://fixed.example.com" {
				t.Errorf("%s after the fix: %q", g.Admin, got)
			}
		}
	})
}

// etcd stopped and started again, a replica started while it is down, and
// compaction while a replica is stopped.
func TestFleetSurvivesEtcd(t *testing.T) {
	t.Parallel()
	f := startFleet(t, 3)
	r1 := f.replicas[0]
	if code, _, body := r1.cloudantPut(t, "?wait=fleet", originApp, originAdmin); code != 200 {
		t.Fatalf("first change: %d %s", code, body)
	}

	f.etcd.Stop()
	// Every replica keeps serving its policy; writes answer 503; reads say
	// they may be stale.
	for _, g := range f.replicas {
		if got := g.allowedOrigin(t, originAdmin); got != originAdmin {
			t.Errorf("%s with etcd down: %q", g.Admin, got)
		}
	}
	start := time.Now()
	code, _, body := r1.cloudantPut(t, "", originApp)
	if code != 503 || !strings.Contains(body, "etcd") {
		t.Errorf("a write with etcd down: %d %s", code, body)
	}
	t.Logf("the write with etcd down answered %d in %s", code, time.Since(start).Round(time.Millisecond))
	for _, g := range f.replicas {
		testwait.Until(t, g.Admin+" marking its reads stale", func() bool {
			resp, _ := g.adminCall(t, "GET", "/_api/v2/user/config/cors", "")
			return resp.Header.Get("X-Corsgate-Stale") != ""
		})
	}

	// A replica (re)started while etcd is down serves its cached layer.
	f.replicas[1].stop()
	r2 := f.start(1)
	if got := r2.allowedOrigin(t, originAdmin); got != originAdmin {
		t.Errorf("a replica started while etcd is down: %q, want its cached layer", got)
	}
	if st := r2.status(t); st.Store.OK || st.Store.UnreachableSince == nil {
		t.Errorf("status of a replica started while etcd is down: %+v", st.Store)
	}

	// etcd back: the replicas converge within 5 s.
	f.etcd.Restart(t)
	back := time.Now()
	var rev uint64
	testwait.Until(t, "a write after etcd is back", func() bool {
		var c int
		c, rev, _ = r2.cloudantPut(t, "", originApp, "https://after.example.com")
		return c == 200
	})
	for _, g := range f.replicas {
		waitAllowed(t, g, "https://after.example.com", 5*time.Second)
		testwait.Until(t, g.Admin+" clearing its stale mark", func() bool {
			st := g.status(t)
			return st.Store.OK && st.Revision == rev
		})
	}
	t.Logf("etcd back: a write went through and every replica applied it %s after the restart", time.Since(back).Round(time.Millisecond))

	// Compaction while a replica is stopped.
	f.replicas[2].stop()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{f.etcd.Endpoint()}, DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	var last string
	for i := 0; i < 5; i++ {
		last = fmt.Sprintf("https://compacted-%d.example.com", i)
		if code, _, body := r1.cloudantPut(t, "", originApp, last); code != 200 {
			t.Fatalf("change %d: %d %s", i, code, body)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, f.prefix+"current")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Compact(ctx, resp.Header.Revision); err != nil {
		t.Fatal(err)
	}
	r3 := f.start(2)
	waitAllowed(t, r3, last, 5*time.Second)
	if got := r3.allowedOrigin(t, "https://after.example.com"); got != "" {
		t.Errorf("r3 still allows an origin of an older revision")
	}
	// And it follows changes after the compaction.
	if code, _, body := r1.cloudantPut(t, "", originApp, "https://post-compaction.example.com"); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	waitAllowed(t, r3, "https://post-compaction.example.com", 5*time.Second)
}
