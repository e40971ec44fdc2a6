package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/corsgate/corsgate/plugin/plugintest"
)

// The dashboard in headless Chromium: sign in, add the origin of a page
// in Cloudant's tab and save, and a fetch() from that page to the gateway
// works; remove it and save, and the same fetch() fails. A page on another
// origin cannot change anything through the operator's browser. The
// screenshots (1280×800 and 390 px wide) land in ScreenshotDir.
func TestDashboardInBrowser(t *testing.T) {
	t.Parallel()
	be := newBackend(t)
	page := newPageServer(t) // the SPA's origin, http://127.0.0.1:PORT
	port, adminPort := freePort(t), freePort(t)
	cfg := plugintest.Gateway{
		CORS:       plugintest.Block{"allow_origins": []any{originApp}, "allow_methods": []any{"GET", "PUT"}},
		BackendURL: be.URL,
		Endpoints:  []plugintest.Endpoint{{Method: "GET", Path: "/data", NoOp: true}},
	}.JSON(port)
	cfg["extra_config"].(map[string]any)["corsgate/admin"] = map[string]any{"store": map[string]any{"type": "embedded", "path": filepath.Join(t.TempDir(), "state")}}
	g := startAdminGateway(t, plugintest.WriteFile(t, cfg), port, adminPort)
	gw := "http://localhost:" + strconv.Itoa(port) // another host than the page's
	dash := fmt.Sprintf("http://%s:%s@127.0.0.1:%d/dashboard/", adminUser, adminPassword, adminPort)

	ctx := startChromium(t, 1280, 800)
	bp := browserPage{t, ctx}
	eval, waitText := bp.eval, bp.waitText
	shot := func(name string) {
		t.Helper()
		var png []byte
		if err := chromedp.Run(ctx, chromedp.CaptureScreenshot(&png)); err != nil {
			t.Fatal(err)
		}
		writeScreenshot(t, name, png)
		// Readable: nothing wider than the window.
		var overflow bool
		eval(`document.documentElement.scrollWidth > window.innerWidth`, &overflow)
		if overflow {
			t.Errorf("%s: the page is wider than the window", name)
		}
	}
	fetchFromPage := func() fetchResult {
		t.Helper()
		if err := chromedp.Run(ctx, chromedp.Navigate(page.URL+"/")); err != nil {
			t.Fatal(err)
		}
		var res fetchResult
		eval(fmt.Sprintf(`window.corsFetch("dashboard", %q, {})`, gw+"/data"), &res)
		return res
	}
	save := func() {
		t.Helper()
		if err := chromedp.Run(ctx, chromedp.Click("#save-cloudant", chromedp.ByQuery)); err != nil {
			t.Fatal(err)
		}
		waitText("#cloudant-message", "Saved")
	}

	// Sign in (HTTP Basic, as the browser's prompt would) and see the
	// origins of Cloudant's tab.
	if err := chromedp.Run(ctx, chromedp.Navigate(dash)); err != nil {
		t.Fatal(err)
	}
	waitText("#origins", originApp)
	if res := fetchFromPage(); res.OK {
		t.Fatalf("before the change, the page's fetch worked: %+v", res)
	}

	// Add the page's origin and save.
	if err := chromedp.Run(ctx,
		chromedp.Navigate(dash),
		chromedp.WaitVisible("#new-origin", chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
	waitText("#origins", originApp)
	if err := chromedp.Run(ctx,
		chromedp.SendKeys("#new-origin", page.URL, chromedp.ByQuery),
		chromedp.Click("#add-origin", chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
	waitText("#origins", page.URL)
	save()
	shot("dashboard-1280x800.png")
	if res := fetchFromPage(); !res.OK || res.Status != 200 {
		t.Errorf("after adding %s, the page's fetch: %+v", page.URL, res)
	}

	// The live view: the origin refused a moment ago is among the top
	// refused origins.
	send := func(origin string) {
		req, _ := http.NewRequest("GET", gw+"/data", nil)
		req.Header.Set("Origin", origin)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	for i := 0; i < 3; i++ {
		send("https://refused.example")
	}
	if err := chromedp.Run(ctx, chromedp.Navigate(dash), chromedp.WaitVisible("#tab-live", chromedp.ByQuery), chromedp.Click("#tab-live", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitText("#top-refused", "https://refused.example")
	shot("dashboard-live-1280x800.png")

	// An origin is checked when it is added, by the gateway's validator:
	// the error shows next to the field, with its fix one click away,
	// and the fix passes the same check.
	if err := chromedp.Run(ctx, chromedp.Navigate(dash)); err != nil {
		t.Fatal(err)
	}
	waitText("#origins", page.URL)
	if err := chromedp.Run(ctx,
		chromedp.SendKeys("#new-origin", "https://bad.example/path", chromedp.ByQuery),
		chromedp.Click("#add-origin", chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
	waitText("#new-origin-error", "it has a path")
	waitText("#new-origin-suggestion", "Did you mean https://bad.example?")
	var listed bool
	eval(`[...document.querySelectorAll("#origins .origin")].some(e => e.textContent.includes("bad.example"))`, &listed)
	if listed {
		t.Error("an origin the validator refuses went into the list")
	}
	if err := chromedp.Run(ctx, chromedp.Click("#new-origin-use", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitText("#origins", "https://bad.example")
	var errShown bool
	eval(`!document.getElementById("new-origin-error").hidden`, &errShown)
	if errShown {
		t.Error("the suggested fix was refused by the same check")
	}

	// Cloudant's words on Cloudant's tab: all domains with credentials.
	if err := chromedp.Run(ctx, chromedp.Navigate(dash)); err != nil {
		t.Fatal(err)
	}
	waitText("#origins", page.URL)
	eval(`(() => { const c = document.getElementById("allow-credentials"); if (!c.checked) c.click(); document.getElementById("origin-mode-all").click(); return true; })()`, new(bool))
	if err := chromedp.Run(ctx, chromedp.Click("#save-cloudant", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitText("#origins-error", "turn off “Allow credentials”")
	var shown string
	eval(`document.getElementById("origins-error").textContent + "|" + document.getElementById("cloudant-message").textContent + "|" + document.getElementById("cloudant-errors").textContent`, &shown)
	if strings.Contains(shown, "allow_any_origin_with_credentials_unsafe") || strings.Contains(shown, "origins[") {
		t.Errorf("Cloudant's tab speaks config keys: %q", shown)
	}

	// Remove it again and save: the same fetch fails.
	if err := chromedp.Run(ctx, chromedp.Navigate(dash)); err != nil {
		t.Fatal(err)
	}
	waitText("#origins", page.URL)
	var removed bool
	eval(fmt.Sprintf(`(() => {
		for (const li of document.querySelectorAll("#origins li")) {
			if (li.querySelector(".origin").textContent === %q) { li.querySelector("button.remove-origin").click(); return true; }
		}
		return false;
	})()`, page.URL), &removed)
	if !removed {
		t.Fatal("no remove button for the page's origin")
	}
	save()
	if res := fetchFromPage(); res.OK {
		t.Errorf("after removing %s, the page's fetch still worked: %+v", page.URL, res)
	}

	// At a phone's width.
	if err := chromedp.Run(ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(dash)); err != nil {
		t.Fatal(err)
	}
	waitText("#origins", originApp)
	shot("dashboard-390px.png")

	// Policies: edit the service scope's run-time keys while someone else
	// changes the configuration; saving shows what changed in between,
	// and saving again after reading it works.
	if err := chromedp.Run(ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(dash), chromedp.WaitVisible("#tab-policies", chromedp.ByQuery),
		chromedp.Click("#tab-policies", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitText("#scopes", "service")
	var edited bool
	eval(`(() => {
		const b = document.querySelector('#scopes button.scope[data-scope="service"]'); if (!b) return false; b.click();
		const ed = document.getElementById("scope-editor");
		ed.value = JSON.stringify({max_age: "10m"});
		ed.dispatchEvent(new Event("input", {bubbles: true}));
		return true;
	})()`, &edited)
	if !edited {
		t.Fatal("no service scope in the Policies tab")
	}
	// Someone else's change, through the API, in between.
	resp, _ := g.adminCall(t, "GET", "/v1/cors/config", "")
	resp, body := g.adminCall(t, "PUT", "/v1/cors/scopes/service", `{"expose_headers": ["X-Other"]}`, "If-Match", resp.Header.Get("ETag"))
	if resp.StatusCode != 200 {
		t.Fatalf("the concurrent change: %d %s", resp.StatusCode, body)
	}
	otherRev := strings.Trim(resp.Header.Get("ETag"), `"`)
	if err := chromedp.Run(ctx, chromedp.Click("#save-scope", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitText("#conflict", "X-Other")
	shot("dashboard-conflict-1280x800.png")
	if err := chromedp.Run(ctx, chromedp.Click("#conflict-reload", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitText("#scope-message", "your edit is kept")
	if err := chromedp.Run(ctx, chromedp.Click("#save-scope", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitText("#scope-message", "revision")
	_, layer := g.adminCall(t, "GET", "/v1/cors/layer", "")
	if !strings.Contains(layer, `"max_age": "10m"`) {
		t.Errorf("after saving again, the layer is %s", layer)
	}

	// History: roll back to the revision before the edit, in one click
	// (the confirm() dialog accepted).
	if err := chromedp.Run(ctx, chromedp.Click("#tab-history", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitText("#history", "X-Other")
	var rolled bool
	eval(fmt.Sprintf(`(() => {
		window.confirm = () => true;
		const b = document.querySelector('#history button.rollback[data-revision="%s"]');
		if (!b) return false;
		b.click();
		return true;
	})()`, otherRev), &rolled)
	if !rolled {
		t.Fatalf("no rollback button for revision %s, which set X-Other", otherRev)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, layer = g.adminCall(t, "GET", "/v1/cors/layer", "")
		if strings.Contains(layer, "X-Other") && !strings.Contains(layer, "10m") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rollback to revision %s did not apply: %q", otherRev, layer)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A page on another origin, in the same signed-in browser, cannot
	// change anything: a JSON PUT needs a preflight the admin API never
	// grants, and a simple POST or a form is refused for its Origin.
	_, before := g.adminCall(t, "GET", "/v1/cors/config", "")
	if err := chromedp.Run(ctx, chromedp.Navigate(page.URL+"/")); err != nil {
		t.Fatal(err)
	}
	admin := fmt.Sprintf("http://127.0.0.1:%d", adminPort)
	var results []string
	eval(fmt.Sprintf(`(async () => {
		const out = [];
		const attempts = [
			[%q, {method: "PUT", credentials: "include", headers: {"Content-Type": "application/json"}, body: JSON.stringify({origins: ["https://evil.example"]})}],
			[%q, {method: "POST", mode: "no-cors", credentials: "include", headers: {"Content-Type": "text/plain"}, body: "{}"}],
			[%q, {method: "POST", mode: "no-cors", credentials: "include", body: new URLSearchParams({revision: "0"})}],
		];
		for (const [url, init] of attempts) {
			try { const r = await fetch(url, init); out.push(url + " " + r.type + " " + r.status); }
			catch (e) { out.push(url + " " + e.name); }
		}
		const f = document.createElement("form");
		f.method = "POST"; f.action = %q; f.target = "sink";
		const frame = document.createElement("iframe"); frame.name = "sink"; document.body.append(frame, f);
		f.submit();
		await new Promise(r => setTimeout(r, 500));
		return out;
	})()`, admin+"/_api/v2/user/config/cors", admin+"/v1/cors/reset", admin+"/v1/cors/rollback", admin+"/v1/cors/reset"), &results)
	t.Logf("cross-origin attempts: %q", results)
	if !strings.Contains(results[0], "TypeError") {
		t.Errorf("the cross-origin JSON PUT was not blocked: %q", results[0])
	}
	_, after := g.adminCall(t, "GET", "/v1/cors/config", "")
	if after != before {
		t.Errorf("a page on another origin changed the configuration:\nbefore %s\nafter %s", before, after)
	}
}
