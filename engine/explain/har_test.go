package explain_test

import (
	"os"
	"strings"
	"testing"

	"github.com/corsgate/corsgate/engine/explain"
	"github.com/corsgate/corsgate/plugin/plugintest"
)

// A HAR export from a page: each cross-origin request is explained with
// the configuration, the others say why they are left out.
// harGateway allows the SPA, with the headers given.
func harGateway(headers ...any) plugintest.Gateway {
	return plugintest.Gateway{
		CORS: plugintest.Block{"allow_origins": []any{"https://app.example.com"}, "allow_methods": []any{"GET", "POST", "PUT"}, "allow_headers": headers, "allow_credentials": true},
		Endpoints: []plugintest.Endpoint{
			plugintest.EP("GET", "/users", nil), plugintest.EP("POST", "/users", nil),
			plugintest.EP("GET", "/users/{id}", nil), plugintest.EP("PUT", "/users/{id}", nil),
		},
	}
}

func readHAR(t *testing.T, g plugintest.Gateway) explain.HARReport {
	t.Helper()
	f, err := os.Open("../../docs/examples/spa.har") // the example of docs/commands.md
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := explain.HAR(g.Snapshot(t), f, "https://api.example.com")
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestHAR(t *testing.T) {
	rep := readHAR(t, harGateway("Content-Type"))
	if rep.Summary != (explain.HARSummary{Entries: 6, Explained: 3, Allowed: 1, Refused: 2, Skipped: 3, Changed: 0}) {
		t.Errorf("summary %+v", rep.Summary)
	}
	want := []struct {
		skipped string // part of Skipped, or "" when explained
		actual  string
		reason  string
	}{
		{skipped: "no Origin header"},
		{skipped: "a preflight"},
		{actual: "refused", reason: "x-trace"},
		{actual: "allowed"},
		{skipped: "not a request to https://api.example.com"},
		{actual: "refused", reason: "https://evil.example"},
	}
	for i, w := range want {
		e := rep.Entries[i]
		switch {
		case w.skipped != "":
			if !strings.Contains(e.Skipped, w.skipped) || e.Explanation != nil {
				t.Errorf("entry %d: skipped %q, explanation %v; want skipped for %q", i, e.Skipped, e.Explanation != nil, w.skipped)
			}
		case e.Explanation == nil:
			t.Errorf("entry %d: not explained: %s", i, e.Skipped)
		case e.Explanation.Verdict.Actual != w.actual || !strings.Contains(strings.ToLower(e.Explanation.Verdict.Reason), w.reason):
			t.Errorf("entry %d: %+v, want %s with %q", i, e.Explanation.Verdict, w.actual, w.reason)
		}
	}
	// The page's own headers: Content-Type (JSON) and X-Trace, not the
	// browser's Origin, Referer or sec-ch-ua; credentials from the cookies.
	if got := rep.Entries[2].Explanation.Request.Headers; strings.Join(got, ",") != "content-type,x-trace" {
		t.Errorf("headers of entry 2: %q", got)
	}
	// The PUT was blocked at its preflight, so Chrome recorded it with
	// provisional headers, without Origin: the preflight's is used.
	if rep.Entries[2].OriginFrom != "preflight" || rep.Entries[2].Explanation.Request.Origin != "https://app.example.com" || rep.Entries[3].OriginFrom != "header" {
		t.Errorf("origins: %+v / %+v", rep.Entries[2], rep.Entries[3])
	}
	if !rep.Entries[3].Explanation.Request.Credentials || rep.Entries[3].Explanation.Request.Path != "/users" {
		t.Errorf("entry 3's request: %+v", rep.Entries[3].Explanation.Request)
	}
	// Recorded: the PUT failed (status 0); the GET was allowed; the config
	// still refuses the PUT, and evil.example was refused then too.
	if rep.Entries[2].Recorded.Status != 0 || rep.Entries[2].Changed || !rep.Entries[3].Recorded.Allowed {
		t.Errorf("recorded: %+v %+v", rep.Entries[2], rep.Entries[3].Recorded)
	}
	if rep.Entries[5].Changed || rep.Entries[5].Recorded.Allowed {
		t.Errorf("entry 5: %+v", rep.Entries[5])
	}

	// With X-Trace allowed, the PUT that failed then is allowed now: the
	// entry says the configuration decides otherwise than recorded.
	fixed := readHAR(t, harGateway("Content-Type", "X-Trace"))
	if e := fixed.Entries[2]; e.Explanation == nil || e.Explanation.Verdict.Actual != "allowed" || !e.Changed || fixed.Summary.Changed != 1 {
		t.Errorf("with X-Trace allowed: %+v, summary %+v", e, fixed.Summary)
	}
}

func TestHARRefusesOtherFiles(t *testing.T) {
	s := plugintest.Gateway{CORS: plugintest.Block{"allow_origins": []any{"https://app.example.com"}}}.Snapshot(t)
	for _, in := range []string{`not json`, `{"log": {}}`, `[1, 2]`} {
		if _, err := explain.HAR(s, strings.NewReader(in), ""); err == nil || !strings.Contains(err.Error(), "not a HAR file") {
			t.Errorf("%s: %v", in, err)
		}
	}
}

// Without a preflight, a blocked request's origin comes from its Referer,
// when that names another origin.
func TestHAROriginFromReferer(t *testing.T) {
	har := `{"log": {"entries": [
		{"request": {"method": "GET", "url": "https://api.example.com/users", "headers": [{"name": "Referer", "value": "https://app.example.com/page"}]}, "response": {"status": 0, "headers": []}},
		{"request": {"method": "GET", "url": "https://api.example.com/users", "headers": [{"name": "Referer", "value": "https://api.example.com/docs"}]}, "response": {"status": 200, "headers": []}},
		{"request": {"method": "GET", "url": "https://api.example.com/logo.png", "headers": [{"name": "Referer", "value": "https://app.example.com/page"}]}, "response": {"status": 200, "headers": []}},
		{"request": {"method": "GET", "url": "wss://api.example.com/socket", "headers": [{"name": "Origin", "value": "https://app.example.com"}]}, "response": {"status": 101, "headers": []}}
	]}}`
	rep, err := explain.HAR(harGateway("Content-Type").Snapshot(t), strings.NewReader(har), "")
	if err != nil {
		t.Fatal(err)
	}
	if e := rep.Entries[0]; e.OriginFrom != "referer" || e.Explanation == nil || e.Explanation.Request.Origin != "https://app.example.com" || !e.Changed {
		t.Errorf("entry 0: %+v", e)
	}
	if e := rep.Entries[1]; e.Explanation != nil || !strings.Contains(e.Skipped, "no Origin header") {
		t.Errorf("entry 1 (same origin as its Referer): %+v", e)
	}
	// An image loaded from another page has a Referer and no CORS: it is
	// not a blocked request.
	if e := rep.Entries[2]; e.Explanation != nil || !strings.Contains(e.Skipped, "no Origin header") {
		t.Errorf("entry 2 (an image): %+v", e)
	}
	if e := rep.Entries[3]; e.Explanation != nil || !strings.Contains(e.Skipped, "a WebSocket") {
		t.Errorf("entry 3 (a WebSocket): %+v", e)
	}
}
