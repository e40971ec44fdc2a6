package state

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/internal/private"
	"github.com/corsgate/corsgate/store"
)

// cache is the file, in the state directory, of the last layer applied:
// what a gateway started while a shared store does not answer serves, and
// what corsgate explain reads.
//
// Applying a change does not wait for the file: save hands the record to
// a writer in the background, which writes one record at a time, each
// atomically (a temporary file, fsync, rename), so that a crash leaves the
// previous record or the new one, never a part. A record waiting to be
// written is replaced by a newer one. Another replica's change is written
// at once when the cache was last written more than followerInterval ago,
// and otherwise once that interval has passed, with whatever came in
// between: a burst of changes costs one write a second, not one each (an
// fsync and a rename cost a replica a third of an apply). The gateway's
// own changes are written at once (their author's answer waits for it).
// A crash loses at most what was applied since the last write finished:
// the last change, or the last second of a burst. The store keeps every
// revision; the cache is only read when the store does not answer at
// start.
type cache struct {
	dir, path string
	// store names the store; a cache of another store is not used.
	store string
	// failed reports a write that failed.
	failed func(error)

	mu      sync.Mutex
	next    *store.Record // waiting to be written
	written chan struct{} // closed when next, or a newer record, is written
	urgent  bool          // next is to be written at once
	busy    bool          // the writer runs
	last    time.Time     // when the last write began
	kick    chan struct{} // wakes a waiting writer
	idle    *sync.Cond    // signalled when the writer stops; on mu
	writes  atomic.Int64  // files written, for the tests
}

// followerInterval is the least time between two writes of the cache for
// other replicas' changes.
const followerInterval = time.Second

// save has rec written in the background (at once when urgent, else after
// followerInterval since the last write at the latest), and returns a
// channel closed once rec or a newer record is in the file (or its write
// failed, which failed reports).
func (c *cache) save(rec store.Record, urgent bool) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.next == nil {
		c.written = make(chan struct{})
	}
	c.next = &rec
	c.urgent = c.urgent || urgent
	done := c.written
	c.start()
	return done
}

// start starts the writer, or wakes it when it waits and the record is
// urgent. c.mu is held.
func (c *cache) start() {
	if c.kick == nil {
		c.kick = make(chan struct{}, 1)
	}
	if !c.busy {
		c.busy = true
		go c.drain()
		return
	}
	if c.urgent {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// flush writes what waits at once, and waits until it is written.
func (c *cache) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.idle == nil {
		c.idle = sync.NewCond(&c.mu)
	}
	if c.next != nil {
		c.urgent = true
		c.start()
	}
	for c.busy {
		c.idle.Wait()
	}
}

// drain writes the waiting records until none is left, each when it is
// due.
func (c *cache) drain() {
	for {
		c.mu.Lock()
		rec, done := c.next, c.written
		if rec == nil {
			c.busy = false
			if c.idle != nil {
				c.idle.Broadcast()
			}
			c.mu.Unlock()
			return
		}
		if wait := time.Until(c.last.Add(followerInterval)); !c.urgent && wait > 0 {
			c.mu.Unlock()
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-c.kick:
				t.Stop()
			}
			continue
		}
		c.next, c.written, c.urgent = nil, nil, false
		c.last = time.Now()
		c.mu.Unlock()
		if err := c.write(*rec); err != nil && c.failed != nil {
			c.failed(err)
		}
		c.writes.Add(1)
		close(done)
	}
}

// cacheEntry is the cache file's content.
type cacheEntry struct {
	// Store names the store the record came from; a cache of another
	// store (another prefix, another cluster) is not used.
	Store  string       `json:"store"`
	Saved  time.Time    `json:"saved"`
	Record store.Record `json:"record"`
}

// writeCache replaces the cache with rec, atomically: a crash leaves the
// old cache or the new one, never a part.
func (c *cache) write(rec store.Record) error {
	data, err := json.Marshal(cacheEntry{Store: c.store, Saved: time.Now().UTC(), Record: rec})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	if err := private.Check(c.dir); err != nil {
		return err
	}
	f, err := os.CreateTemp(c.dir, ".applied-layer-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), c.path)
}

// read reads the cache of the same store. A cache that another user could
// have written (the file or its directory not owned by this user, or
// writable by group or others, or reached through a directory others may
// write) is refused: whoever writes it decides the policy served while
// the store is down.
func (c *cache) read() (cacheEntry, error) {
	var e cacheEntry
	for _, p := range []string{c.dir, c.path} {
		if _, err := os.Stat(p); err != nil {
			return e, err
		}
		if err := private.Check(p); err != nil {
			return e, fmt.Errorf("its cache cannot be trusted: %w", err)
		}
	}
	data, err := os.ReadFile(c.path)
	if err != nil {
		return e, err
	}
	if err := json.Unmarshal(data, &e); err != nil {
		return e, fmt.Errorf("%s is not a cache that corsgate wrote (%v); delete it", c.path, err)
	}
	if e.Store != c.store {
		return e, fmt.Errorf("%s is the cache of another store (%s, not %s), so it is not used", c.path, e.Store, c.store)
	}
	return e, nil
}

// startFromCache applies the cached layer when the shared store does not
// answer at start. m.mu is held.
func (m *Manager) startFromCache(storeErr error) {
	c, err := m.cache.read()
	if err != nil {
		msg := "no cached layer to serve, so the file alone applies until the store answers"
		if !os.IsNotExist(err) {
			msg = fmt.Sprintf("the cached layer cannot be used (%v), so the file alone applies until the store answers", err)
		}
		m.logger.Warning(LogPrefix, msg)
		return
	}
	if err := m.adoptFrom(c.Record, true); err != nil {
		m.logger.Error(LogPrefix, "the cached layer does not validate against the file, so the file alone applies until the store answers:", err)
		return
	}
	m.storeRev = c.Record.Revision
	m.logger.Warning(LogPrefix, fmt.Sprintf("the store does not answer; serving the cached layer of revision %d (saved %s) until it does: %v", c.Record.Revision, c.Saved.Format(time.RFC3339), storeErr))
}

// Cached is the layer a gateway last applied, as its cache file keeps it.
type Cached struct {
	// Record is the revision applied: its layer and its provenance.
	Record store.Record
	// Saved is when it was written.
	Saved time.Time
}

// ReadCache reads the cache file of the state directory dir, written by a
// gateway whose store is named storeName (StoreInfo.Name), without opening
// or locking the store. It refuses a cache that another user could have
// written, or one of another store; an error that os.IsNotExist reports
// means that no gateway with this state directory applied a layer.
func ReadCache(dir, storeName string) (Cached, error) {
	c := &cache{dir: dir, path: filepath.Join(dir, CacheFile), store: storeName}
	e, err := c.read()
	if err != nil {
		return Cached{}, err
	}
	return Cached{Record: e.Record, Saved: e.Saved}, nil
}

// Layer is the cached layer, and where its keys come from.
func (c Cached) Layer() (*policy.Layer, Provenance, error) {
	l := &policy.Layer{}
	if len(c.Record.Layer) > 0 {
		var err error
		if l, err = policy.ParseLayer(c.Record.Layer); err != nil {
			return nil, nil, err
		}
	}
	var p Provenance
	if len(c.Record.Provenance) > 0 {
		_ = json.Unmarshal(c.Record.Provenance, &p)
	}
	return l, p, nil
}
