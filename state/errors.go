package state

import (
	"errors"
	"fmt"
	"time"

	"github.com/corsgate/corsgate/engine/policy"
)

// Kind says what went wrong with a change, so that a caller can answer it
// without reading the message: the admin API maps each Kind to one HTTP
// status in one place.
type Kind int

// The kinds of Error.
const (
	// Invalid: the change does not validate; Problems lists every problem
	// with its path. Nothing changed.
	Invalid Kind = iota + 1
	// Conflict: the store holds a revision that this change would
	// silently undo, or other writers kept winning. Nothing changed.
	Conflict
	// PreconditionRequired: the change names no revision to change, and
	// this kind of change must. Current is the revision in force.
	PreconditionRequired
	// PreconditionFailed: the change was based on a revision that is no
	// longer current. Current is the revision in force. Nothing changed.
	PreconditionFailed
	// Unavailable: the store cannot be used or does not answer, or did not
	// confirm the change. RetryAfter, when not zero, is a fair wait.
	Unavailable
	// NotFound: the revision asked for is not in the store's history.
	NotFound
	// Internal: what cannot happen did; the message says what.
	Internal
)

// String names the kind, for messages and tests.
func (k Kind) String() string {
	switch k {
	case Invalid:
		return "invalid"
	case Conflict:
		return "conflict"
	case PreconditionRequired:
		return "precondition required"
	case PreconditionFailed:
		return "precondition failed"
	case Unavailable:
		return "unavailable"
	case NotFound:
		return "not found"
	case Internal:
		return "internal"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is why the Manager refused or could not finish a change. Every
// error a Manager method returns is one.
type Error struct {
	Kind Kind
	// Reason says, for a person, what happened and what to do.
	Reason string
	// Problems are, for Invalid, every problem with its JSON path.
	Problems policy.Errors
	// Current is, for PreconditionRequired and PreconditionFailed, the
	// revision in force.
	Current *uint64
	// RetryAfter is, when not zero, how long to wait before trying again.
	RetryAfter time.Duration
	// Err is the cause, when another error caused this one.
	Err error
}

// Error returns the reason.
func (e *Error) Error() string { return e.Reason }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// fail returns an Error of kind k with a formatted reason.
func fail(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Reason: fmt.Sprintf(format, args...)}
}

// invalid is the Error of a change that does not validate.
func invalid(errs policy.Errors) *Error {
	// The reason names the first problem in words that stand on their own.
	first := errs[0]
	first.Message = first.FullMessage()
	e := fail(Invalid, "%s", first.Error())
	if len(errs) > 1 {
		e.Reason += fmt.Sprintf(" (and %d more problem(s), listed in errors)", len(errs)-1)
	}
	e.Problems, e.Err = errs, errs
	return e
}

// compileError is the Error of a document that does not compile: Invalid
// with its problems, or Internal for anything else.
func compileError(err error) *Error {
	var errs policy.Errors
	if errors.As(err, &errs) && len(errs) > 0 {
		return invalid(errs)
	}
	return &Error{Kind: Internal, Reason: err.Error(), Err: err}
}

// KindOf returns the Kind of err, or 0 when err is not an Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}
