package state

import (
	"context"
	"fmt"
	"time"

	"github.com/corsgate/corsgate/store"
)

// Run is the follow loop of a shared store, until ctx is done: it puts in
// force every revision that another replica commits (validated first: a
// revision that does not validate is refused, and the gateway keeps its
// layer), tracks whether the store answers, and publishes this gateway in
// the fleet. Every revision goes through the same commit path as a write.
// With a store of its own there is nothing to follow: it waits for ctx.
//
// When ctx is done, Run returns once the cache holds the last layer
// applied.
func (m *Manager) Run(ctx context.Context) {
	defer m.Flush()
	if m.shared == nil {
		<-ctx.Done()
		return
	}
	done := make(chan struct{})
	go func() { m.fleet.run(ctx); close(done) }()
	// From 0: the first read is always given, and onChange drops it when
	// it is what this gateway applies already. That also catches a store
	// rebuilt behind the same address that holds another layer under the
	// same revision number.
	m.shared.Watch(ctx, 0, m.onChange, m.onHealth)
	<-done
}

// onChange puts in force a revision the store's watch delivered.
func (m *Manager) onChange(rec store.Record, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.refuse(0, err)
		return
	}
	if rec.Revision < m.storeRev {
		// Older than a revision this gateway committed or saw: the watch
		// is catching up with this gateway's own writes. Unless the store
		// really went back (restored from a backup), it is skipped.
		ctx, cancel := context.WithTimeout(context.Background(), m.timeout)
		latest, err := m.shared.Current(ctx)
		cancel()
		if err != nil || latest.Revision >= m.storeRev {
			return
		}
		m.logger.Warning(LogPrefix, fmt.Sprintf("the store went back from revision %d to %d (restored from a backup?); following it", m.storeRev, latest.Revision))
		rec = latest
	}
	m.storeRev = rec.Revision
	cur := m.cur.Load()
	if rec.Revision == cur.Revision && sameStored(rec.Layer, cur.Layer) {
		if m.cond.Load().behind != nil {
			m.applied(rec, true, false)
		}
		return
	}
	if err := m.adopt(rec); err != nil {
		m.refuse(rec.Revision, err)
		return
	}
	m.logger.Info(LogPrefix, fmt.Sprintf("revision %d applied from the store (%s, by %s)", rec.Revision, rec.Source, rec.User))
}

// onHealth tracks whether the store answers.
func (m *Manager) onHealth(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.storeDown(err)
		return
	}
	m.storeUp()
}

// announcer publishes this gateway in the fleet of a shared store, one
// update at a time; a newer member replaces one not yet published.
type announcer struct {
	shared store.Shared
	next   chan store.Member
}

func newAnnouncer(sh store.Shared) *announcer {
	return &announcer{shared: sh, next: make(chan store.Member, 1)}
}

// publish hands mem to run; the latest wins.
func (a *announcer) publish(mem store.Member) {
	for {
		select {
		case a.next <- mem:
			return
		default:
			select {
			case <-a.next:
			default:
			}
		}
	}
}

// run publishes the members handed to it until ctx is done.
func (a *announcer) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case mem := <-a.next:
			// When the store does not answer, its renewal publishes the
			// latest member once it does; the outage is logged by
			// onHealth.
			a.shared.Announce(ctx, mem)
		}
	}
}

// Members lists the live gateways of the fleet: this one alone with a
// store of its own.
func (m *Manager) Members(ctx context.Context) ([]store.Member, error) {
	if m.shared == nil {
		m.mu.Lock()
		mem := m.member
		m.mu.Unlock()
		mem.Updated = time.Now().UTC()
		return []store.Member{mem}, nil
	}
	ms, err := m.shared.Members(ctx)
	if err != nil {
		e := fail(Unavailable, "the store did not answer, so the fleet cannot be listed: %v", err)
		e.Err = err
		return nil, e
	}
	return ms, nil
}

// WatchMembers calls fn with the live gateways of the fleet at once and
// then each time they change, until fn returns true (then it returns nil)
// or ctx is done (then ctx's error). With a store of its own, the fleet is
// this gateway alone. It returns an Unavailable Error when the store does
// not answer.
func (m *Manager) WatchMembers(ctx context.Context, fn func([]store.Member) bool) error {
	if m.shared == nil {
		ms, err := m.Members(ctx)
		if err != nil {
			return err
		}
		if fn(ms) {
			return nil
		}
		<-ctx.Done()
		return ctx.Err()
	}
	err := m.shared.WatchMembers(ctx, fn)
	if err == nil || ctx.Err() != nil {
		return err
	}
	e := fail(Unavailable, "the store did not answer, so the fleet cannot be followed: %v", err)
	e.Err = err
	return e
}

// Flush waits until the cache of the applied layer holds the last layer
// applied (it is written in the background): call it before the process
// exits or the state directory is removed. Run calls it when it returns.
func (m *Manager) Flush() {
	if m.cache != nil {
		m.cache.flush()
	}
}
