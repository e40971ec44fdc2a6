package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/corsgate/corsgate/plugin/plugintest"
)

const (
	originApp    = "https://app.example.com"
	originLocal  = "http://localhost:3000"
	originAdmin  = "https://admin.example.com"
	originDenied = "https://evil.example.org"
)

var (
	allowHeaders  = []any{"Authorization", "Content-Type", "X-Api-Key"}
	exposeHeaders = []string{"X-Request-Id", "X-Total-Count"}
)

// mainCORS is the CORS configuration most tests use.
func mainCORS() obj {
	return obj{
		"allow_origins":     []any{originApp, originLocal, originAdmin},
		"allow_methods":     []any{"GET", "POST", "PUT"},
		"allow_headers":     allowHeaders,
		"expose_headers":    []any{exposeHeaders[0], exposeHeaders[1]},
		"max_age":           "12h",
		"allow_credentials": true,
	}
}

// mainGateway is the gateway most tests use: cors as the service block
// and these endpoints, all on backend b.
func mainGateway(b *backend, cors obj) plugintest.Gateway {
	return plugintest.Gateway{
		CORS:       cors,
		BackendURL: b.URL,
		Endpoints: []plugintest.Endpoint{
			plugintest.EP("GET", "/users", nil),
			plugintest.EP("POST", "/users", nil),
			plugintest.EP("GET", "/users/{id}", nil),
			{Method: "GET", Path: "/cors-backend", NoOp: true},
			plugintest.EP("GET", "/fail", nil),
		},
	}
}

// startMain starts mainGateway with mainCORS (changed by tweak, when not
// nil).
func startMain(t *testing.T, b *backend, debugFlag bool, tweak func(cors obj)) *gateway {
	t.Helper()
	cors := mainCORS()
	if tweak != nil {
		tweak(cors)
	}
	return startGateway(t, debugFlag, mainGateway(b, cors).JSON)
}

// assertPreflightVary checks the Vary header of a preflight answer.
func assertPreflightVary(t *testing.T, h http.Header) {
	t.Helper()
	toks := tokens(h, "Vary")
	for _, want := range []string{"Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"} {
		if countFold(toks, want) != 1 {
			t.Errorf("Vary = %q, want %s exactly once", h.Values("Vary"), want)
		}
	}
	assertVaryNoDup(t, h)
}

// assertNoAllowHeaders fails when any Access-Control-Allow-* header is set.
func assertNoAllowHeaders(t *testing.T, h http.Header) {
	t.Helper()
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "access-control-allow-") {
			t.Errorf("unexpected %s: %q", k, h.Values(k))
		}
	}
}

func TestPreflightAllowed(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	g := startMain(t, b, false, nil)

	t.Run("simple method, no request headers", func(t *testing.T) {
		resp := preflight(t, g.URL+"/users/42", originApp, "GET")
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("status = %d, want 204", resp.StatusCode)
		}
		assertSingle(t, resp.Header, "Access-Control-Allow-Origin", originApp)
		assertSingle(t, resp.Header, "Access-Control-Allow-Methods", "GET")
		assertSingle(t, resp.Header, "Access-Control-Allow-Credentials", "true")
		assertSingle(t, resp.Header, "Access-Control-Max-Age", "43200")
		assertPreflightVary(t, resp.Header)
	})

	t.Run("non-simple method with request headers", func(t *testing.T) {
		resp := preflight(t, g.URL+"/users", originLocal, "PUT", "x-api-key,content-type")
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("status = %d, want 204", resp.StatusCode)
		}
		assertSingle(t, resp.Header, "Access-Control-Allow-Origin", originLocal)
		assertSingle(t, resp.Header, "Access-Control-Allow-Methods", "PUT")
		if got := tokens(resp.Header, "Access-Control-Allow-Headers"); !sameTokenSet(got, []string{"X-Api-Key", "Content-Type"}) {
			t.Errorf("Access-Control-Allow-Headers = %q, want the requested x-api-key, content-type", got)
		}
		assertSingle(t, resp.Header, "Access-Control-Allow-Credentials", "true")
		assertSingle(t, resp.Header, "Access-Control-Max-Age", "43200")
		assertPreflightVary(t, resp.Header)
	})

	t.Run("path no endpoint serves", func(t *testing.T) {
		resp := preflight(t, g.URL+"/no/such/path", originAdmin, "POST", "Authorization")
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("status = %d, want 204", resp.StatusCode)
		}
		assertSingle(t, resp.Header, "Access-Control-Allow-Origin", originAdmin)
		assertSingle(t, resp.Header, "Access-Control-Allow-Methods", "POST")
	})

	if n := b.Hits(); n != 0 {
		t.Errorf("backend received %d requests (%d OPTIONS); preflights must not reach it", n, b.Options())
	}
}

func TestPreflightRequestHeaderVariants(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	g := startMain(t, b, false, nil)

	cases := []struct {
		name  string
		lines []string // Access-Control-Request-Headers lines
		want  []string
	}{
		{"lower case", []string{"x-api-key"}, []string{"x-api-key"}},
		{"upper case", []string{"X-API-KEY,CONTENT-TYPE"}, []string{"x-api-key", "content-type"}},
		{"mixed case reordered", []string{"Content-Type,Authorization,X-Api-Key"}, []string{"authorization", "content-type", "x-api-key"}},
		{"spaces", []string{"  content-type ,   authorization  "}, []string{"content-type", "authorization"}},
		{"two header lines", []string{"X-Api-Key, content-type", "Authorization"}, []string{"x-api-key", "content-type", "authorization"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := preflight(t, g.URL+"/users/1", originApp, "GET", tc.lines...)
			if resp.StatusCode != http.StatusNoContent {
				t.Errorf("status = %d, want 204", resp.StatusCode)
			}
			assertSingle(t, resp.Header, "Access-Control-Allow-Origin", originApp)
			if got := tokens(resp.Header, "Access-Control-Allow-Headers"); !sameTokenSet(got, tc.want) {
				t.Errorf("Access-Control-Allow-Headers = %q, want the requested %q", got, tc.want)
			}
		})
	}
	if n := b.Hits(); n != 0 {
		t.Errorf("backend received %d requests; preflights must not reach it", n)
	}
}

func TestPreflightDenied(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	g := startMain(t, b, false, nil)

	cases := []struct {
		name, origin, method string
		headers              []string
	}{
		{"origin not allowed", originDenied, "GET", nil},
		{"origin with other scheme", "http://app.example.com", "GET", nil},
		{"origin with other port", "https://app.example.com:8443", "GET", nil},
		{"origin with trailing slash", originApp + "/", "GET", nil},
		{"null origin", "null", "GET", nil},
		{"method not allowed", originApp, "DELETE", nil},
		{"header not allowed", originApp, "GET", []string{"X-Api-Key, X-Evil"}},
		{"header not allowed on second line", originApp, "POST", []string{"Content-Type", "X-Evil"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := preflight(t, g.URL+"/users/1", tc.origin, tc.method, tc.headers...)
			if resp.StatusCode != http.StatusNoContent {
				t.Errorf("status = %d, want 204 (options_success_status)", resp.StatusCode)
			}
			assertNoAllowHeaders(t, resp.Header)
			if countFold(tokens(resp.Header, "Vary"), "Origin") != 1 {
				t.Errorf("Vary = %q, want it to contain Origin once", resp.Header.Values("Vary"))
			}
			assertAbsent(t, resp.Header, "X-Cors-Reason") // debug is off
		})
	}
	if n := b.Hits(); n != 0 {
		t.Errorf("backend received %d requests; denied preflights must not reach it", n)
	}
}

func TestActualRequests(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	g := startMain(t, b, false, nil)

	t.Run("allowed origin", func(t *testing.T) {
		before := b.Hits()
		resp, body := do(t, "GET", g.URL+"/users/7", hdr("Origin", originApp))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, body)
		}
		if !strings.Contains(body, "user 7") {
			t.Errorf("body = %s, want the backend's user 7", body)
		}
		if b.Hits() != before+1 {
			t.Errorf("backend hits = %d, want %d", b.Hits(), before+1)
		}
		assertSingle(t, resp.Header, "Access-Control-Allow-Origin", originApp)
		assertSingle(t, resp.Header, "Access-Control-Allow-Credentials", "true")
		if got := tokens(resp.Header, "Access-Control-Expose-Headers"); !sameTokenSet(got, exposeHeaders) {
			t.Errorf("Access-Control-Expose-Headers = %q, want %q", got, exposeHeaders)
		}
		if n := countFold(tokens(resp.Header, "Vary"), "Origin"); n != 1 {
			t.Errorf("Vary = %q, want Origin exactly once", resp.Header.Values("Vary"))
		}
		assertVaryNoDup(t, resp.Header)
		// Preflight-only headers do not belong on an actual response.
		assertAbsent(t, resp.Header, "Access-Control-Allow-Methods")
		assertAbsent(t, resp.Header, "Access-Control-Max-Age")
	})

	t.Run("allowed origin POST", func(t *testing.T) {
		resp, body := do(t, "POST", g.URL+"/users", hdr("Origin", originLocal, "Content-Type", "application/json"))
		if resp.StatusCode/100 != 2 {
			t.Fatalf("status = %d, want 2xx; body %s", resp.StatusCode, body)
		}
		assertSingle(t, resp.Header, "Access-Control-Allow-Origin", originLocal)
	})

	t.Run("denied origin", func(t *testing.T) {
		before := b.Hits()
		resp, body := do(t, "GET", g.URL+"/users/8", hdr("Origin", originDenied))
		if resp.StatusCode != http.StatusOK {
			t.Errorf("status = %d, want 200 (the request still reaches the backend); body %s", resp.StatusCode, body)
		}
		if b.Hits() != before+1 {
			t.Errorf("backend hits = %d, want %d: a request from a denied origin still goes to the backend", b.Hits(), before+1)
		}
		if ch := corsHeaders(resp.Header); len(ch) != 0 {
			t.Errorf("CORS headers on a denied origin's response: %q", ch)
		}
		if n := countFold(tokens(resp.Header, "Vary"), "Origin"); n != 1 {
			t.Errorf("Vary = %q, want Origin exactly once", resp.Header.Values("Vary"))
		}
		assertAbsent(t, resp.Header, "X-Cors-Reason") // debug is off
	})

	t.Run("no origin", func(t *testing.T) {
		resp, body := do(t, "GET", g.URL+"/users/9", nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("status = %d, want 200; body %s", resp.StatusCode, body)
		}
		if ch := corsHeaders(resp.Header); len(ch) != 0 {
			t.Errorf("CORS headers without an Origin: %q", ch)
		}
		if n := countFold(tokens(resp.Header, "Vary"), "Origin"); n != 1 {
			t.Errorf("Vary = %q, want Origin exactly once", resp.Header.Values("Vary"))
		}
	})
}

func TestWildcardOrigins(t *testing.T) {
	t.Parallel()
	b := newBackend(t)

	cases := []struct {
		name       string
		cors       obj
		wantStatus int
	}{
		{
			name:       "allow_origins absent",
			cors:       obj{"allow_methods": []any{"GET", "POST"}, "allow_headers": allowHeaders},
			wantStatus: http.StatusNoContent,
		},
		{
			name: "allow_origins star, max_age 0s, options_success_status 200",
			cors: obj{
				"allow_origins":          []any{"*"},
				"allow_methods":          []any{"GET", "POST"},
				"allow_headers":          allowHeaders,
				"max_age":                "0s",
				"options_success_status": 200,
			},
			wantStatus: http.StatusOK,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := startGateway(t, false, mainGateway(b, tc.cors).JSON)
			before := b.Hits()

			resp := preflight(t, g.URL+"/users/1", originDenied, "POST", "X-Api-Key")
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("preflight status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			assertSingle(t, resp.Header, "Access-Control-Allow-Origin", "*")
			assertSingle(t, resp.Header, "Access-Control-Allow-Methods", "POST")
			assertAbsent(t, resp.Header, "Access-Control-Allow-Credentials")
			assertAbsent(t, resp.Header, "Access-Control-Max-Age")

			resp = preflight(t, g.URL+"/users/1", originApp, "DELETE")
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("denied preflight status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			assertNoAllowHeaders(t, resp.Header)

			if b.Hits() != before {
				t.Errorf("backend received %d preflights", b.Hits()-before)
			}

			resp, _ = do(t, "GET", g.URL+"/users/1", hdr("Origin", originLocal))
			if resp.StatusCode != http.StatusOK {
				t.Errorf("actual request status = %d, want 200", resp.StatusCode)
			}
			assertSingle(t, resp.Header, "Access-Control-Allow-Origin", "*")
			assertAbsent(t, resp.Header, "Access-Control-Allow-Credentials")

			// The backend's own "*" must not be doubled by the gateway's.
			resp, _ = do(t, "GET", g.URL+"/cors-backend", hdr("Origin", originLocal))
			assertSingle(t, resp.Header, "Access-Control-Allow-Origin", "*")
			assertVaryNoDup(t, resp.Header)
		})
	}
}

func TestAutoOptions(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	gw := mainGateway(b, mainCORS())
	gw.Router = obj{"auto_options": true}
	g := startGateway(t, false, gw.JSON)

	t.Run("bare OPTIONS lists the path's methods", func(t *testing.T) {
		resp, _ := do(t, "OPTIONS", g.URL+"/users", nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("status = %d, want 200 from auto_options", resp.StatusCode)
		}
		if got := resp.Header.Get("Allow"); got != "GET, POST" {
			t.Errorf("Allow = %q, want %q", got, "GET, POST")
		}
		assertAbsent(t, resp.Header, "Access-Control-Allow-Origin")

		resp, _ = do(t, "OPTIONS", g.URL+"/users/5", nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("status = %d, want 200 from auto_options", resp.StatusCode)
		}
		if got := resp.Header.Get("Allow"); got != "GET" {
			t.Errorf("Allow = %q, want %q", got, "GET")
		}
	})

	t.Run("OPTIONS with Origin but no request method is not a preflight", func(t *testing.T) {
		resp, _ := do(t, "OPTIONS", g.URL+"/users", hdr("Origin", originApp))
		if resp.StatusCode != http.StatusOK {
			t.Errorf("status = %d, want 200 from auto_options", resp.StatusCode)
		}
		if got := resp.Header.Get("Allow"); got != "GET, POST" {
			t.Errorf("Allow = %q, want %q", got, "GET, POST")
		}
		assertSingle(t, resp.Header, "Access-Control-Allow-Origin", originApp)
		assertAbsent(t, resp.Header, "Access-Control-Allow-Methods")
	})

	t.Run("a real preflight is still answered by CORS", func(t *testing.T) {
		resp := preflight(t, g.URL+"/users", originApp, "POST", "Content-Type")
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("status = %d, want 204 from CORS", resp.StatusCode)
		}
		assertSingle(t, resp.Header, "Access-Control-Allow-Origin", originApp)
		assertSingle(t, resp.Header, "Access-Control-Allow-Methods", "POST")
		assertSingle(t, resp.Header, "Access-Control-Max-Age", "43200")
		assertPreflightVary(t, resp.Header)
	})

	if n := b.Hits(); n != 0 {
		t.Errorf("backend received %d requests; OPTIONS must not reach it", n)
	}
}

func TestBackendCORSHeadersNotDuplicated(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	g := startMain(t, b, false, nil)

	resp, body := do(t, "GET", g.URL+"/cors-backend", hdr("Origin", originApp, "X-Api-Key", "k1"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, body)
	}
	// Make sure the scenario is real: the no-op endpoint forwarded the
	// Origin to a backend that answered with CORS headers of its own.
	if got := b.LastHeaders().Get("Origin"); got != originApp {
		t.Errorf("backend saw Origin %q, want %q (input_headers [\"*\"])", got, originApp)
	}
	if got := resp.Header.Get("X-Exposed"); got != "yes" {
		t.Errorf("X-Exposed = %q, want the backend's headers to pass (no-op)", got)
	}
	assertSingle(t, resp.Header, "Access-Control-Allow-Origin", originApp)
	assertSingle(t, resp.Header, "Access-Control-Allow-Credentials", "true")
	assertVaryNoDup(t, resp.Header)
	if countFold(tokens(resp.Header, "Vary"), "Origin") != 1 {
		t.Errorf("Vary = %q, want Origin exactly once", resp.Header.Values("Vary"))
	}
	if got := tokens(resp.Header, "Access-Control-Expose-Headers"); !sameTokenSet(got, exposeHeaders) {
		t.Errorf("Access-Control-Expose-Headers = %q, want %q", got, exposeHeaders)
	}

	// A denied origin gets none of the backend's CORS headers either: the
	// backend's "*" would otherwise grant what the gateway refused.
	resp, _ = do(t, "GET", g.URL+"/cors-backend", hdr("Origin", originDenied))
	assertVaryNoDup(t, resp.Header)
	if got := corsHeaders(resp.Header); len(got) != 0 {
		t.Errorf("denied origin on a backend with its own CORS headers gets %q, want no Access-Control-* header", got)
	}
	if got := resp.Header.Get("X-Exposed"); got != "yes" {
		t.Errorf("X-Exposed = %q: the backend's other headers must still pass", got)
	}
}

func TestCORSOnGatewayErrors(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	g := startMain(t, b, false, nil)

	t.Run("404 on an unknown path", func(t *testing.T) {
		resp, _ := do(t, "GET", g.URL+"/no/such/path", hdr("Origin", originApp))
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("status = %d, want 404", resp.StatusCode)
		}
		assertSingle(t, resp.Header, "Access-Control-Allow-Origin", originApp)
		assertSingle(t, resp.Header, "Access-Control-Allow-Credentials", "true")
		if countFold(tokens(resp.Header, "Vary"), "Origin") != 1 {
			t.Errorf("Vary = %q, want Origin exactly once", resp.Header.Values("Vary"))
		}
	})

	t.Run("405 for a method the path does not serve", func(t *testing.T) {
		before := b.Hits()
		resp, _ := do(t, "PATCH", g.URL+"/users", hdr("Origin", originApp))
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("status = %d, want 405", resp.StatusCode)
		}
		if b.Hits() != before {
			t.Errorf("backend hits = %d, want %d: no endpoint serves PATCH", b.Hits(), before)
		}
		if countFold(tokens(resp.Header, "Vary"), "Origin") != 1 {
			t.Errorf("Vary = %q, want Origin exactly once", resp.Header.Values("Vary"))
		}
	})

	t.Run("500 from the backend", func(t *testing.T) {
		before := b.Hits()
		resp, _ := do(t, "GET", g.URL+"/fail", hdr("Origin", originLocal))
		if resp.StatusCode != http.StatusInternalServerError {
			t.Errorf("status = %d, want 500", resp.StatusCode)
		}
		if b.Hits() != before+1 {
			t.Errorf("backend hits = %d, want %d", b.Hits(), before+1)
		}
		assertSingle(t, resp.Header, "Access-Control-Allow-Origin", originLocal)
		assertSingle(t, resp.Header, "Access-Control-Allow-Credentials", "true")
	})

	t.Run("404 from a denied origin has no CORS headers", func(t *testing.T) {
		resp, _ := do(t, "GET", g.URL+"/no/such/path", hdr("Origin", originDenied))
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("status = %d, want 404", resp.StatusCode)
		}
		assertAbsent(t, resp.Header, "Access-Control-Allow-Origin")
	})
}

func TestDebugLogsAndReasonHeader(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	g := startMain(t, b, true, func(cors obj) { cors["debug"] = true })

	isReason := func(s string) bool {
		return strings.Contains(s, "not allowed") || strings.Contains(s, "not in allow_")
	}

	cases := []struct {
		name, origin, method string
		headers              []string
	}{
		{"origin not allowed", originDenied, "GET", nil},
		{"method not allowed", originApp, "DELETE", nil},
		{"header not allowed", originApp, "GET", []string{"X-Evil"}},
	}
	for _, tc := range cases {
		t.Run("preflight "+tc.name, func(t *testing.T) {
			resp := preflight(t, g.URL+"/users/1", tc.origin, tc.method, tc.headers...)
			if resp.StatusCode != http.StatusNoContent {
				t.Errorf("status = %d, want 204", resp.StatusCode)
			}
			assertNoAllowHeaders(t, resp.Header)
			if reason := resp.Header.Get("X-Cors-Reason"); reason == "" {
				t.Errorf("no X-Cors-Reason header on a denied preflight with debug: true")
			} else if !isReason(reason) {
				t.Logf("X-Cors-Reason = %q (has neither \"not allowed\" nor \"not in allow_\")", reason)
			}
		})
	}

	t.Run("actual request from a denied origin", func(t *testing.T) {
		resp, _ := do(t, "GET", g.URL+"/users/1", hdr("Origin", originDenied))
		if resp.StatusCode != http.StatusOK {
			t.Errorf("status = %d, want 200", resp.StatusCode)
		}
		assertAbsent(t, resp.Header, "Access-Control-Allow-Origin")
		if resp.Header.Get("X-Cors-Reason") == "" {
			t.Errorf("no X-Cors-Reason header on a denied actual request with debug: true")
		}
	})

	t.Run("log line", func(t *testing.T) {
		line, ok := waitForLog(g, func(line string) bool {
			return strings.Contains(line, "[CORS]") && isReason(line)
		})
		if !ok {
			t.Errorf("no log line with [CORS] and a denial reason (\"not allowed\" / \"not in allow_\") after denied preflights with debug: true and -d")
		} else {
			t.Logf("debug line: %s", line)
		}
		if _, ok := waitForLog(g, func(line string) bool {
			return strings.Contains(line, "[CORS]") && strings.Contains(line, originDenied)
		}); !ok {
			// Not part of the contract; worth knowing.
			t.Logf("note: no [CORS] log line names the denied origin %s", originDenied)
		}
	})

	if b.Options() != 0 {
		t.Errorf("backend received %d OPTIONS requests", b.Options())
	}
}

func TestConcurrentRequests(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	g := startMain(t, b, false, nil)

	const total, parallel = 200, 32
	origins := []string{originApp, originLocal, originAdmin, originDenied}

	sem := make(chan struct{}, parallel)
	errs := make(chan error, total)
	var wg sync.WaitGroup
	for i := 0; i < total; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			origin := origins[i%len(origins)]
			req, err := http.NewRequest("GET", fmt.Sprintf("%s/users/%d", g.URL, i), nil)
			if err != nil {
				errs <- err
				return
			}
			req.Header.Set("Origin", origin)
			resp, err := httpClient.Do(req)
			if err != nil {
				errs <- fmt.Errorf("request %d: %v", i, err)
				return
			}
			resp.Body.Close()
			acao := resp.Header.Values("Access-Control-Allow-Origin")
			switch {
			case resp.StatusCode != http.StatusOK:
				errs <- fmt.Errorf("request %d (%s): status %d", i, origin, resp.StatusCode)
			case origin == originDenied && len(acao) != 0:
				errs <- fmt.Errorf("request %d (%s): ACAO %q, want none", i, origin, acao)
			case origin != originDenied && (len(acao) != 1 || acao[0] != origin):
				errs <- fmt.Errorf("request %d (%s): ACAO %q, want exactly [%q]", i, origin, acao, origin)
			case countFold(tokens(resp.Header, "Vary"), "Origin") != 1:
				errs <- fmt.Errorf("request %d (%s): Vary %q, want Origin once", i, origin, resp.Header.Values("Vary"))
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 10 {
			t.Error(err)
		}
	}
	if n > 10 {
		t.Errorf("... and %d more failures", n-10)
	}
	if got := b.Hits(); got != total {
		t.Errorf("backend hits = %d, want %d", got, total)
	}
}

// A negative max_age sends Access-Control-Max-Age: 0, so that browsers
// cache no preflight answer (as KrakenD CE does); "0s" sends none.
func TestMaxAgeZero(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	for _, tc := range []struct {
		maxAge string
		want   []string
	}{{"-1s", []string{"0"}}, {"0s", nil}} {
		t.Run(tc.maxAge, func(t *testing.T) {
			g := startMain(t, b, false, func(c obj) { c["max_age"] = tc.maxAge })
			resp := preflight(t, g.URL+"/users/1", originApp, "GET")
			if got := resp.Header.Values("Access-Control-Max-Age"); !slices.Equal(got, tc.want) || resp.Header.Get("Access-Control-Allow-Origin") != originApp {
				t.Errorf("max_age %q: Access-Control-Max-Age %q, want %q (allowed preflight: %v)", tc.maxAge, got, tc.want, resp.Header)
			}
		})
	}
}
