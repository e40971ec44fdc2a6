package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/plugin"
)

// jsonObject is a JSON object that keeps the order of its keys, so that
// an exported configuration file reads like the one it came from.
type jsonObject struct {
	keys []string
	vals map[string]any // values: jsonObject, []any, json.Number, string, bool, nil
}

func (o *jsonObject) get(k string) (any, bool) {
	v, ok := o.vals[k]
	return v, ok
}

// set replaces k's value, or adds k at the end.
func (o *jsonObject) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *jsonObject) del(k string) {
	if _, ok := o.vals[k]; !ok {
		return
	}
	delete(o.vals, k)
	for i, x := range o.keys {
		if x == k {
			o.keys = append(o.keys[:i], o.keys[i+1:]...)
			break
		}
	}
}

// MarshalJSON writes the keys in their order.
func (o *jsonObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kj, _ := json.Marshal(k)
		b.Write(kj)
		b.WriteByte(':')
		vj, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vj)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// decodeOrdered reads one JSON value, objects as *jsonObject.
func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &jsonObject{vals: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				o.set(kt.(string), v)
			}
			_, err := dec.Token() // }
			return o, err
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := dec.Token() // ]
			return arr, err
		}
	}
	return tok, nil
}

// patchOp is one operation of a JSON Patch (RFC 6902).
type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// pointer builds a JSON Pointer (RFC 6901) from its tokens.
func pointer(tokens ...string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(t))
	}
	return b.String()
}

// exportConfig rewrites the configuration file data with the CORS blocks
// of eff, the effective document of a running gateway: the service block
// under extra_config, and each endpoint's block in its extra_config (a
// block the effective document lacks is removed). Everything else stays
// as it is, in its order. It returns the new file and the JSON Patch that
// turns the old one into it.
func exportConfig(data []byte, eff *policy.Document) ([]byte, []patchOp, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	root, err := decodeOrdered(dec)
	if err != nil {
		return nil, nil, fmt.Errorf("is not JSON (%v); run corsgate check on it", err)
	}
	top, ok := root.(*jsonObject)
	if !ok {
		return nil, nil, errors.New("is not a JSON object; run corsgate check on it")
	}
	var ops []patchOp
	// setBlock puts block (nil: none) in the extra_config object at
	// extraPath of parent, under the CORS key the file uses.
	setBlock := func(parent *jsonObject, base []string, block *policy.Block) {
		extraV, hasExtra := parent.get("extra_config")
		extra, _ := extraV.(*jsonObject)
		ns := plugin.Namespace
		if extra != nil {
			if _, legacy := extra.get(plugin.LegacyNamespace); legacy {
				ns = plugin.LegacyNamespace
			}
		}
		if block == nil {
			if extra != nil {
				if _, ok := extra.get(ns); ok {
					extra.del(ns)
					ops = append(ops, patchOp{Op: "remove", Path: pointer(append(base, "extra_config", ns)...)})
				}
			}
			return
		}
		if !hasExtra || extra == nil {
			extra = &jsonObject{vals: map[string]any{}}
			extra.set(ns, block)
			parent.set("extra_config", extra)
			ops = append(ops, patchOp{Op: "add", Path: pointer(append(base, "extra_config")...), Value: extra})
			return
		}
		op := "add"
		if _, ok := extra.get(ns); ok {
			op = "replace"
		}
		extra.set(ns, block)
		ops = append(ops, patchOp{Op: op, Path: pointer(append(base, "extra_config", ns)...), Value: block})
	}
	setBlock(top, nil, eff.Service)
	seen := map[string]bool{}
	if eps, ok := top.vals["endpoints"].([]any); ok {
		for i, e := range eps {
			ep, ok := e.(*jsonObject)
			if !ok {
				continue
			}
			method := "GET"
			if m, ok := ep.vals["method"].(string); ok && m != "" {
				method = strings.ToUpper(m)
			}
			path, _ := ep.vals["endpoint"].(string)
			key := method + " " + path
			seen[key] = true
			setBlock(ep, []string{"endpoints", strconv.Itoa(i)}, eff.Endpoints[key])
		}
	}
	for key := range eff.Endpoints {
		if !seen[key] {
			return nil, nil, fmt.Errorf("has no endpoint %q, for which the running gateway has a CORS block; export with the file the gateway runs", key)
		}
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(top); err != nil {
		return nil, nil, err
	}
	return out.Bytes(), ops, nil
}

// writeJSONTo writes v as indented JSON.
func writeJSONTo(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
