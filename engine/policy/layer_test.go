package policy

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func rawKeys(t *testing.T, js string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// The layer is merged over the file key by key; null removes a file key;
// a scope the file lacks is made of the layer's keys; a file change to a
// key the layer does not set still takes effect.
func TestLayerOver(t *testing.T) {
	file := &Document{
		Service: &Block{AllowOrigins: []string{"https://file.example"}, AllowMethods: []string{"GET", "PUT"}, MaxAge: ptr("1h")},
		Endpoints: map[string]*Block{
			"GET /a": {AllowHeaders: []string{"X-A"}},
		},
	}
	l := &Layer{
		Service: rawKeys(t, `{"allow_origins": ["https://runtime.example"], "max_age": null}`),
		Endpoints: map[string]map[string]json.RawMessage{
			"PUT /b": rawKeys(t, `{"allow_methods": ["PUT"]}`),
		},
	}
	eff, errs := l.Over(file)
	if errs != nil {
		t.Fatal(errs)
	}
	if !slices.Equal(eff.Service.AllowOrigins, []string{"https://runtime.example"}) || !slices.Equal(eff.Service.AllowMethods, []string{"GET", "PUT"}) || eff.Service.MaxAge != nil {
		t.Errorf("service = %+v", eff.Service)
	}
	if !slices.Equal(eff.Endpoints["GET /a"].AllowHeaders, []string{"X-A"}) || !slices.Equal(eff.Endpoints["PUT /b"].AllowMethods, []string{"PUT"}) {
		t.Errorf("endpoints = %+v", eff.Endpoints)
	}
	if file.Service.MaxAge == nil || *file.Service.MaxAge != "1h" {
		t.Error("Over changed the file's document")
	}

	// The file changes a key the layer does not set: it takes effect.
	file.Service.AllowMethods = []string{"GET", "POST"}
	eff, _ = l.Over(file)
	if !slices.Equal(eff.Service.AllowMethods, []string{"GET", "POST"}) || !slices.Equal(eff.Service.AllowOrigins, []string{"https://runtime.example"}) {
		t.Errorf("after a file change: %+v", eff.Service)
	}

	src := l.Source(file)
	if src["service"]["allow_origins"] != "runtime" || src["service"]["allow_methods"] != "file" || src["service"]["max_age"] != "" || src["PUT /b"]["allow_methods"] != "runtime" || src["GET /a"]["allow_headers"] != "file" {
		t.Errorf("sources = %v", src)
	}

	if eff, errs := (&Layer{Off: true}).Over(file); errs != nil || eff.Service != nil || len(eff.Endpoints) != 0 {
		t.Errorf("Off: %+v %v", eff, errs)
	}
}

// Layer keys are read with the file's rules, and errors name their path
// in the API's terms.
func TestLayerOverRefusesBadKeys(t *testing.T) {
	file := &Document{Service: &Block{}}
	l := &Layer{
		Service:   rawKeys(t, `{"allow_origin": ["https://a.example"], "max_age": 12}`),
		Endpoints: map[string]map[string]json.RawMessage{"GET /a": rawKeys(t, `{"debug": "yes"}`)},
	}
	_, errs := l.Over(file)
	text := errs.Error()
	for _, want := range []string{
		`service.allow_origin: unknown key "allow_origin"; did you mean "allow_origins"?`,
		`service.max_age: 12 is a number, not a string`,
		`endpoints["GET /a"].debug (endpoint "GET /a"): "yes" is a string, not a boolean`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("errors lack %q:\n%s", want, text)
		}
	}
	if _, err := ParseLayer([]byte(`{"service": {}, "extra": 1}`)); err == nil {
		t.Error("ParseLayer accepted an unknown top-level key")
	}
	if l, err := ParseLayer([]byte(`null`)); err != nil || !l.Empty() {
		t.Errorf("ParseLayer(null) = %+v, %v", l, err)
	}
}
