package testwait_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/corsgate/corsgate/internal/testwait"
)

func TestUntil(t *testing.T) {
	var n atomic.Int32
	testwait.Until(t, "three calls", func() bool { return n.Add(1) >= 3 })
	if n.Load() != 3 {
		t.Errorf("cond called %d times, want 3", n.Load())
	}
}

// fake records a failure instead of stopping the test.
type fake struct {
	testing.TB
	msg string
}

func (f *fake) Helper()                           {}
func (f *fake) Fatalf(format string, args ...any) { f.msg = format }

func TestForFailsAtTheDeadline(t *testing.T) {
	f := &fake{TB: t}
	start := time.Now()
	testwait.For(f, "never", 50*time.Millisecond, func() bool { return false })
	if f.msg == "" || time.Since(start) < 50*time.Millisecond {
		t.Errorf("failure %q after %s", f.msg, time.Since(start))
	}
}
