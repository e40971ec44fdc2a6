package metrics

import "time"

// SetClock replaces TopK's clock until the returned function restores it.
func SetClock(f func() time.Time) (restore func()) {
	old := testClock
	testClock = f
	return func() { testClock = old }
}
