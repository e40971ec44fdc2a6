package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/corsgate/corsgate/admin"
	"io"
	"strings"

	"github.com/corsgate/corsgate/plugin/explain"
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
	var in explain.Request
	var headers headerList
	fs.StringVar(&in.Origin, "origin", "", "the page's origin, such as https://app.example.com")
	fs.StringVar(&in.Method, "method", "GET", "the request's method, upper case")
	fs.StringVar(&in.Path, "path", "/", "the request's path on the gateway, such as /users/42")
	fs.Var(&headers, "header", "the name of a request header the page sets (repeatable; a comma-separated list works too)")
	fs.BoolVar(&in.Credentials, "credentials", false, "the page sends credentials (fetch credentials: 'include')")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	if *path == "" {
		fmt.Fprintln(stderr, "corsgate explain: -c FILE is required")
		return 2
	}
	in.Headers = headers
	if err := in.Normalize(); err != nil {
		for _, e := range unjoin(err) {
			var ie *explain.InputError
			if errors.As(e, &ie) {
				fmt.Fprintf(stderr, "corsgate explain: --%s %q: %s\n", ie.Field, ie.Value, ie.Message)
			} else {
				fmt.Fprintln(stderr, "corsgate explain:", e)
			}
		}
		return 2
	}
	g, ok := loadConfig(*path, nil, admin.Overrides{}, stderr)
	if !ok {
		return 1
	}
	ex, err := explain.Explain(g.ctrl.Snapshot(), in)
	if err != nil {
		fmt.Fprintln(stderr, "corsgate explain:", err)
		return 2
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ex); err != nil {
		fmt.Fprintln(stderr, "corsgate explain:", err)
		return 1
	}
	return 0
}

// unjoin lists the errors of an errors.Join.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
