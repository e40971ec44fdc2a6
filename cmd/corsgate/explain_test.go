package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A URL given to --path is split: its path is explained, and the warning
// says what was dropped; what only looks like a host is left to Normalize.
func TestSplitPath(t *testing.T) {
	tests := []struct {
		name, in, origin string
		path             string
		warning          []string // parts of the warning; none: no warning
	}{
		{"a path", "/users/7", "", "/users/7", nil},
		{"a URL with a query", "https://api.example.com/users/7?x=1", "", "/users/7",
			[]string{`--path "https://api.example.com/users/7?x=1" is a URL: explaining its path "/users/7"`, `dropped: "https://api.example.com", "?x=1"`}},
		{"a URL with a port, a fragment, an escaped path", "http://127.0.0.1:8080/a%20b#top", "", "/a b",
			[]string{`explaining its path "/a b"`, `dropped: "http://127.0.0.1:8080", "#top"`}},
		{"a URL without a path", "https://api.example.com", "", "/", []string{`explaining its path "/"`}},
		{"a URL on the page's own origin", "https://app.example.com/users/7", "https://app.example.com", "/users/7",
			[]string{"note that https://app.example.com is also --origin: a page on the gateway's own origin needs no CORS"}},
		{"a path with a query", "/users/7?x=1", "", "/users/7", []string{`explaining the path "/users/7"; dropped: "?x=1"`}},
		// Ambiguous: refused by Normalize, with the path suggested.
		{"a host without a scheme", "api.example.com/users/7", "", "api.example.com/users/7", nil},
		{"another scheme", "ws://api.example.com/socket", "", "ws://api.example.com/socket", nil},
		{"credentials in the URL", "https://user:secret@api.example.com/users/7", "", "/users/7",
			[]string{`--path "https://user:xxxxx@api.example.com/users/7" is a URL`, `dropped: "https://api.example.com", "user@"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, warning := splitPath(tt.in, tt.origin)
			if path != tt.path {
				t.Errorf("path %q, want %q", path, tt.path)
			}
			if (warning == "") != (len(tt.warning) == 0) {
				t.Errorf("warning %q", warning)
			}
			for _, w := range tt.warning {
				if !strings.Contains(warning, w) {
					t.Errorf("warning %q lacks %q", warning, w)
				}
			}
			if strings.Contains(warning, "secret") {
				t.Errorf("the warning shows the password: %q", warning)
			}
		})
	}
}

// explain prints text or JSON as the flags say, JSON by default when
// stdout is not a terminal, and refuses flags that disagree.
func TestExplainOutputFormat(t *testing.T) {
	cfg := writeConfig(t, testConfig)
	req := []string{"explain", "-c", cfg, "--origin", "https://app.example.com", "--path", "/orders"}
	tests := []struct {
		name  string
		flags []string
		want  string // "text", "json", or part of the usage error
	}{
		{"not a terminal", nil, "json"},
		{"--format text", []string{"--format", "text"}, "text"},
		{"--format json", []string{"--format", "json"}, "json"},
		{"--json", []string{"--json"}, "json"},
		{"--json=false", []string{"--json=false"}, "text"},
		{"--summary for one request", []string{"--summary"}, "text"},
		{"--summary=false", []string{"--summary=false"}, "json"},
		{"agreeing flags", []string{"--summary", "--format", "text"}, "text"},
		{"--json and --summary", []string{"--json", "--summary"}, "--json and --summary ask for different outputs; give one"},
		{"--format text and --json", []string{"--format", "text", "--json"}, "--format text and --json ask for different outputs"},
		{"--format yaml", []string{"--format", "yaml"}, `--format "yaml": give text or json`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(append(append([]string{}, req...), tt.flags...)...)
			switch tt.want {
			case "json":
				var v map[string]any
				if err := json.Unmarshal([]byte(out), &v); err != nil || code != 0 {
					t.Errorf("code %d, want 0 and JSON (%v):\n%s%s", code, err, out, errOut)
				}
			case "text":
				if code != 0 || !strings.HasPrefix(out, "allowed (preflight: not needed): the browser lets the page read the answer\nrequest: GET /orders from https://app.example.com\n") {
					t.Errorf("code %d, want 0 and text:\n%s%s", code, out, errOut)
				}
			default:
				if code != 2 || out != "" || !strings.Contains(errOut, tt.want) {
					t.Errorf("code %d, stdout %q, stderr %q; want 2 and %q", code, out, errOut, tt.want)
				}
			}
		})
	}
}

// A terminal is a character device; a pipe, a buffer or a file is not.
func TestIsTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if isTerminal(f) || isTerminal(w) || isTerminal(&strings.Builder{}) {
		t.Error("a file, a pipe or a buffer is taken for a terminal")
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	defer null.Close()
	if !isTerminal(null) {
		t.Errorf("%s, a character device, is not taken for one", os.DevNull)
	}
}

// The exit status tells allowed (0) from blocked (1) and from no verdict
// (2), with every failing check in the text.
func TestExplainExitStatus(t *testing.T) {
	cfg := writeConfig(t, testConfig)
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr string
	}{
		{"allowed", []string{"--origin", "https://admin.example.com", "--method", "PUT", "--path", "/orders/7", "--header", "X-Api-Key"}, 0,
			[]string{"allowed (preflight: allowed)"}, ""},
		{"same origin", []string{"--method", "DELETE", "--path", "/orders"}, 0, []string{"allowed (preflight: not needed): no Origin"}, ""},
		{"blocked, three failures", []string{"--origin", "https://evil.example", "--method", "PATCH", "--path", "/orders/7", "--header", "X-Trace-Id"}, 1,
			[]string{
				"blocked: the browser stops at the preflight",
				"policy:  the service-level block, as no endpoint serves PATCH /orders/7 (the path is served for PUT)",
				"source:  no gateway with the state directory",
				"failing checks: 3",
				`  1. origin "https://evil.example" is not in allow_origins of the service-level policy (set in the configuration file)`,
				`  2. also: method "PATCH" is not in allow_methods ["GET", "POST"]`,
				`  3. also: header "x-trace-id" is not in allow_headers`,
				"     fix: add it there",
			}, ""},
		{"a URL as the path", []string{"--origin", "https://admin.example.com", "--method", "PUT", "--path", "https://api.example.com/orders/7?x=1"}, 0,
			[]string{"request: PUT /orders/7 from https://admin.example.com"}, `warning: --path "https://api.example.com/orders/7?x=1" is a URL: explaining its path "/orders/7"`},
		{"a host as the path", []string{"--path", "api.example.com/orders/7"}, 2, nil, `did you mean "/orders/7"?`},
		{"no such file", []string{"-c", filepath.Join(t.TempDir(), "none.json")}, 2, nil, "none.json"},
		{"a stray argument", []string{"extra"}, 2, nil, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"explain", "-c", cfg, "--state-dir", t.TempDir(), "--format", "text"}, tt.args...)
			code, out, errOut := runCLI(args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.code, out, errOut)
			}
			for _, w := range tt.stdout {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			if tt.code == 2 && out != "" {
				t.Errorf("stdout %q; want nothing without a verdict", out)
			}
			if !strings.Contains(errOut, tt.stderr) {
				t.Errorf("stderr %q lacks %q", errOut, tt.stderr)
			}
		})
	}
	if code, _, errOut := runCLI("explain", "-h"); code != 0 || !strings.Contains(errOut, "Exit status:\n  0  the browser allows the request") || !strings.Contains(errOut, "1  the browser would block the request") {
		t.Errorf("explain -h: code %d, and the exit statuses are not listed:\n%s", code, errOut)
	}
}
