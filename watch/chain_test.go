package watch

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestChain(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string)
		want    []string // relative to dir
		wantErr string
	}{
		{
			name:  "regular file",
			setup: func(t *testing.T, dir string) { write(t, filepath.Join(dir, "cfg.json"), "x") },
			want:  []string{"cfg.json"},
		},
		{
			name:  "missing file",
			setup: func(t *testing.T, dir string) {},
			want:  []string{"cfg.json"},
		},
		{
			name: "symlink to a file in a subdirectory",
			setup: func(t *testing.T, dir string) {
				mkdir(t, filepath.Join(dir, "real"))
				write(t, filepath.Join(dir, "real", "cfg.json"), "x")
				symlink(t, "real/cfg.json", filepath.Join(dir, "cfg.json"))
			},
			want: []string{"cfg.json", "real/cfg.json"},
		},
		{
			name: "Kubernetes ConfigMap",
			setup: func(t *testing.T, dir string) {
				kubernetes(t, dir, "x")
			},
			want: []string{"cfg.json", "..data", "..2026_01/cfg.json"},
		},
		{
			name: "absolute symlink through a symlinked directory",
			setup: func(t *testing.T, dir string) {
				mkdir(t, filepath.Join(dir, "releases"))
				mkdir(t, filepath.Join(dir, "releases", "1"))
				write(t, filepath.Join(dir, "releases", "1", "cfg.json"), "x")
				symlink(t, "releases/1", filepath.Join(dir, "current"))
				symlink(t, filepath.Join(dir, "current", "cfg.json"), filepath.Join(dir, "cfg.json"))
			},
			want: []string{"cfg.json", "current", "releases/1/cfg.json"},
		},
		{
			name: "dotdot after a symlinked directory",
			setup: func(t *testing.T, dir string) {
				mkdir(t, filepath.Join(dir, "a"))
				mkdir(t, filepath.Join(dir, "a", "b"))
				write(t, filepath.Join(dir, "a", "cfg.json"), "x")
				symlink(t, "a/b", filepath.Join(dir, "link"))
				// link/.. is a, not dir: the kernel resolves link first.
				symlink(t, "link/../cfg.json", filepath.Join(dir, "cfg.json"))
			},
			want: []string{"cfg.json", "link", "a/cfg.json"},
		},
		{
			name: "dangling symlink",
			setup: func(t *testing.T, dir string) {
				symlink(t, "..data/cfg.json", filepath.Join(dir, "cfg.json"))
			},
			want: []string{"cfg.json", "..data"},
		},
		{
			name: "loop",
			setup: func(t *testing.T, dir string) {
				symlink(t, "other", filepath.Join(dir, "cfg.json"))
				symlink(t, "cfg.json", filepath.Join(dir, "other"))
			},
			wantErr: "symlinks",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, err := filepath.EvalSymlinks(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			tt.setup(t, dir)
			got, err := chain(dir, "cfg.json")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("chain = %v, %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("chain: %v", err)
			}
			var want []string
			for _, p := range tt.want {
				want = append(want, filepath.Join(dir, p))
			}
			if !slices.Equal(got, want) {
				t.Errorf("chain =\n  %v\nwant\n  %v", got, want)
			}
			// What chain found is where the file is.
			if _, err := os.Stat(filepath.Join(dir, "cfg.json")); err == nil {
				real, err := filepath.EvalSymlinks(filepath.Join(dir, "cfg.json"))
				if err != nil {
					t.Fatal(err)
				}
				if last := got[len(got)-1]; last != real {
					t.Errorf("chain ends at %s, the file is %s", last, real)
				}
			}
		})
	}
}
