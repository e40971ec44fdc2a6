package policy

import (
	"strconv"
	"strings"
)

// Error is one problem in a CORS configuration: a value the validator
// refuses, or, in a list of warnings, a value it accepts but advises
// against.
type Error struct {
	// Path is the JSON path of the value, such as
	// extra_config["security/cors"].max_age.
	Path string
	// Value is the offending value as JSON, or "" when it is not one
	// value (a combination of keys, or a missing key).
	Value string
	// Message says what is wrong and how to fix it.
	Message string
	// Endpoint names the endpoint the value belongs to, such as
	// "GET /users/{id}", or is empty for service-level values.
	Endpoint string
}

// Error implements error.
func (e Error) Error() string {
	if e.Endpoint != "" {
		return e.Path + " (endpoint " + strconv.Quote(e.Endpoint) + "): " + e.Message
	}
	return e.Path + ": " + e.Message
}

// Errors is a list of problems, reported together.
type Errors []Error

// Error implements error: one problem per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Err returns es as an error, or nil when es is empty.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}
