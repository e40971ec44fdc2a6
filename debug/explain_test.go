package debug

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/explain"
	"github.com/corsgate/corsgate/plugin/plugintest"
)

func explainSnapshot(t *testing.T) *core.Snapshot {
	t.Helper()
	return plugintest.Gateway{
		CORS: plugintest.Block{"allow_origins": []any{"https://app.example.com"}, "allow_headers": []any{"Content-Type"}},
		Endpoints: []plugintest.Endpoint{
			plugintest.EP("GET", "/orders", plugintest.Block{"allow_headers": []any{"Content-Type", "X-Api-Key"}}),
		},
	}.Snapshot(t)
}

func TestExplainEndpoint(t *testing.T) {
	s := explainSnapshot(t)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := Explain(next, func() *core.Snapshot { return s }, Options{})

	get := func(target string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
		return w
	}

	w := get("/__debug/cors/explain?origin=https://app.example.com&method=GET&path=/orders&headers=x-api-key,x-secret&credentials=true")
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("explain: %d %v", w.Code, w.Header())
	}
	var ex explain.Explanation
	if err := json.Unmarshal(w.Body.Bytes(), &ex); err != nil {
		t.Fatal(err)
	}
	if ex.Endpoint.Endpoint != "GET /orders" || ex.Policy.Source != "endpoint" || len(ex.Policy.Inherited) != 1 || ex.Policy.Inherited[0] != "allow_origins" {
		t.Errorf("endpoint/policy: %+v %+v", ex.Endpoint, ex.Policy)
	}
	if len(ex.Headers) != 2 || !ex.Headers[0].Allowed || ex.Headers[1].Allowed ||
		ex.Headers[1].Reason != `header "x-secret" is not in allow_headers of GET /orders (set in the configuration file); add it there` {
		t.Errorf("headers: %+v", ex.Headers)
	}
	if ex.Verdict.Preflight != "refused" || ex.PreflightResponse == nil || ex.PreflightResponse.Status != 204 {
		t.Errorf("verdict %+v, preflight %+v", ex.Verdict, ex.PreflightResponse)
	}
	if ex.Credentials.Allowed {
		t.Errorf("credentials sent but not allowed: %+v", ex.Credentials)
	}

	// A simple request needs no preflight; the actual response is shown.
	w = get("/__debug/cors/explain?origin=https://app.example.com&path=/orders")
	if !strings.Contains(w.Body.String(), `"preflight": "not needed"`) || !strings.Contains(w.Body.String(), `"Access-Control-Allow-Origin": "https://app.example.com"`) {
		t.Errorf("simple request:\n%s", w.Body)
	}

	w = get("/__debug/cors/policy")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"endpoint": "GET /orders"`) || !strings.Contains(w.Body.String(), `"source": "endpoint"`) {
		t.Errorf("policy: %d\n%s", w.Code, w.Body)
	}

	if w = get("/__debug/cors/explain?path=orders"); w.Code != 400 || !strings.Contains(w.Body.String(), "must start with /") {
		t.Errorf("bad path: %d %s", w.Code, w.Body)
	}
	// Malformed input is refused with every problem, each naming its field.
	w = get("/__debug/cors/explain?origin=localhost:5173&method=get&path=/orders&headers=Content-Type:%20application/json")
	var bad struct {
		Error, Reason string
		Errors        []struct{ Path, Message string }
	}
	if err := json.Unmarshal(w.Body.Bytes(), &bad); err != nil || w.Code != 400 || bad.Error != "bad_request" || len(bad.Errors) != 3 ||
		bad.Errors[0].Path != "origin" || bad.Errors[1].Path != "method" || bad.Errors[2].Path != "header" ||
		!strings.Contains(bad.Errors[0].Message, `did you mean "http://localhost:5173"?`) || !strings.Contains(bad.Reason, `"localhost:5173"`) {
		t.Errorf("malformed input: %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/__debug/cors/explain", nil))
	if w.Code != 405 || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d %v", w.Code, w.Header())
	}
	if w = get("/orders"); w.Code != http.StatusTeapot {
		t.Errorf("other paths must reach next, got %d", w.Code)
	}
}

// POST /__debug/cors/har explains a HAR file with the snapshot in use.
// One HAR file is explained at a time: a second one meanwhile gets 429
// with Retry-After.
func TestHAREndpointOneAtATime(t *testing.T) {
	s := plugintest.Gateway{CORS: plugintest.Block{"allow_origins": []any{"https://app.example.com"}}}.Snapshot(t)
	h := Explain(http.NotFoundHandler(), func() *core.Snapshot { return s }, Options{})
	pr, pw := io.Pipe()
	first := make(chan int)
	go func() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", HARPath, pr))
		first <- w.Code
	}()
	pw.Write([]byte(`{"log": {"entries": [`)) // the first one is being read
	var second *httptest.ResponseRecorder
	for i := 0; i < 100; i++ {
		second = httptest.NewRecorder()
		h.ServeHTTP(second, httptest.NewRequest("POST", HARPath, strings.NewReader(`{"log": {"entries": []}}`)))
		if second.Code == 429 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if second.Code != 429 || second.Header().Get("Retry-After") == "" {
		t.Errorf("a HAR while another is explained: %d %v", second.Code, second.Header())
	}
	pw.Write([]byte(`]}}`))
	pw.Close()
	if code := <-first; code != 200 {
		t.Errorf("the first HAR: %d", code)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", HARPath, strings.NewReader(`{"log": {"entries": []}}`)))
	if w.Code != 200 {
		t.Errorf("a HAR after the first: %d", w.Code)
	}
}

func TestHAREndpoint(t *testing.T) {
	s := plugintest.Gateway{
		CORS:      plugintest.Block{"allow_origins": []any{"https://app.example.com"}, "allow_methods": []any{"GET", "PUT"}, "allow_headers": []any{"Content-Type"}},
		Endpoints: []plugintest.Endpoint{plugintest.EP("GET", "/users", nil), plugintest.EP("PUT", "/users/{id}", nil)},
	}.Snapshot(t)
	h := Explain(http.NotFoundHandler(), func() *core.Snapshot { return s }, Options{})
	post := func(body string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", HARPath+"?gateway=https://api.example.com", strings.NewReader(body)))
		return w
	}
	har, err := os.ReadFile("../docs/examples/spa.har")
	if err != nil {
		t.Fatal(err)
	}
	w := post(string(har))
	var rep explain.HARReport
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &rep) != nil || rep.Summary.Entries != 6 || rep.Summary.Explained != 3 || rep.Entries[4].Skipped != "not a request to https://api.example.com" {
		t.Errorf("HAR: %d %s", w.Code, w.Body.String())
	}
	if w := post(`{"log": {"entries": [` + strings.Repeat(" ", 5<<20) + `]}}`); w.Code != 413 || !strings.Contains(w.Body.String(), "larger than 4096 KiB") {
		t.Errorf("a HAR over the default 4 MiB: %d %.200s", w.Code, w.Body.String())
	}
	// A limit raised by the option.
	big := Explain(http.NotFoundHandler(), func() *core.Snapshot { return s }, Options{HARMaxBytes: 8 << 20})
	w = httptest.NewRecorder()
	big.ServeHTTP(w, httptest.NewRequest("POST", HARPath, strings.NewReader(`{"log": {"entries": [`+strings.Repeat(" ", 5<<20)+`]}}`)))
	if w.Code != 200 {
		t.Errorf("a 5 MiB HAR under an 8 MiB limit: %d %.200s", w.Code, w.Body.String())
	}
	if w := post(`{"not": "a har"}`); w.Code != 400 || !strings.Contains(w.Body.String(), "not a HAR file") {
		t.Errorf("not a HAR: %d %s", w.Code, w.Body.String())
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", HARPath, nil))
	if w.Code != 405 || w.Header().Get("Allow") != "POST" {
		t.Errorf("GET: %d %v", w.Code, w.Header())
	}
}
