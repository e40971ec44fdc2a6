package explain

import (
	"fmt"
	"strings"
)

// Text is the explanation in a few lines, for a person at a terminal: the
// verdict, the request, the policy that decides and where it comes from,
// then every failing check with its fix. The JSON has everything else
// (each check, the exact answers).
func (ex *Explanation) Text() string {
	var b strings.Builder
	v := ex.Verdict
	blocked := v.Actual != "allowed"
	if blocked {
		fmt.Fprintf(&b, "blocked: %s\n", ex.stage())
	} else {
		fmt.Fprintf(&b, "allowed (preflight: %s): %s\n", v.Preflight, v.Reason)
	}
	fmt.Fprintf(&b, "request: %s\n", ex.Request.describe())
	fmt.Fprintf(&b, "policy:  %s\n", ex.policyLine())
	if ex.Layer != nil {
		fmt.Fprintf(&b, "source:  %s\n", ex.Layer.Note)
	}
	if len(v.Failures) == 0 {
		return b.String()
	}
	if len(v.Failures) == 1 {
		b.WriteString("failing check:\n")
	} else {
		fmt.Fprintf(&b, "failing checks: %d (fix them all; the gateway stops at the first and names only it)\n", len(v.Failures))
	}
	for i, f := range v.Failures {
		also := ""
		if !f.First {
			also = "also: "
		}
		fmt.Fprintf(&b, "  %d. %s%s\n", i+1, also, f.Reason)
		if f.Fix != "" {
			fmt.Fprintf(&b, "     fix: %s\n", f.Fix)
		}
	}
	return b.String()
}

// stage says where the browser stops a blocked request.
func (ex *Explanation) stage() string {
	switch ex.Verdict.Preflight {
	case "refused":
		return "the browser stops at the preflight; the request itself is never sent"
	case "not answered by CORS":
		return "the gateway adds no CORS headers, so the page cannot read the answer"
	}
	return fmt.Sprintf("the browser sends the request (preflight: %s) but does not let the page read the answer", ex.Verdict.Preflight)
}

// describe is the request in words: `PUT /orders/7 from
// https://app.example.com, headers x-api-key, with credentials`.
func (in Request) describe() string {
	s := in.Method + " " + in.Path
	if in.Origin == "" {
		s += " without Origin (same-origin)"
	} else {
		s += " from " + in.Origin
	}
	if len(in.Headers) > 0 {
		s += ", headers " + strings.Join(in.Headers, ", ")
	}
	if in.Credentials {
		s += ", with credentials"
	}
	return s
}

// policyLine names the policy that decides and the block it comes from.
func (ex *Explanation) policyLine() string {
	e := ex.Endpoint
	endpoint := e.Endpoint
	if e.Index != nil {
		endpoint = fmt.Sprintf("%s (endpoints[%d])", e.Endpoint, *e.Index)
	}
	switch src := ex.Policy.Source; {
	case src == "endpoint":
		return fmt.Sprintf("%s: its own security/cors block sets %s; the rest comes from the service-level block", endpoint, strings.Join(ex.Policy.OwnKeys, ", "))
	case src == "exempt":
		return endpoint + ": exempt from CORS (disable: true)"
	case src == "service" && e.Matched:
		return endpoint + " inherits the service-level block"
	case src == "service":
		return "the service-level block, as " + ex.unserved()
	case e.Matched:
		return endpoint + ": no security/cors block at the service or endpoint level"
	}
	return "no security/cors block applies, and " + ex.unserved()
}

// unserved says that no endpoint serves the request, and which methods
// its path is served for.
func (ex *Explanation) unserved() string {
	s := fmt.Sprintf("no endpoint serves %s %s", ex.Request.Method, ex.Request.Path)
	if len(ex.Endpoint.Served) > 0 {
		s += fmt.Sprintf(" (the path is served for %s)", strings.Join(ex.Endpoint.Served, ", "))
	}
	return s
}

// label names a failure in a list: `method "PUT"`, `credentials`.
func (f Failure) label() string {
	if f.Value == "" {
		return f.Check
	}
	return fmt.Sprintf("%s %q", f.Check, f.Value)
}
