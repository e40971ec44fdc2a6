package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/corsgate/corsgate/internal/apierror"
	"github.com/corsgate/corsgate/schema"
)

// maxBody bounds the body of a write.
const maxBody = 1 << 20

// readJSON reads a write's body: application/json, at most 1 MiB, one
// JSON value, decoded into v. Every problem of its shape is an error with
// its path: a key written twice, two keys of one object that differ only
// in case (JSON keys are case-sensitive, Go's decoder is not), and, when
// strict, a key that v's type does not have (exactly as written: a key in
// another case is unknown too), and a value of the wrong type.
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
	keys, dups, err := schema.ScanJSON(data)
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
	problems := caseTwins(keys)
	if strict && len(problems) == 0 {
		var generic any
		if err := json.Unmarshal(data, &generic); err == nil {
			unknownKeys(generic, reflect.TypeOf(v), "", &problems)
		}
	}
	if len(problems) == 0 {
		dec := json.NewDecoder(bytes.NewReader(data))
		if err := dec.Decode(v); err != nil {
			problems = append(problems, decodeProblem(err))
		}
	}
	if len(problems) > 0 {
		return shapeError(problems)
	}
	return nil
}

// shapeError is the 400 of a body with problems of shape: the first in
// the reason, every one in errors.
func shapeError(problems []apierror.Problem) *httpError {
	reason := problems[0].Message
	if p := problems[0].Path; p != "" && !strings.HasPrefix(reason, p+" ") {
		reason = p + ": " + reason
	}
	if len(problems) > 1 {
		reason += fmt.Sprintf(" (and %d more problem(s), listed in errors)", len(problems)-1)
	}
	e := errorf(http.StatusBadRequest, "%s", reason)
	e.body.Errors = problems
	return e
}

// caseTwins lists the keys of one object that differ from another of the
// same object only in case (escapes resolved), naming both.
func caseTwins(keys []schema.KeyAt) []apierror.Problem {
	var out []apierror.Problem
	first := map[[2]string]schema.KeyAt{}
	for _, k := range keys {
		id := [2]string{k.Object, strings.ToLower(k.Key)}
		f, seen := first[id]
		if !seen {
			first[id] = k
			continue
		}
		if f.Key == k.Key {
			continue // written twice: reported as such
		}
		out = append(out, apierror.Problem{Path: k.Path(), Message: fmt.Sprintf("%q and %q (at %s) differ only in case; JSON keys are case-sensitive, so keep one of them, spelt as corsgate names it", k.Key, f.Key, f.Path())})
	}
	return out
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// unknownKeys lists the keys of v, a decoded JSON value, that t (the type
// it is decoded into) does not have, exactly as written.
func unknownKeys(v any, t reflect.Type, path string, out *[]apierror.Problem) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessageType {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return // a type error: the decoder reports it
		}
		fields := jsonFields(t)
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			ft, ok := fields[k]
			if !ok {
				*out = append(*out, apierror.Problem{Path: schema.Path(path, k), Message: unknownKeyMessage(k, fields)})
				continue
			}
			unknownKeys(obj[k], ft, schema.Path(path, k), out)
		}
	case reflect.Map:
		if obj, ok := v.(map[string]any); ok {
			for _, k := range slices.Sorted(maps.Keys(obj)) {
				unknownKeys(obj[k], t.Elem(), schema.Path(path, k), out)
			}
		}
	case reflect.Slice, reflect.Array:
		if arr, ok := v.([]any); ok {
			for i, e := range arr {
				unknownKeys(e, t.Elem(), schema.Index(path, i), out)
			}
		}
	}
}

// jsonFields maps the JSON names of a struct's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// unknownKeyMessage says that key is not known, and which keys are.
func unknownKeyMessage(key string, fields map[string]reflect.Type) string {
	names := slices.Sorted(maps.Keys(fields))
	for _, n := range names {
		if strings.EqualFold(n, key) {
			return fmt.Sprintf("unknown key %q: keys are case-sensitive; did you mean %q?", key, n)
		}
	}
	return fmt.Sprintf("unknown key %q; the keys here are %s", key, strings.Join(names, ", "))
}

// decodeProblem words a decoding error for a person, with its path.
func decodeProblem(err error) apierror.Problem {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return apierror.Problem{Path: te.Field, Message: fmt.Sprintf("%s is %s, not %s", te.Field, article(te.Value), te.Type.String())}
	}
	return apierror.Problem{Message: strings.TrimPrefix(err.Error(), "json: ")}
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
