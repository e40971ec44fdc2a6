package state

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"time"

	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/store"
)

// Provenance says, for each key the run-time layer sets, which revision
// set it, by whom and when: by layer scope ("service", or an endpoint key
// such as "GET /users/{id}"), then by key. It is stored with each record,
// so that every replica, and a restart, tells the same.
type Provenance map[string]map[string]policy.Source

// next is the provenance of cand, the layer after a change of old made as
// the revision src: the keys whose value the change sets anew take src,
// the others keep theirs, and the keys it drops drop theirs.
func (p Provenance) next(old, cand *policy.Layer, src policy.Source) Provenance {
	out := Provenance{}
	scope := func(name string, before, after map[string]json.RawMessage) {
		for k, v := range after {
			s := src
			if prev, kept := before[k]; kept && bytes.Equal(prev, v) {
				s = p.Source(name, k) // unchanged: it keeps where it came from
			}
			if out[name] == nil {
				out[name] = map[string]policy.Source{}
			}
			out[name][k] = s
		}
	}
	scope("service", old.Service, cand.Service)
	for name, keys := range cand.Endpoints {
		scope(name, old.Endpoints[name], keys)
	}
	return out
}

// sources are the provenance as a document's Sources: "" for the service
// block, the endpoint key for the others.
func (p Provenance) sources() map[string]map[string]policy.Source {
	if len(p) == 0 {
		return nil
	}
	out := make(map[string]map[string]policy.Source, len(p))
	for scope, keys := range p {
		if scope == "service" {
			scope = ""
		}
		out[scope] = keys
	}
	return out
}

// Source returns where key of the layer's scope ("service" or an endpoint
// key) comes from: the run-time layer, with its revision when known.
func (p Provenance) Source(scope, key string) policy.Source {
	if s, ok := p[scope][key]; ok {
		return s
	}
	return policy.Source{Runtime: true}
}

func (p Provenance) clone() Provenance {
	if p == nil {
		return nil
	}
	out := make(Provenance, len(p))
	for k, v := range p {
		out[k] = maps.Clone(v)
	}
	return out
}

// revisionSource is the source of the keys a revision sets.
func revisionSource(rev uint64, user string, at time.Time) policy.Source {
	return policy.Source{Runtime: true, Revision: rev, User: user, Time: at.UTC().Truncate(time.Second)}
}

// provenanceOf is the provenance of rec, whose layer is layer: the one
// stored with it, or, for a record written before provenance was kept,
// the one its history tells (each key's newest change in the kept
// history; a key changed before the oldest kept record has no revision).
// m.mu is held.
func (m *Manager) provenanceOf(rec store.Record, layer *policy.Layer) Provenance {
	var p Provenance
	if len(rec.Provenance) > 0 && json.Unmarshal(rec.Provenance, &p) == nil {
		return p
	}
	p = Provenance{}
	wanted := 0
	mark := func(scope string, keys map[string]json.RawMessage) {
		for k := range keys {
			if p[scope] == nil {
				p[scope] = map[string]policy.Source{}
			}
			p[scope][k] = policy.Source{Runtime: true}
			wanted++
		}
	}
	mark("service", layer.Service)
	for name, keys := range layer.Endpoints {
		mark(name, keys)
	}
	if wanted == 0 || m.store == nil {
		return p
	}
	ctx, cancel := context.WithTimeout(context.Background(), m.timeout)
	defer cancel()
	hist, err := m.store.History(ctx, 0)
	if err != nil {
		return p
	}
	found := map[[2]string]bool{}
	for _, r := range hist { // newest first
		if r.Revision > rec.Revision || r.Source == SourceFile {
			continue
		}
		var changes []KeyChange
		if json.Unmarshal(r.Diff, &changes) != nil {
			continue
		}
		for _, c := range changes {
			id := [2]string{c.Scope, c.Key}
			if _, inLayer := p[c.Scope][c.Key]; !inLayer || found[id] {
				continue
			}
			found[id] = true
			p[c.Scope][c.Key] = revisionSource(r.Revision, r.User, r.Time)
		}
	}
	return p
}

// Effective merges layer over file as the gateway does, with the
// provenance of the layer's keys, so that refusals name their source: the
// document that core.Compile takes.
func Effective(file *policy.Document, layer *policy.Layer, prov Provenance) (*policy.Document, error) {
	eff, errs := layer.Over(file)
	if errs != nil {
		return nil, errs
	}
	eff.Sources = prov.sources()
	return eff, nil
}
