// Package dashboard serves the operator dashboard of corsgate's admin API:
// one page, with its script and its style sheet, that reads and changes the
// CORS settings through the admin API itself.
//
// The admin listener mounts Handler at /dashboard/, behind the same
// authentication as the API. The page then calls the API with fetch() on
// the same origin, so the browser sends the credentials it signed in with,
// and every change is a PUT, POST or DELETE with a JSON body: nothing a
// cross-site form or link could trigger.
//
// The files are embedded: index.html, app.css, and the script as native
// ES modules, app.js (the entry, which index.html loads with
// type="module") and the modules it imports from js/ (dom.js, api.js,
// state.js, status.js, and one per tab: cloudant.js, policies.js,
// history.js, live.js, candidate.js). Nothing is loaded from elsewhere and
// nothing needs building. They are served with a strict
// Content-Security-Policy (no inline script or style, no other origin),
// no caching and no framing.
package dashboard

import (
	"embed"
	"io/fs"
	"net/http"
	"strconv"
)

// Prefix is the path the dashboard is served under.
const Prefix = "/dashboard/"

// ContentSecurityPolicy is the Content-Security-Policy of every answer of
// Handler: the page loads its script, its style sheet and its API calls
// from its own origin only, runs no inline script, and cannot be framed.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

//go:embed index.html app.js app.css js/*.js
var files embed.FS

// asset is one embedded file and its content type.
type asset struct {
	name        string
	contentType string
}

// assets are the files served, by path: the fixed ones, and every module
// of js/ at /dashboard/js/NAME.js. A path is looked up as sent, so no
// other path (a directory, a "..") names a file.
var assets = func() map[string]asset {
	m := map[string]asset{
		Prefix:                {"index.html", "text/html; charset=utf-8"},
		Prefix + "index.html": {"index.html", "text/html; charset=utf-8"},
		Prefix + "app.js":     {"app.js", "text/javascript; charset=utf-8"},
		Prefix + "app.css":    {"app.css", "text/css; charset=utf-8"},
	}
	modules, err := fs.Glob(files, "js/*.js")
	if err != nil {
		panic(err) // the pattern is valid: this cannot happen
	}
	for _, name := range modules {
		m[Prefix+name] = asset{name, "text/javascript; charset=utf-8"}
	}
	return m
}()

// Handler serves the dashboard's files under Prefix: /dashboard/ and
// /dashboard/index.html give the page, /dashboard/app.css its style sheet,
// /dashboard/app.js its script's entry module and /dashboard/js/NAME.js
// the modules that imports (dom.js, api.js, state.js, status.js,
// cloudant.js, policies.js, history.js, live.js, candidate.js). Any other
// path, /dashboard/js/ itself included, gets 404 (plain text), a method
// other than GET and HEAD 405 with Allow. Every answer carries the
// security headers (ContentSecurityPolicy, X-Content-Type-Options:
// nosniff, X-Frame-Options: DENY, Referrer-Policy: same-origin) and
// Cache-Control: no-store. (Not no-referrer: with it, the Fetch standard
// sends Origin: null on the page's own writes, which the admin API
// refuses.)
//
// Handler does no authentication: the caller puts it behind the admin
// API's.
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, r.Method+" is not allowed on the dashboard; use GET or HEAD", http.StatusMethodNotAllowed)
		return
	}
	a, ok := assets[r.URL.Path]
	if !ok {
		http.Error(w, "the dashboard has no file "+strconv.Quote(r.URL.Path)+"; its page is "+Prefix, http.StatusNotFound)
		return
	}
	data, err := files.ReadFile(a.name)
	if err != nil {
		// The files are embedded: this cannot happen.
		http.Error(w, "the dashboard's file "+a.name+" is missing", http.StatusInternalServerError)
		return
	}
	h.Set("Content-Type", a.contentType)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(data)
	}
}
