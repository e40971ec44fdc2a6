package e2e

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/corsgate/corsgate/debug"
	"github.com/corsgate/corsgate/plugin/plugintest"
)

// doubleValidationConfig is the shipped demo of the KrakenD docs'
// "Debugging configuration" (double CORS validation).
var doubleValidationConfig = filepath.Join("..", "debug", "config.double-validation.json")

// readConfigFile parses a JSON configuration file into a generic object.
func readConfigFile(t testing.TB, path string) obj {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	var cfg obj
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	return cfg
}

// backendHosts calls f with every backend host string of cfg's endpoints,
// and stores what f returns in its place.
func backendHosts(t testing.TB, cfg obj, f func(host string) string) {
	t.Helper()
	eps, _ := cfg["endpoints"].([]any)
	for _, e := range eps {
		bs, _ := e.(obj)["backend"].([]any)
		for _, b := range bs {
			hosts, _ := b.(obj)["host"].([]any)
			for i, h := range hosts {
				s, ok := h.(string)
				if !ok {
					t.Fatalf("backend host %v is not a string", h)
				}
				hosts[i] = f(s)
			}
		}
	}
}

// configPort returns cfg's "port".
func configPort(t testing.TB, cfg obj) int {
	t.Helper()
	p, ok := cfg["port"].(float64)
	if !ok {
		t.Fatalf("config has no numeric port: %v", cfg["port"])
	}
	return int(p)
}

// selfHostedConfig reads a configuration whose backends are the gateway
// itself and moves it to port: the gateway's port and every backend host
// naming the configuration's own port become 127.0.0.1:port.
func selfHostedConfig(t testing.TB, path string, port int) obj {
	t.Helper()
	cfg := readConfigFile(t, path)
	old := strconv.Itoa(configPort(t, cfg))
	cfg["port"] = port
	backendHosts(t, cfg, func(h string) string {
		u, err := url.Parse(h)
		if err != nil || u.Port() != old {
			return h
		}
		u.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		return u.String()
	})
	return cfg
}

func parseReport(t testing.TB, body string) debug.Report {
	t.Helper()
	var rep debug.Report
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatalf("body is not a /__debug/cors report: %v\n%s", err, body)
	}
	if rep.Backend != "/__debug/cors" {
		t.Fatalf("body is not from the /__debug/cors fake backend: %s", body)
	}
	return rep
}

// TestDoubleValidationConfigIsConsistent checks the shipped file itself:
// it validates, enables the debug endpoint, and its backends are the
// gateway on its own port.
func TestDoubleValidationConfigIsConsistent(t *testing.T) {
	t.Parallel()
	res := runCLI(t, "check", "-c", doubleValidationConfig)
	if res.Code != 0 {
		t.Fatalf("corsgate check %s: exit %d\n%s%s", doubleValidationConfig, res.Code, res.Stdout, res.Stderr)
	}
	cfg := readConfigFile(t, doubleValidationConfig)
	if cfg["debug_endpoint"] != true {
		t.Errorf("debug_endpoint = %v, want true", cfg["debug_endpoint"])
	}
	port := strconv.Itoa(configPort(t, cfg))
	n := 0
	backendHosts(t, cfg, func(h string) string {
		n++
		u, err := url.Parse(h)
		if err != nil || u.Port() != port {
			t.Errorf("backend host %q does not name the gateway's own port %s", h, port)
		}
		return h
	})
	if n != 3 {
		t.Errorf("%d backend hosts, want 3 (one per example)", n)
	}
	want := map[string]string{
		"/cors/no-op":            "/__debug/cors",
		"/cors/no-op/martian":    "/__debug/cors/martian",
		"/cors/no-op/no-headers": "/__debug/cors/no-headers",
	}
	for _, e := range cfg["endpoints"].([]any) {
		ep := e.(obj)
		name, _ := ep["endpoint"].(string)
		b := ep["backend"].([]any)[0].(obj)
		if want[name] != b["url_pattern"] {
			t.Errorf("endpoint %s: url_pattern %v, want %q", name, b["url_pattern"], want[name])
		}
		if ep["output_encoding"] != "no-op" || b["encoding"] != "no-op" {
			t.Errorf("endpoint %s: output_encoding %v, backend encoding %v; want no-op for both", name, ep["output_encoding"], b["encoding"])
		}
		_, hasInput := ep["input_headers"]
		if hasInput != (name != "/cors/no-op/no-headers") {
			t.Errorf("endpoint %s: input_headers present = %v", name, hasInput)
		}
		if name == "/cors/no-op/martian" {
			extra, _ := b["extra_config"].(obj)
			if _, ok := extra["modifier/martian"]; !ok {
				t.Errorf("endpoint %s: no modifier/martian block (the seed's shape)", name)
			}
		}
		delete(want, name)
	}
	if len(want) != 0 {
		t.Errorf("missing endpoints: %v", want)
	}
}

// allowedOrigin returns the first allow_origins entry of cfg.
func allowedOrigin(t testing.TB, cfg obj) string {
	t.Helper()
	cors, _ := cfg["extra_config"].(obj)["security/cors"].(obj)
	origins, _ := cors["allow_origins"].([]any)
	if len(origins) == 0 {
		t.Fatal("the config allows no origin")
	}
	return origins[0].(string)
}

// TestDoubleValidationExamples runs the docs' three endpoints against the
// fake backend: whatever the backend answers, the client sees exactly one
// Access-Control-Allow-Origin.
func TestDoubleValidationExamples(t *testing.T) {
	t.Parallel()
	origin := allowedOrigin(t, readConfigFile(t, doubleValidationConfig))
	g := startGateway(t, false, func(port int) obj { return selfHostedConfig(t, doubleValidationConfig, port) })

	cases := []struct {
		endpoint, backendPath string
		originForwarded       bool
		verdict               string
	}{
		// The docs: "this will fail due to double CORS validation".
		{"/cors/no-op", "/__debug/cors", true, "the gateway forwarded Origin to this backend"},
		// corsgate does not run martian: the block is ignored, so Origin
		// still reaches the backend, and corsgate still fixes the response.
		{"/cors/no-op/martian", "/__debug/cors/martian", true, "the gateway forwarded Origin to this backend"},
		// No input_headers: Origin is not forwarded.
		{"/cors/no-op/no-headers", "/__debug/cors/no-headers", false, "no CORS request headers reached this backend"},
	}
	for _, c := range cases {
		t.Run(c.endpoint, func(t *testing.T) {
			resp, body := do(t, http.MethodGet, g.URL+c.endpoint, hdr("Origin", origin))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, body %s", resp.StatusCode, body)
			}
			assertSingle(t, resp.Header, "Access-Control-Allow-Origin", origin)
			assertSingle(t, resp.Header, "Access-Control-Allow-Credentials", "true")
			assertVaryNoDup(t, resp.Header)
			if countFold(tokens(resp.Header, "Vary"), "Origin") != 1 {
				t.Errorf("Vary = %q, want Origin once", resp.Header.Values("Vary"))
			}

			rep := parseReport(t, body)
			if rep.Path != c.backendPath || rep.Method != http.MethodGet || !rep.ViaGateway {
				t.Errorf("backend saw %s %s (via gateway %v), want GET %s through the gateway", rep.Method, rep.Path, rep.ViaGateway, c.backendPath)
			}
			if rep.OriginForwarded != c.originForwarded {
				t.Errorf("origin_forwarded = %v, want %v; received %v", rep.OriginForwarded, c.originForwarded, rep.Received)
			}
			if c.originForwarded {
				if rep.Received["Origin"] != origin {
					t.Errorf("backend received Origin %q, want %q", rep.Received["Origin"], origin)
				}
				// The backend did answer with its own CORS headers: the
				// client's single value proves the gateway replaced them.
				if rep.Added["Access-Control-Allow-Origin"] != origin {
					t.Errorf("backend added %v; the scenario needs its own Access-Control-Allow-Origin", rep.Added)
				}
			} else if len(rep.Received) != 0 || len(rep.Added) != 0 {
				t.Errorf("backend received %v and added %v, want nothing", rep.Received, rep.Added)
			}
			if !strings.HasPrefix(rep.Verdict, c.verdict) {
				t.Errorf("verdict = %q, want it to start with %q", rep.Verdict, c.verdict)
			}
		})
	}

	t.Run("disallowed origin gets none of the backend's CORS headers", func(t *testing.T) {
		resp, body := do(t, http.MethodGet, g.URL+"/cors/no-op", hdr("Origin", "http://evil.example"))
		rep := parseReport(t, body)
		if rep.Added["Access-Control-Allow-Origin"] != "http://evil.example" {
			t.Fatalf("the backend should have echoed the origin itself; it added %v", rep.Added)
		}
		assertAbsent(t, resp.Header, "Access-Control-Allow-Origin")
		assertAbsent(t, resp.Header, "Access-Control-Allow-Credentials")
		assertVaryNoDup(t, resp.Header)
	})

	t.Run("preflight answered once by the gateway", func(t *testing.T) {
		resp := preflight(t, g.URL+"/cors/no-op", origin, "GET", "Content-Type")
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("status = %d, want 204", resp.StatusCode)
		}
		assertSingle(t, resp.Header, "Access-Control-Allow-Origin", origin)
		assertVaryNoDup(t, resp.Header)
	})
}

// debugOffConfig is a gateway with CORS and a no-op endpoint, without
// debug_endpoint.
func debugOffConfig(port int) obj {
	return plugintest.Gateway{
		CORS: obj{"allow_origins": []any{"http://localhost:5173"}},
		Endpoints: []plugintest.Endpoint{{
			Method: "GET", Path: "/cors/no-op", NoOp: true,
			Backend: "http://127.0.0.1:" + strconv.Itoa(port), URLPattern: "/__debug/cors",
		}},
	}.JSON(port)
}

func TestDebugCORSAbsentWithoutDebug(t *testing.T) {
	t.Parallel()
	g := startGateway(t, false, debugOffConfig)
	for _, path := range []string{"/__debug/cors", "/__debug/cors/martian", "/__debug/cors/explain", "/__debug/cors/policy", "/__debug/"} {
		resp, body := do(t, http.MethodGet, g.URL+path, hdr("Origin", "http://localhost:5173"))
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d %s, want 404 without debug_endpoint and -d", path, resp.StatusCode, body)
		}
	}
	// The endpoint that uses it as a backend gets lura's 404 through no-op.
	resp, body := do(t, http.MethodGet, g.URL+"/cors/no-op", nil)
	if strings.Contains(body, `"backend"`) {
		t.Errorf("GET /cors/no-op = %d %s; the fake backend answered although debug is off", resp.StatusCode, body)
	}
}

func TestDebugCORSWithFlag(t *testing.T) {
	t.Parallel()
	g := startGateway(t, true, debugOffConfig) // -d, no debug_endpoint

	t.Run("lura's /__debug/ keeps answering pong", func(t *testing.T) {
		for _, path := range []string{"/__debug/", "/__debug/anything", "/__debug/corsx"} {
			resp, body := do(t, http.MethodGet, g.URL+path, nil)
			if resp.StatusCode != http.StatusOK || strings.TrimSpace(body) != `{"message":"pong"}` {
				t.Errorf("GET %s = %d %s, want 200 {\"message\":\"pong\"}", path, resp.StatusCode, body)
			}
		}
	})

	t.Run("direct request to the fake backend", func(t *testing.T) {
		// Mounted outside the CORS layer: it answers with its own CORS
		// headers, even for an origin the gateway does not allow.
		resp, body := do(t, http.MethodPost, g.URL+"/__debug/cors/anything", hdr("Origin", "http://evil.example"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status = %d, body %s", resp.StatusCode, body)
		}
		assertSingle(t, resp.Header, "Access-Control-Allow-Origin", "http://evil.example")
		rep := parseReport(t, body)
		if rep.Method != http.MethodPost || rep.Path != "/__debug/cors/anything" || rep.ViaGateway || !rep.OriginForwarded {
			t.Errorf("report = %+v", rep)
		}
		if _, ok := waitForLog(g, func(l string) bool {
			return strings.Contains(l, "DEBUG:") && strings.Contains(l, "[ENDPOINT: /__debug/cors]") && strings.Contains(l, "/__debug/cors/anything")
		}); !ok {
			t.Errorf("no DEBUG line for the fake backend request in the gateway log")
		}
	})

	t.Run("reserved sub-paths are not the fake backend", func(t *testing.T) {
		for _, path := range []string{"/__debug/cors/explain", "/__debug/cors/policy"} {
			_, body := do(t, http.MethodGet, g.URL+path, nil)
			if strings.Contains(body, `"backend": "/__debug/cors"`) {
				t.Errorf("GET %s answered by the fake backend: %s", path, body)
			}
		}
	})

	t.Run("through the gateway", func(t *testing.T) {
		resp, body := do(t, http.MethodGet, g.URL+"/cors/no-op", hdr("Origin", "http://localhost:5173"))
		assertSingle(t, resp.Header, "Access-Control-Allow-Origin", "http://localhost:5173")
		assertVaryNoDup(t, resp.Header)
		if rep := parseReport(t, body); !rep.OriginForwarded || !rep.ViaGateway {
			t.Errorf("report = %+v", rep)
		}
	})
}
