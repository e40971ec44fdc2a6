package debug

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/explain"
	"github.com/corsgate/corsgate/internal/apierror"
)

// Paths of the explain endpoints.
const (
	ExplainPath = "/__debug/cors/explain"
	PolicyPath  = "/__debug/cors/policy"
	HARPath     = "/__debug/cors/har"
)

// DefaultHARMaxBytes bounds a HAR file posted to HARPath, unless
// Options.HARMaxBytes says otherwise.
const DefaultHARMaxBytes = 4 << 20

// Options tune the explain endpoints.
type Options struct {
	// HARMaxBytes bounds a HAR file posted to HARPath
	// (DefaultHARMaxBytes when not positive). Explaining one takes about
	// ten times its size in memory, and one is explained at a time.
	HARMaxBytes int64
}

// Explain serves GET ExplainPath and GET PolicyPath from the snapshot the
// CORS layer uses at the moment of the request (snapshot is usually
// (*core.Controller).Snapshot), and passes every other request to next.
//
// ExplainPath takes the query parameters origin, method, path, headers
// (comma-separated, or repeated) and credentials=true, and answers with
// explain.Explanation as JSON, or 400 in corsgate's error shape
// (package apierror: {"error", "reason", "errors": [{"path", "message"}]},
// one entry per malformed parameter, its path the parameter's name).
// PolicyPath answers with the effective policy of the service and of
// every endpoint. POST HARPath takes a HAR file as its body (and gateway=
// an origin to keep, optional) and answers with explain.HARReport, or 400
// when the body is not a HAR file.
func Explain(next http.Handler, snapshot func() *core.Snapshot, o Options) http.Handler {
	if o.HARMaxBytes <= 0 {
		o.HARMaxBytes = DefaultHARMaxBytes
	}
	har := &harExplainer{max: o.HARMaxBytes, busy: make(chan struct{}, 1)}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case ExplainPath, PolicyPath:
		case HARPath:
			har.serve(w, r, snapshot())
			return
		default:
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path+"; use GET", nil)
			return
		}
		s := snapshot()
		if r.URL.Path == PolicyPath {
			writeJSON(w, http.StatusOK, explain.Policies(s))
			return
		}
		q := r.URL.Query()
		in := explain.Request{
			Origin:      q.Get("origin"),
			Method:      q.Get("method"),
			Path:        q.Get("path"),
			Credentials: q.Get("credentials") == "true" || q.Get("credentials") == "1",
		}
		for _, h := range q["headers"] {
			in.Headers = append(in.Headers, strings.Split(h, ",")...)
		}
		in.Headers = append(in.Headers, q["header"]...)
		ex, err := explain.Explain(s, in)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error(), inputProblems(err))
			return
		}
		writeJSON(w, http.StatusOK, ex)
	})
}

// harExplainer serves POST HARPath: one HAR file at a time, each at most
// max bytes, so that a few large posts cannot take the gateway's memory.
type harExplainer struct {
	max  int64
	busy chan struct{} // holds a token while a file is explained
}

func (h *harExplainer) serve(w http.ResponseWriter, r *http.Request, s *core.Snapshot) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, "POST a HAR file (the browser's network panel, \"Save all as HAR\") as the body", nil)
		return
	}
	if r.ContentLength > h.max {
		writeError(w, http.StatusRequestEntityTooLarge, h.tooBig(), nil)
		return
	}
	select {
	case h.busy <- struct{}{}:
		defer func() { <-h.busy }()
	default:
		w.Header().Set("Retry-After", "2")
		writeError(w, http.StatusTooManyRequests, "another HAR file is being explained; the gateway explains one at a time: send it again in a moment", nil)
		return
	}
	rep, err := explain.HAR(s, http.MaxBytesReader(w, r.Body, h.max), r.URL.Query().Get("gateway"))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, h.tooBig(), nil)
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, err.Error(), nil)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (h *harExplainer) tooBig() string {
	return fmt.Sprintf("the HAR file is larger than %d KiB, this gateway's limit; export only the requests of the page that fails, or use corsgate explain --har FILE, which has no limit (corsgate run --har-max-bytes raises it)", h.max>>10)
}

// inputProblems lists the errors of explain.Request.Normalize, one per
// malformed parameter, its name as the path (the reason quotes the values).
func inputProblems(err error) []apierror.Problem {
	var list []apierror.Problem
	var joined interface{ Unwrap() []error }
	errs := []error{err}
	if errors.As(err, &joined) {
		errs = joined.Unwrap()
	}
	for _, e := range errs {
		var ie *explain.InputError
		if errors.As(e, &ie) {
			list = append(list, apierror.Problem{Path: ie.Field, Message: ie.Message})
		}
	}
	return list
}

// writeError answers an error in corsgate's error shape.
func writeError(w http.ResponseWriter, status int, reason string, problems []apierror.Problem) {
	b := apierror.New(status, reason)
	b.Errors = problems
	apierror.Write(w, status, b, 0)
}

func writeJSON(w http.ResponseWriter, status int, v any) { apierror.WriteJSON(w, status, v) }
