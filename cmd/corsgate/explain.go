package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/corsgate/corsgate/engine/explain"
)

// headerList is a repeatable --header flag.
type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, ",") }
func (h *headerList) Set(v string) error { *h = append(*h, v); return nil }

// The exit statuses of corsgate explain.
const (
	// explainAllowed: the browser lets the page read the answer (with
	// --har: every request explained).
	explainAllowed = 0
	// explainBlocked: the browser would block the request (with --har: at
	// least one request).
	explainBlocked = 1
	// explainNoVerdict: bad flags, a request no browser sends, a
	// configuration that does not load: nothing was explained.
	explainNoVerdict = 2
)

const explainUsage = `Usage:
  corsgate explain -c FILE --origin O [--method M] [--path P] [--header H]... [--credentials]
  corsgate explain -c FILE --har FILE [--gateway URL]

Says what the gateway and the browser would do with a request, and why: on a
terminal, a few lines (the verdict, the policy that decides and where it is
set, every failing check with its fix); otherwise, or with --json, the whole
explanation as JSON, the same as GET /__debug/cors/explain.

Flags:
`

const explainExitStatus = `
Exit status:
  0  the browser allows the request (with --har: every request explained)
  1  the browser would block the request (with --har: at least one)
  2  no verdict: a usage error, a malformed request, a configuration that
     does not load, or a run-time layer that does not apply to it
`

// explainCommand prints what the gateway would do with a request: a few
// lines for a person, or the JSON that GET /__debug/cors/explain answers.
// Its exit status tells allowed (0) from blocked (1) and from no verdict
// (2).
func explainCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	path := configFlag(fs)
	var in explain.Request
	var headers headerList
	fs.StringVar(&in.Origin, "origin", "", "the page's origin, such as https://app.example.com")
	fs.StringVar(&in.Method, "method", "GET", "the request's method, upper case")
	fs.StringVar(&in.Path, "path", "/", "the request's path on the gateway, such as /users/42 (of a URL, the path is taken, with a warning)")
	fs.Var(&headers, "header", "the name of a request header the page sets (repeatable; a comma-separated list works too)")
	fs.BoolVar(&in.Credentials, "credentials", false, "the page sends credentials (fetch credentials: 'include')")
	harPath := fs.String("har", "", "explain every cross-origin request of a HAR file (the browser's network panel, \"Save all as HAR\") instead of one request")
	gateway := fs.String("gateway", "", "with --har: only the requests to this origin, such as https://api.example.com")
	format := fs.String("format", "", "text (a few lines for people; with --har, one line per request) or json (everything, for scripts); default: text when stdout is a terminal, json otherwise")
	fs.Bool("json", false, "same as --format json (--json=false: --format text)")
	fs.Bool("summary", false, "same as --format text")
	var lf layerFlags
	fs.BoolVar(&lf.fileOnly, "file-only", false, "ignore the run-time layer: explain with the configuration file alone")
	fs.StringVar(&lf.admin, "admin", "", "use the run-time layer of the running gateway whose admin API this is, such as http://127.0.0.1:9091 (credentials from CORSGATE_ADMIN_*); by default, the layer the gateway last applied, read from its state directory")
	fs.StringVar(&lf.stateDir, "state-dir", os.Getenv("CORSGATE_STATE_DIR"), "the state directory the gateway runs with (corsgate run --state-dir); default $CORSGATE_STATE_DIR, else the configuration's")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), explainUsage)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), explainExitStatus)
	}
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	if *path == "" {
		fmt.Fprintln(stderr, "corsgate explain: -c FILE is required")
		return explainNoVerdict
	}
	if lf.fileOnly && lf.admin != "" {
		fmt.Fprintln(stderr, "corsgate explain: --file-only and --admin exclude each other")
		return explainNoVerdict
	}
	text, err := outputFormat(fs, *format, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "corsgate explain:", err)
		return explainNoVerdict
	}
	if *harPath != "" {
		return explainHAR(fs, *path, *harPath, *gateway, text, lf, stdout, stderr)
	}
	if *gateway != "" {
		fmt.Fprintln(stderr, "corsgate explain: --gateway only goes with --har")
		return explainNoVerdict
	}
	if p, warning := splitPath(in.Path, in.Origin); warning != "" {
		fmt.Fprintln(stderr, "corsgate explain: warning:", warning)
		in.Path = p
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
		return explainNoVerdict
	}
	g, ok := loadAsDeciding(*path, stderr)
	if !ok {
		return explainNoVerdict
	}
	snap, used, err := explainedSnapshot(g, lf)
	if err != nil {
		fmt.Fprintln(stderr, "corsgate explain:", err)
		return explainNoVerdict
	}
	ex, err := explain.Explain(snap, in)
	if err != nil {
		fmt.Fprintln(stderr, "corsgate explain:", err)
		return explainNoVerdict
	}
	ex.Layer = used
	if text {
		fmt.Fprint(stdout, ex.Text())
	} else if !writeJSON(ex, stdout, stderr) {
		return explainNoVerdict
	}
	if ex.Verdict.Actual != "allowed" {
		return explainBlocked
	}
	return explainAllowed
}

// outputFormat reports whether explain prints text rather than JSON: as
// --format, --json or --summary say (an error when they disagree), else
// text when stdout is a terminal.
func outputFormat(fs *flag.FlagSet, format string, stdout io.Writer) (text bool, err error) {
	if format != "" && format != "text" && format != "json" {
		return false, fmt.Errorf("--format %q: give text or json", format)
	}
	// What each flag given asks for, and how the flag was written.
	var chosen, named []string
	fs.Visit(func(f *flag.Flag) {
		switch v := f.Value.String(); {
		case f.Name == "format":
			chosen, named = append(chosen, v), append(named, "--format "+v)
		case f.Name == "json" && v == "true":
			chosen, named = append(chosen, "json"), append(named, "--json")
		case f.Name == "json":
			chosen, named = append(chosen, "text"), append(named, "--json=false")
		case f.Name == "summary" && v == "true":
			chosen, named = append(chosen, "text"), append(named, "--summary")
		}
	})
	if len(chosen) == 0 {
		return isTerminal(stdout), nil
	}
	for _, c := range chosen[1:] {
		if c != chosen[0] {
			return false, fmt.Errorf("%s ask for different outputs; give one", strings.Join(named, " and "))
		}
	}
	return chosen[0] == "text", nil
}

// isTerminal reports whether w is a terminal (a character device), where
// a person reads rather than a script.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// splitPath takes the path out of a --path that holds more: a full http
// or https URL (its scheme, host, query and fragment are dropped), or a
// path with a query or a fragment. It returns the path and a warning that
// says what was dropped, or p and "" when there is nothing to split (a
// path that does not start with / is left to Normalize, which refuses it
// and suggests the path).
func splitPath(p, origin string) (string, string) {
	if strings.HasPrefix(p, "/") {
		i := strings.IndexAny(p, "?#")
		if i < 0 {
			return p, ""
		}
		return p[:i], fmt.Sprintf("--path %q: explaining the path %q; dropped: %q (the gateway's routes match the path alone)", p, p[:i], p[i:])
	}
	u, err := url.Parse(p)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return p, ""
	}
	path := u.Path
	if path == "" {
		path = "/"
	}
	site := u.Scheme + "://" + u.Host
	dropped := []string{site}
	if u.User != nil {
		dropped = append(dropped, u.User.Username()+"@") // never the password
	}
	if u.RawQuery != "" || u.ForceQuery {
		dropped = append(dropped, "?"+u.RawQuery)
	}
	if u.Fragment != "" {
		dropped = append(dropped, "#"+u.Fragment)
	}
	w := fmt.Sprintf("--path %q is a URL: explaining its path %q; dropped: %s (the gateway's routes match the path alone; -c says which gateway)", u.Redacted(), path, strings.Join(quoteAll(dropped), ", "))
	if origin != "" && strings.EqualFold(origin, site) {
		w += fmt.Sprintf("; note that %s is also --origin: a page on the gateway's own origin needs no CORS", site)
	}
	return path, w
}

func quoteAll(list []string) []string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	return q
}

// writeJSON prints v as indented JSON; a failure is said on stderr.
func writeJSON(v any, stdout, stderr io.Writer) bool {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintln(stderr, "corsgate explain:", err)
		return false
	}
	return true
}

// unjoin lists the errors of an errors.Join.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// explainHAR is explain --har: every cross-origin request of a HAR file.
func explainHAR(fs *flag.FlagSet, path, harPath, gateway string, text bool, lf layerFlags, stdout, stderr io.Writer) int {
	var clash []string
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "origin", "method", "path", "header", "credentials":
			clash = append(clash, "--"+f.Name)
		}
	})
	if len(clash) > 0 {
		fmt.Fprintf(stderr, "corsgate explain: --har reads the requests from the file; drop %s\n", strings.Join(clash, ", "))
		return explainNoVerdict
	}
	f, err := os.Open(harPath)
	if err != nil {
		fmt.Fprintf(stderr, "corsgate explain: --har %s: %v\n", harPath, errors.Unwrap(err))
		return explainNoVerdict
	}
	defer f.Close()
	g, ok := loadAsDeciding(path, stderr)
	if !ok {
		return explainNoVerdict
	}
	snap, used, err := explainedSnapshot(g, lf)
	if err != nil {
		fmt.Fprintln(stderr, "corsgate explain:", err)
		return explainNoVerdict
	}
	rep, err := explain.HAR(snap, f, gateway)
	if err != nil {
		fmt.Fprintf(stderr, "corsgate explain: --har %s: %v\n", harPath, err)
		return explainNoVerdict
	}
	rep.Layer = used
	if text {
		fmt.Fprintln(stdout, "layer:", used.Note)
		for _, e := range rep.Entries {
			fmt.Fprintln(stdout, e.Line())
		}
		s := rep.Summary
		fmt.Fprintf(stdout, "%d request(s): %d explained (%d allowed, %d refused), %d skipped; %d decided otherwise than recorded\n", s.Entries, s.Explained, s.Allowed, s.Refused, s.Skipped, s.Changed)
	} else if !writeJSON(rep, stdout, stderr) {
		return explainNoVerdict
	}
	if rep.Summary.Refused > 0 {
		return explainBlocked
	}
	return explainAllowed
}
