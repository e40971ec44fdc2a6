package watch

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const (
	// testDebounce is the debounce of every test watch.
	testDebounce = 100 * time.Millisecond
	// timeout bounds every wait for something that must happen. The machine
	// is shared and slow: it is generous, and only a failing test waits it out.
	timeout = 5 * time.Second
	// quiet is how long a test waits to conclude that nothing is reported.
	quiet = 3 * testDebounce
)

// call is one onChange call.
type call struct {
	reason  Reason
	content []byte
}

func (c call) String() string {
	if c.content == nil {
		return fmt.Sprintf("%s <nil>", c.reason)
	}
	return fmt.Sprintf("%s %q", c.reason, c.content)
}

// session is one running Watch and what it reported.
type session struct {
	calls  chan call
	errs   chan error
	cancel context.CancelFunc
	done   chan error // Watch's result

	delay   atomic.Int64 // how long onChange takes, a time.Duration
	running atomic.Int32 // onChange calls in progress
	most    atomic.Int32 // the most calls ever in progress at once
}

func (s *session) onChange(reason Reason, content []byte) {
	n := s.running.Add(1)
	defer s.running.Add(-1)
	for m := s.most.Load(); n > m && !s.most.CompareAndSwap(m, n); m = s.most.Load() {
	}
	// Stay in the call a little, so that a concurrent call would overlap it.
	time.Sleep(time.Duration(s.delay.Load()))
	s.calls <- call{reason, content}
}

// start runs Watch on path until the test ends, and returns once Watch has
// placed its watches. When the test ends it checks that Watch returned nil
// promptly after cancel, that onChange never ran concurrently, and that no
// error the test did not read went to OnError.
func start(t *testing.T, path string, opts Options) *session {
	t.Helper()
	s := &session{
		calls: make(chan call, 1000),
		errs:  make(chan error, 100),
		done:  make(chan error, 1),
	}
	s.delay.Store(int64(5 * time.Millisecond))
	if opts.Debounce == 0 {
		opts.Debounce = testDebounce
	}
	opts.OnError = func(err error) {
		select {
		case s.errs <- err:
		default:
		}
	}
	ready := make(chan struct{})
	opts.ready = func() { close(ready) }
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() { s.done <- Watch(ctx, path, opts, s.onChange) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-s.done:
			if err != nil {
				t.Errorf("Watch returned %v after cancel, want nil", err)
			}
		case <-time.After(timeout):
			t.Errorf("Watch did not return within %v of cancel", timeout)
		}
		if m := s.most.Load(); m > 1 {
			t.Errorf("onChange ran %d times at once; its calls must be serialised", m)
		}
		for {
			select {
			case err := <-s.errs:
				t.Errorf("unexpected OnError: %v", err)
			default:
				return
			}
		}
	})
	select {
	case <-ready:
	case err := <-s.done:
		t.Fatalf("Watch(%s) returned at start: %v", path, err)
	case <-time.After(timeout):
		t.Fatalf("Watch(%s) not watching after %v", path, timeout)
	}
	return s
}

// next returns the next call, failing the test when none comes in time.
func (s *session) next(t *testing.T) call {
	t.Helper()
	select {
	case c := <-s.calls:
		return c
	case <-time.After(timeout):
		t.Fatalf("no onChange call within %v", timeout)
		return call{}
	}
}

// waitContent returns the calls received until one carries want, failing the
// test when none does in time.
func (s *session) waitContent(t *testing.T, want string) []call {
	t.Helper()
	var got []call
	deadline := time.After(timeout)
	for {
		select {
		case c := <-s.calls:
			got = append(got, c)
			if string(c.content) == want {
				return got
			}
		case <-deadline:
			t.Fatalf("no onChange call with %q within %v; got %v", want, timeout, got)
			return nil
		}
	}
}

// expectQuiet fails the test when onChange is called within quiet.
func (s *session) expectQuiet(t *testing.T) {
	t.Helper()
	select {
	case c := <-s.calls:
		t.Errorf("unexpected onChange call: %v", c)
	case <-time.After(quiet):
	}
}

// waitError returns the next error given to OnError.
func (s *session) waitError(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.errs:
		return err
	case <-time.After(timeout):
		t.Fatalf("no OnError call within %v", timeout)
		return nil
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, path string) {
	t.Helper()
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func rename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
}

// kill sends SIGHUP to the test process.
func kill(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
}

// guardSIGHUP makes sure a SIGHUP the test sends never ends the test process,
// whatever Watch does.
func guardSIGHUP(t *testing.T) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	t.Cleanup(func() { signal.Stop(ch) })
}

// A layout is one way of laying out and updating the configuration file.
type layout struct {
	// setup lays out the file in dir with content, and returns its path.
	setup func(t *testing.T, dir, content string) string
	// update gives the file new content, as step (1, 2…) of the test.
	update func(t *testing.T, dir, path, content string, step int)
}

// plain is a regular file dir/cfg.json.
func plain(t *testing.T, dir, content string) string {
	path := filepath.Join(dir, "cfg.json")
	write(t, path, content)
	return path
}

// kubernetes lays out a mounted ConfigMap as the kubelet does:
// dir/..2026_01/cfg.json, dir/..data -> ..2026_01, dir/cfg.json -> ..data/cfg.json.
func kubernetes(t *testing.T, dir, content string) string {
	mkdir(t, filepath.Join(dir, "..2026_01"))
	write(t, filepath.Join(dir, "..2026_01", "cfg.json"), content)
	symlink(t, "..2026_01", filepath.Join(dir, "..data"))
	path := filepath.Join(dir, "cfg.json")
	symlink(t, filepath.Join("..data", "cfg.json"), path)
	return path
}

// kubeletSwap updates a mounted ConfigMap as the kubelet does: a new
// timestamped directory, a symlink ..data_tmp to it renamed over ..data, then
// the old directory removed.
func kubeletSwap(t *testing.T, dir, content string, step int) {
	old, _ := os.Readlink(filepath.Join(dir, "..data"))
	version := fmt.Sprintf("..2026_%02d", step+1)
	mkdir(t, filepath.Join(dir, version))
	write(t, filepath.Join(dir, version, "cfg.json"), content)
	symlink(t, version, filepath.Join(dir, "..data_tmp"))
	rename(t, filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data"))
	remove(t, filepath.Join(dir, old))
}

func TestWatchReportsChanges(t *testing.T) {
	tests := []struct {
		name string
		layout
		created bool // the file does not exist when Watch starts
	}{
		{
			name: "write in place",
			layout: layout{setup: plain, update: func(t *testing.T, dir, path, content string, step int) {
				write(t, path, content)
			}},
		},
		{
			name: "editor rename-replace",
			layout: layout{setup: plain, update: func(t *testing.T, dir, path, content string, step int) {
				write(t, path+".tmp", content)
				rename(t, path+".tmp", path)
			}},
		},
		{
			name: "vim: rename away, write, remove the backup",
			layout: layout{setup: plain, update: func(t *testing.T, dir, path, content string, step int) {
				rename(t, path, path+"~")
				write(t, path, content)
				remove(t, path+"~")
			}},
		},
		{
			name: "remove then create",
			layout: layout{setup: plain, update: func(t *testing.T, dir, path, content string, step int) {
				remove(t, path)
				write(t, path, content)
			}},
		},
		{
			name: "remove, missing for a while, create",
			layout: layout{setup: plain, update: func(t *testing.T, dir, path, content string, step int) {
				remove(t, path)
				// Not an assertion: leave the file missing long enough for
				// Watch to look at it while it is missing.
				time.Sleep(2 * testDebounce)
				write(t, path, content)
			}},
		},
		{
			name:    "created after Watch started",
			created: true,
			layout: layout{
				setup: func(t *testing.T, dir, content string) string { return filepath.Join(dir, "cfg.json") },
				update: func(t *testing.T, dir, path, content string, step int) {
					write(t, path, content)
				},
			},
		},
		{
			name: "write in place behind a symlink to another directory",
			layout: layout{
				setup: func(t *testing.T, dir, content string) string {
					mkdir(t, filepath.Join(dir, "real"))
					write(t, filepath.Join(dir, "real", "cfg.json"), content)
					path := filepath.Join(dir, "cfg.json")
					symlink(t, filepath.Join("real", "cfg.json"), path)
					return path
				},
				update: func(t *testing.T, dir, path, content string, step int) {
					write(t, filepath.Join(dir, "real", "cfg.json"), content)
				},
			},
		},
		{
			name: "Kubernetes ConfigMap swap",
			layout: layout{setup: kubernetes, update: func(t *testing.T, dir, path, content string, step int) {
				kubeletSwap(t, dir, content, step)
			}},
		},
		{
			name: "Kubernetes ConfigMap swap, then a write in place into the new version",
			layout: layout{setup: kubernetes, update: func(t *testing.T, dir, path, content string, step int) {
				if step == 1 {
					kubeletSwap(t, dir, content, step)
				} else {
					write(t, filepath.Join(dir, "..2026_02", "cfg.json"), content)
				}
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			seen := []string{`{"version": 1}`}
			path := tt.setup(t, dir, seen[0])
			if tt.created {
				seen = nil
			}
			s := start(t, path, Options{})
			// Two updates: the watch must survive the first.
			for step := 1; step <= 2; step++ {
				content := fmt.Sprintf(`{"version": %d}`, step+1)
				tt.update(t, dir, path, content, step)
				calls := s.waitContent(t, content)
				for _, c := range calls {
					if c.reason != File {
						t.Errorf("step %d: reason %q, want %q", step, c.reason, File)
					}
					for _, old := range seen {
						if string(c.content) == old {
							t.Errorf("step %d: content already seen reported again: %v", step, c)
						}
					}
				}
				seen = append(seen, content)
			}
			s.expectQuiet(t)
		})
	}
}

func TestWatchIgnoresWhatLeavesTheContentAlone(t *testing.T) {
	const content = `{"version": 1}`
	tests := []struct {
		name   string
		setup  func(t *testing.T, dir, content string) string
		action func(t *testing.T, dir, path string)
	}{
		{
			name:  "touch",
			setup: plain,
			action: func(t *testing.T, dir, path string) {
				now := time.Now()
				if err := os.Chtimes(path, now, now); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name:  "chmod",
			setup: plain,
			action: func(t *testing.T, dir, path string) {
				if err := os.Chmod(path, 0o600); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name:  "another file of the directory written, renamed, removed",
			setup: plain,
			action: func(t *testing.T, dir, path string) {
				other := filepath.Join(dir, "other.json")
				write(t, other+".tmp", "other")
				rename(t, other+".tmp", other)
				write(t, other, "other, again")
				remove(t, other)
			},
		},
		{
			name:  "the same content written again",
			setup: plain,
			action: func(t *testing.T, dir, path string) {
				write(t, path, content)
			},
		},
		{
			name:  "the same content renamed over it",
			setup: plain,
			action: func(t *testing.T, dir, path string) {
				write(t, path+".tmp", content)
				rename(t, path+".tmp", path)
			},
		},
		{
			name:  "removed, then created with the same content",
			setup: plain,
			action: func(t *testing.T, dir, path string) {
				remove(t, path)
				time.Sleep(2 * testDebounce) // not an assertion: let Watch see it missing
				write(t, path, content)
			},
		},
		{
			name:  "removed, and not back yet",
			setup: plain,
			action: func(t *testing.T, dir, path string) {
				remove(t, path)
			},
		},
		{
			name:  "Kubernetes ConfigMap swap to the same content",
			setup: kubernetes,
			action: func(t *testing.T, dir, path string) {
				kubeletSwap(t, dir, content, 1)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := tt.setup(t, dir, content)
			s := start(t, path, Options{})
			tt.action(t, dir, path)
			s.expectQuiet(t)
			// Watch is still watching, and a late report of the action would
			// come before this one.
			const changed = `{"version": 2}`
			write(t, path, changed)
			if calls := s.waitContent(t, changed); len(calls) != 1 || calls[0].reason != File {
				t.Errorf("after the action then a change, got %v, want one File call with %q", calls, changed)
			}
		})
	}
}

func TestWatchDebouncesABurst(t *testing.T) {
	t.Parallel()
	path := plain(t, t.TempDir(), "start")
	s := start(t, path, Options{})
	const writes = 20
	for i := range writes {
		write(t, path, fmt.Sprintf("write %d", i))
	}
	final := fmt.Sprintf("write %d", writes-1)
	calls := s.waitContent(t, final)
	if len(calls) > 3 {
		t.Errorf("%d writes gave %d calls, want at most 3: %v", writes, len(calls), calls)
	}
	s.expectQuiet(t) // so the call with the final content was the last one
}

func TestWatchSIGHUP(t *testing.T) {
	guardSIGHUP(t)
	path := plain(t, t.TempDir(), "v1")
	s := start(t, path, Options{SIGHUP: true})

	kill(t)
	if c := s.next(t); c.reason != Signal || string(c.content) != "v1" {
		t.Errorf("first SIGHUP: got %v, want %s %q", c, Signal, "v1")
	}
	kill(t)
	if c := s.next(t); c.reason != Signal || string(c.content) != "v1" {
		t.Errorf("SIGHUP without a change: got %v, want %s %q", c, Signal, "v1")
	}

	remove(t, path)
	kill(t)
	if c := s.next(t); c.reason != Signal || c.content != nil {
		t.Errorf("SIGHUP with the file missing: got %v, want %s <nil>", c, Signal)
	}

	// The change, and a SIGHUP that comes before its debounce is over: the
	// Signal carries the new content, and the change is not reported again
	// after it.
	write(t, path, "v2")
	kill(t)
	var got []call
	for {
		c := s.next(t)
		got = append(got, c)
		if c.reason == Signal {
			if string(c.content) != "v2" {
				t.Errorf("SIGHUP after a change: got %v, want %s %q", c, Signal, "v2")
			}
			break
		}
		if c.reason != File || string(c.content) != "v2" {
			t.Errorf("after a change and a SIGHUP: got %v, want %s %q", c, File, "v2")
		}
	}
	s.expectQuiet(t)
	if len(got) > 2 {
		t.Errorf("a change and a SIGHUP gave %v, want at most a File and a Signal call", got)
	}
}

// With SignalOnly, a SIGHUP is reported with the file's content, and a
// change of the file is not: nothing is watched.
func TestWatchSignalOnly(t *testing.T) {
	guardSIGHUP(t)
	path := plain(t, t.TempDir(), "v1")
	s := start(t, path, Options{SignalOnly: true})
	write(t, path, "v2")
	s.expectQuiet(t)
	kill(t)
	if c := s.next(t); c.reason != Signal || string(c.content) != "v2" {
		t.Errorf("SIGHUP: got %v, want %s %q", c, Signal, "v2")
	}
}

func TestWatchWithoutSIGHUPIgnoresIt(t *testing.T) {
	guardSIGHUP(t)
	path := plain(t, t.TempDir(), "v1")
	s := start(t, path, Options{})
	kill(t)
	s.expectQuiet(t)
}

func TestWatchSerialisesCalls(t *testing.T) {
	guardSIGHUP(t)
	path := plain(t, t.TempDir(), "v0")
	s := start(t, path, Options{SIGHUP: true, Debounce: 10 * time.Millisecond})
	s.delay.Store(int64(30 * time.Millisecond))
	const rounds = 6
	for i := 1; i <= rounds; i++ {
		write(t, path, fmt.Sprintf("v%d", i))
		kill(t)
		// Not an assertion: let calls pile up while others run.
		time.Sleep(20 * time.Millisecond)
	}
	calls := s.waitContent(t, fmt.Sprintf("v%d", rounds))
	if len(calls) < 2 {
		t.Fatalf("got %d calls, want at least 2 to judge serialisation: %v", len(calls), calls)
	}
	if m := s.most.Load(); m != 1 {
		t.Errorf("onChange ran %d times at once, want 1", m)
	}
}

func TestWatchReturnsPromptlyOnCancel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		before func(t *testing.T, path string)
	}{
		{name: "idle", before: func(t *testing.T, path string) {}},
		{name: "with a change pending", before: func(t *testing.T, path string) { write(t, path, "v2") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := plain(t, t.TempDir(), "v1")
			s := start(t, path, Options{SIGHUP: true, Debounce: time.Hour})
			tt.before(t, path)
			began := time.Now()
			s.cancel()
			select {
			case err := <-s.done:
				if err != nil {
					t.Errorf("Watch returned %v after cancel, want nil", err)
				}
				s.done <- err // for start's cleanup
			case <-time.After(timeout):
				t.Fatalf("Watch still running %v after cancel", timeout)
			}
			if d := time.Since(began); d > 2*time.Second {
				t.Errorf("Watch returned %v after cancel, want promptly", d)
			}
			select {
			case c := <-s.calls:
				t.Errorf("onChange called after cancel: %v", c)
			default:
			}
		})
	}
}

func TestWatchRefusesAnUnwatchableDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := plain(t, dir, "v1")
	tests := []struct {
		name        string
		path        string
		nilOnChange bool
		want        []string // in the error
	}{
		{
			name: "missing directory",
			path: filepath.Join(dir, "missing", "cfg.json"),
			want: []string{filepath.Join(dir, "missing", "cfg.json"), "no such file or directory"},
		},
		{
			name: "directory is a file",
			path: filepath.Join(file, "cfg.json"),
			want: []string{filepath.Join(file, "cfg.json"), "not a directory"},
		},
		{
			name: "empty path",
			path: "",
			want: []string{"path", "empty"},
		},
		{
			name:        "nil onChange",
			path:        file,
			nilOnChange: true,
			want:        []string{"onChange"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			onChange := func(Reason, []byte) { t.Error("onChange called") }
			if tt.nilOnChange {
				onChange = nil
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- Watch(ctx, tt.path, Options{}, onChange) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(timeout):
				cancel()
				t.Fatalf("Watch(%q) still running after %v, want an error at start", tt.path, timeout)
			}
			if err == nil {
				t.Fatalf("Watch(%q) = nil, want an error", tt.path)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Watch(%q) = %q, want it to contain %q", tt.path, err, w)
				}
			}
		})
	}
}

func TestWatchReportsItsOwnErrors(t *testing.T) {
	t.Parallel()
	t.Run("the path is a directory", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "cfg.json")
		mkdir(t, path)
		s := start(t, path, Options{})
		err := s.waitError(t)
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "is a directory") {
			t.Errorf("OnError got %q, want the path %s and %q", err, path, "is a directory")
		}
	})
	t.Run("its directory removed", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "conf")
		mkdir(t, dir)
		path := plain(t, dir, "v1")
		s := start(t, path, Options{})
		remove(t, dir)
		err := s.waitError(t)
		if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "removed") {
			t.Errorf("OnError got %q, want the directory %s and %q", err, dir, "removed")
		}
		s.expectQuiet(t)
	})
}
