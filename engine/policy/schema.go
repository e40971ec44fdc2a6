package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
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
		schema.Format{Name: "go-duration", Check: str(func(s string) error { _, err := ParseMaxAge(s); return err }), Suggest: secondsAsDuration},
		schema.Format{Name: "http-method", Check: str(CheckMethod)},
		schema.Format{Name: "http-header-name", Check: str(CheckHeaderName)},
		schema.Format{Name: "http-expose-header", Check: str(CheckExposeHeader)},
	)
})

// secondsAsDuration reads a number written for max_age as the seconds of
// Access-Control-Max-Age: 3600 is "1h".
func secondsAsDuration(v any) (any, bool) {
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) || math.Abs(f) > float64(maxSeconds) {
		return nil, false
	}
	return secondsText(int64(f))
}

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
			return fmt.Errorf("%s", sameOriginMessage(s, j))
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
	vals, _ := parseValues(b, EndpointLevel, adviceFor(b))
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
	return parseBlock(raw, level, base, true)
}

// parseBlock is ParseBlock; verify says whether to try the replacements
// suggested for the shape errors (keepWorkingFixes), which a block tried
// that way does not do again.
func parseBlock(raw any, level Level, base string, verify bool) (*Block, Errors) {
	if m, ok := raw.(map[string]any); ok {
		if b, ok := wellShaped(m, level); ok {
			// The schema would find nothing wrong with the shape: it is
			// only run when something is, to word the problems.
			return b, nil
		}
	}
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
			errs = append(errs, Error{Path: v.Path, Value: v.Value, Message: v.Message, Fix: v.Fix, Known: v.Known})
		}
	}
	m, ok := raw.(map[string]any)
	if len(errs) > 0 || !ok {
		if len(errs) == 0 {
			errs = Errors{{Path: base, Message: "the block must be a JSON object"}}
		}
		if ok {
			shape := len(errs)
			errs = append(errs, checkWellShaped(m, level, base, errs)...)
			if verify {
				keepWorkingFixes(m, level, base, errs[:shape], errs)
			}
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

// keepWorkingFixes drops, from shape, the shape errors of the block m
// (a part of errs, all its errors), every replacement or rename the block
// refuses in turn at the key it writes, with the words that suggest it:
// the schema turns "true" into true without knowing that
// allow_any_origin_with_credentials_unsafe: true alone is refused too, and
// suggests the key nearest to a misspelt one whatever its value. It tries
// maxTriedFixes of them at most, and drops the others: a suggestion is
// only made when it is known to work.
func keepWorkingFixes(m map[string]any, level Level, base string, shape, errs Errors) {
	tried := 0
	for i := range shape {
		e := &shape[i]
		if e.Fix == nil || e.Fix.Op == schema.FixRemove {
			continue
		}
		tried++
		if tried <= maxTriedFixes && fixWorks(m, level, base, *e, errs) {
			continue
		}
		e.Fix = nil
		if before, _, ok := strings.Cut(e.Message, "; did you mean "); ok && strings.HasSuffix(e.Message, "?") {
			e.Message = before
		}
	}
}

// maxTriedFixes bounds the blocks keepWorkingFixes judges for one block.
const maxTriedFixes = 32

// fixWorks applies e.Fix to a copy of the block m, judges the block alone
// again, and reports whether the key it writes (the key of e, or the new
// key of a rename) has none of the problems errs had there but e's, and
// no new one.
func fixWorks(m map[string]any, level Level, base string, e Error, errs Errors) bool {
	data, err := json.Marshal(m)
	if err != nil {
		return false
	}
	var copied any
	if json.Unmarshal(data, &copied) != nil {
		return false
	}
	fixed, err := e.Fix.Apply(copied, strings.TrimPrefix(e.Path, base))
	if err != nil {
		return false
	}
	b, after := parseBlock(fixed, level, base, false)
	if b != nil {
		_, after = CheckBlock(b, level, base)
	}
	key := e.Path
	for p := schema.ParentPath(key); p != base && p != ""; p = schema.ParentPath(key) {
		key = p
	}
	if e.Fix.Op == schema.FixRename {
		key = schema.Path(base, e.Fix.Key)
	}
	at := func(es Errors) []string {
		var vals []string
		for _, x := range es {
			if x.Path == key || strings.HasPrefix(x.Path, key+".") || strings.HasPrefix(x.Path, key+"[") {
				vals = append(vals, x.Value)
			}
		}
		return vals
	}
	left := at(errs)
	if i := slices.Index(left, e.Value); i >= 0 && e.Fix.Op == schema.FixReplace {
		left = slices.Delete(left, i, i+1)
	}
	for _, v := range at(after) {
		i := slices.Index(left, v)
		if i < 0 {
			return false
		}
		left = slices.Delete(left, i, i+1)
	}
	return true
}

// endpointOnlyKeys are the keys of an endpoint's block that a service
// block may not have (the schema's endpointPolicy has them, its
// servicePolicy does not; a test holds the two to the schema).
var endpointOnlyKeys = map[string]bool{"disable": true, "strip_cors_request_headers": true}

// wellShaped is the shape check without the schema, for the blocks that
// pass it, which are nearly all: an object whose keys are all known at
// level, whose values have their field's JSON type, with no null
// anywhere, and an @comment that is a string, an array or an object. It
// returns the block when they pass. It never passes a block that the
// schema finds a shape problem in (TestWellShapedAgreesWithSchema and
// FuzzCompileJSON hold it to that); it may refuse one that the schema
// accepts, which ParseBlock then judges with the schema. A fleet replica
// applies every change another replica made through here: the schema's
// walk of a hundred origins cost a quarter of each apply.
func wellShaped(m map[string]any, level Level) (*Block, bool) {
	for k, v := range m {
		if !exactBlockKeys[k] || (level == ServiceLevel && endpointOnlyKeys[k]) || hasNull(v) {
			return nil, false
		}
		if k == "@comment" {
			switch v.(type) {
			case string, []any, map[string]any:
			default:
				return nil, false
			}
		}
	}
	b, err := decodeBlock(m)
	return b, err == nil
}

// hasNull reports whether v is, or holds, a JSON null.
func hasNull(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case []any:
		for _, e := range v {
			if hasNull(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range v {
			if hasNull(e) {
				return true
			}
		}
	}
	return false
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
	_, ps := parseValues(b, level, adviceFor(b))
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
