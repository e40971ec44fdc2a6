package store_test

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corsgate/corsgate/internal/etcdtest"
	"github.com/corsgate/corsgate/store"
)

// etcdCalls reads how many unary calls of method etcd has handled, from
// its /metrics.
func etcdCalls(t *testing.T, srv *etcdtest.Server, method string) float64 {
	t.Helper()
	resp, err := http.Get(srv.Endpoint() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var n float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "grpc_server_handled_total{") && strings.Contains(line, `grpc_method="`+method+`"`) {
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			n += v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// An idle watch asks etcd nothing: no read of the current record every
// PollInterval, as the watch before issue 19 did; and when it checks, it
// reads revisions only.
func TestEtcdIdleWatchAsksNothing(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	prefix := newPrefix()
	opts := fastOptions(srv.Endpoint(), prefix) // PollInterval 100ms
	s := openShared(t, opts)
	commitOK(t, s, 0, 1)
	r := newRecorder()
	watch(t, s, 1, r)
	if err := nextHealth(t, r, within); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the watch is set up
	before := etcdCalls(t, srv, "Range")
	time.Sleep(time.Second) // ten PollIntervals
	if n := etcdCalls(t, srv, "Range") - before; n > 0 {
		t.Errorf("an idle watch made %.0f reads in a second with PollInterval 100ms; want none", n)
	}

	// With a short CheckInterval, it checks (reading revisions only), and
	// changes still arrive.
	opts.CheckInterval = 100 * time.Millisecond
	c := openShared(t, opts)
	r2 := newRecorder()
	watch(t, c, 1, r2)
	if err := nextHealth(t, r2, within); err != nil {
		t.Fatal(err)
	}
	before = etcdCalls(t, srv, "Range")
	time.Sleep(time.Second)
	n := etcdCalls(t, srv, "Range") - before
	if n < 4 || n > 20 {
		t.Errorf("a watch with CheckInterval 100ms made %.0f reads in a second; want about 10", n)
	}
	rec := commitOK(t, s, 1, 2)
	wantRecord(t, "a change while checking", nextChange(t, r2), rec)
}

// When etcd comes back, the watch says so from the connection, not at its
// next timer: with a PollInterval of a minute, it still hears at once.
func TestEtcdRecoveryNeedsNoTimer(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	opts := fastOptions(srv.Endpoint(), newPrefix())
	opts.PollInterval = time.Minute
	s := openShared(t, opts)
	r := newRecorder()
	watch(t, s, 0, r)
	if err := nextHealth(t, r, within); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if err := nextHealth(t, r, within); err == nil {
		t.Fatal("onHealth(nil) after etcd stopped")
	}
	srv.Restart(t)
	healthy := time.Now()
	if err := nextHealth(t, r, 20*time.Second); err != nil {
		t.Fatalf("onHealth after etcd restarted: %v", err)
	}
	if took := time.Since(healthy); took > 10*time.Second {
		t.Errorf("the watch heard etcd again %s after it was healthy: it waited for its PollInterval (1m) or a timer", took)
	}
}

// Each Announce is one Put, even when the renewal's tick comes at the
// same time (PollInterval 1ms here): the announcer never publishes twice
// what it published once.
func TestEtcdAnnounceOnePutEach(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	opts := fastOptions(srv.Endpoint(), newPrefix())
	opts.PollInterval = time.Millisecond
	s := openShared(t, opts)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := s.Announce(ctx, store.Member{ID: "r1", Applied: 1}); err != nil {
		t.Fatal(err)
	}
	before := etcdCalls(t, srv, "Put")
	const n = 50
	for i := range n {
		if err := s.Announce(ctx, store.Member{ID: "r1", Applied: uint64(i + 2)}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond) // a hundred ticks
	if puts := etcdCalls(t, srv, "Put") - before; puts != n {
		t.Errorf("%d announcements made %.0f Puts; want one each", n, puts)
	}
	if grants := etcdCalls(t, srv, "LeaseGrant"); grants != 1 {
		t.Errorf("%.0f leases granted; want 1", grants)
	}
}

// WatchMembers gives the members at once, then each change, from one read
// and a watch: a gateway that announces itself appears, one that stops
// disappears, and a record without a lease is never listed.
func TestEtcdWatchMembers(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	prefix := newPrefix()
	s := openShared(t, fastOptions(srv.Endpoint(), prefix))
	other := openShared(t, fastOptions(srv.Endpoint(), prefix))
	raw := rawClient(t, srv.Endpoint())
	rawPut(t, raw, prefix+"members/ghost", `{"id": "ghost", "applied": 1}`)
	actx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	if err := s.Announce(context.Background(), store.Member{ID: "r1", Applied: 1}); err != nil {
		t.Fatal(err)
	}

	lists := make(chan []string, 100)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- s.WatchMembers(ctx, func(ms []store.Member) bool {
			var ids []string
			for _, m := range ms {
				ids = append(ids, m.ID)
			}
			lists <- ids
			return len(ids) == 1 && ids[0] == "r1" && ms[0].Applied == 3
		})
	}()
	want := func(what string, ids ...string) {
		t.Helper()
		select {
		case got := <-lists:
			if strings.Join(got, ",") != strings.Join(ids, ",") {
				t.Fatalf("%s: members %v, want %v", what, got, ids)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no list after 5s", what)
		}
	}
	want("at once", "r1")
	before := etcdCalls(t, srv, "Range")
	if err := other.Announce(actx, store.Member{ID: "r2", Applied: 1}); err != nil {
		t.Fatal(err)
	}
	want("r2 announced", "r1", "r2")
	stop() // r2's announcement ends: its lease is revoked
	want("r2 stopped", "r1")
	if err := s.Announce(context.Background(), store.Member{ID: "r1", Applied: 3}); err != nil {
		t.Fatal(err)
	}
	want("r1 applied 3", "r1")
	if err := <-done; err != nil {
		t.Fatalf("WatchMembers: %v", err)
	}
	if n := etcdCalls(t, srv, "Range") - before; n > 1 {
		t.Errorf("WatchMembers read etcd %.0f times while following three changes; want none (one watch)", n)
	}
}

// CompactionWarning says that nothing compacts etcd once it has made
// enough revisions with the first still readable, and stops saying it
// once something compacted it.
func TestEtcdCompactionWarning(t *testing.T) {
	srv := etcdtest.Start(t)
	restore := store.SetUncompactedRevisions(20)
	defer restore()
	prefix := newPrefix()
	s := openShared(t, fastOptions(srv.Endpoint(), prefix))
	ctx := context.Background()
	if w, err := s.CompactionWarning(ctx); err != nil || w != "" {
		t.Fatalf("a young etcd: %q, %v; want nothing (it cannot tell yet)", w, err)
	}
	raw := rawClient(t, srv.Endpoint())
	var last int64
	for i := range 30 {
		last = rawPut(t, raw, prefix+"other", strconv.Itoa(i))
	}
	w, err := s.CompactionWarning(ctx)
	if err != nil || !strings.Contains(w, "nothing compacts its history") || !strings.Contains(w, "--auto-compaction-retention") {
		t.Fatalf("an etcd of %d uncompacted revisions: %q, %v; want the warning with the flag that fixes it", last, w, err)
	}
	if _, err := raw.Compact(ctx, last); err != nil {
		t.Fatal(err)
	}
	if w, err := s.CompactionWarning(ctx); err != nil || w != "" {
		t.Errorf("after a compaction: %q, %v; want nothing", w, err)
	}
	srv.Stop()
	if _, err := s.CompactionWarning(ctx); err == nil {
		t.Error("no error while etcd is down")
	}
}
