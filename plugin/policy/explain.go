package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/corsgate/corsgate/plugin/origin"
)

// maxDetail bounds how much of a request value a reason quotes.
const maxDetail = 80

// Text describes the decision for a person, naming the setting to change.
// It allocates, so it is only called when the policy has debug on.
func (p *Policy) Text(d Decision) string {
	kind := "request"
	if d.Preflight {
		kind = "preflight"
	}
	detail := d.Detail
	if len(detail) > maxDetail {
		detail = detail[:maxDetail] + "..."
	}
	switch d.Reason {
	case Allowed:
		return kind + " allowed"
	case NoOrigin:
		return "no Origin header: not a CORS request"
	case OriginDenied:
		return fmt.Sprintf("%s refused: origin %q is not in allow_origins of %s; add it there", kind, detail, p.scope)
	case OriginMalformed:
		return kind + " refused: the request has several Origin headers; a browser sends one"
	case MethodDenied:
		return fmt.Sprintf("%s refused: method %q is not in allow_methods %v of %s; add it there", kind, detail, p.methods, p.scope)
	case HeaderDenied:
		return fmt.Sprintf("%s refused: header %q is not in allow_headers of %s; add it there", kind, strings.ToLower(detail), p.scope)
	case HeaderMalformed:
		return fmt.Sprintf("%s refused: %q in Access-Control-Request-Headers is not a header name", kind, detail)
	}
	return kind + " refused"
}

// OriginRule returns the allow_origins entry or allow_origins_regex
// expression that allows o ("*" when every origin is allowed), or "" when
// o is refused. For diagnostics; it allocates.
func (p *Policy) OriginRule(o string) string {
	if p.anyOrigin {
		if p.credentials {
			if !origin.WellFormed(o) {
				return "" // the unsafe opt-in never reflects null or malformed origins
			}
			return "* (reflected: allow_any_origin_with_credentials_unsafe)"
		}
		return "*"
	}
	if o == "" {
		return ""
	}
	return p.origins.Explain(o)
}

// AllowsMethod reports whether a preflight may ask for method m.
func (p *Policy) AllowsMethod(m string) bool { return p.allowsMethod(m) }

// AllowsHeader reports whether a preflight may ask for header name.
func (p *Policy) AllowsHeader(name string) bool {
	return p.anyHeader || (isToken(name) && p.allowsHeader(name))
}

// Methods lists allow_methods as compiled (defaults applied).
func (p *Policy) Methods() []string { return slices.Clone(p.methods) }
