package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/corsgate/corsgate/admin/client"
)

const configUsage = `Usage: corsgate config COMMAND [flags]

Reads and changes the CORS settings of a running gateway through its admin API
(--admin URL, or $CORSGATE_ADMIN_URL, default http://127.0.0.1:9091), with the
credentials of $CORSGATE_ADMIN_TOKEN, or $CORSGATE_ADMIN_USER and $CORSGATE_ADMIN_PASSWORD.

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

put, rollback and reset take --wait fleet [--wait-timeout 10s]: the answer comes
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
	sub := args[0]
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
	default:
		fmt.Fprintf(stderr, "corsgate config: unknown command %q\n\n%s", sub, configUsage)
		return 2
	}
	if code := parseFlags(fs, args[1:], stderr); code >= 0 {
		return code
	}
	timeout := 30 * time.Second
	if wait != nil && *wait != "" {
		timeout = *waitFor + 30*time.Second
	}
	api, err := client.New(*adminURL, timeout)
	if err != nil {
		fmt.Fprintf(stderr, "corsgate config: --admin %v\n", err)
		return 2
	}
	c := &adminCall{api: api, stdout: stdout, stderr: stderr}
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
			fmt.Fprintln(stderr, "corsgate config put:", err)
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
			fmt.Fprintln(stderr, "corsgate config validate:", err)
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
	}
	return 2
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

// adminCall prints the answers of the admin API for corsgate config.
type adminCall struct {
	api            *client.Client
	stdout, stderr io.Writer
}

// do calls the API and prints the answer: the body on stdout for 2xx
// (exit 0; 3 for a 202, a change that some replicas had not applied in
// time), the reason and every problem on stderr otherwise (exit 1).
func (c *adminCall) do(method, path, ifMatch string, body []byte) int {
	a, err := c.api.Do(context.Background(), method, path, ifMatch, body)
	if err != nil {
		fmt.Fprintln(c.stderr, "corsgate config:", err)
		return 1
	}
	if e := a.Error(); e != nil {
		fmt.Fprintf(c.stderr, "corsgate config: %s %s: %v\n", method, path, e)
		for _, fe := range e.Errors {
			fmt.Fprintf(c.stderr, "  %s: %s\n", fe.Path, fe.Message)
		}
		return 1
	}
	if stale := a.Header.Get("X-Corsgate-Stale"); stale != "" {
		fmt.Fprintln(c.stderr, "corsgate config: warning:", stale)
	}
	c.stdout.Write(a.Body)
	if a.Status == http.StatusAccepted {
		fmt.Fprintln(c.stderr, "corsgate config: the change is made, but not every replica applied it in time (see fleet.pending)")
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
