package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/corsgate/corsgate/schema"
)

// Layer is the run-time layer: what operators changed while the gateway
// runs, merged over the configuration file's document key by key. The file
// stays the base, so a file change to a key nobody changed at run time
// still takes effect.
//
// A key with a JSON null value removes the file's key from the scope's
// block (the block then inherits it, or takes its default). A scope the
// file has no block for gets one made of the layer's keys.
type Layer struct {
	// Off turns CORS off for the whole gateway, whatever the file says
	// (Cloudant's enable_cors: false).
	Off bool `json:"cors_off,omitempty"`
	// Service holds the service-level keys changed at run time.
	Service map[string]json.RawMessage `json:"service,omitempty"`
	// Endpoints holds the keys changed at run time per endpoint key, such
	// as "GET /users/{id}".
	Endpoints map[string]map[string]json.RawMessage `json:"endpoints,omitempty"`
}

// Empty reports whether the layer changes nothing.
func (l *Layer) Empty() bool {
	return l == nil || (!l.Off && len(l.Service) == 0 && len(l.Endpoints) == 0)
}

// Clone returns a copy of l that shares nothing with it.
func (l *Layer) Clone() *Layer {
	if l == nil {
		return &Layer{}
	}
	c := &Layer{Off: l.Off, Service: cloneKeys(l.Service)}
	if l.Endpoints != nil {
		c.Endpoints = make(map[string]map[string]json.RawMessage, len(l.Endpoints))
		for k, v := range l.Endpoints {
			c.Endpoints[k] = cloneKeys(v)
		}
	}
	return c
}

func cloneKeys(m map[string]json.RawMessage) map[string]json.RawMessage {
	if m == nil {
		return nil
	}
	c := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		c[k] = slices.Clone(v)
	}
	return c
}

// ParseLayer reads a layer from JSON, refusing unknown top-level keys.
// The keys of each scope are checked when the layer is applied (Over),
// with the same rules as the file.
func ParseLayer(data []byte) (*Layer, error) {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return &Layer{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	l := &Layer{}
	if err := dec.Decode(l); err != nil {
		return nil, fmt.Errorf("the layer is not a JSON object with the keys cors_off, service and endpoints: %v", err)
	}
	return l, nil
}

// Over merges the layer over base, the file's document, and returns the
// effective document, whose blocks are read with ParseBlock: a layer key
// that is unknown or of the wrong type is an Error with its path in the
// API's terms (service.allow_origins, endpoints["GET /users/{id}"].max_age).
// What the values mean is judged when the document is compiled.
func (l *Layer) Over(base *Document) (*Document, Errors) {
	if l.Empty() {
		eff := base.Clone()
		eff.Paths = nil
		return eff, nil
	}
	eff := &Document{}
	if l.Off {
		return eff, nil
	}
	var errs Errors
	svc, serrs := mergeBlock(base.Service, l.Service, ServiceLevel, "service")
	errs = append(errs, serrs...)
	eff.Service = svc
	keys := slices.Sorted(maps.Keys(base.Endpoints))
	for k := range l.Endpoints {
		if _, inBase := base.Endpoints[k]; !inBase {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		b, berrs := mergeBlock(base.Endpoints[k], l.Endpoints[k], EndpointLevel, schema.Path("endpoints", k))
		for _, e := range berrs {
			e.Endpoint = k
			errs = append(errs, e)
		}
		if b != nil {
			if eff.Endpoints == nil {
				eff.Endpoints = map[string]*Block{}
			}
			eff.Endpoints[k] = b
		}
	}
	return eff, errs
}

// mergeBlock merges the layer's keys over a file block. It returns nil
// when neither has the scope.
func mergeBlock(file *Block, keys map[string]json.RawMessage, level Level, path string) (*Block, Errors) {
	if keys == nil {
		return file.Clone(), nil
	}
	m := map[string]any{}
	if file != nil {
		data, err := json.Marshal(file)
		if err != nil {
			return nil, Errors{{Path: path, Message: "internal error: " + err.Error()}}
		}
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, Errors{{Path: path, Message: "internal error: " + err.Error()}}
		}
	}
	for k, raw := range keys {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, Errors{{Path: schema.Path(path, k), Message: "not JSON: " + err.Error()}}
		}
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	return ParseBlock(m, level, path)
}

// Source says, for every scope of the effective document, where each key
// comes from: "file" or "runtime".
func (l *Layer) Source(base *Document) map[string]map[string]string {
	out := map[string]map[string]string{}
	mark := func(scope string, file *Block, keys map[string]json.RawMessage) {
		src := map[string]string{}
		for _, k := range file.Keys() {
			src[k] = "file"
		}
		for k, raw := range keys {
			if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
				delete(src, k)
				continue
			}
			src[k] = "runtime"
		}
		if len(src) > 0 || file != nil || keys != nil {
			out[scope] = src
		}
	}
	if l == nil {
		l = &Layer{}
	}
	if l.Off {
		return out
	}
	mark("service", base.Service, l.Service)
	for k, b := range base.Endpoints {
		mark(k, b, l.Endpoints[k])
	}
	for k, keys := range l.Endpoints {
		if _, ok := base.Endpoints[k]; !ok {
			mark(k, nil, keys)
		}
	}
	return out
}
