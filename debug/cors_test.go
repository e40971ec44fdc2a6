package debug

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/luraproject/lura/v2/logging"
)

// nextHandler records that the request was passed on.
type nextHandler struct{ paths []string }

func (n *nextHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n.paths = append(n.paths, r.URL.Path)
	w.Header().Set("X-Next", "yes")
	w.WriteHeader(http.StatusTeapot)
}

func serveOne(t *testing.T, h http.Handler, method, target string, kv ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(kv); i += 2 {
		req.Header.Add(kv[i], kv[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func decode(t *testing.T, rec *httptest.ResponseRecorder) Report {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want application/json", ct)
	}
	var rep Report
	if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
		t.Fatalf("body is not a JSON report: %v\n%s", err, rec.Body)
	}
	return rep
}

func corsResponseHeaders(h http.Header) []string {
	var out []string
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			out = append(out, k)
		}
	}
	return out
}

func TestActualWithOrigin(t *testing.T) {
	next := &nextHandler{}
	h := Wrap(next, nil)
	rec := serveOne(t, h, http.MethodGet, "/__debug/cors?x=1",
		"Origin", "http://localhost:5173",
		"Sec-Fetch-Site", "cross-site",
		"Sec-Fetch-Mode", "cors",
		"Sec-Fetch-Dest", "empty",
		"Referer", "http://localhost:5173/app",
		"X-Forwarded-Host", "gateway:8080",
		"X-Other", "not reported")
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", rec.Code)
	}
	if len(next.paths) != 0 {
		t.Fatalf("request passed on to next: %v", next.paths)
	}
	if got := rec.Header().Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != "http://localhost:5173" {
		t.Errorf("Access-Control-Allow-Origin = %q, want the request's origin once", got)
	}
	if got := rec.Header().Values("Vary"); len(got) != 1 || got[0] != "Origin" {
		t.Errorf("Vary = %q, want [Origin]", got)
	}
	if got := rec.Header().Get("Access-Control-Allow-Methods"); got != "" {
		t.Errorf("an actual response carries Access-Control-Allow-Methods %q", got)
	}

	rep := decode(t, rec)
	want := map[string]string{
		"Origin":         "http://localhost:5173",
		"Sec-Fetch-Site": "cross-site",
		"Sec-Fetch-Mode": "cors",
		"Sec-Fetch-Dest": "empty",
		"Referer":        "http://localhost:5173/app",
	}
	if len(rep.Received) != len(want) {
		t.Errorf("received = %v, want %v", rep.Received, want)
	}
	for k, v := range want {
		if rep.Received[k] != v {
			t.Errorf("received[%s] = %q, want %q", k, rep.Received[k], v)
		}
	}
	if _, ok := rep.Received["X-Other"]; ok {
		t.Errorf("received lists a header that is not CORS-relevant: %v", rep.Received)
	}
	if len(rep.NotReceived) != len(RequestHeaders)-len(want) {
		t.Errorf("not_received = %v", rep.NotReceived)
	}
	if !rep.OriginForwarded || !rep.ViaGateway {
		t.Errorf("origin_forwarded = %v, via_gateway = %v, want both true", rep.OriginForwarded, rep.ViaGateway)
	}
	if rep.Backend != Path || rep.Method != http.MethodGet || rep.Path != "/__debug/cors" {
		t.Errorf("backend/method/path = %q %q %q", rep.Backend, rep.Method, rep.Path)
	}
	if rep.Added["Access-Control-Allow-Origin"] != "http://localhost:5173" || rep.Added["Vary"] != "Origin" {
		t.Errorf("added_response_headers = %v", rep.Added)
	}
	for _, part := range []string{"the gateway forwarded Origin", "double CORS validation", "input_headers"} {
		if !strings.Contains(rep.Verdict, part) {
			t.Errorf("verdict %q does not contain %q", rep.Verdict, part)
		}
	}
}

func TestNoCORSHeadersWithoutOrigin(t *testing.T) {
	h := Wrap(&nextHandler{}, nil)
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		rec := serveOne(t, h, method, "/__debug/cors/no-headers", "X-Forwarded-Host", "gw")
		if rec.Code != http.StatusOK {
			t.Errorf("%s: status = %d, want 200", method, rec.Code)
		}
		if got := corsResponseHeaders(rec.Header()); len(got) != 0 {
			t.Errorf("%s without Origin: CORS response headers %v, want none", method, got)
		}
		if got := rec.Header().Values("Vary"); len(got) != 0 {
			t.Errorf("%s without Origin: Vary = %q, want none", method, got)
		}
		rep := decode(t, rec)
		if rep.OriginForwarded || len(rep.Received) != 0 || len(rep.Added) != 0 {
			t.Errorf("%s: report = %+v, want nothing received or added", method, rep)
		}
		if len(rep.NotReceived) != len(RequestHeaders) {
			t.Errorf("%s: not_received = %v, want all of %v", method, rep.NotReceived, RequestHeaders)
		}
		want := "no CORS request headers reached this backend, so it added no CORS headers: no double validation possible"
		if rep.Verdict != want {
			t.Errorf("%s: verdict = %q, want %q", method, rep.Verdict, want)
		}
		if rep.Method != method || rep.Path != "/__debug/cors/no-headers" {
			t.Errorf("method/path = %q %q", rep.Method, rep.Path)
		}
	}
}

func TestFetchMetadataWithoutOrigin(t *testing.T) {
	// A same-origin GET carries Sec-Fetch-* but no Origin: no CORS answer.
	rec := serveOne(t, Wrap(&nextHandler{}, nil), http.MethodGet, "/__debug/cors/martian",
		"Sec-Fetch-Mode", "cors", "Sec-Fetch-Site", "same-origin", "X-Forwarded-Host", "gw")
	if got := corsResponseHeaders(rec.Header()); len(got) != 0 {
		t.Errorf("CORS response headers %v, want none without Origin", got)
	}
	rep := decode(t, rec)
	if rep.OriginForwarded {
		t.Error("origin_forwarded = true without an Origin")
	}
	for _, part := range []string{"the gateway forwarded Sec-Fetch-Site, Sec-Fetch-Mode but not Origin", "no double validation possible"} {
		if !strings.Contains(rep.Verdict, part) {
			t.Errorf("verdict %q does not contain %q", rep.Verdict, part)
		}
	}
}

func TestNotThroughAGateway(t *testing.T) {
	rec := serveOne(t, Wrap(&nextHandler{}, nil), http.MethodGet, "/__debug/cors", "Origin", "https://a.example")
	rep := decode(t, rec)
	if rep.ViaGateway {
		t.Error("via_gateway = true without X-Forwarded-Host")
	}
	if !strings.HasPrefix(rep.Verdict, "Origin reached this backend, not through a lura/KrakenD gateway") {
		t.Errorf("verdict = %q", rep.Verdict)
	}
}

func TestSeveralOriginLines(t *testing.T) {
	rec := serveOne(t, Wrap(&nextHandler{}, nil), http.MethodGet, "/__debug/cors",
		"Origin", "https://a.example", "Origin", "https://b.example")
	rep := decode(t, rec)
	if rep.Received["Origin"] != "https://a.example, https://b.example" {
		t.Errorf("received Origin = %q, want both lines joined", rep.Received["Origin"])
	}
	if got := rec.Header().Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != "https://a.example" {
		t.Errorf("Access-Control-Allow-Origin = %q, want the first origin once", got)
	}
}

func TestPreflight(t *testing.T) {
	rec := serveOne(t, Wrap(&nextHandler{}, nil), http.MethodOptions, "/__debug/cors/martian",
		"Origin", "http://localhost:5173",
		"Access-Control-Request-Method", "PUT",
		"Access-Control-Request-Headers", "x-api-key, content-type")
	if rec.Code != http.StatusNoContent {
		t.Fatalf("status = %d, want 204", rec.Code)
	}
	if rec.Body.Len() != 0 {
		t.Errorf("preflight answer has a body: %q", rec.Body)
	}
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin":  "http://localhost:5173",
		"Access-Control-Allow-Methods": "PUT",
		"Access-Control-Allow-Headers": "x-api-key, content-type",
		"Vary":                         "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
	} {
		if got := rec.Header().Values(k); len(got) != 1 || got[0] != want {
			t.Errorf("%s = %q, want [%q]", k, got, want)
		}
	}

	// Without Access-Control-Request-Headers, no Allow-Headers.
	rec = serveOne(t, Wrap(&nextHandler{}, nil), http.MethodOptions, "/__debug/cors",
		"Origin", "http://localhost:5173", "Access-Control-Request-Method", "DELETE")
	if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Methods") != "DELETE" {
		t.Errorf("status %d, Allow-Methods %q", rec.Code, rec.Header().Get("Access-Control-Allow-Methods"))
	}
	if got := rec.Header().Values("Access-Control-Allow-Headers"); len(got) != 0 {
		t.Errorf("Access-Control-Allow-Headers = %q without a request for headers", got)
	}
}

func TestOptionsThatIsNotAPreflight(t *testing.T) {
	h := Wrap(&nextHandler{}, nil)
	// Origin but no Access-Control-Request-Method: CORS origin answer only.
	rec := serveOne(t, h, http.MethodOptions, "/__debug/cors", "Origin", "http://localhost:5173")
	if rec.Code != http.StatusNoContent {
		t.Errorf("status = %d, want 204", rec.Code)
	}
	if rec.Header().Get("Access-Control-Allow-Origin") != "http://localhost:5173" {
		t.Errorf("Access-Control-Allow-Origin = %q", rec.Header().Get("Access-Control-Allow-Origin"))
	}
	if got := rec.Header().Values("Access-Control-Allow-Methods"); len(got) != 0 {
		t.Errorf("Access-Control-Allow-Methods = %q on a non-preflight OPTIONS", got)
	}
	// Neither: no CORS headers at all.
	rec = serveOne(t, h, http.MethodOptions, "/__debug/cors", "Access-Control-Request-Method", "GET")
	if rec.Code != http.StatusNoContent {
		t.Errorf("status = %d, want 204", rec.Code)
	}
	if got := corsResponseHeaders(rec.Header()); len(got) != 0 {
		t.Errorf("CORS response headers %v on an OPTIONS without Origin", got)
	}
}

func TestHead(t *testing.T) {
	srv := httptest.NewServer(Wrap(&nextHandler{}, nil))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodHead, srv.URL+"/__debug/cors", nil)
	req.Header.Set("Origin", "http://localhost:5173")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" {
		t.Errorf("HEAD: status %d, Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

func TestPassThrough(t *testing.T) {
	for _, path := range []string{
		"/__debug/cors/explain",
		"/__debug/cors/explain/",
		"/__debug/cors/explain/more",
		"/__debug/cors/policy",
		"/__debug/cors/policy/x",
		"/__debug/",
		"/__debug/other",
		"/__debug/corsx",
		"/__debug",
		"/__health",
		"/users",
		"/",
	} {
		next := &nextHandler{}
		rec := serveOne(t, Wrap(next, nil), http.MethodGet, path, "Origin", "http://localhost:5173")
		if rec.Code != http.StatusTeapot || len(next.paths) != 1 || next.paths[0] != path {
			t.Errorf("%s: status %d, next saw %v; want it passed on untouched", path, rec.Code, next.paths)
		}
		if got := corsResponseHeaders(rec.Header()); len(got) != 0 {
			t.Errorf("%s: the wrapper added %v to a request it passed on", path, got)
		}
	}
	for _, path := range []string{"/__debug/cors", "/__debug/cors/", "/__debug/cors/martian", "/__debug/cors/no-headers", "/__debug/cors/a/b", "/__debug/cors/explainer"} {
		if !Serves(path) {
			t.Errorf("Serves(%q) = false, want true", path)
		}
	}
}

func TestLogsAtDebug(t *testing.T) {
	var buf bytes.Buffer
	logger, err := logging.NewLogger("DEBUG", &buf, "[TEST]")
	if err != nil {
		t.Fatal(err)
	}
	serveOne(t, Wrap(&nextHandler{}, logger), http.MethodGet, "/__debug/cors/martian?q=1", "Origin", "http://localhost:5173")
	out := buf.String()
	for _, part := range []string{"DEBUG:", LogPrefix, "GET", "/__debug/cors/martian?q=1", "http://localhost:5173"} {
		if !strings.Contains(out, part) {
			t.Errorf("log %q does not contain %q", out, part)
		}
	}

	buf.Reset()
	logger, _ = logging.NewLogger("INFO", &buf, "[TEST]")
	serveOne(t, Wrap(&nextHandler{}, logger), http.MethodGet, "/__debug/cors")
	if buf.Len() != 0 {
		t.Errorf("logged at INFO level: %q", buf.String())
	}
}
