// Package explain says, for a person debugging a failing preflight, what
// the gateway and the browser do with a request and why: which endpoint
// and policy apply, each check, and the exact answers.
//
// It asks core.Snapshot.Plan, the same function the gateway's handler
// calls for every request, so an explanation cannot drift from what the
// gateway does. GET /__debug/cors/explain and corsgate explain both print
// an Explanation as JSON.
package explain

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/origin"
	"github.com/corsgate/corsgate/engine/policy"
)

// Request describes a request a page is about to make.
type Request struct {
	// Origin is the page's origin, such as https://app.example.com; empty
	// for a same-origin request.
	Origin string `json:"origin"`
	// Method is the request's method; GET when empty.
	Method string `json:"method"`
	// Path is the request's path on the gateway; / when empty.
	Path string `json:"path"`
	// Headers are the names of the headers the page sets (a
	// comma-separated list works too).
	Headers []string `json:"headers"`
	// Credentials reports fetch's credentials: 'include'.
	Credentials bool `json:"credentials"`
}

// InputError is a malformed field of a Request: something a browser never
// sends, which the explanation would otherwise advise adding to the
// configuration.
type InputError struct {
	// Field is origin, method, path or header.
	Field string
	// Value is the value as given.
	Value string
	// Message says what is wrong and what would be accepted.
	Message string
}

// Error implements error.
func (e *InputError) Error() string {
	return e.Field + " " + fmt.Sprintf("%q", e.Value) + ": " + e.Message
}

// Normalize fills in the defaults (GET, /), splits header lists, and
// checks every field with the grammar of the configuration. It returns
// every problem, each an *InputError, joined with errors.Join.
func (in *Request) Normalize() error {
	if in.Method == "" {
		in.Method = http.MethodGet
	}
	if in.Path == "" {
		in.Path = "/"
	}
	var errs []error
	if in.Origin != "" && in.Origin != "null" {
		p, err := origin.ParsePattern(in.Origin)
		switch {
		case err != nil:
			var pe *origin.PatternError
			msg := err.Error()
			if errors.As(err, &pe) {
				msg = "not an origin a browser sends: " + pe.Reason
				if pe.Suggestion != "" {
					msg += fmt.Sprintf("; did you mean %q?", pe.Suggestion)
				}
			}
			errs = append(errs, &InputError{Field: "origin", Value: in.Origin, Message: msg})
		case p.IsWildcard():
			errs = append(errs, &InputError{Field: "origin", Value: in.Origin, Message: "a request comes from one origin; write it in full, such as https://app.example.com"})
		}
	}
	if err := policy.CheckMethod(in.Method); err != nil {
		errs = append(errs, &InputError{Field: "method", Value: in.Method, Message: err.Error()})
	}
	if !strings.HasPrefix(in.Path, "/") {
		errs = append(errs, &InputError{Field: "path", Value: in.Path, Message: "the path must start with /, for example /users/42"})
	}
	headers := []string{}
	for _, h := range in.Headers {
		for _, n := range strings.Split(h, ",") {
			n = strings.TrimSpace(n)
			if n == "" {
				continue
			}
			if err := policy.CheckHeaderName(n); err != nil || n == "*" {
				msg := `"*" is not a header name; give the names of the headers the page sets`
				if err != nil {
					msg = err.Error()
				}
				errs = append(errs, &InputError{Field: "header", Value: n, Message: msg})
				continue
			}
			if n = strings.ToLower(n); !slices.Contains(headers, n) {
				headers = append(headers, n)
			}
		}
	}
	in.Headers = headers
	return errors.Join(errs...)
}

// Explanation says what the gateway does with a request and why.
type Explanation struct {
	// Layer says which run-time layer the explanation used, when it was
	// made away from the gateway (corsgate explain).
	Layer             *LayerUsed        `json:"layer,omitempty"`
	Request           Request           `json:"request"`
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

// LayerUsed says which run-time layer an explanation made away from the
// gateway used, since the layer wins over the file key by key.
type LayerUsed struct {
	// From is "file-only" (--file-only), "none" (the gateway has applied
	// no layer), "cache" (the layer the gateway last applied, from its
	// state directory), "admin" (the layer of the running gateway, from
	// its admin API) or "unknown" (whether a layer exists cannot be told:
	// the file alone was used).
	From string `json:"from"`
	// Revision is the layer's revision (0: none).
	Revision uint64 `json:"revision"`
	// Note says it in words.
	Note string `json:"note"`
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

// Explain works out what the gateway with snapshot s and the browser would
// do with in. It returns the problems of a malformed Request (see
// Normalize) instead of an explanation.
func Explain(s *core.Snapshot, in Request) (Explanation, error) {
	if err := in.Normalize(); err != nil {
		return Explanation{}, err
	}
	headers := in.Headers
	ex := Explanation{Request: in, Headers: []HeaderVerdict{}}
	needsPreflight := in.Method != http.MethodGet && in.Method != http.MethodHead && in.Method != http.MethodPost
	for _, h := range headers {
		needsPreflight = needsPreflight || !slices.Contains(safelisted, h)
	}

	// The plans of the two requests the browser would send, made by the
	// code that serves real requests.
	var pre *core.Plan
	if in.Origin != "" && needsPreflight {
		h := http.Header{"Origin": {in.Origin}, "Access-Control-Request-Method": {in.Method}}
		if len(headers) > 0 {
			h["Access-Control-Request-Headers"] = []string{strings.Join(headers, ",")}
		}
		p := s.Plan(request(http.MethodOptions, in.Path, h))
		pre = &p
	}
	actualHeader := http.Header{}
	if in.Origin != "" {
		actualHeader["Origin"] = []string{in.Origin}
	}
	act := s.Plan(request(in.Method, in.Path, actualHeader))

	sc := act.Scope
	if sc.Route == nil {
		// The snapshot skips route matching when no endpoint has a policy
		// of its own; the policy is the same, but name the endpoint.
		if r := s.Routes().Match(in.Method, in.Path); r != nil {
			sc = s.Scope(r)
		}
	}
	describeEndpoint(&ex, s, sc)
	p := sc.Policy
	scope := scopeName(sc)
	if p == nil {
		ex.Origin = Verdict{Reason: "CORS does not apply, so no origin is checked"}
		ex.Method = Verdict{Reason: "CORS does not apply"}
		ex.Credentials = Verdict{Reason: "CORS does not apply"}
		router := "the router answers it 405 or 404 (router.auto_options is off)"
		if s.Routes().AutoOptions() {
			router = "router.auto_options answers it 200 with Allow and no CORS headers"
		}
		ex.Verdict = Summary{Preflight: "not answered by CORS", Actual: "refused",
			Reason: "the gateway adds no CORS headers to " + scope + ", so a browser on another origin cannot read the answer (unless the backend sends its own CORS headers); a preflight goes to the router: " + router}
		return ex, nil
	}
	ex.Policy.Effective = p.Source()

	// The checks one by one, in the words of X-Cors-Reason.
	refusal := func(r policy.Reason, detail string) string {
		return p.Refusal(policy.Decision{Reason: r, Detail: detail})
	}
	switch rule := p.OriginRule(in.Origin); {
	case rule != "":
		ex.Origin = Verdict{Allowed: true, Rule: rule, Reason: fmt.Sprintf("origin %q is allowed by %q in %s", in.Origin, rule, scope)}
	case in.Origin == "":
		ex.Origin = Verdict{Reason: "no origin given: a same-origin request needs no CORS"}
	default:
		ex.Origin = Verdict{Reason: refusal(policy.OriginDenied, in.Origin)}
	}
	if p.AllowsMethod(in.Method) {
		ex.Method = Verdict{Allowed: true, Reason: fmt.Sprintf("method %s is in allow_methods %s", in.Method, jsonList(p.Methods()))}
	} else {
		ex.Method = Verdict{Reason: refusal(policy.MethodDenied, in.Method)}
	}
	for _, h := range headers {
		v := HeaderVerdict{Name: h}
		if p.AllowsHeader(h) {
			v.Allowed, v.Reason = true, fmt.Sprintf("header %s is allowed by allow_headers of %s", h, scope)
		} else {
			v.Reason = refusal(policy.HeaderDenied, h)
		}
		ex.Headers = append(ex.Headers, v)
	}
	switch {
	case !in.Credentials:
		ex.Credentials = Verdict{Allowed: true, Reason: "the request sends no credentials"}
	case p.Credentials():
		ex.Credentials = Verdict{Allowed: true, Reason: "allow_credentials is true: the gateway sends Access-Control-Allow-Credentials: true"}
	default:
		ex.Credentials = Verdict{Reason: fmt.Sprintf("the page sends credentials but allow_credentials is false in %s, so the browser refuses the answer; set allow_credentials: true (with exact origins), or fetch without credentials", scope)}
	}

	ex.Verdict.Preflight = "not needed"
	if pre != nil {
		ex.PreflightResponse = response(pre)
		switch pre.Action {
		case core.AnswerAndForward:
			ex.PreflightResponse.Note = "options_passthrough: after these headers the router answers (auto_options gives 200 with Allow)"
		}
		ex.Verdict.Preflight = "allowed"
		if !pre.Decision.Allowed() {
			ex.Verdict = Summary{Preflight: "refused", Actual: "refused", Reason: "the browser stops at the preflight: " + firstFailure(ex)}
		}
	}

	ex.ActualResponse = response(&act)
	if act.Action == core.Terminate {
		ex.ActualResponse.Note = "terminate_unmatched_request: answered by the gateway; the backend never sees it"
	} else {
		ex.ActualResponse.Note = "status and other headers come from the backend; these are the CORS headers the gateway sets"
	}

	if ex.Verdict.Actual != "" {
		return ex, nil
	}
	d := act.Decision
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
	return ex, nil
}

// request builds the request a Plan is made for.
func request(method, path string, h http.Header) *http.Request {
	return &http.Request{Method: method, URL: &url.URL{Path: path}, Header: h}
}

// response renders the answer of a plan: its status (when the gateway
// answers itself) and the CORS headers it carries.
func response(pl *core.Plan) *Response {
	h := http.Header{}
	pl.WriteHeaders(h)
	resp := &Response{Status: pl.Status(), Headers: map[string]string{}}
	for k := range h {
		resp.Headers[k] = strings.Join(h.Values(k), ", ")
	}
	return resp
}

// scopeName is how reasons name the scope that applies.
func scopeName(sc *core.Scope) string {
	switch {
	case sc.Route == nil && sc.Policy == nil:
		return "this path (no service-level security/cors block)"
	case sc.Route == nil:
		return policy.ServiceScope
	case sc.Exempt:
		return sc.Name() + " (disable: true)"
	case sc.OwnBlock:
		return sc.Name()
	case sc.Policy == nil:
		return sc.Name() + " (no security/cors block at the service or endpoint level)"
	}
	return sc.Name() + " (inherited from the service-level block)"
}

// describeEndpoint fills the endpoint and policy parts.
func describeEndpoint(ex *Explanation, s *core.Snapshot, sc *core.Scope) {
	in := ex.Request
	service := s.Document().Service
	if sc.Route == nil {
		ex.Endpoint.Note = fmt.Sprintf("no endpoint serves %s %s, so the service-level policy applies (as in KrakenD CE)", in.Method, in.Path)
		if other := s.Routes().MethodsOn(in.Path); len(other) > 0 {
			ex.Endpoint.Served = other
			ex.Endpoint.Note = fmt.Sprintf("the path is served for %s but not for %s, so the service-level policy applies", strings.Join(other, ", "), in.Method)
		}
		ex.Policy.Source = "none"
		if sc.Policy != nil {
			ex.Policy.Source = "service"
			ex.Policy.OwnKeys = service.Keys()
		}
		return
	}
	r := sc.Route
	i := r.Index
	ex.Endpoint = ExplainedEndpoint{Matched: true, Endpoint: r.Key(), Index: &i, Served: r.Served(),
		Note: fmt.Sprintf("%s %s is served by endpoints[%d] %q", in.Method, in.Path, i, r.Key())}
	switch {
	case sc.Exempt:
		ex.Policy.Source = "exempt"
		ex.Policy.OwnKeys = sc.Own
	case sc.OwnBlock:
		ex.Policy.Source = "endpoint"
		ex.Policy.OwnKeys = sc.Own
		for _, k := range service.Keys() {
			if !slices.Contains(sc.Own, k) {
				ex.Policy.Inherited = append(ex.Policy.Inherited, k)
			}
		}
	case sc.Policy == nil:
		ex.Policy.Source = "none"
	default:
		ex.Policy.Source = "service"
		ex.Policy.Inherited = service.Keys()
	}
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
func Policies(s *core.Snapshot) map[string]any {
	doc := s.Document()
	out := map[string]any{"service": doc.Service, "revision": s.Revision()}
	var eps []map[string]any
	for _, r := range s.Routes().Routes() {
		sc := s.Scope(r)
		e := map[string]any{"endpoint": r.Key(), "index": r.Index}
		switch {
		case sc.Exempt:
			e["source"] = "exempt"
		case sc.OwnBlock:
			e["source"] = "endpoint"
			e["own_keys"] = sc.Own
			e["effective"] = sc.Policy.Source()
		case sc.Policy != nil:
			e["source"] = "service"
		default:
			e["source"] = "none"
		}
		eps = append(eps, e)
	}
	out["endpoints"] = eps
	return out
}

func jsonList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
