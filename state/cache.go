package state

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/internal/private"
	"github.com/corsgate/corsgate/store"
)

// cache is the file, in the state directory, of the last layer applied:
// what a gateway started while a shared store does not answer serves, and
// what corsgate explain reads.
type cache struct {
	dir, path string
	// store names the store; a cache of another store is not used.
	store string
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
	data, err := json.MarshalIndent(cacheEntry{Store: c.store, Saved: time.Now().UTC(), Record: rec}, "", "  ")
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
	if err := m.adopt(c.Record); err != nil {
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
