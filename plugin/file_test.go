package plugin_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	ginrouter "github.com/luraproject/lura/v2/router/gin"

	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/plugin"
	"github.com/corsgate/corsgate/plugin/plugintest"
)

// writeText writes a configuration file by hand, to control its keys and
// lines exactly, and returns its path.
func writeText(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "krakend.json")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fileError parses a file plugin.ParseFile must refuse.
func fileError(t *testing.T, path string) *plugin.FileError {
	t.Helper()
	_, _, err := plugin.ParseFile(path)
	var fe *plugin.FileError
	if !errors.As(err, &fe) {
		t.Fatalf("ParseFile error = %T %v, want *plugin.FileError", err, err)
	}
	if fe.Path != path {
		t.Errorf("FileError.Path = %q, want %q", fe.Path, path)
	}
	return fe
}

// problemAt holds one problem of a FileError or one warning to its path
// and parts of its message.
type problemAt struct {
	path  string
	parts []string
}

func checkProblems(t *testing.T, what string, got policy.Errors, want []problemAt) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s = %d, want %d:\n%v", what, len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Path != w.path {
			t.Errorf("%s %d path = %s, want %s", what, i, got[i].Path, w.path)
		}
		for _, p := range w.parts {
			if !strings.Contains(got[i].Message, p) {
				t.Errorf("%s %d message = %q, want it to contain %q", what, i, got[i].Message, p)
			}
		}
	}
}

// TestFileDuplicateKeys proves that a key written twice in a CORS block
// (which a JSON decoder resolves silently, keeping the second value) is
// an error naming the key's path and both lines, in the service block, in
// an endpoint block, in the legacy namespace, and for the CORS block
// itself; and that keys written twice elsewhere are warnings, with the
// configuration parsed.
func TestFileDuplicateKeys(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		problems []problemAt // nil: the file parses
		warnings []problemAt
	}{
		{
			name: "service block",
			text: `{
  "version": 3,
  "extra_config": {
    "security/cors": {
      "allow_origins": ["https://app.example.com"],
      "allow_origins": []
    }
  },
  "endpoints": [{"endpoint": "/a", "backend": [{"host": ["http://127.0.0.1:9000"], "url_pattern": "/a"}]}]
}`,
			problems: []problemAt{{`extra_config["security/cors"].allow_origins`, []string{`"allow_origins" is written twice`, "lines 5 and 6"}}},
		},
		{
			name: "endpoint block",
			text: `{
  "version": 3,
  "endpoints": [
    {
      "endpoint": "/users/{id}",
      "extra_config": {
        "security/cors": {
          "allow_origins": ["https://app.example.com"],
          "debug": true,
          "allow_origins": []
        }
      },
      "backend": [{"host": ["http://127.0.0.1:9000"], "url_pattern": "/u"}]
    }
  ]
}`,
			problems: []problemAt{{`endpoints[0].extra_config["security/cors"].allow_origins`, []string{`"allow_origins" is written twice`, "lines 8 and 10"}}},
		},
		{
			name: "legacy namespace",
			text: `{
  "version": 3,
  "extra_config": {
    "github_com/devopsfaith/krakend-cors": {"allow_credentials": true,
      "allow_credentials": false}
  },
  "endpoints": [{"endpoint": "/a", "backend": [{"host": ["http://127.0.0.1:9000"], "url_pattern": "/a"}]}]
}`,
			problems: []problemAt{{`extra_config["github_com/devopsfaith/krakend-cors"].allow_credentials`, []string{"lines 4 and 5"}}},
		},
		{
			name: "the CORS block itself",
			text: `{
  "version": 3,
  "extra_config": {
    "security/cors": {"allow_origins": ["https://app.example.com"]},
    "security/cors": {"allow_origins": ["https://admin.example.com"]}
  },
  "endpoints": [{"endpoint": "/a", "backend": [{"host": ["http://127.0.0.1:9000"], "url_pattern": "/a"}]}]
}`,
			problems: []problemAt{{`extra_config["security/cors"]`, []string{`"security/cors" is written twice`, "lines 4 and 5"}}},
		},
		{
			name: "outside CORS blocks: warnings",
			text: `{
  "version": 3,
  "port": 8080,
  "port": 8081,
  "extra_config": {"security/cors": {"allow_origins": ["https://app.example.com"]}},
  "endpoints": [{"endpoint": "/a", "backend": [{"host": ["http://127.0.0.1:9000"],
    "url_pattern": "/a",
    "url_pattern": "/b"}]}]
}`,
			warnings: []problemAt{
				{"port", []string{`"port" is written twice`, "lines 3 and 4"}},
				{"endpoints[0].backend[0].url_pattern", []string{`"url_pattern" is written twice`, "lines 7 and 8"}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeText(t, tc.text)
			cfg, warnings, err := plugin.ParseFile(path)
			if tc.problems == nil {
				if err != nil {
					t.Fatalf("ParseFile: %v", err)
				}
				checkProblems(t, "warnings", warnings, tc.warnings)
				if cfg.Port != 8081 || len(cfg.Endpoints) != 1 {
					t.Errorf("port %d, %d endpoints: the configuration is not parsed as lura does", cfg.Port, len(cfg.Endpoints))
				}
				return
			}
			fe := fileError(t, path)
			if fe.Syntax != nil || fe.Err != nil {
				t.Errorf("FileError Syntax %v, Err %v; want problems only", fe.Syntax, fe.Err)
			}
			checkProblems(t, "problems", fe.Problems, tc.problems)
			var errs policy.Errors
			if !errors.As(err, &errs) || len(errs) != len(tc.problems) {
				t.Errorf("errors.As(err, policy.Errors) = %v, want the problems", errs)
			}
			if msg := fe.Error(); strings.Count(msg, path) != 1 || !strings.Contains(msg, tc.problems[0].path+": ") {
				t.Errorf("Error() = %q, want the file path once and the problem's path", msg)
			}
		})
	}
}

// TestFileMisplacedBlocks proves that a CORS block where lura never reads
// it (at the top level, directly in an endpoint, in a backend's
// extra_config), under either namespace, is an error naming its path, its
// line and where it belongs.
func TestFileMisplacedBlocks(t *testing.T) {
	tests := []struct {
		name string
		text string
		want problemAt
	}{
		{
			name: "top level",
			text: `{
  "version": 3,
  "security/cors": {"allow_origins": ["https://app.example.com"]},
  "endpoints": [{"endpoint": "/a", "backend": [{"host": ["http://127.0.0.1:9000"], "url_pattern": "/a"}]}]
}`,
			want: problemAt{`["security/cors"]`, []string{"has no effect", "move it to extra_config (for the whole gateway) or endpoints[i].extra_config (for one endpoint)", "(line 3)"}},
		},
		{
			name: "directly in an endpoint",
			text: `{
  "version": 3,
  "endpoints": [
    {"endpoint": "/a", "backend": [{"host": ["http://127.0.0.1:9000"], "url_pattern": "/a"}]},
    {
      "endpoint": "/b",
      "security/cors": {"allow_origins": ["https://app.example.com"]},
      "backend": [{"host": ["http://127.0.0.1:9000"], "url_pattern": "/b"}]
    }
  ]
}`,
			want: problemAt{`endpoints[1]["security/cors"]`, []string{"has no effect", "move it to endpoints[1].extra_config", "(line 7)"}},
		},
		{
			name: "in a backend's extra_config",
			text: `{
  "version": 3,
  "endpoints": [
    {
      "endpoint": "/a",
      "backend": [{
        "host": ["http://127.0.0.1:9000"], "url_pattern": "/a",
        "extra_config": {"security/cors": {"allow_origins": ["https://app.example.com"]}}
      }]
    }
  ]
}`,
			want: problemAt{`endpoints[0].backend[0].extra_config["security/cors"]`, []string{"backend", "move it to endpoints[0].extra_config", "(line 8)"}},
		},
		{
			name: "legacy namespace in a backend's extra_config",
			text: `{
  "version": 3,
  "endpoints": [
    {
      "endpoint": "/a",
      "backend": [{
        "host": ["http://127.0.0.1:9000"], "url_pattern": "/a",
        "extra_config": {"github_com/devopsfaith/krakend-cors": {}}
      }]
    }
  ]
}`,
			want: problemAt{`endpoints[0].backend[0].extra_config["github_com/devopsfaith/krakend-cors"]`, []string{"move it to endpoints[0].extra_config", "(line 8)"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fe := fileError(t, writeText(t, tc.text))
			checkProblems(t, "problems", fe.Problems, []problemAt{tc.want})
		})
	}
}

// TestFileSyntaxErrors proves that a file that is not JSON is a FileError
// with a Syntax error located by 1-based line and column, with a hint for
// the usual mistakes, and that Error() names the file once, followed by
// the line and column.
func TestFileSyntaxErrors(t *testing.T) {
	tests := []struct {
		name         string
		text         string
		line, column int
		hint         string
	}{
		{
			name: "trailing comma in an object",
			text: "{\n  \"version\": 3,\n  \"endpoints\": [],\n}\n",
			line: 4, column: 1,
			hint: "comma",
		},
		{
			name: "trailing comma in a list",
			text: "{\n  \"version\": 3,\n  \"extra_config\": {\"security/cors\": {\"allow_origins\": [\"https://a.example.com\",]}}\n}\n",
			line: 3, column: 80,
			hint: "comma",
		},
		{
			name: "a comment",
			text: "{\n  \"version\": 3, // v3\n  \"endpoints\": []\n}\n",
			line: 2, column: 17,
			hint: "no comments",
		},
		{
			name: "single quotes",
			text: "{\n  'version': 3\n}\n",
			line: 2, column: 3,
			hint: "double quotes",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeText(t, tc.text)
			fe := fileError(t, path)
			if fe.Syntax == nil {
				t.Fatalf("FileError = %v, want a syntax error", fe)
			}
			if fe.Syntax.Line != tc.line || fe.Syntax.Column != tc.column {
				t.Errorf("at line %d, column %d; want %d, %d", fe.Syntax.Line, fe.Syntax.Column, tc.line, tc.column)
			}
			if !strings.Contains(fe.Syntax.Hint, tc.hint) {
				t.Errorf("Hint = %q, want it to mention %q", fe.Syntax.Hint, tc.hint)
			}
			msg := fe.Error()
			if want := fmt.Sprintf("%s:%d:%d: ", path, tc.line, tc.column); !strings.HasPrefix(msg, want) || strings.Count(msg, path) != 1 {
				t.Errorf("Error() = %q, want it to start with %q and name the file once", msg, want)
			}
			if !strings.Contains(msg, "hint: "+fe.Syntax.Hint) {
				t.Errorf("Error() = %q lacks the hint", msg)
			}
		})
	}
}

// TestFileOtherErrors proves that a file that cannot be read, or that
// lura refuses, is a FileError whose Error() names the file once.
func TestFileOtherErrors(t *testing.T) {
	tests := []struct {
		name string
		path func(t *testing.T) string
		want string // a part of Error()
	}{
		{
			name: "missing file",
			path: func(t *testing.T) string { return filepath.Join(t.TempDir(), "missing.json") },
			want: "no such file or directory",
		},
		{
			name: "lura refuses a backend host",
			path: func(t *testing.T) string {
				return writeText(t, `{"version": 3, "endpoints": [{"endpoint": "/a", "backend": [{"host": ["http://127.0.0.1:9"], "url_pattern": "/a"}]}]}`)
			},
			want: "invalid host",
		},
		{
			name: "lura refuses a value of the wrong type",
			path: func(t *testing.T) string {
				return writeText(t, `{"version": 3, "port": "eighty", "endpoints": []}`)
			},
			want: "port",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path(t)
			fe := fileError(t, path)
			if fe.Err == nil || fe.Syntax != nil || fe.Problems != nil {
				t.Errorf("FileError Err %v, Syntax %v, Problems %v; want Err only", fe.Err, fe.Syntax, fe.Problems)
			}
			if msg := fe.Error(); !strings.HasPrefix(msg, path+": ") || strings.Count(msg, path) != 1 || !strings.Contains(msg, tc.want) {
				t.Errorf("Error() = %q, want it to start with the file path, name it once, and contain %q", msg, tc.want)
			}
		})
	}
}

// TestFileValid proves that a valid file parses without warnings, with
// PrepareConfig applied (the router alias reaches lura's gin namespace),
// lura's form of the paths, and a CORS layer that compiles with the
// file's auto_options.
func TestFileValid(t *testing.T) {
	g := plugintest.Gateway{
		CORS:      block{"allow_origins": []any{appOrigin}},
		Router:    block{"auto_options": true},
		Endpoints: []plugintest.Endpoint{ep("GET", "/users/{id}", block{"allow_methods": []any{"GET"}})},
	}
	cfg, warnings, err := plugin.ParseFile(plugintest.WriteFile(t, g.JSON(8080)))
	if err != nil || len(warnings) != 0 {
		t.Fatalf("ParseFile = %v, warnings %v; want neither", err, warnings)
	}
	if got := cfg.ExtraConfig[ginrouter.Namespace]; !reflect.DeepEqual(got, map[string]any{"auto_options": true}) {
		t.Errorf("extra_config[%q] = %v, want the router block", ginrouter.Namespace, got)
	}
	if len(cfg.Endpoints) != 1 || cfg.Endpoints[0].Endpoint != "/users/:id" || cfg.Port != 8080 {
		t.Errorf("endpoints %v, port %d; want lura's /users/:id on 8080", cfg.Endpoints, cfg.Port)
	}
	c, err := plugin.New(cfg, nil)
	if err != nil {
		t.Fatalf("plugin.New: %v", err)
	}
	if s := c.Snapshot(); !s.Routes().AutoOptions() || !s.Enabled() || s.Routes().Lookup("GET /users/{id}") == nil {
		t.Errorf("snapshot: auto_options %v, enabled %v; want both, with the route GET /users/{id}", s.Routes().AutoOptions(), s.Enabled())
	}
}
