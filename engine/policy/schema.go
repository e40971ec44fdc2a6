package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/corsgate/corsgate/engine/origin"
	"github.com/corsgate/corsgate/schema"
)

// Schema returns cors.schema.json compiled with this package's grammar as
// its custom formats, so that it judges values exactly as the validator
// does (TestSchemaAgreesWithValidator holds them to that).
func Schema() (*schema.Schema, error) { return compiledSchema() }

var compiledSchema = sync.OnceValues(func() (*schema.Schema, error) {
	str := func(check func(string) error) func(any) error {
		return func(v any) error {
			if s, ok := v.(string); ok {
				return check(s)
			}
			return nil // the type keyword reports it
		}
	}
	return schema.New(
		schema.Format{Name: "cors-origin", Check: str(func(s string) error { _, err := origin.ParsePattern(s); return err })},
		schema.Format{Name: "cors-origin-set", Check: checkOriginSet},
		schema.Format{Name: "anchored-regexp", Check: str(func(s string) error { _, err := origin.CompileRegexp(s); return err })},
		schema.Format{Name: "cors-regex-trust", Check: checkRegexTrust},
		schema.Format{Name: "go-duration", Check: str(func(s string) error { _, err := ParseMaxAge(s); return err })},
		schema.Format{Name: "http-method", Check: str(CheckMethod)},
		schema.Format{Name: "http-header-name", Check: str(CheckHeaderName)},
		schema.Format{Name: "http-expose-header", Check: str(CheckExposeHeader)},
	)
})

// checkOriginSet is the duplicate rule of allow_origins, for a list that
// may hold values of other types (the items' own formats report those).
func checkOriginSet(v any) error {
	list, ok := v.([]any)
	if !ok {
		return nil
	}
	seen := map[string]int{}
	for i, item := range list {
		s, ok := item.(string)
		if !ok {
			continue
		}
		pat, err := origin.ParsePattern(s)
		if err != nil {
			continue
		}
		if j, dup := seen[pat.String()]; dup {
			return fmt.Errorf("%s", sameOrigin(s, j))
		}
		seen[pat.String()] = i
	}
	return nil
}

// checkRegexTrust is the rule on allow_origins_regex expressions that
// let attacker origins in, which needs the whole block.
func checkRegexTrust(v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	b, err := decodeBlock(m)
	if err != nil {
		return nil // the other keywords report it
	}
	vals, _ := parseValues(b, EndpointLevel)
	for _, p := range regexLeakRule.check(b, &vals) {
		if !p.warn {
			return fmt.Errorf("%s", p.msg)
		}
	}
	return nil
}

// ParseBlock reads one security/cors block, as decoded by encoding/json
// (maps, slices, float64, string, bool, nil), written at level; base is
// its JSON path. It checks the shape only: a value of the wrong JSON type
// or an unknown key is an Error here. What the values mean is judged by
// CompileDocument (and CheckBlock), which word every problem themselves.
func ParseBlock(raw any, level Level, base string) (*Block, Errors) {
	s, err := compiledSchema()
	if err != nil {
		return nil, Errors{{Path: base, Message: "internal error: the embedded schema does not compile: " + err.Error()}}
	}
	def := schema.ServicePolicy
	if level == EndpointLevel {
		def = schema.EndpointPolicy
	}
	var errs Errors
	for _, v := range s.Validate(def, raw, base) {
		if v.Shape {
			errs = append(errs, Error{Path: v.Path, Value: v.Value, Message: v.Message})
		}
	}
	m, ok := raw.(map[string]any)
	if len(errs) > 0 || !ok {
		if len(errs) == 0 {
			errs = Errors{{Path: base, Message: "the block must be a JSON object"}}
		}
		if ok {
			errs = append(errs, checkWellShaped(m, level, base, errs)...)
		}
		slices.SortStableFunc(errs, func(a, b Error) int { return schema.ComparePaths(a.Path, b.Path) })
		return nil, errs
	}
	b, err := decodeBlock(m)
	if err != nil {
		// A value the schema accepts but Go cannot hold (an integer too
		// large for int): the schema's own words say what is wrong.
		for _, v := range s.Validate(def, raw, base) {
			errs = append(errs, Error{Path: v.Path, Value: v.Value, Message: v.Message})
		}
		if len(errs) == 0 {
			errs = Errors{{Path: base, Message: err.Error()}}
		}
		return nil, errs
	}
	return b, nil
}

// checkWellShaped applies the value rules to the keys of a block that
// have no shape error, so that one run reports every problem of the
// block, not only its type errors.
func checkWellShaped(m map[string]any, level Level, base string, shape Errors) Errors {
	good := map[string]any{}
	for k, v := range m {
		p := schema.Path(base, k)
		if !slices.ContainsFunc(shape, func(e Error) bool {
			return e.Path == p || strings.HasPrefix(e.Path, p+".") || strings.HasPrefix(e.Path, p+"[")
		}) {
			good[k] = v
		}
	}
	b, err := decodeBlock(good)
	if err != nil {
		return nil
	}
	_, ps := parseValues(b, level)
	var out Errors
	for _, p := range ps {
		out = append(out, p.at(base, ""))
	}
	return out
}

// exactBlockKeys are the JSON keys of Block, exactly as spelled (encoding/json
// would also take "Allow_Credentials" for allow_credentials).
var exactBlockKeys = func() map[string]bool {
	keys := map[string]bool{}
	t := reflect.TypeFor[Block]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		keys[name] = true
	}
	return keys
}()

// decodeBlock turns a decoded JSON object into a Block, refusing unknown
// keys and values of the wrong type.
func decodeBlock(m map[string]any) (*Block, error) {
	for k := range m {
		if !exactBlockKeys[k] {
			return nil, fmt.Errorf("cannot read the block: unknown key %q", k)
		}
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("cannot read the block: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	b := &Block{}
	if err := dec.Decode(b); err != nil {
		return nil, fmt.Errorf("cannot read the block: %v", err)
	}
	return b, nil
}
