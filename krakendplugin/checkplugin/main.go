// Command checkplugin reports whether corsgate's KrakenD plugin can load
// into a given KrakenD build, as krakend check-plugin does: Go loads a
// plugin only when it was built with the same Go version and the same
// version of every package the plugin and the host share. It compares
// corsgate's go.mod with the KrakenD build's go.mod (make check-plugin
// GOMOD=path/to/krakend/go.mod) and lists every difference with the
// version each side needs; the exit status is 1 when there is one.
//
//	checkplugin -gomod ../krakend-ce/go.mod [-ours go.mod]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("checkplugin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	theirsPath := fs.String("gomod", "", "the go.mod of the KrakenD build the plugin must load into")
	oursPath := fs.String("ours", "go.mod", "corsgate's go.mod")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *theirsPath == "" {
		fmt.Fprintln(stderr, "checkplugin: -gomod FILE is required: the go.mod of your KrakenD build (make check-plugin GOMOD=path/to/go.mod)")
		return 2
	}
	ours, err := parse(*oursPath)
	if err != nil {
		fmt.Fprintln(stderr, "checkplugin:", err)
		return 2
	}
	theirs, err := parse(*theirsPath)
	if err != nil {
		fmt.Fprintln(stderr, "checkplugin:", err)
		return 2
	}
	diffs, shared := compare(ours, theirs)
	for _, d := range diffs {
		fmt.Fprintln(stdout, d)
	}
	if len(diffs) > 0 {
		fmt.Fprintf(stdout, "%d mismatch(es) in %d shared module(s): the plugin would not load (\"plugin was built with a different version of package …\"). Build the plugin with the versions of %s: set them in corsgate's go.mod (go get MODULE@VERSION), then make plugin.\n", len(diffs), shared, *theirsPath)
		return 1
	}
	fmt.Fprintf(stdout, "ok: the same Go version and the same versions of the %d shared module(s)\n", shared)
	return 0
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

// goVersion is the Go a module asks for: its toolchain line, else its go
// line (a minimum: the release a binary was built with is what counts,
// and go version -m BINARY prints it).
func goVersion(f *modfile.File) string {
	if f.Toolchain != nil && strings.HasPrefix(f.Toolchain.Name, "go") {
		return f.Toolchain.Name[len("go"):]
	}
	if f.Go != nil {
		return f.Go.Version
	}
	return "?"
}

// compare lists the differences between the Go versions and the versions
// of the modules both require, and how many modules they share.
func compare(ours, theirs *modfile.File) ([]string, int) {
	var diffs []string
	if o, t := goVersion(ours), goVersion(theirs); o != t {
		diffs = append(diffs, fmt.Sprintf("go: corsgate's go.mod says %s, KrakenD's %s; the plugin must be built with the very Go release KrakenD was built with (go version -m krakend prints it), which both go.mod files must allow", o, t))
	}
	versions := map[string]string{}
	for _, r := range theirs.Require {
		versions[r.Mod.Path] = r.Mod.Version
	}
	shared := 0
	var mods []string
	for _, r := range ours.Require {
		t, ok := versions[r.Mod.Path]
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
