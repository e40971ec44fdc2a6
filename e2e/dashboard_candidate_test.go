package e2e

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/corsgate/corsgate/plugin/plugintest"
)

// The Report-only tab in Chromium: the editor shows the candidate under
// evaluation; "Apply candidate" applies exactly that candidate (not the
// editor's text), after a confirmation that shows its diff, against the
// revision it was judged against, and ends the evaluation.
func TestDashboardReportOnlyApply(t *testing.T) {
	t.Parallel()
	be := newBackend(t)
	port, adminPort := freePort(t), freePort(t)
	cfg := plugintest.Gateway{
		CORS:       plugintest.Block{"allow_origins": []any{originApp}, "allow_methods": []any{"GET", "PUT"}},
		BackendURL: be.URL,
		Endpoints:  []plugintest.Endpoint{{Method: "GET", Path: "/data", NoOp: true}},
	}.JSON(port)
	cfg["extra_config"].(map[string]any)["corsgate/admin"] = map[string]any{"store": map[string]any{"type": "embedded", "path": filepath.Join(t.TempDir(), "state")}}
	g := startAdminGateway(t, plugintest.WriteFile(t, cfg), port, adminPort)
	dash := fmt.Sprintf("http://%s:%s@127.0.0.1:%d/dashboard/#candidate", adminUser, adminPassword, adminPort)

	ctx := startChromium(t, 390, 844)
	bp := browserPage{t, ctx}
	eval, waitText := bp.eval, bp.waitText
	setEditor := func(text string) {
		t.Helper()
		var ok bool
		eval(fmt.Sprintf(`(() => { const e = document.getElementById("candidate-editor"); e.value = %q; e.dispatchEvent(new Event("input")); return true; })()`, text), &ok)
	}
	if err := chromedp.Run(ctx, chromedp.Navigate(dash), chromedp.WaitVisible("#candidate-editor", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	var disabled bool
	eval(`document.getElementById("apply-candidate").disabled`, &disabled)
	if !disabled {
		t.Error("Apply candidate is enabled with no candidate under evaluation")
	}

	candidate := `{"service":{"allow_origins":["https://candidate.example.com"]}}`
	setEditor(candidate)
	if err := chromedp.Run(ctx, chromedp.Click("#start-candidate", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitText("#candidate-status", "judged against revision 0")
	// A reload of the page shows the candidate under evaluation, not the
	// current layer.
	if err := chromedp.Run(ctx, chromedp.Reload(), chromedp.WaitVisible("#candidate-editor", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitText("#candidate-status", "judged against revision 0")
	var shown string
	eval(`document.getElementById("candidate-editor").value`, &shown)
	if !strings.Contains(shown, "https://candidate.example.com") {
		t.Errorf("the editor shows %q, not the candidate under evaluation", shown)
	}
	saveScreenshot(t, ctx, "dashboard-report-only-390px.png")

	// Unsaved text in the editor is not what gets applied.
	setEditor(`{"service":{"allow_origins":["https://typed-but-not-evaluated.example.com"]}}`)
	var confirmed string
	eval(`(() => { window.confirm = (m) => { window.lastConfirm = m; return true; }; return true; })()`, new(bool))
	if err := chromedp.Run(ctx, chromedp.Click("#apply-candidate", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitText("#candidate-message", "Applied: revision 1; report-only ended")
	eval(`window.lastConfirm || ""`, &confirmed)
	for _, want := range []string{"judged against revision 0", `service allow_origins:`, "https://candidate.example.com", "The editor's unsaved text is not applied"} {
		if !strings.Contains(confirmed, want) {
			t.Errorf("the confirmation lacks %q:\n%s", want, confirmed)
		}
	}
	resp, body := g.adminCall(t, "GET", "/v1/cors/layer", "")
	if resp.StatusCode != 200 || strings.Join(strings.Fields(body), "") != strings.ReplaceAll(candidate, " ", "") {
		t.Errorf("the layer after the apply: %d %s", resp.StatusCode, body)
	}
	if _, body := g.adminCall(t, "GET", "/v1/cors/candidate", ""); !strings.Contains(body, `"active": false`) {
		t.Errorf("the evaluation goes on: %s", body)
	}
	if _, body := g.adminCall(t, "GET", "/v1/cors/history?limit=1", ""); !strings.Contains(body, `"source": "candidate"`) {
		t.Errorf("history: %s", body)
	}
}

// The dashboard says which source decided: the Policies tab names the
// revision and author of a run-time key, and a banner lists the file's
// keys that the run-time layer masks.
func TestDashboardShowsProvenance(t *testing.T) {
	t.Parallel()
	be := newBackend(t)
	port, adminPort := freePort(t), freePort(t)
	cfg := plugintest.Gateway{
		CORS:       plugintest.Block{"allow_origins": []any{originApp}},
		BackendURL: be.URL,
		Endpoints:  []plugintest.Endpoint{{Method: "GET", Path: "/data", NoOp: true}},
	}.JSON(port)
	cfg["extra_config"].(map[string]any)["corsgate/admin"] = map[string]any{"store": map[string]any{"type": "embedded", "path": filepath.Join(t.TempDir(), "state")}}
	g := startAdminGateway(t, plugintest.WriteFile(t, cfg), port, adminPort)
	if code, _, body := g.cloudantPut(t, "", originAdmin); code != 200 {
		t.Fatalf("Cloudant PUT: %d %s", code, body)
	}
	// A refused origin that looks like an allowed one: a Cyrillic "а".
	lookalike := "https://\u0430dmin.example.com"
	resp, _ := do(t, "GET", "http://127.0.0.1:"+strconv.Itoa(port)+"/data", plugintest.Header("Origin", lookalike))
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("the look-alike origin was allowed")
	}
	for _, width := range []int{1280, 390} {
		ctx := startChromium(t, width, 844)
		var banner, badges string
		dash := fmt.Sprintf("http://%s:%s@127.0.0.1:%d/dashboard/#policies", adminUser, adminPassword, adminPort)
		if err := chromedp.Run(ctx, chromedp.Navigate(dash), chromedp.WaitVisible("#file-error", chromedp.ByQuery)); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(badges, "revision 1 by admin") && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			chromedp.Run(ctx, chromedp.Evaluate(`[...document.querySelectorAll("#panel-policies .badge")].map(b => b.textContent).join("|")`, &badges))
		}
		chromedp.Run(ctx, chromedp.Evaluate(`document.getElementById("file-error").textContent`, &banner))
		if !strings.Contains(badges, "runtime (overrides the file), revision 1 by admin") {
			t.Errorf("%d px: the Policies tab's badges: %q", width, badges)
		}
		if !strings.Contains(banner, "The run-time layer overrides the file's value of allow_origins of service (revision 1, by admin): the layer wins these keys, so editing them in the file changes nothing") {
			t.Errorf("%d px: the banner: %q", width, banner)
		}
		saveScreenshot(t, ctx, fmt.Sprintf("dashboard-provenance-%dpx.png", width))

		// The Live tab shows the look-alike in punycode, marked.
		live := fmt.Sprintf("http://%s:%s@127.0.0.1:%d/dashboard/#live", adminUser, adminPassword, adminPort)
		var top string
		chromedp.Run(ctx, chromedp.Navigate(live))
		deadline = time.Now().Add(10 * time.Second)
		for !strings.Contains(top, "xn--") && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			chromedp.Run(ctx, chromedp.Evaluate(`document.getElementById("panel-live").textContent`, &top))
		}
		if !strings.Contains(top, "⚠ https://xn--dmin-43d.example.com") || strings.Contains(top, "\u0430") {
			t.Errorf("%d px: the Live tab shows the look-alike origin as %q", width, top)
		}
	}
}
