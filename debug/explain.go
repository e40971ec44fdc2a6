package debug

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/explain"
)

// Paths of the explain endpoints.
const (
	ExplainPath = "/__debug/cors/explain"
	PolicyPath  = "/__debug/cors/policy"
	HARPath     = "/__debug/cors/har"
)

// maxHARBytes bounds a HAR file posted to HARPath.
const maxHARBytes = 32 << 20

// Explain serves GET ExplainPath and GET PolicyPath from the snapshot the
// CORS layer uses at the moment of the request (snapshot is usually
// (*core.Controller).Snapshot), and passes every other request to next.
//
// ExplainPath takes the query parameters origin, method, path, headers
// (comma-separated, or repeated) and credentials=true, and answers with
// explain.Explanation as JSON, or 400 with {"error": ..., "problems":
// [{"field", "value", "message"}]} when a parameter is malformed.
// PolicyPath answers with the effective policy of the service and of
// every endpoint. POST HARPath takes a HAR file as its body (and gateway=
// an origin to keep, optional) and answers with explain.HARReport, or 400
// when the body is not a HAR file.
func Explain(next http.Handler, snapshot func() *core.Snapshot) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case ExplainPath, PolicyPath:
		case HARPath:
			explainHAR(w, r, snapshot())
			return
		default:
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
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
			writeJSON(w, http.StatusBadRequest, inputProblems(err))
			return
		}
		writeJSON(w, http.StatusOK, ex)
	})
}

// explainHAR serves POST HARPath.
func explainHAR(w http.ResponseWriter, r *http.Request, s *core.Snapshot) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "POST a HAR file (the browser's network panel, \"Save all as HAR\") as the body"})
		return
	}
	rep, err := explain.HAR(s, http.MaxBytesReader(w, r.Body, maxHARBytes), r.URL.Query().Get("gateway"))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": fmt.Sprintf("the HAR file is larger than %d MiB; export only the requests of the page that fails", maxHARBytes>>20)})
		return
	case err != nil:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// problem is one malformed query parameter, as the explain endpoint
// reports it.
type problem struct {
	Field   string `json:"field"`
	Value   string `json:"value"`
	Message string `json:"message"`
}

// inputProblems renders the errors of explain.Request.Normalize.
func inputProblems(err error) map[string]any {
	var list []problem
	var joined interface{ Unwrap() []error }
	errs := []error{err}
	if errors.As(err, &joined) {
		errs = joined.Unwrap()
	}
	for _, e := range errs {
		var ie *explain.InputError
		if errors.As(e, &ie) {
			list = append(list, problem{Field: ie.Field, Value: ie.Value, Message: ie.Message})
		}
	}
	return map[string]any{"error": err.Error(), "problems": list}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
