//go:build unix

package private

import (
	"io/fs"
	"syscall"
)

// owner is the user id that owns a file.
func owner(info fs.FileInfo) (int, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
