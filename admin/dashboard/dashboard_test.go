package dashboard_test

import (
	"io"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/corsgate/corsgate/admin/dashboard"
)

// securityHeaders are set on every answer of the handler.
var securityHeaders = map[string]string{
	"Cache-Control":           "no-store",
	"X-Content-Type-Options":  "nosniff",
	"X-Frame-Options":         "DENY",
	"Referrer-Policy":         "same-origin",
	"Content-Security-Policy": dashboard.ContentSecurityPolicy,
}

func TestHandler(t *testing.T) {
	tests := []struct {
		name        string
		method      string
		path        string
		status      int
		contentType string // prefix
		file        string // the embedded file the body must be
		allow       string
	}{
		{"page at the prefix", "GET", "/dashboard/", 200, "text/html; charset=utf-8", "index.html", ""},
		{"page by name", "GET", "/dashboard/index.html", 200, "text/html; charset=utf-8", "index.html", ""},
		{"script", "GET", "/dashboard/app.js", 200, "text/javascript; charset=utf-8", "app.js", ""},
		{"style sheet", "GET", "/dashboard/app.css", 200, "text/css; charset=utf-8", "app.css", ""},
		{"HEAD of the page", "HEAD", "/dashboard/", 200, "text/html; charset=utf-8", "", ""},
		{"HEAD of the script", "HEAD", "/dashboard/app.js", 200, "text/javascript; charset=utf-8", "", ""},
		{"unknown file", "GET", "/dashboard/nope.js", 404, "text/plain", "", ""},
		{"the Go source is not served", "GET", "/dashboard/dashboard.go", 404, "text/plain", "", ""},
		{"a sub-directory", "GET", "/dashboard/static/app.js", 404, "text/plain", "", ""},
		{"traversal", "GET", "/dashboard/../dashboard/app.js", 404, "text/plain", "", ""},
		{"outside the prefix", "GET", "/app.js", 404, "text/plain", "", ""},
		{"without the slash", "GET", "/dashboard", 404, "text/plain", "", ""},
		{"POST", "POST", "/dashboard/", 405, "text/plain", "", "GET, HEAD"},
		{"PUT of a file", "PUT", "/dashboard/app.js", 405, "text/plain", "", "GET, HEAD"},
		{"DELETE", "DELETE", "/dashboard/index.html", 405, "text/plain", "", "GET, HEAD"},
		{"OPTIONS", "OPTIONS", "/dashboard/", 405, "text/plain", "", "GET, HEAD"},
	}
	h := dashboard.Handler()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "http://127.0.0.1:9091/", nil)
			r.URL.Path = tt.path // as sent, not cleaned
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			resp := w.Result()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %q", resp.StatusCode, tt.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.contentType) {
				t.Errorf("Content-Type %q, want %q", ct, tt.contentType)
			}
			for k, v := range securityHeaders {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if got := resp.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow: %q, want %q", got, tt.allow)
			}
			switch {
			case tt.file != "":
				want, err := os.ReadFile(tt.file)
				if err != nil {
					t.Fatal(err)
				}
				if string(body) != string(want) {
					t.Errorf("the body is not %s (%d bytes, want %d)", tt.file, len(body), len(want))
				}
				if cl := resp.Header.Get("Content-Length"); cl == "" {
					t.Error("no Content-Length")
				}
			case tt.method == "HEAD":
				if len(body) != 0 {
					t.Errorf("HEAD has a body of %d bytes", len(body))
				}
				if cl := resp.Header.Get("Content-Length"); cl == "" || cl == "0" {
					t.Errorf("HEAD: Content-Length %q", cl)
				}
			}
		})
	}
}

// TestCSPValue pins the policy the page is written for.
func TestCSPValue(t *testing.T) {
	for _, d := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
		"connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"} {
		if !strings.Contains(dashboard.ContentSecurityPolicy, d) {
			t.Errorf("the CSP lacks %q", d)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*", "http:", "https:"} {
		if strings.Contains(dashboard.ContentSecurityPolicy, bad) {
			t.Errorf("the CSP allows %q", bad)
		}
	}
}

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestNoExternalResource: the page loads nothing from another origin.
func TestNoExternalResource(t *testing.T) {
	external := []*regexp.Regexp{
		regexp.MustCompile(`(?i)\b(src|href|action|poster|data)\s*=\s*["']?\s*(https?:)?//`),
		regexp.MustCompile(`(?i)url\(\s*["']?\s*(https?:)?//`),
		regexp.MustCompile(`(?i)@import`),
		regexp.MustCompile(`(?i)\bimport\s*(\(|[^;]*\bfrom\b)\s*["'](https?:)?//`),
		regexp.MustCompile(`(?i)fetch\(\s*["'` + "`" + `](https?:)?//`),
		regexp.MustCompile(`(?i)new\s+(WebSocket|EventSource|Worker)\(`),
		regexp.MustCompile(`(?i)<(iframe|object|embed|base)\b`),
	}
	for _, name := range []string{"index.html", "app.js", "app.css"} {
		text := read(t, name)
		for _, re := range external {
			if m := re.FindString(text); m != "" {
				t.Errorf("%s loads something from elsewhere: %q", name, m)
			}
		}
	}
	// Each call of fetch() in app.js takes a URL made from the page's own
	// origin.
	js := read(t, "app.js")
	if n := len(regexp.MustCompile(`[^\w.]fetch\([a-z]`).FindAllString(js, -1)); n != 1 || !strings.Contains(js, "new URL(path, window.location.origin)") {
		t.Errorf("app.js should call fetch() once, in api(), with a same-origin URL (found %d calls)", n)
	}
	if !strings.Contains(js, `credentials: "same-origin"`) {
		t.Error(`app.js does not fetch with credentials: "same-origin"`)
	}
}

// TestHTMLFitsTheCSP: no inline script, style or event handler, which the
// CSP would block.
func TestHTMLFitsTheCSP(t *testing.T) {
	html := read(t, "index.html")
	scripts := regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`).FindAllStringSubmatch(html, -1)
	if len(scripts) != 1 {
		t.Errorf("%d script elements, want 1", len(scripts))
	}
	for _, s := range scripts {
		if !strings.Contains(s[1], `src="/dashboard/app.js"`) {
			t.Errorf("a script element without src=\"/dashboard/app.js\": %q", s[0])
		}
		if strings.TrimSpace(s[2]) != "" {
			t.Errorf("an inline script: %q", s[2])
		}
	}
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)\sstyle\s*=`),
		regexp.MustCompile(`(?i)<style\b`),
		regexp.MustCompile(`(?i)\son[a-z]+\s*=`),
		regexp.MustCompile(`(?i)javascript:`),
		regexp.MustCompile(`(?i)<form\b`),
	} {
		if m := re.FindString(html); m != "" {
			t.Errorf("index.html has %q", m)
		}
	}
	if !strings.Contains(html, `href="/dashboard/app.css"`) {
		t.Error("index.html does not link /dashboard/app.css")
	}
	if !strings.Contains(html, `<meta name="viewport" content="width=device-width, initial-scale=1">`) {
		t.Error("index.html has no viewport meta")
	}
}

// TestJSBuildsNoMarkup: app.js inserts server data with textContent and
// createElement only, and never changes anything with a GET.
func TestJSBuildsNoMarkup(t *testing.T) {
	js := read(t, "app.js")
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", `setAttribute("style"`, ".cssText"} {
		if strings.Contains(js, bad) {
			t.Errorf("app.js uses %s", bad)
		}
	}
	// Every call of the API names its method; writes are PUT, POST or
	// DELETE, and the reads are the routes that change nothing.
	calls := regexp.MustCompile(`api\("([A-Z]+)", ([A-Z_]+|"[^"]*"|scopeURL\(scope\))`).FindAllStringSubmatch(js, -1)
	if len(calls) == 0 {
		t.Fatal("no api() call found")
	}
	reads := map[string]bool{"CLOUDANT": true, `"/v1/cors/status"`: true, `"/v1/cors/config"`: true, `"/v1/cors/history?limit=20"`: true,
		`"/v1/cors/history?limit=50"`: true, `"/v1/cors/decisions"`: true, `"/v1/cors/fleet"`: true, `"/v1/cors/candidate"`: true}
	for _, c := range calls {
		switch c[1] {
		case "GET":
			if !reads[c[2]] {
				t.Errorf("GET %s is not a known read", c[2])
			}
		case "PUT", "POST", "DELETE":
		default:
			t.Errorf("api() with method %s", c[1])
		}
	}
}

// TestIDs: the elements the page's script and its users rely on.
func TestIDs(t *testing.T) {
	html := read(t, "index.html")
	js := read(t, "app.js")
	for _, id := range []string{
		"error-banner", "stale-banner", "replica", "revision", "store-badge",
		"tab-cloudant", "tab-policies", "tab-history", "tab-live", "tab-candidate",
		"enable-cors", "allow-credentials", "origins", "new-origin", "add-origin", "save-cloudant", "cloudant-message",
		"scope-editor", "save-scope", "drop-scope", "conflict",
		"history",
		"decisions-chart", "top-refused", "fleet",
		"candidate-editor", "start-candidate", "stop-candidate", "apply-candidate", "candidate-differences",
	} {
		if n := strings.Count(html, `id="`+id+`"`); n != 1 {
			t.Errorf("id %q appears %d times in index.html", id, n)
		}
	}
	// Every $("id") of the script exists in the page.
	for _, m := range regexp.MustCompile(`\$\("([a-z0-9-]+)"\)`).FindAllStringSubmatch(js, -1) {
		if !strings.Contains(html, `id="`+m[1]+`"`) {
			t.Errorf("app.js uses #%s, which index.html lacks", m[1])
		}
	}
	if n := strings.Count(html, `role="tab"`); n != 5 {
		t.Errorf("%d tabs, want 5", n)
	}
	for _, v := range []string{`name="origin-mode" value="all"`, `name="origin-mode" value="restrict"`} {
		if !strings.Contains(html, v) {
			t.Errorf("index.html lacks %s", v)
		}
	}
}
