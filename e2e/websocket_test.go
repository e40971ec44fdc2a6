package e2e

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"golang.org/x/net/websocket"

	"github.com/corsgate/corsgate/plugin/plugintest"
)

// WebSocket upgrades through corsgate's CORS layer, in front of a real
// WebSocket echo endpoint (lura does not proxy WebSockets, so the endpoint
// is served in process, behind the same Handler corsgate run uses): a real
// handshake from an allowed origin works, one from a refused origin gets
// 403; and in headless Chromium, a page on the allowed origin opens a
// socket and a page on a refused origin cannot.
func TestWebSocketOrigins(t *testing.T) {
	t.Parallel()
	allowedPage, refusedPage := newPageServer(t), newPageServer(t)
	ctrl := plugintest.Gateway{
		CORS:      plugintest.Block{"allow_origins": []any{allowedPage.URL}},
		Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/ws", nil)},
	}.Controller(t)
	echo := websocket.Handler(func(c *websocket.Conn) { io.Copy(c, c) })
	gw := httptest.NewServer(ctrl.Handler(echo))
	t.Cleanup(gw.Close)
	wsURL := "ws://localhost:" + gw.URL[strings.LastIndex(gw.URL, ":")+1:] + "/ws"

	dial := func(origin string) error {
		cfg, err := websocket.NewConfig(wsURL, origin)
		if err != nil {
			return err
		}
		c, err := websocket.DialConfig(cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := c.Write([]byte("ping")); err != nil {
			return err
		}
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
			return fmt.Errorf("echo %q, %v", buf, err)
		}
		return nil
	}
	if err := dial(allowedPage.URL); err != nil {
		t.Errorf("a handshake from the allowed origin: %v", err)
	}
	if err := dial(refusedPage.URL); err == nil || !strings.Contains(err.Error(), "bad status") {
		t.Errorf("a handshake from a refused origin: %v, want a refused handshake", err)
	}

	ctx := startChromium(t, 1024, 768)
	open := func(page string) string {
		t.Helper()
		var res string
		js := fmt.Sprintf(`new Promise((resolve) => {
			const ws = new WebSocket(%q);
			ws.onopen = () => ws.send("hello");
			ws.onmessage = (e) => { resolve("echo " + e.data); ws.close(); };
			ws.onerror = () => resolve("error");
			setTimeout(() => resolve("timeout"), 5000);
		})`, wsURL)
		if err := chromedp.Run(ctx, chromedp.Navigate(page+"/"), chromedp.Evaluate(js, &res, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
			return p.WithAwaitPromise(true)
		})); err != nil {
			t.Fatal(err)
		}
		return res
	}
	if got := open(allowedPage.URL); got != "echo hello" {
		t.Errorf("the page on the allowed origin: %q", got)
	}
	if got := open(refusedPage.URL); got != "error" {
		t.Errorf("the page on a refused origin: %q, want the socket refused", got)
	}
}
