package state

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/corsgate/corsgate/store"
)

// Records saved in a burst are coalesced: the last one is written, in
// fewer writes than saves; Flush waits for the file, and no temporary file
// is left.
func TestCacheCoalescesAndFlushes(t *testing.T) {
	dir := t.TempDir()
	c := &cache{dir: dir, path: dir + "/" + CacheFile, store: "test", failed: func(err error) { t.Error(err) }}
	rec := func(n int) store.Record {
		return store.Record{Revision: uint64(n), Source: SourceAPI, Layer: json.RawMessage(fmt.Sprintf(`{"service": {"max_age": "%ds"}}`, n))}
	}
	var last <-chan struct{}
	for n := 1; n <= 50; n++ {
		last = c.save(rec(n), false)
	}
	<-last
	got, err := c.read()
	if err != nil || got.Record.Revision != 50 {
		t.Fatalf("the cache once the last save is written: revision %d, %v; want 50", got.Record.Revision, err)
	}
	c.flush()
	if w := c.writes.Load(); w > 2 || w < 1 {
		t.Errorf("50 records of other replicas saved in a burst: %d writes, want one or two (one a second)", w)
	}

	// Within a second of the last write, another replica's change waits;
	// the gateway's own change is written at once, with it; Flush writes
	// what waits at once.
	c.save(rec(51), false)
	select {
	case <-c.save(rec(52), true):
	case <-time.After(followerInterval / 2):
		t.Error("the gateway's own change waited for the interval of other replicas' changes")
	}
	if got, err := c.read(); err != nil || got.Record.Revision != 52 {
		t.Fatalf("after the gateway's own change: revision %d, %v; want 52", got.Record.Revision, err)
	}
	c.save(rec(53), false)
	start := time.Now()
	c.flush()
	if got, err := c.read(); err != nil || got.Record.Revision != 53 || time.Since(start) > followerInterval/2 {
		t.Errorf("Flush: revision %d, %v, after %s; want 53 at once", got.Record.Revision, err, time.Since(start))
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != CacheFile {
		t.Errorf("the state directory holds %v; want the cache alone (no temporary file left)", entries)
	}
}
