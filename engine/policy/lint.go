package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/corsgate/corsgate/engine/origin"
	"github.com/corsgate/corsgate/schema"
)

// The linter: combination rules whose findings are warnings, each with its
// fix. A policy they flag works as written, but does something its author
// most likely did not mean. They run wherever the other rules run (check,
// run, every write of the admin API), and corsgate check --strict fails on
// them.

// Preflight caching limits of browsers, in seconds.
const (
	chromiumMaxAge = 2 * time.Hour  // Chromium caps Access-Control-Max-Age at 7200 s
	firefoxMaxAge  = 24 * time.Hour // Firefox at 86400 s
)

// sensitiveHeaders are response headers that carry credentials or
// sessions: exposing them to a page's scripts hands the page what only the
// browser should hold.
var sensitiveHeaders = []string{"Authorization", "Proxy-Authorization", "Set-Cookie", "Set-Cookie2", "Cookie", "Www-Authenticate", "Proxy-Authenticate"}

var lintRules = []*rule{
	{
		needs: []string{"websocket_origins"},
		check: func(m *Block, v *values) []problem {
			var ps []problem
			for i, p := range v.ws {
				var msg string
				var fix *Fix
				switch {
				case p.Kind == origin.Any:
					msg = `"*" lets every web page open a WebSocket here, with the user's cookies (browsers apply no CORS to WebSockets: cross-site WebSocket hijacking); list the origins of your own pages instead`
				case p.Kind == origin.Null:
					msg = `"null" lets sandboxed iframes, file: pages and redirected requests of any site open a WebSocket here, with the user's cookies; remove it`
					fix = schema.RemoveIt()
				case p.IsWildcard():
					msg = fmt.Sprintf("%q lets every matching site open a WebSocket here, with the user's cookies (WebSockets always carry them); list your own origins exactly if you can", p.Raw)
				default:
					continue
				}
				ps = append(ps, problem{key: "websocket_origins", index: v.wsAt[i], value: p.Raw, warn: true, msg: msg, fix: fix})
			}
			return ps
		},
	},
	{
		needs: []string{"max_age"},
		check: func(m *Block, v *values) []problem {
			if !v.hasMaxAge || v.maxAge <= chromiumMaxAge {
				return nil
			}
			written := v.maxAge.String()
			if m.MaxAge != nil {
				written = *m.MaxAge
			}
			msg := fmt.Sprintf("max_age %q is longer than browsers cache a preflight: Chromium caps it at 2h (7200 s)", written)
			if v.maxAge > firefoxMaxAge {
				msg += " and Firefox at 24h (86400 s)"
			} else {
				msg += ", Firefox at 24h (86400 s)"
			}
			return []problem{{key: "max_age", index: -1, value: m.MaxAge, warn: true, msg: msg + `; write "2h" or less, so that every browser uses what you set`, fix: schema.ReplaceWith("2h")}}
		},
	},
	{
		needs: []string{"allow_credentials", "allow_origins"},
		check: func(m *Block, v *values) []problem {
			if !isTrue(m.AllowCredentials) {
				return nil
			}
			var ps []problem
			for i, p := range v.patterns {
				if p.Scheme != "http" || isLoopbackHost(p.Host) {
					continue
				}
				secure := p
				secure.Scheme = "https"
				instead := "list its https:// origin instead"
				var fix *Fix
				j := slices.IndexFunc(v.patterns, func(q origin.Pattern) bool { return identity(q) == identity(secure) })
				switch {
				case j >= 0:
					instead = fmt.Sprintf("its https:// origin is item %d already, so remove this one", v.patternAt[j])
					fix = schema.RemoveIt()
				case p.Port == "" && !p.IsWildcard():
					// Without a port, the https:// origin is the same host
					// on https's own port.
					instead = fmt.Sprintf("list its https:// origin instead, %q", secure.String())
					fix = schema.ReplaceWith(secure.String())
				}
				msg := fmt.Sprintf("%q is plain http:// with allow_credentials: true: anyone on the network path can inject a script into that origin's pages and act as the signed-in user; %s (http://localhost and loopback addresses are exempt from this warning)", p.Raw, instead)
				ps = append(ps, problem{key: "allow_origins", index: v.patternAt[i], value: p.Raw, warn: true, msg: msg, fix: fix})
			}
			return ps
		},
	},
	{
		needs: []string{"allow_origins"},
		check: func(m *Block, v *values) []problem {
			var ps []problem
			for i, p := range v.patterns {
				if p.Kind != origin.Subdomain {
					continue
				}
				if suffix, icann := publicsuffix.PublicSuffix(p.Host); suffix == p.Host {
					kind := "a public suffix"
					if !icann {
						kind = "a public suffix where anyone can get a subdomain"
					}
					ps = append(ps, problem{key: "allow_origins", index: v.patternAt[i], value: p.Raw, warn: true,
						msg: fmt.Sprintf("%q allows every site under %s, which is %s: any of its users can serve a page there that reads the answers; list your own sites exactly, such as \"https://my-app.%s\"", p.Raw, p.Host, kind, p.Host)})
				}
			}
			return ps
		},
	},
	{
		needs: []string{"allow_credentials", "allow_headers"},
		check: func(m *Block, v *values) []problem {
			if !isTrue(m.AllowCredentials) || !v.anyHeader {
				return nil
			}
			return []problem{{key: "allow_headers", index: -1, warn: true,
				msg: "allow_headers is empty, which allows any request header, together with allow_credentials: true: pages of the allowed origins can send any header with the user's cookies; list the headers the front end sends, such as [\"Content-Type\", \"Authorization\"]"}}
		},
	},
	{
		needs: []string{"expose_headers"},
		check: func(m *Block, v *values) []problem {
			var ps []problem
			for i, h := range v.expose {
				if h == "*" {
					continue // errExposeStar judges it with credentials
				}
				if slices.ContainsFunc(sensitiveHeaders, func(s string) bool { return strings.EqualFold(s, h) }) {
					ps = append(ps, problem{key: "expose_headers", index: v.exposeAt[i], value: h, warn: true,
						msg: fmt.Sprintf("%q carries credentials or a session: exposing it lets the pages of every allowed origin read it; remove it from expose_headers", h), fix: schema.RemoveIt()})
				}
			}
			for _, prefix := range v.prefixes {
				for _, s := range sensitiveHeaders {
					if strings.HasPrefix(strings.ToLower(s), strings.ToLower(prefix)) {
						ps = append(ps, problem{key: "expose_headers", index: -1, value: prefix + "*", warn: true,
							msg: fmt.Sprintf("%q also exposes %s, which carries credentials or a session; use a narrower prefix", prefix+"*", s)})
						break
					}
				}
			}
			return ps
		},
	},
}

// isLoopbackHost reports whether host is localhost or a loopback address.
func isLoopbackHost(host string) bool {
	h := strings.Trim(host, "[]")
	return h == "localhost" || strings.HasSuffix(h, ".localhost") || strings.HasPrefix(h, "127.") || h == "::1"
}
