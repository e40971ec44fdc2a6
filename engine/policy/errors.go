package policy

import (
	"slices"
	"strconv"
	"strings"

	"github.com/corsgate/corsgate/schema"
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
	// Fix, when not nil, is the correction the message suggests, for a
	// program to apply at Path: applied alone, it gives a value the
	// validator accepts there, in the policy the block belongs to.
	Fix *Fix
	// Known lists, for an unknown key, the keys its object may have. The
	// message leaves them out: Errors.Error and corsgate check list them
	// once for every unknown key, and FullMessage adds them to the one.
	Known []string
}

// Fix is a correction that a program can apply; see schema.Fix.
type Fix = schema.Fix

// Error implements error.
func (e Error) Error() string {
	if e.Endpoint != "" {
		return e.Path + " (endpoint " + strconv.Quote(e.Endpoint) + "): " + e.Message
	}
	return e.Path + ": " + e.Message
}

// FullMessage is Message with, for an unknown key, the keys known there:
// the problem in words that stand on their own, for an answer that may be
// read one problem at a time (the admin API's).
func (e Error) FullMessage() string {
	if len(e.Known) == 0 {
		return e.Message
	}
	sep := ". "
	if strings.HasSuffix(e.Message, "?") || strings.HasSuffix(e.Message, ".") {
		sep = " "
	}
	return e.Message + sep + "Known keys: " + strings.Join(e.Known, ", ")
}

// Errors is a list of problems, reported together.
type Errors []Error

// Error implements error: one problem per line, then the lines of
// KnownKeys.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(append(lines, es.KnownKeys()...), "\n")
}

// KnownKeys lists, once for every problem of es about an unknown key, the
// keys known where those are: one line for each list of keys, naming the
// objects it is the list of, such as
//
//	the keys known at extra_config["security/cors"] are allow_any_origin_with_credentials_unsafe, ...
//
// It is empty when no problem is about an unknown key.
func (es Errors) KnownKeys() []string {
	var lists [][]string
	var where [][]string
	for _, e := range es {
		if len(e.Known) == 0 {
			continue
		}
		at := schema.ParentPath(e.Path)
		i := slices.IndexFunc(lists, func(l []string) bool { return slices.Equal(l, e.Known) })
		if i < 0 {
			lists, where = append(lists, e.Known), append(where, nil)
			i = len(lists) - 1
		}
		if !slices.Contains(where[i], at) {
			where[i] = append(where[i], at)
		}
	}
	lines := make([]string, len(lists))
	for i, l := range lists {
		lines[i] = "the keys known at " + strings.Join(where[i], ", ") + " are " + strings.Join(l, ", ")
	}
	return lines
}

// Err returns es as an error, or nil when es is empty.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}
