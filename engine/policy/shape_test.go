package policy

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/corsgate/corsgate/schema"
)

// shapeAgreement returns a failure message when wellShaped passes raw at
// level while the schema finds a shape problem in it, or when ParseBlock's
// answer through wellShaped differs from the schema's path.
func shapeAgreement(t testing.TB, raw any, level Level) string {
	t.Helper()
	m, ok := raw.(map[string]any)
	if !ok {
		return ""
	}
	b, ok := wellShaped(m, level)
	if !ok {
		return ""
	}
	for _, v := range schemaVerdict(t, raw, level, "x") {
		if v.Shape {
			return "wellShaped passes it, but the schema finds a shape problem: " + v.Error()
		}
	}
	want, err := decodeBlock(m)
	if err != nil {
		return "wellShaped passes it, but decodeBlock refuses it: " + err.Error()
	}
	got, _ := json.Marshal(b)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) {
		return "wellShaped's block " + string(got) + " differs from decodeBlock's " + string(exp)
	}
	return ""
}

// TestWellShapedAgreesWithSchema holds the shape check without the schema
// to the schema: on every corpus block and on the cases at the edge of
// each rule, it never passes what the schema refuses on shape, and it
// passes the ordinary blocks (or it would save nothing).
func TestWellShapedAgreesWithSchema(t *testing.T) {
	edges := []struct {
		json  string
		level Level
		pass  bool // wellShaped must pass it
	}{
		{`{"allow_origins": ["https://a.example.com"], "allow_credentials": true, "max_age": "12h"}`, ServiceLevel, true},
		{`{"allow_methods": ["GET"], "options_success_status": 204, "unmatched_status": 403}`, ServiceLevel, true},
		{`{"disable": true}`, EndpointLevel, true},
		{`{"disable": true}`, ServiceLevel, false},
		{`{"strip_cors_request_headers": true}`, ServiceLevel, false},
		{`{"allow_origins": ["https://a.example.com", null]}`, ServiceLevel, false},
		{`{"allow_origins": null}`, ServiceLevel, false},
		{`{"max_age": null}`, ServiceLevel, false},
		{`{"max_age": 12}`, ServiceLevel, false},
		{`{"options_success_status": 204.5}`, ServiceLevel, false},
		{`{"options_success_status": 1e30}`, ServiceLevel, false},
		{`{"options_success_status": 2.04e2}`, ServiceLevel, true},
		{`{"debug": "true"}`, ServiceLevel, false},
		{`{"allow_origins": "https://a.example.com"}`, ServiceLevel, false},
		{`{"allow_origins": [1]}`, ServiceLevel, false},
		{`{"@comment": 1}`, ServiceLevel, false},
		{`{"@comment": true}`, ServiceLevel, false},
		{`{"@comment": ["a", {"b": 1}]}`, ServiceLevel, true},
		{`{"@comment": ["a", null]}`, ServiceLevel, false},
		{`{"Allow_Origins": ["https://a.example.com"]}`, ServiceLevel, false},
		{`{"unknown": 1}`, EndpointLevel, false},
	}
	for _, e := range edges {
		var raw any
		if err := json.Unmarshal([]byte(e.json), &raw); err != nil {
			t.Fatal(err)
		}
		if msg := shapeAgreement(t, raw, e.level); msg != "" {
			t.Errorf("%s at the %s level: %s", e.json, verdictLevel(e.level), msg)
		}
		if _, ok := wellShaped(raw.(map[string]any), e.level); ok != e.pass {
			t.Errorf("%s at the %s level: wellShaped says %v, want %v", e.json, verdictLevel(e.level), ok, e.pass)
		}
	}
	passed := 0
	for _, e := range corpus {
		raw := decodeEntry(t, e)
		if msg := shapeAgreement(t, raw, e.level); msg != "" {
			t.Errorf("corpus %s: %s", e, msg)
		}
		if m, ok := raw.(map[string]any); ok {
			if _, ok := wellShaped(m, e.level); ok {
				passed++
			}
		}
	}
	if passed*2 < len(corpus) {
		t.Errorf("wellShaped passes %d of the %d corpus blocks: the schema runs for most of them", passed, len(corpus))
	}
}

// TestLevelKeysAreTheSchemas holds the keys wellShaped knows at each level
// to the properties of the schema's servicePolicy and endpointPolicy.
func TestLevelKeysAreTheSchemas(t *testing.T) {
	var doc struct {
		Defs map[string]struct {
			Properties map[string]any `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(schema.CORSSchema, &doc); err != nil {
		t.Fatal(err)
	}
	for def, level := range map[string]Level{"servicePolicy": ServiceLevel, "endpointPolicy": EndpointLevel} {
		want := slices.Sorted(maps.Keys(doc.Defs[def].Properties))
		var got []string
		for k := range exactBlockKeys {
			if level == EndpointLevel || !endpointOnlyKeys[k] {
				got = append(got, k)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: wellShaped knows %v, the schema %v", def, got, want)
		}
	}
}
