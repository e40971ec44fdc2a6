package private_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corsgate/corsgate/internal/private"
)

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	own := filepath.Join(dir, "state")
	os.Mkdir(own, 0o700)
	if err := private.Check(own); err != nil {
		t.Errorf("a private directory: %v", err)
	}
	open := filepath.Join(dir, "open")
	os.Mkdir(open, 0o700)
	os.Chmod(open, 0o777)
	if err := private.Check(open); err == nil || !strings.Contains(err.Error(), "chmod go-w "+open) || !strings.Contains(err.Error(), "mode 0777") {
		t.Errorf("a world-writable directory: %v", err)
	}
	file := filepath.Join(own, "corsgate.db")
	os.WriteFile(file, nil, 0o600)
	os.Chmod(file, 0o620)
	if err := private.Check(file); err == nil || !strings.Contains(err.Error(), "group or others") {
		t.Errorf("a group-writable file: %v", err)
	}
	// A link to a private directory through a world-writable one.
	shared := filepath.Join(dir, "shared")
	os.Mkdir(shared, 0o700)
	os.Chmod(shared, 0o777)
	target := filepath.Join(shared, "state")
	os.Mkdir(target, 0o700)
	link := filepath.Join(own, "link")
	os.Symlink(target, link)
	if err := private.Check(link); err == nil || !strings.Contains(err.Error(), "symbolic link") || !strings.Contains(err.Error(), "any user may write") {
		t.Errorf("a link through a world-writable directory: %v", err)
	}
	// A link to a private directory in a private place is fine.
	safeLink := filepath.Join(dir, "safe")
	os.Symlink(own, safeLink)
	if err := private.Check(safeLink); err != nil {
		t.Errorf("a link to a private directory: %v", err)
	}
	if os.Getuid() == 0 {
		// Another owner: a file given to nobody.
		other := filepath.Join(own, "other")
		os.WriteFile(other, nil, 0o600)
		os.Chown(other, 65534, 65534)
		if err := private.Check(other); err == nil || !strings.Contains(err.Error(), "not to root") {
			t.Errorf("a file of another user: %v", err)
		}
	}
}
