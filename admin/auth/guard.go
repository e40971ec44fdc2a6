package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Guard protects an admin handler. For each request, in this order:
//
//  1. Host. A request whose Host is not one the listener answers to gets
//     421 Misdirected Request, so that a web page whose host name an
//     attacker points at the listener (DNS rebinding) reaches nothing:
//     the listener answers an IP address literal (what a rebinding page
//     never has as its Host), localhost, the host of Options.PublicOrigin
//     and the hosts of Options.AllowedHosts.
//  2. Backoff. A client (by IP address) that sent wrong credentials
//     Backoff.Free times in a row waits before it may try again: 429 with
//     Retry-After, whatever it sends, for Backoff.Base, then twice as long
//     after each further failure, up to Backoff.Max. (A request without
//     credentials is not a failure: browsers send one before they ask.)
//  3. Cross-origin refusal. A request with an Origin header whose value is
//     not exactly the origin the request was addressed to (or
//     Options.PublicOrigin) gets 403. That origin is the scheme (https
//     when r.TLS is set, else http), "://" and r.Host, compared
//     case-insensitively, with the scheme's default port equal to no
//     port. "null", a malformed origin and several Origin header lines get
//     403 too. A request without Origin (curl, scripts) is judged by its
//     credentials alone. This comes before authentication, so that a web
//     page cannot drive the admin API with credentials a browser
//     remembers, even valid ones.
//  4. Authentication. A request without credentials, or with wrong or
//     malformed ones (see Credentials.Check), gets 401 with
//     WWW-Authenticate: Basic realm="corsgate", and, when tokens are
//     configured, a second challenge, Bearer realm="corsgate". With empty
//     or nil Credentials every request gets 401.
//  5. Role. A read-only credential gets 403 on any method but GET and
//     HEAD.
//  6. Otherwise it calls next, with the user's name in the request context
//     (see User).
//
// Every refusal is JSON, {"error": ..., "reason": "<one sentence saying
// how to fix it>"}, with Cache-Control: no-store. The Guard never sets an
// Access-Control-* header on any answer (and removes any that a wrapping
// handler set before a refusal), and answers an OPTIONS preflight like any
// other request, so a cross-origin preflight gets 403 and a browser never
// sends the request it asked about.
//
// Refusals are reported to Options.Log, when set, at most one line a
// second (with the count of the refusals not logged since), with the
// method, the path, the remote address and the reason; never with a
// password or a token, nor with a user name that is not configured (it may
// be a password typed in the wrong field). Stats counts them.
type Guard struct {
	creds   *Credentials
	opts    Options
	hosts   map[string]bool // lower case, without port
	public  string          // the canonical PublicOrigin, or ""
	limiter *limiter
	log     *rateLog

	authFailures, throttled, misdirected, readOnlyRefused atomic.Uint64
}

// Options tune a Guard.
type Options struct {
	// Log receives the refusals, at most one line a second.
	Log func(msg string)
	// AllowedHosts are host names (with or without a port; the port is
	// not compared) the listener answers to besides IP address literals
	// and localhost: the names clients use to reach it.
	AllowedHosts []string
	// PublicOrigin is the origin browsers use to reach the listener
	// through a proxy that terminates TLS, such as
	// "https://admin.example.com": its host is answered to, and an Origin
	// equal to it is not cross-origin.
	PublicOrigin string
	// Backoff is the backoff of clients that fail to authenticate
	// (DefaultBackoff when zero).
	Backoff Backoff
	// now is the clock (time.Now when nil), for tests.
	now func() time.Time
}

// Backoff says how a client that fails to authenticate is slowed down.
type Backoff struct {
	// Free failures in a row may be made without a wait; the last of
	// them starts one.
	Free int
	// Base is the first wait after them; each further failure doubles
	// it, up to Max.
	Base, Max time.Duration
	// Forget drops a client's failures once it has not failed for that
	// long.
	Forget time.Duration
	// Clients bounds the clients remembered; past it, the one that failed
	// longest ago is forgotten.
	Clients int
}

// DefaultBackoff: 5 tries, then a wait of 1 s, 2 s, 4 s… up to 5 minutes;
// forgotten after 15 minutes without a failure; 4,096 clients remembered.
// A guesser gets about 5 tries, then fewer than 1 a second, then 1 in 5
// minutes.
var DefaultBackoff = Backoff{Free: 5, Base: time.Second, Max: 5 * time.Minute, Forget: 15 * time.Minute, Clients: 4096}

// Stats counts the Guard's refusals.
type Stats struct {
	// AuthFailures are requests refused for their credentials (401).
	AuthFailures uint64
	// Throttled are requests refused while their client waits (429).
	Throttled uint64
	// Misdirected are requests refused for their Host (421).
	Misdirected uint64
	// ReadOnlyRefused are writes refused to a read-only credential (403).
	ReadOnlyRefused uint64
}

// New returns the Guard of credentials c. A PublicOrigin that is not an
// origin is ignored; the caller validates it first (admin.ReadConfig does).
func New(c *Credentials, o Options) *Guard {
	if o.Backoff == (Backoff{}) {
		o.Backoff = DefaultBackoff
	}
	if o.now == nil {
		o.now = time.Now
	}
	g := &Guard{creds: c, opts: o, hosts: map[string]bool{"localhost": true}, log: &rateLog{log: o.Log, now: o.now}}
	for _, h := range o.AllowedHosts {
		g.hosts[hostOnly(h)] = true
	}
	if o.PublicOrigin != "" {
		if canon, ok := parseOrigin(o.PublicOrigin); ok {
			g.public = canon
			_, hostport, _ := strings.Cut(canon, "://")
			g.hosts[hostOnly(hostport)] = true
		}
	}
	g.limiter = &limiter{b: o.Backoff, now: o.now, clients: map[string]*client{}}
	return g
}

// Stats returns the counts of refusals so far.
func (g *Guard) Stats() Stats {
	return Stats{AuthFailures: g.authFailures.Load(), Throttled: g.throttled.Load(), Misdirected: g.misdirected.Load(), ReadOnlyRefused: g.readOnlyRefused.Load()}
}

// Handler wraps next behind the Guard.
func (g *Guard) Handler(next http.Handler) http.Handler {
	if next == nil {
		panic("auth: the next handler is nil")
	}
	return &guarded{g: g, next: next}
}

// User returns the name of the user the Guard authenticated for the
// request whose context is ctx: a Basic user's name, or "token" for a
// Bearer token ("read-only token" for a read-only one). It returns ""
// outside a Guard.
func User(ctx context.Context) string {
	name, _ := ctx.Value(userKey{}).(string)
	return name
}

// userKey is the context key of the user's name.
type userKey struct{}

// guarded is the handler Handler returns.
type guarded struct {
	g    *Guard
	next http.Handler
}

// ServeHTTP implements http.Handler.
func (h *guarded) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g := h.g
	if !g.hostAllowed(r.Host) {
		g.misdirected.Add(1)
		g.refuse(w, r, http.StatusMisdirectedRequest, fmt.Sprintf("This admin listener does not answer to the host %q: reach it by its IP address, by localhost, or by a name listed in the corsgate/admin block's allowed_hosts.", clip(r.Host)),
			fmt.Sprintf("host %q is not one this listener answers to (DNS rebinding?)", clip(r.Host)))
		return
	}
	ip := clientIP(r.RemoteAddr)
	if wait := g.limiter.wait(ip); wait > 0 {
		g.throttled.Add(1)
		secs := int((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		g.refuse(w, r, http.StatusTooManyRequests, fmt.Sprintf("Too many failed attempts from this address: try again in %d s, with the right credentials.", secs),
			fmt.Sprintf("throttled for %d s after failed attempts", secs))
		return
	}
	if origins := r.Header.Values("Origin"); len(origins) > 0 {
		if reason, logged, ok := g.sameOrigin(r, origins); !ok {
			g.refuse(w, r, http.StatusForbidden, reason, logged)
			return
		}
	}
	name, readOnly, v := g.creds.check(r)
	if v != accepted {
		g.authFailures.Add(1)
		if v != noCredentials {
			// A guess. (A request without credentials is not one: a
			// browser sends one before it asks for the password.)
			g.limiter.fail(ip)
		}
		hdr := w.Header()
		hdr.Set("WWW-Authenticate", `Basic realm="corsgate"`)
		if g.creds != nil && len(g.creds.tokens) > 0 {
			hdr.Add("WWW-Authenticate", `Bearer realm="corsgate"`)
		}
		reason, logged := g.explain(name, v)
		if v == noCredentials && g.creds != nil && len(g.creds.users)+len(g.creds.tokens) > 0 {
			// The first request of every browser sign-in: not a warning.
			// It is counted (AuthFailures); guesses are logged.
			logged = ""
		}
		g.refuse(w, r, http.StatusUnauthorized, reason, logged)
		return
	}
	g.limiter.succeed(ip)
	if readOnly && r.Method != http.MethodGet && r.Method != http.MethodHead {
		g.readOnlyRefused.Add(1)
		g.refuse(w, r, http.StatusForbidden, fmt.Sprintf("The credential of %q is read-only: it may read (GET), never change anything; use a credential that may write.", name),
			fmt.Sprintf("a write by the read-only credential %q", name))
		return
	}
	h.next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, name)))
}

// hostAllowed reports whether the listener answers to a Host header.
func (g *Guard) hostAllowed(hostport string) bool {
	host := hostOnly(hostport)
	if host == "" {
		return false
	}
	if net.ParseIP(strings.Trim(host, "[]")) != nil {
		return true
	}
	return g.hosts[host]
}

// hostOnly is the lower-case host of host[:port].
func hostOnly(hostport string) string {
	hostport = strings.ToLower(strings.TrimSpace(hostport))
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}

// clientIP is the IP address of a remote address.
func clientIP(remote string) string {
	if h, _, err := net.SplitHostPort(remote); err == nil {
		return h
	}
	return remote
}

// refusal is one error answer.
type refusal struct {
	Error  string `json:"error"`
	Reason string `json:"reason"`
}

// refuse answers a refusal and reports it to the log, unless logged is
// empty.
func (g *Guard) refuse(w http.ResponseWriter, r *http.Request, status int, reason, logged string) {
	if logged != "" {
		g.log.printf("refused %s %q from %s with %d %s: %s", r.Method, clip(r.URL.Path), r.RemoteAddr, status, http.StatusText(status), logged)
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
	code := map[int]string{
		http.StatusUnauthorized:       "unauthorized",
		http.StatusForbidden:          "forbidden",
		http.StatusTooManyRequests:    "too_many_requests",
		http.StatusMisdirectedRequest: "misdirected_request",
	}[status]
	body, _ := json.Marshal(refusal{Error: code, Reason: reason})
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// rateLog prints at most one line a second, with the count of the lines
// left out since the last one.
type rateLog struct {
	log     func(string)
	now     func() time.Time
	mu      sync.Mutex
	last    time.Time
	dropped int
}

func (l *rateLog) printf(format string, args ...any) {
	if l.log == nil {
		return
	}
	l.mu.Lock()
	now := l.now()
	if !l.last.IsZero() && now.Sub(l.last) < time.Second {
		l.dropped++
		l.mu.Unlock()
		return
	}
	dropped := l.dropped
	l.last, l.dropped = now, 0
	l.mu.Unlock()
	msg := fmt.Sprintf(format, args...)
	if dropped > 0 {
		msg += fmt.Sprintf(" (and %d more refusal(s) since the last line, not logged)", dropped)
	}
	l.log(msg)
}

// limiter keeps the failures of each client.
type limiter struct {
	b       Backoff
	now     func() time.Time
	mu      sync.Mutex
	clients map[string]*client
}

type client struct {
	failures int
	last     time.Time // of the last failure
	until    time.Time // it waits until then
}

// wait is how long ip must still wait before it may try.
func (l *limiter) wait(ip string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.clients[ip]
	if c == nil {
		return 0
	}
	now := l.now()
	if now.Sub(c.last) > l.b.Forget {
		delete(l.clients, ip)
		return 0
	}
	return c.until.Sub(now)
}

// fail records a failure of ip.
func (l *limiter) fail(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	c := l.clients[ip]
	if c == nil {
		if len(l.clients) >= l.b.Clients {
			l.forgetOldest(now)
		}
		c = &client{}
		l.clients[ip] = c
	}
	c.failures++
	c.last = now
	if over := c.failures - l.b.Free + 1; over > 0 {
		d := l.b.Base
		for i := 1; i < over && d < l.b.Max; i++ {
			d *= 2
		}
		c.until = now.Add(min(d, l.b.Max))
	}
}

// succeed forgets the failures of ip.
func (l *limiter) succeed(ip string) {
	l.mu.Lock()
	delete(l.clients, ip)
	l.mu.Unlock()
}

// forgetOldest drops the expired clients, or else the one that failed
// longest ago. l.mu is held.
func (l *limiter) forgetOldest(now time.Time) {
	oldest, at := "", now
	for ip, c := range l.clients {
		if now.Sub(c.last) > l.b.Forget {
			delete(l.clients, ip)
			continue
		}
		if c.last.Before(at) {
			oldest, at = ip, c.last
		}
	}
	if len(l.clients) >= l.b.Clients && oldest != "" {
		delete(l.clients, oldest)
	}
}

// explain gives the reason sent to the client and the one logged for a
// refused verdict. The client is not told whether a user exists.
func (g *Guard) explain(name string, v verdict) (reason, logged string) {
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
// addressed to (or the public origin), and gives the refusal's reason and
// log line.
func (g *Guard) sameOrigin(r *http.Request, origins []string) (reason, logged string, ok bool) {
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
	if gotOK && (wantOK && got == want || g.public != "" && got == g.public) {
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
