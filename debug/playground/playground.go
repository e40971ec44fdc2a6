// Package playground serves a CORS test page for a corsgate gateway.
//
// A CORS test needs a page on an origin other than the gateway's, so the
// playground is its own small server ("corsgate playground"). Its page has
// a form (method, path, request headers, body, credentials) that runs
// fetch() against the gateway from the browser and shows what the browser
// let the page see: the status and the readable response headers, or the
// TypeError the browser gives a page when CORS refuses. Next to it, the
// page shows the gateway's own explanation of the same request and the
// gateway's effective policy, which the playground server fetches
// server-side (no CORS involved) from the gateway's debug endpoints:
//
//	GET /api/explain?method=M&path=P&headers=H1,H2&credentials=true|false
//	    -> TARGET/__debug/cors/explain?origin=<this page's origin>&...
//	GET /api/policy
//	    -> TARGET/__debug/cors/policy
//	POST /api/har (a HAR file dropped on the page)
//	    -> TARGET/__debug/cors/har?gateway=TARGET
//
// Those endpoints exist when the gateway runs with -d or debug_endpoint:
// true; otherwise the gateway answers 404 and the page says how to turn
// them on.
//
// The page's HTML, CSS and JavaScript are embedded; nothing is loaded from
// elsewhere and nothing needs building.
package playground

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/corsgate/corsgate/internal/apierror"
)

// The gateway paths the playground proxies to.
const (
	ExplainPath = "/__debug/cors/explain"
	PolicyPath  = "/__debug/cors/policy"
	HARPath     = "/__debug/cors/har"
)

// maxHAR bounds a HAR file dropped on the page.
const maxHAR = 32 << 20

// DebugOffHint is what the page and the API say when the gateway answers
// 404 for its debug endpoints.
const DebugOffHint = "start the gateway with -d or debug_endpoint: true to see explanations"

// maxUpstreamBody bounds what the playground reads from the gateway.
const maxUpstreamBody = 1 << 20

//go:embed index.html
var indexHTML string

//go:embed static/app.js static/style.css
var staticFiles embed.FS

// assets are the files served under /static/, with their content types.
var assets = map[string]string{
	"app.js":    "text/javascript; charset=utf-8",
	"style.css": "text/css; charset=utf-8",
}

// Handler is the playground's http.Handler.
type Handler struct {
	target string // scheme://host[:port][/prefix], no trailing slash
	client *http.Client
	page   []byte // the rendered index page
	mux    *http.ServeMux
}

// New returns the playground for the gateway at target, an absolute http
// or https URL such as http://localhost:8080. client is used for the
// server-side calls to the gateway; nil means a client with a 5s timeout.
func New(target string, client *http.Client) (*Handler, error) {
	t, err := ParseTarget(target)
	if err != nil {
		return nil, err
	}
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	h := &Handler{target: t, client: client}

	tmpl, err := template.New("index").Parse(indexHTML)
	if err != nil {
		return nil, err
	}
	var page bytes.Buffer
	if err := tmpl.Execute(&page, struct{ Target string }{t}); err != nil {
		return nil, err
	}
	h.page = page.Bytes()

	h.mux = http.NewServeMux()
	h.mux.HandleFunc("GET /{$}", h.index)
	for name, ctype := range assets {
		b, err := staticFiles.ReadFile("static/" + name)
		if err != nil {
			return nil, err
		}
		h.mux.HandleFunc("GET /static/"+name, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ctype)
			w.Header().Set("Cache-Control", "no-store")
			_, _ = w.Write(b)
		})
	}
	h.mux.HandleFunc("GET /api/explain", h.explain)
	h.mux.HandleFunc("GET /api/policy", h.policy)
	h.mux.HandleFunc("POST /api/har", h.har)
	return h, nil
}

// ParseTarget checks a gateway URL and returns it without a trailing
// slash.
func ParseTarget(target string) (string, error) {
	u, err := url.Parse(target)
	if err != nil {
		return "", fmt.Errorf("target %q: %w", target, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("target %q: want an absolute http:// or https:// URL such as http://localhost:8080", target)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("target %q: want no query, fragment or user info", target)
	}
	return strings.TrimSuffix(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}

// Target returns the gateway URL the page sends its requests to.
func (h *Handler) Target() string { return h.target }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) index(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' http: https:; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	hdr.Set("Referrer-Policy", "no-referrer")
	_, _ = w.Write(h.page)
}

// PageOrigin is the origin the browser sees for the playground's page,
// worked out from the request it sent for it.
func PageOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// explain proxies to the gateway's explanation of one request, asked for
// with the page's own origin.
func (h *Handler) explain(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	method := strings.ToUpper(strings.TrimSpace(q.Get("method")))
	if method == "" {
		method = http.MethodGet
	}
	if !isToken(method) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("method %q is not an HTTP method name", method), "")
		return
	}
	path := q.Get("path")
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("path %q must start with /", path), "")
		return
	}
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	var names []string
	for _, n := range strings.Split(q.Get("headers"), ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if !isToken(n) {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("%q is not a header name", n), "")
			return
		}
		names = append(names, n)
	}
	credentials := "false"
	if q.Get("credentials") == "true" {
		credentials = "true"
	}
	v := url.Values{}
	v.Set("origin", PageOrigin(r))
	v.Set("method", method)
	v.Set("path", path)
	v.Set("headers", strings.Join(names, ","))
	v.Set("credentials", credentials)
	h.proxy(w, r, ExplainPath+"?"+v.Encode())
}

// har proxies a dropped HAR file to the gateway's explanation of every
// request in it that went to the gateway.
func (h *Handler) har(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxHAR+1))
	switch {
	case err != nil:
		writeError(w, http.StatusBadRequest, "reading the HAR file: "+err.Error(), "")
		return
	case len(body) > maxHAR:
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the HAR file is larger than %d MiB", maxHAR>>20), "export only the requests of the page that fails")
		return
	}
	// The explanation of a large HAR file is larger than the file.
	h.forward(w, r, http.MethodPost, HARPath+"?"+url.Values{"gateway": {h.target}}.Encode(), body, 4*maxHAR)
}

// policy proxies to the gateway's effective policy.
func (h *Handler) policy(w http.ResponseWriter, r *http.Request) {
	h.proxy(w, r, PolicyPath)
}

// proxy GETs target+pathQuery and answers with its status and body. A 404
// becomes a JSON error with DebugOffHint; an unreachable gateway a 502.
func (h *Handler) proxy(w http.ResponseWriter, r *http.Request, pathQuery string) {
	h.forward(w, r, http.MethodGet, pathQuery, nil, maxUpstreamBody)
}

// forward sends method target+pathQuery with body (when not nil) and
// answers as proxy does.
func (h *Handler) forward(w http.ResponseWriter, r *http.Request, method, pathQuery string, body []byte, limit int64) {
	upstream := h.target + pathQuery
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, upstream, rd)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error(), "")
		return
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.client.Do(req)
	if err != nil {
		writeError(w, http.StatusBadGateway, "cannot reach the gateway at "+h.target+": "+unwrapURLError(err),
			"is the gateway running? start it with corsgate run -c FILE -d, or pass the right --target")
		return
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	switch {
	case err != nil:
		writeError(w, http.StatusBadGateway, "reading the gateway's answer: "+err.Error(), "")
		return
	case int64(len(answer)) > limit:
		writeError(w, http.StatusBadGateway, fmt.Sprintf("the gateway's answer is larger than %d MiB, more than the playground shows", limit>>20), "for a large HAR file, use corsgate explain --har FILE --summary")
		return
	}
	if resp.StatusCode == http.StatusNotFound {
		writeError(w, http.StatusNotFound, "the gateway at "+h.target+" answered 404 for "+strings.SplitN(pathQuery, "?", 2)[0], DebugOffHint)
		return
	}
	hdr := w.Header()
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	}
	hdr.Set("Content-Type", ct)
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Playground-Upstream", upstream)
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

// writeError answers one of the playground's own errors in corsgate's
// error shape (package apierror); hint, when not empty, says what to do
// and ends the reason.
func writeError(w http.ResponseWriter, status int, msg, hint string) {
	if hint != "" {
		msg += " (" + hint + ")"
	}
	apierror.Write(w, status, apierror.New(status, msg), 0)
}

func unwrapURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// isToken reports whether s is an RFC 9110 token (a method or header name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
