package e2e

// Browser tests of the scoped CORS features: headless Chromium runs fetch()
// from a page on http://127.0.0.1:P1 against the gateway on
// http://localhost:P2, so the browser's own CORS enforcement decides
// whether endpoint-level overrides and exempted endpoints behave.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/corsgate/corsgate/plugin/plugintest"
)

// scopedBrowser is a headless Chromium with one tab open on a test page.
type scopedBrowser struct {
	ctx  context.Context
	reqs *browserRequests
}

// newScopedBrowser starts Chromium (as TestBrowserCORS does) and opens
// pageURL. Everything is stopped when the test ends.
func newScopedBrowser(t *testing.T, pageURL string) *scopedBrowser {
	t.Helper()
	ctx := startChromium(t, 1024, 768)
	b := &scopedBrowser{ctx: ctx, reqs: &browserRequests{byID: map[network.RequestID]string{}}}
	chromedp.ListenTarget(ctx, b.reqs.handle)
	if err := chromedp.Run(ctx, network.Enable(), chromedp.Navigate(pageURL+"/")); err != nil {
		t.Fatalf("opening the page: %v", err)
	}
	return b
}

// fetch runs window.corsFetch(name, url, init) in the page.
func (b *scopedBrowser) fetch(t *testing.T, name, url, initJS string) fetchResult {
	t.Helper()
	js := fmt.Sprintf("window.corsFetch(%q, %q, %s)", name, url, initJS)
	var res fetchResult
	err := chromedp.Run(b.ctx, chromedp.Evaluate(js, &res, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
		return p.WithAwaitPromise(true)
	}))
	if err != nil {
		t.Fatalf("evaluating fetch in the page: %v", err)
	}
	t.Logf("%s: ok=%v status=%d error=%q body=%q", name, res.OK, res.Status, res.Error, res.Body)
	return res
}

// expectOK fails unless the fetch succeeded with status 200.
func (b *scopedBrowser) expectOK(t *testing.T, res fetchResult) {
	t.Helper()
	if !res.OK || res.Status != http.StatusOK {
		t.Errorf("fetch %s: ok=%v status=%d error=%q; want a readable 200 (CORS errors: %q)",
			res.Name, res.OK, res.Status, res.Error, b.reqs.errors())
	}
}

// expectCORSFailure fails unless the fetch was rejected with a TypeError
// and Chromium reported a new CORS error containing all the parts (so that
// the TypeError comes from CORS, not from a network failure). before is
// the count of such errors taken before the fetch.
func (b *scopedBrowser) expectCORSFailure(t *testing.T, res fetchResult, before int, parts ...string) {
	t.Helper()
	if res.OK || !strings.HasPrefix(res.Error, "TypeError") {
		t.Errorf("fetch %s: ok=%v status=%d error=%q; want a TypeError", res.Name, res.OK, res.Status, res.Error)
	}
	if !b.reqs.waitCORSErrors(before, parts...) {
		t.Errorf("fetch %s: Chromium reported no CORS error containing %q; CORS errors: %q", res.Name, parts, b.reqs.errors())
		return
	}
	for _, e := range b.reqs.errors() {
		if count([]string{e}, parts...) == 1 {
			t.Logf("Chromium: %s", e)
		}
	}
}

// newEchoBackend answers every request with JSON naming the method, the
// path and the X-Api-Key it got, and no CORS headers.
func newEchoBackend(t *testing.T) *backend {
	t.Helper()
	return plugintest.ServeBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(obj{"method": r.Method, "path": r.URL.Path, "api_key": r.Header.Get("X-Api-Key")})
	}))
}

func TestBrowserScopedEndpointOverride(t *testing.T) {
	t.Parallel()
	be := newEchoBackend(t)
	page := newPageServer(t)
	g := startGateway(t, false, plugintest.Gateway{
		CORS: obj{
			"allow_origins": []any{page.URL},
			"allow_methods": []any{"GET", "POST"},
			"allow_headers": []any{"X-Api-Key", "Content-Type"},
		},
		BackendURL: be.URL,
		Endpoints: []plugintest.Endpoint{
			// Inherits the service policy: the page is allowed.
			{Method: "GET", Path: "/open", NoOp: true},
			// Its own origins: the page is refused.
			{Method: "GET", Path: "/locked", NoOp: true, CORS: obj{
				"allow_origins": []any{originAdmin},
			}},
			// Its own methods: PUT is allowed here only.
			{Method: "PUT", Path: "/users/{id}", NoOp: true, CORS: obj{
				"allow_methods": []any{"GET", "PUT"},
			}},
			{Method: "GET", Path: "/users/{id}", NoOp: true},
		},
	}.JSON)
	gw := "http://localhost:" + strconv.Itoa(g.Port)
	br := newScopedBrowser(t, page.URL)
	const withKey = `{headers: {"X-Api-Key": "k-42"}}`

	t.Run("endpoint inheriting the service policy", func(t *testing.T) {
		hits, opts := be.Hits(), be.Options()
		res := br.fetch(t, "open", gw+"/open", withKey)
		br.expectOK(t, res)
		if !strings.Contains(res.Body, "k-42") {
			t.Errorf("body = %q, want the backend to echo the X-Api-Key", res.Body)
		}
		if count(br.reqs.requests(), "OPTIONS "+gw+"/open") == 0 {
			t.Errorf("Chromium sent no preflight for /open; requests: %q", br.reqs.requests())
		}
		if be.Hits() != hits+1 || be.Options() != opts {
			t.Errorf("backend got %d requests (%d OPTIONS), want exactly the GET", be.Hits()-hits, be.Options()-opts)
		}
	})

	t.Run("endpoint overriding allow_origins", func(t *testing.T) {
		hits := be.Hits()
		before := count(br.reqs.errors(), gw+"/locked: Preflight")
		res := br.fetch(t, "locked", gw+"/locked", withKey)
		br.expectCORSFailure(t, res, before, gw+"/locked: Preflight")
		if be.Hits() != hits {
			t.Errorf("backend got %d requests; a refused preflight must stop the actual request", be.Hits()-hits)
		}
	})

	t.Run("endpoint overriding allow_methods", func(t *testing.T) {
		hits := be.Hits()
		res := br.fetch(t, "put", gw+"/users/7", `{method: "PUT", headers: {"Content-Type": "application/json"}, body: "{}"}`)
		br.expectOK(t, res)
		if !strings.Contains(res.Body, `"PUT"`) {
			t.Errorf("body = %q, want the backend's answer to the PUT", res.Body)
		}
		if be.Hits() != hits+1 {
			t.Errorf("backend got %d requests, want 1 (the PUT)", be.Hits()-hits)
		}

		// No endpoint serves DELETE: the service policy applies, and it
		// lacks DELETE.
		hits = be.Hits()
		before := count(br.reqs.errors(), gw+"/users/7: Preflight")
		res = br.fetch(t, "delete", gw+"/users/7", `{method: "DELETE"}`)
		br.expectCORSFailure(t, res, before, gw+"/users/7: Preflight")
		if be.Hits() != hits {
			t.Errorf("backend got %d requests for a refused DELETE", be.Hits()-hits)
		}
	})
}

func TestBrowserScopedExemptEndpoint(t *testing.T) {
	t.Parallel()
	be := newEchoBackend(t) // sends no CORS headers at all
	page := newPageServer(t)
	g := startGateway(t, false, plugintest.Gateway{
		CORS: obj{
			"allow_origins": []any{page.URL},
			"allow_methods": []any{"GET", "POST"},
			"allow_headers": []any{"X-Api-Key"},
		},
		BackendURL: be.URL,
		Endpoints: []plugintest.Endpoint{
			{Method: "GET", Path: "/exempt", URLPattern: "/plain", NoOp: true, CORS: obj{"disable": true}},
			{Method: "GET", Path: "/governed", URLPattern: "/plain", NoOp: true},
		},
	}.JSON)
	gw := "http://localhost:" + strconv.Itoa(g.Port)
	br := newScopedBrowser(t, page.URL)

	t.Run("other endpoint of the same config works", func(t *testing.T) {
		br.expectOK(t, br.fetch(t, "governed", gw+"/governed", `{}`))
		br.expectOK(t, br.fetch(t, "governed-preflighted", gw+"/governed", `{headers: {"X-Api-Key": "k"}}`))
	})

	t.Run("simple request to the exempt endpoint", func(t *testing.T) {
		hits := be.Hits()
		before := count(br.reqs.errors(), "GET "+gw+"/exempt: ")
		res := br.fetch(t, "exempt", gw+"/exempt", `{}`)
		br.expectCORSFailure(t, res, before, "GET "+gw+"/exempt: ")
		// The request did go through: only the browser refused to let
		// the page read an answer without Access-Control-Allow-Origin.
		if be.Hits() != hits+1 {
			t.Errorf("backend got %d requests, want 1 (the simple GET)", be.Hits()-hits)
		}
	})

	t.Run("preflighted request to the exempt endpoint", func(t *testing.T) {
		hits := be.Hits()
		before := count(br.reqs.errors(), gw+"/exempt: Preflight")
		res := br.fetch(t, "exempt-preflighted", gw+"/exempt", `{headers: {"X-Api-Key": "k"}}`)
		br.expectCORSFailure(t, res, before, gw+"/exempt: Preflight")
		if be.Hits() != hits {
			t.Errorf("backend got %d requests; the gateway must not answer the exempt endpoint's preflight", be.Hits()-hits)
		}
	})
}
