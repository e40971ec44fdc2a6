// Command checkplugin reports whether corsgate's KrakenD plugin can load
// into a given KrakenD build, as krakend check-plugin does: Go loads a
// plugin only when it was built with the same Go release and the same
// version of every package the plugin and the host share. It compares
// corsgate's go.mod, and the Go that would build the plugin (the one
// running checkplugin), with the KrakenD build, and lists every difference
// with the version each side needs; the exit status is 1 when there is
// one.
//
// The KrakenD build is best given as its binary (-krakend): the Go
// release and the module versions it was built with are in it. A go.mod
// (-gomod, for KrakenD CE the go.mod of its source at the release's tag)
// says the module versions but not the Go release (its go and toolchain
// lines are minimums): give it with -go, from `krakend version` or the
// GOLANG_VERSION of KrakenD CE's Makefile at that tag.
//
//	checkplugin -krakend /usr/bin/krakend [-ours go.mod]
//	checkplugin -gomod ../krakend-ce/go.mod -go 1.25.12 [-ours go.mod]
package main

import (
	"debug/buildinfo"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("checkplugin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	theirsPath := fs.String("gomod", "", "the go.mod of the KrakenD build the plugin must load into")
	binPath := fs.String("krakend", "", "the KrakenD binary the plugin must load into (its Go release and module versions are read from it)")
	theirGo := fs.String("go", "", "with -gomod: the Go release KrakenD was built with, such as 1.25.12 (krakend version prints it)")
	oursPath := fs.String("ours", "go.mod", "corsgate's go.mod")
	ourGo := fs.String("our-go", strings.TrimPrefix(runtime.Version(), "go"), "the Go release that builds the plugin (the one running checkplugin)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if (*theirsPath == "") == (*binPath == "") {
		fmt.Fprintln(stderr, "checkplugin: give -krakend BINARY (make check-plugin KRAKEND=path/to/krakend) or -gomod FILE with -go VERSION (make check-plugin GOMOD=path/to/go.mod GO_VERSION=1.25.12): the KrakenD build the plugin must load into")
		return 2
	}
	ours, err := parse(*oursPath)
	if err != nil {
		fmt.Fprintln(stderr, "checkplugin:", err)
		return 2
	}
	var theirs build
	if *binPath != "" {
		theirs, err = readBinary(*binPath)
	} else {
		theirs, err = readGoMod(*theirsPath, *theirGo)
	}
	if err != nil {
		fmt.Fprintln(stderr, "checkplugin:", err)
		return 2
	}
	diffs, shared := compare(ours, *ourGo, theirs)
	for _, d := range diffs {
		fmt.Fprintln(stdout, d)
	}
	if len(diffs) > 0 {
		fmt.Fprintf(stdout, "%d mismatch(es) in %d shared module(s): the plugin would not load (\"plugin was built with a different version of package …\"). Build the plugin with the versions of %s: set them in corsgate's go.mod (go get MODULE@VERSION), then make plugin with that Go release.\n", len(diffs), shared, theirs.name)
		return 1
	}
	fmt.Fprintf(stdout, "ok: the same Go release (%s) and the same versions of the %d shared module(s)\n", *ourGo, shared)
	return 0
}

// build is what a KrakenD build was made of: its Go release ("" when
// unknown) and its modules' versions.
type build struct {
	name      string // where it was read, for messages
	goRelease string
	modules   map[string]string
}

// readBinary reads a Go binary's build information.
func readBinary(path string) (build, error) {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return build{}, fmt.Errorf("%s: no Go build information in it (%v): give the krakend binary itself", path, err)
	}
	b := build{name: path, goRelease: strings.TrimPrefix(bi.GoVersion, "go"), modules: map[string]string{}}
	for _, d := range bi.Deps {
		if d.Replace != nil {
			d = d.Replace
		}
		b.modules[d.Path] = d.Version
	}
	return b, nil
}

// readGoMod reads a KrakenD build's go.mod; goRelease is the Go release
// it was built with, when known.
func readGoMod(path, goRelease string) (build, error) {
	f, err := parse(path)
	if err != nil {
		return build{}, err
	}
	b := build{name: path, goRelease: strings.TrimPrefix(goRelease, "go"), modules: map[string]string{}}
	for _, r := range f.Require {
		b.modules[r.Mod.Path] = r.Mod.Version
	}
	return b, nil
}

func parse(path string) (*modfile.File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := modfile.Parse(path, data, nil)
	if err != nil {
		return nil, fmt.Errorf("%s is not a go.mod file: %v", path, err)
	}
	return f, nil
}

// compare lists the differences between the Go releases and the versions
// of the modules both builds hold, and how many modules they share.
// ourGo is the release that builds the plugin; ours is corsgate's go.mod,
// whose go line is the least release that can build it.
func compare(ours *modfile.File, ourGo string, theirs build) ([]string, int) {
	var diffs []string
	switch {
	case theirs.goRelease == "":
		diffs = append(diffs, fmt.Sprintf("go: the Go release %s was built with is unknown; give it with -go (krakend version prints it), or give the binary with -krakend", theirs.name))
	case theirs.goRelease != ourGo:
		diffs = append(diffs, fmt.Sprintf("go: the plugin would be built with Go %s, KrakenD was built with Go %s; build the plugin with Go %s (GOTOOLCHAIN=go%s make plugin, or in KrakenD's builder image)", ourGo, theirs.goRelease, theirs.goRelease, theirs.goRelease))
	}
	if min := minGo(ours); theirs.goRelease != "" && min != "" && semver.Compare("v"+theirs.goRelease, "v"+min) < 0 {
		diffs = append(diffs, fmt.Sprintf("go: corsgate's go.mod needs Go %s or later (its go line, which its dependencies set), so Go %s cannot build it: the versions of the modules below that need a newer Go must go down first", min, theirs.goRelease))
	}
	shared := 0
	var mods []string
	for _, r := range ours.Require {
		t, ok := theirs.modules[r.Mod.Path]
		if !ok {
			continue
		}
		shared++
		if t != r.Mod.Version {
			mods = append(mods, fmt.Sprintf("%s: corsgate %s, KrakenD %s", r.Mod.Path, r.Mod.Version, t))
		}
	}
	slices.Sort(mods)
	return append(diffs, mods...), shared
}

// minGo is the go line of a go.mod, "" without one.
func minGo(f *modfile.File) string {
	if f.Go == nil {
		return ""
	}
	return f.Go.Version
}
