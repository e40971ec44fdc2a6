package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Version is corsgate's version, set at build time with
// -ldflags "-X main.Version=v1.2.3".
var Version = "dev"

// versionCommand prints corsgate's version and those of the libraries that
// shape its behaviour.
func versionCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "corsgate version: unexpected argument %q; the command takes none\n", args[0])
		return 2
	}
	fmt.Fprintf(stdout, "corsgate %s (%s %s/%s)\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			switch dep.Path {
			case "github.com/luraproject/lura/v2", "github.com/gin-gonic/gin":
				fmt.Fprintf(stdout, "  %s %s\n", dep.Path, dep.Version)
			}
		}
	}
	return 0
}
