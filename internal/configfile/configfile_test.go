//go:build unix

package configfile_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corsgate/corsgate/internal/configfile"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok.json")
	os.WriteFile(ok, []byte(`{"version": 3}`), 0o600)
	if data, err := configfile.Read(ok); err != nil || string(data) != `{"version": 3}` {
		t.Errorf("a regular file: %q %v", data, err)
	}
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := configfile.Read(fifo); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "a named pipe") {
			t.Errorf("a FIFO: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reading a FIFO blocked")
	}
	if _, err := configfile.Read(dir); err == nil || !strings.Contains(err.Error(), "a directory") {
		t.Errorf("a directory: %v", err)
	}
	big := filepath.Join(dir, "big.json")
	f, _ := os.Create(big)
	f.Truncate(configfile.MaxBytes + 1)
	f.Close()
	if _, err := configfile.Read(big); err == nil || !strings.Contains(err.Error(), "larger than 16 MiB") {
		t.Errorf("a file over the limit: %v", err)
	}
}
