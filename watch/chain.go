package watch

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// maxHops is how many symlinks chain follows before it gives up, as the
// kernel does (ELOOP).
const maxHops = 40

// chain returns the paths whose change can change what reading dir/name
// gives: dir/name itself, every symlink met while resolving it (a symlinked
// directory such as Kubernetes' ..data included), and the file it leads to.
// dir must be free of symlinks. Resolution stops at the first path that does
// not exist, which is included, since its creation is a change; the paths are
// then still those found so far, with an error for any other failure.
//
// Every path is built from real (symlink-free) directories, as fsnotify names
// the events of a watch placed on such a directory.
func chain(dir, name string) ([]string, error) {
	var paths []string
	done := dir             // resolved so far: a real directory
	rest := splitPath(name) // components still to resolve
	hops := 0
	for len(rest) > 0 {
		comp := rest[0]
		rest = rest[1:]
		switch comp {
		case "", ".":
			continue
		case "..":
			done = filepath.Dir(done)
			continue
		}
		next := filepath.Join(done, comp)
		fi, err := os.Lstat(next)
		if err != nil {
			paths = append(paths, next)
			if missing(err) {
				return paths, nil
			}
			return paths, err
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			done = next
			if len(rest) == 0 {
				paths = append(paths, next)
			}
			continue
		}
		paths = append(paths, next)
		if hops++; hops > maxHops {
			return paths, fmt.Errorf("%s: more than %d symlinks to follow (a loop?)", filepath.Join(dir, name), maxHops)
		}
		target, err := os.Readlink(next)
		if err != nil {
			return paths, err
		}
		if filepath.IsAbs(target) {
			done = string(filepath.Separator)
		}
		rest = append(splitPath(target), rest...)
	}
	return paths, nil
}

// splitPath splits p into its components, without cleaning it: "a/../b" must
// go through a, which may be a symlink.
func splitPath(p string) []string {
	return strings.Split(p, string(filepath.Separator))
}
