package policy

import "testing"

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
