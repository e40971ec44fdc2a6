package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// Memory is a Shared store held in memory: what the etcd store does, for
// the tests of the code above the store, which need replicas, outages and
// hostile values but not a real etcd. Several gateways in one process
// share it by sharing the value. Nothing survives the process.
//
// Beyond the Store and Shared contracts it can be told to fail, as a real
// store does: SetDown makes every call fail as an unreachable store does,
// Corrupt puts a value that is not a record where the current record is,
// and LoseNextAnswer makes the next Commit store its record and then
// return an error, as when the answer of a committed transaction is lost.
type Memory struct {
	mu      sync.Mutex
	records []Record // oldest first; the last is current
	keep    int
	bad     error // the current value is not a record, and this says why
	down    error // every call fails with it
	lose    error // the next Commit stores, then returns it
	members map[string]Member
	closed  bool
	changed chan struct{} // closed and replaced at every change
}

// memoryKeep is how many records a Memory keeps.
const memoryKeep = 200

// NewMemory returns an empty Memory store.
func NewMemory() *Memory {
	return &Memory{keep: memoryKeep, members: map[string]Member{}, changed: make(chan struct{})}
}

// SetDown makes every call fail with err, as a store that does not answer;
// nil makes it answer again. Watchers are told.
func (m *Memory) SetDown(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.down = err
	m.notify()
}

// Corrupt replaces the current value with one that is not a record, as
// another tool writing the store's key would: reads of the current record
// fail with an error matching ErrBadRecord that says why, and watchers are
// given that error. The next Commit replaces it.
func (m *Memory) Corrupt(why string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.bad = badRecord(fmt.Errorf("the current value is not a corsgate record: %s", why))
	m.notify()
}

// Force makes rec, as given (its revision included), the current record,
// as a restore from a backup or another tool writing the store would.
func (m *Memory) Force(rec Record) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records = append(m.records, cloneRecord(rec))
	m.bad = nil
	m.notify()
}

// LoseNextAnswer makes the next Commit store its record as usual and then
// return err instead of the record: the caller cannot tell whether its
// change was stored.
func (m *Memory) LoseNextAnswer(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lose = err
}

// notify wakes the watchers. m.mu is held.
func (m *Memory) notify() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// check returns the error of a call made now. m.mu is held.
func (m *Memory) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if m.closed {
		return errors.New("the memory store is closed")
	}
	return m.down
}

// current returns the current record. m.mu is held.
func (m *Memory) current() (Record, error) {
	if m.bad != nil {
		return Record{}, m.bad
	}
	if len(m.records) == 0 {
		return Record{}, nil
	}
	return cloneRecord(m.records[len(m.records)-1]), nil
}

// Current implements Store.
func (m *Memory) Current(ctx context.Context) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return Record{}, err
	}
	return m.current()
}

// Commit implements Store.
func (m *Memory) Commit(ctx context.Context, ifRevision uint64, rec Record) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return Record{}, err
	}
	rec, err := prepareRecord(rec)
	if err != nil {
		return Record{}, err
	}
	var cur uint64
	if n := len(m.records); n > 0 {
		cur = m.records[n-1].Revision
	}
	if cur != ifRevision {
		return Record{}, fmt.Errorf("%w: the change was made to revision %d, but the current revision is %d", ErrConflict, ifRevision, cur)
	}
	if cur == ^uint64(0) {
		return Record{}, fmt.Errorf("%w, %d, in the memory store", ErrFull, cur)
	}
	rec.Revision = cur + 1
	rec = cloneRecord(rec)
	m.records = append(m.records, rec)
	if len(m.records) > m.keep {
		m.records = slices.Delete(m.records, 0, len(m.records)-m.keep)
	}
	m.bad = nil
	m.notify()
	if err := m.lose; err != nil {
		m.lose = nil
		return Record{}, err
	}
	return cloneRecord(rec), nil
}

// Get implements Store.
func (m *Memory) Get(ctx context.Context, revision uint64) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return Record{}, err
	}
	for _, r := range m.records {
		if r.Revision == revision {
			return cloneRecord(r), nil
		}
	}
	var cur uint64
	if n := len(m.records); n > 0 {
		cur = m.records[n-1].Revision
	}
	switch {
	case revision == 0:
		return Record{}, revisionZero
	case revision > cur:
		return Record{}, neverWritten(revision, cur)
	}
	return Record{}, notFound("revision %d was dropped from the memory store, which keeps the last %d revisions, now %d to %d", revision, m.keep, m.records[0].Revision, cur)
}

// History implements Store.
func (m *Memory) History(ctx context.Context, limit int) ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	out := []Record{}
	for i := len(m.records) - 1; i >= 0 && (limit <= 0 || len(out) < limit); i-- {
		out = append(out, cloneRecord(m.records[i]))
	}
	return out, nil
}

// Close implements Store. Watches return, and members are withdrawn.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		m.notify()
	}
	return nil
}

// Watch implements Shared: it gives the current record at the start when
// its revision is not after, then every record whose revision or layer
// differs from the last one given, and the error of a value that is not a
// record. onHealth is told when the store stops and starts answering.
func (m *Memory) Watch(ctx context.Context, after uint64, onChange func(Record, error), onHealth func(error)) error {
	if onChange == nil {
		onChange = func(Record, error) {}
	}
	if onHealth == nil {
		onHealth = func(error) {}
	}
	health := 0 // as last told: 1 answers, -1 does not
	var last Record
	var lastBad error
	started := false
	for {
		m.mu.Lock()
		wake, closed := m.changed, m.closed
		down := m.down
		rec, bad := m.current()
		m.mu.Unlock()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case closed:
			return errors.New("the memory store is closed")
		case down != nil:
			if health >= 0 {
				health = -1
				onHealth(down)
			}
		default:
			if health <= 0 {
				health = 1
				onHealth(nil)
			}
			switch {
			case bad != nil:
				if lastBad == nil || bad.Error() != lastBad.Error() {
					onChange(Record{}, bad)
				}
			case !started && rec.Revision == after:
			case !started, lastBad != nil, rec.Revision != last.Revision, string(rec.Layer) != string(last.Layer):
				onChange(rec, nil)
			}
			started, last, lastBad = true, rec, bad
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		}
	}
}

// Announce implements Shared. The member stays until ctx is done or the
// store is closed.
func (m *Memory) Announce(ctx context.Context, mem Member) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return err
	}
	mem.Updated = time.Now().UTC()
	_, known := m.members[mem.ID]
	m.members[mem.ID] = mem
	m.notify()
	if !known {
		go func() {
			<-ctx.Done()
			m.mu.Lock()
			delete(m.members, mem.ID)
			m.notify()
			m.mu.Unlock()
		}()
	}
	return nil
}

// WatchMembers implements Shared.
func (m *Memory) WatchMembers(ctx context.Context, fn func([]Member) bool) error {
	for {
		m.mu.Lock()
		wake := m.changed
		m.mu.Unlock()
		ms, err := m.Members(ctx)
		if err != nil {
			return err
		}
		if fn(ms) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		}
	}
}

// Members implements Shared.
func (m *Memory) Members(ctx context.Context) ([]Member, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	if m.closed {
		return []Member{}, nil
	}
	out := slices.Collect(maps.Values(m.members))
	slices.SortFunc(out, func(a, b Member) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// cloneRecord copies rec's layer and diff, so that callers cannot change
// what the store holds.
func cloneRecord(rec Record) Record {
	rec.Layer = slices.Clone(rec.Layer)
	rec.Diff = slices.Clone(rec.Diff)
	rec.Provenance = slices.Clone(rec.Provenance)
	return rec
}

var _ Shared = (*Memory)(nil)
