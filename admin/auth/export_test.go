package auth

import "time"

// NewOptionsForTest returns Options whose clock is now.
func NewOptionsForTest(now func() time.Time) Options { return Options{now: now} }
