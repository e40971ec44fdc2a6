package state_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/engine/route"
	"github.com/corsgate/corsgate/internal/testwait"
	"github.com/corsgate/corsgate/state"
	"github.com/corsgate/corsgate/store"
)

const (
	app   = "https://app.example.com"
	other = "https://other.example.com"
	third = "https://third.example.com"
)

// gateway is one gateway's CORS layer and its run-time state.
type gateway struct {
	t    *testing.T
	ctrl *core.Controller
	m    *state.Manager
}

// routes is the route set of every test gateway: GET /users.
func routes() *route.Index {
	return route.New([]route.Route{{Method: "GET", Path: "/users", Index: 0}}, false)
}

// file is a configuration file's CORS document: a service block.
func file(t *testing.T, block map[string]any) *policy.Document {
	t.Helper()
	b, errs := policy.ParseBlock(block, policy.ServiceLevel, "extra_config.security/cors")
	if errs != nil {
		t.Fatal(errs)
	}
	return &policy.Document{Service: b}
}

func spa(t *testing.T) *policy.Document {
	return file(t, map[string]any{"allow_origins": []any{app}, "allow_credentials": true})
}

// start makes a gateway over st (nil: no store) with doc as its file.
func start(t *testing.T, st store.Store, doc *policy.Document, replica string) *gateway {
	t.Helper()
	ctrl, err := core.NewController(routes(), doc)
	if err != nil {
		t.Fatal(err)
	}
	m := state.New(state.Options{Controller: ctrl, File: doc, Store: st, StoreInfo: state.StoreInfo{Type: "test", Name: "memory"},
		StateDir: t.TempDir(), Replica: replica, Timeout: time.Second})
	// Before the state directory is removed: the cache is written in the
	// background.
	t.Cleanup(m.Flush)
	return &gateway{t: t, ctrl: ctrl, m: m}
}

// follow runs g's follow loop until the test ends.
func (g *gateway) follow() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { g.m.Run(ctx); close(done) }()
	g.t.Cleanup(func() { cancel(); <-done })
}

// allowed is the Access-Control-Allow-Origin of an actual request from
// origin, through the CORS layer in force.
func (g *gateway) allowed(origin string) string {
	h := g.ctrl.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	req := httptest.NewRequest("GET", "/users", nil)
	req.Header.Set("Origin", origin)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Header().Get("Access-Control-Allow-Origin")
}

// origins is a Change that sets the service's allow_origins.
func origins(user string, ifRev *uint64, list ...string) state.Change {
	data, _ := json.Marshal(list)
	return state.Change{User: user, Source: state.SourceAPI, IfRevision: ifRev, Mutate: func(_ *policy.Document, l *policy.Layer) error {
		if l.Service == nil {
			l.Service = map[string]json.RawMessage{}
		}
		l.Service["allow_origins"] = data
		return nil
	}}
}

func rev(n uint64) *uint64 { return &n }

// wantKind fails t unless err is a state.Error of kind k.
func wantKind(t *testing.T, err error, k state.Kind) *state.Error {
	t.Helper()
	var e *state.Error
	if !errors.As(err, &e) || e.Kind != k {
		t.Fatalf("error %v (kind %v), want kind %v", err, state.KindOf(err), k)
	}
	return e
}

// own hides the Shared methods of a store: a store of this gateway alone,
// as the embedded store is.
type own struct{ store.Store }

func TestWrite(t *testing.T) {
	st := store.NewMemory()
	g := start(t, own{st}, spa(t), "r1")
	res, err := g.m.Write(context.Background(), origins("alice", rev(0), other))
	if err != nil || res.Revision != 1 {
		t.Fatalf("Write: %+v %v", res, err)
	}
	if g.allowed(other) != other || g.allowed(app) != "" {
		t.Error("the write is not in force")
	}
	if s := g.m.Status(); s.Revision != 1 || !s.Store.OK || s.Applied != 2 {
		t.Errorf("status %+v", s)
	}
	rec, _ := st.Current(context.Background())
	if rec.Revision != 1 || rec.User != "alice" || rec.Source != state.SourceAPI || !strings.Contains(string(rec.Diff), `"key":"allow_origins"`) {
		t.Errorf("stored %+v (diff %s)", rec, rec.Diff)
	}
	// The same change again makes no revision.
	if res, err := g.m.Write(context.Background(), origins("alice", nil, other)); err != nil || res.Revision != 1 {
		t.Errorf("a write that changes nothing: %+v %v", res, err)
	}
	// A write that does not validate changes nothing and says where.
	_, err = g.m.Write(context.Background(), origins("alice", nil, "https://bad.example.com/"))
	if e := wantKind(t, err, state.Invalid); len(e.Problems) == 0 || e.Problems[0].Path != "service.allow_origins[0]" {
		t.Errorf("problems %v", e.Problems)
	}
	if g.m.Revision() != 1 || g.allowed(other) != other {
		t.Error("a refused write changed something")
	}
}

func TestPreconditions(t *testing.T) {
	g := start(t, own{store.NewMemory()}, spa(t), "r1")
	c := origins("alice", nil, other)
	c.RequireIfRevision = true
	_, err := g.m.Write(context.Background(), c)
	if e := wantKind(t, err, state.PreconditionRequired); e.Current == nil || *e.Current != 0 {
		t.Errorf("current %v", e.Current)
	}
	if _, err := g.m.Write(context.Background(), origins("alice", rev(0), other)); err != nil {
		t.Fatal(err)
	}
	_, err = g.m.Write(context.Background(), origins("bob", rev(0), third))
	if e := wantKind(t, err, state.PreconditionFailed); e.Current == nil || *e.Current != 1 {
		t.Errorf("current %v", e.Current)
	}
	if g.allowed(other) != other {
		t.Error("a stale write changed something")
	}
}

// Two replicas share a store; the second, which does not follow it,
// writes after the first: it catches up first, so that an If-Match of the
// old revision fails and a write without one applies over the newer layer.
func TestConflictingWrite(t *testing.T) {
	st := store.NewMemory()
	a := start(t, st, spa(t), "a")
	b := start(t, st, spa(t), "b")
	if _, err := a.m.Write(context.Background(), state.Change{User: "alice", Source: state.SourceAPI, Mutate: func(_ *policy.Document, l *policy.Layer) error {
		l.Service = map[string]json.RawMessage{"max_age": json.RawMessage(`"1h"`)}
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	_, err := b.m.Write(context.Background(), origins("bob", rev(0), other))
	if e := wantKind(t, err, state.PreconditionFailed); *e.Current != 1 {
		t.Errorf("current %d, want 1 (caught up)", *e.Current)
	}
	res, err := b.m.Write(context.Background(), origins("bob", nil, other))
	if err != nil || res.Revision != 2 {
		t.Fatalf("write without If-Match: %+v %v", res, err)
	}
	v := b.m.View()
	if string(v.Layer.Service["max_age"]) != `"1h"` || b.allowed(other) != other {
		t.Errorf("b's write undid a's change: layer %v", v.Layer.Service)
	}
}

// A file reload that changes a key the layer overrides: the layer still
// wins that key, the file's other change applies, and with a store of its
// own the reload is a revision of source "file".
func TestReloadFileUnderAnOverriddenKey(t *testing.T) {
	st := store.NewMemory()
	g := start(t, own{st}, spa(t), "r1")
	if _, err := g.m.Write(context.Background(), origins("alice", nil, other)); err != nil {
		t.Fatal(err)
	}
	edited := file(t, map[string]any{"allow_origins": []any{app, third}, "allow_credentials": true, "max_age": "2h"})
	if err := g.m.ReloadFile(edited, []string{"the port (1 to 2)"}); err != nil {
		t.Fatal(err)
	}
	if g.allowed(third) != "" || g.allowed(other) != other {
		t.Error("the file's allow_origins won over the layer's")
	}
	if got := g.ctrl.Snapshot().Document().Service.MaxAge; got == nil || *got != "2h" {
		t.Errorf("the file's other change is not in force: max_age %v", got)
	}
	s := g.m.Status()
	if s.Revision != 2 || s.File.LastReload == nil || s.File.Error != "" || len(s.File.RestartRequired) != 1 {
		t.Errorf("status %+v", s)
	}
	if rec, _ := st.Current(context.Background()); rec.Source != state.SourceFile || !strings.Contains(string(rec.Diff), "max_age") {
		t.Errorf("the reload's revision: %+v", rec)
	}

	// A reload that does not validate (here, "*" with credentials) changes
	// nothing, and the status says why.
	bad := file(t, map[string]any{"allow_origins": []any{"*"}, "allow_credentials": true, "max_age": "3h"})
	h := start(t, own{store.NewMemory()}, spa(t), "r2")
	err := h.m.ReloadFile(bad, nil)
	wantKind(t, err, state.Invalid)
	if s := h.m.Status(); !strings.Contains(s.File.Error, "allow_origins") || s.File.LastReload != nil || h.allowed(app) != app || h.allowed(other) != "" {
		t.Errorf("after a refused reload: %+v", s.File)
	}
}

// A revision committed by another replica reaches this one through the
// follow loop, which puts it in force through the same commit path.
func TestRevisionFromAnotherReplica(t *testing.T) {
	st := store.NewMemory()
	a := start(t, st, spa(t), "a")
	b := start(t, st, spa(t), "b")
	b.follow()
	if _, err := a.m.Write(context.Background(), origins("alice", nil, other)); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "b applying revision 1", func() bool { return b.m.Revision() == 1 })
	if b.allowed(other) != other {
		t.Error("b does not serve revision 1")
	}
	// Only b runs its follow loop, so only b is a member of the fleet,
	// once its announcer has published revision 1.
	testwait.Until(t, "b announcing revision 1", func() bool {
		ms, err := b.m.Members(context.Background())
		return err == nil && len(ms) == 1 && ms[0].ID == "b" && ms[0].Applied == 1
	})

	// A revision that does not validate against b's file is refused: b
	// keeps revision 1 and says why.
	if _, err := a.m.Write(context.Background(), state.Change{User: "alice", Source: state.SourceAPI, Mutate: func(_ *policy.Document, l *policy.Layer) error {
		l.Endpoints = map[string]map[string]json.RawMessage{"GET /gone": {"allow_origins": json.RawMessage(`["https://x.example"]`)}}
		return nil
	}}); err == nil {
		t.Fatal("a accepted a layer for an endpoint it does not serve")
	}
}

// The store took the write but its answer was lost: the write is an
// error, the status says the revision is unconfirmed, and the next write
// reads the store back and repairs it.
func TestStoreFailsBetweenCommitAndApply(t *testing.T) {
	st := store.NewMemory()
	g := start(t, st, spa(t), "r1")
	st.LoseNextAnswer(errors.New("connection reset by peer"))
	_, err := g.m.Write(context.Background(), origins("alice", nil, other))
	if e := wantKind(t, err, state.Unavailable); e.RetryAfter == 0 || !strings.Contains(e.Reason, "may or may not be stored") {
		t.Errorf("error %+v", e)
	}
	s := g.m.Status()
	if s.Store.OK || !strings.Contains(s.Store.Error, "did not confirm revision 1") || g.allowed(other) != "" {
		t.Fatalf("after a lost answer: %+v", s.Store)
	}
	res, err := g.m.Write(context.Background(), origins("alice", nil, other, third))
	if err != nil || res.Revision != 2 {
		t.Fatalf("the next write: %+v %v", res, err)
	}
	if s := g.m.Status(); !s.Store.OK || g.allowed(third) != third {
		t.Errorf("not repaired: %+v", s.Store)
	}
}

// The same, repaired by the follow loop's read of the store.
func TestStoreFailsBetweenCommitAndApplyReadBack(t *testing.T) {
	st := store.NewMemory()
	g := start(t, st, spa(t), "r1")
	st.LoseNextAnswer(errors.New("connection reset by peer"))
	if _, err := g.m.Write(context.Background(), origins("alice", nil, other)); err == nil {
		t.Fatal("a write whose answer was lost succeeded")
	}
	g.follow()
	testwait.Until(t, "the read-back", func() bool { return g.m.Status().Store.OK && g.m.Revision() == 1 })
	if g.allowed(other) != other {
		t.Error("revision 1 is not in force")
	}
}

// A value in the store that is not a record is refused: the gateway keeps
// what it serves, says why, and refuses writes that would hide it until
// they name the store's revision.
func TestBadRecordFromTheStore(t *testing.T) {
	st := store.NewMemory()
	g := start(t, st, spa(t), "r1")
	if _, err := g.m.Write(context.Background(), origins("alice", nil, other)); err != nil {
		t.Fatal(err)
	}
	g.follow()
	st.Corrupt("it is the string \"oops\"")
	testwait.Until(t, "the refusal", func() bool { return g.m.Status().Store.Refused != nil })
	s := g.m.Status()
	if s.Store.OK || s.Store.Refused.Revision != 0 || !strings.Contains(s.Store.Error, "keeps revision 1") || g.allowed(other) != other {
		t.Errorf("status %+v", s.Store)
	}

	// At start, a bad record leaves the file alone in force (no cache of
	// this store in the new state directory), refused in the status.
	h := start(t, st, spa(t), "r2")
	if s := h.m.Status(); s.Store.Refused == nil || h.allowed(app) != app {
		t.Errorf("a gateway started on a bad record: %+v", s.Store)
	}
}

func TestRollback(t *testing.T) {
	g := start(t, own{store.NewMemory()}, spa(t), "r1")
	ctx := context.Background()
	g.m.Write(ctx, origins("alice", nil, other))
	g.m.Write(ctx, origins("alice", nil, third))
	res, err := g.m.Rollback(ctx, 1, "bob", nil)
	if err != nil || res.Revision != 3 || g.allowed(other) != other || g.allowed(third) != "" {
		t.Fatalf("rollback: %+v %v", res, err)
	}
	hist, err := g.m.History(ctx, 1)
	if err != nil || len(hist) != 1 || hist[0].Source != state.SourceRollback || hist[0].User != "bob" {
		t.Errorf("history %+v %v", hist, err)
	}
	_, err = g.m.Rollback(ctx, 42, "bob", nil)
	wantKind(t, err, state.NotFound)
	// One sentence: what is missing, the newest, where to look; not the
	// store's error chained after "cannot be read".
	if want := "revision 42 does not exist; the newest is 3 (see corsgate config history)"; err.Error() != want {
		t.Errorf("rollback to a revision never written: %q, want %q", err, want)
	}
	if _, err := g.m.Reset(ctx, "bob", rev(3)); err != nil || g.allowed(app) != app {
		t.Errorf("reset: %v", err)
	}
}

// A store that does not answer: writes are refused with a wait, reads
// are marked stale, and the gateway keeps serving.
func TestStoreDown(t *testing.T) {
	st := store.NewMemory()
	g := start(t, st, spa(t), "r1")
	g.follow()
	testwait.Until(t, "the first health report", func() bool {
		ms, _ := st.Members(context.Background())
		return len(ms) == 1
	})
	st.SetDown(errors.New("connection refused"))
	testwait.Until(t, "the outage", func() bool { _, _, stale := g.m.Stale(); return stale })
	_, err := g.m.Write(context.Background(), origins("alice", nil, other))
	if e := wantKind(t, err, state.Unavailable); e.RetryAfter != time.Second {
		t.Errorf("retry after %s", e.RetryAfter)
	}
	if s := g.m.Status(); s.Store.UnreachableSince == nil || s.Store.OK {
		t.Errorf("status %+v", s.Store)
	}
	st.SetDown(nil)
	testwait.Until(t, "the recovery", func() bool { return g.m.Status().Store.OK })
	if _, err := g.m.Write(context.Background(), origins("alice", nil, other)); err != nil {
		t.Errorf("a write after the recovery: %v", err)
	}
}

// Without a store, writes say why they cannot be kept, and the file
// applies.
func TestNoStore(t *testing.T) {
	ctrl, _ := core.NewController(routes(), spa(t))
	m := state.New(state.Options{Controller: ctrl, File: spa(t), StoreErr: errors.New("locked by another process")})
	_, err := m.Write(context.Background(), origins("alice", nil, other))
	if e := wantKind(t, err, state.Unavailable); !strings.Contains(e.Reason, "locked by another process") {
		t.Errorf("reason %q", e.Reason)
	}
	_, err = m.History(context.Background(), 10)
	wantKind(t, err, state.Unavailable)
	if s := m.Status(); s.Store.OK {
		t.Errorf("status %+v", s.Store)
	}
}

// Check and Evaluate compile, and never commit or apply.
func TestCheckAndEvaluateChangeNothing(t *testing.T) {
	st := store.NewMemory()
	g := start(t, own{st}, spa(t), "r1")
	before := g.ctrl.Snapshot()
	if _, err := g.m.Check(origins("alice", nil, other)); err != nil {
		t.Fatal(err)
	}
	_, err := g.m.Check(origins("alice", nil, "*"))
	wantKind(t, err, state.Invalid)
	snap, rev, diff, err := g.m.Evaluate(&policy.Layer{Service: map[string]json.RawMessage{"allow_origins": json.RawMessage(`["` + other + `"]`)}})
	if err != nil || snap == nil || snap.Revision() != 0 || rev != 0 || len(diff) != 1 || diff[0].Key != "allow_origins" {
		t.Fatalf("Evaluate: %v %d %v %v", snap, rev, diff, err)
	}
	if g.ctrl.Snapshot() != before || g.m.Revision() != 0 {
		t.Error("a dry run changed what is in force")
	}
	if recs, _ := st.History(context.Background(), 0); len(recs) != 0 {
		t.Errorf("a dry run stored %d records", len(recs))
	}
}

// Each key of the layer knows the revision that set it: a write sets the
// keys it changes and keeps the others', another replica learns it from
// the record, and a record written before provenance was kept gets it
// from the history. Refusals name it.
func TestProvenance(t *testing.T) {
	st := store.NewMemory()
	a := start(t, st, spa(t), "a")
	ctx := context.Background()
	if _, err := a.m.Write(ctx, origins("alice", nil, other)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.m.Write(ctx, state.Change{User: "bob", Source: state.SourceAPI, Mutate: func(_ *policy.Document, l *policy.Layer) error {
		l.Service["max_age"] = json.RawMessage(`"1h"`)
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	p := a.m.View().Provenance
	if s := p.Source("service", "allow_origins"); s.Revision != 1 || s.User != "alice" || s.Time.IsZero() {
		t.Errorf("allow_origins: %+v", s)
	}
	if s := p.Source("service", "max_age"); s.Revision != 2 || s.User != "bob" {
		t.Errorf("max_age: %+v", s)
	}
	// Another replica reads it with the record.
	b := start(t, st, spa(t), "b")
	if s := b.m.View().Provenance.Source("service", "allow_origins"); s.Revision != 1 || s.User != "alice" {
		t.Errorf("b's allow_origins: %+v", s)
	}
	// The refusal names it.
	p0 := b.ctrl.Snapshot().Service().Policy
	h := http.Header{"Origin": {"https://evil.example"}, "Access-Control-Request-Method": {"GET"}}
	if got := p0.Text(p0.Preflight(h)); !strings.Contains(got, "set by the run-time layer, revision 1, by alice, at ") {
		t.Errorf("refusal: %q", got)
	}

	// A record without provenance (written by an older corsgate): the
	// history tells.
	old := store.NewMemory()
	for i, u := range []string{"carol", "dave"} {
		layer := fmt.Sprintf(`{"service":{"allow_origins":["https://o%d.example.com"]}}`, i)
		diff := `[{"scope":"service","key":"allow_origins"}]`
		if _, err := old.Commit(ctx, uint64(i), store.Record{User: u, Source: "api", Layer: json.RawMessage(layer), Diff: json.RawMessage(diff)}); err != nil {
			t.Fatal(err)
		}
	}
	c := start(t, old, spa(t), "c")
	if s := c.m.View().Provenance.Source("service", "allow_origins"); s.Revision != 2 || s.User != "dave" {
		t.Errorf("from the history: %+v", s)
	}
}

// A store at the last revision number refuses every write with a clear
// error, not a 503 that says the store does not answer.
func TestStoreAtTheLastRevision(t *testing.T) {
	st := store.NewMemory()
	st.Force(store.Record{Revision: ^uint64(0), Layer: json.RawMessage(`{"service":{"max_age":"1h"}}`)})
	g := start(t, st, spa(t), "r1")
	_, err := g.m.Write(context.Background(), origins("alice", nil, other))
	if e := wantKind(t, err, state.Conflict); !strings.Contains(e.Reason, "last revision number") {
		t.Errorf("reason %q", e.Reason)
	}
	if !g.m.Status().Store.OK {
		t.Errorf("the store is reported as failing: %+v", g.m.Status().Store)
	}
}

// A rollback lists only the keys it changes, and records its target: a
// key written with other spacing than the store keeps is no change.
func TestRollbackDiffAndTarget(t *testing.T) {
	g := start(t, own{store.NewMemory()}, spa(t), "r1")
	ctx := context.Background()
	set := func(key, value string) {
		t.Helper()
		if _, err := g.m.Write(ctx, state.Change{User: "alice", Source: state.SourceAPI, Mutate: func(_ *policy.Document, l *policy.Layer) error {
			if l.Service == nil {
				l.Service = map[string]json.RawMessage{}
			}
			l.Service[key] = json.RawMessage(value)
			return nil
		}}); err != nil {
			t.Fatal(err)
		}
	}
	set("expose_headers", `[ "X-Request-Id",   "X-Total-Count" ]`)
	set("max_age", `"10m"`)
	if _, err := g.m.Rollback(ctx, 1, "bob", nil); err != nil {
		t.Fatal(err)
	}
	hist, err := g.m.History(ctx, 1)
	if err != nil || len(hist) != 1 || hist[0].RollbackOf != 1 {
		t.Fatalf("history %+v %v", hist, err)
	}
	if d := string(hist[0].Diff); !strings.Contains(d, `"max_age"`) || strings.Contains(d, "expose_headers") {
		t.Errorf("the rollback's diff: %s; want max_age only", d)
	}
}
