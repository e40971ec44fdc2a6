package policy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Source says where the value of a key comes from: the configuration file,
// or the run-time layer, with the revision that set it. Documents carry it
// (Document.Sources), policies keep it for the keys their refusals name,
// and every refusal says it, so that "add it there" points where a change
// takes effect.
type Source struct {
	// Runtime reports the run-time layer; otherwise the configuration
	// file.
	Runtime bool `json:"runtime,omitempty"`
	// Revision, User and Time are the revision of the layer that set the
	// key, who made it and when; zero when not known.
	Revision uint64    `json:"revision,omitempty"`
	User     string    `json:"user,omitempty"`
	Time     time.Time `json:"time,omitzero"`
	// Candidate reports a key of a report-only candidate, evaluated and
	// not in force.
	Candidate bool `json:"candidate,omitempty"`
}

// String names the source for a person: "the configuration file", or
// "the run-time layer (revision 4, by admin, at 2026-12-07T17:00:00Z)".
func (s Source) String() string {
	if s.Candidate {
		return "the report-only candidate"
	}
	if !s.Runtime {
		return "the configuration file"
	}
	what := "the run-time layer"
	var parts []string
	if s.Revision != 0 {
		parts = append(parts, "revision "+strconv.FormatUint(s.Revision, 10))
	}
	if s.User != "" {
		parts = append(parts, "by "+s.User)
	}
	if !s.Time.IsZero() {
		parts = append(parts, "at "+s.Time.UTC().Format(time.RFC3339))
	}
	for i, p := range parts {
		if i == 0 {
			what += " ("
		} else {
			what += ", "
		}
		what += p
	}
	if len(parts) > 0 {
		what += ")"
	}
	return what
}

// Source returns where the value of key in the block of scope ("" for the
// service block, an endpoint key otherwise) comes from: its entry in
// Sources, or the configuration file.
func (d *Document) Source(scope, key string) Source {
	if d == nil {
		return Source{}
	}
	return d.Sources[scope][key]
}

// KeyOrigin says where a key of a policy is set: in which block, whether
// the policy inherits it from the service block, and from which source.
type KeyOrigin struct {
	// Scope is the block that sets the key: "" for the service block, an
	// endpoint key otherwise.
	Scope string `json:"scope"`
	// Set is false when no block sets the key: its default applies.
	Set bool `json:"set"`
	// Inherited reports an endpoint's policy that takes the key from the
	// service block.
	Inherited bool `json:"inherited,omitempty"`
	// Source is the file or the run-time layer (when Set).
	Source Source `json:"source"`
}

// keyOrigin says where key is set for a policy of scope (the policy of
// an endpoint: its key; "" for the service), given the endpoint's own keys.
func keyOrigin(doc *Document, scope, key string, own []string, serviceKeys []string) KeyOrigin {
	if scope != "" && slices.Contains(own, key) {
		return KeyOrigin{Scope: scope, Set: true, Source: doc.Source(scope, key)}
	}
	if slices.Contains(serviceKeys, key) {
		return KeyOrigin{Set: true, Inherited: scope != "", Source: doc.Source("", key)}
	}
	return KeyOrigin{Scope: scope}
}

// The keys whose refusals name where they are set.
var placedKeys = []string{"allow_origins", "allow_methods", "allow_headers", "websocket_origins"}

// place says where a key of a policy is set, for its refusals: where
// ("<block> (set in the configuration file)") and what to change there
// ("add it there"). A refusal joins them with "; ".
type place struct {
	where, fix string
}

// placeOf describes, for the refusals of a policy named name ("the
// service-level policy" or an endpoint key), where key is set and where a
// change would take effect, as in `allow_origins of <where>; <fix>`.
func placeOf(name, key string, o KeyOrigin) place {
	block := name
	if o.Inherited {
		block = ServiceScope + ", which " + name + " inherits"
	}
	switch {
	case !o.Set:
		return place{block + " (not set: the default applies)", "set " + key + " there"}
	case o.Source.Candidate:
		return place{block + " (set by the report-only candidate, which is evaluated, not in force)", "change it in the candidate (PUT /v1/cors/candidate, or the dashboard's Report-only tab)"}
	case !o.Source.Runtime:
		fix := "add it there"
		if o.Inherited {
			fix += fmt.Sprintf(", or set %s in the block of %s", key, name)
		}
		return place{block + " (set in the configuration file)", fix}
	}
	scope := "service"
	if o.Scope != "" {
		scope = strconv.Quote(o.Scope)
	}
	return place{fmt.Sprintf("%s (set by %s)", block, o.Source.phrase()),
		fmt.Sprintf("change it in the run-time layer (corsgate config put --scope %s, or the dashboard's Policies tab), or drop it from the layer (corsgate config drop %s --scope %s) so that the configuration file applies", scope, key, scope)}
}

// String is the place as a refusal says it: where; fix.
func (p place) String() string { return p.where + "; " + p.fix }

// phrase names the source in a parenthesis: "the run-time layer,
// revision 4, by admin, at 2026-12-07T17:00:00Z".
func (s Source) phrase() string {
	text := s.String()
	if i := strings.Index(text, " ("); i >= 0 && strings.HasSuffix(text, ")") {
		text = text[:i] + ", " + text[i+2:len(text)-1]
	}
	return text
}

// keyOrigins is where each placed key of a policy is set.
func keyOrigins(doc *Document, scope string, own, serviceKeys []string) map[string]KeyOrigin {
	out := make(map[string]KeyOrigin, len(placedKeys))
	for _, k := range placedKeys {
		out[k] = keyOrigin(doc, scope, k, own, serviceKeys)
	}
	return out
}
