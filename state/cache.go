package state

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/corsgate/corsgate/store"
)

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
func (m *Manager) writeCache(rec store.Record) error {
	data, err := json.MarshalIndent(cacheEntry{Store: m.info.Name, Saved: time.Now().UTC(), Record: rec}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(m.cacheDir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(m.cacheDir, ".applied-layer-*.tmp")
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
	return os.Rename(f.Name(), m.cachePath)
}

// readCache reads the cache of the same store. A cache that another user
// could have written (the file, or its directory, writable by group or
// others) is refused: whoever writes it decides the policy served while
// the store is down.
func (m *Manager) readCache() (cacheEntry, error) {
	var c cacheEntry
	for _, p := range []string{m.cacheDir, m.cachePath} {
		info, err := os.Stat(p)
		if err != nil {
			return c, err
		}
		if perm := info.Mode().Perm(); perm&0o022 != 0 && runtime.GOOS != "windows" {
			return c, fmt.Errorf("%s may be written by group or others (mode %04o), so its cache cannot be trusted: run chmod go-w on it", p, perm)
		}
	}
	data, err := os.ReadFile(m.cachePath)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("%s is not a cache that corsgate wrote (%v); delete it", m.cachePath, err)
	}
	if c.Store != m.info.Name {
		return c, fmt.Errorf("%s is the cache of another store (%s, not %s), so it is not used", m.cachePath, c.Store, m.info.Name)
	}
	return c, nil
}

// startFromCache applies the cached layer when the shared store does not
// answer at start. m.mu is held.
func (m *Manager) startFromCache(storeErr error) {
	c, err := m.readCache()
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
