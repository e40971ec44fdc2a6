package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/corsgate/corsgate/plugin"
)

// headerList is a repeatable --header flag.
type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, ",") }
func (h *headerList) Set(v string) error { *h = append(*h, v); return nil }

// explainCommand prints what the gateway would do with a request, the same
// JSON that GET /__debug/cors/explain answers.
func explainCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	path := configFlag(fs)
	var in plugin.ExplainInput
	var headers headerList
	fs.StringVar(&in.Origin, "origin", "", "the page's origin, such as https://app.example.com")
	fs.StringVar(&in.Method, "method", "GET", "the request's method")
	fs.StringVar(&in.Path, "path", "/", "the request's path on the gateway, such as /users/42")
	fs.Var(&headers, "header", "a request header the page sets (repeatable; a comma-separated list works too)")
	fs.BoolVar(&in.Credentials, "credentials", false, "the page sends credentials (fetch credentials: 'include')")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	if *path == "" {
		fmt.Fprintln(stderr, "corsgate explain: -c FILE is required")
		return 2
	}
	if !strings.HasPrefix(in.Path, "/") {
		fmt.Fprintf(stderr, "corsgate explain: --path %q must start with /, for example /users/42\n", in.Path)
		return 2
	}
	in.Headers = headers
	_, t, ok := loadConfig(*path, stderr)
	if !ok {
		return 1
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(t.Explain(in)); err != nil {
		fmt.Fprintln(stderr, "corsgate explain:", err)
		return 1
	}
	return 0
}
