// Package watch tells corsgate when its configuration file may have changed,
// so that the gateway can reload its CORS settings while it runs.
//
// Watching the file itself misses most real changes, which is what users of
// other gateways complain about:
//
//   - an editor saves by writing a new file and renaming it over the old one,
//     so a watch on the file stays on the old, now unlinked, inode;
//   - vim renames the file away, writes a new one and removes the backup;
//   - a script removes the file and creates it again;
//   - Kubernetes updates a mounted ConfigMap without touching the file at
//     all: the path is a symlink to ..data/file, and ..data, itself a
//     symlink to a timestamped directory, is replaced atomically by a rename.
//
// Watch therefore watches directories with fsnotify: the file's directory,
// and the directories its chain of symlinks goes through, which it resolves
// again after every change. It decides by content, not by event: a change is
// reported only when the SHA-256 of the file's bytes differs from the last
// content it saw, so that touching the file, events for other files of the
// directory, or a file missing for a moment report nothing. Events are
// debounced, so that an editor's burst of events, or a script writing the
// file many times, gives one report of the final content. With SIGHUP on, the
// operator's explicit "reload now" is reported too.
//
// Watch only reports. Parsing, validating and applying the new content, and
// keeping the current policy when the new one is invalid, is the caller's
// job.
package watch

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/corsgate/corsgate/internal/configfile"
)

// Reason says why a change is reported.
type Reason string

const (
	// File reports that the file's content changed.
	File Reason = "file"
	// Signal reports that the process received SIGHUP (with Options.SIGHUP).
	Signal Reason = "SIGHUP"
)

// defaultDebounce is the debounce used when Options.Debounce is not positive.
const defaultDebounce = 250 * time.Millisecond

// maxWaitFactor bounds how long a burst of events that never pauses can
// delay a check: at most maxWaitFactor × Debounce after its first event.
const maxWaitFactor = 4

// Options configures Watch. The zero value is ready to use.
type Options struct {
	// Debounce is how long Watch waits after the last event of a burst
	// before it reads the file: events closer than this are reported once.
	// A burst that never pauses is still checked every 4 × Debounce. Zero or
	// negative means 250ms.
	Debounce time.Duration
	// SIGHUP also reports every SIGHUP the process receives, as Signal. Watch
	// calls signal.Notify for SIGHUP while it runs, so the signal no longer
	// ends the process, and signal.Stop when it returns.
	SIGHUP bool
	// SignalOnly watches no file: only SIGHUP is reported (it implies
	// SIGHUP). corsgate run --no-watch uses it, so that the reload on
	// SIGHUP is the same code with and without file watching.
	SignalOnly bool
	// OnError receives the errors of the watcher itself once Watch has
	// started: fsnotify's errors, a directory of the symlink chain that
	// cannot be watched, a file that exists but cannot be read, the file's
	// directory being removed. Watch goes on after each. It is called from
	// the goroutine that calls onChange, never concurrently. It may be nil.
	OnError func(error)

	// ready, when set (by tests), is called once Watch has read the first
	// content, placed its watches and registered for SIGHUP: every change
	// made after it is seen.
	ready func()
}

// Watch reports, through onChange, every change of the file at path: a write
// in place, a replacement by rename (how editors save), a removal followed by
// a new file, and a swap of the symlink chain behind it (how Kubernetes
// updates a mounted ConfigMap: path -> ..data/file, where ..data is a symlink
// replaced atomically). It watches the file's directory (fsnotify), not the
// file, so it survives all of these; it also watches the directories the
// file's symlinks lead to, so that a write in place behind a symlink is seen.
//
// It reports a File change only when the file's content changed (SHA-256 of
// the bytes, compared with the last content it saw; the first content is read
// when Watch starts), so touching the file or events for other files in the
// directory report nothing. A file that is missing for a moment (between
// remove and create) is not a change: only a readable new content is. A file
// missing when Watch starts is reported once it appears. With
// Options.SIGHUP, every SIGHUP is reported as Signal, whether or not the
// content changed; the content it carries is then the last one seen, so that
// the events of the same change report nothing more.
//
// onChange calls are serialised (never concurrent) and get the new content's
// bytes (nil for a Signal when the file cannot be read); onChange owns them.
// No call starts after ctx is done. Watch returns nil when ctx is done, or an
// error, naming path, when the directory cannot be watched at start (for
// example because it does not exist).
//
// Only the file's own directory is resolved once, at start: when a symlink
// above that directory is swapped, the change is not seen.
func Watch(ctx context.Context, path string, opts Options, onChange func(reason Reason, content []byte)) error {
	if onChange == nil {
		return errors.New("watch: onChange is nil")
	}
	if path == "" {
		return errors.New("watch: the path of the file to watch is empty")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("watch %s: %w", path, err)
	}
	w := &watcher{
		name:     path,
		path:     abs,
		base:     filepath.Base(abs),
		onError:  opts.OnError,
		onChange: onChange,
		dirs:     map[string]bool{},
	}
	var events chan fsnotify.Event
	var errs chan error
	if !opts.SignalOnly {
		dir, err := realDir(filepath.Dir(abs))
		if err != nil {
			return fmt.Errorf("watch %s: cannot watch its directory: %w", path, err)
		}
		fw, err := fsnotify.NewWatcher()
		if err != nil {
			return fmt.Errorf("watch %s: starting fsnotify: %w", path, err)
		}
		defer fw.Close()
		if err := fw.Add(dir); err != nil {
			return fmt.Errorf("watch %s: cannot watch its directory %s: %w", path, dir, err)
		}
		w.dir, w.fs = dir, fw
		events, errs = fw.Events, fw.Errors
		w.sync()
	}
	if data, ok := w.read(); ok {
		w.last, w.haveLast = sha256.Sum256(data), true
	}

	var sighup chan os.Signal
	if opts.SIGHUP || opts.SignalOnly {
		sighup = make(chan os.Signal, 1)
		signal.Notify(sighup, syscall.SIGHUP)
		defer signal.Stop(sighup)
	}

	debounce := opts.Debounce
	if debounce <= 0 {
		debounce = defaultDebounce
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	pending := false
	var first time.Time // first event of the pending burst
	schedule := func() {
		now := time.Now()
		if !pending {
			pending, first = true, now
		}
		wait := debounce
		if limit := first.Add(maxWaitFactor * debounce).Sub(now); limit < wait {
			wait = max(limit, 0)
		}
		timer.Reset(wait)
	}

	if opts.ready != nil {
		opts.ready()
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if w.relevant(ev) {
				schedule()
			}
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				// Events were lost: one of them may have been the change.
				schedule()
			}
			w.fail(fmt.Errorf("watch %s: %w", w.name, err))
		case <-timer.C:
			pending = false
			w.check(ctx)
		case <-sighup:
			w.signal(ctx)
		}
	}
}

// watcher is the state of one Watch call. Only Watch's goroutine uses it.
type watcher struct {
	name     string            // the path as the caller gave it, for messages
	path     string            // the absolute path
	dir      string            // the real directory of path (no symlinks), always watched
	base     string            // the file's name in dir
	fs       *fsnotify.Watcher // nil with Options.SignalOnly
	onError  func(error)
	onChange func(Reason, []byte)

	paths map[string]bool // paths whose events can change what path reads
	dirs  map[string]bool // watched directories besides dir

	last     [sha256.Size]byte // hash of the last content seen
	haveLast bool
}

// relevant says whether ev can change what reading the file gives. The
// removal of the file's directory itself goes to OnError: nothing can be seen
// after it.
func (w *watcher) relevant(ev fsnotify.Event) bool {
	name := filepath.Clean(ev.Name)
	if name == w.dir && ev.Has(fsnotify.Remove|fsnotify.Rename) {
		w.fail(fmt.Errorf("watch %s: its directory %s was removed or renamed; changes are no longer seen", w.name, w.dir))
		return false
	}
	return w.paths[name]
}

// sync resolves the file's symlink chain again and watches the directories
// it goes through, dropping those it no longer does. Adding a directory that
// is already watched is harmless, and repairs a watch that fsnotify dropped
// when the directory was removed and created again.
func (w *watcher) sync() {
	paths, err := chain(w.dir, w.base)
	if err != nil {
		w.fail(fmt.Errorf("watch %s: resolving its symlinks: %w", w.name, err))
	}
	relevant := make(map[string]bool, len(paths))
	dirs := map[string]bool{}
	for _, p := range paths {
		relevant[p] = true
		if d := filepath.Dir(p); d != w.dir {
			dirs[d] = true
		}
	}
	for d := range dirs {
		if err := w.fs.Add(d); err != nil {
			delete(dirs, d)
			if !missing(err) {
				w.fail(fmt.Errorf("watch %s: cannot watch %s, a directory its symlinks lead to: %w", w.name, d, err))
			}
		}
	}
	for d := range w.dirs {
		if !dirs[d] {
			// An error means the watch is already gone, with its directory.
			_ = w.fs.Remove(d)
		}
	}
	w.paths, w.dirs = relevant, dirs
}

// read returns the file's content, and false when it cannot be read. A
// missing file is not an error; any other failure goes to OnError.
func (w *watcher) read() ([]byte, bool) {
	// Never os.ReadFile: a named pipe at the path would block the
	// watcher, and every later reload with it.
	data, err := configfile.Read(w.path)
	if err != nil {
		if !missing(err) {
			w.fail(fmt.Errorf("watch %s: reading it: %w", w.name, err))
		}
		return nil, false
	}
	return data, true
}

// check reads the file after a burst of events and reports it when its
// content differs from the last one seen.
func (w *watcher) check(ctx context.Context) {
	w.sync()
	data, ok := w.read()
	if !ok {
		return
	}
	sum := sha256.Sum256(data)
	if w.haveLast && sum == w.last {
		return
	}
	if ctx.Err() != nil {
		return
	}
	w.last, w.haveLast = sum, true
	w.onChange(File, data)
}

// signal reports a SIGHUP with the current content.
func (w *watcher) signal(ctx context.Context) {
	if w.fs != nil {
		w.sync()
	}
	data, ok := w.read()
	if ctx.Err() != nil {
		return
	}
	if ok {
		w.last, w.haveLast = sha256.Sum256(data), true
	}
	w.onChange(Signal, data)
}

// fail hands err to OnError, when there is one.
func (w *watcher) fail(err error) {
	if w.onError != nil {
		w.onError(err)
	}
}

// realDir resolves the symlinks of dir and checks that it is a directory.
func realDir(dir string) (string, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%s is not a directory", dir)
	}
	return real, nil
}

// missing says whether err means that a path does not exist (or not yet, or
// no longer, as in the middle of a swap).
func missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
