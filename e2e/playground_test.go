package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/corsgate/corsgate/plugin/plugintest"
)

// playgroundProc is a running "corsgate playground" process.
type playgroundProc struct {
	URL  string // http://127.0.0.1:PORT
	logs *syncBuffer
	done chan struct{}
	err  error // exit error, valid once done is closed
}

// tryStartPlayground starts the playground on 127.0.0.1:port for target
// and waits until its page answers. It is stopped with SIGTERM when the
// test ends, and must then exit with status 0.
func tryStartPlayground(t *testing.T, port int, target string) (*playgroundProc, bool) {
	t.Helper()
	p := &playgroundProc{
		URL:  "http://127.0.0.1:" + strconv.Itoa(port),
		logs: &syncBuffer{},
		done: make(chan struct{}),
	}
	cmd := exec.Command(binPath, "playground", "--listen", "127.0.0.1:"+strconv.Itoa(port), "--target", target)
	cmd.Stdout = p.logs
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the playground: %v", err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
			return // exited early: reported by the caller
		default:
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
			if p.err != nil {
				t.Errorf("playground did not exit cleanly on SIGTERM: %v\n%s", p.err, p.logs.String())
			}
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
			t.Errorf("playground did not stop within 5s of SIGTERM")
		}
	})
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return p, false
		default:
		}
		if resp, err := client.Get(p.URL + "/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return p, false
}

// playgroundSetup is a gateway and a playground page pointed at it.
type playgroundSetup struct {
	gw   *gateway
	play *playgroundProc
}

// startPlaygroundWithGateway picks two free ports, starts the playground
// (target http://localhost:GWPORT) and the gateway built by build with the
// playground's origin, retrying on new ports when one was taken.
func startPlaygroundWithGateway(t *testing.T, debug bool, build func(port int, playOrigin string) obj) playgroundSetup {
	t.Helper()
	var logs string
	for attempt := 0; attempt < 3; attempt++ {
		gwPort, playPort := freePort(t), freePort(t)
		if gwPort == playPort {
			continue
		}
		play, ok := tryStartPlayground(t, playPort, "http://localhost:"+strconv.Itoa(gwPort))
		if !ok {
			logs = play.logs.String()
			continue
		}
		g, ok := tryStartGateway(t, gwPort, debug, nil, build(gwPort, play.URL))
		if ok {
			return playgroundSetup{gw: g, play: play}
		}
		logs = g.Logs()
	}
	t.Fatalf("could not start the playground and the gateway; last output:\n%s", logs)
	return playgroundSetup{}
}

// pageState is what the playground page shows, read from its DOM.
type pageState struct {
	Run          string `json:"run"`
	Outcome      string `json:"outcome"`
	Status       string `json:"status"`
	Error        string `json:"error"`
	Headers      string `json:"headers"`
	Body         string `json:"body"`
	ExplainState string `json:"explainState"`
	Preflight    string `json:"preflight"`
	Actual       string `json:"actual"`
	Reason       string `json:"reason"`
	PolicyState  string `json:"policyState"`
	Policy       string `json:"policy"`
	Origin       string `json:"origin"`
	// Failures are the checks of the list of every failing check,
	// joined by "|" ("" when one check or none fails).
	Failures string `json:"failures"`
}

const readPageJS = `(() => {
  const txt = (id) => { const e = document.getElementById(id); return e ? e.textContent.trim() : ""; };
  const r = document.getElementById("result"), x = document.getElementById("explain"), p = document.getElementById("policy");
  return {
    run: r.dataset.run || "", outcome: r.dataset.outcome || "",
    status: txt("result-status"), error: txt("result-error"), headers: txt("result-headers"), body: txt("result-body"),
    explainState: x.dataset.state || "", preflight: txt("explain-preflight"), actual: txt("explain-actual"), reason: txt("explain-reason"),
    policyState: p.dataset.state || "", policy: p.textContent.trim(), origin: txt("page-origin"),
    failures: [...document.querySelectorAll("#explain-failures li")].map((li) => li.dataset.check).join("|"),
  };
})()`

// newBrowser starts headless Chromium for the playground's page.
func newBrowser(t *testing.T) context.Context { return startChromium(t, 1280, 900) }

// submitForm fills the playground's form, sends it, waits for the page to
// show outcome number run, and returns what the page shows.
func submitForm(t *testing.T, ctx context.Context, run int, method, path, headers string, credentials bool) pageState {
	t.Helper()
	// chromedp.SetValue refuses to set an empty value, so the fields are
	// filled by a script; the form is sent by a real click.
	values, _ := json.Marshal(map[string]any{"method": method, "path": path, "headers": headers, "credentials": credentials})
	fill := fmt.Sprintf(`(() => {
  const v = %s;
  for (const id of ["method", "path", "headers"]) document.getElementById(id).value = v[id];
  document.getElementById("credentials").checked = v.credentials;
  return true;
})()`, values)
	var st pageState
	err := chromedp.Run(ctx,
		chromedp.Evaluate(fill, nil),
		chromedp.Click("#send", chromedp.ByQuery),
		chromedp.Poll(fmt.Sprintf(`document.getElementById("result").dataset.run === "%d"`, run), nil,
			chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Evaluate(readPageJS, &st),
	)
	if err != nil {
		t.Fatalf("running request %d in the page: %v", run, err)
	}
	t.Logf("page after request %d: %+v", run, st)
	return st
}

// gatewayExplain asks the gateway directly for its explanation.
func gatewayExplain(t *testing.T, g *gateway, origin, method, path, headers string, credentials bool) (int, map[string]any) {
	t.Helper()
	q := url.Values{
		"origin":      {origin},
		"method":      {method},
		"path":        {path},
		"headers":     {headers},
		"credentials": {strconv.FormatBool(credentials)},
	}
	resp, body := do(t, http.MethodGet, g.URL+"/__debug/cors/explain?"+q.Encode(), nil)
	var out map[string]any
	_ = json.Unmarshal([]byte(body), &out)
	return resp.StatusCode, out
}

// dataGateway is a gateway with cors as its service block and one no-op
// endpoint, GET /data, on backend be.
func dataGateway(be *backend, cors obj) plugintest.Gateway {
	return plugintest.Gateway{
		CORS:       cors,
		BackendURL: be.URL,
		Endpoints:  []plugintest.Endpoint{{Method: "GET", Path: "/data", NoOp: true}},
	}
}

func TestPlayground(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	be := newBackend(t)
	s := startPlaygroundWithGateway(t, true, func(port int, playOrigin string) obj {
		cors := obj{
			"allow_origins":     []any{playOrigin},
			"allow_methods":     []any{"GET", "POST"},
			"allow_headers":     []any{"X-Api-Key", "Content-Type"},
			"expose_headers":    []any{"X-Exposed"},
			"allow_credentials": true,
			"debug":             true,
		}
		return dataGateway(be, cors).JSON(port)
	})
	playOrigin := s.play.URL
	if out := s.play.logs.String(); !strings.Contains(out, "open "+playOrigin+"/") {
		t.Errorf("the playground did not print the URL to open (%s/); output:\n%s", playOrigin, out)
	}

	var st pageState
	err := chromedp.Run(ctx,
		chromedp.Navigate(playOrigin+"/"),
		chromedp.Poll(`document.getElementById("policy").dataset.state !== "loading"`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Evaluate(readPageJS, &st),
	)
	if err != nil {
		t.Fatalf("opening the playground: %v", err)
	}
	if st.Origin != playOrigin {
		t.Errorf("page shows its origin as %q, want %q", st.Origin, playOrigin)
	}

	t.Run("effective policy", func(t *testing.T) {
		if st.PolicyState != "loaded" {
			t.Errorf("policy panel state %q (%s), want loaded", st.PolicyState, st.Policy)
		}
		if !strings.Contains(st.Policy, playOrigin) {
			t.Errorf("policy panel does not show the allowed origin %s: %s", playOrigin, st.Policy)
		}
	})

	t.Run("allowed request", func(t *testing.T) {
		st := submitForm(t, ctx, 1, "GET", "/data", "X-Api-Key: secret-123", true)
		if st.Outcome != "ok" || !strings.HasPrefix(st.Status, "200") {
			t.Fatalf("page shows outcome %q, status %q (error %q); want success with 200", st.Outcome, st.Status, st.Error)
		}
		if !strings.Contains(st.Headers, "x-exposed") {
			t.Errorf("readable headers %q lack x-exposed (in expose_headers)", st.Headers)
		}
		if strings.Contains(st.Headers, "x-hidden") {
			t.Errorf("readable headers %q show x-hidden, which is not exposed", st.Headers)
		}
		if !strings.Contains(st.Body, "secret-123") {
			t.Errorf("body %q lacks the echoed X-Api-Key", st.Body)
		}
		if st.ExplainState != "done" || !strings.Contains(st.Actual, "allowed") || strings.Contains(st.Preflight, "refused") {
			t.Errorf("explain panel: state %q, preflight %q, actual %q, reason %q; want an allowed verdict", st.ExplainState, st.Preflight, st.Actual, st.Reason)
		}
		saveScreenshot(t, ctx, "corsgate-playground-allowed.png")
	})

	t.Run("refused request", func(t *testing.T) {
		st := submitForm(t, ctx, 2, "GET", "/data", "X-Not-Allowed: 1", false)
		if st.Outcome != "blocked" || !strings.HasPrefix(st.Error, "TypeError") {
			t.Errorf("page shows outcome %q, error %q; want blocked with a TypeError", st.Outcome, st.Error)
		}
		if !strings.Contains(st.Status, "Blocked") {
			t.Errorf("status line %q does not say the request was blocked", st.Status)
		}
		code, exp := gatewayExplain(t, s.gw, playOrigin, "GET", "/data", "x-not-allowed", false)
		verdict, _ := exp["verdict"].(map[string]any)
		reason, _ := verdict["reason"].(string)
		if code != http.StatusOK || reason == "" {
			t.Fatalf("the gateway's /__debug/cors/explain answered %d %v; want 200 with verdict.reason (waiting on the explain endpoint?)", code, exp)
		}
		if st.ExplainState != "done" || st.Reason != reason {
			t.Errorf("explain panel: state %q, reason %q; want the gateway's reason %q", st.ExplainState, st.Reason, reason)
		}
		if !strings.Contains(st.Preflight, "refused") {
			t.Errorf("explain panel shows preflight %q, want refused", st.Preflight)
		}
		if !strings.Contains(strings.ToLower(reason), "x-not-allowed") {
			t.Errorf("reason %q does not name the refused header", reason)
		}
	})

	t.Run("every failing check", func(t *testing.T) {
		// PUT is not in allow_methods and X-Not-Allowed not in
		// allow_headers: the page lists both, not only the first.
		st := submitForm(t, ctx, 3, "PUT", "/data", "X-Not-Allowed: 1", false)
		if st.Outcome != "blocked" {
			t.Errorf("page shows outcome %q, want blocked", st.Outcome)
		}
		if st.Failures != "method|header" {
			t.Errorf("the page lists the failing checks %q, want method|header", st.Failures)
		}
	})

	saveScreenshot(t, ctx, "corsgate-playground-refused.png")
}

// TestPlaygroundDebugOff: against a gateway without -d or debug_endpoint
// the page still runs requests and says how to get explanations.
func TestPlaygroundDebugOff(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	be := newBackend(t)
	s := startPlaygroundWithGateway(t, false, func(port int, playOrigin string) obj {
		cors := obj{"allow_origins": []any{playOrigin}, "allow_methods": []any{"GET"}}
		return dataGateway(be, cors).JSON(port)
	})
	const hint = "start the gateway with -d or debug_endpoint: true to see explanations"
	var st pageState
	err := chromedp.Run(ctx,
		chromedp.Navigate(s.play.URL+"/"),
		chromedp.Poll(`document.getElementById("policy").dataset.state !== "loading"`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Evaluate(readPageJS, &st),
	)
	if err != nil {
		t.Fatalf("opening the playground: %v", err)
	}
	if st.PolicyState != "off" || !strings.Contains(st.Policy, hint) {
		t.Errorf("policy panel: state %q, text %q; want off with %q", st.PolicyState, st.Policy, hint)
	}
	st = submitForm(t, ctx, 1, "GET", "/data", "", false)
	if st.Outcome != "ok" || !strings.HasPrefix(st.Status, "200") {
		t.Errorf("page shows outcome %q, status %q (error %q); want success with 200", st.Outcome, st.Status, st.Error)
	}
	if st.ExplainState != "off" || st.Reason != hint {
		t.Errorf("explain panel: state %q, text %q; want off with %q", st.ExplainState, st.Reason, hint)
	}
	saveScreenshot(t, ctx, "corsgate-playground-debug-off.png")
}
