package state

import (
	"encoding/json"
	"reflect"
	"slices"

	"github.com/corsgate/corsgate/engine/policy"
)

// KeyChange is one entry of a revision's diff: a key whose value differs.
type KeyChange struct {
	// Scope is "gateway" (cors_off), "service", or an endpoint key.
	Scope string          `json:"scope"`
	Key   string          `json:"key"`
	Old   json.RawMessage `json:"old,omitempty"`
	New   json.RawMessage `json:"new,omitempty"`
}

// diffLayers lists the keys whose run-time value differs.
func diffLayers(a, b *policy.Layer) []KeyChange {
	var out []KeyChange
	if a.Off != b.Off {
		out = append(out, KeyChange{Scope: "gateway", Key: "cors_off", Old: mustJSON(a.Off), New: mustJSON(b.Off)})
	}
	scope := func(name string, x, y map[string]json.RawMessage) {
		for _, k := range sortedKeys(x, y) {
			if !sameJSON(x[k], y[k]) {
				out = append(out, KeyChange{Scope: name, Key: k, Old: x[k], New: y[k]})
			}
		}
	}
	scope("service", a.Service, b.Service)
	for _, n := range sortedKeys(a.Endpoints, b.Endpoints) {
		scope(n, a.Endpoints[n], b.Endpoints[n])
	}
	return out
}

// sortedKeys lists the keys of x and y, sorted, each once.
func sortedKeys[V any](x, y map[string]V) []string {
	keys := make([]string, 0, len(x)+len(y))
	for k := range x {
		keys = append(keys, k)
	}
	for k := range y {
		if _, ok := x[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// diffDocuments lists the keys whose value differs between two versions
// of the file's document.
func diffDocuments(a, b *policy.Document) []KeyChange {
	return diffLayers(asLayer(a), asLayer(b))
}

// asLayer writes a document's blocks as a layer's key maps, to compare
// them key by key.
func asLayer(d *policy.Document) *policy.Layer {
	keys := func(bl *policy.Block) map[string]json.RawMessage {
		if bl == nil {
			return nil
		}
		data, _ := json.Marshal(bl)
		var m map[string]json.RawMessage
		json.Unmarshal(data, &m)
		return m
	}
	l := &policy.Layer{Service: keys(d.Service), Endpoints: map[string]map[string]json.RawMessage{}}
	for k, bl := range d.Endpoints {
		l.Endpoints[k] = keys(bl)
	}
	return l
}

// sameLayers reports whether two layers change the same keys to the same
// values.
func sameLayers(a, b *policy.Layer) bool {
	return reflect.DeepEqual(normalize(a), normalize(b))
}

// normalize makes two layers that change the same comparable.
func normalize(l *policy.Layer) *policy.Layer {
	c := l.Clone()
	if len(c.Service) == 0 {
		c.Service = nil
	}
	for k, v := range c.Endpoints {
		if len(v) == 0 {
			delete(c.Endpoints, k)
		}
	}
	if len(c.Endpoints) == 0 {
		c.Endpoints = nil
	}
	return c
}

// sameStored reports whether a stored layer is l.
func sameStored(stored []byte, l *policy.Layer) bool {
	got := &policy.Layer{}
	if len(stored) > 0 {
		var err error
		if got, err = policy.ParseLayer(stored); err != nil {
			return false
		}
	}
	return sameLayers(got, l)
}
