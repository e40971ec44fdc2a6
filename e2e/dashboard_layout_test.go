package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/corsgate/corsgate/internal/testwait"
	"github.com/corsgate/corsgate/plugin/plugintest"
)

// longOrigin is a 180-character origin: long values must wrap, never push
// a column off the screen.
var longOrigin = "https://" + strings.Repeat("a", 60) + "." + strings.Repeat("b", 60) + "." + strings.Repeat("c", 35) + ".example.com"

// layoutCheck is evaluated in the page: it lists every visible element of
// the header, the banners, the tabs and the panel shown that extends past
// the viewport or past the visible box of the nearest ancestor that clips
// or scrolls it, and every two pieces of visible text that overlap.
const layoutCheck = `(() => {
  const vw = document.documentElement.clientWidth;
  const out = [];
  const panel = document.querySelector('[role="tabpanel"]:not([hidden])');
  const roots = [document.querySelector("header.top"), document.querySelector(".banners"), document.querySelector("nav.tabs"), panel];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (typeof el.className === "string" && el.className ? "." + el.className.trim().split(/\s+/).join(".") : "") +
    (el.textContent ? " «" + el.textContent.trim().slice(0, 40) + "»" : "");
  const a11yOnly = (el) => {
    if (el.closest(".visually-hidden")) return true;
    const head = el.closest("thead");
    return !!head && getComputedStyle(head).position === "absolute";
  };
  const shown = (el) => {
    if (a11yOnly(el)) return false;
    const st = getComputedStyle(el);
    if (st.display === "none" || st.visibility === "hidden") return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  for (const root of roots) {
    for (const el of [root, ...root.querySelectorAll("*")]) {
      if (!shown(el)) continue;
      const r = el.getBoundingClientRect();
      if (r.right > vw + 1 || r.left < -1) out.push(name(el) + " spans " + Math.round(r.left) + ".." + Math.round(r.right) + ", past the viewport 0.." + vw);
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        const st = getComputedStyle(a);
        if (st.overflowX === "visible" && st.overflowY === "visible") continue;
        const ar = a.getBoundingClientRect();
        const left = ar.left + a.clientLeft, right = left + a.clientWidth;
        if (r.right > right + 1 || r.left < left - 1) out.push(name(el) + " spans " + Math.round(r.left) + ".." + Math.round(r.right) + ", past the visible box " + Math.round(left) + ".." + Math.round(right) + " of " + name(a));
        break;
      }
    }
  }
  const texts = [];
  for (const root of roots) {
    const w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = w.nextNode(); n; n = w.nextNode()) {
      if (!n.textContent.trim() || !n.parentElement || !shown(n.parentElement)) continue;
      const range = document.createRange();
      range.selectNodeContents(n);
      const rects = [...range.getClientRects()].filter((r) => r.width > 0.5 && r.height > 0.5);
      if (rects.length) texts.push({ n, rects });
    }
  }
  for (let i = 0; i < texts.length; i++) {
    for (let j = i + 1; j < texts.length; j++) {
      for (const a of texts[i].rects) for (const b of texts[j].rects) {
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 2 && h > 2) {
          out.push("text «" + texts[i].n.textContent.trim().slice(0, 40) + "» overlaps «" + texts[j].n.textContent.trim().slice(0, 40) + "»");
        }
      }
    }
  }
  return [...new Set(out)].slice(0, 20);
})()`

// dashboardGateway starts a gateway with an admin API, an embedded store
// and four endpoints, and fills every table of the dashboard: run-time
// keys and a rollback in the history, refused origins (one of 180
// characters), an allowed origin refused for its method, and report-only
// mode with samples.
func dashboardGateway(t *testing.T) (*runningGateway, string) {
	t.Helper()
	be := newBackend(t)
	port, adminPort := freePort(t), freePort(t)
	cfg := plugintest.Gateway{
		CORS:       plugintest.Block{"allow_origins": []any{originApp, longOrigin}, "allow_methods": []any{"GET", "PUT"}},
		BackendURL: be.URL,
		Endpoints: []plugintest.Endpoint{
			{Method: "GET", Path: "/data", NoOp: true},
			{Method: "GET", Path: "/users/{id}", NoOp: true, CORS: plugintest.Block{"allow_origins": []any{"https://admin.example.com"}, "max_age": "10m"}},
			{Method: "PUT", Path: "/users/{id}", NoOp: true},
			{Method: "GET", Path: "/reports", NoOp: true},
		},
	}.JSON(port)
	cfg["extra_config"].(map[string]any)["corsgate/admin"] = map[string]any{"store": map[string]any{"type": "embedded", "path": filepath.Join(t.TempDir(), "state")}}
	g := startAdminGateway(t, plugintest.WriteFile(t, cfg), port, adminPort)

	write := func(method, path, body string) {
		t.Helper()
		resp, _ := g.adminCall(t, "GET", "/v1/cors/config", "")
		resp, out := g.adminCall(t, method, path, body, "If-Match", resp.Header.Get("ETag"))
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, out)
		}
	}
	write("PUT", "/v1/cors/scopes/service", `{"expose_headers": ["X-Request-Id", "X-Total-Count"]}`)
	write("PUT", "/v1/cors/scopes/GET/reports", `{"allow_origins": ["https://reports.example.com"], "allow_credentials": true}`)
	write("POST", "/v1/cors/rollback", `{"revision": 1}`)

	send := func(method, path string, h http.Header) {
		req, _ := http.NewRequest(method, g.URL+path, nil)
		req.Header = h
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	for i := 0; i < 3; i++ {
		send("GET", "/data", http.Header{"Origin": {"https://refused.example"}})
	}
	send("GET", "/data", http.Header{"Origin": {strings.Replace(longOrigin, "example.com", "example.org", 1)}})
	send("GET", "/data", http.Header{"Origin": {"https://declined.example"}})
	send("OPTIONS", "/data", plugintest.Preflight(originApp, "DELETE"))
	if resp, body := g.adminCall(t, "PUT", "/v1/cors/candidate", `{"service": {"allow_origins": ["https://refused.example"]}}`); resp.StatusCode != 200 {
		t.Fatalf("starting report-only: %d %s", resp.StatusCode, body)
	}
	send("GET", "/data", http.Header{"Origin": {"https://refused.example"}})
	send("GET", "/data", http.Header{"Origin": {originApp}})
	return g, fmt.Sprintf("http://%s:%s@127.0.0.1:%d/dashboard/", adminUser, adminPassword, adminPort)
}

// browserPage is a Chromium tab with the helpers the dashboard tests use.
type browserPage struct {
	t   *testing.T
	ctx context.Context
}

func (p browserPage) run(actions ...chromedp.Action) {
	p.t.Helper()
	if err := chromedp.Run(p.ctx, actions...); err != nil {
		p.t.Fatal(err)
	}
}

func (p browserPage) eval(js string, out any) {
	p.t.Helper()
	if err := chromedp.Run(p.ctx, chromedp.Evaluate(js, out, func(e *runtime.EvaluateParams) *runtime.EvaluateParams {
		return e.WithAwaitPromise(true)
	})); err != nil {
		p.t.Fatalf("evaluating %s: %v", js, err)
	}
}

func (p browserPage) waitText(sel, want string) {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var text string
		p.eval(fmt.Sprintf(`(document.querySelector(%q) || {textContent: ""}).textContent`, sel), &text)
		if strings.Contains(text, want) {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s shows %q, not %q, after 10s", sel, text, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The dashboard on a phone and on a desktop: every tab, with data in
// every table, at 360×740, 390×844, 1280×800 and 1920×1080. Nothing extends past the screen
// or past the box that scrolls it, no two texts overlap, and every tab's
// screenshot is written (testout/screenshots/dashboard-TAB-WIDTH.png).
// The same run checks what each tab shows: every scope the gateway
// serves, the current revision and a rollback's target in the history,
// each refusal reason in one colour everywhere, whole-number ticks.
func TestDashboardEveryTabEveryWidth(t *testing.T) {
	t.Parallel()
	g, dash := dashboardGateway(t)
	tabs := []struct{ name, sel, want string }{
		{"cloudant", "#origins", longOrigin},
		{"policies", "#scopes", "GET /reports"},
		{"history", "#history", "to revision 1"},
		{"live", "#top-refused-requests", originApp},
		{"candidate", "#candidate-samples", "https://refused.example"},
	}
	for _, size := range [][2]int{{360, 740}, {390, 844}, {1280, 800}, {1920, 1080}} {
		p := browserPage{t, startChromium(t, size[0], size[1])}
		p.run(chromedp.EmulateViewport(int64(size[0]), int64(size[1])))
		for _, tab := range tabs {
			p.run(chromedp.Navigate(dash + "#" + tab.name))
			p.waitText(tab.sel, tab.want)
			if tab.name == "live" {
				p.waitText("#top-refused", "refused.example")
				p.waitText("#fleet", "this gateway")
			}
			if tab.name == "candidate" {
				p.waitText("#candidate-changes", "allowed")
			}
			time.Sleep(200 * time.Millisecond) // the chart's resize frame
			var problems []string
			p.eval(layoutCheck, &problems)
			for _, pr := range problems {
				t.Errorf("%s at %dpx: %s", tab.name, size[0], pr)
			}
			saveScreenshot(t, p.ctx, fmt.Sprintf("dashboard-%s-%d.png", tab.name, size[0]))
		}
		if size[0] != 390 {
			continue
		}
		// What the tabs show (once is enough).
		var scopes string
		p.run(chromedp.Navigate(dash + "#policies"))
		p.waitText("#scopes", "GET /reports")
		p.eval(`[...document.querySelectorAll("#scopes button.scope")].map(b => b.dataset.scope).join("|")`, &scopes)
		if scopes != "service|GET /data|GET /users/{id}|PUT /users/{id}|GET /reports" {
			t.Errorf("Policies lists %q, not the service and the four endpoints in the file's order", scopes)
		}
		var marked string
		p.eval(`[...document.querySelectorAll("#scopes button.scope")].filter(b => b.textContent.includes("own block")).map(b => b.dataset.scope).join("|")`, &marked)
		if marked != "GET /users/{id}" {
			t.Errorf("scopes marked as having their own block: %q, want GET /users/{id} (the file's only endpoint block)", marked)
		}
		var hist string
		p.run(chromedp.Navigate(dash + "#history"))
		p.waitText("#history", "to revision 1")
		p.eval(`[...document.querySelectorAll("#history tbody tr")].map(r => r.dataset.revision + ":" + (r.querySelector("button.rollback") ? "button" : r.querySelector(".badge.current") ? "current" : "?")).join("|")`, &hist)
		if hist != "3:current|2:button|1:button" {
			t.Errorf("history rows %q: want the current revision 3 marked and without a rollback button", hist)
		}
		var colours []string
		p.run(chromedp.Navigate(dash + "#live"))
		p.waitText("#top-refused", "refused.example")
		p.eval(`[
			[...document.querySelectorAll("#decisions-legend li")].filter(li => li.textContent.includes("origin_denied")).map(li => li.querySelector(".swatch").className).join(),
			[...document.querySelectorAll("#top-refused .reason-name")].filter(e => e.textContent.includes("origin_denied")).map(e => e.querySelector(".swatch").className)[0] || "",
			[...document.querySelectorAll("#top-refused-requests .reason-name")].map(e => e.textContent + "=" + e.querySelector(".swatch").className).join(),
		]`, &colours)
		if colours[0] != "swatch c0" || colours[1] != "swatch c0" || colours[2] != "method_denied=swatch c1" {
			t.Errorf("reason colours: legend %q, table %q, requests %q; want origin_denied c0 and method_denied c1 everywhere", colours[0], colours[1], colours[2])
		}
		var ticks []int
		p.eval(`import("/dashboard/js/live.js").then(m => [m.tickStep(0), m.tickStep(5), m.tickStep(13), m.tickStep(41), m.tickStep(999)])`, &ticks)
		if fmt.Sprint(ticks) != "[1 2 5 20 250]" {
			t.Errorf("tick steps %v, want [1 2 5 20 250] (whole numbers, 4 lines cover the highest bar)", ticks)
		}
		var step string
		p.eval(`document.getElementById("decisions-step").textContent`, &step)
		if step != "the last 10 minutes, per 5 s" {
			t.Errorf("the chart says %q", step)
		}
	}
	// Signing in is no warning: the browser's first request, without
	// credentials, is not logged.
	if logs := g.logs.String(); strings.Contains(logs, "401 Unauthorized") {
		t.Errorf("the gateway logged refusals while a browser signed in:\n%s", logs)
	}
}

// "Allow" on a refused origin of the Live tab: a dry run, a confirmation
// that shows the change, then a write, and the next preflight from that
// origin passes. The allowed origin refused for its method has no Allow.
func TestDashboardAllowRefusedOrigin(t *testing.T) {
	t.Parallel()
	g, dash := dashboardGateway(t)
	const refused = "https://refused.example"
	if got, _ := g.preflight(t, "/data", refused, "GET"); got != "" {
		t.Fatalf("before: %s is allowed (%q)", refused, got)
	}
	p := browserPage{t, startChromium(t, 390, 844)}
	p.run(chromedp.Navigate(dash + "#live"))
	p.waitText("#top-refused", refused)
	var n int
	p.eval(`document.querySelectorAll("#top-refused-requests button.allow-origin").length`, &n)
	if n != 0 {
		t.Errorf("%d Allow buttons on allowed origins refused for a method", n)
	}
	var clicked bool
	p.eval(fmt.Sprintf(`(() => {
		window.confirm = (m) => { window.lastConfirm = m; return true; };
		const b = document.querySelector('#top-refused button.allow-origin[data-origin=%q][data-scope="service"]');
		if (!b) return false;
		b.click();
		return true;
	})()`, refused), &clicked)
	if !clicked {
		t.Fatalf("no Allow button for %s on service", refused)
	}
	p.waitText("#refused-message", "Allowed "+refused+" on service: revision 4")
	var confirm string
	p.eval(`window.lastConfirm || ""`, &confirm)
	for _, want := range []string{"Allow " + refused + " on service?", `["` + originApp + `","` + longOrigin + `"]`, `→ ["` + originApp + `","` + longOrigin + `","` + refused + `"]`, "revision 3 becomes 4"} {
		if !strings.Contains(confirm, want) {
			t.Errorf("the confirmation lacks %q:\n%s", want, confirm)
		}
	}
	if got, reason := g.preflight(t, "/data", refused, "GET"); got != refused {
		t.Errorf("after Allow, the preflight from %s: %q (%s)", refused, got, reason)
	}
	if _, body := g.adminCall(t, "GET", "/v1/cors/history?limit=1", ""); !strings.Contains(body, `"revision": 4`) || !strings.Contains(body, refused) {
		t.Errorf("history: %s", body)
	}
	// An origin kept cut (longer than the top keeps) cannot be allowed,
	// and is shown as it came, with a mark that it is cut.
	var cut string
	p.eval(`[...document.querySelectorAll("#top-refused tbody tr")].filter(r => r.textContent.includes("aaaa")).map(r => r.textContent).join("|")`, &cut)
	if !strings.Contains(cut, "cut: too long to allow") || strings.Contains(cut, "\\u{") || strings.Contains(cut, "⚠") {
		t.Errorf("the cut origin's row: %q", cut)
	}
	// Declining the confirmation changes nothing.
	p.run(chromedp.Navigate(dash + "#live"))
	p.waitText("#top-refused", "declined.example")
	var declined bool
	p.eval(`(() => {
		window.confirm = () => false;
		const b = document.querySelector('#top-refused button.allow-origin[data-origin="https://declined.example"]');
		if (!b) return false;
		b.click();
		return true;
	})()`, &declined)
	if !declined {
		t.Fatal("no Allow button for https://declined.example")
	}
	p.waitText("#refused-message", "Nothing changed")
	if resp, _ := g.adminCall(t, "GET", "/v1/cors/config", ""); resp.Header.Get("ETag") != `"4"` {
		t.Errorf("declining changed the revision: %s", resp.Header.Get("ETag"))
	}
}

// While the store does not answer, the dashboard says so once: one
// banner, in the page's one time format, no error banner repeating it,
// and the history and the fleet say why they are empty. When the store
// is back, the banner goes.
func TestDashboardStoreOutage(t *testing.T) {
	t.Parallel()
	f := startFleet(t, 1)
	g := f.replicas[0]
	if code, _, body := g.cloudantPut(t, "", originApp, originAdmin); code != 200 {
		t.Fatalf("first change: %d %s", code, body)
	}
	dash := fmt.Sprintf("http://%s:%s@127.0.0.1:%d/dashboard/", adminUser, adminPassword, f.admins[0])
	p := browserPage{t, startChromium(t, 390, 844)}
	p.run(chromedp.Navigate(dash + "#live"))
	p.waitText("#fleet", "r1")

	f.etcd.Stop()
	testwait.Until(t, "the replica to see etcd down", func() bool { return g.status(t).Store.UnreachableSince != nil })
	p.run(chromedp.Navigate(dash + "#history"))
	p.waitText("#history-message", "cannot be read while the store does not answer")
	p.run(chromedp.Navigate(dash + "#live"))
	p.waitText("#fleet-empty", "cannot be read while the store does not answer")
	time.Sleep(300 * time.Millisecond) // every read of the page has answered
	var banners []string
	p.eval(`[...document.querySelectorAll(".banners > *")].filter(e => !e.hidden).map(e => e.id + ": " + e.textContent.trim())`, &banners)
	// (The file-error banner may tell another fact: keys the layer masks.)
	var store []string
	for _, b := range banners {
		if strings.Contains(b, "store") || strings.Contains(b, "etcd") || strings.Contains(b, "503") {
			store = append(store, b)
		}
	}
	if len(store) != 1 || !strings.HasPrefix(store[0], "store-detail: The store (etcd") || !strings.Contains(store[0], "does not answer since") || strings.Count(store[0], "does not answer") != 1 {
		t.Errorf("banners about the store while etcd is down: %q; want the store banner alone, saying it once", store)
	}
	for _, b := range banners {
		if rfc3339.MatchString(b) {
			t.Errorf("a banner shows a raw RFC 3339 time: %q", b)
		}
	}
	var badge string
	p.eval(`document.getElementById("store-badge").textContent`, &badge)
	if badge != "unreachable" {
		t.Errorf("the store badge says %q", badge)
	}
	saveScreenshot(t, p.ctx, "dashboard-store-down-390.png")

	if err := f.etcd.StartAgain(); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "the replica to see etcd back", func() bool { return g.status(t).Store.UnreachableSince == nil })
	p.run(chromedp.Navigate(dash + "#live"))
	p.waitText("#fleet", "r1")
	var hidden bool
	deadline := time.Now().Add(10 * time.Second)
	for !hidden && time.Now().Before(deadline) {
		p.eval(`document.getElementById("store-detail").hidden`, &hidden)
		time.Sleep(100 * time.Millisecond)
	}
	if !hidden {
		t.Error("the store banner stays after etcd is back")
	}
}

// rfc3339 matches a time as the API writes it.
var rfc3339 = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}`)

// When the gateway goes away, the error banner says so once, however
// many of the page's reads failed on it.
func TestDashboardGatewayGone(t *testing.T) {
	t.Parallel()
	port, adminPort := freePort(t), freePort(t)
	cfg := plugintest.Gateway{
		CORS:      plugintest.Block{"allow_origins": []any{originApp}},
		Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/data", nil)},
	}.JSON(port)
	cfg["extra_config"].(map[string]any)["corsgate/admin"] = map[string]any{"store": map[string]any{"type": "embedded", "path": filepath.Join(t.TempDir(), "state")}}
	g := startAdminGateway(t, plugintest.WriteFile(t, cfg), port, adminPort)
	p := browserPage{t, startChromium(t, 390, 844)}
	p.run(chromedp.Navigate(fmt.Sprintf("http://%s:%s@127.0.0.1:%d/dashboard/", adminUser, adminPassword, adminPort)))
	p.waitText("#origins", originApp)
	g.stop()
	p.run(chromedp.Click("#refresh", chromedp.ByQuery))
	p.waitText("#error-banner", "does not answer")
	time.Sleep(300 * time.Millisecond) // every read has failed
	var lines []string
	p.eval(`[...document.querySelectorAll("#error-list li")].map(li => li.textContent)`, &lines)
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "The admin API does not answer: network error") {
		t.Errorf("the error banner, with the gateway gone: %q; want one line", lines)
	}
}
