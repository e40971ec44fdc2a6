// Package storetest holds the contract every store.Store must meet, as a
// test suite that each implementation runs against itself: the embedded
// bbolt store today, a shared one (etcd) later. The admin API relies on
// nothing but this contract, so a store that passes it can replace another
// without the API noticing.
//
// The contract, in short: an empty store is at revision 0; each commit is
// the next revision, stored only if the caller's revision is still the
// current one (compare-and-swap), so that of many concurrent writers
// exactly one wins and none is lost; a refused commit stores nothing;
// records read back are the records written; the history is listed newest
// first; a done context stops a call before it does anything.
//
// An implementation's test calls Run:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := store.OpenEmbedded(t.TempDir(), store.EmbeddedOptions{})
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corsgate/corsgate/store"
)

// writers is how many goroutines the concurrency tests start.
const writers = 100

// Run runs the contract every Store must meet. open returns a new, empty
// store for the test (cleaned up by the caller via t.Cleanup); it is
// called once per subtest, with the subtest's t. The store must keep at
// least 100 records of history.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("EmptyStore", func(t *testing.T) { testEmpty(t, open(t)) })
	t.Run("FirstCommit", func(t *testing.T) { testFirstCommit(t, open(t)) })
	t.Run("RevisionsIncreaseByOne", func(t *testing.T) { testIncrease(t, open(t)) })
	t.Run("RevisionGivenIsIgnored", func(t *testing.T) { testRevisionIgnored(t, open(t)) })
	t.Run("StaleRevisionConflicts", func(t *testing.T) { testConflict(t, open) })
	t.Run("ConcurrentCommits", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("GetReturnsWhatWasCommitted", func(t *testing.T) { testGet(t, open(t)) })
	t.Run("HistoryNewestFirst", func(t *testing.T) { testHistory(t, open) })
	t.Run("Layers", func(t *testing.T) { testLayers(t, open) })
	t.Run("Diff", func(t *testing.T) { testDiff(t, open) })
	t.Run("Provenance", func(t *testing.T) { testProvenance(t, open) })
	t.Run("Time", func(t *testing.T) { testTime(t, open) })
	t.Run("ContextDone", func(t *testing.T) { testContext(t, open) })
}

// record is a typical record: a change made through the admin API.
func record(user string, layer string) store.Record {
	return store.Record{
		User:       user,
		Source:     "api",
		Layer:      json.RawMessage(layer),
		Diff:       json.RawMessage(`{"set":` + layer + `}`),
		Provenance: json.RawMessage(`{"service":{"allow_origins":{"runtime":true,"revision":1,"user":"` + user + `"}}}`),
	}
}

func layerN(n int) string {
	return fmt.Sprintf(`{"service":{"allow_origins":["https://app%d.example"],"max_age":"%dm"}}`, n, n)
}

func commit(t *testing.T, s store.Store, ifRevision uint64, rec store.Record) store.Record {
	t.Helper()
	got, err := s.Commit(context.Background(), ifRevision, rec)
	if err != nil {
		t.Fatalf("Commit(%d, %s): %v", ifRevision, rec.Layer, err)
	}
	return got
}

func current(t *testing.T, s store.Store) store.Record {
	t.Helper()
	rec, err := s.Current(context.Background())
	if err != nil {
		t.Fatalf("Current: %v", err)
	}
	return rec
}

func history(t *testing.T, s store.Store, limit int) []store.Record {
	t.Helper()
	recs, err := s.History(context.Background(), limit)
	if err != nil {
		t.Fatalf("History(%d): %v", limit, err)
	}
	return recs
}

func revisions(recs []store.Record) []uint64 {
	revs := make([]uint64, len(recs))
	for i, r := range recs {
		revs[i] = r.Revision
	}
	return revs
}

// jsonEqual reports whether a and b are the same JSON value, or are both
// empty.
func jsonEqual(a, b []byte) bool {
	a, b = bytes.TrimSpace(a), bytes.TrimSpace(b)
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var va, vb any
	da, db := json.NewDecoder(bytes.NewReader(a)), json.NewDecoder(bytes.NewReader(b))
	da.UseNumber()
	db.UseNumber()
	if da.Decode(&va) != nil || db.Decode(&vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

// sameRecord fails t when got is not want: the same revision, instant,
// user and source, and the same layer and diff as JSON.
func sameRecord(t *testing.T, what string, got, want store.Record) {
	t.Helper()
	if got.Revision != want.Revision || !got.Time.Equal(want.Time) || got.User != want.User || got.Source != want.Source || got.RollbackOf != want.RollbackOf ||
		!jsonEqual(got.Layer, want.Layer) || !jsonEqual(got.Diff, want.Diff) || !jsonEqual(got.Provenance, want.Provenance) {
		t.Errorf("%s:\n got %s\nwant %s", what, show(got), show(want))
	}
}

func show(r store.Record) string {
	return fmt.Sprintf("{Revision:%d Time:%s User:%q Source:%q RollbackOf:%d Layer:%s Diff:%s}", r.Revision, r.Time.Format(time.RFC3339Nano), r.User, r.Source, r.RollbackOf, r.Layer, r.Diff)
}

func testEmpty(t *testing.T, s store.Store) {
	rec := current(t, s)
	if rec.Revision != 0 || rec.Layer != nil || !rec.Time.IsZero() || rec.User != "" || rec.Source != "" || rec.Diff != nil {
		t.Errorf("Current of an empty store = %s, want the zero Record", show(rec))
	}
	for _, limit := range []int{0, -1, 1, 10} {
		if recs := history(t, s, limit); len(recs) != 0 {
			t.Errorf("History(%d) of an empty store = %v, want none", limit, revisions(recs))
		}
	}
	for _, rev := range []uint64{0, 1, 2} {
		_, err := s.Get(context.Background(), rev)
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%d) of an empty store: error %v, want ErrNotFound", rev, err)
			continue
		}
		// One sentence that says so: no "revision not found: " chained
		// before it.
		if want := fmt.Sprintf("revision %d does not exist", rev); !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Get(%d) of an empty store: error %q, want it to start with %q", rev, err, want)
		}
	}
}

func testFirstCommit(t *testing.T, s store.Store) {
	in := store.Record{User: "alice", Source: "rollback", RollbackOf: 7, Layer: json.RawMessage(layerN(1)), Diff: json.RawMessage(`{"added":["service.allow_origins[0]"]}`)}
	got := commit(t, s, 0, in)
	if got.Revision != 1 {
		t.Errorf("first commit: revision %d, want 1", got.Revision)
	}
	want := in
	want.Revision, want.Time = 1, got.Time
	sameRecord(t, "first commit", got, want)
	sameRecord(t, "Current after the first commit", current(t, s), want)
}

func testIncrease(t *testing.T, s store.Store) {
	var rev uint64
	for i := 1; i <= 5; i++ {
		got := commit(t, s, rev, record(fmt.Sprintf("user%d", i), layerN(i)))
		if got.Revision != rev+1 {
			t.Fatalf("commit against revision %d: revision %d, want %d", rev, got.Revision, rev+1)
		}
		rev = got.Revision
		if cur := current(t, s); cur.Revision != rev {
			t.Fatalf("Current after committing revision %d: revision %d", rev, cur.Revision)
		}
	}
}

func testRevisionIgnored(t *testing.T, s store.Store) {
	rec := record("alice", layerN(1))
	rec.Revision = 42
	if got := commit(t, s, 0, rec); got.Revision != 1 {
		t.Errorf("Commit of a record that says revision 42 on an empty store: revision %d, want 1", got.Revision)
	}
	if cur := current(t, s); cur.Revision != 1 {
		t.Errorf("Current: revision %d, want 1", cur.Revision)
	}
}

func testConflict(t *testing.T, open func(t *testing.T) store.Store) {
	for _, ifRevision := range []uint64{0, 1, 2, 4, 7} {
		t.Run(fmt.Sprint("ifRevision=", ifRevision), func(t *testing.T) {
			s := open(t)
			var last store.Record
			for i := 1; i <= 3; i++ {
				last = commit(t, s, uint64(i-1), record("alice", layerN(i)))
			}
			_, err := s.Commit(context.Background(), ifRevision, record("mallory", `{"service":{"allow_origins":["https://evil.example"]}}`))
			if !errors.Is(err, store.ErrConflict) {
				t.Fatalf("Commit(%d) with the store at revision 3: error %v, want ErrConflict", ifRevision, err)
			}
			for _, rev := range []uint64{ifRevision, 3} {
				if !regexp.MustCompile(fmt.Sprintf(`\b%d\b`, rev)).MatchString(err.Error()) {
					t.Errorf("the conflict's message does not name revision %d: %q", rev, err)
				}
			}
			sameRecord(t, "Current after a conflict", current(t, s), last)
			if got := revisions(history(t, s, 0)); !reflect.DeepEqual(got, []uint64{3, 2, 1}) {
				t.Errorf("History after a conflict: revisions %v, want [3 2 1]", got)
			}
			if _, err := s.Get(context.Background(), 4); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Get(4) after a conflict: error %v, want ErrNotFound", err)
			}
		})
	}
}

func testConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	start := commit(t, s, 0, record("setup", layerN(0))).Revision

	// Round 1: every writer commits against the same revision; exactly one
	// may win.
	var (
		wg      sync.WaitGroup
		ready   = make(chan struct{})
		results = make([]error, writers)
		stored  = make([]store.Record, writers)
	)
	for i := range writers {
		wg.Go(func() {
			<-ready
			stored[i], results[i] = s.Commit(ctx, start, record(fmt.Sprintf("racer-%d", i), layerN(1000+i)))
		})
	}
	close(ready)
	wg.Wait()
	winner, conflicts := -1, 0
	for i, err := range results {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Errorf("racers %d and %d both committed against revision %d (revisions %d and %d): one change is lost", winner, i, start, stored[winner].Revision, stored[i].Revision)
			}
			winner = i
		case errors.Is(err, store.ErrConflict):
			conflicts++
		default:
			t.Errorf("racer %d: error %v, want nil or ErrConflict", i, err)
		}
	}
	if winner < 0 || conflicts != writers-1 {
		t.Fatalf("%d writers committing against revision %d: winner %d and %d conflicts, want one winner and %d conflicts", writers, start, winner, conflicts, writers-1)
	}
	if stored[winner].Revision != start+1 {
		t.Errorf("the winner's revision is %d, want %d", stored[winner].Revision, start+1)
	}
	sameRecord(t, "Current after the race", current(t, s), stored[winner])
	if got := revisions(history(t, s, 0)); !reflect.DeepEqual(got, []uint64{start + 1, start}) {
		t.Errorf("History after the race: revisions %v, want [%d %d]", got, start+1, start)
	}

	// Round 2: every writer reads the current revision, commits against it,
	// and retries on conflict. None may be lost. A writer conflicts only
	// when another one committed in between, so no writer may need more
	// attempts than there are writers.
	start2 := start + 1
	revs := make([]uint64, writers)
	for i := range writers {
		wg.Go(func() {
			user := fmt.Sprintf("writer-%d", i)
			for range writers {
				cur, err := s.Current(ctx)
				if err != nil {
					t.Errorf("%s: Current: %v", user, err)
					return
				}
				rec, err := s.Commit(ctx, cur.Revision, record(user, layerN(2000+i)))
				if errors.Is(err, store.ErrConflict) {
					continue
				}
				if err != nil {
					t.Errorf("%s: Commit(%d): %v", user, cur.Revision, err)
					return
				}
				revs[i] = rec.Revision
				return
			}
			t.Errorf("%s: still conflicting after %d attempts, more than there are other writers", user, writers)
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if cur := current(t, s); cur.Revision != start2+writers {
		t.Errorf("after %d retrying writers from revision %d: revision %d, want %d", writers, start2, cur.Revision, start2+writers)
	}
	recs := history(t, s, writers)
	if len(recs) != writers {
		t.Fatalf("History(%d): %d records", writers, len(recs))
	}
	seen := map[string]bool{}
	for j, rec := range recs {
		if want := start2 + writers - uint64(j); rec.Revision != want {
			t.Errorf("History(%d)[%d]: revision %d, want %d", writers, j, rec.Revision, want)
		}
		var i int
		if _, err := fmt.Sscanf(rec.User, "writer-%d", &i); err != nil || i < 0 || i >= writers || seen[rec.User] {
			t.Errorf("History(%d)[%d]: user %q, want a writer seen once", writers, j, rec.User)
			continue
		}
		seen[rec.User] = true
		if rec.Revision != revs[i] || !jsonEqual(rec.Layer, []byte(layerN(2000+i))) {
			t.Errorf("the history's record of %s is %s, but its commit returned revision %d", rec.User, show(rec), revs[i])
		}
	}
	if len(seen) != writers {
		t.Errorf("the history holds %d of the %d writers' records", len(seen), writers)
	}
}

func testGet(t *testing.T, s store.Store) {
	layers := []string{
		layerN(1),
		`{}`,
		`null`,
		`{"endpoints":{"GET /users/{id}":{"allow_origins":["https://b.example"],"allow_credentials":true}}}`,
		` { "service" : { "allow_methods" : [ "GET" , "POST" ] } } `,
	}
	var committed []store.Record
	for i, layer := range layers {
		rec := store.Record{User: fmt.Sprintf("user%d", i), Source: []string{"api", "cloudant", "file", "rollback", "reset"}[i], Layer: json.RawMessage(layer)}
		if i%2 == 0 {
			rec.Diff = json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))
		}
		got := commit(t, s, uint64(i), rec)
		want := rec
		want.Revision, want.Time = uint64(i+1), got.Time
		sameRecord(t, fmt.Sprintf("commit %d", i+1), got, want)
		committed = append(committed, got)
	}
	for _, want := range committed {
		got, err := s.Get(context.Background(), want.Revision)
		if err != nil {
			t.Errorf("Get(%d): %v", want.Revision, err)
			continue
		}
		sameRecord(t, fmt.Sprintf("Get(%d)", want.Revision), got, want)
	}
	for _, rev := range []uint64{0, uint64(len(layers) + 1), 1 << 40} {
		_, err := s.Get(context.Background(), rev)
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%d) of a store at revision %d: error %v, want ErrNotFound", rev, len(layers), err)
			continue
		}
		want := fmt.Sprintf("revision %d does not exist; the newest is %d", rev, len(layers))
		if rev == 0 {
			want = "revision 0 does not exist: it is the empty store, and revisions start at 1"
		}
		if err.Error() != want {
			t.Errorf("Get(%d) of a store at revision %d: error %q, want %q", rev, len(layers), err, want)
		}
	}
}

func testHistory(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	var committed []store.Record
	for i := range 5 {
		committed = append(committed, commit(t, s, uint64(i), record(fmt.Sprintf("user%d", i), layerN(i))))
	}
	for _, tc := range []struct {
		limit int
		want  []uint64
	}{
		{0, []uint64{5, 4, 3, 2, 1}},
		{-1, []uint64{5, 4, 3, 2, 1}},
		{1, []uint64{5}},
		{3, []uint64{5, 4, 3}},
		{5, []uint64{5, 4, 3, 2, 1}},
		{50, []uint64{5, 4, 3, 2, 1}},
	} {
		recs := history(t, s, tc.limit)
		if got := revisions(recs); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("History(%d): revisions %v, want %v", tc.limit, got, tc.want)
			continue
		}
		for _, rec := range recs {
			sameRecord(t, fmt.Sprintf("History(%d), revision %d", tc.limit, rec.Revision), rec, committed[rec.Revision-1])
		}
	}
}

func testLayers(t *testing.T, open func(t *testing.T) store.Store) {
	for _, tc := range []struct {
		name, layer string
		ok          bool
	}{
		{"empty object", `{}`, true},
		{"object", layerN(1), true},
		{"nested object", `{"a":{"b":[1,2,{"c":null}]}}`, true},
		{"object with spaces", " \n{ \"a\" : 1 }\t", true},
		{"null", `null`, true},
		{"empty", ``, false},
		{"spaces", "  \n ", false},
		{"array", `[]`, false},
		{"array of objects", `[{"a":1}]`, false},
		{"string", `"{}"`, false},
		{"number", `42`, false},
		{"boolean", `true`, false},
		{"truncated object", `{"a":`, false},
		{"two objects", `{"a":1} {"b":2}`, false},
		{"misspelt null", `nul`, false},
		{"not JSON", `allow everything`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			before := commit(t, s, 0, record("setup", layerN(0)))
			rec := store.Record{User: "alice", Source: "api", Layer: json.RawMessage(tc.layer)}
			got, err := s.Commit(context.Background(), 1, rec)
			if !tc.ok {
				if err == nil {
					t.Fatalf("Commit of the layer %q stored revision %d, want an error", tc.layer, got.Revision)
				}
				if errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), "layer") {
					t.Errorf("Commit of the layer %q: error %q, want one about the layer", tc.layer, err)
				}
				sameRecord(t, "Current after a refused layer", current(t, s), before)
				if n := len(history(t, s, 0)); n != 1 {
					t.Errorf("History after a refused layer: %d records, want 1", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("Commit of the layer %q: %v", tc.layer, err)
			}
			if !jsonEqual(got.Layer, []byte(tc.layer)) {
				t.Errorf("Commit of the layer %q returned the layer %s", tc.layer, got.Layer)
			}
			cur := current(t, s)
			sameRecord(t, "Current", cur, got)
			if tc.layer == "null" && !bytes.Equal(bytes.TrimSpace(cur.Layer), []byte("null")) {
				t.Errorf("Current after a null layer: Layer %q, want null (nil is the empty store's)", cur.Layer)
			}
		})
	}
}

// testProvenance: a record's provenance is stored as given when it is
// JSON, and a record whose provenance is not JSON is refused.
func testProvenance(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	rec := record("alice", layerN(1))
	rec.Provenance = json.RawMessage(`{"service":`)
	if _, err := s.Commit(context.Background(), 0, rec); err == nil || !strings.Contains(err.Error(), "provenance") {
		t.Errorf("Commit with a provenance that is not JSON: error %v, want one about the provenance", err)
	}
	rec.Provenance = nil
	got := commit(t, s, 0, rec)
	if got.Provenance != nil {
		t.Errorf("Commit without a provenance returned %q", got.Provenance)
	}
}

func testDiff(t *testing.T, open func(t *testing.T) store.Store) {
	for _, tc := range []struct {
		name, diff string
		ok         bool
	}{
		{"none", ``, true},
		{"spaces", " \n ", true},
		{"object", `{"removed":["service.max_age"]}`, true},
		{"array", `[{"op":"replace","path":"/service/max_age","value":"1h"}]`, true},
		{"not JSON", `{"removed":`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			rec := record("alice", layerN(1))
			rec.Diff = json.RawMessage(tc.diff)
			got, err := s.Commit(context.Background(), 0, rec)
			if !tc.ok {
				if err == nil || !strings.Contains(err.Error(), "diff") {
					t.Errorf("Commit with the diff %q: error %v, want one about the diff", tc.diff, err)
				}
				if cur := current(t, s); cur.Revision != 0 {
					t.Errorf("Commit with the diff %q stored revision %d", tc.diff, cur.Revision)
				}
				return
			}
			if err != nil {
				t.Fatalf("Commit with the diff %q: %v", tc.diff, err)
			}
			if !jsonEqual(got.Diff, []byte(tc.diff)) {
				t.Errorf("Commit with the diff %q returned the diff %q", tc.diff, got.Diff)
			}
			stored, err := s.Get(context.Background(), got.Revision)
			if err != nil {
				t.Fatalf("Get(%d): %v", got.Revision, err)
			}
			if !jsonEqual(stored.Diff, []byte(tc.diff)) {
				t.Errorf("Get of a commit with the diff %q: diff %q", tc.diff, stored.Diff)
			}
		})
	}
}

func testTime(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("SetWhenZero", func(t *testing.T) {
		s := open(t)
		before := time.Now()
		got := commit(t, s, 0, record("alice", layerN(1)))
		after := time.Now()
		if got.Time.Before(before.Add(-time.Second)) || got.Time.After(after.Add(time.Second)) {
			t.Errorf("Commit of a record without a time: time %s, want now (between %s and %s)", got.Time, before, after)
		}
		stored, err := s.Get(context.Background(), got.Revision)
		if err != nil {
			t.Fatalf("Get(%d): %v", got.Revision, err)
		}
		if !stored.Time.Equal(got.Time) {
			t.Errorf("Get(%d): time %s, but Commit returned %s", got.Revision, stored.Time, got.Time)
		}
	})
	for _, given := range []time.Time{
		time.Date(2021, 3, 4, 5, 6, 7, 890123456, time.UTC),
		time.Date(2030, 12, 31, 23, 59, 59, 0, time.FixedZone("UTC+5:30", 5*3600+1800)),
		time.Date(1999, 1, 1, 0, 0, 0, 1, time.FixedZone("UTC-8", -8*3600)),
	} {
		t.Run("KeptWhenGiven/"+given.Format(time.RFC3339Nano), func(t *testing.T) {
			s := open(t)
			rec := record("alice", layerN(1))
			rec.Time = given
			got := commit(t, s, 0, rec)
			if !got.Time.Equal(given) {
				t.Errorf("Commit of a record at %s: time %s", given, got.Time)
			}
			stored, err := s.Get(context.Background(), got.Revision)
			if err != nil {
				t.Fatalf("Get(%d): %v", got.Revision, err)
			}
			if !stored.Time.Equal(given) {
				t.Errorf("Get of a record committed at %s: time %s", given, stored.Time)
			}
		})
	}
}

func testContext(t *testing.T, open func(t *testing.T) store.Store) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	for _, c := range []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"Cancelled", cancelled, context.Canceled},
		{"DeadlineExceeded", expired, context.DeadlineExceeded},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			first := commit(t, s, 0, record("alice", layerN(1)))
			calls := []struct {
				name string
				call func() error
			}{
				{"Current", func() error { _, err := s.Current(c.ctx); return err }},
				{"Commit", func() error { _, err := s.Commit(c.ctx, 1, record("bob", layerN(2))); return err }},
				{"Get", func() error { _, err := s.Get(c.ctx, 1); return err }},
				{"History", func() error { _, err := s.History(c.ctx, 0); return err }},
			}
			for _, call := range calls {
				if err := call.call(); !errors.Is(err, c.want) {
					t.Errorf("%s with a done context: error %v, want %v", call.name, err, c.want)
				}
			}
			sameRecord(t, "Current after a Commit with a done context", current(t, s), first)
			if n := len(history(t, s, 0)); n != 1 {
				t.Errorf("History after a Commit with a done context: %d records, want 1", n)
			}
		})
	}
}
