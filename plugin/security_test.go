package plugin_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/corsgate/corsgate/engine/origin"
	"github.com/corsgate/corsgate/plugin/plugintest"
)

// The security regression table: for every form of allow_origins the
// validator accepts, none of the hostile origins below gets an
// Access-Control-Allow-Origin that matches it unless the configuration
// allows it by name (or by a wildcard that really covers it, listed per
// row in allowed), and credentials never go with an origin the
// configuration does not list exactly. Everything goes through the real
// Handler, for preflights and for actual requests.

// secHostile are origins an attacker controls or can make a browser send.
var secHostile = []string{
	"null",
	"https://evil-example.com",             // *.example.com must not glue onto the label
	"https://example.com.evil.net",         // suffix attack
	"https://app.example.com.evil.net",     // suffix attack on an exact origin
	"https://example.com",                  // the parent of *.example.com
	"http://app.example.com",               // http instead of https
	"https://app.example.com:8443",         // another port
	"https://app.example.com:0443",         // the default port with a leading zero
	"https://app.example.com.",             // trailing dot
	"https://APP.EXAMPLE.COM.",             // trailing dot, upper case
	"https://user@app.example.com",         // user information
	"https://app.example.com@evil.net",     // user information hiding the real host
	"https://app.example.com/",             // a path
	"https://app.example.com/path",         // a path
	"https://app.ex\u0430mple.com",         // Cyrillic а (U+0430) look-alike
	"https://\u0430pp.example.com",         // Cyrillic а in the subdomain
	"https://app.xn--exmple-cua.com",       // punycode of the look-alike
	"https://xn--exmple-cua.com",           // punycode look-alike of example.com
	"https://\u0130.example.com",           // folds to i.example.com under strings.ToLower
	"https://*.example.com",                // a pattern sent as an origin
	"https://app.example.com\x00",          // a NUL byte
	"https://app.example.com, https://a.b", // two origins in one line
}

type secRow struct {
	name string
	cors map[string]any
	// controls are origins the row must allow (so that a row that refuses
	// everything cannot pass).
	controls []string
	// allowed are the entries of secHostile the configuration really
	// allows.
	allowed []string
	// listed are the origins credentials may go with.
	listed []string
	// anyOrigin: the row answers "*" and never reflects.
	anyOrigin bool
	// unsafeReflect: allow_any_origin_with_credentials_unsafe, which
	// reflects every origin with credentials by design.
	unsafeReflect bool
}

func secRows() []secRow {
	methods := []any{"GET", "PUT"}
	return []secRow{
		{
			name:     "exact",
			cors:     map[string]any{"allow_origins": []any{"https://app.example.com"}, "allow_methods": methods, "allow_credentials": true},
			controls: []string{"https://app.example.com", "https://app.example.com:443", "HTTPS://App.Example.COM"},
			listed:   []string{"https://app.example.com", "https://app.example.com:443", "HTTPS://App.Example.COM"},
		},
		{
			name:     "exact with port",
			cors:     map[string]any{"allow_origins": []any{"https://app.example.com:8443"}, "allow_methods": methods, "allow_credentials": true},
			controls: []string{"https://app.example.com:8443"},
			allowed:  []string{"https://app.example.com:8443"},
			listed:   []string{"https://app.example.com:8443"},
		},
		{
			name:     "subdomain",
			cors:     map[string]any{"allow_origins": []any{"https://*.example.com"}, "allow_methods": methods},
			controls: []string{"https://app.example.com", "https://a.b.example.com"},
		},
		{
			name:     "any port",
			cors:     map[string]any{"allow_origins": []any{"https://app.example.com:*"}, "allow_methods": methods},
			controls: []string{"https://app.example.com", "https://app.example.com:1"},
			allowed:  []string{"https://app.example.com:8443"},
		},
		{
			name:     "subdomain and any port",
			cors:     map[string]any{"allow_origins": []any{"https://*.example.com:*"}, "allow_methods": methods},
			controls: []string{"https://app.example.com", "https://a.b.example.com:9000"},
			allowed:  []string{"https://app.example.com:8443"},
		},
		{
			name:      "star",
			cors:      map[string]any{"allow_origins": []any{"*"}, "allow_methods": methods},
			anyOrigin: true,
		},
		{
			name:     "null listed",
			cors:     map[string]any{"allow_origins": []any{"null", "https://app.example.com"}, "allow_methods": methods},
			controls: []string{"null", "https://app.example.com"},
			allowed:  []string{"null"},
		},
		{
			name: "regex, anchored",
			cors: map[string]any{
				"allow_origins_regex": []any{`^https://[a-z0-9-]+\.example\.com$`},
				"allow_methods":       methods,
			},
			controls: []string{"https://app.example.com", "https://a-b.example.com"},
		},
		{
			name: "regex, anchored, with credentials",
			cors: map[string]any{
				"allow_origins":       []any{"https://app.example.com"},
				"allow_origins_regex": []any{`^https://(admin|app)\.example\.com$`},
				"allow_methods":       methods,
				"allow_credentials":   true,
			},
			controls: []string{"https://app.example.com", "https://admin.example.com"},
			listed:   []string{"https://app.example.com", "https://admin.example.com"},
		},
		{
			name: "allow_any_origin_with_credentials_unsafe",
			cors: map[string]any{
				"allow_origins": []any{"*"},
				"allow_any_origin_with_credentials_unsafe": true,
				"allow_credentials":                        true,
				"allow_methods":                            methods,
			},
			controls:      []string{"https://app.example.com"},
			unsafeReflect: true,
		},
	}
}

func secHandler(t *testing.T, cors map[string]any) http.Handler {
	t.Helper()
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("ok"))
	})
	return plugintest.Gateway{CORS: cors}.Controller(t).Handler(next)
}

// secSend sends a preflight or an actual request whose Origin lines are
// origins, set raw so that invalid bytes reach the Handler.
func secSend(h http.Handler, preflight bool, origins ...string) http.Header {
	method := http.MethodGet
	if preflight {
		method = http.MethodOptions
	}
	r := httptest.NewRequest(method, "/users/1", nil)
	r.Header["Origin"] = origins
	if preflight {
		r.Header["Access-Control-Request-Method"] = []string{"PUT"}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result().Header
}

func TestSecurityOrigins(t *testing.T) {
	for _, row := range secRows() {
		t.Run(row.name, func(t *testing.T) {
			h := secHandler(t, row.cors)
			for _, preflight := range []bool{true, false} {
				kind := "actual"
				if preflight {
					kind = "preflight"
				}
				for _, o := range row.controls {
					got := secSend(h, preflight, o)
					if acao := got.Values("Access-Control-Allow-Origin"); len(acao) != 1 || acao[0] != o {
						t.Errorf("%s from %q (a control the row must allow): Access-Control-Allow-Origin %q", kind, o, acao)
					}
				}
				for _, o := range secHostile {
					got := secSend(h, preflight, o)
					acao := got.Values("Access-Control-Allow-Origin")
					creds := got.Get("Access-Control-Allow-Credentials") == "true"
					switch {
					case row.anyOrigin:
						if len(acao) != 1 || acao[0] != "*" || creds {
							t.Errorf("%s from %q: Access-Control-Allow-Origin %q, credentials %v; want only *", kind, o, acao, creds)
						}
					case row.unsafeReflect && origin.WellFormed(o):
						// By design every origin a page can have is reflected
						// with credentials, exactly as sent, once.
						if len(acao) != 1 || acao[0] != o || !creds {
							t.Errorf("%s from %q: Access-Control-Allow-Origin %q, credentials %v; the unsafe opt-in reflects the origin exactly", kind, o, acao, creds)
						}
					case row.unsafeReflect:
						// ...but never "null" nor a malformed value.
						if len(acao) != 0 || creds {
							t.Errorf("%s from %q (null or malformed): Access-Control-Allow-Origin %q, credentials %v; want none", kind, o, acao, creds)
						}
					case slices.Contains(row.allowed, o):
						if len(acao) != 1 || acao[0] != o {
							t.Errorf("%s from %q (allowed by the row): Access-Control-Allow-Origin %q", kind, o, acao)
						}
					default:
						if len(acao) != 0 {
							t.Errorf("%s from hostile origin %q: Access-Control-Allow-Origin %q, want none", kind, o, acao)
						}
					}
					if creds && !row.unsafeReflect && (len(acao) != 1 || !slices.Contains(row.listed, acao[0])) {
						t.Errorf("%s from %q: credentials with Access-Control-Allow-Origin %q, which the row does not list exactly", kind, o, acao)
					}
				}
				// Several Origin lines never get an answer, whatever they hold.
				for _, o := range append(slices.Clone(row.controls), "https://evil.example.org") {
					got := secSend(h, preflight, o, o)
					if acao := got.Values("Access-Control-Allow-Origin"); len(acao) != 0 && !(row.anyOrigin && acao[0] == "*") {
						t.Errorf("%s with two Origin lines %q: Access-Control-Allow-Origin %q", kind, o, acao)
					}
					if got.Get("Access-Control-Allow-Credentials") != "" {
						t.Errorf("%s with two Origin lines %q: credentials allowed", kind, o)
					}
				}
			}
		})
	}
}

// TestSecurityCredentialsNeedExactOrigins: the validator refuses every
// configuration that would combine credentials with an origin that is not
// listed exactly, unless the unsafe opt-in is set.
func TestSecurityCredentialsNeedExactOrigins(t *testing.T) {
	for _, origins := range [][]any{
		{"*"}, {}, {"https://*.example.com"}, {"https://app.example.com:*"}, {"https://*.example.com:*"}, {"null"},
		{"https://app.example.com", "https://*.example.com"},
	} {
		cors := map[string]any{"allow_origins": origins, "allow_credentials": true}
		if errs := (plugintest.Gateway{CORS: cors}).Errors(t); len(errs) == 0 {
			t.Errorf("allow_credentials with allow_origins %q is accepted", origins)
		}
	}
}
