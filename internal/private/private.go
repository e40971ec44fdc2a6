// Package private checks that the gateway's local state (the state
// directory, the embedded store's file, the copy of the applied layer) is
// the gateway's own: whoever can write there decides which web sites may
// read the gateway's answers. A file or directory must be owned by the
// user corsgate runs as and not writable by group or others, and a
// symbolic link must not lead through a directory that others may write
// (where they could swap what it points at).
package private

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
)

// Check checks path, which exists, and the directories its symbolic links
// go through. The error names the path, its owner and mode, and the
// command that fixes it.
func Check(path string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	info, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		real, err := filepath.EvalSymlinks(path)
		if err != nil {
			return fmt.Errorf("%s is a symbolic link that cannot be followed (%v): point it at a directory of the user corsgate runs as, or replace it", path, err)
		}
		// Every directory the link's target lies in, up to the first one
		// shared by the system (/ is root's), must not be writable by
		// others, or another user could swap the target.
		for dir := filepath.Dir(real); ; dir = filepath.Dir(dir) {
			d, err := os.Stat(dir)
			if err != nil {
				return err
			}
			if perm := d.Mode().Perm(); perm&0o002 != 0 && d.Mode()&fs.ModeSticky == 0 {
				return fmt.Errorf("%s is a symbolic link to %s, inside %s, which any user may write (mode %04o), so another user could change what it points at: move the state to a directory of the user corsgate runs as, or run chmod o-w %s", path, real, dir, perm, dir)
			}
			if dir == filepath.Dir(dir) {
				break
			}
		}
		path = real
		if info, err = os.Stat(path); err != nil {
			return err
		}
	}
	return checkInfo(path, info)
}

// checkInfo checks the owner and the mode of path.
func checkInfo(path string, info fs.FileInfo) error {
	uid, ok := owner(info)
	me := os.Getuid()
	perm := info.Mode().Perm()
	switch {
	case ok && uid != me:
		return fmt.Errorf("%s belongs to %s, not to %s, who runs corsgate (mode %04o), so another user could have written what it holds: run chown %s %s, or give corsgate a state directory of its own", path, userName(uid), userName(me), perm, userName(me), path)
	case perm&0o022 != 0:
		return fmt.Errorf("%s may be written by group or others (mode %04o, owner %s), so what it holds cannot be trusted: run chmod go-w %s", path, perm, userName(uid), path)
	}
	return nil
}

// userName names a user id for a message: its name and id.
func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username + " (uid " + strconv.Itoa(uid) + ")"
	}
	return "uid " + strconv.Itoa(uid)
}
