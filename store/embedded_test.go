package store_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/corsgate/corsgate/store"
	"github.com/corsgate/corsgate/store/storetest"
)

// holdEnv makes the test binary a helper process (see TestMain) that opens
// the store in the directory it names, commits one record, says "ready",
// and holds the store until its standard input closes.
const holdEnv = "CORSGATE_STORE_TEST_HOLD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(holdEnv); dir != "" {
		os.Exit(hold(dir))
	}
	os.Exit(m.Run())
}

func hold(dir string) int {
	s, err := store.OpenEmbedded(dir, store.EmbeddedOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer s.Close()
	if _, err := s.Commit(context.Background(), 0, store.Record{User: "child", Source: "api", Layer: json.RawMessage(`{"child":true}`)}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, t.TempDir(), store.EmbeddedOptions{})
	})
}

func open(t *testing.T, dir string, opts store.EmbeddedOptions) *store.Embedded {
	t.Helper()
	s, err := store.OpenEmbedded(dir, opts)
	if err != nil {
		t.Fatalf("OpenEmbedded(%s): %v", dir, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func layer(n int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"service":{"allow_origins":["https://app%d.example"]}}`, n))
}

// commitN commits n records, numbered from the store's current revision.
func commitN(t *testing.T, s store.Store, n int) []store.Record {
	t.Helper()
	ctx := context.Background()
	cur, err := s.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var recs []store.Record
	for i := range n {
		rev := cur.Revision + uint64(i)
		rec, err := s.Commit(ctx, rev, store.Record{User: fmt.Sprint("user", rev+1), Source: "api", Layer: layer(int(rev + 1)), Diff: json.RawMessage(`{"n":1}`)})
		if err != nil {
			t.Fatalf("Commit(%d): %v", rev, err)
		}
		recs = append(recs, rec)
	}
	return recs
}

func revisions(recs []store.Record) []uint64 {
	revs := []uint64{}
	for _, r := range recs {
		revs = append(revs, r.Revision)
	}
	return revs
}

// same reports whether two records are equal, times compared as instants
// and JSON as bytes (both come from the store).
func same(a, b store.Record) bool {
	return a.Revision == b.Revision && a.Time.Equal(b.Time) && a.User == b.User && a.Source == b.Source &&
		bytes.Equal(a.Layer, b.Layer) && bytes.Equal(a.Diff, b.Diff)
}

func mustHistory(t *testing.T, s store.Store) []store.Record {
	t.Helper()
	recs, err := s.History(context.Background(), 0)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	return recs
}

func TestReopenKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	s, err := store.OpenEmbedded(dir, store.EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	commitN(t, s, 4)
	reset, err := s.Commit(context.Background(), 4, store.Record{User: "bob", Source: "reset", Layer: json.RawMessage("null")})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := s.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	hist := mustHistory(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t, dir, store.EmbeddedOptions{})
	cur2, err := s.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !same(cur2, cur) || !same(cur2, reset) || string(cur2.Layer) != "null" {
		t.Errorf("Current after reopening = %+v, want %+v", cur2, cur)
	}
	hist2 := mustHistory(t, s)
	if len(hist2) != len(hist) || len(hist) != 5 {
		t.Fatalf("History after reopening: revisions %v, want %v", revisions(hist2), revisions(hist))
	}
	for i := range hist {
		if !same(hist2[i], hist[i]) {
			t.Errorf("History after reopening, [%d] = %+v, want %+v", i, hist2[i], hist[i])
		}
	}
	if next := commitN(t, s, 1); next[0].Revision != 6 {
		t.Errorf("the first commit after reopening is revision %d, want 6", next[0].Revision)
	}
}

func TestKeepDropsTheOldest(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	steps := []struct {
		keep    int // the option, at each (re)opening
		commits int
		history []uint64 // after the commits
	}{
		{3, 7, []uint64{7, 6, 5}},
		{2, 0, []uint64{7, 6, 5}}, // a smaller Keep applies at the next commit
		{2, 1, []uint64{8, 7}},
		{10, 2, []uint64{10, 9, 8, 7}},
		{1, 1, []uint64{11}},
	}
	for _, step := range steps {
		s, err := store.OpenEmbedded(dir, store.EmbeddedOptions{Keep: step.keep})
		if err != nil {
			t.Fatal(err)
		}
		commitN(t, s, step.commits)
		hist := mustHistory(t, s)
		if got := revisions(hist); fmt.Sprint(got) != fmt.Sprint(step.history) {
			t.Errorf("Keep %d, after %d commits: history %v, want %v", step.keep, step.commits, got, step.history)
		}
		newest, oldest := step.history[0], step.history[len(step.history)-1]
		if cur, err := s.Current(ctx); err != nil || cur.Revision != newest {
			t.Errorf("Keep %d: Current = revision %d, %v; want %d", step.keep, cur.Revision, err, newest)
		}
		for rev := uint64(1); rev <= newest+1; rev++ {
			rec, err := s.Get(ctx, rev)
			switch {
			case rev < oldest:
				if !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "dropped") {
					t.Errorf("Keep %d: Get(%d) of a dropped revision: error %v, want ErrNotFound saying it was dropped", step.keep, rev, err)
				}
			case rev > newest:
				if want := fmt.Sprintf("revision %d does not exist; the newest is %d", rev, newest); !errors.Is(err, store.ErrNotFound) || err.Error() != want {
					t.Errorf("Keep %d: Get(%d) of a future revision: error %v, want ErrNotFound saying %q", step.keep, rev, err, want)
				}
			case err != nil || rec.Revision != rev || !bytes.Equal(rec.Layer, layer(int(rev))):
				t.Errorf("Keep %d: Get(%d) = %+v, %v", step.keep, rev, rec, err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDefaultKeepIs200(t *testing.T) {
	s := open(t, t.TempDir(), store.EmbeddedOptions{})
	commitN(t, s, 201)
	hist := mustHistory(t, s)
	if len(hist) != 200 || hist[0].Revision != 201 || hist[199].Revision != 2 {
		t.Errorf("after 201 commits: %d records, revisions %d to %d; want 200, from 201 to 2", len(hist), hist[0].Revision, hist[len(hist)-1].Revision)
	}
	if _, err := s.Get(context.Background(), 1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(1) after 201 commits: error %v, want ErrNotFound", err)
	}
}

func TestModes(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "state")
	dir := filepath.Join(parent, "corsgate")
	s := open(t, dir, store.EmbeddedOptions{})
	if want := filepath.Join(dir, "corsgate.db"); s.Path() != want {
		t.Errorf("Path() = %q, want %q", s.Path(), want)
	}
	commitN(t, s, 1)
	for _, tc := range []struct {
		path string
		mode os.FileMode
	}{
		{parent, os.ModeDir | 0o700},
		{dir, os.ModeDir | 0o700},
		{s.Path(), 0o600},
	} {
		info, err := os.Stat(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode() & (os.ModeType | os.ModePerm); got != tc.mode {
			t.Errorf("%s: mode %s, want %s", tc.path, got, tc.mode)
		}
	}
}

func TestStateDirectoryCannotBeCreated(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir  string
		want []string
	}{
		{filepath.Join(file, "state"), []string{"cannot create the state directory " + filepath.Join(file, "state"), "not a directory", "choose another state directory"}},
		{"", []string{"needs a state directory", "name one"}},
	} {
		s, err := store.OpenEmbedded(tc.dir, store.EmbeddedOptions{})
		if err == nil {
			s.Close()
			t.Errorf("OpenEmbedded(%q) succeeded", tc.dir)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("OpenEmbedded(%q): error %q, want it to say %q", tc.dir, err, w)
			}
		}
	}
}

func TestPathIsADirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "corsgate.db"), 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := store.OpenEmbedded(dir, store.EmbeddedOptions{})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "corsgate.db")+" is not a regular file (it is a directory)") {
		t.Errorf("OpenEmbedded with a directory at corsgate.db: error %v", err)
	}
}

func lockMessage(path string) string {
	return "another corsgate process uses " + path
}

func TestLockedInProcess(t *testing.T) {
	for _, tc := range []struct {
		timeout  time.Duration
		min, max time.Duration
	}{
		{0, 900 * time.Millisecond, 2 * time.Second}, // the default, 1s
		{300 * time.Millisecond, 250 * time.Millisecond, 900 * time.Millisecond},
	} {
		t.Run(fmt.Sprint("LockTimeout=", tc.timeout), func(t *testing.T) {
			dir := t.TempDir()
			first, err := store.OpenEmbedded(dir, store.EmbeddedOptions{})
			if err != nil {
				t.Fatal(err)
			}
			commitN(t, first, 2)
			start := time.Now()
			second, err := store.OpenEmbedded(dir, store.EmbeddedOptions{LockTimeout: tc.timeout})
			elapsed := time.Since(start)
			if err == nil {
				second.Close()
				t.Fatal("a second OpenEmbedded of an open store succeeded")
			}
			path := filepath.Join(dir, "corsgate.db")
			for _, w := range []string{lockMessage(path), "stop it, or give this one its own state directory"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("second OpenEmbedded: error %q, want it to say %q", err, w)
				}
			}
			if elapsed < tc.min || elapsed > tc.max {
				t.Errorf("second OpenEmbedded failed after %s, want between %s and %s (waiting for the lock)", elapsed, tc.min, tc.max)
			}
			// The first store is unharmed, and once closed the file opens.
			if cur, err := first.Current(context.Background()); err != nil || cur.Revision != 2 {
				t.Errorf("the first store after the failed second open: revision %d, %v", cur.Revision, err)
			}
			if err := first.Close(); err != nil {
				t.Fatal(err)
			}
			third := open(t, dir, store.EmbeddedOptions{LockTimeout: tc.timeout})
			if cur, err := third.Current(context.Background()); err != nil || cur.Revision != 2 {
				t.Errorf("reopened after Close: revision %d, %v; want 2", cur.Revision, err)
			}
		})
	}
}

func TestLockedByAnotherProcess(t *testing.T) {
	for _, end := range []string{"exits", "is killed"} {
		t.Run(strings.ReplaceAll(end, " ", "_"), func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), holdEnv+"="+dir)
			cmd.Stderr = os.Stderr
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if line != "ready\n" {
				t.Fatalf("the helper process said %q (%v), want ready", line, err)
			}

			start := time.Now()
			s, err := store.OpenEmbedded(dir, store.EmbeddedOptions{LockTimeout: 300 * time.Millisecond})
			elapsed := time.Since(start)
			if err == nil {
				s.Close()
				t.Fatal("OpenEmbedded of a store another process holds succeeded")
			}
			if !strings.Contains(err.Error(), lockMessage(filepath.Join(dir, "corsgate.db"))) {
				t.Errorf("OpenEmbedded of a store another process holds: error %q, want it to say %q", err, lockMessage(filepath.Join(dir, "corsgate.db")))
			}
			if elapsed < 250*time.Millisecond || elapsed > 2*time.Second {
				t.Errorf("OpenEmbedded gave up after %s, want about 300ms", elapsed)
			}

			if end == "exits" {
				_ = stdin.Close()
			} else {
				_ = cmd.Process.Kill()
			}
			err = cmd.Wait()
			if (end == "exits") != (err == nil) {
				t.Errorf("the helper process %s: %v", end, err)
			}
			s = open(t, dir, store.EmbeddedOptions{LockTimeout: 300 * time.Millisecond})
			cur, err := s.Current(context.Background())
			if err != nil || cur.Revision != 1 || cur.User != "child" || string(cur.Layer) != `{"child":true}` {
				t.Errorf("after the other process %s: Current = %+v, %v; want its commit", end, cur, err)
			}
		})
	}
}

func TestClosed(t *testing.T) {
	s, err := store.OpenEmbedded(t.TempDir(), store.EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	commitN(t, s, 1)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"Current": func() error { _, err := s.Current(ctx); return err },
		"Commit":  func() error { _, err := s.Commit(ctx, 1, store.Record{Layer: layer(2)}); return err },
		"Get":     func() error { _, err := s.Get(ctx, 1); return err },
		"History": func() error { _, err := s.History(ctx, 0); return err },
	} {
		if err := call(); err == nil || !strings.Contains(err.Error(), s.Path()+" is closed") {
			t.Errorf("%s on a closed store: error %v, want one saying it is closed", name, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
}

// wantRefused checks that OpenEmbedded refuses dir's corsgate.db with an
// error that says what and how to start without it, and that it left the
// file as it was. It opens twice: a failed open must not keep the file
// locked.
func wantRefused(t *testing.T, dir string, what ...string) {
	t.Helper()
	path := filepath.Join(dir, "corsgate.db")
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	infoBefore, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s, err := openNoPanic(t, dir)
		if err == nil {
			s.Close()
			t.Fatalf("OpenEmbedded of a bad %s succeeded", path)
		}
		msg := err.Error()
		for _, w := range append([]string{path, "left untouched", "move it away"}, what...) {
			if !strings.Contains(msg, w) {
				t.Errorf("OpenEmbedded: error %q, want it to say %q", msg, w)
			}
		}
		if strings.Contains(msg, "another corsgate process") {
			t.Errorf("OpenEmbedded: error %q: an earlier failed open left the file locked", msg)
		}
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	infoAfter, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(after, before) || infoAfter.Mode() != infoBefore.Mode() || !infoAfter.ModTime().Equal(infoBefore.ModTime()) {
		t.Errorf("OpenEmbedded changed the bad file %s (%d bytes, now %d)", path, len(before), len(after))
	}
}

func openNoPanic(t *testing.T, dir string) (s *store.Embedded, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("OpenEmbedded panicked: %v", r)
		}
	}()
	return store.OpenEmbedded(dir, store.EmbeddedOptions{LockTimeout: 200 * time.Millisecond})
}

func TestNotABboltFile(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 64<<10)
	for i := range random {
		random[i] = byte(rnd.UintN(256))
	}
	for _, tc := range []struct {
		name    string
		content []byte
	}{
		{"text", []byte("hello, this is not a database\n")},
		{"JSON", []byte(`{"revision":1,"layer":{"service":{}}}`)},
		{"random 64KiB", random},
		{"random one page", random[:os.Getpagesize()]},
		{"zeros 64KiB", make([]byte, 64<<10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "corsgate.db"), tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			wantRefused(t, dir, "not a bbolt database, or is damaged")
		})
	}
}

// realDB writes a store of n commits with big layers, so that it spans
// many pages, and returns its bytes and its high-water mark (the end of
// its last page in use, which may be short of the file's end).
func realDB(t *testing.T, n int) (data []byte, hwm int64) {
	t.Helper()
	dir := t.TempDir()
	s, err := store.OpenEmbedded(dir, store.EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		big := fmt.Sprintf(`{"service":{"allow_origins":["https://app%d.example"],"expose_headers":[%s"X-Last"]}}`, i, strings.Repeat(`"X-Header-Of-Some-Length",`, 100))
		if _, err := s.Commit(context.Background(), uint64(i), store.Record{User: "u", Source: "api", Layer: json.RawMessage(big)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(s.Path(), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(func(tx *bolt.Tx) error { hwm = tx.Size(); return nil }); err != nil {
		t.Fatal(err)
	}
	data, err = os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	return data, hwm
}

func TestTruncatedFile(t *testing.T) {
	data, hwm := realDB(t, 30)
	page := int64(os.Getpagesize())
	if hwm < 10*page || int64(len(data)) < hwm {
		t.Fatalf("the test database is too small: %d bytes, high-water mark %d", len(data), hwm)
	}
	for _, size := range []int64{1, 100, page - 1, page, page + 100, 2 * page, 2*page + 100, 3 * page, 4 * page, hwm / 2, hwm - page, hwm - 1} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "corsgate.db"), data[:size], 0o600); err != nil {
				t.Fatal(err)
			}
			wantRefused(t, dir)
		})
	}
	// Cut at the high-water mark, nothing in use is lost: the file opens.
	t.Run("at the high-water mark", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "corsgate.db"), data[:hwm], 0o600); err != nil {
			t.Fatal(err)
		}
		s := open(t, dir, store.EmbeddedOptions{})
		if hist := mustHistory(t, s); len(hist) != 30 || hist[0].Revision != 30 {
			t.Errorf("history: revisions %v, want 30 to 1", revisions(hist))
		}
	})
}

// editDB writes a store of 3 commits in a new directory, changes its file
// with bbolt directly, and returns the directory.
func editDB(t *testing.T, edit func(tx *bolt.Tx) error) string {
	t.Helper()
	dir := t.TempDir()
	s, err := store.OpenEmbedded(dir, store.EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	commitN(t, s, 3)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(s.Path(), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(edit); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func key(rev uint64) []byte { return binary.BigEndian.AppendUint64(nil, rev) }

func TestBadContent(t *testing.T) {
	put := func(bucket string, k, v []byte) func(tx *bolt.Tx) error {
		return func(tx *bolt.Tx) error { return tx.Bucket([]byte(bucket)).Put(k, v) }
	}
	for _, tc := range []struct {
		name string
		edit func(tx *bolt.Tx) error
		want []string
	}{
		{"record not JSON", put("history", key(2), []byte(`{"revision":2,"layer":`)),
			[]string{"is damaged: the record of revision 2 does not decode"}},
		{"record with an array layer", put("history", key(1), []byte(`{"revision":1,"layer":[1]}`)),
			[]string{"is damaged: the record of revision 1 does not decode", "not an object"}},
		{"record of another revision", put("history", key(3), []byte(`{"revision":9,"layer":{}}`)),
			[]string{"the record stored as revision 3 says it is revision 9"}},
		{"key not a revision", put("history", []byte("x"), []byte(`{}`)),
			[]string{"the history holds an entry that is not a revision"}},
		{"current revision ahead of the history", put("corsgate", []byte("revision"), key(4)),
			[]string{"its current revision is 4, but the newest record in its history is revision 3"}},
		{"current revision of 5 bytes", put("corsgate", []byte("revision"), []byte("12345")),
			[]string{"its current revision is 5 bytes long instead of 8"}},
		{"history bucket missing", func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("history")) },
			[]string{"its buckets are missing"}},
		{"meta bucket missing", func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("corsgate")) },
			[]string{`its bucket "corsgate" is missing`}},
		{"no layout version", func(tx *bolt.Tx) error { return tx.Bucket([]byte("corsgate")).Delete([]byte("format")) },
			[]string{"does not say which layout it uses"}},
		{"another layout version", put("corsgate", []byte("format"), []byte("2")),
			[]string{`was written by another version of corsgate (layout "2"; this one reads "1")`, "run that version"}},
		{"another program's bucket", func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("sessions")); return err },
			[]string{`is a bbolt database, but not corsgate's: it holds a bucket "sessions"`, "give corsgate its own state directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantRefused(t, editDB(t, tc.edit), tc.want...)
		})
	}
}

// A file damaged while the store has it open: every call fails with an
// error, none panics, and Close still closes.
func TestDamagedWhileOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := store.OpenEmbedded(dir, store.EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	commitN(t, s, 5)
	f, err := os.OpenFile(s.Path(), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	info, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	// Every page but the two meta pages becomes 0xff bytes.
	page := int64(os.Getpagesize())
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xff}, int(info.Size()-2*page)), 2*page); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	calls := []struct {
		name string
		call func() error
	}{
		{"Current", func() error { _, err := s.Current(ctx); return err }},
		{"History", func() error { _, err := s.History(ctx, 0); return err }},
		{"Get", func() error { _, err := s.Get(ctx, 5); return err }},
		{"Commit", func() error { _, err := s.Commit(ctx, 5, store.Record{Layer: layer(6)}); return err }},
		{"Current again", func() error { _, err := s.Current(ctx); return err }},
	}
	for _, c := range calls {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s on a damaged file panicked: %v", c.name, r)
				}
			}()
			err := c.call()
			if err == nil || !strings.Contains(err.Error(), s.Path()+" is damaged") || !strings.Contains(err.Error(), "move it away") {
				t.Errorf("%s on a damaged file: error %v, want one saying it is damaged", c.name, err)
			}
		}()
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close of a damaged store: %v", err)
	}
}

// A state directory or a store file that another user could write is
// refused, with the path, the mode and the fix, and left as it is.
func TestNotPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s := open(t, dir, store.EmbeddedOptions{})
	commitN(t, s, 1)
	s.Close()
	os.Chmod(dir, 0o777)
	if _, err := store.OpenEmbedded(dir, store.EmbeddedOptions{}); err == nil || !strings.Contains(err.Error(), "mode 0777") || !strings.Contains(err.Error(), "chmod go-w "+dir) {
		t.Errorf("a world-writable state directory: %v", err)
	}
	os.Chmod(dir, 0o700)
	os.Chmod(filepath.Join(dir, "corsgate.db"), 0o666)
	if _, err := store.OpenEmbedded(dir, store.EmbeddedOptions{}); err == nil || !strings.Contains(err.Error(), "embedded store's file is not private") {
		t.Errorf("a world-writable store file: %v", err)
	}
}
