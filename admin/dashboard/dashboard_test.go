package dashboard_test

import (
	"io"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
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
		{"a module", "GET", "/dashboard/js/api.js", 200, "text/javascript; charset=utf-8", "js/api.js", ""},
		{"HEAD of a module", "HEAD", "/dashboard/js/dom.js", 200, "text/javascript; charset=utf-8", "", ""},
		{"unknown file", "GET", "/dashboard/nope.js", 404, "text/plain", "", ""},
		{"unknown module", "GET", "/dashboard/js/nope.js", 404, "text/plain", "", ""},
		{"the modules' directory", "GET", "/dashboard/js/", 404, "text/plain", "", ""},
		{"the modules' directory without the slash", "GET", "/dashboard/js", 404, "text/plain", "", ""},
		{"a module at the top", "GET", "/dashboard/api.js", 404, "text/plain", "", ""},
		{"traversal from the modules", "GET", "/dashboard/js/../app.js", 404, "text/plain", "", ""},
		{"the Go source is not served", "GET", "/dashboard/dashboard.go", 404, "text/plain", "", ""},
		{"a sub-directory", "GET", "/dashboard/static/app.js", 404, "text/plain", "", ""},
		{"traversal", "GET", "/dashboard/../dashboard/app.js", 404, "text/plain", "", ""},
		{"outside the prefix", "GET", "/app.js", 404, "text/plain", "", ""},
		{"without the slash", "GET", "/dashboard", 404, "text/plain", "", ""},
		{"POST", "POST", "/dashboard/", 405, "text/plain", "", "GET, HEAD"},
		{"PUT of a file", "PUT", "/dashboard/app.js", 405, "text/plain", "", "GET, HEAD"},
		{"POST of a module", "POST", "/dashboard/js/api.js", 405, "text/plain", "", "GET, HEAD"},
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
	// Every module of js/ is served, as itself.
	for _, name := range scriptNames(t) {
		r := httptest.NewRequest("GET", "http://127.0.0.1:9091/dashboard/"+name, nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 || w.Header().Get("Content-Type") != "text/javascript; charset=utf-8" || w.Body.String() != read(t, name) {
			t.Errorf("GET /dashboard/%s: %d, %q, %d bytes", name, w.Code, w.Header().Get("Content-Type"), w.Body.Len())
		}
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

// scriptNames are the script's files: the entry module app.js, then the
// modules of js/.
func scriptNames(t *testing.T) []string {
	t.Helper()
	modules, err := filepath.Glob(filepath.Join("js", "*.js"))
	if err != nil {
		t.Fatal(err)
	}
	if len(modules) == 0 {
		t.Fatal("no module in js/")
	}
	names := []string{"app.js"}
	for _, m := range modules {
		names = append(names, filepath.ToSlash(m))
	}
	return names
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
	for _, name := range append([]string{"index.html", "app.css"}, scriptNames(t)...) {
		text := read(t, name)
		for _, re := range external {
			if m := re.FindString(text); m != "" {
				t.Errorf("%s loads something from elsewhere: %q", name, m)
			}
		}
	}
	// The script calls fetch() once, in api() (js/api.js), with a URL made
	// from the page's own origin.
	calls := regexp.MustCompile(`[^\w.]fetch\([a-z]`)
	n := 0
	for _, name := range scriptNames(t) {
		if c := len(calls.FindAllString(read(t, name), -1)); c != 0 && name != "js/api.js" {
			t.Errorf("%s calls fetch() %d times; only api() in js/api.js should", name, c)
		}
		n += len(calls.FindAllString(read(t, name), -1))
	}
	js := read(t, "js/api.js")
	if n != 1 || !strings.Contains(js, "new URL(path, window.location.origin)") {
		t.Errorf("the script should call fetch() once, in api(), with a same-origin URL (found %d calls)", n)
	}
	if !strings.Contains(js, `credentials: "same-origin"`) {
		t.Error(`js/api.js does not fetch with credentials: "same-origin"`)
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
		if !strings.Contains(s[1], `type="module"`) {
			t.Errorf("a script element without type=\"module\": %q", s[0])
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

// TestJSBuildsNoMarkup: the script's modules insert server data with
// textContent and createElement only, and never change anything with a
// GET.
func TestJSBuildsNoMarkup(t *testing.T) {
	var all strings.Builder
	for _, name := range scriptNames(t) {
		js := read(t, name)
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", `setAttribute("style"`, ".cssText"} {
			if strings.Contains(js, bad) {
				t.Errorf("%s uses %s", name, bad)
			}
		}
		all.WriteString(js)
		all.WriteString("\n")
	}
	js := all.String()
	// Every call of the API names its method; writes are PUT, POST or
	// DELETE, and the reads are the routes that change nothing.
	calls := regexp.MustCompile(`api\("([A-Z]+)", ([A-Z_]+|"[^"]*"|scopeURL\(scope\))`).FindAllStringSubmatch(js, -1)
	if len(calls) == 0 {
		t.Fatal("no api() call found")
	}
	reads := map[string]bool{"CLOUDANT": true, `"/v1/cors/status"`: true, `"/v1/cors/config"`: true, `"/v1/cors/history?limit=20"`: true,
		`"/v1/cors/history?limit=50"`: true, `"/v1/cors/decisions"`: true, `"/v1/cors/fleet"`: true, `"/v1/cors/candidate"`: true, `"/v1/cors/scopes"`: true}
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
	for _, id := range []string{
		"error-banner", "store-detail", "replica", "revision", "store-badge",
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
	// Every $("id") of the script's modules exists in the page.
	for _, name := range scriptNames(t) {
		for _, m := range regexp.MustCompile(`\$\("([a-z0-9-]+)"\)`).FindAllStringSubmatch(read(t, name), -1) {
			if !strings.Contains(html, `id="`+m[1]+`"`) {
				t.Errorf("%s uses #%s, which index.html lacks", name, m[1])
			}
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

// TestModules: every module is type-checked (// @ts-check), imports only
// modules of the dashboard by a relative path, and is imported by another:
// the entry app.js reaches every file of js/, and no import names a file
// that does not exist.
func TestModules(t *testing.T) {
	names := scriptNames(t)
	exists := map[string]bool{}
	for _, name := range names {
		exists[name] = true
	}
	imported := map[string]bool{}
	imports := regexp.MustCompile(`(?m)^import\b[^;]*?\bfrom\s*"([^"]*)";`)
	types := regexp.MustCompile(`import\("([^"]*)"\)`)
	for _, name := range names {
		js := read(t, name)
		if !strings.HasPrefix(js, "// @ts-check\n") {
			t.Errorf("%s does not start with // @ts-check", name)
		}
		if regexp.MustCompile(`(?m)^\s*(require\(|module\.exports|exports\.)`).MatchString(js) {
			t.Errorf("%s is not an ES module", name)
		}
		found := imports.FindAllStringSubmatch(js, -1)
		for _, m := range append(found, types.FindAllStringSubmatch(js, -1)...) {
			spec := m[1]
			if !strings.HasPrefix(spec, "./") && !strings.HasPrefix(spec, "../") {
				t.Errorf("%s imports %q, not a relative path", name, spec)
				continue
			}
			target := path.Join(path.Dir(name), spec)
			if !exists[target] {
				t.Errorf("%s imports %q: no such module (%s)", name, spec, target)
			}
		}
		for _, m := range found {
			imported[path.Join(path.Dir(name), m[1])] = true
		}
	}
	for _, name := range names[1:] {
		if !imported[name] {
			t.Errorf("no module imports %s", name)
		}
	}
}
