package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// startChromium starts headless Chromium with the flags this machine needs
// (no sandbox as root, no background networking on a closed network) and a
// fresh profile, and returns a chromedp context for one tab. Everything is
// stopped and removed when the test ends. It never skips: without Chromium
// the test fails with the command that installs it.
func startChromium(t *testing.T, width, height int) context.Context {
	t.Helper()
	chromium := findChromium(t)
	// Not t.TempDir: Chromium's helper processes may still write to the
	// profile for a moment after the browser is stopped, which would fail
	// the test in TempDir's cleanup.
	profile, err := os.MkdirTemp("", "corsgate-e2e-chromium-")
	if err != nil {
		t.Fatalf("creating the Chromium profile dir: %v", err)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(width, height),
	)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		_ = chromedp.Cancel(ctx) // closes the browser and waits for it
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
		for i := 0; i < 20; i++ {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("could not remove the Chromium profile %s", profile)
	})
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("starting Chromium (%s): %v", chromium, err)
	}
	return ctx
}

// ScreenshotDir is where the browser tests write their screenshots: a
// directory of the repository that git ignores (/testout/), so that a
// person can look at them after a run and nothing is committed by
// mistake. CORSGATE_E2E_SCREENSHOT_DIR replaces it.
var ScreenshotDir = filepath.Join("..", "testout", "screenshots")

// writeScreenshot checks that png is a PNG image and writes it as name in
// ScreenshotDir (or $CORSGATE_E2E_SCREENSHOT_DIR).
func writeScreenshot(t *testing.T, name string, png []byte) {
	t.Helper()
	if len(png) < 1000 || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("screenshot %s is not a PNG (%d bytes)", name, len(png))
	}
	dir := ScreenshotDir
	if d := os.Getenv("CORSGATE_E2E_SCREENSHOT_DIR"); d != "" {
		dir = d
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
}

// saveScreenshot captures the whole page of ctx and writes it as name.
func saveScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	var png []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	writeScreenshot(t, name, png)
}
