package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/corsgate/corsgate/plugin/plugintest"
)

// findChromium returns the browser to drive, or fails the test: browser
// tests are never skipped.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("CHROMIUM_PATH=%s: %v", p, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium found (looked at $CHROMIUM_PATH, then chromium, chromium-browser, google-chrome in PATH); " +
		"the browser tests need it: `make test` installs it (apt-get install -y chromium)")
	return ""
}

// pageHTML is the test page; the fetch results are written into #log so the
// screenshot shows them.
const pageHTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>corsgate e2e</title>
<style>body{font:16px sans-serif;margin:2em}pre{background:#eee;padding:1em;white-space:pre-wrap;word-break:break-all}</style>
</head><body>
<h1>corsgate browser test</h1>
<p>Page origin: <code id="origin"></code></p>
<pre id="log"></pre>
<script>
document.getElementById("origin").textContent = location.origin;
window.corsFetch = async function(name, url, init) {
  const out = {name: name, ok: false, status: 0, error: "", exposed: null, hidden: null, body: ""};
  try {
    const r = await fetch(url, init);
    out.ok = true;
    out.status = r.status;
    out.exposed = r.headers.get("X-Exposed");
    out.hidden = r.headers.get("X-Hidden");
    out.body = await r.text();
  } catch (e) {
    out.error = e.name + ": " + e.message;
  }
  document.getElementById("log").textContent += JSON.stringify(out) + "\n";
  return out;
};
</script>
</body></html>`

// fetchResult mirrors the object corsFetch resolves with.
type fetchResult struct {
	Name    string  `json:"name"`
	OK      bool    `json:"ok"`
	Status  int     `json:"status"`
	Error   string  `json:"error"`
	Exposed *string `json:"exposed"`
	Hidden  *string `json:"hidden"`
	Body    string  `json:"body"`
}

// newPageServer serves pageHTML on 127.0.0.1.
func newPageServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(pageHTML))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// browserRequests records the requests Chromium reports through the
// DevTools network domain, and the CORS errors it blocked them for.
type browserRequests struct {
	mu         sync.Mutex
	byID       map[network.RequestID]string
	seen       []string // "METHOD URL"
	corsErrors []string // "METHOD URL: CorsError"
}

func (b *browserRequests) handle(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		req := e.Request.Method + " " + e.Request.URL
		b.byID[e.RequestID] = req
		b.seen = append(b.seen, req)
	case *network.EventLoadingFailed:
		if e.CorsErrorStatus != nil {
			msg := fmt.Sprintf("%s: %s", b.byID[e.RequestID], e.CorsErrorStatus.CorsError)
			if e.CorsErrorStatus.FailedParameter != "" {
				msg += " (" + e.CorsErrorStatus.FailedParameter + ")"
			}
			b.corsErrors = append(b.corsErrors, msg)
		}
	}
}

func (b *browserRequests) requests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.seen...)
}

func (b *browserRequests) errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.corsErrors...)
}

// count returns how many entries of list contain all the parts.
func count(list []string, parts ...string) int {
	n := 0
next:
	for _, s := range list {
		for _, p := range parts {
			if !strings.Contains(s, p) {
				continue next
			}
		}
		n++
	}
	return n
}

// waitCORSErrors waits up to 3s for more than n CORS errors containing all
// the parts, and reports whether they came.
func (b *browserRequests) waitCORSErrors(n int, parts ...string) bool {
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if count(b.errors(), parts...) > n {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func TestBrowserCORS(t *testing.T) {
	t.Parallel()

	be := newBackend(t)
	page := newPageServer(t)      // allowed origin
	otherPage := newPageServer(t) // same host, other port: a disallowed origin
	allowedOrigin := page.URL     // http://127.0.0.1:PORT1

	g := startGateway(t, false, func(port int) obj {
		cors := obj{
			"allow_origins":     []any{allowedOrigin},
			"allow_methods":     []any{"GET", "POST"},
			"allow_headers":     []any{"X-Api-Key", "Content-Type"},
			"expose_headers":    []any{"X-Exposed"},
			"max_age":           "1m",
			"allow_credentials": true,
		}
		return plugintest.Gateway{
			CORS:       cors,
			BackendURL: be.URL,
			Endpoints: []plugintest.Endpoint{
				{Method: "GET", Path: "/data", NoOp: true},
				{Method: "GET", Path: "/cors-backend", NoOp: true},
			},
		}.JSON(port)
	})
	// The page is on 127.0.0.1, the gateway is addressed as localhost: a
	// different host, so a different origin.
	gw := "http://localhost:" + strconv.Itoa(g.Port)

	ctx := startChromium(t, 1024, 768)

	reqs := &browserRequests{byID: map[network.RequestID]string{}}
	chromedp.ListenTarget(ctx, reqs.handle)

	if err := chromedp.Run(ctx, network.Enable(), chromedp.Navigate(page.URL+"/")); err != nil {
		t.Fatalf("opening the page: %v", err)
	}

	run := func(t *testing.T, name, url, initJS string) fetchResult {
		t.Helper()
		js := fmt.Sprintf("window.corsFetch(%q, %q, %s)", name, url, initJS)
		var res fetchResult
		err := chromedp.Run(ctx, chromedp.Evaluate(js, &res, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
			return p.WithAwaitPromise(true)
		}))
		if err != nil {
			t.Fatalf("evaluating fetch in the page: %v", err)
		}
		t.Logf("%s: ok=%v status=%d error=%q X-Exposed=%v X-Hidden=%v body=%q",
			name, res.OK, res.Status, res.Error, deref(res.Exposed), deref(res.Hidden), res.Body)
		if !res.OK {
			t.Logf("CORS errors reported by Chromium so far: %q", reqs.errors())
		}
		return res
	}
	const credsAndKey = `{credentials: "include", headers: {"X-Api-Key": "secret-123"}}`

	t.Run("allowed origin, credentials and a custom header", func(t *testing.T) {
		hits, opts := be.Hits(), be.Options()
		res := run(t, "preflighted", gw+"/data", credsAndKey)
		if !res.OK || res.Status != http.StatusOK {
			t.Fatalf("fetch failed or not 200: %+v", res)
		}
		if !strings.Contains(res.Body, "secret-123") {
			t.Errorf("body = %s, want the backend to echo the X-Api-Key it got", res.Body)
		}
		if got := be.LastHeaders().Get("X-Api-Key"); got != "secret-123" {
			t.Errorf("backend saw X-Api-Key %q, want secret-123", got)
		}
		if be.Hits() != hits+1 {
			t.Errorf("backend got %d requests, want exactly 1 (the GET)", be.Hits()-hits)
		}
		// X-Api-Key is not CORS-safelisted, so the browser had to get a
		// successful preflight first; the backend saw no OPTIONS, so the
		// gateway answered it.
		if be.Options() != opts {
			t.Errorf("backend received %d OPTIONS requests; the preflight must stop at the gateway", be.Options()-opts)
		}
		if count(reqs.requests(), "OPTIONS "+gw+"/data") == 0 {
			t.Errorf("Chromium reported no OPTIONS preflight to %s/data; requests: %q", gw, reqs.requests())
		}
	})

	t.Run("exposed header readable, others hidden", func(t *testing.T) {
		res := run(t, "headers", gw+"/data", credsAndKey)
		if !res.OK {
			t.Fatalf("fetch failed: %+v", res)
		}
		if res.Exposed == nil || *res.Exposed != "yes" {
			t.Errorf("headers.get(\"X-Exposed\") = %v, want \"yes\"", deref(res.Exposed))
		}
		if res.Hidden != nil {
			t.Errorf("headers.get(\"X-Hidden\") = %q, want null (not in expose_headers)", *res.Hidden)
		}
	})

	t.Run("gateway 404 is readable", func(t *testing.T) {
		res := run(t, "not-found", gw+"/no/such/path", `{credentials: "include"}`)
		if !res.OK {
			t.Fatalf("fetch of an unknown path rejected (%s); the 404 must carry CORS headers", res.Error)
		}
		if res.Status != http.StatusNotFound {
			t.Errorf("status = %d, want 404", res.Status)
		}
	})

	t.Run("backend with its own CORS headers", func(t *testing.T) {
		// The backend answers Access-Control-Allow-Origin: * itself; two
		// values or a "*" with credentials would make the browser reject.
		res := run(t, "double-cors", gw+"/cors-backend", credsAndKey)
		if !res.OK || res.Status != http.StatusOK {
			t.Errorf("fetch failed or not 200 (ok=%v status=%d error=%q); CORS errors: %q", res.OK, res.Status, res.Error, reqs.errors())
		}
	})

	// Screenshot of the allowed page with the results so far.
	var shot []byte
	if err := chromedp.Run(ctx, chromedp.CaptureScreenshot(&shot)); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	writeScreenshot(t, "browser-page.png", shot)

	t.Run("disallowed origin", func(t *testing.T) {
		if err := chromedp.Run(ctx, chromedp.Navigate(otherPage.URL+"/")); err != nil {
			t.Fatalf("opening the second page: %v", err)
		}
		hits := be.Hits()
		// Chromium reports a failed preflight on the request it guarded,
		// with a CorsError named Preflight...
		errs := count(reqs.errors(), gw+"/data: Preflight")
		res := run(t, "denied-preflighted", gw+"/data", credsAndKey)
		if res.OK || !strings.HasPrefix(res.Error, "TypeError") {
			t.Errorf("fetch from %s: ok=%v status=%d error=%q; want a TypeError", otherPage.URL, res.OK, res.Status, res.Error)
		}
		// The TypeError must come from CORS, not from a network failure.
		if !reqs.waitCORSErrors(errs, gw+"/data: Preflight") {
			t.Errorf("Chromium reported no CORS error for the preflight; CORS errors: %q", reqs.errors())
		}
		if be.Hits() != hits {
			t.Errorf("backend got %d requests; a denied preflight must stop the actual request", be.Hits()-hits)
		}

		// A simple request (no preflight) reaches the backend, but the
		// browser does not let the page read the answer.
		errs = count(reqs.errors(), "GET "+gw+"/data: ")
		res = run(t, "denied-simple", gw+"/data", `{}`)
		if res.OK || !strings.HasPrefix(res.Error, "TypeError") {
			t.Errorf("simple fetch from %s: ok=%v status=%d error=%q; want a TypeError", otherPage.URL, res.OK, res.Status, res.Error)
		}
		if !reqs.waitCORSErrors(errs, "GET "+gw+"/data: ") {
			t.Errorf("Chromium reported no CORS error for the simple request; CORS errors: %q", reqs.errors())
		}
		if be.Hits() != hits+1 {
			t.Errorf("backend got %d requests, want 1 (the simple GET)", be.Hits()-hits)
		}
	})
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}
