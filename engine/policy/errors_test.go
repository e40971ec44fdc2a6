package policy

import (
	"strings"
	"testing"
)

// Errors print one problem per line, each with its path, the endpoint it
// belongs to when there is one, and the message; Err is nil exactly when
// there is no problem.
func TestErrorsError(t *testing.T) {
	tests := []struct {
		name  string
		errs  Errors
		want  string
		isNil bool
	}{
		{"none", Errors{}, "", true},
		{"nil", nil, "", true},
		{"one", Errors{{Path: "a.b", Message: "bad"}}, "a.b: bad", false},
		{"two", Errors{{Path: "a.b", Value: "1", Message: "bad"}, {Path: "a.c", Message: "worse"}}, "a.b: bad\na.c: worse", false},
		{"endpoint", Errors{{Path: `endpoints[0].extra_config["security/cors"]`, Endpoint: "GET /users/{id}", Message: "bad"}},
			`endpoints[0].extra_config["security/cors"] (endpoint "GET /users/{id}"): bad`, false},
	}
	for _, tc := range tests {
		if got := tc.errs.Error(); got != tc.want {
			t.Errorf("%s: Error() = %q, want %q", tc.name, got, tc.want)
		}
		err := tc.errs.Err()
		if (err == nil) != tc.isNil {
			t.Errorf("%s: Err() = %v, want nil: %v", tc.name, err, tc.isNil)
		}
		if err != nil && err.Error() != tc.want {
			t.Errorf("%s: Err().Error() = %q, want %q", tc.name, err.Error(), tc.want)
		}
	}
}

// The keys known where a key is unknown are listed once for all the
// problems of a report, one line per list, naming every object it is the
// list of; an Error on its own gives them in FullMessage.
func TestErrorsKnownKeys(t *testing.T) {
	svc, ep := []string{"a", "b"}, []string{"a", "b", "disable"}
	tests := []struct {
		name  string
		errs  Errors
		lines []string
	}{
		{"none", Errors{{Path: "x.a", Message: "bad"}}, nil},
		{"two unknown keys of one block", Errors{
			{Path: `extra_config["security/cors"].c`, Message: `unknown key "c"`, Known: svc},
			{Path: `extra_config["security/cors"].d`, Message: `unknown key "d"`, Known: svc},
		}, []string{`the keys known at extra_config["security/cors"] are a, b`}},
		{"two endpoints and the service", Errors{
			{Path: `endpoints[0].extra_config["security/cors"]["@x"]`, Message: `unknown key "@x"`, Known: ep},
			{Path: `extra_config["security/cors"].c`, Message: `unknown key "c"`, Known: svc},
			{Path: `endpoints[2].extra_config["security/cors"].e`, Message: `unknown key "e"`, Known: ep},
		}, []string{
			`the keys known at endpoints[0].extra_config["security/cors"], endpoints[2].extra_config["security/cors"] are a, b, disable`,
			`the keys known at extra_config["security/cors"] are a, b`,
		}},
	}
	for _, tc := range tests {
		got := tc.errs.KnownKeys()
		if strings.Join(got, "\n") != strings.Join(tc.lines, "\n") {
			t.Errorf("%s: KnownKeys() = %q, want %q", tc.name, got, tc.lines)
		}
		if text := tc.errs.Error(); strings.Count(text, "are a, b") != len(tc.lines) || !strings.HasSuffix(text, strings.Join(tc.lines, "\n")) {
			t.Errorf("%s: Error() = %q, want the problems and then the known keys once", tc.name, text)
		}
	}
}

// FullMessage adds the known keys to an unknown key's message, in the
// words a single problem had before reports listed them once.
func TestErrorFullMessage(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{Message: "bad"}, "bad"},
		{Error{Message: `unknown key "c"`, Known: []string{"a", "b"}}, `unknown key "c". Known keys: a, b`},
		{Error{Message: `unknown key "c"; did you mean "a"?`, Known: []string{"a", "b"}}, `unknown key "c"; did you mean "a"? Known keys: a, b`},
	}
	for _, tc := range tests {
		if got := tc.e.FullMessage(); got != tc.want {
			t.Errorf("FullMessage() = %q, want %q", got, tc.want)
		}
	}
}
