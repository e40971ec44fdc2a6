package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/corsgate/corsgate/plugin/plugintest"
)

// The programs built by TestMain: the corsgate binary, the demo backend
// and the custom gateway example.
var binPath, demoBackendPath, customGatewayPath string

// e2eDir is TestMain's temporary directory, removed when the tests end.
var e2eDir string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "corsgate-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: creating temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	e2eDir = dir

	root, err := filepath.Abs("..")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: finding repo root:", err)
		return 1
	}
	exe := ""
	if runtime.GOOS == "windows" {
		exe = ".exe"
	}
	binPath = filepath.Join(dir, "corsgate"+exe)
	demoBackendPath = filepath.Join(dir, "demo-backend"+exe)
	customGatewayPath = filepath.Join(dir, "custom-gateway"+exe)
	// One go build for the three programs, which share most of their
	// packages: the gateway, the demo backend of make run and the custom
	// gateway of docs/custom-gateway.md.
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	if os.Getenv("CORSGATE_E2E_RACE") == "1" {
		// Optional: a race-enabled gateway; every gateway log is scanned
		// for data race reports at the end of each test.
		args = append(args, "-race")
	}
	args = append(args, "./cmd/demo-backend", "./docs/examples/custom-gateway")
	if bin := os.Getenv("CORSGATE_BIN"); bin != "" {
		binPath = bin // a prebuilt gateway, for debugging the tests themselves
	} else {
		args = append(args, "./cmd/corsgate")
	}
	build := exec.Command("go", args...)
	build.Dir = root
	out, err := build.CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build failed: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// obj is shorthand for a JSON object in configs (the same type as
// plugintest.Block).
type obj = plugintest.Block

// gateway is a running "corsgate run" process.
type gateway struct {
	URL    string // http://127.0.0.1:PORT
	Port   int
	Config string // the configuration file's path
	PID    int    // the gateway process, for /proc/PID/status
	logs   *syncBuffer
	done   chan struct{}
	err    error // exit error, valid once done is closed
}

// Logs returns everything the gateway wrote to stdout and stderr so far.
func (g *gateway) Logs() string { return g.logs.String() }

// startGateway writes the configuration build returns (which must listen
// on the port it is given, as plugintest.Gateway.JSON does) and starts the
// gateway, waiting until /__health answers 200. The process is stopped
// when the test ends. build is called with a fresh port; it is retried on
// a new port if the first one was taken.
func startGateway(t testing.TB, debug bool, build func(port int) obj) *gateway {
	t.Helper()
	return startGatewayArgs(t, debug, nil, build)
}

// startGatewayArgs is startGateway with more arguments for corsgate run.
func startGatewayArgs(t testing.TB, debug bool, extra []string, build func(port int) obj) *gateway {
	t.Helper()
	var lastLogs string
	for attempt := 0; attempt < 3; attempt++ {
		port := freePort(t)
		g, ok := tryStartGateway(t, port, debug, extra, build(port))
		if ok {
			return g
		}
		lastLogs = g.Logs()
		if !strings.Contains(lastLogs, "address already in use") {
			break
		}
	}
	t.Fatalf("gateway did not become ready; its output:\n%s", lastLogs)
	return nil
}

func tryStartGateway(t testing.TB, port int, debug bool, extra []string, cfg obj) (*gateway, bool) {
	t.Helper()
	path := plugintest.WriteFile(t, cfg)
	args := append([]string{"run", "-c", path}, extra...)
	if debug {
		args = append(args, "-d")
	}
	g := &gateway{
		URL:    "http://127.0.0.1:" + strconv.Itoa(port),
		Port:   port,
		Config: path,
		logs:   &syncBuffer{},
		done:   make(chan struct{}),
	}
	cmd := exec.Command(binPath, args...)
	cmd.Stdout = g.logs
	cmd.Stderr = g.logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting gateway: %v", err)
	}
	g.PID = cmd.Process.Pid
	go func() {
		g.err = cmd.Wait()
		close(g.done)
	}()
	stop := func() {
		select {
		case <-g.done:
			return
		default:
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-g.done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-g.done
		}
	}
	t.Cleanup(func() {
		stop()
		if strings.Contains(g.Logs(), "WARNING: DATA RACE") {
			t.Errorf("the gateway reported a data race:\n%s", g.Logs())
		}
		if t.Failed() {
			t.Logf("gateway output (%s):\n%s", g.URL, g.Logs())
		}
	})

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-g.done:
			return g, false
		default:
		}
		resp, err := client.Get(g.URL + "/__health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return g, true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	return g, false
}

// cliResult is the outcome of one corsgate CLI invocation.
type cliResult struct {
	Stdout, Stderr string
	Code           int
}

// runCLI runs the corsgate binary with args and waits for it (30s max).
func runCLI(t testing.TB, args ...string) cliResult {
	t.Helper()
	return runCLIEnv(t, nil, args...)
}

// runCLIEnv is runCLI with env added to the environment.
func runCLIEnv(t testing.TB, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	res := cliResult{Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.Code = exitErr.ExitCode()
	default:
		t.Fatalf("running corsgate %v: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("corsgate %v did not finish within 30s; stdout:\n%s\nstderr:\n%s", args, res.Stdout, res.Stderr)
	}
	return res
}

// backend is an in-process HTTP backend on 127.0.0.1 that counts requests:
// plugintest's.
type backend = plugintest.Backend

// newBackend starts a backend with these routes:
//
//	GET /users            JSON list
//	GET /users/{id}       JSON object
//	POST /users           JSON object
//	GET /cors-backend     answers with its own CORS headers, X-Exposed and X-Hidden
//	GET /data             X-Exposed and X-Hidden, echoes X-Api-Key in the body
//	GET /fail             500
func newBackend(t testing.TB) *backend {
	t.Helper()
	mux := http.NewServeMux()
	writeJSONBody := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET /users", func(w http.ResponseWriter, r *http.Request) {
		writeJSONBody(w, http.StatusOK, obj{"users": []any{obj{"id": "1"}, obj{"id": "2"}}})
	})
	mux.HandleFunc("POST /users", func(w http.ResponseWriter, r *http.Request) {
		writeJSONBody(w, http.StatusCreated, obj{"id": "3"})
	})
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		writeJSONBody(w, http.StatusOK, obj{"id": r.PathValue("id"), "name": "user " + r.PathValue("id")})
	})
	mux.HandleFunc("GET /cors-backend", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Add("Vary", "Origin")
		h.Set("X-Exposed", "yes")
		h.Set("X-Hidden", "no")
		writeJSONBody(w, http.StatusOK, obj{"ok": true, "api_key": r.Header.Get("X-Api-Key")})
	})
	mux.HandleFunc("GET /data", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Exposed", "yes")
		w.Header().Set("X-Hidden", "no")
		writeJSONBody(w, http.StatusOK, obj{"api_key": r.Header.Get("X-Api-Key")})
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		writeJSONBody(w, http.StatusInternalServerError, obj{"error": "boom"})
	})
	return plugintest.ServeBackend(t, mux)
}

// httpClient does not follow redirects, so the tests see what the gateway
// answered.
var httpClient = &http.Client{
	Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
	Transport: &http.Transport{
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     5 * time.Second,
	},
}

// do sends a request and returns the response with its body read.
func do(t testing.TB, method, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	return resp, body.String()
}

// hdr builds an http.Header from key, value pairs; a key may repeat.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// preflight sends an OPTIONS preflight. reqHeaders are sent as separate
// Access-Control-Request-Headers lines (omitted when empty).
func preflight(t testing.TB, url, origin, method string, reqHeaders ...string) *http.Response {
	t.Helper()
	h := hdr("Origin", origin, "Access-Control-Request-Method", method)
	for _, v := range reqHeaders {
		h.Add("Access-Control-Request-Headers", v)
	}
	resp, _ := do(t, http.MethodOptions, url, h)
	return resp
}

// tokens splits every value of a comma-separated header into trimmed,
// non-empty tokens, keeping their original case and repetitions.
func tokens(h http.Header, name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		for _, tok := range strings.Split(v, ",") {
			if tok = strings.TrimSpace(tok); tok != "" {
				out = append(out, tok)
			}
		}
	}
	return out
}

// countFold counts the tokens equal to want, ignoring case.
func countFold(toks []string, want string) int {
	n := 0
	for _, tok := range toks {
		if strings.EqualFold(tok, want) {
			n++
		}
	}
	return n
}

// sameTokenSet reports whether got and want hold the same tokens, ignoring
// case, order and repetitions.
func sameTokenSet(got, want []string) bool {
	set := func(s []string) map[string]bool {
		m := map[string]bool{}
		for _, x := range s {
			m[strings.ToLower(x)] = true
		}
		return m
	}
	g, w := set(got), set(want)
	if len(g) != len(w) {
		return false
	}
	for k := range w {
		if !g[k] {
			return false
		}
	}
	return true
}

// corsHeaders lists the Access-Control-* response headers present.
func corsHeaders(h http.Header) []string {
	var out []string
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			out = append(out, k+": "+strings.Join(h.Values(k), " | "))
		}
	}
	return out
}

// assertVaryNoDup fails when a Vary token appears twice.
func assertVaryNoDup(t testing.TB, h http.Header) {
	t.Helper()
	seen := map[string]bool{}
	for _, tok := range tokens(h, "Vary") {
		k := strings.ToLower(tok)
		if seen[k] {
			t.Errorf("Vary token %q appears more than once: %q", tok, h.Values("Vary"))
		}
		seen[k] = true
	}
}

// assertSingle fails unless header name has exactly one value equal to want.
func assertSingle(t testing.TB, h http.Header, name, want string) {
	t.Helper()
	got := h.Values(name)
	if len(got) != 1 || got[0] != want {
		t.Errorf("%s = %q, want exactly [%q]", name, got, want)
	}
}

// assertAbsent fails when header name is present.
func assertAbsent(t testing.TB, h http.Header, name string) {
	t.Helper()
	if got := h.Values(name); len(got) != 0 {
		t.Errorf("%s = %q, want no such header", name, got)
	}
}

// waitForLog polls the gateway output until match returns true or 5s pass.
func waitForLog(g *gateway, match func(line string) bool) (string, bool) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, line := range strings.Split(g.Logs(), "\n") {
			if match(line) {
				return line, true
			}
		}
		if time.Now().After(deadline) {
			return "", false
		}
		time.Sleep(50 * time.Millisecond)
	}
}
