// Package testwait is the one way corsgate's tests wait for something that
// happens in another goroutine or process: a condition polled until it
// holds, or a deadline that fails the test and says what did not happen.
package testwait

import (
	"testing"
	"time"
)

// Default is how long Until waits.
const Default = 5 * time.Second

// interval is how often the condition is checked.
const interval = 10 * time.Millisecond

// Until waits up to Default for cond, and fails t, naming what, when it
// does not hold by then.
func Until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	For(t, what, Default, cond)
}

// For waits up to timeout for cond, and fails t, naming what, when it does
// not hold by then.
func For(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within %s", what, timeout)
			return
		}
		time.Sleep(interval)
	}
}
