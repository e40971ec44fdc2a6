package schema_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/corsgate/corsgate/schema"
)

// A configuration that is not JSON is reported where a person looks for
// the mistake: a 1-based line and column, the line with a caret under the
// column, and a hint for the usual causes.
func TestScanJSONSyntaxErrors(t *testing.T) {
	tests := []struct {
		name      string
		text      string
		line, col int
		msg       string // a part of the parser's message
		hint      string // a part of the hint; "" means no hint
	}{
		{"trailing comma in an object", "{\n  \"a\": 1,\n}", 3, 1, "invalid character '}'", "JSON allows no comma after the last item of an object or a list; remove the comma before it"},
		{"trailing comma in a list", "{\n  \"a\": [1, 2,]\n}", 2, 14, "invalid character ']'", "remove the comma before it"},
		{"line comment", "{\n  // comment\n  \"a\": 1\n}", 2, 3, "invalid character '/'", `JSON has no comments; use an "@comment" key instead`},
		{"hash comment", "{\n  \"a\": 1 # c\n}", 2, 10, "invalid character '#'", "JSON has no comments"},
		{"single quotes", "{\n  'a': 1\n}", 2, 3, `invalid character '\''`, "JSON strings and keys take double quotes, not single quotes"},
		{"missing comma between keys", "{\n  \"a\": 1\n  \"b\": 2\n}", 3, 3, "after object key:value pair", "a comma is missing before this item"},
		{"missing comma between items", "{\n  \"a\": [\"x\" \"y\"]\n}", 2, 13, "after array element", "a comma is missing before this item"},
		{"unquoted key", "{\n  a: 1\n}", 2, 3, "invalid character 'a'", "keys must be strings in double quotes"},
		{"unquoted second key", `{"a": 1, b: 2}`, 1, 10, "invalid character 'b'", "keys must be strings in double quotes"},
		{"unclosed list", "{\n  \"a\": [1, 2\n", 2, 13, "unexpected end", "a { or [ is not closed; count the brackets"},
		{"unclosed object", "{\n  \"a\": {", 2, 8, "unexpected end", "a { or [ is not closed"},
		{"empty file", "", 1, 1, "unexpected end", "a { or [ is not closed"},
		{"bad literal has no hint", `{"a": tru}`, 1, 10, "in literal true", ""},
		{"text after the value has no hint", `{"a":1}}`, 1, 8, "after top-level value", ""},
		{"CRLF lines", "{\r\n  \"a\": 1,\r\n}", 3, 1, "invalid character '}'", "remove the comma before it"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, dups, err := schema.ScanJSON([]byte(tc.text))
			var se *schema.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ScanJSON error = %T %v, want *schema.SyntaxError", err, err)
			}
			if keys != nil || dups != nil {
				t.Errorf("ScanJSON returned keys %v and duplicates %v with an error", keys, dups)
			}
			if se.Line != tc.line || se.Column != tc.col {
				t.Errorf("line %d, column %d; want line %d, column %d", se.Line, se.Column, tc.line, tc.col)
			}
			if !strings.Contains(se.Message, tc.msg) {
				t.Errorf("Message = %q, want it to contain %q", se.Message, tc.msg)
			}
			if tc.hint == "" && se.Hint != "" || !strings.Contains(se.Hint, tc.hint) {
				t.Errorf("Hint = %q, want %q", se.Hint, tc.hint)
			}
			want := fmt.Sprintf("line %d, column %d: %s", tc.line, tc.col, se.Message)
			if se.Hint != "" {
				want += "; " + se.Hint
			}
			if se.Error() != want {
				t.Errorf("Error() = %q, want %q", se.Error(), want)
			}
			// The excerpt is the line of the error and a caret under its column.
			lines := strings.Split(strings.ReplaceAll(tc.text, "\r", ""), "\n")
			wantExcerpt := lines[tc.line-1] + "\n" + strings.Repeat(" ", tc.col-1) + "^"
			if se.Excerpt != wantExcerpt {
				t.Errorf("Excerpt =\n%s\nwant\n%s", se.Excerpt, wantExcerpt)
			}
		})
	}
}

// A line too long to show gives no excerpt, but still a line and column.
func TestScanJSONLongLineHasNoExcerpt(t *testing.T) {
	text := `{"a": "` + strings.Repeat("x", 300) + `",}`
	_, _, err := schema.ScanJSON([]byte(text))
	var se *schema.SyntaxError
	if !errors.As(err, &se) || se.Line != 1 || se.Column != len(text) || se.Excerpt != "" {
		t.Fatalf("ScanJSON = %#v, want line 1, column %d, no excerpt", err, len(text))
	}
}

// ScanJSON lists every key with the JSON path of its object and its line,
// and every key written twice in one object with both lines: decoders keep
// one of the two values silently, so the configuration would not mean what
// one of the lines says.
func TestScanJSONKeysAndDuplicates(t *testing.T) {
	text := `{
  "extra_config": {
    "security/cors": {
      "max_age": "1h",
      "max_age": "2h"
    }
  },
  "endpoints": [
    {"endpoint": "/a"},
    {"endpoint": "/b",
     "@comment": [{"x": 1}, {"x": 1, "x": 2}],
     "endpoint": "/c"}
  ],
  "a": {"b": 1}, "c": {"b": 2}
}`
	keys, dups, err := schema.ScanJSON([]byte(text))
	if err != nil {
		t.Fatalf("ScanJSON: %v", err)
	}
	type key struct {
		path string
		line int
	}
	var got []key
	for _, k := range keys {
		got = append(got, key{k.Path(), k.Line})
	}
	want := []key{
		{"extra_config", 2},
		{`extra_config["security/cors"]`, 3},
		{`extra_config["security/cors"].max_age`, 4},
		{`extra_config["security/cors"].max_age`, 5},
		{"endpoints", 8},
		{"endpoints[0].endpoint", 9},
		{"endpoints[1].endpoint", 10},
		{`endpoints[1]["@comment"]`, 11},
		{`endpoints[1]["@comment"][0].x`, 11},
		{`endpoints[1]["@comment"][1].x`, 11},
		{`endpoints[1]["@comment"][1].x`, 11},
		{"endpoints[1].endpoint", 12},
		{"a", 14},
		{"a.b", 14},
		{"c", 14},
		{"c.b", 14},
	}
	if !slices.Equal(got, want) {
		t.Errorf("keys =\n %v\nwant\n %v", got, want)
	}
	if keys[2].Object != `extra_config["security/cors"]` || keys[2].Key != "max_age" {
		t.Errorf("keys[2] = %+v, want Object extra_config[\"security/cors\"], Key max_age", keys[2])
	}

	type dup struct {
		path        string
		line, first int
	}
	var gotDups []dup
	for _, d := range dups {
		gotDups = append(gotDups, dup{d.Path(), d.Line, d.First})
	}
	wantDups := []dup{
		{`extra_config["security/cors"].max_age`, 5, 4},
		{`endpoints[1]["@comment"][1].x`, 11, 11},
		{"endpoints[1].endpoint", 12, 10},
	}
	if !slices.Equal(gotDups, wantDups) {
		t.Errorf("duplicates =\n %v\nwant\n %v", gotDups, wantDups)
	}
}

// Valid JSON without objects, or without a key written twice, gives no
// duplicates; the same key in two objects is no duplicate.
func TestScanJSONNoDuplicates(t *testing.T) {
	for _, text := range []string{`[]`, `"x"`, `null`, `{}`, `[{"a": 1}, {"a": 1}]`, `{"a": {"a": {"a": 1}}}`} {
		if _, dups, err := schema.ScanJSON([]byte(text)); err != nil || dups != nil {
			t.Errorf("ScanJSON(%s) = %v, %v; want no duplicates and no error", text, dups, err)
		}
	}
}
