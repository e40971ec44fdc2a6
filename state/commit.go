package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/store"
)

// proposal is a state offered to the commit path.
type proposal struct {
	file  *policy.Document
	layer *policy.Layer
	// prov says which revision set each key of layer.
	prov Provenance
	// stored, when not nil, is a record already in the store (another
	// replica's revision, the store's at start, the cache): the state is
	// adopted as that revision and nothing is written.
	stored *store.Record
	// write, when not nil, is the record to commit as the next revision:
	// this gateway's own change.
	write *store.Record
	// bestEffort applies the state even when the store does not take the
	// record: a file reload, which is in force whatever the history says.
	bestEffort bool
	// snap, when not nil, is file and layer compiled already (a write
	// compiles before it commits, to judge the change).
	snap *core.Snapshot
	// fromCache says that stored was read from the cache, which then
	// holds it already.
	fromCache bool
}

// compile merges layer over file and compiles the result once, against
// the gateway's routes: the snapshot that a commit publishes. A layer
// that turns CORS off is judged first as if it did not: the keys it
// carries must be valid, exactly as when CORS is on, so that turning
// CORS on again never fails on keys nobody just set.
func (m *Manager) compile(file *policy.Document, layer *policy.Layer, prov Provenance) (*core.Snapshot, error) {
	if layer.Off {
		on := layer.Clone()
		on.Off = false
		if _, err := m.compile(file, on, prov); err != nil {
			return nil, err
		}
	}
	eff, perrs := layer.Over(file)
	if perrs != nil {
		return nil, invalid(perrs)
	}
	eff.Sources = prov.sources()
	snap, err := core.Compile(eff, m.ctrl.Routes())
	if err != nil {
		return nil, compileError(err)
	}
	return snap, nil
}

// commit is the one path by which the state in force changes: compile
// once, commit to the store when p.write says so, publish the compiled
// snapshot, record the outcome. It returns the store's error as it is for
// the caller to judge (Write retries a conflict), and an Error for the
// rest. m.mu is held.
func (m *Manager) commit(ctx context.Context, p proposal) (store.Record, *core.Snapshot, error) {
	cur := m.cur.Load()
	snap := p.snap
	if snap == nil {
		var err error
		if snap, err = m.compile(p.file, p.layer, p.prov); err != nil {
			return store.Record{}, nil, err
		}
	}
	next := &View{File: p.file, Layer: p.layer, Revision: cur.Revision, Provenance: p.prov}
	var rec store.Record
	recorded := false
	switch {
	case p.stored != nil:
		rec, recorded = *p.stored, true
	case p.write != nil:
		r, err := m.store.Commit(ctx, m.storeRev, *p.write)
		switch {
		case err == nil:
			rec, recorded = r, true
			m.storeRev = r.Revision
		case p.bestEffort:
			m.logger.Error(LogPrefix, "the file's change is applied but not recorded in the history:", err)
		default:
			return store.Record{}, nil, err
		}
	}
	if recorded {
		next.Revision = rec.Revision
	}
	if err := m.ctrl.Publish(snap); err != nil {
		// The compiled snapshot cannot be put in force: say so, and let
		// the next commit or read of the store repair it.
		m.appliesFailed.Add(1)
		if recorded && rec.Revision != cur.Revision {
			m.setBehind(unapplied, rec.Revision, err)
		}
		m.logger.Error(LogPrefix, fmt.Sprintf("revision %d was stored but not applied: %v", next.Revision, err))
		return rec, nil, &Error{Kind: Internal, Err: err, Reason: fmt.Sprintf("revision %d is stored but could not be applied, so this gateway keeps revision %d until the next change or read of the store repairs it: %v", next.Revision, cur.Revision, err)}
	}
	m.cur.Store(next)
	if recorded {
		m.applied(rec, !p.fromCache, p.write != nil)
	} else {
		m.appliesOK.Add(1)
	}
	return rec, snap, nil
}

// adopt puts in force a record read from the store, or changes nothing
// and says why. m.mu is held.
func (m *Manager) adopt(rec store.Record) error { return m.adoptFrom(rec, false) }

// adoptFrom is adopt; fromCache says that rec was read from the cache.
func (m *Manager) adoptFrom(rec store.Record, fromCache bool) error {
	layer := &policy.Layer{}
	if len(rec.Layer) > 0 {
		var err error
		if layer, err = policy.ParseLayer(rec.Layer); err != nil {
			return fmt.Errorf("revision %d: %v", rec.Revision, err)
		}
	}
	_, _, err := m.commit(context.Background(), proposal{file: m.cur.Load().File, layer: layer, prov: m.provenanceOf(rec, layer), stored: &rec, fromCache: fromCache})
	var e *Error
	if errors.As(err, &e) && e.Kind == Invalid {
		return fmt.Errorf("revision %d does not validate against the file:\n%v", rec.Revision, policy.Errors(e.Problems))
	}
	return err
}

// applied records that rec is in force: the status, the fleet, and (with
// save) the cache: at once for this gateway's own change (own), in the
// background and coalesced for another replica's. m.mu is held.
func (m *Manager) applied(rec store.Record, save, own bool) {
	m.appliesOK.Add(1)
	m.setCond(func(c *condition) { c.behind = nil })
	m.member.Applied, m.member.Error = rec.Revision, ""
	if m.cache != nil && save {
		// In the background: the change is in force without waiting for
		// the disk.
		m.cached = m.cache.save(rec, own)
	}
	m.announce()
}

// refuse records that the store's revision rev (0: a value that is not a
// record) was not applied: the gateway keeps its layer and says why.
// m.mu is held.
func (m *Manager) refuse(rev uint64, err error) {
	m.appliesFailed.Add(1)
	b := m.setBehind(refused, rev, err)
	msg := b.message(m.cur.Load().Revision)
	m.member.Error = msg
	m.logger.Error(LogPrefix, msg)
	m.announce()
}

// setBehind records that the store's revision rev is not in force here,
// and why. m.mu is held.
func (m *Manager) setBehind(why behindKind, rev uint64, err error) *behind {
	b := &behind{why: why, refusal: Refusal{Revision: rev, Error: err.Error(), Time: time.Now().UTC()}}
	m.setCond(func(c *condition) { c.behind = b })
	return b
}

// storeDown records that the store stopped answering. m.mu is held.
func (m *Manager) storeDown(err error) {
	if m.cond.Load().outage != nil {
		return
	}
	o := &outage{since: time.Now().UTC(), err: err}
	m.setCond(func(c *condition) { c.outage = o })
	m.logger.Error(LogPrefix, o.message(m.cur.Load().Revision))
}

// storeUp records that the store answers again. m.mu is held.
func (m *Manager) storeUp() {
	o := m.cond.Load().outage
	if o == nil {
		return
	}
	m.setCond(func(c *condition) { c.outage = nil })
	m.logger.Info(LogPrefix, fmt.Sprintf("the store answers again, after %s", time.Since(o.since).Round(time.Millisecond)))
}

// Change is one write of the run-time layer.
type Change struct {
	// User is who makes the change; Source is where it comes from (one of
	// the Source constants).
	User, Source string
	// IfRevision, when not nil, is the revision the change is based on:
	// when another is in force, the change fails with PreconditionFailed.
	IfRevision *uint64
	// RequireIfRevision refuses a change without IfRevision, with
	// PreconditionRequired.
	RequireIfRevision bool
	// RollbackOf is, for a rollback, the revision whose layer it restores;
	// the history records it.
	RollbackOf uint64
	// Mutate changes layer, a copy of the layer in force; file is the
	// file's document it is judged against. An error it returns is
	// returned as it is when it is an Error, and as Invalid otherwise.
	Mutate func(file *policy.Document, layer *policy.Layer) error
}

// Result is what a change did.
type Result struct {
	// Revision is the revision in force afterwards.
	Revision uint64
	// Warnings are what is valid but risky in the new state.
	Warnings policy.Errors
}

// maxCatchUps bounds how many times a write catches up with revisions
// that other replicas committed before it gives up.
const maxCatchUps = 5

// Write changes the run-time layer: the new layer is merged over the
// file, validated, committed to the store as the next revision and
// applied, or nothing happens and the Error says why.
func (m *Manager) Write(ctx context.Context, c Change) (Result, error) {
	res, cached, err := m.write(ctx, c)
	if err == nil && cached != nil {
		// The change is in force; its author's answer also waits until
		// the cache holds it, outside the lock (other replicas' changes
		// do not wait), so that corsgate explain, run next, sees it.
		<-cached
	}
	return res, err
}

// write is Write, under the lock; it also returns what to wait for
// until the cache holds the change.
func (m *Manager) write(ctx context.Context, c Change) (Result, <-chan struct{}, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	res, err := m.writeLocked(ctx, c)
	return res, m.cached, err
}

// writeLocked makes the change. m.mu is held.
func (m *Manager) writeLocked(ctx context.Context, c Change) (Result, error) {
	start := time.Now()
	m.repair(ctx)
	for attempt := 0; ; attempt++ {
		cur := m.cur.Load()
		if c.IfRevision == nil && c.RequireIfRevision {
			rev := cur.Revision
			return Result{}, &Error{Kind: PreconditionRequired, Current: &rev, Reason: "this write needs If-Match with the revision it changes, such as If-Match: \"3\"; read it from the ETag of GET /v1/cors/config"}
		}
		if m.shared != nil && m.storeRev != cur.Revision && (c.IfRevision == nil || *c.IfRevision != m.storeRev) {
			// The store's current revision, which another replica
			// committed, was refused here (its keys do not validate
			// against this gateway's file): a change based on the layer
			// this gateway keeps would silently undo it. (With the
			// embedded store, the refused revision is this gateway's own
			// past, which a write replaces as before.)
			why := ""
			if b := m.cond.Load().behind; b != nil {
				why = ": " + b.refusal.Error
			}
			return Result{}, fail(Conflict, "the store is at revision %d, which this gateway refused%s; it keeps revision %d. Fix this gateway's file so that revision %d validates, write through a replica that applies it, or replace it with If-Match: \"%d\"", m.storeRev, why, cur.Revision, m.storeRev, m.storeRev)
		}
		if c.IfRevision != nil && *c.IfRevision != cur.Revision && *c.IfRevision != m.storeRev {
			rev := cur.Revision
			return Result{}, &Error{Kind: PreconditionFailed, Current: &rev, Reason: fmt.Sprintf("the configuration changed since revision %d; it is at revision %d: read it again (GET, then If-Match: \"%d\") and redo the change", *c.IfRevision, cur.Revision, cur.Revision)}
		}
		// Compiled once: the commit path publishes this snapshot.
		now := time.Now().UTC()
		cand, prov, snap, err := m.candidate(cur, c, revisionSource(m.storeRev+1, c.User, now))
		if err != nil {
			return Result{}, err
		}
		if m.store == nil {
			return Result{}, fail(Unavailable, "the store cannot be used, so changes cannot be kept: %s", m.cond.Load().openErr)
		}
		if o := m.cond.Load().outage; o != nil {
			// A gateway learns that the store is back as soon as its
			// connection is: a second is a fair wait.
			e := fail(Unavailable, "nothing changed: %s", o.message(cur.Revision))
			e.RetryAfter = time.Second
			return Result{}, e
		}
		if sameLayers(cand, cur.Layer) && c.Source != SourceRollback && c.Source != SourceReset && m.storeRev == cur.Revision {
			// Nothing changes: no new revision.
			return Result{Revision: cur.Revision, Warnings: snap.Warnings()}, nil
		}
		rec := &store.Record{Time: now, User: c.User, Source: c.Source, RollbackOf: c.RollbackOf, Layer: layerJSON(cand), Diff: mustJSON(diffLayers(cur.Layer, cand)), Provenance: mustJSON(prov)}
		stored, _, err := m.commit(ctx, proposal{file: cur.File, layer: cand, prov: prov, write: rec, snap: snap})
		if errors.Is(err, store.ErrConflict) && m.shared != nil && attempt < maxCatchUps {
			// Another replica committed first: catch up with it, then
			// judge the change again (an If-Match then fails with 412,
			// a change without one applies over the newer layer).
			if err := m.catchUp(ctx); err != nil {
				return Result{}, err
			}
			continue
		}
		if err != nil {
			return Result{}, m.commitError(err, cur.Revision)
		}
		m.lat.record(time.Since(start))
		m.logger.Info(LogPrefix, fmt.Sprintf("revision %d applied (%s, by %s)", stored.Revision, c.Source, c.User))
		return Result{Revision: stored.Revision, Warnings: snap.Warnings()}, nil
	}
}

// candidate applies a change to a copy of the layer in force, works out
// the provenance of its keys (src for those it sets anew), and compiles
// the result over the file.
func (m *Manager) candidate(cur *View, c Change, src policy.Source) (*policy.Layer, Provenance, *core.Snapshot, error) {
	cand := cur.Layer.Clone()
	if c.Mutate != nil {
		if err := c.Mutate(cur.File, cand); err != nil {
			var e *Error
			if errors.As(err, &e) {
				return nil, nil, nil, e
			}
			return nil, nil, nil, &Error{Kind: Invalid, Reason: err.Error(), Err: err}
		}
	}
	prov := cur.Provenance.next(cur.Layer, cand, src)
	snap, err := m.compile(cur.File, cand, prov)
	if err != nil {
		return nil, nil, nil, err
	}
	return cand, prov, snap, nil
}

// commitError turns what the store said about a commit into an Error.
// kept is the revision still in force. m.mu is held.
func (m *Manager) commitError(err error, kept uint64) error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, store.ErrFull):
		e := fail(Conflict, "no change can be stored any more: %v", err)
		e.Err = err
		return e
	case errors.Is(err, store.ErrConflict) && m.shared != nil:
		e := fail(Conflict, "other replicas kept committing changes before this one (%v); retry it", err)
		e.RetryAfter, e.Err = time.Second, err
		return e
	case errors.Is(err, store.ErrConflict):
		e := fail(Conflict, "the store holds a revision this gateway has not seen (%v); restart it, or give each gateway its own store", err)
		e.Err = err
		return e
	case m.shared != nil:
		// The transaction may have reached the store before the answer
		// was lost: say so rather than "nothing changed", and let the
		// next write or read of the store settle it.
		m.logger.Error(LogPrefix, "the store did not confirm revision", m.storeRev+1, ":", err)
		m.setBehind(unconfirmed, m.storeRev+1, err)
		e := fail(Unavailable, "the store did not confirm the change, so this gateway still applies revision %d; the change may or may not be stored: GET /v1/cors/history once the store answers shows whether revision %d is yours (%v)", kept, m.storeRev+1, err)
		e.RetryAfter, e.Err = time.Second, err
		return e
	}
	m.logger.Error(LogPrefix, "the store refused revision", m.storeRev+1, ":", err)
	e = fail(Unavailable, "the store did not take the change, so nothing changed (revision %d stays in force): %v", kept, err)
	e.Err = err
	return e
}

// repair reads the store back when a revision of it is not in force for a
// reason that a read can settle: a write it did not confirm, or a
// revision stored but not applied. m.mu is held.
func (m *Manager) repair(ctx context.Context) {
	b := m.cond.Load().behind
	if b == nil || b.why == refused || m.store == nil {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	rec, err := m.store.Current(rctx)
	if err != nil {
		return // the write that follows meets the same store
	}
	m.storeRev = rec.Revision
	if rec.Revision == m.cur.Load().Revision {
		m.setCond(func(c *condition) { c.behind = nil })
		return
	}
	if err := m.adopt(rec); err != nil {
		m.refuse(rec.Revision, err)
		return
	}
	m.logger.Info(LogPrefix, fmt.Sprintf("revision %d applied from the store, read back", rec.Revision))
}

// catchUp reads the store's current revision and applies it, for a write
// that lost a race with another replica. m.mu is held.
func (m *Manager) catchUp(ctx context.Context) error {
	rec, err := m.shared.Current(ctx)
	if err != nil {
		if isBadRecord(err) {
			m.refuse(0, err)
			e := fail(Conflict, "another writer changed the store, and its value is not a corsgate record: %v", err)
			e.Err = err
			return e
		}
		e := fail(Unavailable, "another replica changed the configuration, and the store did not answer when asked for it, so nothing changed: %v", err)
		e.Err = err
		return e
	}
	m.storeRev = rec.Revision
	if rec.Revision == m.cur.Load().Revision {
		return nil
	}
	if err := m.adopt(rec); err != nil {
		m.refuse(rec.Revision, err)
	}
	return nil
}

// Check is the dry run of a change: what Write would answer, without
// committing or applying anything, and whatever the store's health.
func (m *Manager) Check(c Change) (Result, error) {
	cur := m.cur.Load()
	_, _, snap, err := m.candidate(cur, c, policy.Source{Runtime: true})
	if err != nil {
		return Result{}, err
	}
	return Result{Revision: cur.Revision, Warnings: snap.Warnings()}, nil
}

// Evaluate compiles layer over the file as a write would, and returns the
// snapshot without committing or applying it: the candidate of
// report-only mode. It also returns the revision in force, which the
// candidate is judged against, and what the candidate changes from its
// layer.
func (m *Manager) Evaluate(layer *policy.Layer) (*core.Snapshot, uint64, []KeyChange, error) {
	cur := m.cur.Load()
	snap, err := m.compile(cur.File, layer, cur.Provenance.next(cur.Layer, layer, policy.Source{Runtime: true, Candidate: true}))
	if err != nil {
		return nil, 0, nil, err
	}
	return snap, cur.Revision, diffLayers(cur.Layer, layer), nil
}

// Rollback makes the layer of an earlier revision the one in force, as a
// new revision.
func (m *Manager) Rollback(ctx context.Context, revision uint64, user string, ifRevision *uint64) (Result, error) {
	if m.store == nil {
		return Result{}, fail(Unavailable, "the store cannot be used: %s", m.cond.Load().openErr)
	}
	rec, err := m.store.Get(ctx, revision)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// The store's message says which revision is missing and why, in
		// one sentence; what to do about it follows.
		e := fail(NotFound, "%v (see corsgate config history)", err)
		e.Err = err
		return Result{}, e
	case err != nil:
		e := fail(Unavailable, "revision %d cannot be read: %v", revision, err)
		e.Err = err
		return Result{}, e
	}
	old, err := policy.ParseLayer(rec.Layer)
	if err != nil {
		e := fail(Internal, "revision %d: %v", revision, err)
		e.Err = err
		return Result{}, e
	}
	return m.Write(ctx, Change{User: user, Source: SourceRollback, RollbackOf: revision, IfRevision: ifRevision, Mutate: func(_ *policy.Document, l *policy.Layer) error {
		*l = *old
		return nil
	}})
}

// Reset drops the run-time layer, as a new revision: the file alone
// applies.
func (m *Manager) Reset(ctx context.Context, user string, ifRevision *uint64) (Result, error) {
	return m.Write(ctx, Change{User: user, Source: SourceReset, IfRevision: ifRevision, Mutate: func(_ *policy.Document, l *policy.Layer) error {
		*l = policy.Layer{}
		return nil
	}})
}

// History lists up to limit revisions of the store, newest first.
func (m *Manager) History(ctx context.Context, limit int) ([]store.Record, error) {
	if m.store == nil {
		return nil, fail(Unavailable, "the store cannot be used: %s", m.cond.Load().openErr)
	}
	recs, err := m.store.History(ctx, limit)
	if err != nil {
		e := fail(Unavailable, "the store cannot be read: %v", err)
		e.Err = err
		return nil, e
	}
	if recs == nil {
		recs = []store.Record{}
	}
	return recs, nil
}

// ReloadFile puts a new version of the configuration file's CORS document
// in force under the run-time layer. When the merge does not validate,
// nothing changes and the status keeps the error (an Error of kind
// Invalid). With a store of its own, a change of the file's CORS settings
// is recorded in the history as a revision of source "file" (the layer
// stays as it was), so that the ETag of the API changes with the
// effective settings. With a shared store it is not: each replica reads
// its own file, and the store's history is the fleet's.
func (m *Manager) ReloadFile(file *policy.Document, restartRequired []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.cur.Load()
	p := proposal{file: file.Clone(), layer: cur.Layer, prov: cur.Provenance}
	if changes := diffDocuments(cur.File, file); len(changes) > 0 && m.store != nil && m.shared == nil {
		p.write = &store.Record{User: "file", Source: SourceFile, Layer: layerJSON(cur.Layer), Diff: mustJSON(changes)}
		p.bestEffort = true
	}
	ctx, cancel := context.WithTimeout(context.Background(), m.timeout)
	defer cancel()
	masked := maskedEdits(cur.File, file, cur)
	_, _, err := m.commit(ctx, p)
	now := time.Now()
	m.setCond(func(c *condition) {
		c.file.restartRequired = restartRequired
		if err != nil {
			c.file.err = Detail(err)
			return
		}
		c.file.err, c.file.lastReload = "", &now
	})
	if err != nil {
		if KindOf(err) == Invalid {
			m.appliesFailed.Add(1)
		}
		return err
	}
	for _, d := range masked {
		m.logger.Warning("[RELOAD]", maskedMessage(d))
	}
	if m.shared != nil && m.storeRev != m.cur.Load().Revision {
		// A revision refused against the old file may validate against
		// the new one.
		rec, err := m.shared.Current(ctx)
		if err == nil && rec.Revision == m.storeRev {
			if aerr := m.adopt(rec); aerr == nil {
				m.logger.Info(LogPrefix, fmt.Sprintf("revision %d applied from the store, now that the file lets it validate", rec.Revision))
			}
		}
	}
	return nil
}

// ReloadFailed records in the status that a new version of the file was
// refused before it reached ReloadFile (it does not parse, or is invalid
// on its own): the settings in force stay.
func (m *Manager) ReloadFailed(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.setCond(func(c *condition) { c.file.err = Detail(err) })
}

// Detail is an error's whole message: every problem of an Invalid Error,
// one per line, rather than the first.
func Detail(err error) string {
	var errs policy.Errors
	if errors.As(err, &errs) && len(errs) > 0 {
		return errs.Error()
	}
	return err.Error()
}

// isBadRecord tells a store value that is not a record from a store that
// does not answer.
func isBadRecord(err error) bool { return errors.Is(err, store.ErrBadRecord) }

// layerJSON is a layer as the store keeps it: null when empty.
func layerJSON(l *policy.Layer) json.RawMessage {
	if l.Empty() {
		return json.RawMessage("null")
	}
	return mustJSON(l)
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
