// Package apierror is the one JSON shape of every error corsgate's HTTP
// endpoints answer (the admin API, the debug endpoints, the playground):
//
//	{"error": "bad_request", "reason": "what is wrong and how to fix it",
//	 "errors": [{"path": "service.allow_origins[0]", "message": "...",
//	             "fix": {"op": "replace", "value": "https://app.example.com"}}]}
//
// error is a short code, reason a sentence for a person, and errors, when
// the problem is in the request's content, every problem with where it is
// and, when its message suggests a correction, that correction for a
// program (schema.Fix). Each problem's message stands on its own. The
// error and reason fields are those of Cloudant's API.
package apierror

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/corsgate/corsgate/schema"
)

// Body is an error answer.
type Body struct {
	// Error is a short code, such as "bad_request" (Code gives the one of
	// a status).
	Error string `json:"error"`
	// Reason says what is wrong and how to fix it.
	Reason string `json:"reason"`
	// Errors lists every problem of the request's content, with where it
	// is; absent when there is none.
	Errors []Problem `json:"errors,omitempty"`
	// Revision is the revision in force, for an answer about revisions
	// (the admin API's 412 and 428).
	Revision *uint64 `json:"revision,omitempty"`
}

// Problem is one problem of a request's content.
type Problem struct {
	// Path is where it is: a JSON path in the body, or the name of a query
	// parameter.
	Path    string `json:"path"`
	Message string `json:"message"`
	// Fix, when present, is the correction the message suggests, to
	// apply at Path (see schema.Fix).
	Fix *schema.Fix `json:"fix,omitempty"`
}

// New returns the Body of status with reason.
func New(status int, reason string) Body {
	return Body{Error: Code(status), Reason: reason}
}

// Code is the error code of an HTTP status: its text in snake case, such
// as "bad_request" for 400 and "service_unavailable" for 503, and
// "internal_error" for 500.
func Code(status int) string {
	if status == http.StatusInternalServerError {
		return "internal_error"
	}
	text := http.StatusText(status)
	if text == "" {
		return "status_" + strconv.Itoa(status)
	}
	text = strings.ToLower(strings.NewReplacer(" ", "_", "-", "_", "'", "").Replace(text))
	return text
}

// Write answers b with status as JSON, never cached. retryAfter, in
// seconds, is sent as Retry-After when positive.
func Write(w http.ResponseWriter, status int, b Body, retryAfter int) {
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	WriteJSON(w, status, b)
}

// WriteJSON answers v with status as indented JSON, never cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
