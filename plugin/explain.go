package plugin

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/corsgate/corsgate/plugin/policy"
)

// ExplainInput describes a request a page is about to make.
type ExplainInput struct {
	Origin      string   `json:"origin"`
	Method      string   `json:"method"`
	Path        string   `json:"path"`
	Headers     []string `json:"headers"`
	Credentials bool     `json:"credentials"`
}

// Explanation says what the gateway does with a request and why, for a
// person debugging a failing preflight. GET /__debug/cors/explain and
// corsgate explain both print it as JSON.
type Explanation struct {
	Request           ExplainInput      `json:"request"`
	Endpoint          ExplainedEndpoint `json:"endpoint"`
	Policy            ExplainedPolicy   `json:"policy"`
	Origin            Verdict           `json:"origin"`
	Method            Verdict           `json:"method"`
	Headers           []HeaderVerdict   `json:"headers"`
	Credentials       Verdict           `json:"credentials"`
	Verdict           Summary           `json:"verdict"`
	PreflightResponse *Response         `json:"preflight_response,omitempty"`
	ActualResponse    *Response         `json:"actual_response,omitempty"`
}

// ExplainedEndpoint is the endpoint a request resolves to.
type ExplainedEndpoint struct {
	Matched  bool     `json:"matched"`
	Endpoint string   `json:"endpoint,omitempty"`
	Index    *int     `json:"index,omitempty"`
	Served   []string `json:"methods_served_on_path,omitempty"`
	Note     string   `json:"note"`
}

// ExplainedPolicy says which policy applies and where its keys come from.
type ExplainedPolicy struct {
	// Source is "service", "endpoint" (the endpoint's own block merged over
	// the service block), "exempt" (disable: true) or "none" (no CORS).
	Source    string   `json:"source"`
	OwnKeys   []string `json:"own_keys,omitempty"`
	Inherited []string `json:"inherited_keys,omitempty"`
	Effective any      `json:"effective,omitempty"`
}

// Verdict is the outcome of one check.
type Verdict struct {
	Allowed bool   `json:"allowed"`
	Rule    string `json:"rule,omitempty"`
	Reason  string `json:"reason"`
}

// HeaderVerdict is the outcome for one requested header.
type HeaderVerdict struct {
	Name string `json:"name"`
	Verdict
}

// Summary is the overall outcome.
type Summary struct {
	// Preflight is "not needed", "allowed", "refused" or "not answered by CORS".
	Preflight string `json:"preflight"`
	// Actual is "allowed" or "refused" (by the browser or by the gateway).
	Actual string `json:"actual"`
	Reason string `json:"reason"`
}

// Response is the answer the gateway would send.
type Response struct {
	Status  int               `json:"status,omitempty"`
	Note    string            `json:"note,omitempty"`
	Headers map[string]string `json:"headers"`
}

// safelisted request headers never trigger a preflight (Content-Type only
// with a form or text/plain value, which Explain cannot know).
var safelisted = []string{"accept", "accept-language", "content-language", "range"}

// Explain works out what the gateway and the browser would do with in.
func (t *Table) Explain(in ExplainInput) Explanation {
	if in.Method == "" {
		in.Method = http.MethodGet
	}
	if in.Path == "" {
		in.Path = "/"
	}
	var headers []string
	for _, h := range in.Headers {
		for _, n := range strings.Split(h, ",") {
			if n = strings.ToLower(strings.TrimSpace(n)); n != "" && !slices.Contains(headers, n) {
				headers = append(headers, n)
			}
		}
	}
	in.Headers = headers
	ex := Explanation{Request: in, Headers: []HeaderVerdict{}}

	p, scope := t.explainRoute(&ex)
	if p == nil {
		ex.Origin = Verdict{Reason: "CORS does not apply, so no origin is checked"}
		ex.Method = Verdict{Reason: "CORS does not apply"}
		ex.Credentials = Verdict{Reason: "CORS does not apply"}
		router := "the router answers it 405 or 404 (router.auto_options is off)"
		if t.gateway.AutoOptions {
			router = "router.auto_options answers it 200 with Allow and no CORS headers"
		}
		ex.Verdict = Summary{Preflight: "not answered by CORS", Actual: "refused",
			Reason: "the gateway adds no CORS headers to " + scope + ", so a browser on another origin cannot read the answer (unless the backend sends its own CORS headers); a preflight goes to the router: " + router}
		return ex
	}
	ex.Policy.Effective = p.Source()

	// The checks one by one, phrased for a person.
	if rule := p.OriginRule(in.Origin); rule != "" {
		ex.Origin = Verdict{Allowed: true, Rule: rule, Reason: fmt.Sprintf("origin %q is allowed by %q in %s", in.Origin, rule, scope)}
	} else if in.Origin == "" {
		ex.Origin = Verdict{Reason: "no origin given: a same-origin request needs no CORS"}
	} else {
		ex.Origin = Verdict{Reason: fmt.Sprintf("origin %q is not in allow_origins of %s; add it there", in.Origin, scope)}
	}
	if p.AllowsMethod(in.Method) {
		ex.Method = Verdict{Allowed: true, Reason: fmt.Sprintf("method %s is in allow_methods %s", in.Method, jsonList(p.Methods()))}
	} else {
		ex.Method = Verdict{Reason: fmt.Sprintf("method %s is not in allow_methods %s of %s; add it there", in.Method, jsonList(p.Methods()), scope)}
	}
	needsPreflight := in.Method != http.MethodGet && in.Method != http.MethodHead && in.Method != http.MethodPost
	for _, h := range headers {
		v := HeaderVerdict{Name: h}
		if p.AllowsHeader(h) {
			v.Allowed, v.Reason = true, fmt.Sprintf("header %s is allowed by allow_headers of %s", h, scope)
		} else {
			v.Reason = fmt.Sprintf("header %s is not in allow_headers of %s; add it there", h, scope)
		}
		ex.Headers = append(ex.Headers, v)
		needsPreflight = needsPreflight || !slices.Contains(safelisted, h)
	}
	switch {
	case !in.Credentials:
		ex.Credentials = Verdict{Allowed: true, Reason: "the request sends no credentials"}
	case p.Credentials():
		ex.Credentials = Verdict{Allowed: true, Reason: "allow_credentials is true: the gateway sends Access-Control-Allow-Credentials: true"}
	default:
		ex.Credentials = Verdict{Reason: fmt.Sprintf("the page sends credentials but allow_credentials is false in %s, so the browser refuses the answer; set allow_credentials: true (with exact origins), or fetch without credentials", scope)}
	}

	// The exact answers, computed by the code that serves real requests.
	origin := []string{in.Origin}
	if in.Origin != "" && needsPreflight {
		req := http.Header{"Origin": origin, "Access-Control-Request-Method": {in.Method}}
		if len(headers) > 0 {
			req["Access-Control-Request-Headers"] = []string{strings.Join(headers, ",")}
		}
		d := p.Preflight(req)
		resp := &Response{Headers: map[string]string{}}
		h := http.Header{}
		p.WritePreflight(h, req, d)
		switch {
		case d.Allowed() && p.Passthrough():
			resp.Note = "options_passthrough: after these headers the router answers (auto_options gives 200 with Allow)"
		case !d.Allowed() && p.Terminate():
			resp.Status = p.UnmatchedStatus()
		default:
			resp.Status = p.SuccessStatus()
		}
		if p.Debug() && !d.Allowed() {
			h.Set(ReasonHeader, p.Text(d))
		}
		for k := range h {
			resp.Headers[k] = strings.Join(h.Values(k), ", ")
		}
		ex.PreflightResponse = resp
		ex.Verdict.Preflight = "allowed"
		if !d.Allowed() {
			ex.Verdict.Preflight = "refused"
			ex.Verdict.Actual = "refused"
			ex.Verdict.Reason = "the browser stops at the preflight: " + firstFailure(ex)
		}
	} else {
		ex.Verdict.Preflight = "not needed"
	}

	actualReq := http.Header{}
	if in.Origin != "" {
		actualReq["Origin"] = origin
	}
	d := p.Actual(in.Method, actualReq)
	resp := &Response{Headers: map[string]string{}}
	h := http.Header{}
	p.WriteActual(h, actualReq["Origin"], d)
	if p.Terminate() && !d.Allowed() && d.Reason != policy.NoOrigin {
		resp.Status = p.UnmatchedStatus()
		resp.Note = "terminate_unmatched_request: answered by the gateway; the backend never sees it"
	} else {
		resp.Note = "status and other headers come from the backend; these are the CORS headers the gateway sets"
	}
	for k := range h {
		resp.Headers[k] = strings.Join(h.Values(k), ", ")
	}
	ex.ActualResponse = resp

	if ex.Verdict.Actual == "" {
		switch {
		case !d.Allowed() && d.Reason != policy.NoOrigin:
			ex.Verdict.Actual = "refused"
			ex.Verdict.Reason = "the answer carries no Access-Control-Allow-Origin: " + firstFailure(ex)
		case in.Credentials && !p.Credentials():
			ex.Verdict.Actual = "refused"
			ex.Verdict.Reason = ex.Credentials.Reason
		default:
			ex.Verdict.Actual = "allowed"
			ex.Verdict.Reason = "the browser lets the page read the answer"
			if in.Origin == "" {
				ex.Verdict.Reason = "no Origin: not a cross-origin request"
			}
			if !ex.Endpoint.Matched {
				status := "404 Not Found"
				if len(ex.Endpoint.Served) > 0 {
					status = "405 Method Not Allowed"
				}
				ex.Verdict.Reason += ", but no endpoint serves " + in.Method + " " + in.Path + ": the gateway answers " + status + " (with CORS headers, so the page can read the status)"
			}
		}
	}
	return ex
}

// explainRoute fills the endpoint and policy parts and returns the policy
// that applies and how to name it in reasons.
func (t *Table) explainRoute(ex *Explanation) (*policy.Policy, string) {
	in := ex.Request
	rt := t.Route(in.Method, in.Path)
	if rt == nil {
		ex.Endpoint.Note = fmt.Sprintf("no endpoint serves %s %s, so the service-level policy applies (as in KrakenD CE)", in.Method, in.Path)
		if other := t.servedOn(in.Path); len(other) > 0 {
			ex.Endpoint.Served = other
			ex.Endpoint.Note = fmt.Sprintf("the path is served for %s but not for %s, so the service-level policy applies", strings.Join(other, ", "), in.Method)
		}
		if t.Service() == nil {
			ex.Policy.Source = "none"
			return nil, "this path (no service-level security/cors block)"
		}
		ex.Policy.Source = "service"
		ex.Policy.OwnKeys = t.gateway.Service.Keys()
		return t.Service(), "the service-level policy"
	}
	i := rt.Endpoint.Index
	ex.Endpoint = ExplainedEndpoint{Matched: true, Endpoint: rt.Endpoint.Name(), Index: &i, Served: rt.Served,
		Note: fmt.Sprintf("%s %s is served by endpoints[%d] %q", in.Method, in.Path, i, rt.Endpoint.Name())}
	name := rt.Endpoint.Name()
	switch {
	case rt.Own && rt.Policy == nil:
		ex.Policy.Source = "exempt"
		ex.Policy.OwnKeys = rt.Endpoint.CORS.Keys()
		return nil, name + " (disable: true)"
	case rt.Own:
		ex.Policy.Source = "endpoint"
		own := rt.Endpoint.CORS.Keys()
		ex.Policy.OwnKeys = own
		for _, k := range t.gateway.Service.Keys() {
			if !slices.Contains(own, k) {
				ex.Policy.Inherited = append(ex.Policy.Inherited, k)
			}
		}
		return rt.Policy, name
	case rt.Policy == nil:
		ex.Policy.Source = "none"
		return nil, name + " (no security/cors block at the service or endpoint level)"
	}
	ex.Policy.Source = "service"
	ex.Policy.Inherited = t.gateway.Service.Keys()
	return rt.Policy, name + " (inherited from the service-level block)"
}

// servedOn lists the methods any endpoint serves on path.
func (t *Table) servedOn(path string) []string {
	var out []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		if t.Route(m, path) != nil {
			out = append(out, m)
		}
	}
	return out
}

// firstFailure is the reason of the first refused check.
func firstFailure(ex Explanation) string {
	if !ex.Origin.Allowed {
		return ex.Origin.Reason
	}
	if !ex.Method.Allowed {
		return ex.Method.Reason
	}
	for _, h := range ex.Headers {
		if !h.Allowed {
			return h.Reason
		}
	}
	return ex.Credentials.Reason
}

// Policies describes the effective policy of the service and of every
// endpoint, for GET /__debug/cors/policy and the playground.
func (t *Table) Policies() map[string]any {
	out := map[string]any{}
	if t.gateway.Service != nil {
		out["service"] = t.gateway.Service
	} else {
		out["service"] = nil
	}
	var eps []map[string]any
	for _, r := range t.Routes() {
		e := map[string]any{"endpoint": r.Endpoint.Name(), "index": r.Endpoint.Index}
		switch {
		case r.Own && r.Policy == nil:
			e["source"] = "exempt"
		case r.Own:
			e["source"] = "endpoint"
			e["own_keys"] = r.Endpoint.CORS.Keys()
			e["effective"] = r.Policy.Source()
		case r.Policy != nil:
			e["source"] = "service"
		default:
			e["source"] = "none"
		}
		eps = append(eps, e)
	}
	out["endpoints"] = eps
	return out
}
