package etcdtest_test

import (
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/corsgate/corsgate/internal/etcdtest"
)

func TestStartStopRestart(t *testing.T) {
	srv := etcdtest.Start(t)
	ep := srv.Endpoint()
	if !strings.HasPrefix(ep, "http://127.0.0.1:") {
		t.Errorf("Endpoint() = %q, want http://127.0.0.1:port", ep)
	}
	if err := etcdtest.Health(ep); err != nil {
		t.Fatalf("after Start: %v", err)
	}
	pid := srv.PID()
	if pid <= 0 {
		t.Fatalf("PID() after Start = %d", pid)
	}
	if _, err := os.Stat(srv.DataDir()); err != nil {
		t.Errorf("the data directory: %v", err)
	}

	srv.Stop()
	if err := etcdtest.Health(ep); err == nil {
		t.Fatal("etcd is still healthy after Stop")
	}
	if got := srv.PID(); got != 0 {
		t.Errorf("PID() after Stop = %d, want 0", got)
	}
	srv.Stop() // idempotent

	srv.Restart(t)
	if got := srv.Endpoint(); got != ep {
		t.Errorf("Endpoint() after Restart = %q, want the same %q", got, ep)
	}
	if err := etcdtest.Health(ep); err != nil {
		t.Fatalf("after Restart: %v", err)
	}
	if got := srv.PID(); got <= 0 || got == pid {
		t.Errorf("PID() after Restart = %d, want a new process (was %d)", got, pid)
	}
}

func TestMissingBinary(t *testing.T) {
	// Start fails the test when the binary is missing; run it in a
	// throwaway test value to see the message.
	t.Setenv("ETCD_PATH", "/nonexistent/etcd")
	ft := &fakeT{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		etcdtest.Start(ft)
	}()
	<-done
	if !ft.failed || !strings.Contains(ft.msg, "etcd not found") || !strings.Contains(ft.msg, "apt-get install -y etcd-server") {
		t.Errorf("Start with a missing binary: failed=%v, message %q; want a failure saying how to install etcd", ft.failed, ft.msg)
	}
}

// fakeT records a fatal failure instead of failing the real test.
type fakeT struct {
	testing.TB
	failed bool
	msg    string
}

func (f *fakeT) Helper() {}

func (f *fakeT) Fatal(args ...any) {
	f.failed = true
	for _, a := range args {
		if err, ok := a.(error); ok {
			f.msg += err.Error()
		} else if s, ok := a.(string); ok {
			f.msg += s
		}
	}
	runtime.Goexit()
}
