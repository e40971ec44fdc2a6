package e2e

// The documentation's examples are executed: every ```console block of
// README.md and docs/*.md holds commands ("$ corsgate check ...", "$
// corsgate explain ...", "$ curl -si ...") followed by their output, and
// TestDocs runs each command and compares. `make docs` (CORSGATE_UPDATE_DOCS=1)
// rewrites the outputs from real runs instead.
//
// corsgate commands run the freshly built binary from the repository root.
// curl commands go to the example gateway of `make run`: the test starts
// `corsgate run -d` with config.example.json and the demo backend on free
// ports, and sends the request with Go's client; the output is the status
// line, the response headers sorted by name (without Date, which changes
// on every run) and the body, as `curl -si` prints them.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// docBlock is one console block of a markdown file.
type docBlock struct {
	file       string
	line       int // 1-based line of the first line inside the block
	start, end int // the block's content, as line indexes into the file
	cmds       []docCommand
}

type docCommand struct {
	line   string // the command, without "$ "
	output string // the expected output, each line ending in \n
}

// consoleBlocks finds the ```console blocks of a markdown file.
func consoleBlocks(t *testing.T, path string, lines []string) []docBlock {
	var blocks []docBlock
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```console" {
			continue
		}
		b := docBlock{file: path, line: i + 2, start: i + 1}
		j := i + 1
		for ; j < len(lines) && strings.TrimSpace(lines[j]) != "```"; j++ {
			l := lines[j]
			if strings.HasPrefix(l, "$ ") {
				b.cmds = append(b.cmds, docCommand{line: strings.TrimPrefix(l, "$ ")})
				continue
			}
			if len(b.cmds) == 0 {
				t.Errorf("%s:%d: output before any command in a console block", path, j+1)
				continue
			}
			b.cmds[len(b.cmds)-1].output += l + "\n"
		}
		if j == len(lines) {
			t.Errorf("%s:%d: console block not closed", path, i+1)
		}
		b.end = j
		blocks = append(blocks, b)
		i = j
	}
	return blocks
}

// shellWords splits a command line as a POSIX shell would for the simple
// quoting the docs use: single quotes, double quotes, backslashes.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unclosed single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return nil, errors.New("unclosed double quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '\\' && i+1 < len(s):
			cur.WriteByte(s[i+1])
			i++
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// docsAdminPassword stands for the password make run prints: the docs
// write "$CORSGATE_ADMIN_PASSWORD".
const docsAdminPassword = "docs-password-1234"

// exampleGateway is the gateway of `make run`, started on demand, with its
// admin API.
type exampleGateway struct {
	url   string // http://127.0.0.1:PORT
	admin string // http://127.0.0.1:ADMINPORT
}

func startExampleGateway(t *testing.T, root string) *exampleGateway {
	t.Helper()
	backendBin := demoBackendPath
	backendAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	backend := exec.Command(backendBin, "-listen", backendAddr)
	var backendLogs syncBuffer
	backend.Stdout, backend.Stderr = &backendLogs, &backendLogs
	if err := backend.Start(); err != nil {
		t.Fatalf("starting the demo backend: %v", err)
	}
	t.Cleanup(func() { backend.Process.Kill(); backend.Wait() })
	waitListening(t, backendAddr, &backendLogs)

	adminPort := freePort(t)
	t.Setenv("CORSGATE_ADMIN_USER", "admin")
	t.Setenv("CORSGATE_ADMIN_PASSWORD", docsAdminPassword)
	g := startGatewayArgs(t, true, []string{"--admin-listen", "127.0.0.1:" + strconv.Itoa(adminPort), "--replica-id", "make-run"}, func(port int) obj {
		cfg := readConfigFile(t, filepath.Join(root, "config.example.json"))
		cfg["port"] = port
		backendHosts(t, cfg, func(h string) string {
			u, err := url.Parse(h)
			if err != nil {
				t.Fatalf("backend host %q: %v", h, err)
			}
			u.Host = backendAddr
			return u.String()
		})
		return cfg
	})
	return &exampleGateway{url: g.URL, admin: "http://127.0.0.1:" + strconv.Itoa(adminPort)}
}

func waitListening(t *testing.T, addr string, logs *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s; output:\n%s", addr, logs.String())
}

// runCurl sends the request of a `curl -si` command line to the example
// gateway and renders the answer as curl prints it (see the file comment).
func (g *exampleGateway) runCurl(args []string) (string, error) {
	method, target := "", ""
	var basic [2]string
	h := http.Header{}
	var body io.Reader
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "-si", "-is", "-s", "-i":
		case "-X":
			i++
			method = args[i]
		case "-H":
			i++
			k, v, ok := strings.Cut(args[i], ":")
			if !ok {
				return "", fmt.Errorf("-H %q is not Name: value", args[i])
			}
			h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		case "-u":
			i++
			user, pass, _ := strings.Cut(args[i], ":")
			basic = [2]string{user, pass}
		case "-d", "--data":
			i++
			body = strings.NewReader(args[i])
			if method == "" {
				method = http.MethodPost
			}
		default:
			if strings.HasPrefix(a, "-") || target != "" {
				return "", fmt.Errorf("curl argument %q is not supported here", a)
			}
			target = a
		}
	}
	u, err := url.Parse(target)
	base := g.url
	switch {
	case err != nil:
		return "", err
	case u.Host == "127.0.0.1:9091":
		base = g.admin
	case u.Host != "127.0.0.1:8080":
		return "", fmt.Errorf("curl must target http://127.0.0.1:8080 (the gateway of make run) or :9091 (its admin API), not %q", target)
	}
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, base+u.RequestURI(), body)
	if err != nil {
		return "", err
	}
	req.Header = h
	if basic[0] != "" {
		req.SetBasicAuth(basic[0], basic[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out strings.Builder
	fmt.Fprintf(&out, "HTTP/1.1 %s\n", resp.Status)
	keys := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		if k != "Date" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range resp.Header[k] {
			fmt.Fprintf(&out, "%s: %s\n", k, v)
		}
	}
	out.WriteString("\n")
	if len(b) > 0 {
		out.Write(bytes.TrimRight(b, "\n"))
		out.WriteString("\n")
	}
	// The docs speak of make run's addresses, not of the test's free ports.
	text := strings.ReplaceAll(out.String(), strings.TrimPrefix(g.admin, "http://"), "127.0.0.1:9091")
	return strings.ReplaceAll(text, strings.TrimPrefix(g.url, "http://"), "127.0.0.1:8080"), nil
}

// runCorsgateEnv runs a corsgate command from the repository root, with
// extra environment variables, and returns what a terminal would show
// (stdout and stderr as written).
func runCorsgateEnv(root string, args []string, echoExit bool, env ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	default:
		return "", err
	}
	s := out.String()
	if echoExit {
		s += fmt.Sprintf("exit %d\n", code)
	} else if code != 0 {
		return s, fmt.Errorf("exit status %d; a command that fails must end with `; echo \"exit $?\"` in the docs", code)
	}
	return s, nil
}

func TestDocs(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	update := os.Getenv("CORSGATE_UPDATE_DOCS") == "1"
	stateDir := filepath.Join(t.TempDir(), "corsgate-state")
	files, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	files = append([]string{filepath.Join(root, "README.md")}, files...)
	var gw *exampleGateway
	total := 0
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, path)
		lines := strings.Split(string(data), "\n")
		blocks := consoleBlocks(t, rel, lines)
		// Run the commands in order (they may change the example gateway's
		// state), then rewrite the blocks from the end, so that indexes hold.
		rewritten := make([][]string, len(blocks))
		for bi, b := range blocks {
			for _, c := range b.cmds {
				total++
				line, echoExit := strings.CutSuffix(c.line, `; echo "exit $?"`)
				words, err := shellWords(strings.ReplaceAll(line, "$CORSGATE_ADMIN_PASSWORD", docsAdminPassword))
				// Assignments before the command, as in
				// "CORSGATE_ADMIN_PASSWORD=wrong corsgate config get", are
				// its environment.
				var assigned []string
				for len(words) > 0 && envAssignment.MatchString(words[0]) {
					assigned, words = append(assigned, words[0]), words[1:]
				}
				var got string
				switch {
				case err != nil:
				case len(words) > 1 && words[0] == "corsgate" && (words[1] == "check" || words[1] == "explain"):
					// explain reads the layer a gateway last applied from
					// the state directory: one of its own, empty, so that
					// a make run on this machine changes nothing here.
					got, err = runCorsgateEnv(root, words[1:], echoExit, "CORSGATE_STATE_DIR="+stateDir)
					got = strings.ReplaceAll(got, stateDir, "corsgate-state")
				case len(words) > 1 && words[0] == "corsgate" && words[1] == "config":
					if gw == nil {
						gw = startExampleGateway(t, root)
					}
					// As the docs say: the password of make run alone, the
					// user being CORSGATE_ADMIN_USER's default.
					env := append([]string{"CORSGATE_ADMIN_URL=" + gw.admin, "CORSGATE_ADMIN_USER=", "CORSGATE_ADMIN_TOKEN="}, assigned...)
					got, err = runCorsgateEnv(root, words[1:], echoExit, env...)
					got = strings.ReplaceAll(got, gw.admin, "http://127.0.0.1:9091")
				case len(words) > 0 && words[0] == "curl":
					if gw == nil {
						gw = startExampleGateway(t, root)
					}
					got, err = gw.runCurl(words[1:])
				default:
					err = errors.New("only corsgate check, explain and config, and curl -si, are run from console blocks; use a ```sh block for other commands")
				}
				if len(assigned) > 0 && !(len(words) > 1 && words[0] == "corsgate" && words[1] == "config") {
					err = errors.New("only corsgate config takes variables before it in a console block")
				}
				if err != nil {
					t.Errorf("%s:%d: $ %s: %v", rel, b.line, c.line, err)
					got = c.output
				}
				if !update && comparable(got) != comparable(c.output) {
					t.Errorf("%s:%d: $ %s\n--- the docs say:\n%s--- the command prints:\n%s", rel, b.line, c.line, c.output, got)
				}
				rewritten[bi] = append(rewritten[bi], "$ "+c.line)
				if got != "" {
					rewritten[bi] = append(rewritten[bi], strings.Split(strings.TrimSuffix(got, "\n"), "\n")...)
				}
			}
		}
		changed := false
		for bi := len(blocks) - 1; bi >= 0 && update; bi-- {
			lines = slices.Concat(lines[:blocks[bi].start], rewritten[bi], lines[blocks[bi].end:])
			changed = true
		}
		if update && changed {
			if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if total == 0 {
		t.Error("no console block found in README.md and docs/*.md")
	}
	t.Logf("%d documented commands checked", total)
}

// The tool above must itself be right: shell quoting, block parsing.
func TestDocsTooling(t *testing.T) {
	t.Parallel()
	words, err := shellWords(`corsgate explain -c docs/examples/spa.json --origin 'https://a.example' --header "Content-Type" --path /x\ y`)
	if err != nil || !slices.Equal(words, []string{"corsgate", "explain", "-c", "docs/examples/spa.json", "--origin", "https://a.example", "--header", "Content-Type", "--path", "/x y"}) {
		t.Errorf("shellWords = %q, %v", words, err)
	}
	if _, err := shellWords(`curl 'x`); err == nil {
		t.Error("an unclosed quote is accepted")
	}
	if !envAssignment.MatchString("CORSGATE_ADMIN_PASSWORD=wrong") || envAssignment.MatchString("corsgate") || envAssignment.MatchString("--origin=x") {
		t.Error("envAssignment tells assignments from commands wrongly")
	}
	md := "text\n```console\n$ corsgate check -c a.json\nline 1\nline 2\n$ curl -si http://127.0.0.1:8080/\nHTTP/1.1 200 OK\n```\n```sh\n$ make run\n```\n"
	blocks := consoleBlocks(t, "x.md", strings.Split(md, "\n"))
	if len(blocks) != 1 || len(blocks[0].cmds) != 2 || blocks[0].cmds[0].output != "line 1\nline 2\n" || blocks[0].cmds[1].line != "curl -si http://127.0.0.1:8080/" {
		t.Errorf("consoleBlocks = %+v", blocks)
	}
}

// envAssignment is a variable set before a command: NAME=value.
var envAssignment = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`)

// Times and the lengths of bodies that hold them change on every run: the
// comparison masks them.
var (
	timestampRE     = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)
	contentLengthRE = regexp.MustCompile(`(?m)^Content-Length: \d+$`)
)

// comparable masks what changes between runs in a command's output: times
// (RFC 3339) and, when the output holds one, the Content-Length.
func comparable(out string) string {
	if !timestampRE.MatchString(out) {
		return out
	}
	out = timestampRE.ReplaceAllString(out, "<time>")
	return contentLengthRE.ReplaceAllString(out, "Content-Length: <n>")
}
