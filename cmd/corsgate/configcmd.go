package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/corsgate/corsgate/admin/client"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/state"
)

const configUsage = `Usage: corsgate config COMMAND [flags]

Reads and changes the CORS settings of a running gateway through its admin API
(--admin URL, or $CORSGATE_ADMIN_URL, default http://127.0.0.1:9091), with the
credentials of $CORSGATE_ADMIN_TOKEN, or $CORSGATE_ADMIN_USER (default: admin, the
user of make run) and $CORSGATE_ADMIN_PASSWORD.

  get [--cloudant]                       the effective settings, the file's, the run-time layer
  put [--scope S] [--if-match N] [-f F]  replace the run-time layer, or one scope's keys
                                         (S: service, or an endpoint such as "GET /users/{id}"),
                                         with the JSON of file F (- or absent: standard input)
  validate [-f F]                        check a run-time layer without applying it
  history [--limit N]                    the revisions, newest first
  rollback --revision N                  make revision N's layer current again, as a new revision
  reset                                  drop the run-time layer: the file alone applies
  fleet                                  the gateways that share the store, and the
                                         revision each applies
  diff [--json]                          per scope and key: the file's value, the run-time
                                         layer's, and which one wins
  drop KEY [--scope S] [--if-match N]    take KEY out of the run-time layer (in scope S, or in
                                         every scope): the file's value applies again
  export -c FILE [--patch]               FILE (the configuration the gateway runs) with the
                                         effective CORS settings written into it, or (--patch)
                                         the JSON Patch that does it

put, drop, rollback and reset take --wait fleet [--wait-timeout 10s]: the answer comes
when every live replica applies the change, and the exit status is 3 when some
had not within the timeout (the change itself is made).

Without --if-match, put sends the revision it has just read, so it fails (412)
rather than overwrite a change made in between.
`

// configCommand is "corsgate config".
func configCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, configUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub, rest := args[0], args[1:]
	fs := flag.NewFlagSet("config "+sub, flag.ContinueOnError)
	adminURL := fs.String("admin", envOr("CORSGATE_ADMIN_URL", client.DefaultURL), "the admin API's URL")
	var (
		cloudant *bool
		scope    *string
		ifMatch  *string
		file     *string
		limit    *int
		revision *uint64
		wait     *string
		waitFor  *time.Duration
		asJSON   *bool
		patch    *bool
		key      string
	)
	waitFlags := func() {
		wait = fs.String("wait", "", "fleet: answer when every live replica applies the change")
		waitFor = fs.Duration("wait-timeout", 10*time.Second, "how long --wait fleet waits")
	}
	switch sub {
	case "get":
		cloudant = fs.Bool("cloudant", false, "print Cloudant's view (GET /_api/v2/user/config/cors)")
	case "put":
		scope = fs.String("scope", "", `replace one scope's keys: "service", or an endpoint such as "GET /users/{id}"`)
		ifMatch = fs.String("if-match", "", "the revision the change is based on (default: the current one, read first)")
		file = fs.String("f", "-", "the JSON to send (- for standard input)")
		waitFlags()
	case "validate":
		file = fs.String("f", "-", "the layer's JSON (- for standard input)")
	case "history":
		limit = fs.Int("limit", 20, "how many revisions")
	case "rollback":
		revision = fs.Uint64("revision", 0, "the revision to roll back to")
		waitFlags()
	case "reset":
		waitFlags()
	case "fleet":
	case "diff":
		asJSON = fs.Bool("json", false, "print the API's JSON (GET /v1/cors/diff) instead of a table")
	case "drop":
		scope = fs.String("scope", "", `the scope: "service", or an endpoint such as "GET /users/{id}" (default: every scope)`)
		ifMatch = fs.String("if-match", "", "the revision the change is based on (default: the current one, read first)")
		waitFlags()
		if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			key, rest = rest[0], rest[1:]
		}
	case "export":
		file = configFlag(fs)
		patch = fs.Bool("patch", false, "print the JSON Patch (RFC 6902) that turns FILE into the exported file")
	default:
		fmt.Fprintf(stderr, "corsgate config: unknown command %q\n\n%s", sub, configUsage)
		return 2
	}
	if code := parseFlags(fs, rest, stderr); code >= 0 {
		return code
	}
	if sub == "drop" && key == "" {
		fmt.Fprintln(stderr, "corsgate config drop: the key to drop is required, such as: corsgate config drop allow_origins --scope service")
		return 2
	}
	if sub == "export" && *file == "" {
		fmt.Fprintln(stderr, "corsgate config export: -c FILE is required: the configuration file the gateway runs")
		return 2
	}
	timeout := 30 * time.Second
	if wait != nil && *wait != "" {
		timeout = *waitFor + 30*time.Second
	}
	api, err := client.New(*adminURL, timeout)
	if err != nil {
		from := "--admin"
		if !flagGiven(fs, "admin") {
			from = "CORSGATE_ADMIN_URL"
		}
		fmt.Fprintf(stderr, "corsgate config %s: %s %v\n", sub, from, err)
		return 2
	}
	c := &adminCall{api: api, stdout: stdout, stderr: stderr, name: "corsgate config " + sub}
	query := ""
	if wait != nil && *wait != "" {
		if *wait != "fleet" {
			fmt.Fprintf(stderr, "corsgate config %s: --wait %q is not known; --wait fleet waits until every live replica applies the change\n", sub, *wait)
			return 2
		}
		query = "?wait=fleet&timeout=" + url.QueryEscape(waitFor.String())
	}
	switch sub {
	case "get":
		if *cloudant {
			return c.do("GET", "/_api/v2/user/config/cors", "", nil)
		}
		return c.do("GET", "/v1/cors/config", "", nil)
	case "put":
		body, err := readInput(*file)
		if err != nil {
			fmt.Fprintln(stderr, "corsgate config put:", fileProblem("-f", *file, err))
			return 2
		}
		rev := *ifMatch
		if rev == "" {
			if rev, err = api.Revision(context.Background()); err != nil {
				fmt.Fprintln(stderr, "corsgate config put:", err)
				return 1
			}
		}
		path := "/v1/cors/layer"
		switch {
		case *scope == "service":
			path = "/v1/cors/scopes/service"
		case *scope != "":
			method, tmpl, ok := strings.Cut(*scope, " ")
			if !ok || !strings.HasPrefix(tmpl, "/") {
				fmt.Fprintf(stderr, "corsgate config put: --scope %q is neither service nor an endpoint such as \"GET /users/{id}\"\n", *scope)
				return 2
			}
			path = "/v1/cors/scopes/" + method + tmpl
		}
		return c.do("PUT", path+query, rev, body)
	case "validate":
		body, err := readInput(*file)
		if err != nil {
			fmt.Fprintln(stderr, "corsgate config validate:", fileProblem("-f", *file, err))
			return 2
		}
		return c.do("POST", "/v1/cors/validate", "", body)
	case "history":
		return c.do("GET", "/v1/cors/history?limit="+strconv.Itoa(*limit), "", nil)
	case "rollback":
		if *revision == 0 {
			fmt.Fprintln(stderr, "corsgate config rollback: --revision N is required")
			return 2
		}
		return c.do("POST", "/v1/cors/rollback"+query, "", []byte(fmt.Sprintf(`{"revision": %d}`, *revision)))
	case "reset":
		return c.do("POST", "/v1/cors/reset"+query, "", nil)
	case "fleet":
		return c.do("GET", "/v1/cors/fleet", "", nil)
	case "diff":
		if *asJSON {
			return c.do("GET", "/v1/cors/diff", "", nil)
		}
		return c.diff()
	case "drop":
		rev := *ifMatch
		if rev == "" {
			if rev, err = api.Revision(context.Background()); err != nil {
				fmt.Fprintln(stderr, "corsgate config drop:", err)
				return 1
			}
		}
		q := url.Values{}
		if *scope != "" {
			q.Set("scope", *scope)
		}
		if query != "" {
			q.Set("wait", "fleet")
			q.Set("timeout", waitFor.String())
		}
		path := "/v1/cors/keys/" + url.PathEscape(key)
		if len(q) > 0 {
			path += "?" + q.Encode()
		}
		return c.do("DELETE", path, rev, nil)
	case "export":
		return c.export(*file, *patch)
	}
	return 2
}

// diff prints GET /v1/cors/diff as a table: per scope and key, the file's
// value, the layer's, and which wins.
func (c *adminCall) diff() int {
	a, err := c.api.Do(context.Background(), "GET", "/v1/cors/diff", "", nil)
	if err != nil {
		fmt.Fprintln(c.stderr, "corsgate config diff:", err)
		return 1
	}
	if e := a.Error(); e != nil {
		fmt.Fprintln(c.stderr, "corsgate config diff:", e)
		return 1
	}
	var d struct {
		Revision uint64
		Keys     []state.KeyDiff
	}
	if err := json.Unmarshal(a.Body, &d); err != nil {
		fmt.Fprintln(c.stderr, "corsgate config diff:", c.notTheAPI("/v1/cors/diff", err))
		return 1
	}
	if stale := a.Header.Get("X-Corsgate-Stale"); stale != "" {
		fmt.Fprintln(c.stderr, "corsgate config diff: warning:", stale)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCOPE\tKEY\tFILE\tRUN-TIME LAYER\tWINS")
	masked := 0
	for _, k := range d.Keys {
		wins := "file"
		if k.Wins == "layer" {
			wins = "layer"
			if k.SetBy != nil && k.SetBy.Revision != 0 {
				wins += fmt.Sprintf(" (revision %d, by %s)", k.SetBy.Revision, k.SetBy.User)
			}
			if k.Masked {
				wins += ", masks the file"
				masked++
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.Scope, k.Key, cell(k.File), cell(k.Layer), wins)
	}
	tw.Flush()
	fmt.Fprintf(c.stdout, "revision %d: %d key(s), %d masked by the run-time layer", d.Revision, len(d.Keys), masked)
	if masked > 0 {
		fmt.Fprint(c.stdout, " (corsgate config drop KEY --scope SCOPE lets the file's value apply)")
	}
	fmt.Fprintln(c.stdout)
	return 0
}

// cell shows a JSON value in a table: compact, "-" when absent.
func cell(v json.RawMessage) string {
	if len(v) == 0 {
		return "-"
	}
	var b bytes.Buffer
	if json.Compact(&b, v) != nil {
		return string(v)
	}
	s := b.String()
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// export writes the configuration file at path with the effective CORS
// settings of the running gateway in it, or the JSON Patch that does it.
func (c *adminCall) export(path string, patch bool) int {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(c.stderr, "corsgate config export:", fileProblem("-c", path, err))
		return 2
	}
	a, err := c.api.Do(context.Background(), "GET", "/v1/cors/config", "", nil)
	if err != nil {
		fmt.Fprintln(c.stderr, "corsgate config export:", err)
		return 1
	}
	if e := a.Error(); e != nil {
		fmt.Fprintln(c.stderr, "corsgate config export:", e)
		return 1
	}
	var cfg struct {
		Revision  uint64
		Effective *policy.Document
	}
	if err := json.Unmarshal(a.Body, &cfg); err != nil || cfg.Effective == nil {
		if err == nil {
			err = errors.New("it has no effective settings")
		}
		fmt.Fprintln(c.stderr, "corsgate config export:", c.notTheAPI("/v1/cors/config", err))
		return 1
	}
	out, ops, err := exportConfig(data, cfg.Effective)
	if err != nil {
		fmt.Fprintf(c.stderr, "corsgate config export: %s %v\n", path, err)
		return 1
	}
	if patch {
		if ops == nil {
			ops = []patchOp{}
		}
		writeJSONTo(c.stdout, ops)
	} else {
		c.stdout.Write(out)
	}
	fmt.Fprintf(c.stderr, "corsgate config export: the effective CORS settings of revision %d; once the gateway runs this file, corsgate config reset drops the run-time layer without changing any answer\n", cfg.Revision)
	return 0
}

// flagGiven reports whether the command line set the flag name.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func readInput(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(path)
}

// fileProblem says why the file given with flag cannot be read, in one
// sentence, without the "open PATH: " that os puts before the reason.
func fileProblem(flag, path string, err error) string {
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist) && flag == "-f":
		return fmt.Sprintf("-f %s: there is no such file; check the path, or give -f - to read standard input", path)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("%s %s: there is no such file; check the path", flag, path)
	case errors.As(err, &pe):
		return fmt.Sprintf("%s %s cannot be read (%v)", flag, path, pe.Err)
	}
	return fmt.Sprintf("%s %s cannot be read (%v)", flag, path, err)
}

// adminCall prints the answers of the admin API for corsgate config.
type adminCall struct {
	api            *client.Client
	stdout, stderr io.Writer
	// name is the command, such as "corsgate config rollback", before
	// every message.
	name string
}

// notTheAPI is the message of a 2xx answer to GET path that is not the
// JSON the API sends.
func (c *adminCall) notTheAPI(path string, err error) string {
	return fmt.Sprintf("the answer of %s to GET %s is not the admin API's JSON (%v): check that it is the address of the gateway's admin listener", c.api.Base(), path, err)
}

// do calls the API and prints the answer: the body on stdout for 2xx
// (exit 0; 3 for a 202, a change that some replicas had not applied in
// time), the reason and every problem on stderr otherwise (exit 1).
func (c *adminCall) do(method, path, ifMatch string, body []byte) int {
	a, err := c.api.Do(context.Background(), method, path, ifMatch, body)
	if err != nil {
		fmt.Fprintf(c.stderr, "%s: %v\n", c.name, err)
		return 1
	}
	if e := a.Error(); e != nil {
		// The API's reason is one sentence that says what is wrong and
		// how to fix it (the client's own for a 401); the method, the
		// route and the status would only come between.
		fmt.Fprintf(c.stderr, "%s: %v\n", c.name, e)
		for _, fe := range e.Errors {
			fmt.Fprintf(c.stderr, "  %s: %s\n", fe.Path, fe.Message)
		}
		return 1
	}
	if stale := a.Header.Get("X-Corsgate-Stale"); stale != "" {
		fmt.Fprintf(c.stderr, "%s: warning: %s\n", c.name, stale)
	}
	c.stdout.Write(a.Body)
	if a.Status == http.StatusAccepted {
		fmt.Fprintf(c.stderr, "%s: the change is made, but not every replica applied it in time (see fleet.pending)\n", c.name)
		return 3
	}
	if path == "/v1/cors/validate" {
		var v struct{ Valid bool }
		if json.Unmarshal(a.Body, &v) == nil && !v.Valid {
			return 1
		}
	}
	return 0
}
