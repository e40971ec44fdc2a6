package debug

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/corsgate/corsgate/plugin"
)

// Paths of the explain endpoints.
const (
	ExplainPath = "/__debug/cors/explain"
	PolicyPath  = "/__debug/cors/policy"
)

// Explain serves GET ExplainPath and GET PolicyPath from the policies the
// CORS layer uses at the moment of the request (table is usually
// (*plugin.Handler).Table), and passes every other request to next.
//
// ExplainPath takes the query parameters origin, method, path, headers
// (comma-separated, or repeated) and credentials=true, and answers with
// plugin.Explanation as JSON. PolicyPath answers with the effective
// policy of the service and of every endpoint.
func Explain(next http.Handler, table func() *plugin.Table) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case ExplainPath, PolicyPath:
		default:
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		t := table()
		if r.URL.Path == PolicyPath {
			writeJSON(w, http.StatusOK, t.Policies())
			return
		}
		q := r.URL.Query()
		in := plugin.ExplainInput{
			Origin:      q.Get("origin"),
			Method:      q.Get("method"),
			Path:        q.Get("path"),
			Credentials: q.Get("credentials") == "true" || q.Get("credentials") == "1",
		}
		for _, h := range q["headers"] {
			in.Headers = append(in.Headers, strings.Split(h, ",")...)
		}
		for _, h := range q["header"] {
			in.Headers = append(in.Headers, h)
		}
		if in.Path != "" && !strings.HasPrefix(in.Path, "/") {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "path must start with /, for example path=/users/42"})
			return
		}
		writeJSON(w, http.StatusOK, t.Explain(in))
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
