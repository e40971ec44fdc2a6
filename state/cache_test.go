package state

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

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
		last = c.save(rec(n))
	}
	<-last
	got, err := c.read()
	if err != nil || got.Record.Revision != 50 {
		t.Fatalf("the cache once the last save is written: revision %d, %v; want 50", got.Record.Revision, err)
	}
	c.flush()
	if w := c.writes.Load(); w >= 50 || w < 1 {
		t.Errorf("50 records saved in a burst: %d writes, want fewer (coalesced)", w)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != CacheFile {
		t.Errorf("the state directory holds %v; want the cache alone (no temporary file left)", entries)
	}
}
