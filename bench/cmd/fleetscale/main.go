// Command fleetscale runs a fleet of real corsgate run processes on one
// etcd, on loopback, and measures it as an operator would see it: the
// time from a change through replica 1's admin API to each replica
// applying it, etcd's requests while the fleet is idle and per change,
// the CPU each replica spends per change, and how soon a write is
// accepted and applied everywhere after etcd is killed and started again.
//
// A replica applying a revision publishes it in its member record; the
// tool follows the members with one etcd watch (store.Etcd.WatchMembers),
// so that measuring costs the fleet nothing.
//
//	fleetscale -corsgate bin/corsgate -n 50 -changes 20
//
// Its last line is the summary:
//
//	replicas=N changes=K p50=… p99=… max=… idle_etcd_rps=… per_change_etcd_writes=… cpu_per_apply=… write_accepted=… resync=… errors=0
//
// make load-fleet-scale runs it (N=50).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/corsgate/corsgate/bench/fleetstat"
	"github.com/corsgate/corsgate/internal/etcdtest"
	"github.com/corsgate/corsgate/store"
)

const (
	prefix   = "/corsgate/scale/"
	user     = "scale"
	password = "fleetscale-password-0123456789"
)

func main() {
	bin := flag.String("corsgate", "", "the corsgate binary (required)")
	n := flag.Int("n", 50, "how many replicas")
	changes := flag.Int("changes", 20, "how many changes")
	origins := flag.Int("origins", 100, "how many origins each change allows")
	idle := flag.Duration("idle", 30*time.Second, "how long the idle fleet is measured")
	outage := flag.Duration("outage", 3*time.Second, "how long etcd stays down")
	wait := flag.Duration("wait", 30*time.Second, "how long to wait for the fleet, each time")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("fleetscale: ")
	if *bin == "" || *n < 1 || *changes < 1 {
		log.Fatal("-corsgate is required; -n and -changes must be at least 1")
	}
	f := &fleet{bin: *bin, n: *n, k: *changes, origins: *origins, wait: *wait}
	err := f.run(*idle, *outage)
	if err != nil && f.dir != "" {
		// The logs of the replicas that stopped say why.
		for i, p := range f.procs {
			if p.ProcessState == nil && p.Process.Signal(syscall.Signal(0)) == nil {
				continue // still running
			}
			if b, rerr := os.ReadFile(filepath.Join(f.dir, fmt.Sprintf("r%d.log", i+1))); rerr == nil {
				log.Printf("r%d stopped; its log ends with:\n%s", i+1, tail(b, 1500))
			}
		}
	}
	f.stop()
	if err != nil {
		log.Fatal(err)
	}
}

// fleet is one run.
type fleet struct {
	bin     string
	n, k    int
	origins int
	wait    time.Duration
	dir     string
	etcd    *etcdtest.Server
	procs   []*exec.Cmd
	admins  []string
	watcher *store.Etcd
	errors  int

	mu      sync.Mutex
	applied map[string]map[uint64]time.Time // when each member was first seen applying each revision
	changed chan struct{}                   // closed and replaced at each list
}

func (f *fleet) run(idle, outage time.Duration) (err error) {
	if f.dir, err = os.MkdirTemp("", "fleetscale-"); err != nil {
		return err
	}
	if f.etcd, err = etcdtest.Launch(filepath.Join(f.dir, "etcd"), "--auto-compaction-mode=periodic", "--auto-compaction-retention=5m"); err != nil {
		return err
	}
	if err := f.start(); err != nil {
		return err
	}
	if err := f.follow(); err != nil {
		return err
	}
	start := time.Now()
	if err := f.waitFor(func(ms map[string]map[uint64]time.Time) bool { return len(ms) >= f.n }); err != nil {
		return fmt.Errorf("the fleet did not form: %v", err)
	}
	var rss uint64
	for _, p := range f.procs {
		rss += fleetstat.RSS(p.Process.Pid)
	}
	log.Printf("%d replicas listed %s after the last started; RSS %.0f MiB per replica", f.n, time.Since(start).Round(time.Millisecond), float64(rss)/float64(f.n)/(1<<20))

	// 1. Changes through replica 1.
	before, err := fleetstat.Metrics(f.etcd.Endpoint())
	if err != nil {
		return err
	}
	cpu0, etcdCPU0 := f.cpu(), fleetstat.CPUTime(f.etcd.PID())
	var lat []time.Duration
	for k := 1; k <= f.k; k++ {
		t0 := time.Now()
		rev, err := f.write(k)
		if err != nil {
			return fmt.Errorf("change %d: %v", k, err)
		}
		lat = append(lat, f.converge(t0, rev)...)
		time.Sleep(100 * time.Millisecond) // changes as an operator makes them, not back to back
	}
	time.Sleep(time.Second)
	cpu, etcdCPU := f.cpu()-cpu0, fleetstat.CPUTime(f.etcd.PID())-etcdCPU0
	after, err := fleetstat.Metrics(f.etcd.Endpoint())
	if err != nil {
		return err
	}
	slices.Sort(lat)
	p50, p99, worst := fleetstat.Pct(lat, 0.5), fleetstat.Pct(lat, 0.99), lat[len(lat)-1]
	writes := after.Minus(before).Writes() / float64(f.k)
	perApply := cpu / time.Duration(f.k*f.n)
	log.Printf("convergence over %d changes × %d replicas: p50 %s p99 %s max %s; etcd writes per change %.1f (%s)",
		f.k, f.n, fleetstat.Ms(p50), fleetstat.Ms(p99), fleetstat.Ms(worst), writes, after.Minus(before).WriteDetail(f.k))
	log.Printf("CPU per change: %s per replica (the whole process, %d changes over %s), etcd %s",
		fleetstat.Ms(perApply), f.k, "the change phase", fleetstat.Ms(etcdCPU/time.Duration(f.k)))

	// 2. Idle.
	time.Sleep(2 * time.Second)
	i0, err := fleetstat.Metrics(f.etcd.Endpoint())
	if err != nil {
		return err
	}
	idleCPU0 := f.cpu()
	time.Sleep(idle)
	i1, err := fleetstat.Metrics(f.etcd.Endpoint())
	if err != nil {
		return err
	}
	d := i1.Minus(i0)
	idleRPS := d.Requests() / idle.Seconds() / float64(f.n)
	log.Printf("idle for %s: %.4f etcd requests a second per replica (%s), %.2f lease keep-alives a second per replica; replica CPU %.2f%% of a core each",
		idle, idleRPS, d.RequestDetail(), d["LeaseKeepAlive/msg"]/idle.Seconds()/float64(f.n), 100*float64(f.cpu()-idleCPU0)/float64(idle)/float64(f.n))

	// 3. etcd killed and started again.
	f.etcd.Stop()
	time.Sleep(outage)
	if err := f.etcd.StartAgain(); err != nil {
		return err
	}
	healthy := time.Now()
	var rev uint64
	for {
		if rev, err = f.write(f.k + 1); err == nil {
			break
		}
		if time.Since(healthy) > f.wait {
			return fmt.Errorf("no write accepted %s after etcd is healthy again: %v", f.wait, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	accepted := time.Since(healthy)
	resync := slices.Max(f.converge(healthy, rev))
	log.Printf("etcd down for %s, then healthy: the write accepted after %s, every replica applied it after %s", outage, fleetstat.Ms(accepted), fleetstat.Ms(resync))
	time.Sleep(time.Second) // the members' announcements of the write
	if c, err := fleetstat.Metrics(f.etcd.Endpoint()); err == nil {
		// etcd's counters start again at its restart.
		log.Printf("since etcd restarted: %.0f leases granted (%.2f per replica), %.0f writes", c["LeaseGrant/call"], c["LeaseGrant/call"]/float64(f.n), c.Writes())
	}

	fmt.Printf("replicas=%d changes=%d p50=%s p99=%s max=%s idle_etcd_rps=%.4f per_change_etcd_writes=%.1f cpu_per_apply=%s write_accepted=%s resync=%s errors=%d\n",
		f.n, f.k, fleetstat.Ms(p50), fleetstat.Ms(p99), fleetstat.Ms(worst), idleRPS, writes, fleetstat.Ms(perApply), fleetstat.Ms(accepted), fleetstat.Ms(resync), f.errors)
	return nil
}

// freePorts returns n distinct loopback ports that were free a moment
// ago (all held at once while choosing, so that none is chosen twice).
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// start writes the gateways' configuration and starts the replicas.
func (f *fleet) start() error {
	ports, err := freePorts(1 + 2*f.n)
	if err != nil {
		return err
	}
	port := ports[0]
	cfg := map[string]any{
		"version": 3, "port": port, "listen_ip": "127.0.0.1", "timeout": "3s",
		"extra_config": map[string]any{
			"router":        map[string]any{"disable_access_log": true},
			"security/cors": map[string]any{"allow_origins": []string{"https://a.example"}},
			"corsgate/admin": map[string]any{"store": map[string]any{
				"type": "etcd", "endpoints": []string{f.etcd.Endpoint()}, "prefix": prefix}},
		},
		"endpoints": []any{map[string]any{
			"endpoint": "/users/{id}", "method": "GET", "output_encoding": "no-op",
			"backend": []any{map[string]any{"host": []string{"http://127.0.0.1:18999"}, "url_pattern": "/users/{id}", "encoding": "no-op"}},
		}},
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	config := filepath.Join(f.dir, "gateway.json")
	if err := os.WriteFile(config, data, 0o600); err != nil {
		return err
	}
	for i := range f.n {
		id := fmt.Sprintf("r%d", i+1)
		gw, adm := ports[1+2*i], ports[2+2*i]
		state := filepath.Join(f.dir, id)
		if err := os.Mkdir(state, 0o700); err != nil {
			return err
		}
		logf, err := os.Create(filepath.Join(f.dir, id+".log"))
		if err != nil {
			return err
		}
		admin := fmt.Sprintf("127.0.0.1:%d", adm)
		cmd := exec.Command(f.bin, "run", "-c", config, "-p", strconv.Itoa(gw), "--admin-listen", admin,
			"--state-dir", state, "--replica-id", id, "--no-watch")
		cmd.Env = append(os.Environ(), "CORSGATE_ADMIN_USER="+user, "CORSGATE_ADMIN_PASSWORD="+password)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			return err
		}
		logf.Close()
		f.procs = append(f.procs, cmd)
		f.admins = append(f.admins, "http://"+admin)
	}
	return nil
}

// stop stops the replicas and etcd and removes the directory.
func (f *fleet) stop() {
	for _, p := range f.procs {
		_ = p.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range f.procs {
		done := make(chan struct{})
		go func() { _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = p.Process.Kill()
			<-done
		}
	}
	if f.watcher != nil {
		_ = f.watcher.Close()
	}
	if f.etcd != nil {
		f.etcd.Stop()
	}
	if f.dir != "" {
		_ = os.RemoveAll(f.dir)
	}
}

// cpu is the CPU time the replicas have used.
func (f *fleet) cpu() time.Duration {
	var d time.Duration
	for _, p := range f.procs {
		d += fleetstat.CPUTime(p.Process.Pid)
	}
	return d
}

// follow watches the members in the background, recording when each is
// first seen applying each revision.
func (f *fleet) follow() error {
	w, err := store.OpenEtcd(store.EtcdOptions{Endpoints: []string{f.etcd.Endpoint()}, Prefix: prefix})
	if err != nil {
		return err
	}
	f.watcher = w
	f.applied = map[string]map[uint64]time.Time{}
	f.changed = make(chan struct{})
	go func() {
		for {
			err := w.WatchMembers(context.Background(), func(ms []store.Member) bool {
				now := time.Now()
				f.mu.Lock()
				for _, m := range ms {
					if f.applied[m.ID] == nil {
						f.applied[m.ID] = map[uint64]time.Time{}
					}
					if _, seen := f.applied[m.ID][m.Applied]; !seen {
						f.applied[m.ID][m.Applied] = now
					}
				}
				close(f.changed)
				f.changed = make(chan struct{})
				f.mu.Unlock()
				return false
			})
			if errors.Is(err, context.Canceled) || strings.Contains(fmt.Sprint(err), "closed") {
				return
			}
			time.Sleep(50 * time.Millisecond) // etcd is down: follow again when it is back
		}
	}()
	return nil
}

// waitFor waits until ok holds of what follow recorded, at most f.wait.
func (f *fleet) waitFor(ok func(map[string]map[uint64]time.Time) bool) error {
	deadline := time.After(f.wait)
	for {
		f.mu.Lock()
		done, wake := ok(f.applied), f.changed
		f.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-wake:
		case <-deadline:
			f.mu.Lock()
			seen := len(f.applied)
			f.mu.Unlock()
			return fmt.Errorf("not within %s (%d members seen)", f.wait, seen)
		}
	}
}

// converge waits until every replica applies rev, and returns the time
// from t0 to each replica being seen applying it.
func (f *fleet) converge(t0 time.Time, rev uint64) []time.Duration {
	first := func(seen map[uint64]time.Time) (time.Time, bool) {
		var at time.Time
		for r, t := range seen {
			if r >= rev && (at.IsZero() || t.Before(at)) {
				at = t
			}
		}
		return at, !at.IsZero()
	}
	err := f.waitFor(func(ms map[string]map[uint64]time.Time) bool {
		n := 0
		for _, seen := range ms {
			if _, ok := first(seen); ok {
				n++
			}
		}
		return n >= f.n
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	var lat []time.Duration
	for id, seen := range f.applied {
		if at, ok := first(seen); ok {
			lat = append(lat, at.Sub(t0))
		} else if err != nil {
			log.Printf("%s: revision %d not applied: %v", id, rev, err)
			f.errors++
			lat = append(lat, f.wait)
		}
	}
	return lat
}

// write changes the origins through replica 1's Cloudant API, and
// returns the revision.
func (f *fleet) write(k int) (uint64, error) {
	list := make([]string, f.origins)
	for j := range list {
		list[j] = fmt.Sprintf("https://app-%d-%d.example.com", k, j)
	}
	data, err := json.Marshal(map[string]any{"origins": list})
	if err != nil {
		return 0, err
	}
	body := string(data)
	req, err := http.NewRequest("PUT", f.admins[0]+"/_api/v2/user/config/cors", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth(user, password)
	req.Header.Set("Content-Type", "application/json")
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(text)))
	}
	return strconv.ParseUint(strings.Trim(resp.Header.Get("ETag"), `"`), 10, 64)
}

// tail returns the last n bytes of b at most.
func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
