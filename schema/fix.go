package schema

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// FixOp says what a Fix does to the value at the path of the problem it
// comes with.
type FixOp string

// The operations of a Fix.
const (
	// FixReplace puts Fix.Value in place of the value.
	FixReplace FixOp = "replace"
	// FixRename moves the value to the key Fix.Key of the same object.
	FixRename FixOp = "rename"
	// FixRemove deletes the value: the item of a list, or the key of an
	// object.
	FixRemove FixOp = "remove"
)

// Fix is the correction a message suggests ("did you mean ...?", "write
// ...", "remove it"), for a program to apply rather than to read in the
// message. It changes the value at the path of the problem it comes with,
// and nothing else; applied alone, as it says, it gives a value the
// validator accepts at that place. corsgate only offers a Fix that holds
// to this (engine/policy's tests apply every one of their corpus).
type Fix struct {
	// Op is what to do.
	Op FixOp `json:"op"`
	// Value is the new value, as JSON, for FixReplace.
	Value json.RawMessage `json:"value,omitempty"`
	// Key is the new name of the key, for FixRename.
	Key string `json:"key,omitempty"`
}

// ReplaceWith is the Fix that writes v (encoded as JSON) instead.
func ReplaceWith(v any) *Fix {
	data, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return &Fix{Op: FixReplace, Value: data}
}

// RenameTo is the Fix that moves the value to key.
func RenameTo(key string) *Fix { return &Fix{Op: FixRename, Key: key} }

// RemoveIt is the Fix that deletes the value.
func RemoveIt() *Fix { return &Fix{Op: FixRemove} }

// Apply applies f to root, a value as decoded by encoding/json, at path,
// written as Path and Index write paths and relative to root ("" is root
// itself, ".max_age" or "max_age" a key of it, ".allow_origins[2]" an
// item). It returns the changed value; root itself may be changed too.
// When the path names nothing, or f does not fit the value there, it
// returns an error and changes nothing.
func (f Fix) Apply(root any, path string) (any, error) {
	toks, err := splitPath(path)
	if err != nil {
		return nil, err
	}
	return f.apply(root, toks, path)
}

// apply applies f at toks below v, and returns v changed.
func (f Fix) apply(v any, toks []pathToken, path string) (any, error) {
	if len(toks) == 0 {
		if f.Op != FixReplace {
			return nil, fmt.Errorf("cannot %s the root value", f.Op)
		}
		return f.value()
	}
	t, last := toks[0], len(toks) == 1
	switch c := v.(type) {
	case map[string]any:
		child, ok := c[t.key]
		if !ok || t.index {
			return nil, fmt.Errorf("%s: no key %q there", path, t.key)
		}
		switch {
		case !last:
			nv, err := f.apply(child, toks[1:], path)
			if err != nil {
				return nil, err
			}
			c[t.key] = nv
		case f.Op == FixReplace:
			nv, err := f.value()
			if err != nil {
				return nil, err
			}
			c[t.key] = nv
		case f.Op == FixRename:
			if _, taken := c[f.Key]; taken {
				return nil, fmt.Errorf("%s: cannot rename to %q, which the object has already", path, f.Key)
			}
			delete(c, t.key)
			c[f.Key] = child
		case f.Op == FixRemove:
			delete(c, t.key)
		default:
			return nil, fmt.Errorf("unknown fix operation %q", f.Op)
		}
		return c, nil
	case []any:
		i, err := strconv.Atoi(t.key)
		if !t.index || err != nil || i < 0 || i >= len(c) {
			return nil, fmt.Errorf("%s: no item [%s] there", path, t.key)
		}
		switch {
		case !last:
			nv, err := f.apply(c[i], toks[1:], path)
			if err != nil {
				return nil, err
			}
			c[i] = nv
		case f.Op == FixReplace:
			nv, err := f.value()
			if err != nil {
				return nil, err
			}
			c[i] = nv
		case f.Op == FixRemove:
			return slices.Delete(c, i, i+1), nil
		default:
			return nil, fmt.Errorf("%s: cannot %s a list item", path, f.Op)
		}
		return c, nil
	}
	return nil, fmt.Errorf("%s: %q is not in an object or a list", path, t.key)
}

func (f Fix) value() (any, error) {
	var v any
	if err := json.Unmarshal(f.Value, &v); err != nil {
		return nil, fmt.Errorf("the fix's value is not JSON: %v", err)
	}
	return v, nil
}

// pathToken is one step of a JSON path: a key, or an index.
type pathToken struct {
	key   string
	index bool
}

// splitPath reads a JSON path written as Path and Index write them: plain
// keys after dots (the first dot may be left out), ["quoted keys"] and
// [indexes].
func splitPath(path string) ([]pathToken, error) {
	var toks []pathToken
	for i := 0; i < len(path); {
		switch c := path[i]; {
		case c == '[' && i+1 < len(path) && path[i+1] == '"':
			q, err := strconv.QuotedPrefix(path[i+1:])
			if err != nil || !strings.HasPrefix(path[i+1+len(q):], "]") {
				return nil, fmt.Errorf("%q: a quoted key is not closed at %d", path, i)
			}
			key, _ := strconv.Unquote(q)
			toks = append(toks, pathToken{key: key})
			i += 1 + len(q) + 1
		case c == '[':
			end := strings.IndexByte(path[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("%q: an index is not closed at %d", path, i)
			}
			toks = append(toks, pathToken{key: path[i+1 : i+end], index: true})
			i += end + 1
		default:
			if c == '.' {
				i++
			}
			end := i
			for end < len(path) && path[end] != '.' && path[end] != '[' {
				end++
			}
			if end == i {
				return nil, fmt.Errorf("%q: an empty key at %d", path, i)
			}
			toks = append(toks, pathToken{key: path[i:end]})
			i = end
		}
	}
	return toks, nil
}

// ParentPath returns the path of the object or list that holds the value
// at path ("" for a value at the top): ParentPath(`a.b["c/d"]`) is a.b.
func ParentPath(path string) string {
	toks, err := splitPath(path)
	if err != nil || len(toks) == 0 {
		return ""
	}
	out := ""
	for _, t := range toks[:len(toks)-1] {
		out = appendPath(out, t.key, t.index)
	}
	return out
}
