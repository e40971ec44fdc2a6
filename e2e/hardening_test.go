package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/corsgate/corsgate/internal/etcdtest"
	"github.com/corsgate/corsgate/internal/testwait"
	"github.com/corsgate/corsgate/plugin/plugintest"
)

// hardenedGateway starts a gateway with an admin API on a file of its own,
// with the configuration of cors and the extra settings of the file and
// the command line; it returns the gateway and the file's path.
func hardenedGateway(t *testing.T, tweak func(cfg obj), env []string, extra ...string) (*runningGateway, string) {
	t.Helper()
	be := newBackend(t)
	port, adminPort := freePort(t), freePort(t)
	cfg := plugintest.Gateway{
		CORS:       plugintest.Block{"allow_origins": []any{originApp}, "debug": true},
		BackendURL: be.URL,
		Endpoints:  []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", nil)},
	}.JSON(port)
	cfg["extra_config"].(map[string]any)["corsgate/admin"] = map[string]any{"state_dir": filepath.Join(t.TempDir(), "state")}
	if tweak != nil {
		tweak(cfg)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "gateway.json")
	data, _ := json.MarshalIndent(cfg, "", "  ")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return startAdminGatewayEnv(t, path, port, adminPort, env, extra...), path
}

// post sends body to url and returns the answer with its body read.
func post(t *testing.T, url string, body []byte) (*http.Response, string) {
	t.Helper()
	resp, err := httpClient.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

// openFDs counts the open file descriptors of a process.
func openFDs(t *testing.T, pid int) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// Slowloris: half-open connections (headers never finished) are closed
// within the header timeout on the gateway (the file's
// read_header_timeout) and on the admin API (5 s); the gateway holds no
// more connections than --max-connections, and the admin API answers
// throughout.
func TestSlowloris(t *testing.T) {
	t.Parallel()
	g, _ := hardenedGateway(t, func(cfg obj) { cfg["read_header_timeout"] = "2s" }, nil, "--max-connections", "40")
	pid := g.cmd.Process.Pid
	before := openFDs(t, pid)
	slow := func(addr string) net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte("GET /users/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")); err != nil {
			t.Fatal(err)
		}
		return c
	}
	type held struct {
		conn  net.Conn
		admin bool
	}
	var conns []held
	start := time.Now()
	for i := 0; i < 200; i++ {
		conns = append(conns, held{slow(strings.TrimPrefix(g.URL, "http://")), false})
	}
	for i := 0; i < 30; i++ {
		conns = append(conns, held{slow(strings.TrimPrefix(g.Admin, "http://")), true})
	}
	time.Sleep(500 * time.Millisecond)
	during := openFDs(t, pid)
	// The admin API answers while both listeners are flooded.
	if resp, _ := g.adminCall(t, "GET", "/v1/cors/status", ""); resp.StatusCode != 200 {
		t.Errorf("the admin API during the flood: %d", resp.StatusCode)
	}
	if grew := during - before; grew > 40+30+8 {
		t.Errorf("the gateway holds %d more descriptors during the flood, more than the 40 connections of --max-connections and the admin API's 30", grew)
	}
	// Each half-open connection is closed by the server within its
	// timeout (or, past the gateway's cap, still waits in the kernel's
	// queue and is then read and closed within the timeout too).
	var mu sync.Mutex
	var worstGateway, worstAdmin time.Duration
	var wg sync.WaitGroup
	for _, h := range conns {
		wg.Add(1)
		go func(h held) {
			defer wg.Done()
			h.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			io.Copy(io.Discard, h.conn)
			d := time.Since(start)
			mu.Lock()
			defer mu.Unlock()
			if h.admin {
				worstAdmin = max(worstAdmin, d)
			} else {
				worstGateway = max(worstGateway, d)
			}
		}(h)
	}
	wg.Wait()
	t.Logf("slowloris: %d descriptors before, %d during 200 + 30 half-open connections; the last one closed after %s on the gateway (read_header_timeout 2s, at most 40 at once), %s on the admin API (5s)", before, during, worstGateway.Round(10*time.Millisecond), worstAdmin.Round(10*time.Millisecond))
	if worstAdmin > 8*time.Second {
		t.Errorf("the admin API held a half-open connection for %s", worstAdmin)
	}
	// 200 connections, 40 at a time, 2 s each: about 10 s.
	if worstGateway > 20*time.Second {
		t.Errorf("the gateway held half-open connections for %s", worstGateway)
	}
}

// The HAR endpoint: one file at a time (others get 429), at most 4 MiB by
// default (413 before the body is read), and memory bounded under four
// parallel posts of the largest file.
func TestHARMemoryBounded(t *testing.T) {
	t.Parallel()
	g, _ := hardenedGateway(t, nil, nil, "-d")
	pid := g.cmd.Process.Pid
	_, before := memory(t, pid) // bytes
	// A HAR just under 4 MiB, of requests with an Origin.
	var b bytes.Buffer
	b.WriteString(`{"log": {"entries": [`)
	for i := 0; b.Len() < 4<<20-4096; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"request": {"method": "PUT", "url": "http://127.0.0.1/users/%d", "headers": [{"name": "Origin", "value": "https://evil-%d.example"}, {"name": "X-Padding", "value": "%s"}]}, "response": {"status": 0, "headers": []}}`, i, i, strings.Repeat("x", 200))
	}
	b.WriteString(`]}}`)
	har := b.Bytes()
	codes := make(chan int, 4)
	var answered atomic.Int64 // the size of a 200's answer
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, body := post(t, g.URL+"/__debug/cors/har", har)
			if resp.StatusCode == 200 {
				answered.Store(int64(len(body)))
				if len(body) > 64<<20 {
					t.Errorf("an answer of %d bytes", len(body))
				}
			}
			codes <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	n := map[int]int{}
	for c := range codes {
		n[c]++
	}
	_, peak := memory(t, pid)
	t.Logf("HAR: 4 parallel posts of %d KiB: %v; peak RSS %d MiB (%d MiB before); the answer %d KiB", len(har)>>10, n, peak>>20, before>>20, answered.Load()>>10)
	if n[200] < 1 || n[200]+n[429] != 4 {
		t.Errorf("answers %v, want at least one 200 and 429 for the others", n)
	}
	if peak > 400<<20 {
		t.Errorf("peak RSS %d MiB", peak>>20)
	}
	big := append(bytes.Repeat([]byte(" "), 5<<20), har...)
	if resp, body := post(t, g.URL+"/__debug/cors/har", big); resp.StatusCode != 413 || !strings.Contains(body, "--har-max-bytes") {
		t.Errorf("a 9 MiB HAR: %d %.200s", resp.StatusCode, body)
	}
}

// Brute force: five guesses, then 429 with Retry-After whatever is sent;
// the refusals are counted in /metrics (read with a read-only token) and
// logged at most once a second.
func TestBruteForce(t *testing.T) {
	t.Parallel()
	readToken := "read-only-token-0123456789abcdef"
	g, _ := hardenedGateway(t, nil, []string{"CORSGATE_ADMIN_READ_TOKEN=" + readToken})
	start := time.Now()
	var codes []int
	for i := 0; i < 200; i++ {
		req, _ := http.NewRequest("GET", g.Admin+"/v1/cors/status", nil)
		req.SetBasicAuth(adminUser, "guess-"+strconv.Itoa(i))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	elapsed := time.Since(start)
	n401 := strings.Count(fmt.Sprint(codes), "401")
	t.Logf("brute force: 200 guesses in %s: %d answered 401 (tried), the others 429", elapsed.Round(time.Millisecond), n401)
	if n401 != 5 || codes[5] != 429 {
		t.Errorf("answers %v, want 5 × 401 then 429", codes[:10])
	}
	// The right password is refused too while the client waits.
	if resp, _ := g.adminCall(t, "GET", "/v1/cors/status", ""); resp.StatusCode != 429 {
		t.Errorf("the right password while waiting: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", g.Admin+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+readToken)
	// The read-only token comes from the same address, which waits: wait.
	time.Sleep(1100 * time.Millisecond)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	metricsBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// 5 guesses, and the start-up probes without credentials; 195 guesses
	// and the right password while waiting.
	unauthorized, _ := strconv.Atoi(strings.TrimPrefix(grep(string(metricsBody), `corsgate_admin_refusals_total{reason="unauthorized"}`), `corsgate_admin_refusals_total{reason="unauthorized"} `))
	if resp.StatusCode != 200 || unauthorized < 5 || !strings.Contains(string(metricsBody), `corsgate_admin_refusals_total{reason="throttled"} 196`) {
		t.Errorf("/metrics: %d\n%s\n%.300s", resp.StatusCode, grep(string(metricsBody), "corsgate_admin_refusals_total"), metricsBody)
	}
	lines := strings.Count(g.logs.String(), "refused GET")
	t.Logf("brute force: %d log lines for 201 refusals", lines)
	if lines > int(elapsed/time.Second)+3 {
		t.Errorf("%d log lines in %s for 201 refusals: not bounded", lines, elapsed)
	}
}

// grep keeps the lines of s that contain sub.
func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// DNS rebinding: a request whose Host is a name the listener does not
// answer to gets 421, before any handler, even with the right credentials
// and a matching Origin.
func TestRebindingHostRefused(t *testing.T) {
	t.Parallel()
	g, _ := hardenedGateway(t, func(cfg obj) {
		cfg["extra_config"].(map[string]any)["corsgate/admin"].(map[string]any)["allowed_hosts"] = []any{"admin.internal.example"}
	}, nil)
	port := strings.TrimPrefix(g.Admin, "http://127.0.0.1:")
	for _, c := range []struct {
		host string
		want int
	}{
		{"evil.example:" + port, 421},
		{"localhost:" + port, 200},
		{"127.0.0.1:" + port, 200},
		{"admin.internal.example:" + port, 200},
	} {
		req, _ := http.NewRequest("GET", g.Admin+"/v1/cors/status", nil)
		req.Host = c.host
		req.Header.Set("Origin", "http://"+c.host)
		req.SetBasicAuth(adminUser, adminPassword)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("Host %s: %d %s, want %d", c.host, resp.StatusCode, body, c.want)
		}
	}
}

// A read-only credential reads everything and changes nothing.
func TestReadOnlyCredential(t *testing.T) {
	t.Parallel()
	token := "viewer-token-0123456789abcdef"
	g, _ := hardenedGateway(t, nil, []string{"CORSGATE_ADMIN_READ_TOKEN=" + token})
	call := func(method, path, body string) int {
		req, _ := http.NewRequest(method, g.Admin+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("If-Match", `"0"`)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, p := range []string{"/v1/cors/status", "/v1/cors/config", "/v1/cors/history", "/v1/cors/decisions", "/v1/cors/diff", "/metrics", "/dashboard/", "/_api/v2/user/config/cors"} {
		if code := call("GET", p, ""); code != 200 {
			t.Errorf("GET %s: %d", p, code)
		}
	}
	for _, w := range []struct{ method, path, body string }{
		{"PUT", "/_api/v2/user/config/cors", `{"origins": ["https://x.example"]}`},
		{"PUT", "/v1/cors/layer", `{}`},
		{"PUT", "/v1/cors/scopes/service", `{}`},
		{"POST", "/v1/cors/reset", ""},
		{"POST", "/v1/cors/rollback", `{"revision": 1}`},
		{"DELETE", "/v1/cors/keys/allow_origins", ""},
		{"PUT", "/v1/cors/candidate", `{}`},
	} {
		if code := call(w.method, w.path, w.body); code != 403 {
			t.Errorf("%s %s: %d, want 403", w.method, w.path, code)
		}
	}
	if resp, body := g.adminCall(t, "GET", "/v1/cors/status", ""); resp.StatusCode != 200 || !strings.Contains(body, `"revision": 0`) {
		t.Errorf("the read-only writes changed something: %s", body)
	}
}

// A state directory that others may write is not used: the gateway serves
// the file alone, says why, and refuses run-time changes.
func TestWorldWritableStateRefused(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(state, 0o777)
	g, _ := hardenedGateway(t, func(cfg obj) {
		cfg["extra_config"].(map[string]any)["corsgate/admin"].(map[string]any)["state_dir"] = state
	}, nil)
	_, body := g.adminCall(t, "GET", "/v1/cors/status", "")
	if !strings.Contains(body, "mode 0777") || !strings.Contains(body, "chmod go-w") || !strings.Contains(body, `"ok": false`) {
		t.Errorf("status: %s", body)
	}
	if code, _, body := g.cloudantPut(t, "", originAdmin); code != 503 {
		t.Errorf("a write with an untrusted store: %d %s", code, body)
	}
	if got := g.allowedOrigin(t, originApp); got != originApp {
		t.Errorf("the file alone does not apply: %q", got)
	}
}

// A named pipe, then an oversized file, at the configuration's path: each
// reload is refused without blocking, and a later edit applies.
func TestHostileConfigFile(t *testing.T) {
	t.Parallel()
	g, path := hardenedGateway(t, nil, nil)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(filepath.Dir(path), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(fifo, path); err != nil {
		t.Fatal(err)
	}
	g.cmd.Process.Signal(syscall.SIGHUP)
	testwait.Until(t, "the refusal of the named pipe", func() bool {
		return strings.Contains(g.logs.String(), "is a named pipe") || strings.Contains(g.logs.String(), "it is a named pipe")
	})
	big := filepath.Join(filepath.Dir(path), "big")
	f, _ := os.Create(big)
	f.Truncate(17 << 20)
	f.Close()
	os.Rename(big, path)
	g.cmd.Process.Signal(syscall.SIGHUP)
	testwait.Until(t, "the refusal of the oversized file", func() bool { return strings.Contains(g.logs.String(), "larger than 16 MiB") })
	// A later edit applies: the reload thread is alive.
	edited := bytes.Replace(good, []byte(`"`+originApp+`"`), []byte(`"`+originApp+`", "`+originAdmin+`"`), 1)
	tmp := path + ".tmp"
	os.WriteFile(tmp, edited, 0o600)
	os.Rename(tmp, path)
	testwait.Until(t, "the edit applied", func() bool { return g.allowedOrigin(t, originAdmin) == originAdmin })
	if got := g.allowedOrigin(t, originApp); got != originApp {
		t.Errorf("after the edit, %s: %q", originApp, got)
	}
}

// A secret on the line of a syntax error reaches neither the log nor the
// status (nor the dashboard, which shows the status).
func TestSecretOfABrokenConfigNotShown(t *testing.T) {
	t.Parallel()
	g, path := hardenedGateway(t, nil, nil)
	const secret = "s3cr3t-client-value-0987"
	broken := "{\n  \"version\": 3,\n  \"client_secret\": \"" + secret + "\" oops,\n  \"port\": 1\n}\n"
	tmp := path + ".tmp"
	os.WriteFile(tmp, []byte(broken), 0o600)
	os.Rename(tmp, path)
	var status string
	testwait.Until(t, "the reload's refusal in the status", func() bool {
		_, status = g.adminCall(t, "GET", "/v1/cors/status", "")
		return strings.Contains(status, "not valid JSON")
	})
	if !strings.Contains(status, "gateway.json:3:") || !strings.Contains(status, "corsgate check -c") {
		t.Errorf("the status does not name the line: %s", status)
	}
	if strings.Contains(status, secret) || strings.Contains(g.logs.String(), secret) {
		t.Errorf("the secret is shown:\nstatus %s\nlog %s", status, g.logs.String())
	}
	// corsgate check, run by the file's owner, shows the line.
	if res := runCLI(t, "check", "-c", path); !strings.Contains(res.Stderr+res.Stdout, "oops") {
		t.Errorf("check does not show the line:\n%s%s", res.Stdout, res.Stderr)
	}
}

// corsgate config --admin with a password in the URL never prints it.
func TestAdminURLPasswordRedacted(t *testing.T) {
	t.Parallel()
	res := runCLIEnv(t, []string{"CORSGATE_ADMIN_USER=", "CORSGATE_ADMIN_TOKEN="}, "config", "get", "--admin", "http://admin:Sup3r-S3cret-pw@127.0.0.1:"+strconv.Itoa(freePort(t)))
	if res.Code != 1 || strings.Contains(res.Stdout+res.Stderr, "Sup3r-S3cret-pw") || !strings.Contains(res.Stderr, "does not answer") {
		t.Errorf("exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
}

// ?wait=fleet: a member record without a lease (a ghost another tool
// wrote) is not waited for; a member that never applies is, up to the
// timeout, and a 40 s wait ends in a whole 202 answer that names it.
func TestFleetWaitGhostsAndLongWaits(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	prefix := fmt.Sprintf("/corsgate/hardening-%d/", time.Now().UnixNano())
	g, _ := hardenedGateway(t, func(cfg obj) {
		cfg["extra_config"].(map[string]any)["corsgate/admin"].(map[string]any)["store"] = map[string]any{"type": "etcd", "endpoints": []any{srv.Endpoint()}, "prefix": prefix, "dial_timeout": "1s"}
	}, nil)
	raw, err := clientv3.New(clientv3.Config{Endpoints: []string{srv.Endpoint()}, DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	ctx := context.Background()
	if _, err := raw.Put(ctx, prefix+"members/ghost", `{"id": "ghost", "applied_revision": 0}`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code, _, body := g.cloudantPut(t, "?wait=fleet&timeout=5s", originAdmin)
	if code != 200 || !strings.Contains(body, `"complete": true`) || time.Since(start) > 4*time.Second {
		t.Errorf("a write with a ghost member: %d after %s\n%s", code, time.Since(start), body)
	}
	// A live member that never applies anything.
	lease, err := raw.Grant(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	kctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if _, err := raw.KeepAlive(kctx, lease.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Put(ctx, prefix+"members/stuck", `{"id": "stuck", "applied_revision": 0}`, clientv3.WithLease(lease.ID)); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	code, _, body = g.cloudantPut(t, "?wait=fleet&timeout=40s", originApp)
	waited := time.Since(start)
	t.Logf("a 40 s wait for a member that never applies: %d after %s", code, waited.Round(time.Millisecond))
	if code != 202 || !strings.Contains(body, `"complete": false`) || !strings.Contains(body, `"id": "stuck"`) || waited < 39*time.Second {
		t.Errorf("a 40 s wait: %d after %s\n%s", code, waited, body)
	}
}
