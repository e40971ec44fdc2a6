package store_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/corsgate/corsgate/internal/etcdtest"
	"github.com/corsgate/corsgate/store"
	"github.com/corsgate/corsgate/store/storetest"
)

// within is how long a test waits for something that should happen at
// once: generous, so that a slow machine does not fail the tests.
const within = 5 * time.Second

var prefixes atomic.Int64

// newPrefix returns a key prefix that no other store of the test run
// uses.
func newPrefix() string {
	return fmt.Sprintf("/corsgate/test-%d/", prefixes.Add(1))
}

// fastOptions are options with short timeouts, to keep the tests fast.
func fastOptions(endpoint, prefix string) store.EtcdOptions {
	return store.EtcdOptions{
		Endpoints:      []string{endpoint},
		Prefix:         prefix,
		RequestTimeout: time.Second,
		PollInterval:   100 * time.Millisecond,
	}
}

func openShared(t *testing.T, opts store.EtcdOptions) *store.Etcd {
	t.Helper()
	s, err := store.OpenEtcd(opts)
	if err != nil {
		t.Fatalf("OpenEtcd: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// rawClient is a plain etcd client, to write what corsgate would not.
func rawClient(t *testing.T, endpoint string) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func rawPut(t *testing.T, c *clientv3.Client, key, value string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	resp, err := c.Put(ctx, key, value)
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	return resp.Header.Revision
}

func commitOK(t *testing.T, s store.Store, ifRevision uint64, n int) store.Record {
	t.Helper()
	rec, err := s.Commit(context.Background(), ifRevision, store.Record{User: fmt.Sprint("user", n), Source: "api", Layer: layer(n)})
	if err != nil {
		t.Fatalf("Commit(%d): %v", ifRevision, err)
	}
	return rec
}

func TestEtcdContract(t *testing.T) {
	t.Parallel() // its own etcd, on its own ports
	srv := etcdtest.Start(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		opts := fastOptions(srv.Endpoint(), newPrefix())
		// A hundred concurrent writers under the race detector can be
		// slow: the contract is not about timeouts.
		opts.RequestTimeout = 10 * time.Second
		return openShared(t, opts)
	})
}

// change is one call of onChange.
type change struct {
	rec store.Record
	err error
}

// recorder records a Watch's calls, and whether two of them ever ran at
// once.
type recorder struct {
	changes chan change
	health  chan error
	busy    atomic.Bool
	overlap atomic.Bool
	hold    chan struct{} // when not nil, the first onChange waits for it to close
	held    chan struct{} // closed when the first onChange started waiting
	first   atomic.Bool
}

func newRecorder() *recorder {
	return &recorder{changes: make(chan change, 1000), health: make(chan error, 1000)}
}

func (r *recorder) enter() {
	if !r.busy.CompareAndSwap(false, true) {
		r.overlap.Store(true)
	}
}

func (r *recorder) leave() { r.busy.Store(false) }

func (r *recorder) onChange(rec store.Record, err error) {
	r.enter()
	defer r.leave()
	r.changes <- change{rec, err}
	if r.hold != nil && r.first.CompareAndSwap(false, true) {
		close(r.held)
		<-r.hold
	}
}

func (r *recorder) onHealth(err error) {
	r.enter()
	defer r.leave()
	r.health <- err
}

// watch runs s.Watch until the test ends, then checks that it returned
// the context's error.
func watch(t *testing.T, s *store.Etcd, after uint64, r *recorder) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Watch(ctx, after, r.onChange, r.onHealth) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Watch returned %v after its context was cancelled, want context.Canceled", err)
			}
		case <-time.After(within):
			t.Errorf("Watch did not return within %s of its context's cancellation", within)
		}
		if r.overlap.Load() {
			t.Error("onChange and onHealth were called at once")
		}
	})
}

func nextChange(t *testing.T, r *recorder) change {
	t.Helper()
	select {
	case c := <-r.changes:
		return c
	case <-time.After(within):
		t.Fatalf("no change given within %s", within)
		return change{}
	}
}

func nextHealth(t *testing.T, r *recorder, timeout time.Duration) error {
	t.Helper()
	select {
	case err := <-r.health:
		return err
	case <-time.After(timeout):
		t.Fatalf("onHealth not called within %s", timeout)
		return nil
	}
}

// noChange checks that nothing is given for a while.
func noChange(t *testing.T, r *recorder, wait time.Duration) {
	t.Helper()
	select {
	case c := <-r.changes:
		t.Errorf("unexpected change: revision %d, error %v", c.rec.Revision, c.err)
	case <-time.After(wait):
	}
}

func wantRecord(t *testing.T, what string, c change, want store.Record) {
	t.Helper()
	if c.err != nil {
		t.Fatalf("%s: error %v, want revision %d", what, c.err, want.Revision)
	}
	if !same(c.rec, want) {
		t.Fatalf("%s: revision %d (user %q, layer %s), want revision %d (user %q, layer %s)", what, c.rec.Revision, c.rec.User, c.rec.Layer, want.Revision, want.User, want.Layer)
	}
}

func TestEtcdWatchSeesOtherClients(t *testing.T) {
	t.Parallel() // its own etcd, on its own ports
	srv := etcdtest.Start(t)
	prefix := newPrefix()
	watcher := openShared(t, fastOptions(srv.Endpoint(), prefix))
	writer := openShared(t, fastOptions(srv.Endpoint(), prefix))
	first := commitOK(t, writer, 0, 1)

	r := newRecorder()
	watch(t, watcher, 0, r)
	if err := nextHealth(t, r, within); err != nil {
		t.Fatalf("first onHealth: %v, want nil (etcd is up)", err)
	}
	wantRecord(t, "the first change", nextChange(t, r), first)

	// One commit at a time: each is given.
	for i := 2; i <= 4; i++ {
		rec := commitOK(t, writer, uint64(i-1), i)
		wantRecord(t, fmt.Sprint("after commit ", i), nextChange(t, r), rec)
	}
	// A burst: given in order, up to the last.
	var last store.Record
	for i := 5; i <= 9; i++ {
		last = commitOK(t, writer, uint64(i-1), i)
	}
	var prev uint64 = 4
	for prev < last.Revision {
		c := nextChange(t, r)
		if c.err != nil || c.rec.Revision <= prev {
			t.Fatalf("after revision %d: revision %d (error %v), want a later one", prev, c.rec.Revision, c.err)
		}
		prev = c.rec.Revision
		if prev == last.Revision {
			wantRecord(t, "the burst's last change", c, last)
		}
	}
	noChange(t, r, 300*time.Millisecond) // three polls find nothing new
	select {
	case err := <-r.health:
		t.Errorf("onHealth(%v) while etcd stayed up", err)
	default:
	}
}

func TestEtcdWatchAfterIsSkipped(t *testing.T) {
	t.Parallel() // its own etcd, on its own ports
	srv := etcdtest.Start(t)
	s := openShared(t, fastOptions(srv.Endpoint(), newPrefix()))
	commitOK(t, s, 0, 1)
	second := commitOK(t, s, 1, 2)

	r := newRecorder()
	watch(t, s, 2, r) // already applied
	if err := nextHealth(t, r, within); err != nil {
		t.Fatalf("first onHealth: %v", err)
	}
	noChange(t, r, 300*time.Millisecond)

	// After another revision, the current one is given even though it
	// is lower (a store restored from a backup).
	r2 := newRecorder()
	watch(t, s, 7, r2)
	wantRecord(t, "Watch after revision 7 of a store at revision 2", nextChange(t, r2), second)
}

func TestEtcdWatchUndecodable(t *testing.T) {
	t.Parallel() // its own etcd, on its own ports
	srv := etcdtest.Start(t)
	prefix := newPrefix()
	s := openShared(t, fastOptions(srv.Endpoint(), prefix))
	raw := rawClient(t, srv.Endpoint())
	first := commitOK(t, s, 0, 1)

	r := newRecorder()
	watch(t, s, 1, r)
	if err := nextHealth(t, r, within); err != nil {
		t.Fatalf("first onHealth: %v", err)
	}
	rawPut(t, raw, prefix+"current", "allow everything")
	c := nextChange(t, r)
	if c.err == nil || !strings.Contains(c.err.Error(), prefix+"current") || !strings.Contains(c.err.Error(), "not a corsgate record") {
		t.Fatalf("after an undecodable value: revision %d, error %v; want an error naming the key", c.rec.Revision, c.err)
	}
	if c.rec.Revision != 0 || c.rec.Layer != nil {
		t.Errorf("with the error, a record of revision %d and layer %s, want the zero record", c.rec.Revision, c.rec.Layer)
	}
	noChange(t, r, 300*time.Millisecond) // the polls do not give it again

	// A commit against anything but the newest revision of the history
	// conflicts; against it, it replaces the bad value.
	if _, err := s.Commit(context.Background(), 0, store.Record{Source: "api", Layer: layer(9)}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Commit(0) over an undecodable value with revision 1 in the history: %v, want ErrConflict", err)
	}
	second := commitOK(t, s, first.Revision, 2)
	if second.Revision != 2 {
		t.Errorf("the commit over an undecodable value stored revision %d, want 2", second.Revision)
	}
	wantRecord(t, "after a good commit", nextChange(t, r), second)
	if got := revisions(mustHistory(t, s)); !reflect.DeepEqual(got, []uint64{2, 1}) {
		t.Errorf("History: %v, want [2 1]", got)
	}
}

func TestEtcdDeletedCurrent(t *testing.T) {
	t.Parallel() // its own etcd, on its own ports
	srv := etcdtest.Start(t)
	prefix := newPrefix()
	s := openShared(t, fastOptions(srv.Endpoint(), prefix))
	raw := rawClient(t, srv.Endpoint())
	for i := 1; i <= 3; i++ {
		commitOK(t, s, uint64(i-1), i)
	}
	r := newRecorder()
	watch(t, s, 3, r)
	if err := nextHealth(t, r, within); err != nil {
		t.Fatalf("first onHealth: %v", err)
	}
	if _, err := raw.Delete(context.Background(), prefix+"current"); err != nil {
		t.Fatal(err)
	}
	c := nextChange(t, r)
	if c.err != nil || c.rec.Revision != 0 || c.rec.Layer != nil {
		t.Fatalf("after the current key was deleted: revision %d, layer %s, error %v; want the zero record", c.rec.Revision, c.rec.Layer, c.err)
	}
	// Starting over: revision 1 again, without the old history.
	if _, err := s.Commit(context.Background(), 3, store.Record{Source: "api", Layer: layer(9)}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Commit(3) after the current key was deleted: %v, want ErrConflict", err)
	}
	rec := commitOK(t, s, 0, 10)
	if rec.Revision != 1 {
		t.Fatalf("first commit after the current key was deleted: revision %d, want 1", rec.Revision)
	}
	wantRecord(t, "after starting over", nextChange(t, r), rec)
	if got := revisions(mustHistory(t, s)); !reflect.DeepEqual(got, []uint64{1}) {
		t.Errorf("History after starting over: %v, want [1] (the old history dropped)", got)
	}
}

func TestEtcdWatchStaleAfterCompaction(t *testing.T) {
	t.Parallel() // its own etcd, on its own ports
	srv := etcdtest.Start(t)
	s := openShared(t, fastOptions(srv.Endpoint(), newPrefix()))
	raw := rawClient(t, srv.Endpoint())
	var last store.Record
	for i := 1; i <= 5; i++ {
		last = commitOK(t, s, uint64(i-1), i)
	}
	compact(t, raw)
	r := newRecorder()
	watch(t, s, 1, r)
	wantRecord(t, "Watch from revision 1 after a compaction", nextChange(t, r), last)
	noChange(t, r, 300*time.Millisecond)
}

// compact compacts etcd's history up to its current revision.
func compact(t *testing.T, raw *clientv3.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	resp, err := raw.Get(ctx, "any")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Compact(ctx, resp.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		t.Fatalf("compact: %v", err)
	}
}

func TestEtcdWatchCompactedWhileBusy(t *testing.T) {
	t.Parallel() // its own etcd, on its own ports
	srv := etcdtest.Start(t)
	prefix := newPrefix()
	s := openShared(t, fastOptions(srv.Endpoint(), prefix))
	writer := openShared(t, fastOptions(srv.Endpoint(), prefix))
	raw := rawClient(t, srv.Endpoint())
	first := commitOK(t, writer, 0, 1)

	// The first onChange does not return until the others' commits are
	// made and compacted away: the watch must resume from revisions that
	// are gone.
	r := newRecorder()
	r.hold, r.held = make(chan struct{}), make(chan struct{})
	watch(t, s, 0, r)
	select {
	case <-r.held:
	case <-time.After(within):
		t.Fatal("the first change was not given")
	}
	wantRecord(t, "the first change", nextChange(t, r), first)
	var last store.Record
	for i := 2; i <= 4; i++ {
		last = commitOK(t, writer, uint64(i-1), i)
	}
	compact(t, raw)
	close(r.hold)
	for {
		c := nextChange(t, r)
		if c.err != nil {
			t.Fatalf("after the compaction: %v", c.err)
		}
		if c.rec.Revision == last.Revision {
			wantRecord(t, "after the compaction", c, last)
			break
		}
	}
	// And it goes on following the commits.
	next := commitOK(t, writer, last.Revision, 5)
	wantRecord(t, "after the compaction, the next commit", nextChange(t, r), next)
}

func TestEtcdRestart(t *testing.T) {
	t.Parallel() // its own etcd, on its own ports
	srv := etcdtest.Start(t)
	prefix := newPrefix()
	s := openShared(t, fastOptions(srv.Endpoint(), prefix))
	writer := openShared(t, fastOptions(srv.Endpoint(), prefix))
	first := commitOK(t, writer, 0, 1)

	r := newRecorder()
	watch(t, s, 1, r)
	if err := nextHealth(t, r, within); err != nil {
		t.Fatalf("first onHealth: %v", err)
	}

	srv.Stop()
	err := nextHealth(t, r, within)
	if err == nil || !strings.Contains(err.Error(), srv.Endpoint()) {
		t.Fatalf("onHealth after etcd stopped: %v, want an error naming %s", err, srv.Endpoint())
	}
	start := time.Now()
	_, err = writer.Commit(context.Background(), 1, store.Record{Source: "api", Layer: layer(2)})
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), srv.Endpoint()) || !strings.Contains(err.Error(), "did not answer within 1s") {
		t.Errorf("Commit while etcd is down: %v, want an error saying that %s did not answer within 1s", err, srv.Endpoint())
	}
	if took > 2*time.Second {
		t.Errorf("Commit while etcd is down took %s, want at most the request timeout (1s) and a little", took)
	}

	srv.Restart(t)
	if err := nextHealth(t, r, 3*within); err != nil {
		t.Fatalf("onHealth after etcd restarted: %v, want nil", err)
	}
	// The writer's connection may take a moment to come back.
	var second store.Record
	deadline := time.Now().Add(3 * within)
	for {
		second, err = writer.Commit(context.Background(), first.Revision, store.Record{User: "user2", Source: "api", Layer: layer(2)})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("Commit after etcd restarted: %v", err)
	}
	wantRecord(t, "after the restart", nextChange(t, r), second)
	select {
	case err := <-r.health:
		t.Errorf("onHealth(%v) after etcd was back: each change of reachability is told once", err)
	default:
	}
}

func TestEtcdMembers(t *testing.T) {
	srv := etcdtest.Start(t)
	prefix := newPrefix()
	a := openShared(t, fastOptions(srv.Endpoint(), prefix))
	optsB := fastOptions(srv.Endpoint(), prefix)
	optsB.LeaseTTL = time.Minute // so that B can only disappear by its revocation
	b := openShared(t, optsB)
	ctx := context.Background()

	ctxA, cancelA := context.WithCancel(ctx)
	defer cancelA()
	ctxB, cancelB := context.WithCancel(ctx)
	defer cancelB()
	started := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	before := time.Now()
	if err := a.Announce(ctxA, store.Member{ID: "A", Admin: "127.0.0.1:9001", Applied: 3, Started: started}); err != nil {
		t.Fatalf("Announce(A): %v", err)
	}
	if err := b.Announce(ctxB, store.Member{ID: "B", Admin: "127.0.0.1:9002", Applied: 3, Started: started}); err != nil {
		t.Fatalf("Announce(B): %v", err)
	}
	ms := members(t, a)
	if got := memberIDs(ms); !reflect.DeepEqual(got, []string{"A:3", "B:3"}) {
		t.Fatalf("Members: %v, want [A:3 B:3]", got)
	}
	for _, m := range ms {
		if !m.Started.Equal(started) || m.Updated.Before(before.Add(-time.Second)) || m.Admin == "" {
			t.Errorf("member %s: started %s, updated %s, admin %q; want started %s, updated now, the admin address", m.ID, m.Started, m.Updated, m.Admin, started)
		}
	}

	if err := a.Announce(ctxA, store.Member{ID: "A", Admin: "127.0.0.1:9001", Applied: 4, Error: "refused revision 5", Started: started}); err != nil {
		t.Fatalf("Announce(A) again: %v", err)
	}
	ms = members(t, b)
	if got := memberIDs(ms); !reflect.DeepEqual(got, []string{"A:4", "B:3"}) || ms[0].Error != "refused revision 5" {
		t.Fatalf("Members after A's update: %v (A's error %q), want [A:4 B:3] and A's error", got, ms[0].Error)
	}
	if err := a.Announce(ctxA, store.Member{ID: "C"}); err == nil {
		t.Error("Announce with another ID while A's announcement runs: no error")
	}
	if err := a.Announce(ctxA, store.Member{}); err == nil || !strings.Contains(err.Error(), "ID") {
		t.Errorf("Announce without an ID: %v, want an error about the ID", err)
	}

	// B's context ends: its lease is revoked, and it is gone at once (its
	// TTL is a minute).
	cancelB()
	waitMembers(t, a, []string{"A:4"})

	// An undecodable member, under a lease like a live one, is listed,
	// not skipped.
	raw := rawClient(t, srv.Endpoint())
	lease, err := raw.Grant(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Put(ctx, prefix+"members/Z", "{broken", clientv3.WithLease(lease.ID)); err != nil {
		t.Fatal(err)
	}
	ms = members(t, a)
	if got := memberIDs(ms); !reflect.DeepEqual(got, []string{"A:4", "Z:0"}) || !strings.HasPrefix(ms[1].Error, "undecodable") {
		t.Fatalf("Members with an undecodable member: %v (Z's error %q), want [A:4 Z:0] and an error", got, ms[1].Error)
	}
	if _, err := raw.Delete(ctx, prefix+"members/Z"); err != nil {
		t.Fatal(err)
	}

	// Closing the store withdraws its member, and leaves no goroutine of
	// the announcement behind.
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitMembers(t, b, nil)
	noStoreGoroutines(t)
}

// noStoreGoroutines checks that no goroutine of a Watch or an Announce
// runs (soon). Only tests that do not run in parallel may call it.
func noStoreGoroutines(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(50 * time.Millisecond) {
		stacks := goroutines()
		if !strings.Contains(stacks, "store.(*watcher)") && !strings.Contains(stacks, "store.(*announcer)") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines of the store still run after %s:\n%s", within, stacks)
		}
	}
}

func members(t *testing.T, s *store.Etcd) []store.Member {
	t.Helper()
	ms, err := s.Members(context.Background())
	if err != nil {
		t.Fatalf("Members: %v", err)
	}
	return ms
}

// memberIDs lists members as ID:Applied.
func memberIDs(ms []store.Member) []string {
	ids := []string{}
	for _, m := range ms {
		ids = append(ids, fmt.Sprintf("%s:%d", m.ID, m.Applied))
	}
	return ids
}

func waitMembers(t *testing.T, s *store.Etcd, want []string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	deadline := time.Now().Add(within)
	for {
		// Errors are retried: etcd may have just restarted.
		ms, err := s.Members(context.Background())
		got := memberIDs(ms)
		if err == nil && reflect.DeepEqual(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Members: %v (error %v), want %v within %s", got, err, want, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func goroutines() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

func TestEtcdMemberOutlivesRestart(t *testing.T) {
	t.Parallel() // its own etcd, on its own ports
	srv := etcdtest.Start(t)
	prefix := newPrefix()
	opts := fastOptions(srv.Endpoint(), prefix)
	opts.LeaseTTL = time.Second
	s := openShared(t, opts)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := s.Announce(ctx, store.Member{ID: "A", Applied: 1}); err != nil {
		t.Fatalf("Announce: %v", err)
	}
	// Down for longer than the lease's TTL: the renewal loses its lease,
	// and must publish the member again once etcd is back.
	srv.Stop()
	if err := s.Announce(ctx, store.Member{ID: "A", Applied: 2}); err == nil || !strings.Contains(err.Error(), "will be published") {
		t.Errorf("Announce while etcd is down: %v, want an error saying it will be published later", err)
	}
	time.Sleep(1500 * time.Millisecond)
	srv.Restart(t)
	waitMembers(t, s, []string{"A:2"})
	// Still there after two TTLs: the lease is kept alive.
	time.Sleep(2 * time.Second)
	waitMembers(t, s, []string{"A:2"})
}

func TestOpenEtcdRefusesBadOptions(t *testing.T) {
	t.Parallel() // its own etcd, on its own ports
	ok := store.EtcdOptions{Endpoints: []string{"http://127.0.0.1:2379"}, Prefix: "/corsgate/"}
	for _, tc := range []struct {
		name string
		edit func(*store.EtcdOptions)
		want []string
	}{
		{"no endpoints", func(o *store.EtcdOptions) { o.Endpoints = nil }, []string{"at least one", "http://127.0.0.1:2379"}},
		{"no scheme", func(o *store.EtcdOptions) { o.Endpoints = []string{"127.0.0.1:2379"} }, []string{`"127.0.0.1:2379"`}},
		{"other scheme", func(o *store.EtcdOptions) { o.Endpoints = []string{"unix://etcd:2379"} }, []string{`"unix://etcd:2379"`, "http:// or https://"}},
		{"no port", func(o *store.EtcdOptions) { o.Endpoints = []string{"http://etcd"} }, []string{`"http://etcd"`, "no port"}},
		{"bad port", func(o *store.EtcdOptions) { o.Endpoints = []string{"http://etcd:99999"} }, []string{`"http://etcd:99999"`, "port"}},
		{"no host", func(o *store.EtcdOptions) { o.Endpoints = []string{"http://:2379"} }, []string{`"http://:2379"`, "no host"}},
		{"path", func(o *store.EtcdOptions) { o.Endpoints = []string{"http://etcd:2379/v3"} }, []string{`"http://etcd:2379/v3"`, "after the port"}},
		{"query", func(o *store.EtcdOptions) { o.Endpoints = []string{"http://etcd:2379?x=1"} }, []string{"after the port"}},
		{"user", func(o *store.EtcdOptions) { o.Endpoints = []string{"http://u:p@etcd:2379"} }, []string{"user name"}},
		{"one bad of two", func(o *store.EtcdOptions) { o.Endpoints = []string{"http://a:2379", "b:2379"} }, []string{`"b:2379"`}},
		{"mixed schemes", func(o *store.EtcdOptions) { o.Endpoints = []string{"http://a:2379", "https://b:2379"} }, []string{"mix http:// and https://"}},
		{"TLS with http", func(o *store.EtcdOptions) { o.TLS = &tls.Config{} }, []string{"TLS", "https://"}},
		{"no prefix", func(o *store.EtcdOptions) { o.Prefix = "" }, []string{"prefix", `"/corsgate/"`}},
		{"root prefix", func(o *store.EtcdOptions) { o.Prefix = "/" }, []string{`prefix "/"`}},
		{"relative prefix", func(o *store.EtcdOptions) { o.Prefix = "corsgate/" }, []string{`prefix "corsgate/"`, "start and end"}},
		{"prefix without slash at the end", func(o *store.EtcdOptions) { o.Prefix = "/corsgate" }, []string{`prefix "/corsgate"`}},
		{"user without password", func(o *store.EtcdOptions) { o.Username = "corsgate" }, []string{"without a password"}},
		{"password without user", func(o *store.EtcdOptions) { o.Password = "secret" }, []string{"without a user name"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := ok
			tc.edit(&opts)
			s, err := store.OpenEtcd(opts)
			if err == nil {
				_ = s.Close()
				t.Fatal("OpenEtcd succeeded")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("OpenEtcd: %q, want it to say %q", err, want)
				}
			}
		})
	}
	// Sanity: the base options are fine, and https gets TLS by default.
	for _, eps := range [][]string{ok.Endpoints, {"https://etcd.example:2379", "https://[::1]:2379/"}} {
		opts := ok
		opts.Endpoints = eps
		s, err := store.OpenEtcd(opts)
		if err != nil {
			t.Errorf("OpenEtcd(%v): %v", eps, err)
			continue
		}
		_ = s.Close()
	}
}

// deadPort returns a loopback port where nothing listens.
func deadPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func TestEtcdUnreachable(t *testing.T) {
	t.Parallel() // its own etcd, on its own ports
	endpoint := "http://" + deadPort(t)
	start := time.Now()
	s := openShared(t, fastOptions(endpoint, "/corsgate/"))
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("OpenEtcd on a port where nothing listens took %s: it must not wait for etcd", took)
	}
	ctx := context.Background()
	want := "etcd at " + endpoint + " did not answer within 1s"
	calls := map[string]func() error{
		"Current": func() error { _, err := s.Current(ctx); return err },
		"Commit":  func() error { _, err := s.Commit(ctx, 0, store.Record{Source: "api", Layer: layer(1)}); return err },
		"Get":     func() error { _, err := s.Get(ctx, 1); return err },
		"History": func() error { _, err := s.History(ctx, 0); return err },
		"Members": func() error { _, err := s.Members(ctx); return err },
	}
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	calls["Announce"] = func() error { return s.Announce(actx, store.Member{ID: "A"}) }
	var wg sync.WaitGroup
	for name, call := range calls {
		wg.Go(func() {
			start := time.Now()
			err := call()
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "check that it runs") {
				t.Errorf("%s with etcd unreachable: %v, want %q", name, err, want)
			}
			if name == "Announce" && (err == nil || !strings.Contains(err.Error(), "will be published")) {
				t.Errorf("Announce with etcd unreachable: %v, want an error saying it will be published later", err)
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("%s with etcd unreachable took %s, want about the request timeout (1s)", name, took)
			}
		})
	}
	wg.Wait()

	r := newRecorder()
	watch(t, s, 0, r)
	if err := nextHealth(t, r, within); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("the first onHealth with etcd unreachable: %v, want %q", err, want)
	}
	noChange(t, r, 300*time.Millisecond)
	select {
	case err := <-r.health:
		t.Errorf("onHealth(%v) again while etcd stayed unreachable", err)
	default:
	}
}

func TestEtcdBadValues(t *testing.T) {
	t.Parallel() // its own etcd, on its own ports
	srv := etcdtest.Start(t)
	raw := rawClient(t, srv.Endpoint())
	ctx := context.Background()
	for _, tc := range []struct{ name, value, want string }{
		{"not JSON", "allow everything", "does not decode"},
		{"null", "null", "no revision"},
		{"no revision", `{"layer":{}}`, "no revision"},
		{"array layer", `{"revision":3,"layer":[1]}`, "layer"},
		{"string", `"x"`, "does not decode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := newPrefix()
			s := openShared(t, fastOptions(srv.Endpoint(), prefix))
			modRev := rawPut(t, raw, prefix+"current", tc.value)
			_, err := s.Current(ctx)
			for _, want := range []string{prefix + "current", fmt.Sprintf("etcd revision %d", modRev), "not a corsgate record", tc.want} {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("Current of %q: %v, want an error saying %q", tc.value, err, want)
				}
			}
		})
	}
	t.Run("history", func(t *testing.T) {
		prefix := newPrefix()
		s := openShared(t, fastOptions(srv.Endpoint(), prefix))
		commitOK(t, s, 0, 1)
		commitOK(t, s, 1, 2)
		key := fmt.Sprintf("%shistory/%020d", prefix, 1)
		rawPut(t, raw, key, `{"revision":7,"layer":{}}`)
		if _, err := s.Get(ctx, 1); err == nil || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "revision 7") {
			t.Errorf("Get(1) of a record that says revision 7: %v, want an error naming %s", err, key)
		}
		if _, err := s.History(ctx, 0); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("History with a bad record: %v, want an error naming %s", err, key)
		}
		if recs, err := s.History(ctx, 1); err != nil || len(recs) != 1 || recs[0].Revision != 2 {
			t.Errorf("History(1), above the bad record: %v, %v; want revision 2", revisions(recs), err)
		}
		rawPut(t, raw, prefix+"history/x", `{}`)
		if _, err := s.History(ctx, 0); err == nil || !strings.Contains(err.Error(), prefix+"history/x") {
			t.Errorf("History with a key that is not a revision: %v, want an error naming it", err)
		}
	})
}

func TestEtcdKeep(t *testing.T) {
	t.Parallel() // its own etcd, on its own ports
	srv := etcdtest.Start(t)
	opts := fastOptions(srv.Endpoint(), newPrefix())
	opts.Keep = 3
	s := openShared(t, opts)
	for i := 1; i <= 6; i++ {
		commitOK(t, s, uint64(i-1), i)
	}
	if got := revisions(mustHistory(t, s)); !reflect.DeepEqual(got, []uint64{6, 5, 4}) {
		t.Errorf("History with Keep 3 after 6 commits: %v, want [6 5 4]", got)
	}
	_, err := s.Get(context.Background(), 2)
	if !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "dropped") || !strings.Contains(err.Error(), "4 to 6") {
		t.Errorf("Get(2) with Keep 3 at revision 6: %v, want ErrNotFound saying it was dropped (kept: 4 to 6)", err)
	}
	if _, err := s.Get(context.Background(), 7); !errors.Is(err, store.ErrNotFound) || err.Error() != "revision 7 does not exist; the newest is 6" {
		t.Errorf("Get(7) at revision 6: %v, want ErrNotFound saying it does not exist and the newest is 6", err)
	}
}

func TestEtcdClosedAndDone(t *testing.T) {
	srv := etcdtest.Start(t)
	s, err := store.OpenEtcd(fastOptions(srv.Endpoint(), newPrefix()))
	if err != nil {
		t.Fatal(err)
	}
	commitOK(t, s, 0, 1)

	// A done context: nothing is done, the context's error is returned.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	calls := func(ctx context.Context) map[string]func() error {
		return map[string]func() error{
			"Current":  func() error { _, err := s.Current(ctx); return err },
			"Commit":   func() error { _, err := s.Commit(ctx, 1, store.Record{Source: "api", Layer: layer(2)}); return err },
			"Get":      func() error { _, err := s.Get(ctx, 1); return err },
			"History":  func() error { _, err := s.History(ctx, 0); return err },
			"Members":  func() error { _, err := s.Members(ctx); return err },
			"Announce": func() error { return s.Announce(ctx, store.Member{ID: "A"}) },
			"Watch": func() error {
				return s.Watch(ctx, 0, func(store.Record, error) { t.Error("onChange called") }, func(error) { t.Error("onHealth called") })
			},
		}
	}
	for name, call := range calls(done) {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a done context: %v, want context.Canceled", name, err)
		}
	}
	if cur, err := s.Current(context.Background()); err != nil || cur.Revision != 1 {
		t.Errorf("Current: revision %d, %v; want 1 (nothing committed with a done context)", cur.Revision, err)
	}

	// A Watch under way returns when the store closes.
	watchDone := make(chan error, 1)
	health := make(chan error, 10)
	go func() {
		watchDone <- s.Watch(context.Background(), 1, func(store.Record, error) {}, func(err error) { health <- err })
	}()
	select {
	case <-health:
	case <-time.After(within):
		t.Fatal("Watch did not start")
	}
	if err := s.Announce(context.Background(), store.Member{ID: "A"}); err != nil {
		t.Fatalf("Announce: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-watchDone:
		if err == nil || !strings.Contains(err.Error(), "closed") {
			t.Errorf("Watch when the store closed: %v, want an error saying it is closed", err)
		}
	case <-time.After(within):
		t.Fatal("Watch did not return when the store closed")
	}
	// Nothing of the store runs any more (no other test runs now: the
	// parallel ones wait for this one).
	noStoreGoroutines(t)
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	for name, call := range calls(context.Background()) {
		if err := call(); err == nil || !strings.Contains(err.Error(), "closed") {
			t.Errorf("%s after Close: %v, want an error saying the store is closed", name, err)
		}
	}
}

func TestEtcdAuth(t *testing.T) {
	t.Parallel() // its own etcd, on its own ports
	srv := etcdtest.Start(t)
	raw := rawClient(t, srv.Endpoint())
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if _, err := raw.UserAdd(ctx, "root", "rootpw"); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.UserGrantRole(ctx, "root", "root"); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.AuthEnable(ctx); err != nil {
		t.Fatal(err)
	}
	prefix := newPrefix()

	opts := fastOptions(srv.Endpoint(), prefix)
	opts.Username, opts.Password = "root", "wrong"
	bad := openShared(t, opts)
	if _, err := bad.Current(ctx); err == nil || !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), "user name and password") {
		t.Errorf("Current with a wrong password: %v, want an error saying etcd refused the user name or password", err)
	}

	opts.Password = "rootpw"
	s := openShared(t, opts)
	r := newRecorder()
	watch(t, s, 0, r)
	if err := nextHealth(t, r, within); err != nil {
		t.Fatalf("first onHealth with a user name: %v", err)
	}
	rec := commitOK(t, s, 0, 1)
	wantRecord(t, "a commit with a user name", nextChange(t, r), rec)
	if err := s.Announce(ctx, store.Member{ID: "A", Applied: 1}); err != nil {
		t.Fatalf("Announce with a user name: %v", err)
	}
	if got := memberIDs(members(t, s)); !reflect.DeepEqual(got, []string{"A:1"}) {
		t.Errorf("Members with a user name: %v, want [A:1]", got)
	}

	// With a user name, the client authenticates at the first call, not
	// when the store opens: a store opened while etcd is down opens.
	down := "http://" + deadPort(t)
	start := time.Now()
	opts = fastOptions(down, prefix)
	opts.Username, opts.Password = "root", "rootpw"
	s2 := openShared(t, opts)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("OpenEtcd with a user name and etcd down took %s: it must not wait for etcd", took)
	}
	if _, err := s2.Current(ctx); err == nil || !strings.Contains(err.Error(), "etcd at "+down+" did not answer within 1s") {
		t.Errorf("Current with a user name and etcd down: %v, want an error saying etcd did not answer", err)
	}
}

// A member record without a lease (another tool wrote it) is not a live
// gateway: Members does not list it, so that ?wait=fleet never waits for
// it.
func TestEtcdMembersSkipsLeaselessRecords(t *testing.T) {
	t.Parallel() // its own etcd, on its own ports
	srv := etcdtest.Start(t)
	prefix := newPrefix()
	s := openShared(t, fastOptions(srv.Endpoint(), prefix))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := s.Announce(ctx, store.Member{ID: "live", Applied: 3}); err != nil {
		t.Fatal(err)
	}
	rawPut(t, rawClient(t, srv.Endpoint()), prefix+"members/ghost", `{"id":"ghost","applied_revision":0}`)
	if got := memberIDs(members(t, s)); strings.Join(got, ",") != "live:3" {
		t.Errorf("members %v, want only the live one", got)
	}
}
