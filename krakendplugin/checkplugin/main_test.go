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
		{[]string{"-ours", ours, "-our-go", "1.26.8", "-gomod", same, "-go", "1.26.8"}, 0, []string{"ok: the same Go release (1.26.8) and the same versions of the 2 shared module(s)"}},
		{[]string{"-ours", ours, "-our-go", "1.26.8", "-gomod", other, "-go", "1.25.4"}, 1, []string{
			"go: the plugin would be built with Go 1.26.8, KrakenD was built with Go 1.25.4; build the plugin with Go 1.25.4",
			"go: corsgate's go.mod needs Go 1.26.8 or later (its go line, which its dependencies set), so Go 1.25.4 cannot build it",
			"github.com/gin-gonic/gin: corsgate v1.12.0, KrakenD v1.10.1",
			"golang.org/x/net: corsgate v0.62.0, KrakenD v0.60.0",
			"4 mismatch(es) in 3 shared module(s)",
		}},
		// A go.mod's toolchain line is not the release KrakenD was built
		// with: without -go, the Go release is unknown, and said so.
		{[]string{"-ours", ours, "-our-go", "1.26.8", "-gomod", same}, 1, []string{"go: the Go release " + same + " was built with is unknown; give it with -go"}},
		// A binary says its Go release and modules itself: this test's
		// binary links golang.org/x/mod at the version of go.mod.
		{[]string{"-ours", "../../go.mod", "-krakend", os.Args[0]}, 0, []string{"ok: the same Go release"}},
		{[]string{"-ours", ours, "-krakend", ours}, 2, nil},
		{[]string{"-ours", ours}, 2, nil},
		{[]string{"-ours", ours, "-gomod", same, "-krakend", os.Args[0]}, 2, nil},
		{[]string{"-ours", ours, "-gomod", write(t, "go.mod", "not a go.mod {"), "-go", "1.26.8"}, 2, nil},
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

// docs/krakend.md quotes what check-plugin says against the KrakenD CE
// releases nearest to this module (their go.mod at the release's tag, and
// the GOLANG_VERSION their Makefile builds the release with): this test
// keeps those figures true when go.mod changes.
func TestKrakenDCEReleases(t *testing.T) {
	for _, tc := range []struct {
		gomod, goRelease string
		want             []string
	}{
		{"testdata/krakend-ce-v2.13.8.go.mod", "1.25.12", []string{
			"KrakenD was built with Go 1.25.12",
			"corsgate's go.mod needs Go 1.26.0 or later",
			"github.com/luraproject/lura/v2: corsgate v2.11.0, KrakenD v2.14.2-0.20260316170719-6d79b4ef723b",
			"21 mismatch(es) in 51 shared module(s)",
		}},
		{"testdata/krakend-ce-v2.11.0.go.mod", "1.25.1", []string{
			"KrakenD was built with Go 1.25.1",
			"github.com/luraproject/lura/v2: corsgate v2.11.0, KrakenD v2.12.0",
			"github.com/gin-gonic/gin: corsgate v1.12.0, KrakenD v1.9.1",
			"32 mismatch(es) in 46 shared module(s)",
		}},
	} {
		var out, errOut strings.Builder
		code := run([]string{"-ours", "../../go.mod", "-our-go", "1.26.8", "-gomod", tc.gomod, "-go", tc.goRelease}, &out, &errOut)
		if code != 1 {
			t.Errorf("%s: exit %d, want 1\n%s%s", tc.gomod, code, out.String(), errOut.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: no %q in\n%s", tc.gomod, w, out.String())
			}
		}
	}
}
