package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corsgate/corsgate/admin/auth"
)

// guardRequest is one request through the Guard.
type guardRequest struct {
	name   string
	method string
	// target is the URL the request is addressed to; https sets r.TLS.
	target string
	// origins and authorization are the header lines.
	origins       []string
	authorization []string
	// preflight adds Access-Control-Request-Method: PUT.
	preflight bool
}

func (g guardRequest) build() *http.Request {
	method := g.method
	if method == "" {
		method = "GET"
	}
	r := httptest.NewRequest(method, g.target, nil)
	for _, o := range g.origins {
		r.Header.Add("Origin", o)
	}
	for _, a := range g.authorization {
		r.Header.Add("Authorization", a)
	}
	if g.preflight {
		r.Header.Set("Access-Control-Request-Method", "PUT")
		r.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	}
	return r
}

// inner is the handler behind the Guard: it answers 200 with the user.
type inner struct{ calls int }

func (h *inner) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.calls++
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte("user=" + auth.User(r.Context())))
}

// serve runs one request through a Guard and checks what every answer
// must be: no Access-Control-* header; a refusal is Cloudant-shaped JSON,
// not cached, and a 401 carries the challenges; the inner handler runs
// exactly for a 200. It returns the recorder and the refusal's body.
func serve(t *testing.T, c *auth.Credentials, log func(string), req *http.Request) (*httptest.ResponseRecorder, refusal) {
	t.Helper()
	h := &inner{}
	w := httptest.NewRecorder()
	auth.New(c, auth.Options{Log: log, AllowedHosts: []string{"admin.example"}}).Handler(h).ServeHTTP(w, req)
	for k := range w.Header() {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			t.Errorf("the answer has %s: %q", k, w.Header().Values(k))
		}
	}
	if (w.Code == http.StatusOK) != (h.calls == 1) || h.calls > 1 {
		t.Errorf("status %d, and the inner handler ran %d times", w.Code, h.calls)
	}
	var body refusal
	switch w.Code {
	case http.StatusOK:
		return w, body
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests, http.StatusMisdirectedRequest:
	default:
		t.Fatalf("status %d, want 200, 401, 403, 421 or 429", w.Code)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("the body is not {error, reason}: %v: %s", err, w.Body)
	}
	wantError := map[int]string{http.StatusUnauthorized: "unauthorized", http.StatusForbidden: "forbidden", http.StatusTooManyRequests: "too_many_requests", http.StatusMisdirectedRequest: "misdirected_request"}[w.Code]
	if body.Error != wantError {
		t.Errorf("error %q, want %q", body.Error, wantError)
	}
	if len(body.Reason) < 20 || !strings.HasSuffix(body.Reason, ".") || strings.Contains(body.Reason, "\n") {
		t.Errorf("reason %q is not one sentence", body.Reason)
	}
	challenges := w.Header().Values("WWW-Authenticate")
	if w.Code == http.StatusForbidden && len(challenges) > 0 {
		t.Errorf("a 403 with WWW-Authenticate %q", challenges)
	}
	if w.Code == http.StatusUnauthorized {
		want := []string{`Basic realm="corsgate"`}
		if c != nil && strings.Contains(c.Describe(), "Bearer") {
			want = append(want, `Bearer realm="corsgate"`)
		}
		if !slices.Equal(challenges, want) {
			t.Errorf("WWW-Authenticate %q, want %q", challenges, want)
		}
	}
	return w, body
}

// refusal is a refusal's body.
type refusal struct {
	Error  string `json:"error"`
	Reason string `json:"reason"`
}

func TestGuard(t *testing.T) {
	admin := []string{basicHeader("admin", goodPassword)}
	bearer := []string{"Bearer " + goodToken}
	tests := []struct {
		req    guardRequest
		status int
		user   string
		// reason is a substring of the refusal's reason.
		reason string
	}{
		// Credentials, without Origin.
		{req: guardRequest{name: "no credentials", target: "http://127.0.0.1:9091/_api/v2/user/config/cors"}, status: 401, reason: "needs credentials"},
		{req: guardRequest{name: "Basic", target: "http://127.0.0.1:9091/_api/v2/user/config/cors", authorization: admin}, status: 200, user: "admin"},
		{req: guardRequest{name: "Bearer", method: "PUT", target: "http://127.0.0.1:9091/v1/cors/policy", authorization: bearer}, status: 200, user: "token"},
		{req: guardRequest{name: "wrong password", target: "http://127.0.0.1:9091/", authorization: []string{basicHeader("admin", "x"+goodPassword)}}, status: 401, reason: "user name or the password is wrong"},
		{req: guardRequest{name: "wrong user", target: "http://127.0.0.1:9091/", authorization: []string{basicHeader("root", goodPassword)}}, status: 401, reason: "user name or the password is wrong"},
		{req: guardRequest{name: "wrong token", target: "http://127.0.0.1:9091/", authorization: []string{"Bearer x" + goodToken}}, status: 401, reason: "Bearer token is wrong"},
		{req: guardRequest{name: "malformed Basic", target: "http://127.0.0.1:9091/", authorization: []string{"Basic ***"}}, status: 401, reason: "Authorization header is malformed"},
		{req: guardRequest{name: "other scheme", target: "http://127.0.0.1:9091/", authorization: []string{"Digest x"}}, status: 401, reason: "neither Basic nor Bearer"},

		// Same origin: judged by credentials.
		{req: guardRequest{name: "same origin", target: "http://127.0.0.1:9091/", origins: []string{"http://127.0.0.1:9091"}, authorization: admin}, status: 200, user: "admin"},
		{req: guardRequest{name: "same origin, explicit default port", target: "http://127.0.0.1/", origins: []string{"http://127.0.0.1:80"}, authorization: admin}, status: 200, user: "admin"},
		{req: guardRequest{name: "same origin, Host with the default port", target: "http://127.0.0.1:80/", origins: []string{"http://127.0.0.1"}, authorization: admin}, status: 200, user: "admin"},
		{req: guardRequest{name: "same origin, other case", target: "http://admin.example/", origins: []string{"HTTP://Admin.Example"}, authorization: bearer}, status: 200, user: "token"},
		{req: guardRequest{name: "same origin over TLS, explicit 443", target: "https://admin.example/", origins: []string{"https://admin.example:443"}, authorization: admin}, status: 200, user: "admin"},
		{req: guardRequest{name: "same origin, IPv6", target: "http://[::1]:9091/", origins: []string{"http://[::1]:9091"}, authorization: admin}, status: 200, user: "admin"},
		{req: guardRequest{name: "same origin without credentials", target: "http://127.0.0.1:9091/", origins: []string{"http://127.0.0.1:9091"}}, status: 401},
		{req: guardRequest{name: "same-origin OPTIONS, like any request", method: "OPTIONS", target: "http://127.0.0.1:9091/", origins: []string{"http://127.0.0.1:9091"}, authorization: admin, preflight: true}, status: 200, user: "admin"},

		// Cross-origin: 403 whatever the credentials.
		{req: guardRequest{name: "foreign origin", target: "http://127.0.0.1:9091/", origins: []string{"https://evil.example"}, authorization: admin}, status: 403, reason: `the Origin "https://evil.example" is not the origin this request was addressed to, "http://127.0.0.1:9091"`},
		{req: guardRequest{name: "foreign origin without credentials", target: "http://127.0.0.1:9091/", origins: []string{"https://evil.example"}}, status: 403},
		{req: guardRequest{name: "null", target: "http://127.0.0.1:9091/", origins: []string{"null"}, authorization: admin}, status: 403, reason: `Origin "null"`},
		{req: guardRequest{name: "https origin, http request", target: "http://admin.example/", origins: []string{"https://admin.example"}, authorization: admin}, status: 403},
		{req: guardRequest{name: "http origin, https request", target: "https://admin.example/", origins: []string{"http://admin.example"}, authorization: admin}, status: 403},
		{req: guardRequest{name: "other port", target: "http://127.0.0.1:9091/", origins: []string{"http://127.0.0.1:9092"}, authorization: admin}, status: 403},
		{req: guardRequest{name: "default port, request on another", target: "http://127.0.0.1:9091/", origins: []string{"http://127.0.0.1"}, authorization: admin}, status: 403},
		{req: guardRequest{name: "suffix attack", target: "http://admin.example/", origins: []string{"http://admin.example.evil.example"}, authorization: admin}, status: 403},
		{req: guardRequest{name: "subdomain", target: "http://admin.example/", origins: []string{"http://x.admin.example"}, authorization: admin}, status: 403},
		{req: guardRequest{name: "localhost for 127.0.0.1", target: "http://127.0.0.1:9091/", origins: []string{"http://localhost:9091"}, authorization: admin}, status: 403},
		{req: guardRequest{name: "origin with a path", target: "http://admin.example/", origins: []string{"http://admin.example/"}, authorization: admin}, status: 403},
		{req: guardRequest{name: "empty Origin", target: "http://admin.example/", origins: []string{""}, authorization: admin}, status: 403},
		{req: guardRequest{name: "two origins in one line", target: "http://admin.example/", origins: []string{"http://admin.example http://admin.example"}, authorization: admin}, status: 403},
		{req: guardRequest{name: "two Origin lines, both the same origin", target: "http://admin.example/", origins: []string{"http://admin.example", "http://admin.example"}, authorization: admin}, status: 403, reason: "several Origin headers"},
		{req: guardRequest{name: "cross-origin preflight with valid credentials", method: "OPTIONS", target: "http://127.0.0.1:9091/v1/cors/policy", origins: []string{"https://evil.example"}, authorization: admin, preflight: true}, status: 403},
		{req: guardRequest{name: "cross-origin preflight without credentials", method: "OPTIONS", target: "http://127.0.0.1:9091/v1/cors/policy", origins: []string{"https://evil.example"}, preflight: true}, status: 403},
	}
	c := testCredentials(t)
	for _, tt := range tests {
		t.Run(tt.req.name, func(t *testing.T) {
			w, body := serve(t, c, nil, tt.req.build())
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.status == http.StatusOK {
				if got := w.Body.String(); got != "user="+tt.user {
					t.Errorf("the inner handler saw %q, want user=%s", got, tt.user)
				}
			}
			if !strings.Contains(body.Reason, tt.reason) {
				t.Errorf("reason %q, want it to contain %q", body.Reason, tt.reason)
			}
		})
	}
}

// TestGuardSameAnswerForUnknownUserAndWrongPassword: a client cannot
// learn which user names exist.
func TestGuardSameAnswerForUnknownUserAndWrongPassword(t *testing.T) {
	c := testCredentials(t)
	answer := func(user, pass string) string {
		r := guardRequest{target: "http://127.0.0.1:9091/", authorization: []string{basicHeader(user, pass)}}.build()
		w, _ := serve(t, c, nil, r)
		return w.Body.String()
	}
	if a, b := answer("admin", "wrong-password"), answer("nobody", "wrong-password"); a != b {
		t.Errorf("a wrong password answers %s, an unknown user %s", a, b)
	}
}

func TestGuardChallenges(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		// want is the reason of a request without credentials.
		want string
	}{
		{"Basic only", map[string]string{auth.EnvUser: "admin", auth.EnvPassword: goodPassword}, "send HTTP Basic credentials (curl -u NAME:PASSWORD)."},
		{"Bearer only", map[string]string{auth.EnvToken: goodToken}, "send a header Authorization: Bearer TOKEN."},
		{"both", map[string]string{auth.EnvUser: "admin", auth.EnvPassword: goodPassword, auth.EnvToken: goodToken}, "send HTTP Basic credentials (curl -u NAME:PASSWORD) or a header Authorization: Bearer TOKEN."},
		{"none", nil, "has no credentials configured, so it refuses every request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := auth.Load(auth.Sources{Getenv: fakeEnv(tt.env)})
			if err != nil {
				t.Fatal(err)
			}
			// serve checks WWW-Authenticate against the kinds configured.
			w, body := serve(t, c, nil, guardRequest{target: "http://127.0.0.1:9091/"}.build())
			if w.Code != http.StatusUnauthorized || !strings.Contains(body.Reason, tt.want) {
				t.Errorf("%d %q, want 401 with a reason containing %q", w.Code, body.Reason, tt.want)
			}
		})
	}
}

// TestGuardNilCredentials: a Guard without credentials fails closed.
func TestGuardNilCredentials(t *testing.T) {
	for _, a := range [][]string{nil, {basicHeader("admin", goodPassword)}, {"Bearer " + goodToken}, {"Basic " + "Og=="}} {
		w, _ := serve(t, nil, nil, guardRequest{target: "http://127.0.0.1:9091/", authorization: a}.build())
		if w.Code != http.StatusUnauthorized {
			t.Errorf("Authorization %q: status %d, want 401", a, w.Code)
		}
	}
}

// TestGuardRemovesCORSHeaders: a refusal carries no Access-Control-*
// header, even one a handler around the Guard set before it.
func TestGuardRemovesCORSHeaders(t *testing.T) {
	guard := auth.New(testCredentials(t), auth.Options{}).Handler(&inner{})
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		guard.ServeHTTP(w, r)
	})
	for _, req := range []guardRequest{
		{name: "401", target: "http://127.0.0.1:9091/"},
		{name: "403", target: "http://127.0.0.1:9091/", origins: []string{"https://evil.example"}, preflight: true, method: "OPTIONS"},
	} {
		w := httptest.NewRecorder()
		outer.ServeHTTP(w, req.build())
		if w.Code == http.StatusOK {
			t.Fatalf("%s: status 200", req.name)
		}
		for k := range w.Header() {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("%s: the refusal has %s", req.name, k)
			}
		}
	}
}

func TestUserOutsideGuard(t *testing.T) {
	if got := auth.User(context.Background()); got != "" {
		t.Errorf("User outside a Guard = %q, want \"\"", got)
	}
}

// TestGuardLog: every refusal is logged once, with the remote address
// and the reason, and no log line ever holds a password or a token,
// whether configured or sent.
func TestGuardLog(t *testing.T) {
	c := testCredentials(t)
	const typedInUserField = "my-secret-typed-as-the-name"
	tests := []struct {
		req guardRequest
		// logged is a substring of the log line, "" when there is none.
		logged string
	}{
		{guardRequest{name: "valid Basic", target: "http://127.0.0.1:9091/", authorization: []string{basicHeader("admin", goodPassword)}}, ""},
		{guardRequest{name: "valid Bearer", target: "http://127.0.0.1:9091/", authorization: []string{"Bearer " + goodToken}}, ""},
		// The first request of a browser's sign-in: answered 401, not logged.
		{guardRequest{name: "no credentials", target: "http://127.0.0.1:9091/a", method: "DELETE"}, ""},
		{guardRequest{name: "wrong password, with the path", target: "http://127.0.0.1:9091/a", method: "DELETE", authorization: []string{basicHeader("admin", "nope")}}, `refused DELETE "/a" from 192.0.2.1:1234 with 401 Unauthorized: wrong password for user "admin"`},
		{guardRequest{name: "wrong password", target: "http://127.0.0.1:9091/", authorization: []string{basicHeader("admin", goodPassword+"!")}}, `wrong password for user "admin"`},
		{guardRequest{name: "password typed as the name", target: "http://127.0.0.1:9091/", authorization: []string{basicHeader(typedInUserField, "")}}, "unknown Basic user (the name is not logged)"},
		{guardRequest{name: "wrong token", target: "http://127.0.0.1:9091/", authorization: []string{"Bearer " + goodToken + "0"}}, "wrong Bearer token"},
		{guardRequest{name: "token without a space after Bearer", target: "http://127.0.0.1:9091/", authorization: []string{"Bearer" + goodToken}}, "neither Basic nor Bearer"},
		{guardRequest{name: "password with no scheme", target: "http://127.0.0.1:9091/", authorization: []string{goodPassword}}, "neither Basic nor Bearer"},
		{guardRequest{name: "two Authorization lines", target: "http://127.0.0.1:9091/", authorization: []string{"Bearer " + goodToken, basicHeader("admin", goodPassword)}}, "malformed Authorization header"},
		{guardRequest{name: "cross-origin with valid Basic", target: "http://127.0.0.1:9091/", origins: []string{"https://evil.example"}, authorization: []string{basicHeader("admin", goodPassword)}}, `refused GET "/" from 192.0.2.1:1234 with 403 Forbidden: cross-origin request: Origin "https://evil.example", addressed to "http://127.0.0.1:9091"`},
		{guardRequest{name: "cross-origin with valid Bearer", method: "OPTIONS", target: "http://127.0.0.1:9091/", origins: []string{"null"}, authorization: []string{"Bearer " + goodToken}, preflight: true}, `Origin "null"`},
	}
	secrets := []string{goodPassword, goodToken, typedInUserField}
	for _, tt := range tests {
		t.Run(tt.req.name, func(t *testing.T) {
			var lines []string
			req := tt.req.build()
			serve(t, c, func(msg string) { lines = append(lines, msg) }, req)
			if tt.logged == "" {
				if len(lines) != 0 {
					t.Errorf("logged, and should not be: %q", lines)
				}
				return
			}
			if len(lines) != 1 {
				t.Fatalf("%d log lines, want 1: %q", len(lines), lines)
			}
			if !strings.Contains(lines[0], tt.logged) || !strings.Contains(lines[0], req.RemoteAddr) {
				t.Errorf("log %q, want it to contain %q and %s", lines[0], tt.logged, req.RemoteAddr)
			}
			for _, s := range append(secrets, strings.TrimPrefix(tt.req.authorization0(), "Basic ")) {
				if s != "" && strings.Contains(lines[0], s) {
					t.Errorf("the log shows a secret %q: %s", s, lines[0])
				}
			}
		})
	}
}

// authorization0 is the first Authorization line, or "".
func (g guardRequest) authorization0() string {
	if len(g.authorization) == 0 {
		return ""
	}
	return g.authorization[0]
}

// The Host check: IP literals, localhost, allowed_hosts and the public
// origin's host are answered; any other name gets 421 before anything
// else, so that a rebinding page reaches no handler.
func TestGuardHost(t *testing.T) {
	c := testCredentials(t)
	g := auth.New(c, auth.Options{AllowedHosts: []string{"admin.internal.example:9091"}, PublicOrigin: "https://admin.example.com"})
	for _, tt := range []struct {
		host, origin string
		want         int
	}{
		{"127.0.0.1:9091", "", 200},
		{"[::1]:9091", "", 200},
		{"10.0.0.5:9091", "", 200},
		{"localhost:9091", "", 200},
		{"LOCALHOST:9091", "", 200},
		{"admin.internal.example:1234", "", 200},
		{"admin.example.com", "https://admin.example.com", 200},
		{"evil.example:9091", "http://evil.example:9091", 421},
		{"evil.example:9091", "", 421},
		{"localhost.evil.example", "", 421},
		{"", "", 421},
	} {
		h := &inner{}
		w := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "http://placeholder/", nil)
		req.Host = tt.host
		if tt.origin != "" {
			req.Header.Set("Origin", tt.origin)
		}
		req.Header.Set("Authorization", basicHeader("admin", goodPassword))
		g.Handler(h).ServeHTTP(w, req)
		if w.Code != tt.want || (tt.want == 421) != (h.calls == 0) {
			t.Errorf("Host %q, Origin %q: %d (handler ran %d times), want %d: %s", tt.host, tt.origin, w.Code, h.calls, tt.want, w.Body)
		}
	}
	if g.Stats().Misdirected != 4 {
		t.Errorf("Stats %+v, want 4 misdirected", g.Stats())
	}
}

// Backoff: a client that sends wrong credentials Free times waits, whatever
// it sends, then twice as long after each further failure; a request
// without credentials is no failure; success forgets; another client is
// not slowed down.
func TestGuardBackoff(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g := auth.New(testCredentials(t), auth.NewOptionsForTest(func() time.Time { return now }))
	try := func(remote, password string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "http://127.0.0.1:9091/", nil)
		req.RemoteAddr = remote
		if password != "" {
			req.Header.Set("Authorization", basicHeader("admin", password))
		}
		g.Handler(&inner{}).ServeHTTP(w, req)
		return w
	}
	const guesser, other = "192.0.2.7:1000", "192.0.2.8:1000"
	for i := 0; i < 20; i++ {
		if w := try(guesser, ""); w.Code != 401 {
			t.Fatalf("a request without credentials: %d", w.Code)
		}
	}
	for i := 1; i <= auth.DefaultBackoff.Free; i++ {
		if w := try(guesser, "guess"); w.Code != 401 {
			t.Fatalf("guess %d: %d, want 401", i, w.Code)
		}
	}
	w := try(guesser, goodPassword)
	if w.Code != 429 || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("the right password while waiting: %d, Retry-After %q; want 429, 1", w.Code, w.Header().Get("Retry-After"))
	}
	if w := try(other, goodPassword); w.Code != 200 {
		t.Errorf("another client: %d", w.Code)
	}
	now = now.Add(time.Second)
	try(guesser, "guess") // a sixth failure: 2 s
	if w := try(guesser, goodPassword); w.Code != 429 || w.Header().Get("Retry-After") != "2" {
		t.Errorf("after a sixth failure: %d, Retry-After %q; want 429, 2", w.Code, w.Header().Get("Retry-After"))
	}
	now = now.Add(2 * time.Second)
	if w := try(guesser, goodPassword); w.Code != 200 {
		t.Errorf("the right password after the wait: %d", w.Code)
	}
	if w := try(guesser, "guess"); w.Code != 401 {
		t.Errorf("a failure after a success starts again from nothing: %d", w.Code)
	}
	st := g.Stats()
	if st.Throttled != 2 || st.AuthFailures != uint64(20+auth.DefaultBackoff.Free+2) {
		t.Errorf("Stats %+v", st)
	}
}

// A read-only credential reads, and gets 403 on every write.
func TestGuardReadOnly(t *testing.T) {
	c, err := auth.Load(auth.Sources{Getenv: fakeEnv(map[string]string{auth.EnvReadToken: "read-" + goodToken, auth.EnvUser: "admin", auth.EnvPassword: goodPassword})})
	if err != nil {
		t.Fatal(err)
	}
	g := auth.New(c, auth.Options{})
	for _, method := range []string{"GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"} {
		h := &inner{}
		w := httptest.NewRecorder()
		req := httptest.NewRequest(method, "http://127.0.0.1:9091/v1/cors/layer", nil)
		req.Header.Set("Authorization", "Bearer read-"+goodToken)
		g.Handler(h).ServeHTTP(w, req)
		want := 403
		if method == "GET" || method == "HEAD" {
			want = 200
		}
		if w.Code != want || (want == 200) != (h.calls == 1) {
			t.Errorf("%s with the read-only token: %d, want %d", method, w.Code, want)
		}
		if want == 403 && !strings.Contains(w.Body.String(), "read-only") {
			t.Errorf("%s: %s", method, w.Body)
		}
	}
	if g.Stats().ReadOnlyRefused != 5 {
		t.Errorf("Stats %+v", g.Stats())
	}
}

// The log takes at most one line a second, and says how many it left out.
func TestGuardLogIsBounded(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var lines []string
	o := auth.NewOptionsForTest(func() time.Time { return now })
	o.Log = func(msg string) { lines = append(lines, msg) }
	g := auth.New(testCredentials(t), o)
	for i := 0; i < 1000; i++ {
		w := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "http://127.0.0.1:9091/", nil)
		req.Header.Set("Authorization", "Bearer a-wrong-token")
		g.Handler(&inner{}).ServeHTTP(w, req)
		if i%100 == 99 {
			now = now.Add(time.Second)
		}
	}
	if len(lines) != 10 || !strings.Contains(lines[1], "(and 99 more refusal(s) since the last line, not logged)") {
		t.Errorf("%d lines: %q", len(lines), lines[:min(len(lines), 3)])
	}
}
