package state

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/corsgate/corsgate/engine/policy"
)

// KeyDiff compares one key of one scope between the configuration file
// and the run-time layer.
type KeyDiff struct {
	// Scope is "gateway" (cors_off), "service", or an endpoint key.
	Scope string `json:"scope"`
	Key   string `json:"key"`
	// File is the file's value; absent when the file does not set it.
	File json.RawMessage `json:"file,omitempty"`
	// Layer is the layer's value (null: the layer removes the file's
	// key); absent when the layer does not set it.
	Layer json.RawMessage `json:"layer,omitempty"`
	// Wins is "layer" or "file": the layer wins every key it sets.
	Wins string `json:"wins"`
	// Masked reports a key that both set, to different values: the
	// file's value does not apply, and an edit of it in the file changes
	// nothing until the layer drops the key.
	Masked bool `json:"masked"`
	// SetBy is, for a key of the layer, the revision that set it.
	SetBy *policy.Source `json:"set_by,omitempty"`
}

// Drift compares the file and the layer in force key by key: every key
// that either sets, by scope and key, sorted.
func (m *Manager) Drift() []KeyDiff {
	return drift(m.cur.Load())
}

// Masked lists the keys whose file value the layer masks.
func (m *Manager) Masked() []KeyDiff {
	return slices.DeleteFunc(m.Drift(), func(d KeyDiff) bool { return !d.Masked })
}

func drift(v *View) []KeyDiff {
	out := []KeyDiff{}
	if v.Layer.Off {
		src := v.Provenance.Source("gateway", "cors_off")
		out = append(out, KeyDiff{Scope: "gateway", Key: "cors_off", Layer: json.RawMessage("true"), Wins: "layer", SetBy: &src})
	}
	file := asLayer(v.File)
	scope := func(name string, fileKeys, layerKeys map[string]json.RawMessage) {
		for _, k := range sortedKeys(fileKeys, layerKeys) {
			d := KeyDiff{Scope: name, Key: k, File: fileKeys[k], Wins: "file"}
			if lv, ok := layerKeys[k]; ok {
				src := v.Provenance.Source(name, k)
				d.Layer, d.Wins, d.SetBy = lv, "layer", &src
				d.Masked = d.File != nil && !sameJSON(d.File, lv)
			}
			out = append(out, d)
		}
	}
	scope("service", file.Service, v.Layer.Service)
	for _, name := range sortedKeys(file.Endpoints, v.Layer.Endpoints) {
		scope(name, file.Endpoints[name], v.Layer.Endpoints[name])
	}
	return out
}

// sameJSON reports whether two JSON values are the same value.
func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}

// maskedEdits lists the keys that an edit of the file, from old to cur,
// changed and that the layer masks: the edit does not apply to them.
func maskedEdits(old, cur *policy.Document, v *View) []KeyDiff {
	changed := map[[2]string]bool{}
	for _, c := range diffDocuments(old, cur) {
		changed[[2]string{c.Scope, c.Key}] = true
	}
	var out []KeyDiff
	for _, d := range drift(v) {
		if d.Layer != nil && changed[[2]string{d.Scope, d.Key}] {
			out = append(out, d)
		}
	}
	return out
}

// ScopeFlag is how the corsgate config commands name a scope.
func ScopeFlag(scope string) string {
	if scope == "service" {
		return "service"
	}
	return strconv.Quote(scope)
}

// maskedMessage says that a file edit of d's key does not apply, and how
// to make it apply.
func maskedMessage(d KeyDiff) string {
	return fmt.Sprintf("the file's change of %s (scope %s) does not apply: the run-time layer sets it (%s), and the layer wins key by key; to let the file's value apply, drop it from the layer with: corsgate config drop %s --scope %s (corsgate config diff lists every key the layer overrides)",
		d.Key, d.Scope, revisionPhrase(d.SetBy), d.Key, ScopeFlag(d.Scope))
}

// revisionPhrase names the revision of a layer key: "revision 4, by
// admin, at 2026-12-07T17:00:00Z".
func revisionPhrase(s *policy.Source) string {
	if s == nil || s.Revision == 0 {
		return "in a revision older than the history kept"
	}
	out := "revision " + strconv.FormatUint(s.Revision, 10)
	if s.User != "" {
		out += ", by " + s.User
	}
	if !s.Time.IsZero() {
		out += ", at " + s.Time.UTC().Format(time.RFC3339)
	}
	return out
}

// DropKey removes key from the run-time layer, in the layer's scope
// ("service" or an endpoint key), or in every scope when scope is "", as a
// new revision: the file's value, or the default, applies again. The
// key cors_off turns CORS back on. A key the layer does not set is
// NotFound, and nothing changes.
func (m *Manager) DropKey(ctx context.Context, key, scope, user string, ifRevision *uint64) (Result, error) {
	return m.Write(ctx, Change{User: user, Source: SourceAPI, IfRevision: ifRevision, RequireIfRevision: true, Mutate: func(_ *policy.Document, l *policy.Layer) error {
		dropped := 0
		if key == "cors_off" && (scope == "" || scope == "gateway") {
			if l.Off {
				l.Off, dropped = false, 1
			}
		}
		drop := func(keys map[string]json.RawMessage) {
			if _, ok := keys[key]; ok {
				delete(keys, key)
				dropped++
			}
		}
		switch scope {
		case "":
			drop(l.Service)
			for _, keys := range l.Endpoints {
				drop(keys)
			}
		case "service":
			drop(l.Service)
		case "gateway":
		default:
			drop(l.Endpoints[scope])
		}
		if dropped == 0 {
			where := "in any scope"
			if scope != "" {
				where = "in scope " + scope
			}
			return fail(NotFound, "the run-time layer does not set %s %s, so there is nothing to drop; corsgate config diff lists the keys it sets", key, where)
		}
		return nil
	}})
}
