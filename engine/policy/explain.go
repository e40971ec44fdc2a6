package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/corsgate/corsgate/engine/origin"
)

// maxDetail bounds how much of a request value a reason quotes.
const maxDetail = 80

// Text describes the decision for a person, naming the setting to change:
// "preflight refused: " and the Refusal. The X-Cors-Reason header, the
// debug log lines and the explanations all use it. It allocates, so it is
// only called when the policy has debug on or for an explanation.
func (p *Policy) Text(d Decision) string {
	kind := "request"
	if d.Preflight {
		kind = "preflight"
	}
	switch d.Reason {
	case Allowed:
		return kind + " allowed"
	case NoOrigin:
		return "no Origin header: not a CORS request"
	case NoPolicy:
		return "no security/cors block applies: the gateway adds no CORS headers"
	case Exempt:
		return "the endpoint is exempt from CORS (disable: true): the gateway adds no CORS headers"
	case UpgradeDenied:
		return "WebSocket upgrade refused: " + p.Refusal(d)
	}
	return kind + " refused: " + p.Refusal(d)
}

// Refusal says why a refused request was refused and what to change, such
// as `origin "https://evil.example" is not in allow_origins of the
// service-level policy (set in the configuration file); add it there`.
func (p *Policy) Refusal(d Decision) string {
	why, fix := p.RefusalParts(d)
	if fix == "" {
		return why
	}
	return why + "; " + fix
}

// RefusalParts is Refusal in two parts, for a person reading a list of
// failures: why the request was refused, naming the key and where it is
// set (`origin "https://evil.example" is not in allow_origins of the
// service-level policy (set in the configuration file)`), and what to
// change there (`add it there`), empty when the refusal names no key to
// change. Refusal joins them with "; ".
func (p *Policy) RefusalParts(d Decision) (why, fix string) {
	detail := d.Detail
	if len(detail) > maxDetail {
		detail = detail[:maxDetail] + "..."
	}
	switch d.Reason {
	case OriginDenied:
		pl := p.places["allow_origins"]
		return fmt.Sprintf("origin %q is not in allow_origins of %s", detail, pl.where), pl.fix
	case OriginMalformed:
		return "the request has several Origin headers; a browser sends one", ""
	case MethodDenied:
		pl := p.places["allow_methods"]
		return fmt.Sprintf("method %q is not in allow_methods %s of %s", detail, jsonList(p.methods), pl.where), pl.fix
	case HeaderDenied:
		pl := p.places["allow_headers"]
		return fmt.Sprintf("header %q is not in allow_headers of %s", strings.ToLower(detail), pl.where), pl.fix
	case HeaderMalformed:
		return fmt.Sprintf("%q in Access-Control-Request-Headers is not a header name", detail), ""
	case UpgradeDenied:
		if d.Detail == severalOrigins {
			return "the upgrade request has several Origin headers; a browser sends one", ""
		}
		if p.wsOrigins != nil {
			return fmt.Sprintf("origin %q is not in websocket_origins of %s (so its pages may not open a WebSocket here)", detail, p.places["websocket_origins"]), ""
		}
		return fmt.Sprintf("origin %q is not in allow_origins of %s (so its pages may not open a WebSocket here: browsers apply no CORS to WebSockets; websocket_origins, when set, lists the origins allowed to open sockets instead)", detail, p.places["allow_origins"]), ""
	}
	return d.Reason.String(), ""
}

// Scope is how reasons name the policy: ServiceScope or an endpoint key.
func (p *Policy) Scope() string { return p.scope }

// KeyOrigin says where key (allow_origins, allow_methods, allow_headers or
// websocket_origins) of the policy is set, and from which source.
func (p *Policy) KeyOrigin(key string) KeyOrigin { return p.keys[key] }

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
