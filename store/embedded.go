package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/corsgate/corsgate/internal/private"
)

// EmbeddedFile is the name of the embedded store's database file in its
// directory.
const EmbeddedFile = "corsgate.db"

// The defaults of EmbeddedOptions.
const (
	defaultKeep        = 200
	defaultLockTimeout = time.Second
)

// The database's layout: a bucket of facts about the whole file, and the
// history, one record a revision, keyed by the revision in 8 big-endian
// bytes so that bbolt's key order is the revisions' order. The current
// record is the history's record of the current revision, which a commit
// never drops.
var (
	bucketMeta    = []byte("corsgate")
	bucketHistory = []byte("history")
	keyFormat     = []byte("format")   // the layout's version, formatVersion
	keyRevision   = []byte("revision") // the current revision, 8 big-endian bytes
)

// formatVersion is written in every database this package creates. A file
// with another one was written by another version of corsgate.
const formatVersion = "1"

// Embedded is the default store: a bbolt database file corsgate.db in a
// directory, the gateway's state directory. One process at a time uses the
// file (bbolt locks it); each commit is one bbolt transaction, written to
// disk (fsync) before Commit returns. The history keeps the last
// EmbeddedOptions.Keep revisions.
//
// Embedded never panics on a damaged file: bbolt's panics, and the faults
// of reading a memory-mapped file that was cut short, become errors. After
// such an error the store refuses every call but Close, since its file can
// no longer be trusted.
type Embedded struct {
	db     *bolt.DB
	path   string
	keep   uint64
	closed atomic.Bool
	broken atomic.Pointer[error] // set when bbolt panicked: the file is damaged
}

var _ Store = (*Embedded)(nil)

// EmbeddedOptions tunes an Embedded store. The zero value gives the
// defaults.
type EmbeddedOptions struct {
	// Keep is how many history records are kept (oldest dropped first, at
	// each commit); 200 when zero or negative. The current record is always
	// kept.
	Keep int
	// LockTimeout is how long OpenEmbedded waits for another process's
	// lock on the file before giving up; 1s when zero or negative.
	LockTimeout time.Duration
}

// OpenEmbedded opens dir/corsgate.db, creating dir (mode 0700) and the
// file (mode 0600) when missing. It checks the whole file before using it:
// a file that is not a bbolt database, that bbolt's consistency check
// refuses, that is shorter than its data, that holds anything but
// corsgate's buckets, or that holds a record that does not decode is
// refused with an error that says so, and is left untouched. When another
// process holds the file, OpenEmbedded waits up to opts.LockTimeout, then
// fails.
func OpenEmbedded(dir string, opts EmbeddedOptions) (*Embedded, error) {
	if dir == "" {
		return nil, errors.New("the embedded store needs a state directory, and none was given: name one (it is created when missing)")
	}
	keep, timeout := opts.Keep, opts.LockTimeout
	if keep <= 0 {
		keep = defaultKeep
	}
	if timeout <= 0 {
		timeout = defaultLockTimeout
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the state directory %s (%v): create it, writable only by the user corsgate runs as, or choose another state directory", dir, pathErrCause(err))
	}
	// Whoever can write the store decides which web sites may read the
	// gateway's answers: the directory and the file must be this user's.
	if err := private.Check(dir); err != nil {
		return nil, fmt.Errorf("the state directory is not private, so the embedded store is not used: %w", err)
	}
	path := filepath.Join(dir, EmbeddedFile)
	info, err := os.Stat(path)
	if err == nil && !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (it is a %s): move it away, or choose another state directory", path, fileKind(info.Mode()))
	}
	if err == nil {
		if err := private.Check(path); err != nil {
			return nil, fmt.Errorf("the embedded store's file is not private, so it is not used: %w", err)
		}
	}
	created := errors.Is(err, fs.ErrNotExist)
	db, err := openBolt(path, timeout)
	if err != nil {
		return nil, err
	}
	e := &Embedded{db: db, path: path, keep: uint64(keep)}
	if err := e.prepare(); err != nil {
		_ = e.closeDB()
		return nil, err
	}
	if created {
		syncDir(dir)
	}
	return e, nil
}

// syncDir writes dir's entries to disk, so that a file just created there
// survives a crash of the machine. It is best effort: some systems cannot
// sync a directory, and bbolt syncs the file's content itself.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// Path returns the database file's path.
func (e *Embedded) Path() string { return e.path }

// Current implements Store.
func (e *Embedded) Current(ctx context.Context) (Record, error) {
	var rec Record
	err := e.run(ctx, false, func(tx *bolt.Tx) error {
		hist, rev, err := e.open(tx)
		if err != nil || rev == 0 {
			return err
		}
		v := hist.Get(revisionKey(rev))
		if v == nil {
			return e.damaged(fmt.Sprintf("the record of the current revision, %d, is missing", rev))
		}
		rec, err = e.decode(rev, v)
		return err
	})
	if err != nil {
		return Record{}, err
	}
	return rec, nil
}

// Commit implements Store.
func (e *Embedded) Commit(ctx context.Context, ifRevision uint64, rec Record) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	rec, err := prepareRecord(rec)
	if err != nil {
		return Record{}, err
	}
	var data []byte
	err = e.run(ctx, true, func(tx *bolt.Tx) error {
		hist, cur, err := e.open(tx)
		if err != nil {
			return err
		}
		if cur != ifRevision {
			return fmt.Errorf("%w: the change was made to revision %d, but the current revision is %d (changed by someone else meanwhile); read the current revision, apply the change to it again, and commit against revision %d", ErrConflict, ifRevision, cur, cur)
		}
		if cur == ^uint64(0) {
			return fmt.Errorf("%w, %d, in %s: move it away to start again from revision 1", ErrFull, cur, e.path)
		}
		rec.Revision = cur + 1
		if data, err = json.Marshal(rec); err != nil {
			return fmt.Errorf("the record cannot be stored: %v", err)
		}
		if err := hist.Put(revisionKey(rec.Revision), data); err != nil {
			return fmt.Errorf("cannot write revision %d to %s: %v", rec.Revision, e.path, err)
		}
		if err := tx.Bucket(bucketMeta).Put(keyRevision, revisionKey(rec.Revision)); err != nil {
			return fmt.Errorf("cannot write revision %d to %s: %v", rec.Revision, e.path, err)
		}
		return e.trim(hist, rec.Revision)
	})
	if err != nil {
		return Record{}, err
	}
	// Return what Get will return: the record as stored.
	var stored Record
	if err := json.Unmarshal(data, &stored); err != nil {
		return Record{}, fmt.Errorf("revision %d was stored in %s, but does not decode (%v)", rec.Revision, e.path, err)
	}
	return stored, nil
}

// trim drops the records older than the last e.keep revisions.
func (e *Embedded) trim(hist *bolt.Bucket, newest uint64) error {
	if newest <= e.keep {
		return nil
	}
	oldestKept := newest - e.keep + 1
	c := hist.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.First() {
		if len(k) != 8 || binary.BigEndian.Uint64(k) >= oldestKept {
			return nil
		}
		if err := c.Delete(); err != nil {
			return fmt.Errorf("cannot drop revision %d from the history in %s: %v", binary.BigEndian.Uint64(k), e.path, err)
		}
	}
	return nil
}

// Get implements Store.
func (e *Embedded) Get(ctx context.Context, revision uint64) (Record, error) {
	var rec Record
	err := e.run(ctx, false, func(tx *bolt.Tx) error {
		hist, cur, err := e.open(tx)
		if err != nil {
			return err
		}
		switch {
		case revision == 0:
			return revisionZero
		case revision > cur:
			return neverWritten(revision, cur)
		}
		v := hist.Get(revisionKey(revision))
		if v == nil {
			oldest, _ := hist.Cursor().First()
			return notFound("revision %d was dropped from the history, which keeps the last %d revisions, now %d to %d", revision, e.keep, keyRevisionOf(oldest), cur)
		}
		rec, err = e.decode(revision, v)
		return err
	})
	if err != nil {
		return Record{}, err
	}
	return rec, nil
}

// History implements Store.
func (e *Embedded) History(ctx context.Context, limit int) ([]Record, error) {
	recs := []Record{}
	err := e.run(ctx, false, func(tx *bolt.Tx) error {
		hist, _, err := e.open(tx)
		if err != nil {
			return err
		}
		c := hist.Cursor()
		for k, v := c.Last(); k != nil && (limit <= 0 || len(recs) < limit); k, v = c.Prev() {
			if len(k) != 8 {
				return e.damaged(fmt.Sprintf("the history holds a key that is not a revision (%q)", k))
			}
			rec, err := e.decode(binary.BigEndian.Uint64(k), v)
			if err != nil {
				return err
			}
			recs = append(recs, rec)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return recs, nil
}

// Close implements Store. It waits for the calls under way; a second
// Close does nothing.
func (e *Embedded) Close() error {
	if !e.closed.CompareAndSwap(false, true) {
		return nil
	}
	if err := e.closeDB(); err != nil {
		return fmt.Errorf("closing %s: %v", e.path, err)
	}
	return nil
}

// closeDB closes the bbolt database, never panicking.
func (e *Embedded) closeDB() (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("bbolt failed: %v", r)
		}
	}()
	return e.db.Close()
}

// run runs fn in a bbolt transaction (a write transaction when write is
// true), turning bbolt's panics and memory faults into errors. It returns
// the context's error before starting, and again once the transaction has
// begun (a commit may wait for another one).
func (e *Embedded) run(ctx context.Context, write bool, fn func(*bolt.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.closed.Load() {
		return e.closedError()
	}
	if broken := e.broken.Load(); broken != nil {
		return *broken
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = e.damaged(fmt.Sprintf("bbolt failed reading it (%v): it was probably cut short or overwritten", r))
			broken := err
			e.broken.Store(&broken)
		}
	}()
	txn := e.db.View
	if write {
		txn = e.db.Update
	}
	err = txn(func(tx *bolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(tx)
	})
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return e.closedError()
	}
	return err
}

func (e *Embedded) closedError() error {
	return fmt.Errorf("the store %s is closed: open it again with OpenEmbedded to use it", e.path)
}

// open returns the history bucket and the current revision.
func (e *Embedded) open(tx *bolt.Tx) (*bolt.Bucket, uint64, error) {
	meta, hist := tx.Bucket(bucketMeta), tx.Bucket(bucketHistory)
	if meta == nil || hist == nil {
		return nil, 0, e.damaged("its buckets are missing")
	}
	v := meta.Get(keyRevision)
	switch {
	case v == nil:
		return hist, 0, nil
	case len(v) != 8:
		return nil, 0, e.damaged(fmt.Sprintf("its current revision is %d bytes long instead of 8", len(v)))
	}
	return hist, binary.BigEndian.Uint64(v), nil
}

// decode decodes the stored record of revision rev.
func (e *Embedded) decode(rev uint64, v []byte) (Record, error) {
	var rec Record
	if err := json.Unmarshal(v, &rec); err != nil {
		return Record{}, e.damaged(fmt.Sprintf("the record of revision %d does not decode (%v)", rev, err))
	}
	if rec.Revision != rev {
		return Record{}, e.damaged(fmt.Sprintf("the record stored as revision %d says it is revision %d", rev, rec.Revision))
	}
	if err := checkRecord(rec); err != nil {
		return Record{}, e.damaged(fmt.Sprintf("the record of revision %d does not decode (%v)", rev, err))
	}
	return rec, nil
}

// prepare checks the whole file, then creates the buckets of a new
// database. Nothing is written before every check has passed.
func (e *Embedded) prepare() error {
	info, err := os.Stat(e.path)
	if err != nil {
		return fmt.Errorf("cannot read %s (%v): make it readable and writable by the user corsgate runs as, or choose another state directory", e.path, pathErrCause(err))
	}
	empty := false
	err = e.run(context.Background(), false, func(tx *bolt.Tx) error {
		// Every page bbolt may read lies below the high-water mark; a file
		// shorter than that was cut short, and reading past its end would be
		// a fault rather than an error.
		if info.Size() < tx.Size() {
			return e.damaged(fmt.Sprintf("it is %d bytes long, but its data runs to byte %d (the file was cut short)", info.Size(), tx.Size()))
		}
		var names [][]byte
		if err := tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			if string(name) != string(bucketMeta) && string(name) != string(bucketHistory) {
				return e.foreign(fmt.Sprintf("it holds a bucket %q", name))
			}
			names = append(names, name)
			return nil
		}); err != nil {
			return err
		}
		if len(names) == 0 {
			empty = true
		} else if err := e.checkData(tx); err != nil {
			return err
		}
		// bbolt's own check: page references, the free list, key order.
		// It runs in a goroutine of its own, so it comes after checkData
		// has read every page of the buckets here, where a fault is an
		// error.
		// Every error must be received: the check goes on reading pages
		// until it has sent them all.
		var first error
		for err := range tx.Check() {
			if first == nil {
				first = err
			}
		}
		if first != nil {
			return e.damaged(fmt.Sprintf("bbolt's consistency check fails (%v)", first))
		}
		return nil
	})
	if err != nil || !empty {
		return err
	}
	return e.run(context.Background(), true, func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return fmt.Errorf("cannot initialise %s: %v", e.path, err)
		}
		if _, err := tx.CreateBucket(bucketHistory); err != nil {
			return fmt.Errorf("cannot initialise %s: %v", e.path, err)
		}
		if err := meta.Put(keyFormat, []byte(formatVersion)); err != nil {
			return fmt.Errorf("cannot initialise %s: %v", e.path, err)
		}
		return nil
	})
}

// checkData checks corsgate's buckets and decodes every record.
func (e *Embedded) checkData(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return e.damaged(fmt.Sprintf("its bucket %q is missing", bucketMeta))
	}
	if f := meta.Get(keyFormat); string(f) != formatVersion {
		if f == nil {
			return e.damaged("it does not say which layout it uses")
		}
		return fmt.Errorf("%s was written by another version of corsgate (layout %q; this one reads %q). It was left untouched: run that version of corsgate, or move it away to start with no run-time changes", e.path, f, formatVersion)
	}
	hist, cur, err := e.open(tx)
	if err != nil {
		return err
	}
	var last uint64
	err = hist.ForEach(func(k, v []byte) error {
		if len(k) != 8 || v == nil {
			return e.damaged(fmt.Sprintf("the history holds an entry that is not a revision (%q)", k))
		}
		rev := binary.BigEndian.Uint64(k)
		if rev == 0 || rev <= last {
			return e.damaged(fmt.Sprintf("the history's revisions are out of order (%d after %d)", rev, last))
		}
		last = rev
		_, err := e.decode(rev, v)
		return err
	})
	if err != nil {
		return err
	}
	if last != cur {
		return e.damaged(fmt.Sprintf("its current revision is %d, but the newest record in its history is revision %d", cur, last))
	}
	return nil
}

// damaged is the error for a file whose content cannot be trusted.
func (e *Embedded) damaged(what string) error {
	return badRecord(damagedError(e.path, "is damaged: "+what))
}

// foreign is the error for a bbolt file that is not corsgate's.
func (e *Embedded) foreign(what string) error {
	return fmt.Errorf("%s is a bbolt database, but not corsgate's: %s. It was left untouched: give corsgate its own state directory, or move it away", e.path, what)
}

// damagedError says that the file at path cannot be used, that it was left
// untouched, and how to start without it.
func damagedError(path, what string) error {
	return fmt.Errorf("%s %s. It was left untouched: to start without it, which drops the run-time CORS changes it holds, stop corsgate and move it away (for example to %s.damaged), or restore it from a backup", path, what, path)
}

// openBolt opens the bbolt database at path, turning bbolt's panics and
// memory faults into errors.
func openBolt(path string, timeout time.Duration) (db *bolt.DB, err error) {
	var file *os.File
	opts := &bolt.Options{
		Timeout: timeout,
		OpenFile: func(name string, flag int, mode os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, mode)
			file = f
			return f, err
		},
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			// bolt.Open gave up half way: release the lock and the file,
			// which it can no longer do. (Its memory map, if any, stays.)
			if file != nil {
				unlock(file)
				_ = file.Close()
			}
			db, err = nil, damagedError(path, fmt.Sprintf("is damaged: bbolt failed reading it (%v): it was probably cut short or overwritten", r))
		}
	}()
	db, err = bolt.Open(path, 0o600, opts)
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("another corsgate process uses %s (it is still locked after %s); stop it, or give this one its own state directory", path, timeout)
	case errors.Is(err, berrors.ErrVersionMismatch):
		return nil, damagedError(path, fmt.Sprintf("was written by an incompatible version of bbolt, or is damaged (%v)", err))
	case errors.Is(err, os.ErrPermission):
		return nil, fmt.Errorf("cannot open %s (%v): make it readable and writable by the user corsgate runs as, or choose another state directory", path, pathErrCause(err))
	}
	// What else fails is the file's content (bbolt's ErrInvalid,
	// ErrChecksum, a file too small) or reading it.
	return nil, damagedError(path, fmt.Sprintf("is not a bbolt database, or is damaged (%v)", err))
}

// pathErrCause strips the operation and path from an *os.PathError, which
// the message around it names already.
func pathErrCause(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// fileKind names what a non-regular file is.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&os.ModeNamedPipe != 0:
		return "named pipe"
	case m&os.ModeSocket != 0:
		return "socket"
	case m&os.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// revisionKey is the history key of rev.
func revisionKey(rev uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), rev)
}

// keyRevisionOf is the revision of a history key; 0 for none.
func keyRevisionOf(k []byte) uint64 {
	if len(k) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(k)
}
