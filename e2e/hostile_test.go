package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corsgate/corsgate/plugin/plugintest"
)

// Malformed and oversized requests against the running gateway, sent over
// raw TCP so that nothing in a client library tidies them up first. The
// gateway must not panic, the CORS layer must not answer 5xx, every answer
// must come within hostileMaxPerRequest, the gateway's resident memory
// must grow by less than hostileMaxRSSGrowth, and a normal request must
// still work afterwards. The measured figures are logged (go test -v).

const (
	hostileMaxPerRequest = 2 * time.Second
	hostileMaxRSSGrowth  = 100 << 20
)

// rawExchange writes req on a new connection and reads one response.
// The request is written from another goroutine, so that an early answer
// (431, 400) to a request still being written is read rather than
// deadlocking on a full socket buffer.
func rawExchange(addr string, req []byte) (*http.Response, []byte, time.Duration, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, nil, 0, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	start := time.Now()
	go func() { _, _ = conn.Write(req) }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, nil, time.Since(start), err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body, time.Since(start), err
}

// rawRequest builds an HTTP/1.1 request with the header lines given as
// "Name: value" strings (written as they are) and an optional body.
func rawRequest(method, target string, lines []string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n", method, target)
	for _, l := range lines {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	if body != nil {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

var rssLine = regexp.MustCompile(`(?m)^(VmRSS|VmHWM):\s+(\d+) kB`)

// memory returns the resident set size and its peak (bytes) of process pid.
func memory(t *testing.T, pid int) (rss, peak int64) {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatalf("reading the gateway's memory: %v", err)
	}
	for _, m := range rssLine.FindAllStringSubmatch(string(b), -1) {
		kb, _ := strconv.ParseInt(m[2], 10, 64)
		if m[1] == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
	}
	return rss, peak
}

func repeatJoin(s string, n int, sep string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = s
	}
	return strings.Join(parts, sep)
}

func manyLines(name, value string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = name + ": " + value
	}
	return out
}

func TestHostileRequests(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Fatalf("this test reads the gateway's memory from /proc, which is missing: %v", err)
	}
	b := newBackend(t)
	g := startGateway(t, false, func(port int) obj {
		cors := obj{
			"allow_origins":  []any{originApp},
			"allow_methods":  []any{"GET", "POST", "PUT"},
			"allow_headers":  []any{"Content-Type", "X-Api-Key"},
			"expose_headers": []any{"X-Request-Id"},
		}
		return plugintest.Gateway{
			CORS:       cors,
			BackendURL: b.URL,
			Endpoints:  []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", nil)},
		}.JSON(port)
	})
	addr := strings.TrimPrefix(g.URL, "http://")
	rssBefore, _ := memory(t, g.PID)

	pre := func(extra ...string) []string {
		return append([]string{"Origin: " + originApp, "Access-Control-Request-Method: PUT"}, extra...)
	}
	kib64 := repeatJoin("x-api-key", 64<<10/10, ",")            // 64 KiB, all allowed
	kib64Denied := repeatJoin("x-not-allowed", 64<<10/14, ",")  // 64 KiB, none allowed
	names10k := repeatJoin("content-type", 10000, ",")          // 10,000 names in one line
	nearMiB := repeatJoin("content-type", (1<<20-8192)/13, ",") // just under Go's 1 MB header limit
	overMiB := repeatJoin("content-type", (3<<20)/(2*13), ",")  // 1.5 MB: Go's server answers 431
	invalid := "https://app.example.com\xff\xfe\x80"            // obs-text bytes Go's server lets through
	ctl := "https://app.example.com\x01\x7f"                    // control bytes Go's server refuses
	body64 := bytes.Repeat([]byte("A"), 64<<10)

	type hostileCase struct {
		name string
		reps int
		req  []byte
		// acao: "" no Access-Control-Allow-Origin wanted, "app" originApp
		// wanted, "-" not checked.
		acao string
		// status, when not 0, is the exact status wanted (answers of Go's
		// server itself, before the CORS layer).
		status int
	}
	cases := []hostileCase{
		{"preflight, Access-Control-Request-Headers of 64 KiB (allowed names)", 20, rawRequest("OPTIONS", "/users/1", pre("Access-Control-Request-Headers: "+kib64), nil), "app", 0},
		{"preflight, Access-Control-Request-Headers of 64 KiB (refused names)", 20, rawRequest("OPTIONS", "/users/1", pre("Access-Control-Request-Headers: "+kib64Denied), nil), "", 0},
		{"preflight, 10,000 names in one Access-Control-Request-Headers line", 20, rawRequest("OPTIONS", "/users/1", pre("Access-Control-Request-Headers: "+names10k), nil), "app", 0},
		{"preflight, 10,000 Access-Control-Request-Headers lines", 10, rawRequest("OPTIONS", "/users/1", pre(manyLines("Access-Control-Request-Headers", "x-api-key", 10000)...), nil), "app", 0},
		{"preflight, Access-Control-Request-Headers just under 1 MB", 5, rawRequest("OPTIONS", "/users/1", pre("Access-Control-Request-Headers: "+nearMiB), nil), "app", 0},
		{"preflight, Access-Control-Request-Headers of 1.5 MB", 3, rawRequest("OPTIONS", "/users/1", pre("Access-Control-Request-Headers: "+overMiB), nil), "-", http.StatusRequestHeaderFieldsTooLarge},
		{"preflight, 500 Origin lines", 20, rawRequest("OPTIONS", "/users/1", append(manyLines("Origin", originApp, 500), "Access-Control-Request-Method: PUT"), nil), "", 0},
		{"GET, 500 Origin lines", 20, rawRequest("GET", "/users/1", manyLines("Origin", originApp, 500), nil), "", 0},
		{"preflight, Origin with bytes 0x80-0xff", 20, rawRequest("OPTIONS", "/users/1", []string{"Origin: " + invalid, "Access-Control-Request-Method: PUT"}, nil), "", 0},
		{"GET, Origin with bytes 0x80-0xff", 20, rawRequest("GET", "/users/1", []string{"Origin: " + invalid}, nil), "", 0},
		{"preflight, Origin with control bytes", 20, rawRequest("OPTIONS", "/users/1", []string{"Origin: " + ctl, "Access-Control-Request-Method: PUT"}, nil), "-", http.StatusBadRequest},
		{"preflight, Access-Control-Request-Headers with bytes 0x80-0xff", 20, rawRequest("OPTIONS", "/users/1", pre("Access-Control-Request-Headers: content-type,x-\xff\xfe"), nil), "", 0},
		{"preflight, Access-Control-Request-Method with bytes 0x80-0xff", 20, rawRequest("OPTIONS", "/users/1", []string{"Origin: " + originApp, "Access-Control-Request-Method: P\xffT"}, nil), "", 0},
		{"empty method", 20, []byte(" /users/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: " + originApp + "\r\nConnection: close\r\n\r\n"), "-", http.StatusBadRequest},
		{"preflight with a 64 KiB body", 20, rawRequest("OPTIONS", "/users/1", pre("Content-Type: text/plain"), body64), "app", 0},
		{"preflight with a chunked body", 20, []byte("OPTIONS /users/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nOrigin: " + originApp + "\r\nAccess-Control-Request-Method: PUT\r\nTransfer-Encoding: chunked\r\n\r\n" + "10\r\n0123456789abcdef\r\n0\r\n\r\n"), "app", 0},
	}

	optionsBefore := b.Options()
	var report []string
	var worst time.Duration
	for _, c := range cases {
		var max, total time.Duration
		for i := 0; i < c.reps; i++ {
			resp, _, d, err := rawExchange(addr, c.req)
			if err != nil {
				t.Fatalf("%s: %v (after %v)", c.name, err, d)
			}
			total += d
			if d > max {
				max = d
			}
			if resp.StatusCode >= 500 {
				t.Errorf("%s: status %d", c.name, resp.StatusCode)
			}
			if c.status != 0 && resp.StatusCode != c.status {
				t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.status)
			}
			acao := resp.Header.Values("Access-Control-Allow-Origin")
			switch c.acao {
			case "app":
				if len(acao) != 1 || acao[0] != originApp {
					t.Errorf("%s: Access-Control-Allow-Origin %q, want %q", c.name, acao, originApp)
				}
			case "":
				if len(acao) != 0 {
					t.Errorf("%s: Access-Control-Allow-Origin %q, want none", c.name, acao)
				}
			}
		}
		if max > hostileMaxPerRequest {
			t.Errorf("%s: slowest answer took %v, more than %v", c.name, max, hostileMaxPerRequest)
		}
		worst = maxDuration(worst, max)
		report = append(report, fmt.Sprintf("  %-70s %3d× mean %9v max %9v", c.name, c.reps, (total/time.Duration(c.reps)).Round(time.Microsecond), max.Round(time.Microsecond)))
	}

	// The same 64 KiB preflights from 16 connections at once.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var burstMax time.Duration
	burstStart := time.Now()
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				resp, _, d, err := rawExchange(addr, cases[0].req)
				mu.Lock()
				burstMax = maxDuration(burstMax, d)
				mu.Unlock()
				if err != nil {
					t.Errorf("concurrent 64 KiB preflights: %v", err)
					return
				}
				if resp.StatusCode >= 500 {
					t.Errorf("concurrent 64 KiB preflights: status %d", resp.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
	if burstMax > hostileMaxPerRequest {
		t.Errorf("concurrent 64 KiB preflights: slowest answer took %v", burstMax)
	}
	report = append(report, fmt.Sprintf("  %-70s %3d× in %v, max %v", "16 connections × 10 preflights of 64 KiB at once", 160, time.Since(burstStart).Round(time.Millisecond), burstMax.Round(time.Microsecond)))

	if got := b.Options() - optionsBefore; got != 0 {
		t.Errorf("%d OPTIONS requests reached the backend", got)
	}

	// The gateway still answers a normal request.
	resp, body := do(t, http.MethodGet, g.URL+"/users/1", hdr("Origin", originApp))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != originApp {
		t.Errorf("normal request afterwards: status %d, Access-Control-Allow-Origin %q, body %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), body)
	}

	rssAfter, peak := memory(t, g.PID)
	growth := rssAfter - rssBefore
	if growth > hostileMaxRSSGrowth {
		t.Errorf("the gateway's resident memory grew by %d MiB (from %d to %d MiB)", growth>>20, rssBefore>>20, rssAfter>>20)
	}
	logs := g.Logs()
	for _, bad := range []string{"panic", "goroutine ", "fatal error"} {
		if strings.Contains(strings.ToLower(logs), bad) {
			t.Errorf("the gateway's output mentions %q:\n%s", bad, logs)
		}
	}
	t.Logf("hostile requests, time per request (bound %v):\n%s", hostileMaxPerRequest, strings.Join(report, "\n"))
	t.Logf("slowest single answer: %v; gateway RSS %.1f MiB before, %.1f MiB after (growth %.1f MiB, bound %d MiB), peak %.1f MiB",
		worst.Round(time.Microsecond), float64(rssBefore)/(1<<20), float64(rssAfter)/(1<<20), float64(growth)/(1<<20), hostileMaxRSSGrowth>>20, float64(peak)/(1<<20))
}

func maxDuration(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}
