package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckPlugin(t *testing.T) {
	ours := write(t, "go.mod", "module github.com/corsgate/corsgate\n\ngo 1.26.8\n\nrequire (\n\tgithub.com/gin-gonic/gin v1.12.0\n\tgithub.com/luraproject/lura/v2 v2.11.0\n\tgolang.org/x/net v0.62.0 // indirect\n)\n")
	same := write(t, "go.mod", "module github.com/krakend/krakend-ce/v2\n\ngo 1.26.8\n\nrequire (\n\tgithub.com/gin-gonic/gin v1.12.0\n\tgithub.com/luraproject/lura/v2 v2.11.0\n\tgithub.com/other/only v1.0.0\n)\n")
	other := write(t, "go.mod", "module github.com/krakend/krakend-ce/v2\n\ngo 1.25.0\n\ntoolchain go1.25.4\n\nrequire (\n\tgithub.com/gin-gonic/gin v1.10.1\n\tgithub.com/luraproject/lura/v2 v2.11.0\n\tgolang.org/x/net v0.60.0\n)\n")
	for _, tc := range []struct {
		args []string
		code int
		out  []string
	}{
		{[]string{"-ours", ours, "-gomod", same}, 0, []string{"ok: the same Go version and the same versions of the 2 shared module(s)"}},
		{[]string{"-ours", ours, "-gomod", other}, 1, []string{
			"go: corsgate's go.mod says 1.26.8, KrakenD's 1.25.4; the plugin must be built with the very Go release KrakenD was built with",
			"github.com/gin-gonic/gin: corsgate v1.12.0, KrakenD v1.10.1",
			"golang.org/x/net: corsgate v0.62.0, KrakenD v0.60.0",
			"3 mismatch(es) in 3 shared module(s)",
		}},
		{[]string{"-ours", ours}, 2, nil},
		{[]string{"-ours", ours, "-gomod", write(t, "go.mod", "not a go.mod {")}, 2, nil},
	} {
		var out, errOut strings.Builder
		code := run(tc.args, &out, &errOut)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d\n%s%s", tc.args, code, tc.code, out.String(), errOut.String())
		}
		for _, w := range tc.out {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%v: no %q in\n%s", tc.args, w, out.String())
			}
		}
		if tc.code == 2 && errOut.Len() == 0 {
			t.Errorf("%v: no message on stderr", tc.args)
		}
	}
}
