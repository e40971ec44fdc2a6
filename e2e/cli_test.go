package e2e

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corsgate/corsgate/plugin/plugintest"
)

const corsPath = `extra_config["security/cors"]`

// cliGateway is a complete, valid gateway for the CLI tests, with cors as
// extra_config["security/cors"]. The backend is never contacted.
func cliGateway(cors obj) plugintest.Gateway {
	return plugintest.Gateway{
		CORS:       cors,
		BackendURL: "http://127.0.0.1:9999",
		Endpoints:  []plugintest.Endpoint{plugintest.EP("GET", "/users/{id}", nil)},
	}
}

func TestCheckValidConfig(t *testing.T) {
	t.Parallel()
	cfg := plugintest.WriteFile(t, cliGateway(mainCORS()).JSON(8080))
	res := runCLI(t, "check", "-c", cfg)
	if res.Code != 0 {
		t.Fatalf("corsgate check exit status = %d, want 0\nstdout:\n%s\nstderr:\n%s", res.Code, res.Stdout, res.Stderr)
	}
	if !strings.Contains(res.Stdout+res.Stderr, "is valid") {
		t.Errorf("corsgate check output has no line with \"is valid\"\nstdout:\n%s\nstderr:\n%s", res.Stdout, res.Stderr)
	}
}

func TestCheckInvalidConfigs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		tweak func(cors obj)
		// anyOf: stderr must contain one of these.
		anyOf []string
		// also: stderr must contain all of these.
		also []string
	}{
		{
			name:  "max_age number",
			tweak: func(c obj) { c["max_age"] = 12 },
			anyOf: []string{corsPath + ".max_age"},
		},
		{
			name:  "max_age not a duration",
			tweak: func(c obj) { c["max_age"] = "12 hours" },
			anyOf: []string{corsPath + ".max_age"},
		},
		{
			name:  "max_age fraction of a second",
			tweak: func(c obj) { c["max_age"] = "1.5s" },
			anyOf: []string{corsPath + ".max_age", `use "1s"`},
		},
		{
			name: "unknown key with a suggestion",
			tweak: func(c obj) {
				c["allow_origin"] = c["allow_origins"]
				delete(c, "allow_origins")
			},
			anyOf: []string{corsPath},
			also:  []string{"allow_origins"},
		},
		{
			name:  "lower-case method",
			tweak: func(c obj) { c["allow_methods"] = []any{"get"} },
			anyOf: []string{corsPath + ".allow_methods[0]"},
		},
		{
			name:  "origin with trailing slash",
			tweak: func(c obj) { c["allow_origins"] = []any{"https://example.com/"} },
			anyOf: []string{corsPath + ".allow_origins[0]"},
		},
		{
			name: "credentials with wildcard origin",
			tweak: func(c obj) {
				c["allow_origins"] = []any{"*"}
				c["allow_credentials"] = true
			},
			anyOf: []string{corsPath + ".allow_credentials", corsPath + ".allow_origins"},
		},
		{
			name:  "options_success_status not 2xx",
			tweak: func(c obj) { c["options_success_status"] = 404 },
			anyOf: []string{corsPath + ".options_success_status"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cors := mainCORS()
			tc.tweak(cors)
			res := runCLI(t, "check", "-c", plugintest.WriteFile(t, cliGateway(cors).JSON(8080)))
			if res.Code != 1 {
				t.Errorf("exit status = %d, want 1", res.Code)
			}
			if strings.Contains(res.Stdout, "is valid") {
				t.Errorf("stdout says the config is valid:\n%s", res.Stdout)
			}
			found := false
			for _, want := range tc.anyOf {
				if strings.Contains(res.Stderr, want) {
					found = true
				}
			}
			if !found {
				t.Errorf("stderr names none of the JSON paths %q:\n%s", tc.anyOf, res.Stderr)
			}
			for _, want := range tc.also {
				if !strings.Contains(res.Stderr, want) {
					t.Errorf("stderr does not mention %q:\n%s", want, res.Stderr)
				}
			}
		})
	}
}

func TestCheckReportsEveryErrorOnItsOwnLine(t *testing.T) {
	t.Parallel()
	cors := mainCORS()
	cors["max_age"] = 12
	cors["allow_methods"] = []any{"GET", "patch"}
	res := runCLI(t, "check", "-c", plugintest.WriteFile(t, cliGateway(cors).JSON(8080)))
	if res.Code != 1 {
		t.Errorf("exit status = %d, want 1", res.Code)
	}
	var maxAgeLine, methodLine = -1, -1
	for i, line := range strings.Split(res.Stderr, "\n") {
		if strings.Contains(line, corsPath+".max_age") {
			maxAgeLine = i
		}
		if strings.Contains(line, corsPath+".allow_methods[1]") {
			methodLine = i
		}
	}
	if maxAgeLine < 0 || methodLine < 0 || maxAgeLine == methodLine {
		t.Errorf("want the max_age and allow_methods[1] errors on two separate stderr lines, got:\n%s", res.Stderr)
	}
}

func TestCheckMissingFile(t *testing.T) {
	t.Parallel()
	res := runCLI(t, "check", "-c", t.TempDir()+"/does-not-exist.json")
	if res.Code == 0 {
		t.Errorf("corsgate check of a missing file exited 0\nstdout:\n%s", res.Stdout)
	}
	if strings.TrimSpace(res.Stderr) == "" {
		t.Errorf("corsgate check of a missing file printed nothing on stderr")
	}
}

func TestRunRefusesInvalidConfig(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	cors := mainCORS()
	cors["max_age"] = "12 hours"
	cfg := plugintest.WriteFile(t, cliGateway(cors).JSON(port))

	start := time.Now()
	res := runCLI(t, "run", "-c", cfg)
	if res.Code != 1 {
		t.Errorf("corsgate run with an invalid config: exit status = %d, want 1", res.Code)
	}
	if !strings.Contains(res.Stderr, corsPath+".max_age") {
		t.Errorf("stderr does not name %s.max_age:\n%s", corsPath, res.Stderr)
	}
	if out := res.Stdout + res.Stderr; strings.Contains(out, "Listening on port") {
		t.Errorf("the gateway started listening with an invalid config:\n%s", out)
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second); err == nil {
		c.Close()
		t.Errorf("something listens on port %d after corsgate run refused its config", port)
	}
	t.Logf("corsgate run refused the config in %v", time.Since(start).Round(time.Millisecond))
}

func TestVersion(t *testing.T) {
	t.Parallel()
	res := runCLI(t, "version")
	if res.Code != 0 {
		t.Fatalf("corsgate version exit status = %d, want 0; stderr:\n%s", res.Code, res.Stderr)
	}
	found := false
	for _, line := range strings.Split(res.Stdout, "\n") {
		if strings.HasPrefix(line, "corsgate ") {
			found = true
		}
	}
	if !found {
		t.Errorf("corsgate version printed no line starting with \"corsgate \":\n%s", res.Stdout)
	}
}
