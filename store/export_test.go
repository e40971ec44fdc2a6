package store

// SetUncompactedRevisions sets how many uncompacted revisions
// CompactionWarning waits for, and returns a function that restores it.
func SetUncompactedRevisions(n int64) (restore func()) {
	old := uncompactedRevisions
	uncompactedRevisions = n
	return func() { uncompactedRevisions = old }
}
