package explain_test

import (
	"strings"
	"testing"

	"github.com/corsgate/corsgate/engine/explain"
)

// The text form: the verdict, the request, the policy and its source, and
// every failing check with its fix, the ones behind the first marked.
func TestText(t *testing.T) {
	s := failGateway().Snapshot(t)
	layer := &explain.LayerUsed{From: "cache", Revision: 3, Note: "the run-time layer of revision 3, as the gateway last applied it"}
	tests := []struct {
		name  string
		in    explain.Request
		layer *explain.LayerUsed
		want  string
	}{
		{"every failure", explain.Request{Origin: "https://evil.example", Method: "DELETE", Path: "/users/7", Headers: []string{"X-Api-Key"}, Credentials: true}, layer, `blocked: the browser stops at the preflight; the request itself is never sent
request: DELETE /users/7 from https://evil.example, headers x-api-key, with credentials
policy:  DELETE /users/{id} (endpoints[2]) inherits the service-level block
source:  the run-time layer of revision 3, as the gateway last applied it
failing checks: 4 (fix them all; the gateway stops at the first and names only it)
  1. origin "https://evil.example" is not in allow_origins of the service-level policy (set in the configuration file)
     fix: add it there
  2. also: method "DELETE" is not in allow_methods ["GET", "PUT"] of the service-level policy (set in the configuration file)
     fix: add it there
  3. also: header "x-api-key" is not in allow_headers of the service-level policy (set in the configuration file)
     fix: add it there
  4. also: the page sends credentials but allow_credentials is false in DELETE /users/{id} (inherited from the service-level block), so the browser refuses the answer
     fix: set allow_credentials: true (with exact origins), or fetch without credentials
`},
		{"exempt endpoint, no layer known", explain.Request{Origin: "https://app.example.com", Path: "/public"}, nil, `blocked: the gateway adds no CORS headers, so the page cannot read the answer
request: GET /public from https://app.example.com
policy:  GET /public (endpoints[3]): exempt from CORS (disable: true)
failing check:
  1. the gateway adds no CORS headers to GET /public (disable: true), so a browser on another origin cannot read the answer (unless the backend sends its own CORS headers)
     fix: remove disable: true from the endpoint's security/cors block, or have the backend send the CORS headers
`},
		{"credentials only: the browser's check", explain.Request{Origin: "https://app.example.com", Path: "/users/7", Credentials: true}, layer, `blocked: the browser sends the request (preflight: not needed) but does not let the page read the answer
request: GET /users/7 from https://app.example.com, with credentials
policy:  GET /users/{id} (endpoints[0]) inherits the service-level block
source:  the run-time layer of revision 3, as the gateway last applied it
failing check:
  1. the page sends credentials but allow_credentials is false in GET /users/{id} (inherited from the service-level block), so the browser refuses the answer
     fix: set allow_credentials: true (with exact origins), or fetch without credentials
`},
		{"allowed with a preflight", explain.Request{Origin: "https://app.example.com", Method: "PUT", Path: "/users/7", Headers: []string{"Content-Type"}}, layer, `allowed (preflight: allowed): the browser lets the page read the answer
request: PUT /users/7 from https://app.example.com, headers content-type
policy:  PUT /users/{id} (endpoints[1]) inherits the service-level block
source:  the run-time layer of revision 3, as the gateway last applied it
`},
		{"no endpoint", explain.Request{Origin: "https://app.example.com", Method: "PUT", Path: "/orders"}, nil, `allowed (preflight: allowed): the browser lets the page read the answer, but no endpoint serves PUT /orders: the gateway answers 404 Not Found (with CORS headers, so the page can read the status)
request: PUT /orders from https://app.example.com
policy:  the service-level block, as no endpoint serves PUT /orders
`},
		{"path served for other methods", explain.Request{Origin: "https://app.example.com", Method: "PATCH", Path: "/users/7"}, nil, `blocked: the browser stops at the preflight; the request itself is never sent
request: PATCH /users/7 from https://app.example.com
policy:  the service-level block, as no endpoint serves PATCH /users/7 (the path is served for DELETE, GET, PUT)
failing check:
  1. method "PATCH" is not in allow_methods ["GET", "PUT"] of the service-level policy (set in the configuration file)
     fix: add it there
`},
		{"same origin", explain.Request{Path: "/users/7"}, nil, `allowed (preflight: not needed): no Origin: not a cross-origin request
request: GET /users/7 without Origin (same-origin)
policy:  GET /users/{id} (endpoints[0]) inherits the service-level block
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := mustExplain(t, s, tt.in)
			ex.Layer = tt.layer
			if got := ex.Text(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// A refused HAR entry's line names the failures behind the first one.
func TestHARLineNamesEveryFailure(t *testing.T) {
	// The PUT of the example file fails on its method and on its header.
	g := harGateway("Content-Type")
	g.CORS["allow_methods"] = []any{"GET", "POST"}
	rep := readHAR(t, g)
	line := rep.Entries[2].Line()
	if !strings.Contains(line, `refused (the browser stops at the preflight: method "PUT" is not in allow_methods`) || !strings.HasSuffix(line, `; also failing: header "x-trace"`) {
		t.Errorf("line %q", line)
	}
	if line := rep.Entries[3].Line(); strings.Contains(line, "also failing") {
		t.Errorf("an allowed entry: %q", line)
	}
}
