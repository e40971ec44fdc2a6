// Package explain says, for a person debugging a failing preflight, what
// the gateway and the browser do with a request and why: which endpoint
// and policy apply, each check, and the exact answers.
//
// It asks core.Snapshot.Plan, the same function the gateway's handler
// calls for every request, so an explanation cannot drift from what the
// gateway does. GET /__debug/cors/explain and corsgate explain both print
// an Explanation as JSON; corsgate explain prints its Text for people.
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
		value := in.Path
		if u, err := url.Parse(value); err == nil && u.User != nil {
			value = u.Redacted() // the message shows no password
		}
		errs = append(errs, &InputError{Field: "path", Value: value, Message: pathProblem(in.Path)})
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

// pathProblem says what is wrong with a path that does not start with /,
// and suggests the path it holds: a URL's path, the path after what looks
// like a host (api.example.com/users/7), or the path with a / in front.
func pathProblem(p string) string {
	if u, err := url.Parse(p); err == nil && u.Scheme != "" && u.Host != "" {
		return fmt.Sprintf("a URL, not a path: the gateway's routes match the path alone; did you mean %q?", rootIfEmpty(u.Path))
	}
	rest := p
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	if host, path, ok := strings.Cut(rest, "/"); ok && strings.ContainsAny(host, ".:") {
		return fmt.Sprintf("the path must start with /, and %q looks like a host: did you mean %q?", host, "/"+path)
	}
	return fmt.Sprintf("the path must start with /: did you mean %q?", "/"+rest)
}

func rootIfEmpty(path string) string {
	if path == "" {
		return "/"
	}
	return path
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
	// Reason says what the browser does, with the first check that fails:
	// the one the gateway's X-Cors-Reason names.
	Reason string `json:"reason"`
	// Failures lists every check that fails, the first one and those
	// behind it, so that one round of changes fixes them all. It is empty
	// exactly when Actual is "allowed".
	Failures []Failure `json:"failures"`
}

// Failure is one check that fails.
type Failure struct {
	// Check is "origin", "method", "header", "credentials", or "cors"
	// when no CORS policy applies at all.
	Check string `json:"check"`
	// Value is what the check refuses: the origin, the method or the
	// header name (empty for credentials and cors).
	Value string `json:"value,omitempty"`
	// Reason says why; for a key of the policy, naming it and where it
	// is set (the configuration file, or the run-time layer and its
	// revision).
	Reason string `json:"reason"`
	// Fix says what to change (empty when Reason says it all).
	Fix string `json:"fix,omitempty"`
	// First marks the failure Summary.Reason names: the first the browser
	// meets, which the gateway's X-Cors-Reason names too (except
	// credentials, the browser's own check). The gateway stops at the first
	// failure; the others fail against the same policy and would block the
	// request on their own once the ones before them are fixed.
	First bool `json:"first"`
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
		if in.Origin == "" {
			ex.Verdict = Summary{Preflight: "not needed", Actual: "allowed", Reason: "no Origin: not a cross-origin request", Failures: []Failure{}}
			return ex, nil
		}
		router := "the router answers it 405 or 404 (router.auto_options is off)"
		if s.Routes().AutoOptions() {
			router = "router.auto_options answers it 200 with Allow and no CORS headers"
		}
		why := "the gateway adds no CORS headers to " + scope + ", so a browser on another origin cannot read the answer (unless the backend sends its own CORS headers)"
		fix := "add a security/cors block to the service's extra_config, or to the endpoint's"
		if sc.Exempt {
			fix = "remove disable: true from the endpoint's security/cors block, or have the backend send the CORS headers"
		}
		ex.Verdict = Summary{Preflight: "not answered by CORS", Actual: "refused",
			Reason:   why + "; a preflight goes to the router: " + router,
			Failures: []Failure{{Check: "cors", Reason: why, Fix: fix, First: true}}}
		return ex, nil
	}
	ex.Policy.Effective = p.Source()

	// The checks one by one, in the words of X-Cors-Reason. Each one is
	// made against the policy even when an earlier one fails, where the
	// gateway stops, so that the failures list them all. Without an
	// origin nothing fails: CORS does not apply.
	var failures []Failure
	refusal := func(check, value string, r policy.Reason, relevant bool) string {
		why, fix := p.RefusalParts(policy.Decision{Reason: r, Detail: value})
		if relevant {
			failures = append(failures, Failure{Check: check, Value: value, Reason: why, Fix: fix})
		}
		return joinFix(why, fix)
	}
	cors := in.Origin != ""
	switch rule := p.OriginRule(in.Origin); {
	case rule != "":
		ex.Origin = Verdict{Allowed: true, Rule: rule, Reason: fmt.Sprintf("origin %q is allowed by %q in %s", in.Origin, rule, scope)}
	case !cors:
		ex.Origin = Verdict{Reason: "no origin given: a same-origin request needs no CORS"}
	default:
		ex.Origin = Verdict{Reason: refusal("origin", in.Origin, policy.OriginDenied, true)}
	}
	if p.AllowsMethod(in.Method) {
		ex.Method = Verdict{Allowed: true, Reason: fmt.Sprintf("method %s is in allow_methods %s", in.Method, jsonList(p.Methods()))}
	} else {
		ex.Method = Verdict{Reason: refusal("method", in.Method, policy.MethodDenied, cors)}
	}
	for _, h := range headers {
		v := HeaderVerdict{Name: h}
		if p.AllowsHeader(h) {
			v.Allowed, v.Reason = true, fmt.Sprintf("header %s is allowed by allow_headers of %s", h, scope)
		} else {
			// Only a preflight asks for headers: without one, they are
			// safelisted and the browser sends them without asking.
			v.Reason = refusal("header", h, policy.HeaderDenied, pre != nil)
		}
		ex.Headers = append(ex.Headers, v)
	}
	switch {
	case !in.Credentials:
		ex.Credentials = Verdict{Allowed: true, Reason: "the request sends no credentials"}
	case p.Credentials():
		ex.Credentials = Verdict{Allowed: true, Reason: "allow_credentials is true: the gateway sends Access-Control-Allow-Credentials: true"}
	case !cors:
		ex.Credentials = Verdict{Allowed: true, Reason: "no origin given: a same-origin request sends its credentials without CORS"}
	default:
		why := fmt.Sprintf("the page sends credentials but allow_credentials is false in %s, so the browser refuses the answer", scope)
		fix := "set allow_credentials: true (with exact origins), or fetch without credentials"
		failures = append(failures, Failure{Check: "credentials", Reason: why, Fix: fix})
		ex.Credentials = Verdict{Reason: joinFix(why, fix)}
	}
	if len(failures) > 0 {
		failures[0].First = true
	} else {
		failures = []Failure{}
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
		ex.Verdict.Failures = failures
		return ex, nil
	}
	d := act.Decision
	switch {
	case !d.Allowed() && d.Reason != policy.NoOrigin:
		ex.Verdict.Actual = "refused"
		ex.Verdict.Reason = "the answer carries no Access-Control-Allow-Origin: " + firstFailure(ex)
	case !ex.Credentials.Allowed:
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
	ex.Verdict.Failures = failures
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

// joinFix joins why and fix as the gateway's reasons do.
func joinFix(why, fix string) string {
	if fix == "" {
		return why
	}
	return why + "; " + fix
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
