package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/corsgate/corsgate/engine/explain"
	"github.com/corsgate/corsgate/host"
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
	harPath := fs.String("har", "", "explain every cross-origin request of a HAR file (the browser's network panel, \"Save all as HAR\") instead of one request")
	gateway := fs.String("gateway", "", "with --har: only the requests to this origin, such as https://api.example.com")
	summary := fs.Bool("summary", false, "with --har: one line per request instead of JSON")
	var lf layerFlags
	fs.BoolVar(&lf.fileOnly, "file-only", false, "ignore the run-time layer: explain with the configuration file alone")
	fs.StringVar(&lf.admin, "admin", "", "use the run-time layer of the running gateway whose admin API this is, such as http://127.0.0.1:9091 (credentials from CORSGATE_ADMIN_*); by default, the layer the gateway last applied, read from its state directory")
	fs.StringVar(&lf.stateDir, "state-dir", os.Getenv("CORSGATE_STATE_DIR"), "the state directory the gateway runs with (corsgate run --state-dir); default $CORSGATE_STATE_DIR, else the configuration's")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	if *path == "" {
		fmt.Fprintln(stderr, "corsgate explain: -c FILE is required")
		return 2
	}
	if lf.fileOnly && lf.admin != "" {
		fmt.Fprintln(stderr, "corsgate explain: --file-only and --admin exclude each other")
		return 2
	}
	if *harPath != "" {
		return explainHAR(fs, *path, *harPath, *gateway, *summary, lf, stdout, stderr)
	}
	if *gateway != "" || *summary {
		fmt.Fprintln(stderr, "corsgate explain: --gateway and --summary only go with --har")
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
	g, ok := loadConfig(*path, host.Options{}, stderr)
	if !ok {
		return 1
	}
	snap, used, err := explainedSnapshot(g, lf)
	if err != nil {
		fmt.Fprintln(stderr, "corsgate explain:", err)
		return 1
	}
	ex, err := explain.Explain(snap, in)
	if err != nil {
		fmt.Fprintln(stderr, "corsgate explain:", err)
		return 2
	}
	ex.Layer = used
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

// explainHAR is explain --har: every cross-origin request of a HAR file.
func explainHAR(fs *flag.FlagSet, path, harPath, gateway string, summary bool, lf layerFlags, stdout, stderr io.Writer) int {
	var clash []string
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "origin", "method", "path", "header", "credentials":
			clash = append(clash, "--"+f.Name)
		}
	})
	if len(clash) > 0 {
		fmt.Fprintf(stderr, "corsgate explain: --har reads the requests from the file; drop %s\n", strings.Join(clash, ", "))
		return 2
	}
	f, err := os.Open(harPath)
	if err != nil {
		fmt.Fprintf(stderr, "corsgate explain: --har %s: %v\n", harPath, errors.Unwrap(err))
		return 2
	}
	defer f.Close()
	g, ok := loadConfig(path, host.Options{}, stderr)
	if !ok {
		return 1
	}
	snap, used, err := explainedSnapshot(g, lf)
	if err != nil {
		fmt.Fprintln(stderr, "corsgate explain:", err)
		return 1
	}
	rep, err := explain.HAR(snap, f, gateway)
	if err != nil {
		fmt.Fprintf(stderr, "corsgate explain: --har %s: %v\n", harPath, err)
		return 2
	}
	rep.Layer = used
	if summary {
		fmt.Fprintln(stdout, "layer:", used.Note)
		for _, e := range rep.Entries {
			fmt.Fprintln(stdout, e.Line())
		}
		s := rep.Summary
		fmt.Fprintf(stdout, "%d request(s): %d explained (%d allowed, %d refused), %d skipped; %d decided otherwise than recorded\n", s.Entries, s.Explained, s.Allowed, s.Refused, s.Skipped, s.Changed)
		return 0
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		fmt.Fprintln(stderr, "corsgate explain:", err)
		return 1
	}
	return 0
}
