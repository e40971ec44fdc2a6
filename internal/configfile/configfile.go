// Package configfile reads the gateway's configuration file without
// trusting it: only a regular file is read (a named pipe, a device or a
// directory is refused without blocking), and at most MaxBytes of it, so
// that a hostile path can neither hang a reload nor take the process's
// memory.
package configfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// MaxBytes bounds a configuration file: 16 MiB, hundreds of times what a
// gateway with thousands of endpoints needs.
const MaxBytes = 16 << 20

// Read reads the regular file at path, up to MaxBytes. The error says why
// the file cannot be used, and what to do.
func Read(path string) ([]byte, error) {
	// O_NONBLOCK: opening a named pipe does not wait for a writer.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (it is %s), so it is not read: point the configuration at a JSON file", path, kind(info.Mode()))
	}
	if info.Size() > MaxBytes {
		return nil, tooLarge(path)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxBytes {
		return nil, tooLarge(path)
	}
	return data, nil
}

func tooLarge(path string) error {
	return fmt.Errorf("%s is larger than %d MiB, far more than a gateway's configuration needs, so it is not read: check that the path names the configuration file", path, MaxBytes>>20)
}

// kind names a file type for a message.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}
