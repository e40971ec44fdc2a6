package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/corsgate/corsgate/schema"
)

// maxBody bounds the body of a write.
const maxBody = 1 << 20

// apiError is an answer of the API other than 2xx, in Cloudant's shape:
// {"error": "bad_request", "reason": "...", "errors": [...]}.
type apiError struct {
	status int
	Error  string       `json:"error"`
	Reason string       `json:"reason"`
	Errors []fieldError `json:"errors,omitempty"`
	// Revision is the current revision, on a 412.
	Revision *uint64 `json:"revision,omitempty"`
	// retryAfter, in seconds, is sent as Retry-After when not zero.
	retryAfter int
}

// fieldError is one problem of a request body, with its JSON path.
type fieldError struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, Error: code, Reason: fmt.Sprintf(format, args...)}
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	writeJSON(w, e.status, e)
}

// readJSON reads a write's body: application/json, at most 1 MiB, one
// JSON value, decoded into v with unknown keys refused when strict.
func readJSON(r *http.Request, v any, strict bool) *apiError {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "the body must be JSON, sent with Content-Type: application/json (got %q)", ct)
		}
	} else {
		return errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "the body must be JSON, sent with Content-Type: application/json")
	}
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errorf(http.StatusRequestEntityTooLarge, "request_entity_too_large", "the body is larger than %d bytes", maxBody)
		}
		return errorf(http.StatusBadRequest, "bad_request", "cannot read the body: %v", err)
	}
	_, dups, err := schema.ScanJSON(data)
	if err != nil {
		return errorf(http.StatusBadRequest, "bad_request", "the body is not valid JSON: %v", err)
	}
	if len(dups) > 0 {
		e := errorf(http.StatusBadRequest, "bad_request", "%q is written twice in one object; a JSON parser would keep only the second value, so remove one", dups[0].Key)
		for _, d := range dups {
			e.Errors = append(e.Errors, fieldError{Path: d.Path(), Message: "written twice in this object"})
		}
		return e
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, "bad_request", "%s", jsonProblem(err))
	}
	return nil
}

// jsonProblem words a decoding error for a person.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s is %s, not %s", te.Field, article(te.Value), te.Type.String())
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "unknown key " + f
	}
	return strings.TrimPrefix(msg, "json: ")
}

func article(v string) string {
	switch v {
	case "array", "object":
		return "an " + v
	}
	return "a " + v
}

// decodeStrict decodes a value decoded by encoding/json (a map) into v,
// refusing unknown keys.
func decodeStrict(raw any, v any) error {
	data, err := json.Marshal(raw)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
