// Package debug holds corsgate's debugging aids.
//
// Wrap mounts /__debug/cors, a fake backend that behaves like a backend
// with its own CORS layer. Point an endpoint's backend host at the gateway
// itself and its url_pattern at /__debug/cors to see, from the backend's
// side, which CORS request headers the gateway forwards and what a backend
// that runs CORS answers to them: the "double CORS validation" of the
// KrakenD documentation (see config.double-validation.json in this
// directory for the three examples of its "Debugging configuration"
// section).
//
// The playground sub-package is a page on its own origin that runs fetch()
// against a gateway and shows the browser's outcome next to the gateway's
// explanation.
package debug

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/luraproject/lura/v2/logging"
)

// Path is where the fake backend answers, together with every path below
// it except the Reserved ones.
const Path = "/__debug/cors"

// Reserved are the sub-paths of Path that belong to the gateway's CORS
// layer (the explanation of a request and the effective policy, see
// Explain): Wrap passes them, and anything below them, on to the wrapped
// handler.
var Reserved = []string{ExplainPath, PolicyPath, HARPath}

// LogPrefix starts the log lines of the fake backend.
const LogPrefix = "[ENDPOINT: " + Path + "]"

// RequestHeaders are the CORS-relevant request headers the fake backend
// reports, in the order it reports them.
var RequestHeaders = []string{
	"Origin",
	"Access-Control-Request-Method",
	"Access-Control-Request-Headers",
	"Access-Control-Request-Private-Network",
	"Sec-Fetch-Site",
	"Sec-Fetch-Mode",
	"Sec-Fetch-Dest",
	"Referer",
}

// Report is the JSON body of the fake backend's answer to a non-OPTIONS
// request.
type Report struct {
	// Backend is always Path: it tells the fake backend's answers apart
	// from the gateway's own.
	Backend string `json:"backend"`
	Method  string `json:"method"`
	Path    string `json:"path"`
	// Received holds the CORS-relevant request headers that reached the
	// backend (several lines of one header are joined with ", ").
	Received map[string]string `json:"received"`
	// NotReceived lists the CORS-relevant request headers that did not.
	NotReceived []string `json:"not_received"`
	// OriginForwarded tells whether Origin reached the backend, which is
	// what makes a backend with a CORS layer answer with CORS headers.
	OriginForwarded bool `json:"origin_forwarded"`
	// ViaGateway tells whether a lura/KrakenD gateway sent the request
	// (it adds X-Forwarded-Host to every backend request).
	ViaGateway bool `json:"via_gateway"`
	// Added holds the CORS response headers this backend answered with.
	Added map[string]string `json:"added_response_headers"`
	// Verdict says in plain words whether the gateway forwarded CORS
	// request headers and what follows from it.
	Verdict string `json:"verdict"`
}

// Wrap returns a handler that serves the fake CORS backend at Path and
// below (any method), and passes every other request, and the Reserved
// sub-paths, to next. logger gets one DEBUG line per request it serves;
// nil discards them.
//
// Mount it outside the gateway's CORS layer, so that its answers are
// exactly what a backend with its own CORS layer sends.
func Wrap(next http.Handler, logger logging.Logger) http.Handler {
	if logger == nil {
		logger = logging.NoOp
	}
	return &handler{next: next, logger: logger}
}

type handler struct {
	next   http.Handler
	logger logging.Logger
}

// Serves reports whether the fake backend answers path (rather than the
// handler it wraps).
func Serves(path string) bool {
	if path != Path && !strings.HasPrefix(path, Path+"/") {
		return false
	}
	for _, r := range Reserved {
		if path == r || strings.HasPrefix(path, r+"/") {
			return false
		}
	}
	return true
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !Serves(r.URL.Path) {
		h.next.ServeHTTP(w, r)
		return
	}
	serve(w, r, h.logger)
}

func serve(w http.ResponseWriter, r *http.Request, logger logging.Logger) {
	rep := Report{
		Backend:  Path,
		Method:   r.Method,
		Path:     r.URL.Path,
		Received: map[string]string{},
		Added:    map[string]string{},
	}
	var forwarded []string
	for _, name := range RequestHeaders {
		if vs := r.Header.Values(name); len(vs) > 0 {
			rep.Received[name] = strings.Join(vs, ", ")
			forwarded = append(forwarded, name)
		} else {
			rep.NotReceived = append(rep.NotReceived, name)
		}
	}
	origin := r.Header.Values("Origin")
	rep.OriginForwarded = len(origin) > 0
	rep.ViaGateway = r.Header.Get("X-Forwarded-Host") != ""

	acrm := r.Header.Get("Access-Control-Request-Method")
	preflight := r.Method == http.MethodOptions && rep.OriginForwarded && acrm != ""

	// The backend's own CORS layer: permissive, as many are; it echoes the
	// origin, so that it would also work with credentials.
	hdr := w.Header()
	if rep.OriginForwarded {
		set := func(k, v string) {
			hdr.Set(k, v)
			rep.Added[k] = v
		}
		allow := origin[0]
		if allow == "" {
			allow = "*"
		}
		set("Access-Control-Allow-Origin", allow)
		if preflight {
			set("Access-Control-Allow-Methods", acrm)
			if acrh := r.Header.Values("Access-Control-Request-Headers"); len(acrh) > 0 {
				set("Access-Control-Allow-Headers", strings.Join(acrh, ", "))
			}
			set("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
		} else {
			set("Vary", "Origin")
		}
	}
	rep.Verdict = verdict(rep, forwarded)

	logger.Debug(LogPrefix, r.Method, r.URL.RequestURI(), "CORS request headers:", rep.Received,
		"via gateway:", rep.ViaGateway, "answered with:", rep.Added)

	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	body, err := json.MarshalIndent(rep, "", "  ")
	if err != nil { // cannot happen: Report holds strings, bools and maps of strings
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(body, '\n'))
}

// verdict explains the report for a person.
func verdict(rep Report, forwarded []string) string {
	list := strings.Join(forwarded, ", ")
	switch {
	case rep.OriginForwarded:
		subject := "the gateway forwarded Origin to this backend"
		if !rep.ViaGateway {
			subject = "Origin reached this backend, not through a lura/KrakenD gateway (no X-Forwarded-Host)"
		}
		return subject + ", so this backend answered with its own Access-Control-Allow-Origin: " +
			"if the gateway also applies CORS, a browser would see two values (double CORS validation). " +
			"corsgate replaces the backend's CORS headers with its own; to stop forwarding them, " +
			"set \"strip_cors_request_headers\": true in the endpoint's security/cors block, " +
			"or list in the endpoint's input_headers only the headers the backend needs instead of \"*\" (leave Origin out), " +
			"or switch off the backend's own CORS layer. CORS request headers received: " + list
	case len(forwarded) > 0:
		subject := "the gateway forwarded " + list + " but not Origin"
		if !rep.ViaGateway {
			subject = list + " reached this backend but not Origin"
		}
		return subject + ", so this backend added no CORS headers: no double validation possible " +
			"(a CORS layer only answers requests that carry an Origin)"
	}
	return "no CORS request headers reached this backend, so it added no CORS headers: no double validation possible"
}
