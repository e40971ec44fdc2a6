package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/corsgate/corsgate/internal/apierror"
	"github.com/corsgate/corsgate/schema"
)

// maxBody bounds the body of a write.
const maxBody = 1 << 20

// readJSON reads a write's body: application/json, at most 1 MiB, one
// JSON value, decoded into v with unknown keys refused when strict.
func readJSON(r *http.Request, v any, strict bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return errorf(http.StatusUnsupportedMediaType, "the body must be JSON, sent with Content-Type: application/json (got %q)", ct)
		}
	} else {
		return errorf(http.StatusUnsupportedMediaType, "the body must be JSON, sent with Content-Type: application/json")
	}
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errorf(http.StatusRequestEntityTooLarge, "the body is larger than %d bytes", maxBody)
		}
		return errorf(http.StatusBadRequest, "cannot read the body: %v", err)
	}
	_, dups, err := schema.ScanJSON(data)
	if err != nil {
		return errorf(http.StatusBadRequest, "the body is not valid JSON: %v", err)
	}
	if len(dups) > 0 {
		e := errorf(http.StatusBadRequest, "%q is written twice in one object; a JSON parser would keep only the second value, so remove one", dups[0].Key)
		for _, d := range dups {
			e.body.Errors = append(e.body.Errors, apierror.Problem{Path: d.Path(), Message: "written twice in this object"})
		}
		return e
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, "%s", jsonProblem(err))
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
