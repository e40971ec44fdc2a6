package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// harRecorder builds a HAR file from the DevTools network events of a tab,
// as the network panel's "Save all as HAR" does: the headers the browser
// really sent (Origin included), the answer, status 0 for a request the
// browser blocked.
type harRecorder struct {
	mu    sync.Mutex
	order []network.RequestID
	byID  map[network.RequestID]*harRecord
}

type harRecord struct {
	method, url     string
	headers, sent   network.Headers
	status          int64
	responseHeaders network.Headers
	failed          string
	started         time.Time
}

func (h *harRecorder) get(id network.RequestID) *harRecord {
	r, ok := h.byID[id]
	if !ok {
		r = &harRecord{started: time.Now()}
		h.byID[id] = r
		h.order = append(h.order, id)
	}
	return r
}

func (h *harRecorder) handle(ev any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		r := h.get(e.RequestID)
		r.method, r.url, r.headers = e.Request.Method, e.Request.URL, e.Request.Headers
	case *network.EventRequestWillBeSentExtraInfo:
		h.get(e.RequestID).sent = e.Headers
	case *network.EventResponseReceived:
		r := h.get(e.RequestID)
		r.status, r.responseHeaders = e.Response.Status, e.Response.Headers
	case *network.EventLoadingFailed:
		h.get(e.RequestID).failed = e.ErrorText
	}
}

// har renders the recorded requests as a HAR 1.2 file.
func (h *harRecorder) har() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	headers := func(hs network.Headers) []map[string]string {
		out := []map[string]string{}
		for k, v := range hs {
			out = append(out, map[string]string{"name": k, "value": fmt.Sprint(v)})
		}
		return out
	}
	var entries []any
	for _, id := range h.order {
		r := h.byID[id]
		if r.method == "" {
			continue
		}
		sent := r.sent
		if len(sent) == 0 {
			sent = r.headers
		}
		status := r.status
		if r.failed != "" {
			status = 0
		}
		entries = append(entries, map[string]any{
			"startedDateTime": r.started.UTC().Format(time.RFC3339Nano),
			"request":         map[string]any{"method": r.method, "url": r.url, "httpVersion": "http/1.1", "headers": headers(sent), "cookies": []any{}, "queryString": []any{}, "headersSize": -1, "bodySize": 0},
			"response":        map[string]any{"status": status, "statusText": "", "httpVersion": "http/1.1", "headers": headers(r.responseHeaders), "cookies": []any{}, "content": map[string]any{"size": 0, "mimeType": ""}, "redirectURL": "", "headersSize": -1, "bodySize": -1, "_error": r.failed},
			"cache":           map[string]any{}, "timings": map[string]any{"send": 0, "wait": 0, "receive": 0},
		})
	}
	data, _ := json.MarshalIndent(map[string]any{"log": map[string]any{"version": "1.2", "creator": map[string]string{"name": "corsgate e2e", "version": "1"}, "entries": entries}}, "", "  ")
	return data
}

// A real page in headless Chromium whose requests fail: its HAR export is
// explained by corsgate explain --har, and by the playground when the file
// is dropped on it.
func TestHARFromChromium(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	be := newBackend(t)
	s := startPlaygroundWithGateway(t, true, func(port int, playOrigin string) obj {
		return dataGateway(be, obj{"allow_origins": []any{playOrigin}, "allow_methods": []any{"GET"}, "allow_headers": []any{"Content-Type"}}).JSON(port)
	})
	gw := fmt.Sprintf("http://localhost:%d", s.gw.Port)
	rec := &harRecorder{byID: map[network.RequestID]*harRecord{}}
	chromedp.ListenTarget(ctx, rec.handle)
	if err := chromedp.Run(ctx, network.Enable(), chromedp.Navigate(s.play.URL+"/")); err != nil {
		t.Fatal(err)
	}
	var results []string
	js := fmt.Sprintf(`(async () => {
		const out = [];
		for (const [url, init] of [[%q, {}], [%q, {method: "PUT", headers: {"X-Trace": "abc"}}]]) {
			try { const r = await fetch(url, init); out.push("ok " + r.status); } catch (e) { out.push(e.name); }
		}
		return out;
	})()`, gw+"/data", gw+"/data")
	if err := chromedp.Run(ctx, chromedp.Evaluate(js, &results, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) })); err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || results[0] != "ok 200" || results[1] != "TypeError" {
		t.Fatalf("the page's fetches: %q", results)
	}
	time.Sleep(300 * time.Millisecond) // the last network events
	har := rec.har()
	harPath := filepath.Join(t.TempDir(), "page.har")
	if err := os.WriteFile(harPath, har, 0o644); err != nil {
		t.Fatal(err)
	}

	res := runCLI(t, "explain", "-c", s.gw.Config, "--har", harPath, "--gateway", gw, "--summary")
	t.Logf("corsgate explain --har:\n%s%s", res.Stdout, res.Stderr)
	if res.Code != 1 { // one request of the page is refused
		t.Fatalf("exit %d, want 1", res.Code)
	}
	var get, put string
	for _, line := range strings.Split(res.Stdout, "\n") {
		switch {
		case strings.Contains(line, "GET "+gw+"/data from"):
			get = line
		case strings.Contains(line, "PUT "+gw+"/data from "+s.play.URL+" (from its preflight"):
			put = line
		}
	}
	if !strings.HasSuffix(get, ": allowed") {
		t.Errorf("the allowed GET: %q", get)
	}
	if !strings.Contains(put, "refused") || !strings.Contains(put, `"PUT"`) || !strings.Contains(put, "allow_methods") {
		t.Errorf("the refused PUT: %q", put)
	}

	// Dropped on the playground, the same file gets the same verdicts.
	drop := fmt.Sprintf(`(() => {
		const dt = new DataTransfer();
		dt.items.add(new File([%q], "page.har", {type: "application/json"}));
		document.getElementById("har-drop").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
		return true;
	})()`, string(har))
	var ok bool
	var summary, entries string
	err := chromedp.Run(ctx,
		chromedp.Evaluate(drop, &ok),
		chromedp.Poll(`document.getElementById("har").dataset.state === "done" || document.getElementById("har").dataset.state === "error"`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Text("#har", &summary, chromedp.ByQuery),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("#har-entries li.refused")).map(li => li.textContent).join("\n")`, &entries),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(summary, "1 allowed, 1 refused") || !strings.Contains(entries, "PUT "+gw+"/data") || !strings.Contains(entries, "allow_methods") {
		t.Errorf("the playground after the drop:\n%s\nrefused entries:\n%s", summary, entries)
	}
	saveScreenshot(t, ctx, "playground-har.png")
}
