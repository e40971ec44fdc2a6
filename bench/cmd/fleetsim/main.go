// Command fleetsim simulates a fleet of corsgate replicas sharing one real
// etcd, to measure what the fleet costs and how fast it converges at sizes
// no machine could run as processes. Each replica is what `corsgate run`
// builds with an etcd store, with only the HTTP listeners left out: its
// own etcd client (store.OpenEtcd), its own run-time state manager
// (state.New, with a state directory of its own) following the store
// (Manager.Run), and its own CORS controller, to which it applies every
// change.
//
// It starts etcd (internal/etcdtest, with auto-compaction), starts the
// replicas, waits until every one is listed in the fleet, then:
//
//  1. changes the layer K times through replica 1, each time waiting until
//     every replica has applied the change: the convergence figures are
//     the time from the write's start to each replica's apply;
//  2. leaves the fleet idle and counts the requests etcd serves
//     (grpc_server_handled_total of unary calls, and the messages received
//     on watch streams; lease keep-alives apart), read from etcd's
//     /metrics;
//  3. kills etcd, waits, starts it again, and measures the time from etcd
//     being healthy to replica 1's write being accepted and to every
//     replica applying it (resync);
//  4. checks that every replica's CORS controller allows the last origin
//     written.
//
// The replicas' state directories are in /dev/shm (-state-dir): in a real
// fleet each replica writes its cache to its own disk, while here a
// thousand would contend for one file system's journal, which measures
// the machine rather than corsgate (state's BenchmarkCacheWrite has the
// cost of one write to a real disk).
//
// Its last line is the summary:
//
//	replicas=M changes=K p50=… p99=… max=… idle_etcd_rps=… per_change_etcd_writes=… cpu_per_apply=… write_accepted=… resync=… errors=0
//
// idle_etcd_rps is per replica; per_change_etcd_writes is etcd's write
// calls (Put, Txn, DeleteRange, LeaseGrant, LeaseRevoke) per change, for
// the whole fleet; cpu_per_apply is the process's CPU time during the
// changes over changes × replicas. make fleet-sim runs it (bench/fleetsim.sh).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"time"

	"github.com/corsgate/corsgate/bench/fleetstat"
	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/engine/route"
	"github.com/corsgate/corsgate/internal/etcdtest"
	"github.com/corsgate/corsgate/state"
	"github.com/corsgate/corsgate/store"
)

func main() {
	replicas := flag.Int("replicas", 100, "how many replicas")
	changes := flag.Int("changes", 20, "how many changes")
	origins := flag.Int("origins", 100, "how many origins the layer allows")
	idle := flag.Duration("idle", 20*time.Second, "how long the idle fleet is measured")
	outage := flag.Duration("outage", 3*time.Second, "how long etcd stays down")
	wait := flag.Duration("wait", 60*time.Second, "how long to wait for the fleet to converge, each time")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the changes to this file")
	stateDir := flag.String("state-dir", "/dev/shm", "where the replicas' state directories go (each writes its cache of the applied layer there)")
	flag.Parse()
	if *replicas < 1 || *changes < 1 || *origins < 1 {
		log.Fatal("fleetsim: -replicas, -changes and -origins must be at least 1")
	}
	log.SetFlags(0)
	log.SetPrefix("fleetsim: ")
	s := &sim{m: *replicas, k: *changes, origins: *origins, wait: *wait, cpuprofile: *cpuprofile, stateDir: *stateDir}
	if err := s.run(*idle, *outage); err != nil {
		log.Fatal(err)
	}
}

// sim is one run of the simulator.
type sim struct {
	m, k, origins int
	wait          time.Duration
	cpuprofile    string
	stateDir      string

	dir      string
	etcd     *etcdtest.Server
	replicas []*replica
	errors   int
	last     string // the last origin written
}

// replica is one simulated gateway.
type replica struct {
	id    string
	ctrl  *core.Controller
	m     *state.Manager
	store *store.Etcd
}

// routes are every replica's routes, those of config.example.json.
func routes() *route.Index {
	return route.New([]route.Route{
		{Method: "GET", Path: "/users", Index: 0},
		{Method: "GET", Path: "/users/{id}", Index: 1},
		{Method: "POST", Path: "/orders", Index: 2},
		{Method: "GET", Path: "/health", Index: 3},
	}, false)
}

// fileDoc is every replica's configuration file's CORS document.
func fileDoc() (*policy.Document, error) {
	svc, errs := policy.ParseBlock(map[string]any{
		"allow_origins": []any{"https://file.example.com"}, "allow_methods": []any{"GET", "POST"},
		"allow_headers": []any{"Content-Type", "Authorization"}, "max_age": "12h", "allow_credentials": true,
	}, policy.ServiceLevel, `extra_config["security/cors"]`)
	if errs != nil {
		return nil, errs
	}
	ep, errs := policy.ParseBlock(map[string]any{"allow_headers": []any{"X-Request-Id"}}, policy.EndpointLevel, "endpoints[1]")
	if errs != nil {
		return nil, errs
	}
	return &policy.Document{Service: svc, Endpoints: map[string]*policy.Block{"GET /users/{id}": ep}}, nil
}

func (s *sim) run(idle, outage time.Duration) (err error) {
	if s.dir, err = os.MkdirTemp("", "fleetsim-"); err != nil {
		return err
	}
	defer os.RemoveAll(s.dir)
	states, err := os.MkdirTemp(s.stateDir, "fleetsim-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(states)
	// Auto-compaction, as docs/runtime.md says to run etcd.
	if s.etcd, err = etcdtest.Launch(filepath.Join(s.dir, "etcd"), "--auto-compaction-mode=periodic", "--auto-compaction-retention=5m", "--quota-backend-bytes=8589934592"); err != nil {
		return err
	}
	defer s.etcd.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	var running sync.WaitGroup
	defer func() {
		cancel()
		running.Wait() // each replica's Run writes its cache before it returns
		for _, r := range s.replicas {
			_ = r.store.Close()
		}
	}()

	rssBefore, heapBefore := memory()
	start := time.Now()
	if err := s.start(ctx, &running, states); err != nil {
		return err
	}
	if err := s.waitFleet(ctx); err != nil {
		return err
	}
	rssAfter, heapAfter := memory()
	log.Printf("%d replicas started and listed in %s; memory per replica: RSS %.0f KiB, Go heap %.0f KiB",
		s.m, time.Since(start).Round(time.Millisecond), float64(rssAfter-rssBefore)/1024/float64(s.m), float64(heapAfter-heapBefore)/1024/float64(s.m))

	// 1. Changes.
	before, err := fleetstat.Metrics(s.etcd.Endpoint())
	if err != nil {
		return err
	}
	var lat []time.Duration
	simCPU0, etcdCPU0 := fleetstat.CPUTime(os.Getpid()), fleetstat.CPUTime(s.etcd.PID())
	if s.cpuprofile != "" {
		f, err := os.Create(s.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	for k := 1; k <= s.k; k++ {
		d, err := s.change(ctx, k)
		if err != nil {
			return err
		}
		lat = append(lat, d...)
	}
	if s.cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	simCPU, etcdCPU := fleetstat.CPUTime(os.Getpid())-simCPU0, fleetstat.CPUTime(s.etcd.PID())-etcdCPU0
	// Let the members' announcements of the last change land.
	time.Sleep(time.Second)
	after, err := fleetstat.Metrics(s.etcd.Endpoint())
	if err != nil {
		return err
	}
	writes := float64(after.Writes()-before.Writes()) / float64(s.k)
	slices.Sort(lat)
	p50, p99, worst := fleetstat.Pct(lat, 0.50), fleetstat.Pct(lat, 0.99), lat[len(lat)-1]
	log.Printf("convergence over %d changes × %d replicas: p50 %s p99 %s max %s; etcd writes per change %.1f (%s)",
		s.k, s.m, fleetstat.Ms(p50), fleetstat.Ms(p99), fleetstat.Ms(worst), writes, after.Minus(before).WriteDetail(s.k))
	log.Printf("CPU per change: the replicas %s (%.0f µs per replica), etcd %s",
		fleetstat.Ms(simCPU/time.Duration(s.k)), float64(simCPU.Microseconds())/float64(s.k*s.m), fleetstat.Ms(etcdCPU/time.Duration(s.k)))

	// 2. Idle.
	time.Sleep(2 * time.Second)
	i0, err := fleetstat.Metrics(s.etcd.Endpoint())
	if err != nil {
		return err
	}
	time.Sleep(idle)
	i1, err := fleetstat.Metrics(s.etcd.Endpoint())
	if err != nil {
		return err
	}
	d := i1.Minus(i0)
	idleRPS := float64(d.Requests()) / idle.Seconds() / float64(s.m)
	log.Printf("idle for %s: %.4f etcd requests a second per replica (%s), and %.2f lease keep-alives a second per replica",
		idle, idleRPS, d.RequestDetail(), float64(d["LeaseKeepAlive/msg"])/idle.Seconds()/float64(s.m))

	// 3. etcd's restart.
	resync, accepted, err := s.restart(ctx, outage)
	if err != nil {
		return err
	}
	log.Printf("etcd down for %s, then healthy: the write accepted after %s, every replica applied it after %s", outage, fleetstat.Ms(accepted), fleetstat.Ms(resync))
	time.Sleep(time.Second) // the members' announcements of the write
	if c, err := fleetstat.Metrics(s.etcd.Endpoint()); err == nil {
		// etcd's counters start again at its restart.
		log.Printf("since etcd restarted: %.0f leases granted (%.2f per replica), %.0f writes", c["LeaseGrant/call"], c["LeaseGrant/call"]/float64(s.m), c.Writes())
	}

	// 4. Every replica's CORS allows the last origin.
	s.verify()
	fmt.Printf("replicas=%d changes=%d p50=%s p99=%s max=%s idle_etcd_rps=%.4f per_change_etcd_writes=%.1f cpu_per_apply=%s write_accepted=%s resync=%s errors=%d\n",
		s.m, s.k, fleetstat.Ms(p50), fleetstat.Ms(p99), fleetstat.Ms(worst), idleRPS, writes, fleetstat.Ms(simCPU/time.Duration(s.k*s.m)), fleetstat.Ms(accepted), fleetstat.Ms(resync), s.errors)
	return nil
}

// start starts the replicas, each following the store until ctx is done.
func (s *sim) start(ctx context.Context, running *sync.WaitGroup, states string) error {
	doc, err := fileDoc()
	if err != nil {
		return err
	}
	for i := range s.m {
		id := fmt.Sprintf("r%d", i+1)
		st, err := store.OpenEtcd(store.EtcdOptions{Endpoints: []string{s.etcd.Endpoint()}, Prefix: "/corsgate/sim/"})
		if err != nil {
			return err
		}
		ctrl, err := core.NewController(routes(), doc)
		if err != nil {
			return err
		}
		dir := filepath.Join(states, id)
		if err := os.Mkdir(dir, 0o700); err != nil {
			return err
		}
		m := state.New(state.Options{Controller: ctrl, File: doc, Store: st, StateDir: dir, Replica: id, Admin: "sim",
			StoreInfo: state.StoreInfo{Type: "etcd", Endpoints: []string{s.etcd.Endpoint()}, Prefix: "/corsgate/sim/", Name: "etcd " + s.etcd.Endpoint() + " /corsgate/sim/"}})
		r := &replica{id: id, ctrl: ctrl, m: m, store: st}
		s.replicas = append(s.replicas, r)
		running.Add(1)
		go func() { defer running.Done(); m.Run(ctx) }()
	}
	return nil
}

// waitFleet waits until every replica is listed in the fleet.
func (s *sim) waitFleet(ctx context.Context) error {
	deadline := time.Now().Add(s.wait)
	for {
		ms, err := s.replicas[0].m.Members(ctx)
		if err == nil && len(ms) == s.m {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s, %d of %d replicas are listed in the fleet (%v)", s.wait, len(ms), s.m, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// change writes the k-th change through replica 1 and returns the time
// from the write's start to each replica's apply.
func (s *sim) change(ctx context.Context, k int) ([]time.Duration, error) {
	start := time.Now()
	var rev uint64
	var err error
	for attempt := 1; ; attempt++ {
		if rev, err = s.write(ctx, k); err == nil {
			break
		}
		// An error counts; the change is tried again, as an operator
		// would, timed from the first attempt.
		s.errors++
		log.Printf("change %d, attempt %d: %v", k, attempt, err)
		if attempt == 5 {
			return nil, fmt.Errorf("change %d: %v", k, err)
		}
		time.Sleep(time.Second)
	}
	return s.converge(start, rev), nil
}

// write writes the k-th change through replica 1: the layer allows
// s.origins origins, the k-th set of them.
func (s *sim) write(ctx context.Context, k int) (uint64, error) {
	list := make([]string, s.origins)
	for j := range list {
		list[j] = fmt.Sprintf("https://app-%d-%d.example.com", k, j)
	}
	data, err := json.Marshal(list)
	if err != nil {
		return 0, err
	}
	res, err := s.replicas[0].m.Write(ctx, state.Change{User: "fleetsim", Source: state.SourceAPI, Mutate: func(_ *policy.Document, l *policy.Layer) error {
		if l.Service == nil {
			l.Service = map[string]json.RawMessage{}
		}
		l.Service["allow_origins"] = data
		return nil
	}})
	if err != nil {
		return 0, err
	}
	s.last = list[len(list)-1]
	return res.Revision, nil
}

// converge waits until every replica applies revision rev (at most
// s.wait), and returns the time from start to each replica's apply.
func (s *sim) converge(start time.Time, rev uint64) []time.Duration {
	lat := make([]time.Duration, len(s.replicas))
	left := len(s.replicas)
	deadline := start.Add(s.wait)
	for left > 0 {
		for i, r := range s.replicas {
			if lat[i] == 0 && r.m.Revision() >= rev {
				lat[i] = time.Since(start)
				left--
			}
		}
		if left > 0 && time.Now().After(deadline) {
			for i, r := range s.replicas {
				if lat[i] == 0 {
					log.Printf("%s: revision %d not applied after %s (it applies %d)", r.id, rev, s.wait, r.m.Revision())
					lat[i] = s.wait
					s.errors++
				}
			}
			break
		}
		time.Sleep(time.Millisecond)
	}
	return lat
}

// restart kills etcd, waits for outage, starts it again, then writes
// through replica 1 as soon as it takes a write; it returns the time from
// etcd being healthy to every replica applying the write, and to the
// write being accepted.
func (s *sim) restart(ctx context.Context, outage time.Duration) (resync, accepted time.Duration, err error) {
	s.etcd.Stop()
	time.Sleep(outage)
	if err := s.etcd.StartAgain(); err != nil {
		return 0, 0, err
	}
	healthy := time.Now()
	go func() {
		// When each replica sees etcd again (for the log).
		var seen []time.Duration
		for _, r := range s.replicas {
			for r.m.Status().Store.UnreachableSince != nil && time.Since(healthy) < s.wait {
				time.Sleep(5 * time.Millisecond)
			}
			seen = append(seen, time.Since(healthy))
		}
		log.Printf("every replica saw etcd again %s after it was healthy (replica 1: %s)", fleetstat.Ms(slices.Max(seen)), fleetstat.Ms(seen[0]))
	}()
	var rev uint64
	for {
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		rev, err = s.write(wctx, s.k+1)
		cancel()
		if err == nil {
			break
		}
		if time.Since(healthy) > s.wait {
			return 0, 0, fmt.Errorf("no write accepted %s after etcd is healthy again: %v", s.wait, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	accepted = time.Since(healthy)
	lat := s.converge(healthy, rev)
	return slices.Max(lat), accepted, nil
}

// verify checks that every replica's CORS controller allows the last
// origin written.
func (s *sim) verify() {
	for _, r := range s.replicas {
		h := r.ctrl.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		req := httptest.NewRequest("GET", "/users", nil)
		req.Header.Set("Origin", s.last)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if got := w.Header().Get("Access-Control-Allow-Origin"); got != s.last {
			log.Printf("%s: Access-Control-Allow-Origin %q for %s, want it allowed", r.id, got, s.last)
			s.errors++
		}
	}
}

// memory returns the process's resident set and Go heap, after a GC.
func memory() (rss, heap uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return fleetstat.RSS(os.Getpid()), ms.HeapInuse
}
