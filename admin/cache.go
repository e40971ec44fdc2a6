package admin

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/corsgate/corsgate/store"
)

// CacheFile is the file, in the state directory, where a gateway with a
// shared store keeps the last layer it applied.
const CacheFile = "applied-layer.json"

// cacheEntry is the cache file's content.
type cacheEntry struct {
	// Store names the store the record came from; a cache of another
	// store (another prefix, another cluster) is not used.
	Store  string       `json:"store"`
	Saved  time.Time    `json:"saved"`
	Record store.Record `json:"record"`
}

func (s *Server) cachePath() string { return filepath.Join(s.cfg.StateDir, CacheFile) }

// writeCache replaces the cache with rec, atomically: a crash leaves the
// old cache or the new one, never a part.
func (s *Server) writeCache(rec store.Record) error {
	data, err := json.MarshalIndent(cacheEntry{Store: s.cfg.Store.Describe(), Saved: time.Now().UTC(), Record: rec}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.cfg.StateDir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(s.cfg.StateDir, ".applied-layer-*.tmp")
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
	return os.Rename(f.Name(), s.cachePath())
}

// readCache reads the cache of the same store. A cache that another user
// could have written (the file, or its directory, writable by group or
// others) is refused: whoever writes it decides the policy served while
// etcd is down.
func (s *Server) readCache() (cacheEntry, error) {
	var c cacheEntry
	for _, p := range []string{s.cfg.StateDir, s.cachePath()} {
		info, err := os.Stat(p)
		if err != nil {
			return c, err
		}
		if perm := info.Mode().Perm(); perm&0o022 != 0 && runtime.GOOS != "windows" {
			return c, fmt.Errorf("%s may be written by group or others (mode %04o), so its cache cannot be trusted: run chmod go-w on it", p, perm)
		}
	}
	data, err := os.ReadFile(s.cachePath())
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("%s is not a cache that corsgate wrote (%v); delete it", s.cachePath(), err)
	}
	if want := s.cfg.Store.Describe(); c.Store != want {
		return c, fmt.Errorf("%s is the cache of another store (%s, not %s), so it is not used", s.cachePath(), c.Store, want)
	}
	return c, nil
}

// startFromCache applies the cached layer when the shared store does not
// answer at start. s.mu is held.
func (s *Server) startFromCache(storeErr error) {
	c, err := s.readCache()
	if err != nil {
		msg := "no cached layer to serve, so the file alone applies until the store answers"
		if !os.IsNotExist(err) {
			msg = fmt.Sprintf("the cached layer cannot be used (%v), so the file alone applies until the store answers", err)
		}
		s.logger.Warning(LogPrefix, msg)
		return
	}
	if err := s.adopt(c.Record); err != nil {
		s.logger.Error(LogPrefix, "the cached layer does not validate against the file, so the file alone applies until the store answers:", err)
		return
	}
	s.storeRev = c.Record.Revision
	s.logger.Warning(LogPrefix, fmt.Sprintf("the store does not answer; serving the cached layer of revision %d (saved %s) until it does: %v", c.Record.Revision, c.Saved.Format(time.RFC3339), storeErr))
}
