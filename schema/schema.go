// Package schema holds the JSON Schema (draft 2020-12) of the security/cors
// namespace and validates values against it.
//
// The schema file, cors.schema.json, is embedded; editors and other JSON
// Schema tools can use it as it is. Validation reports every violation
// with the JSON path of the bad value, the value itself, and what would be
// accepted instead.
//
// The schema's custom formats (cors-origin, http-method, go-duration and
// the others in FormatNames) carry CORS meaning, so this package does not
// define them: the caller passes their checkers to New. corsgate's policy
// package does, with its own grammar, so that the schema and the policy
// validator cannot disagree on what a value means.
package schema

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// CORSSchema is the JSON Schema of the security/cors namespace.
//
//go:embed cors.schema.json
var CORSSchema []byte

// SchemaURL is the $id of CORSSchema.
const SchemaURL = "https://corsgate.dev/schema/cors.schema.json"

// AdminSchema is the JSON Schema of the corsgate/admin namespace, the
// admin listener's settings.
//
//go:embed admin.schema.json
var AdminSchema []byte

// AdminURL is the $id of AdminSchema.
const AdminURL = "https://corsgate.dev/schema/admin.schema.json"

// Violation is one way a value breaks the schema.
type Violation struct {
	// Path is the JSON path of the value, such as
	// extra_config["security/cors"].max_age.
	Path string
	// Value is the offending value as JSON, or "" when a key is missing.
	Value string
	// Message says what is wrong and what would be accepted.
	Message string
	// Shape is true when the value cannot be read as the type the schema
	// describes at all: a value of the wrong JSON type, or an unknown key.
	// The other violations are about meaning, which corsgate's policy
	// validator judges too (and words the same way, see package policy).
	Shape bool
	// Fix, when not nil, is the correction the message suggests, for a
	// program to apply.
	Fix *Fix
	// Known lists, for an unknown key, the keys its object may have. The
	// message leaves them out, so that a report of many problems can list
	// them once.
	Known []string
}

// Error implements error.
func (v Violation) Error() string { return v.Path + ": " + v.Message }

// Format is a custom format that cors.schema.json names. The schema says
// which values carry which format; the caller says what each one means, so
// that this package holds no CORS grammar of its own. Check receives the
// value as decoded by encoding/json and returns an error that says what is
// wrong and how to fix it.
type Format struct {
	Name  string
	Check func(v any) error
	// Suggest, when not nil, turns a value of the wrong JSON type into
	// the value of this format its author most likely meant (the number
	// 3600 into the duration string "1h"), or reports false. The
	// violation then suggests it, when Check accepts it.
	Suggest func(v any) (any, bool)
}

// Definitions that can be validated on their own, by name.
const (
	// ServicePolicy is the security/cors block at the service level.
	ServicePolicy = "servicePolicy"
	// EndpointPolicy is the security/cors block of one endpoint.
	EndpointPolicy = "endpointPolicy"
	// Admin is the corsgate/admin block (AdminSchema).
	Admin = "admin"
)

// Schema is cors.schema.json compiled with a set of formats. It is
// immutable and safe for concurrent use.
type Schema struct {
	raws    map[string]any // the schema documents, by URL
	defs    map[string]*jsonschema.Schema
	formats map[string]Format
}

// FormatNames lists the custom formats cors.schema.json uses; New refuses
// a set of formats that misses one.
var FormatNames = []string{"cors-origin", "cors-origin-set", "anchored-regexp", "cors-regex-trust", "go-duration", "http-method", "http-header-name", "http-expose-header"}

// New compiles the embedded schema with formats, which must define every
// name in FormatNames.
func New(formats ...Format) (*Schema, error) {
	s := &Schema{raws: map[string]any{}, defs: map[string]*jsonschema.Schema{}, formats: map[string]Format{}}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	have := map[string]bool{}
	for _, f := range formats {
		c.RegisterFormat(&jsonschema.Format{Name: f.Name, Validate: f.Check})
		have[f.Name] = true
		s.formats[f.Name] = f
	}
	for _, name := range FormatNames {
		if !have[name] {
			return nil, fmt.Errorf("schema.New: no checker for the format %q", name)
		}
	}
	for url, doc := range map[string][]byte{SchemaURL: CORSSchema, AdminURL: AdminSchema} {
		raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", url, err)
		}
		if err := c.AddResource(url, raw); err != nil {
			return nil, err
		}
		s.raws[url] = raw
	}
	for def, url := range map[string]string{
		ServicePolicy:  SchemaURL + "#/$defs/" + ServicePolicy,
		EndpointPolicy: SchemaURL + "#/$defs/" + EndpointPolicy,
		Admin:          AdminURL,
	} {
		d, err := c.Compile(url)
		if err != nil {
			return nil, err
		}
		s.defs[def] = d
	}
	return s, nil
}

// Validate checks value (as decoded by encoding/json: maps, slices,
// float64, string, bool, nil) against the named definition. base is the
// JSON path of value in the whole configuration, used to prefix every
// Violation.Path. It returns nil when the value is valid, and otherwise
// every violation, sorted by path.
func (s *Schema) Validate(def string, value any, base string) []Violation {
	d, ok := s.defs[def]
	if !ok {
		return []Violation{{Path: base, Message: "internal error: no schema definition " + strconv.Quote(def)}}
	}
	err := d.Validate(value)
	if err == nil {
		return nil
	}
	verr, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return []Violation{{Path: base, Message: err.Error()}}
	}
	return s.translate(verr, value, base)
}

var printer = message.NewPrinter(language.English)

// endpointOnly are keys valid in endpointPolicy but not in servicePolicy.
var endpointOnly = map[string]bool{"disable": true, "strip_cors_request_headers": true}

// translate turns the leaves of a validation error tree into Errors.
func (s *Schema) translate(root *jsonschema.ValidationError, value any, base string) []Violation {
	var leaves []*jsonschema.ValidationError
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		// An anyOf that carries its own hint is one problem, however many
		// branches failed.
		_, isAnyOf := e.ErrorKind.(*kind.AnyOf)
		if len(e.Causes) == 0 || (isAnyOf && s.hintFor(e.SchemaURL) != "") {
			leaves = append(leaves, e)
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(root)

	// A format error says more than a pattern error about the same value.
	hasFormat := map[string]bool{}
	for _, l := range leaves {
		if _, ok := l.ErrorKind.(*kind.Format); ok {
			hasFormat[strings.Join(l.InstanceLocation, "/")] = true
		}
	}
	seen := map[string]bool{}
	var out []Violation
	for _, l := range leaves {
		loc := strings.Join(l.InstanceLocation, "/")
		if _, ok := l.ErrorKind.(*kind.Pattern); ok && hasFormat[loc] {
			continue
		}
		for _, e := range s.describe(l, value, base) {
			key := e.Path + "\x00" + e.Message
			if !seen[key] {
				seen[key] = true
				out = append(out, e)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return pathLess(out[i].Path, out[j].Path) })
	return out
}

// describe renders one leaf error.
func (s *Schema) describe(l *jsonschema.ValidationError, value any, base string) []Violation {
	path, v, found := locate(base, value, l.InstanceLocation)
	val := ""
	if found {
		val = jsonText(v)
	}
	hint := s.hintFor(l.SchemaURL)
	withHint := func(msg string) string {
		if hint == "" {
			return msg
		}
		return msg + "; " + hint
	}
	switch k := l.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		known := s.propertiesAt(l.SchemaURL)
		obj, _ := v.(map[string]any)
		var errs []Violation
		for _, p := range k.Properties {
			msg := fmt.Sprintf("unknown key %q", p)
			var fix *Fix
			switch s := closest(p, known); {
			case endpointOnly[p]:
				msg = fmt.Sprintf("%q only exists in an endpoint's own security/cors block (endpoints[i].extra_config); move it there", p)
			case s != "" && obj[s] != nil:
				// Renamed, it would be written twice.
				msg += fmt.Sprintf(", a misspelt %q, which is set here too; remove one of them", s)
				fix = RemoveIt()
			case s != "":
				msg += fmt.Sprintf("; did you mean %q?", s)
				fix = RenameTo(s)
			}
			child, cv, _ := locate(base, value, append(append([]string{}, l.InstanceLocation...), p))
			viol := Violation{Path: child, Value: jsonText(cv), Message: msg, Shape: true, Fix: fix}
			if !endpointOnly[p] {
				viol.Known = known
			}
			errs = append(errs, viol)
		}
		return errs
	case *kind.Type:
		msg := fmt.Sprintf("%s is %s, not %s", val, article(k.Got), wantTypes(k.Want))
		if k.Got == "null" {
			msg = "null is not " + wantTypes(k.Want)
		}
		msg = withHint(msg)
		fixed, ok := s.coerce(l.SchemaURL, v, k.Want)
		var fix *Fix
		if ok {
			fix = ReplaceWith(fixed)
			msg += fmt.Sprintf("; did you mean %s?", jsonText(fixed))
		}
		return []Violation{{Path: path, Value: val, Message: msg, Shape: true, Fix: fix}}
	case *kind.Format:
		msg := fmt.Sprint(k.Err)
		return []Violation{{Path: path, Value: val, Message: msg}}
	case *kind.Required:
		var errs []Violation
		for _, m := range k.Missing {
			child := appendPath(path, m, false)
			errs = append(errs, Violation{Path: child, Message: withHint(fmt.Sprintf("%q is missing", m))})
		}
		return errs
	case *kind.Minimum:
		return []Violation{{Path: path, Value: val, Message: withHint(fmt.Sprintf("%s is below the minimum %s", val, k.Want.RatString()))}}
	case *kind.Maximum:
		return []Violation{{Path: path, Value: val, Message: withHint(fmt.Sprintf("%s is above the maximum %s", val, k.Want.RatString()))}}
	case *kind.MaxItems:
		if hint != "" {
			return []Violation{{Path: path, Value: val, Message: fmt.Sprintf("%s is not accepted: %s", val, hint)}}
		}
	case *kind.MinItems:
		return []Violation{{Path: path, Value: val, Message: withHint("the list is empty")}}
	case *kind.UniqueItems:
		return []Violation{{Path: path, Value: val, Message: fmt.Sprintf("items %d and %d are both %s; remove the duplicate", k.Duplicates[0], k.Duplicates[1], itemText(v, k.Duplicates[0]))}}
	case *kind.AnyOf:
		// x-at names the key the problem is best reported at.
		if node, ok := s.schemaNode(l.SchemaURL).(map[string]any); ok {
			if at, ok := node["x-at"].(string); ok {
				p, v, found := locate(base, value, append(append([]string{}, l.InstanceLocation...), at))
				path, val = p, ""
				if found {
					val = jsonText(v)
				}
			}
		}
		return []Violation{{Path: path, Value: val, Message: hint}}
	case *kind.Pattern, *kind.Not, *kind.Enum, *kind.Const:
		if hint != "" {
			return []Violation{{Path: path, Value: val, Message: fmt.Sprintf("%s is not accepted: %s", val, hint)}}
		}
	}
	return []Violation{{Path: path, Value: val, Message: withHint(l.ErrorKind.LocalizedString(printer))}}
}

func wantTypes(want []string) string {
	out := make([]string, len(want))
	for i, w := range want {
		out[i] = article(w)
	}
	return strings.Join(out, " or ")
}

func article(typ string) string {
	switch typ {
	case "integer", "array", "object":
		return "an " + typ
	case "null":
		return "null"
	}
	return "a " + typ
}

// locate renders the JSON path of an instance location below base and
// returns the value found there.
func locate(base string, value any, loc []string) (string, any, bool) {
	path := base
	cur, found := value, true
	for _, tok := range loc {
		switch c := cur.(type) {
		case []any:
			i, err := strconv.Atoi(tok)
			path = appendPath(path, tok, true)
			if err == nil && i >= 0 && i < len(c) {
				cur = c[i]
			} else {
				cur, found = nil, false
			}
		case map[string]any:
			path = appendPath(path, tok, false)
			cur, found = c[tok]
		default:
			path = appendPath(path, tok, false)
			cur, found = nil, false
		}
	}
	return path, cur, found
}

// appendPath adds one token to a JSON path: [3] for an index, .key for a
// plain key, ["key/with/slashes"] otherwise.
func appendPath(path, tok string, index bool) string {
	if index {
		return path + "[" + tok + "]"
	}
	plain := tok != ""
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			plain = false
			break
		}
	}
	if !plain {
		return path + "[" + strconv.Quote(tok) + "]"
	}
	if path == "" {
		return tok
	}
	return path + "." + tok
}

// Path joins a JSON path and a key, with the same notation as the paths in
// Error: Path(`extra_config`, "security/cors") is extra_config["security/cors"].
func Path(base, key string) string { return appendPath(base, key, false) }

// Index appends an array index to a JSON path.
func Index(base string, i int) string { return appendPath(base, strconv.Itoa(i), true) }

func itemText(list any, i int) string {
	if l, ok := list.([]any); ok && i >= 0 && i < len(l) {
		return jsonText(l[i])
	}
	return "the same"
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// schemaNode returns the raw schema node at the fragment of a schema URL.
func (s *Schema) schemaNode(url string) any {
	base, frag, _ := strings.Cut(url, "#")
	node := s.raws[base]
	for _, tok := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		if tok == "" {
			continue
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch n := node.(type) {
		case map[string]any:
			node = n[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n) {
				return nil
			}
			node = n[i]
		default:
			return nil
		}
	}
	return node
}

// coerce turns v, a value of the wrong JSON type for the schema at url,
// into the value of a type in want that its author most likely meant: a
// quoted boolean or integer without its quotes, or what the format's
// Suggest makes of it. It reports false when there is none, or when the
// schema would refuse it too.
func (s *Schema) coerce(url string, v any, want []string) (any, bool) {
	node, _ := s.schemaNode(url).(map[string]any)
	if node == nil {
		return nil, false
	}
	str, isString := v.(string)
	for _, w := range want {
		switch {
		case w == "boolean" && isString && (str == "true" || str == "false"):
			return str == "true", true
		case w == "integer" && isString:
			n, err := strconv.Atoi(str)
			if err != nil || strconv.Itoa(n) != str || !inRange(node, float64(n)) {
				continue
			}
			return n, true
		case w == "string":
			name, _ := node["format"].(string)
			f, ok := s.formats[name]
			if !ok || f.Suggest == nil {
				continue
			}
			fixed, ok := f.Suggest(v)
			if _, isStr := fixed.(string); !ok || !isStr || f.Check(fixed) != nil {
				continue
			}
			if p, ok := node["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(fixed.(string)) {
				continue
			}
			return fixed, true
		}
	}
	return nil, false
}

// inRange reports whether n is within the minimum and maximum of node.
func inRange(node map[string]any, n float64) bool {
	if lo, ok := number(node["minimum"]); ok && n < lo {
		return false
	}
	if hi, ok := number(node["maximum"]); ok && n > hi {
		return false
	}
	return true
}

// number reads a number of a schema document, which the schema library
// decodes as a json.Number.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	}
	return 0, false
}

// hintFor finds the x-hint annotation nearest to a schema location, looking
// at the node and then its ancestors.
func (s *Schema) hintFor(url string) string {
	base, frag, _ := strings.Cut(url, "#")
	toks := strings.Split(strings.TrimPrefix(frag, "/"), "/")
	for n := len(toks); n >= 0; n-- {
		node, ok := s.schemaNode(base + "#/" + strings.Join(toks[:n], "/")).(map[string]any)
		if !ok {
			continue
		}
		if h, ok := node["x-hint"].(string); ok {
			return h
		}
		if _, isDef := node["$defs"]; isDef {
			break
		}
	}
	return ""
}

// propertiesAt lists the keys declared by the object schema at url.
func (s *Schema) propertiesAt(url string) []string {
	node, _ := s.schemaNode(url).(map[string]any)
	props, _ := node["properties"].(map[string]any)
	keys := make([]string, 0, len(props))
	for k := range props {
		if !strings.HasPrefix(k, "@") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// closest returns the candidate nearest to s by edit distance, if it is
// near enough to be a plausible typo.
func closest(s string, candidates []string) string {
	best, bestD := "", len(s)/2+2
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// ComparePaths orders JSON paths as a person reads them, with indexes by
// number ([2] before [10]), for sorting problems: it returns -1, 0 or 1.
func ComparePaths(a, b string) int {
	switch {
	case pathLess(a, b):
		return -1
	case pathLess(b, a):
		return 1
	}
	return strings.Compare(a, b)
}

// pathLess orders JSON paths as a person reads them: indexes by number,
// so that [2] comes before [10].
func pathLess(a, b string) bool {
	for a != "" && b != "" {
		if isDigit(a[0]) && isDigit(b[0]) {
			na, ra := leadingNumber(a)
			nb, rb := leadingNumber(b)
			if na != nb {
				return na < nb
			}
			a, b = ra, rb
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func leadingNumber(s string) (int, string) {
	n, i := 0, 0
	for i < len(s) && isDigit(s[i]) {
		n = n*10 + int(s[i]-'0')
		i++
	}
	return n, s[i:]
}
