package admin

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/corsgate/corsgate/internal/apierror"
	"github.com/corsgate/corsgate/state"
)

// httpError is an error of the request itself, found by this package
// before package state is asked anything: a body that is not JSON, a
// method not allowed, a route that does not exist.
type httpError struct {
	status int
	body   apierror.Body
}

func (e *httpError) Error() string { return e.body.Reason }

// errorf returns the httpError of status with a formatted reason.
func errorf(status int, format string, args ...any) *httpError {
	return &httpError{status: status, body: apierror.New(status, fmt.Sprintf(format, args...))}
}

// statusOf is the HTTP status of each kind of state.Error: the one place
// where the run-time state's errors become HTTP.
var statusOf = map[state.Kind]int{
	state.Invalid:              http.StatusBadRequest,
	state.Conflict:             http.StatusConflict,
	state.PreconditionRequired: http.StatusPreconditionRequired,
	state.PreconditionFailed:   http.StatusPreconditionFailed,
	state.Unavailable:          http.StatusServiceUnavailable,
	state.NotFound:             http.StatusNotFound,
	state.Internal:             http.StatusInternalServerError,
}

// describe turns an error into its HTTP status, its body and its
// Retry-After in seconds (0: none).
func describe(err error) (int, apierror.Body, int) {
	var he *httpError
	var se *state.Error
	switch {
	case errors.As(err, &he):
		return he.status, he.body, 0
	case errors.As(err, &se):
		status, ok := statusOf[se.Kind]
		if !ok {
			status = http.StatusInternalServerError
		}
		b := apierror.New(status, se.Reason)
		b.Errors = problems(se.Problems)
		if se.Kind == state.PreconditionFailed || se.Kind == state.PreconditionRequired {
			b.Revision = se.Current
		}
		return status, b, int((se.RetryAfter + time.Second - 1) / time.Second)
	}
	return http.StatusInternalServerError, apierror.New(http.StatusInternalServerError, err.Error()), 0
}

// writeError answers err.
func writeError(w http.ResponseWriter, err error) {
	status, b, retry := describe(err)
	apierror.Write(w, status, b, retry)
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) { apierror.WriteJSON(w, status, v) }
