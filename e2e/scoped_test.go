package e2e

// End-to-end tests of the scoped CORS features: endpoint-level policies
// merged over the service policy, exempted endpoints (disable: true),
// terminate_unmatched_request, allow_origins_regex, the unsafe
// any-origin-with-credentials opt-in, expose_headers prefixes and
// strip_cors_request_headers, plus "corsgate check" on their mistakes.

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

const (
	scopedOriginOther  = "https://other.example"
	scopedOriginEvil   = "https://evil.example"
	scopedOriginRandom = "https://random.example"
)

// withCORS returns ep with cors as its extra_config["security/cors"].
func withCORS(ep obj, cors obj) obj {
	extra, _ := ep["extra_config"].(obj)
	if extra == nil {
		extra = obj{}
	}
	extra["security/cors"] = cors
	ep["extra_config"] = extra
	return ep
}

// newScopedBackend starts a backend on 127.0.0.1 that counts every request
// and records its headers like newBackend, and answers with handler.
func newScopedBackend(t testing.TB, handler http.HandlerFunc) *backend {
	t.Helper()
	b := &backend{}
	b.serve(t, handler)
	return b
}

// jsonOK answers every request with a small JSON object naming its method
// and path.
func jsonOK(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(obj{"method": r.Method, "path": r.URL.Path})
}

// assertRefusedPreflight checks a preflight the gateway answered itself
// without allowing it: the given status and no Access-Control-Allow-*.
func assertRefusedPreflight(t *testing.T, resp *http.Response, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status = %d, want %d", resp.StatusCode, status)
	}
	assertNoAllowHeaders(t, resp.Header)
}

// assertAllowedPreflight checks a preflight allowed for origin and method.
func assertAllowedPreflight(t *testing.T, resp *http.Response, origin, method string) {
	t.Helper()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("status = %d, want 204", resp.StatusCode)
	}
	assertSingle(t, resp.Header, "Access-Control-Allow-Origin", origin)
	assertSingle(t, resp.Header, "Access-Control-Allow-Methods", method)
}

// scopedServiceCORS is the service policy of the endpoint-override tests.
func scopedServiceCORS() obj {
	return obj{
		"allow_origins": []any{originApp},
		"allow_methods": []any{"GET", "POST"},
		"allow_headers": []any{"Content-Type", "X-Api-Key"},
		"max_age":       "10m",
	}
}

// scopedEndpoints are the endpoints of spec 1: GET /admin/{id} with its own
// origins, PUT /users/{id} with its own methods, GET /users/{id} without a
// block.
func scopedEndpoints(backendURL string) []obj {
	return []obj{
		withCORS(jsonEndpoint("GET", "/admin/{id}", backendURL, "/admin/{id}"), obj{
			"allow_origins": []any{originAdmin},
			"allow_methods": []any{"GET"},
		}),
		withCORS(jsonEndpoint("PUT", "/users/{id}", backendURL, "/users/{id}"), obj{
			"allow_methods": []any{"GET", "PUT"},
		}),
		jsonEndpoint("GET", "/users/{id}", backendURL, "/users/{id}"),
	}
}

func TestScopedEndpointPolicies(t *testing.T) {
	b := newScopedBackend(t, jsonOK)
	g := startGateway(t, false, func(port int) obj {
		return serviceConfig(port, scopedServiceCORS(), nil, scopedEndpoints(b.URL)...)
	})

	t.Run("endpoint origins override the service origins", func(t *testing.T) {
		resp := preflight(t, g.URL+"/admin/7", originApp, "GET")
		assertRefusedPreflight(t, resp, http.StatusNoContent)

		resp = preflight(t, g.URL+"/admin/7", originAdmin, "GET", "X-Api-Key")
		assertAllowedPreflight(t, resp, originAdmin, "GET")
		// Inherited from the service block: allow_headers and max_age.
		if got := tokens(resp.Header, "Access-Control-Allow-Headers"); !sameTokenSet(got, []string{"X-Api-Key"}) {
			t.Errorf("Access-Control-Allow-Headers = %q, want the requested X-Api-Key (inherited allow_headers)", got)
		}
		assertSingle(t, resp.Header, "Access-Control-Max-Age", "600")
		assertPreflightVary(t, resp.Header)

		// allow_headers is inherited, so an unlisted header is refused.
		resp = preflight(t, g.URL+"/admin/7", originAdmin, "GET", "X-Evil")
		assertRefusedPreflight(t, resp, http.StatusNoContent)
	})

	t.Run("endpoint methods override the service methods", func(t *testing.T) {
		resp := preflight(t, g.URL+"/users/7", originApp, "PUT", "Content-Type")
		assertAllowedPreflight(t, resp, originApp, "PUT")
		assertSingle(t, resp.Header, "Access-Control-Max-Age", "600")

		// allow_origins is inherited: the admin origin is not in it.
		resp = preflight(t, g.URL+"/users/7", originAdmin, "PUT")
		assertRefusedPreflight(t, resp, http.StatusNoContent)
	})

	t.Run("endpoint without a block keeps the service policy", func(t *testing.T) {
		resp := preflight(t, g.URL+"/users/7", originApp, "GET")
		assertAllowedPreflight(t, resp, originApp, "GET")

		resp = preflight(t, g.URL+"/users/7", originAdmin, "GET")
		assertRefusedPreflight(t, resp, http.StatusNoContent)
	})

	t.Run("method no endpoint serves gets the service policy", func(t *testing.T) {
		// No endpoint serves DELETE /users/{id}: the service policy
		// applies, and it lacks DELETE.
		resp := preflight(t, g.URL+"/users/7", originApp, "DELETE")
		assertRefusedPreflight(t, resp, http.StatusNoContent)
	})

	t.Run("path no endpoint serves gets the service policy", func(t *testing.T) {
		resp := preflight(t, g.URL+"/nowhere", originApp, "GET")
		assertAllowedPreflight(t, resp, originApp, "GET")
		assertSingle(t, resp.Header, "Access-Control-Max-Age", "600")

		resp = preflight(t, g.URL+"/nowhere", originAdmin, "GET")
		assertRefusedPreflight(t, resp, http.StatusNoContent)
	})

	if n := b.Hits(); n != 0 {
		t.Errorf("backend received %d requests (%d OPTIONS); preflights must not reach it", n, b.Options())
	}

	t.Run("actual requests use the endpoint policy", func(t *testing.T) {
		cases := []struct {
			method, path, origin string
			allowed              bool
		}{
			{"GET", "/admin/7", originAdmin, true},
			{"GET", "/admin/7", originApp, false},
			{"PUT", "/users/7", originApp, true},
			{"PUT", "/users/7", originAdmin, false},
			{"GET", "/users/7", originApp, true},
			{"GET", "/users/7", originAdmin, false},
		}
		for _, tc := range cases {
			before := b.Hits()
			resp, body := do(t, tc.method, g.URL+tc.path, hdr("Origin", tc.origin))
			name := tc.method + " " + tc.path + " from " + tc.origin
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s: status = %d, want 200; body %s", name, resp.StatusCode, body)
			}
			if b.Hits() != before+1 {
				t.Errorf("%s: backend hits went from %d to %d, want one more", name, before, b.Hits())
			}
			if tc.allowed {
				acao := resp.Header.Values("Access-Control-Allow-Origin")
				if len(acao) != 1 || acao[0] != tc.origin {
					t.Errorf("%s: Access-Control-Allow-Origin = %q, want exactly [%q]", name, acao, tc.origin)
				}
			} else if ch := corsHeaders(resp.Header); len(ch) != 0 {
				t.Errorf("%s: CORS headers on a refused origin's response: %q", name, ch)
			}
			if n := countFold(tokens(resp.Header, "Vary"), "Origin"); n != 1 {
				t.Errorf("%s: Vary = %q, want Origin exactly once", name, resp.Header.Values("Vary"))
			}
		}
	})
}

func TestScopedExemptEndpoint(t *testing.T) {
	b := newScopedBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/own-cors" {
			w.Header().Set("Access-Control-Allow-Origin", scopedOriginOther)
			w.Header().Set("Vary", "Origin")
			w.Header().Set("X-Backend", "own-cors")
		}
		jsonOK(w, r)
	})
	g := startGateway(t, false, func(port int) obj {
		return serviceConfig(port, obj{
			"allow_origins": []any{originApp},
			"allow_methods": []any{"GET", "POST"},
		}, obj{"auto_options": true},
			withCORS(noopEndpoint("GET", "/own-cors", b.URL, "/own-cors"), obj{"disable": true}),
			noopEndpoint("GET", "/governed", b.URL, "/own-cors"),
		)
	})

	for _, origin := range []string{originApp, originDenied} {
		t.Run("actual request from "+origin+" gets the backend's headers", func(t *testing.T) {
			resp, body := do(t, "GET", g.URL+"/own-cors", hdr("Origin", origin))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, body)
			}
			if got := resp.Header.Get("X-Backend"); got != "own-cors" {
				t.Fatalf("X-Backend = %q: the response did not come from the no-op backend", got)
			}
			if got := b.LastHeaders().Get("Origin"); got != origin {
				t.Errorf("backend saw Origin %q, want %q (input_headers [\"*\"])", got, origin)
			}
			assertSingle(t, resp.Header, "Access-Control-Allow-Origin", scopedOriginOther)
			if got := resp.Header.Values("Vary"); len(got) != 1 || got[0] != "Origin" {
				t.Errorf("Vary = %q, want exactly the backend's [\"Origin\"]", got)
			}
			for _, name := range []string{"Access-Control-Allow-Credentials", "Access-Control-Expose-Headers",
				"Access-Control-Allow-Methods", "X-Cors-Reason"} {
				assertAbsent(t, resp.Header, name)
			}
		})
	}

	t.Run("the same backend behind a governed endpoint gets the gateway's answer", func(t *testing.T) {
		// Proves the test above can fail: without disable the gateway
		// replaces the backend's Access-Control-Allow-Origin.
		resp, _ := do(t, "GET", g.URL+"/governed", hdr("Origin", originApp))
		assertSingle(t, resp.Header, "Access-Control-Allow-Origin", originApp)
	})

	t.Run("preflight is not answered by CORS", func(t *testing.T) {
		before := b.Hits()
		resp := preflight(t, g.URL+"/own-cors", originApp, "GET", "X-Api-Key")
		if resp.StatusCode != http.StatusOK {
			t.Errorf("status = %d, want 200 from auto_options", resp.StatusCode)
		}
		if got := resp.Header.Get("Allow"); got != "GET" {
			t.Errorf("Allow = %q, want %q (auto_options)", got, "GET")
		}
		for k := range resp.Header {
			if strings.HasPrefix(strings.ToLower(k), "access-control-") {
				t.Errorf("unexpected %s: %q on a preflight to an exempt endpoint", k, resp.Header.Values(k))
			}
		}
		if got := b.Hits(); got != before {
			t.Errorf("backend got %d requests; auto_options answers OPTIONS in the gateway", got-before)
		}
	})

	t.Run("preflight to the governed endpoint is answered by CORS", func(t *testing.T) {
		resp := preflight(t, g.URL+"/governed", originApp, "GET")
		assertAllowedPreflight(t, resp, originApp, "GET")
		assertAbsent(t, resp.Header, "Allow")
	})
}

// strictConfig has POST /strict, which terminates refused requests with
// 401, and POST /lenient, which keeps the service policy.
func strictConfig(port int, backendURL string, debug bool) obj {
	return serviceConfig(port, obj{
		"allow_origins": []any{originApp},
		"allow_methods": []any{"GET", "POST"},
	}, nil,
		withCORS(jsonEndpoint("POST", "/strict", backendURL, "/strict"), obj{
			"terminate_unmatched_request": true,
			"unmatched_status":            401,
			"debug":                       debug,
		}),
		jsonEndpoint("POST", "/lenient", backendURL, "/lenient"),
	)
}

func TestScopedTerminateUnmatched(t *testing.T) {
	b := newScopedBackend(t, jsonOK)
	g := startGateway(t, false, func(port int) obj { return strictConfig(port, b.URL, false) })

	t.Run("refused preflight", func(t *testing.T) {
		resp := preflight(t, g.URL+"/strict", scopedOriginEvil, "POST")
		assertRefusedPreflight(t, resp, http.StatusUnauthorized)
		assertAbsent(t, resp.Header, "X-Cors-Reason")
	})

	t.Run("allowed preflight", func(t *testing.T) {
		resp := preflight(t, g.URL+"/strict", originApp, "POST", "Content-Type")
		assertAllowedPreflight(t, resp, originApp, "POST")
	})

	if n := b.Hits(); n != 0 {
		t.Fatalf("backend received %d requests after preflights only", n)
	}

	t.Run("refused actual request never reaches the backend", func(t *testing.T) {
		resp, body := do(t, "POST", g.URL+"/strict", hdr("Origin", scopedOriginEvil, "Content-Type", "application/json"))
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status = %d, want 401 (unmatched_status)", resp.StatusCode)
		}
		if body != "" {
			t.Errorf("body = %q, want empty with debug: false", body)
		}
		assertAbsent(t, resp.Header, "Access-Control-Allow-Origin")
		assertAbsent(t, resp.Header, "X-Cors-Reason")
		if n := b.Hits(); n != 0 {
			t.Errorf("backend received %d requests; a terminated request must never reach it", n)
		}
	})

	t.Run("allowed actual request reaches the backend", func(t *testing.T) {
		resp, body := do(t, "POST", g.URL+"/strict", hdr("Origin", originApp, "Content-Type", "application/json"))
		if resp.StatusCode/100 != 2 {
			t.Errorf("status = %d, want 2xx; body %s", resp.StatusCode, body)
		}
		assertSingle(t, resp.Header, "Access-Control-Allow-Origin", originApp)
		if n := b.Hits(); n != 1 {
			t.Errorf("backend hits = %d, want 1", n)
		}
	})

	t.Run("request without Origin reaches the backend", func(t *testing.T) {
		resp, body := do(t, "POST", g.URL+"/strict", hdr("Content-Type", "application/json"))
		if resp.StatusCode/100 != 2 {
			t.Errorf("status = %d, want 2xx; body %s", resp.StatusCode, body)
		}
		assertAbsent(t, resp.Header, "Access-Control-Allow-Origin")
		if n := b.Hits(); n != 2 {
			t.Errorf("backend hits = %d, want 2", n)
		}
	})

	t.Run("other endpoint keeps the service policy and does not terminate", func(t *testing.T) {
		before := b.Hits()
		resp, _ := do(t, "POST", g.URL+"/lenient", hdr("Origin", scopedOriginEvil, "Content-Type", "application/json"))
		if resp.StatusCode/100 != 2 {
			t.Errorf("status = %d, want 2xx: only /strict terminates", resp.StatusCode)
		}
		assertAbsent(t, resp.Header, "Access-Control-Allow-Origin")
		if b.Hits() != before+1 {
			t.Errorf("backend hits = %d, want %d", b.Hits(), before+1)
		}
		pf := preflight(t, g.URL+"/lenient", scopedOriginEvil, "POST")
		assertRefusedPreflight(t, pf, http.StatusNoContent)
	})

	t.Run("with debug: true the answer names the reason", func(t *testing.T) {
		bd := newScopedBackend(t, jsonOK)
		gd := startGateway(t, false, func(port int) obj { return strictConfig(port, bd.URL, true) })

		resp, body := do(t, "POST", gd.URL+"/strict", hdr("Origin", scopedOriginEvil, "Content-Type", "application/json"))
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status = %d, want 401", resp.StatusCode)
		}
		assertAbsent(t, resp.Header, "Access-Control-Allow-Origin")
		if reason := resp.Header.Get("X-Cors-Reason"); !strings.Contains(reason, "not in allow_origins") {
			t.Errorf("X-Cors-Reason = %q, want it to contain \"not in allow_origins\"", reason)
		}
		if !strings.Contains(body, "not in allow_origins") {
			t.Errorf("body = %q, want it to name the reason (\"not in allow_origins\")", body)
		}
		if n := bd.Hits(); n != 0 {
			t.Errorf("backend received %d requests; a terminated request must never reach it", n)
		}

		pf := preflight(t, gd.URL+"/strict", scopedOriginEvil, "POST")
		assertRefusedPreflight(t, pf, http.StatusUnauthorized)
		if reason := pf.Header.Get("X-Cors-Reason"); !strings.Contains(reason, "not in allow_origins") {
			t.Errorf("preflight X-Cors-Reason = %q, want it to contain \"not in allow_origins\"", reason)
		}

		resp, body = do(t, "POST", gd.URL+"/strict", hdr("Origin", originApp, "Content-Type", "application/json"))
		if resp.StatusCode/100 != 2 {
			t.Errorf("allowed POST: status = %d, want 2xx; body %s", resp.StatusCode, body)
		}
		assertAbsent(t, resp.Header, "X-Cors-Reason")
		if n := bd.Hits(); n != 1 {
			t.Errorf("backend hits = %d, want 1 (the allowed POST)", n)
		}
	})
}

func TestScopedOriginRegex(t *testing.T) {
	b := newScopedBackend(t, jsonOK)
	g := startGateway(t, false, func(port int) obj {
		return serviceConfig(port, obj{
			"allow_origins_regex": []any{`^https://pr-[0-9]+\.preview\.example\.com$`},
			"allow_methods":       []any{"GET", "POST"},
		}, nil, jsonEndpoint("GET", "/users/{id}", b.URL, "/users/{id}"))
	})

	cases := []struct {
		origin  string
		allowed bool
	}{
		{"https://pr-12.preview.example.com", true},
		{"https://pr-3456.preview.example.com", true},
		{"https://pr-12.preview.example.com.evil.net", false},
		{"https://evil-pr-1.preview.example.com", false},
		{"https://pr-12.previewXexample.com", false},
		{"http://pr-12.preview.example.com", false},
		{originApp, false},
	}
	for _, tc := range cases {
		t.Run(tc.origin, func(t *testing.T) {
			resp := preflight(t, g.URL+"/users/1", tc.origin, "GET")
			if tc.allowed {
				assertAllowedPreflight(t, resp, tc.origin, "GET")
			} else {
				assertRefusedPreflight(t, resp, http.StatusNoContent)
			}
			resp, _ = do(t, "GET", g.URL+"/users/1", hdr("Origin", tc.origin))
			if resp.StatusCode != http.StatusOK {
				t.Errorf("actual GET: status = %d, want 200", resp.StatusCode)
			}
			if tc.allowed {
				assertSingle(t, resp.Header, "Access-Control-Allow-Origin", tc.origin)
			} else {
				assertAbsent(t, resp.Header, "Access-Control-Allow-Origin")
			}
		})
	}
}

func TestScopedCheckRefusals(t *testing.T) {
	const endpointCORS = `endpoints[0].extra_config["security/cors"]`
	base := func() obj {
		return serviceConfig(8080, scopedServiceCORS(), nil, scopedEndpoints("http://127.0.0.1:9999")...)
	}
	// endpointBlock returns the security/cors block of endpoint i.
	endpointBlock := func(cfg obj, i int) obj {
		return cfg["endpoints"].([]any)[i].(obj)["extra_config"].(obj)["security/cors"].(obj)
	}
	serviceBlock := func(cfg obj) obj {
		return cfg["extra_config"].(obj)["security/cors"].(obj)
	}

	t.Run("the base configuration is valid", func(t *testing.T) {
		res := runCLI(t, "check", "-c", writeJSON(t, base()))
		if res.Code != 0 {
			t.Fatalf("exit status = %d, want 0\nstdout:\n%s\nstderr:\n%s", res.Code, res.Stdout, res.Stderr)
		}
	})

	cases := []struct {
		name   string
		mutate func(cfg obj)
		want   []string // all must appear in stderr
	}{
		{
			name: "unanchored regex",
			mutate: func(cfg obj) {
				serviceBlock(cfg)["allow_origins_regex"] = []any{`https://pr-[0-9]+\.preview\.example\.com`}
			},
			want: []string{corsPath + ".allow_origins_regex[0]", "anchor",
				`"^(?:https://pr-[0-9]+\\.preview\\.example\\.com)$"`},
		},
		{
			name: "regex anchored only at the start",
			mutate: func(cfg obj) {
				serviceBlock(cfg)["allow_origins_regex"] = []any{`^https://pr-[0-9]+\.preview\.example\.com`}
			},
			want: []string{corsPath + ".allow_origins_regex[0]", "anchor"},
		},
		{
			name: "wildcard glued to the domain",
			mutate: func(cfg obj) {
				serviceBlock(cfg)["allow_origins"] = []any{"https://*example.com"}
			},
			want: []string{corsPath + ".allow_origins[0]", "did you mean", `"https://*.example.com"`},
		},
		{
			name: "null with credentials",
			mutate: func(cfg obj) {
				c := serviceBlock(cfg)
				c["allow_origins"] = []any{"null"}
				c["allow_credentials"] = true
			},
			want: []string{corsPath + ".allow_origins", `"null"`, "allow_credentials"},
		},
		{
			name: "endpoint credentials with a null origin inherited from the service",
			mutate: func(cfg obj) {
				serviceBlock(cfg)["allow_origins"] = []any{originApp, "null"}
				c := endpointBlock(cfg, 1)
				c["allow_credentials"] = true
			},
			want: []string{`endpoints[1].extra_config["security/cors"].allow_origins`,
				`(endpoint "PUT /users/{id}")`, `"null"`, "inherited"},
		},
		{
			name: "endpoint-level error names the endpoint",
			mutate: func(cfg obj) {
				endpointBlock(cfg, 0)["allow_origins"] = []any{"https://admin.example.com/"}
			},
			want: []string{endpointCORS + ".allow_origins[0]", `(endpoint "GET /admin/{id}")`, `"https://admin.example.com"`},
		},
		{
			name: "endpoint inherits allow_methods without its own method",
			mutate: func(cfg obj) {
				// PUT /users/{id} keeps a block but no longer lists its
				// methods: it inherits the service's GET, POST.
				delete(endpointBlock(cfg, 1), "allow_methods")
				endpointBlock(cfg, 1)["max_age"] = "1m"
			},
			want: []string{`endpoints[1].extra_config["security/cors"].allow_methods`, `(endpoint "PUT /users/{id}")`, "PUT", "inherited"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base()
			tc.mutate(cfg)
			res := runCLI(t, "check", "-c", writeJSON(t, cfg))
			if res.Code != 1 {
				t.Errorf("exit status = %d, want 1", res.Code)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.Stderr, w) {
					t.Errorf("stderr does not contain %q", w)
				}
			}
			if t.Failed() {
				t.Logf("stdout:\n%s\nstderr:\n%s", res.Stdout, res.Stderr)
			}
		})
	}
}

func TestScopedUnsafeAnyOriginWithCredentials(t *testing.T) {
	b := newScopedBackend(t, jsonOK)
	g := startGateway(t, false, func(port int) obj {
		return serviceConfig(port, obj{
			"allow_any_origin_with_credentials_unsafe": true,
			"allow_credentials":                        true,
			"allow_methods":                            []any{"GET", "POST"},
		}, nil, jsonEndpoint("GET", "/users/{id}", b.URL, "/users/{id}"))
	})

	for _, origin := range []string{scopedOriginRandom, originApp} {
		t.Run("actual from "+origin, func(t *testing.T) {
			resp, body := do(t, "GET", g.URL+"/users/1", hdr("Origin", origin))
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status = %d, want 200; body %s", resp.StatusCode, body)
			}
			assertSingle(t, resp.Header, "Access-Control-Allow-Origin", origin)
			assertSingle(t, resp.Header, "Access-Control-Allow-Credentials", "true")
			if n := countFold(tokens(resp.Header, "Vary"), "Origin"); n != 1 {
				t.Errorf("Vary = %q, want Origin exactly once", resp.Header.Values("Vary"))
			}
		})
		t.Run("preflight from "+origin, func(t *testing.T) {
			resp := preflight(t, g.URL+"/users/1", origin, "POST", "Content-Type")
			assertAllowedPreflight(t, resp, origin, "POST")
			assertSingle(t, resp.Header, "Access-Control-Allow-Credentials", "true")
			assertPreflightVary(t, resp.Header)
		})
	}

	t.Run("startup warning", func(t *testing.T) {
		line, ok := waitForLog(g, func(line string) bool {
			return strings.Contains(line, "WARNING") && strings.Contains(line, "allow_any_origin_with_credentials_unsafe")
		})
		if !ok {
			t.Errorf("no WARNING line naming allow_any_origin_with_credentials_unsafe in the gateway output:\n%s", g.Logs())
		} else {
			t.Logf("warning: %s", line)
		}
	})
}

func TestScopedExposePrefix(t *testing.T) {
	b := newScopedBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Object-Meta-Color", "blue")
		w.Header().Set("X-Object-Meta-Size", "42")
		w.Header().Set("X-Object-Other", "hidden")
		jsonOK(w, r)
	})
	g := startGateway(t, false, func(port int) obj {
		return serviceConfig(port, obj{"allow_origins": []any{originApp}}, nil,
			withCORS(noopEndpoint("GET", "/object", b.URL, "/object"), obj{
				"expose_headers": []any{"X-Object-Meta-*"},
			}),
		)
	})

	resp, body := do(t, "GET", g.URL+"/object", hdr("Origin", originApp))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("X-Object-Meta-Color"); got != "blue" {
		t.Fatalf("X-Object-Meta-Color = %q: the no-op endpoint did not pass the backend's headers", got)
	}
	assertSingle(t, resp.Header, "Access-Control-Allow-Origin", originApp)
	want := []string{"X-Object-Meta-Color", "X-Object-Meta-Size"}
	if got := tokens(resp.Header, "Access-Control-Expose-Headers"); !sameTokenSet(got, want) {
		t.Errorf("Access-Control-Expose-Headers = %q, want exactly %q", got, want)
	}

	resp, _ = do(t, "GET", g.URL+"/object", hdr("Origin", originDenied))
	assertAbsent(t, resp.Header, "Access-Control-Expose-Headers")
}

func TestScopedStripCORSRequestHeaders(t *testing.T) {
	b := newScopedBackend(t, jsonOK)
	g := startGateway(t, false, func(port int) obj {
		return serviceConfig(port, obj{"allow_origins": []any{originApp}}, nil,
			withCORS(noopEndpoint("GET", "/stripped", b.URL, "/stripped"), obj{
				"strip_cors_request_headers": true,
			}),
			noopEndpoint("GET", "/forwarded", b.URL, "/forwarded"),
		)
	})
	browserish := hdr(
		"Origin", originApp,
		"Access-Control-Request-Method", "GET",
		"Access-Control-Request-Headers", "x-custom",
		"Sec-Fetch-Mode", "cors",
		"Sec-Fetch-Site", "cross-site",
		"Sec-Fetch-Dest", "empty",
		"X-Custom", "kept",
	)
	stripped := []string{"Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers",
		"Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-Dest"}

	t.Run("stripped", func(t *testing.T) {
		resp, body := do(t, "GET", g.URL+"/stripped", browserish)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, body)
		}
		assertSingle(t, resp.Header, "Access-Control-Allow-Origin", originApp)
		seen := b.LastHeaders()
		if seen.Get("X-Custom") != "kept" {
			t.Errorf("backend saw X-Custom %q, want \"kept\" (input_headers [\"*\"])", seen.Get("X-Custom"))
		}
		for _, name := range stripped {
			if v := seen.Values(name); len(v) != 0 {
				t.Errorf("backend saw %s: %q; strip_cors_request_headers must keep it from the backend", name, v)
			}
		}
	})

	t.Run("not stripped on the other endpoint", func(t *testing.T) {
		// Proves the test above can fail: the same request to an endpoint
		// without strip_cors_request_headers forwards them.
		resp, _ := do(t, "GET", g.URL+"/forwarded", browserish)
		assertSingle(t, resp.Header, "Access-Control-Allow-Origin", originApp)
		seen := b.LastHeaders()
		for _, name := range stripped {
			if len(seen.Values(name)) == 0 {
				t.Errorf("backend did not see %s on an endpoint without strip_cors_request_headers", name)
			}
		}
	})
}
