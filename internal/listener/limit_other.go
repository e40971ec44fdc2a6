//go:build !unix

package listener

// fileLimit is a conservative limit where the process's cannot be read.
func fileLimit() uint64 { return 1024 }
