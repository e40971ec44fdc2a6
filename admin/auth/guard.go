package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Guard wraps an admin handler. For each request, in this order:
//
//  1. Cross-origin refusal. A request with an Origin header whose value is
//     not exactly the origin the request was addressed to gets 403. That
//     origin is the scheme (https when r.TLS is set, else http), "://" and
//     r.Host, compared case-insensitively, with the scheme's default port
//     equal to no port. "null", a malformed origin and several Origin
//     header lines get 403 too. A request without Origin (curl, scripts)
//     is judged by its credentials alone. This comes first, so that a web
//     page cannot drive the admin API with credentials a browser remembers,
//     even valid ones.
//  2. Authentication. A request without credentials, or with wrong or
//     malformed ones (see Credentials.Check), gets 401 with
//     WWW-Authenticate: Basic realm="corsgate", and, when tokens are
//     configured, a second challenge, Bearer realm="corsgate". With empty
//     or nil Credentials every request gets 401.
//  3. Otherwise it calls next, with the user's name in the request context
//     (see User).
//
// Both refusals are JSON in Cloudant's error shape, {"error":
// "forbidden" or "unauthorized", "reason": "<one sentence saying how to fix
// it>"}, with Cache-Control: no-store. The Guard never sets an
// Access-Control-* header on any answer (and removes any that a wrapping
// handler set before a refusal), and answers an OPTIONS preflight like any
// other request, so a cross-origin preflight gets 403 and a browser never
// sends the request it asked about.
//
// Each refusal is reported to log, when it is not nil, with the method,
// the path, the remote address and the reason; never with a password or a
// token, nor with a user name that is not configured (it may be a password
// typed in the wrong field).
func Guard(c *Credentials, log func(msg string), next http.Handler) http.Handler {
	if next == nil {
		panic("auth.Guard: the next handler is nil")
	}
	return &guard{creds: c, log: log, next: next}
}

// User returns the name of the user the Guard authenticated for the
// request whose context is ctx: a Basic user's name, or "token" for a
// Bearer token. It returns "" outside a Guard.
func User(ctx context.Context) string {
	name, _ := ctx.Value(userKey{}).(string)
	return name
}

// userKey is the context key of the user's name.
type userKey struct{}

// guard is the handler Guard returns.
type guard struct {
	creds *Credentials
	log   func(string)
	next  http.Handler
}

// refusal is one Cloudant-shaped error answer.
type refusal struct {
	Error  string `json:"error"`
	Reason string `json:"reason"`
}

// ServeHTTP implements http.Handler.
func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if origins := r.Header.Values("Origin"); len(origins) > 0 {
		if reason, logged, ok := sameOrigin(r, origins); !ok {
			g.refuse(w, r, http.StatusForbidden, reason, logged)
			return
		}
	}
	name, v := g.creds.check(r)
	if v != accepted {
		h := w.Header()
		h.Set("WWW-Authenticate", `Basic realm="corsgate"`)
		if g.creds != nil && len(g.creds.tokens) > 0 {
			h.Add("WWW-Authenticate", `Bearer realm="corsgate"`)
		}
		reason, logged := g.explain(name, v)
		g.refuse(w, r, http.StatusUnauthorized, reason, logged)
		return
	}
	g.next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, name)))
}

// refuse answers a refusal and reports it to the log.
func (g *guard) refuse(w http.ResponseWriter, r *http.Request, status int, reason, logged string) {
	if g.log != nil {
		g.log(fmt.Sprintf("refused %s %q from %s with %d %s: %s", r.Method, clip(r.URL.Path), r.RemoteAddr, status, http.StatusText(status), logged))
	}
	h := w.Header()
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			delete(h, k)
		}
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	code := "unauthorized"
	if status == http.StatusForbidden {
		code = "forbidden"
	}
	body, _ := json.Marshal(refusal{Error: code, Reason: reason})
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// explain gives the reason sent to the client and the one logged for a
// refused verdict. The client is not told whether a user exists.
func (g *guard) explain(name string, v verdict) (reason, logged string) {
	users, tokens := 0, 0
	if g.creds != nil {
		users, tokens = len(g.creds.users), len(g.creds.tokens)
	}
	var send string
	switch {
	case users > 0 && tokens > 0:
		send = "send HTTP Basic credentials (curl -u NAME:PASSWORD) or a header Authorization: Bearer TOKEN"
	case users > 0:
		send = "send HTTP Basic credentials (curl -u NAME:PASSWORD)"
	case tokens > 0:
		send = "send a header Authorization: Bearer TOKEN"
	}
	switch {
	case users == 0 && tokens == 0:
		return "This admin API has no credentials configured, so it refuses every request: set " + EnvUser + " and " + EnvPassword + ", or " + EnvToken + ", and restart the gateway.",
			"no credentials are configured"
	case v == noCredentials:
		return "This admin API needs credentials: " + send + ".", "no Authorization header"
	case v == malformed:
		return "The Authorization header is malformed: " + send + ", in a single Authorization header.", "malformed Authorization header"
	case v == otherScheme:
		// The scheme is not repeated: without a space after it, it is the
		// credentials themselves.
		return "The Authorization scheme is neither Basic nor Bearer: " + send + ".", "Authorization scheme neither Basic nor Bearer"
	case (v == unknownUser || v == wrongPassword) && users == 0:
		return "This admin API accepts no HTTP Basic credentials: " + send + ".", "Basic credentials, but no Basic user is configured"
	case v == unknownUser:
		return "The user name or the password is wrong: use a user configured by " + EnvUser + " and " + EnvPassword + " or by the basic_auth_file.", "unknown Basic user (the name is not logged)"
	case v == wrongPassword:
		return "The user name or the password is wrong: use a user configured by " + EnvUser + " and " + EnvPassword + " or by the basic_auth_file.", fmt.Sprintf("wrong password for user %q", name)
	case v == wrongToken && tokens == 0:
		return "This admin API accepts no Bearer token: " + send + ".", "a Bearer token, but no token is configured"
	default:
		return "The Bearer token is wrong: use the token configured by " + EnvToken + " or by the token_file.", "wrong Bearer token"
	}
}

// sameOrigin checks the Origin header lines of r against the origin r was
// addressed to, and gives the refusal's reason and log line.
func sameOrigin(r *http.Request, origins []string) (reason, logged string, ok bool) {
	const how = "call it from curl or a script (which send no Origin), or from a page served by the admin listener itself."
	if len(origins) > 1 {
		return "This admin API answers no cross-origin request, and this one has several Origin headers: " + how,
			fmt.Sprintf("%d Origin headers", len(origins)), false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	want, wantOK := canonicalOrigin(scheme, r.Host)
	got, gotOK := parseOrigin(origins[0])
	if wantOK && gotOK && got == want {
		return "", "", true
	}
	self := scheme + "://" + r.Host
	return fmt.Sprintf("This admin API answers no cross-origin request, and the Origin %q is not the origin this request was addressed to, %q: %s", clip(origins[0]), clip(self), how),
		fmt.Sprintf("cross-origin request: Origin %q, addressed to %q", clip(origins[0]), clip(self)), false
}

// parseOrigin returns an Origin header's value in canonical form, or
// false when it is not scheme://host[:port] ("null" is not).
func parseOrigin(s string) (string, bool) {
	scheme, hostport, found := strings.Cut(s, "://")
	if !found || scheme == "" {
		return "", false
	}
	for i, r := range scheme {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return "", false
		}
	}
	return canonicalOrigin(scheme, hostport)
}

// canonicalOrigin gives scheme "://" hostport in lower case, without the
// scheme's default port, or false when hostport is not host[:port].
func canonicalOrigin(scheme, hostport string) (string, bool) {
	if hostport == "" || strings.ContainsFunc(hostport, func(r rune) bool {
		return r <= ' ' || r >= 0x7f || strings.ContainsRune(`/?#@\`, r)
	}) {
		return "", false
	}
	scheme, hostport = strings.ToLower(scheme), strings.ToLower(hostport)
	host, port := hostport, ""
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 2 {
			return "", false
		}
		host = hostport[:end+1]
		switch after := hostport[end+1:]; {
		case after == "":
		case after[0] == ':':
			port = after[1:]
			if port == "" {
				return "", false
			}
		default:
			return "", false
		}
	} else if i := strings.LastIndexByte(hostport, ':'); i >= 0 {
		host, port = hostport[:i], hostport[i+1:]
		if host == "" || port == "" || strings.Contains(host, ":") {
			return "", false
		}
	}
	inner := host
	if strings.HasPrefix(host, "[") {
		inner = host[1 : len(host)-1]
	}
	if inner == "" || strings.ContainsAny(inner, "[]") {
		return "", false
	}
	if len(port) > 5 || strings.ContainsFunc(port, func(r rune) bool { return r < '0' || r > '9' }) {
		return "", false
	}
	if port == defaultPort[scheme] {
		port = ""
	}
	if port != "" {
		return scheme + "://" + host + ":" + port, true
	}
	return scheme + "://" + host, true
}

// defaultPort is each web scheme's default port.
var defaultPort = map[string]string{"http": "80", "https": "443"}

// clip shortens a value quoted in a message.
func clip(s string) string {
	const max = 120
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
