package policy

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/corsgate/corsgate/schema"
)

// blockKeys are the JSON keys Block has a field for, exactly as spelled in
// its tags (@comment included).
func blockKeys() map[string]bool {
	keys := map[string]bool{}
	typ := reflect.TypeFor[Block]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		keys[name] = true
	}
	return keys
}

// TestSchemaDefaultsMatchRunTime proves that every default cors.schema.json
// states is the one the gateway applies (an editor shows these defaults),
// that a block spelling out every default is valid at both levels, and
// that the schema declares exactly the keys Block has.
func TestSchemaDefaultsMatchRunTime(t *testing.T) {
	var doc struct {
		Defs map[string]map[string]any `json:"$defs"`
	}
	if err := json.Unmarshal(schema.CORSSchema, &doc); err != nil {
		t.Fatalf("CORSSchema is not JSON: %v", err)
	}
	def := func(name string) any {
		t.Helper()
		d, ok := doc.Defs[name]
		if !ok {
			t.Fatalf("no $defs.%s", name)
		}
		v, ok := d["default"]
		if !ok {
			t.Fatalf("$defs.%s has no default", name)
		}
		return v
	}

	var methods []string
	raw, _ := def("allow_methods").([]any)
	for _, m := range raw {
		s, _ := m.(string)
		methods = append(methods, s)
	}
	if !slices.Equal(methods, DefaultMethods) {
		t.Errorf("$defs.allow_methods.default = %q, DefaultMethods = %q", methods, DefaultMethods)
	}

	if got := def("options_success_status"); got != float64(DefaultOptionsSuccessStatus) {
		t.Errorf("$defs.options_success_status.default = %v, DefaultOptionsSuccessStatus = %d", got, DefaultOptionsSuccessStatus)
	}
	p, err := Compile(Block{}, serviceBase, ServiceScope)
	if err != nil {
		t.Fatal(err)
	}
	if p.SuccessStatus() != DefaultOptionsSuccessStatus {
		t.Errorf("an empty block compiles to status %d, want %d", p.SuccessStatus(), DefaultOptionsSuccessStatus)
	}
	if !slices.Equal(p.Methods(), DefaultMethods) {
		t.Errorf("an empty block compiles to methods %q, want %q", p.Methods(), DefaultMethods)
	}

	maxAge, _ := def("max_age").(string)
	if maxAge != "0s" {
		t.Errorf(`$defs.max_age.default = %q, want "0s"`, maxAge)
	}
	if d, err := ParseMaxAge(maxAge); err != nil || d != 0 {
		t.Errorf("ParseMaxAge(%q) = %v, %v; want 0, nil", maxAge, d, err)
	}

	if got := def("unmatched_status"); got != float64(DefaultUnmatchedStatus) {
		t.Errorf("$defs.unmatched_status.default = %v, DefaultUnmatchedStatus = %d", got, DefaultUnmatchedStatus)
	}
	if p.UnmatchedStatus() != DefaultUnmatchedStatus || p.Terminate() || p.Credentials() || p.ReflectsAnyOriginWithCredentials() || p.StripRequestHeaders() || p.Debug() || p.Passthrough() {
		t.Errorf("an empty block compiles to unmatched status %d, terminate %v, credentials %v, unsafe %v, strip %v, debug %v, passthrough %v; want %d and all off",
			p.UnmatchedStatus(), p.Terminate(), p.Credentials(), p.ReflectsAnyOriginWithCredentials(), p.StripRequestHeaders(), p.Debug(), p.Passthrough(), DefaultUnmatchedStatus)
	}

	for _, name := range []string{"allow_credentials", "allow_any_origin_with_credentials_unsafe", "allow_origins_regex_unsafe", "allow_private_network",
		"options_passthrough", "terminate_unmatched_request", "debug", "disable", "strip_cors_request_headers"} {
		if got := def(name); got != false {
			t.Errorf("$defs.%s.default = %v, want false (a nil *bool is off)", name, got)
		}
	}
	for _, name := range []string{"allow_origins", "allow_origins_regex", "allow_headers", "expose_headers", "websocket_origins"} {
		if got, ok := def(name).([]any); !ok || len(got) != 0 {
			t.Errorf("$defs.%s.default = %v, want [] (the same as absent)", name, def(name))
		}
	}

	// A block that spells out every default is valid, at either level, for
	// the schema and for the validator, and compiles to the policy of the
	// empty block.
	s, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	for _, level := range []struct {
		def   string
		level Level
		keys  int
	}{{schema.ServicePolicy, ServiceLevel, 16}, {schema.EndpointPolicy, EndpointLevel, 18}} {
		all := map[string]any{}
		for key := range doc.Defs[level.def]["properties"].(map[string]any) {
			if strings.HasPrefix(key, "@") {
				continue
			}
			all[key] = def(key)
		}
		if len(all) != level.keys {
			t.Errorf("%s declares %d keys, want %d", level.def, len(all), level.keys)
		}
		if vs := s.Validate(level.def, all, serviceBase); vs != nil {
			t.Errorf("the schema refuses the %s block of all defaults:\n%v", level.def, vs)
		}
		b, _, errs := loadBlock(t, all, level.level, serviceBase)
		if len(errs) > 0 {
			t.Errorf("the validator refuses the %s block of all defaults:\n%v", level.def, errs)
			continue
		}
		if keys := b.Keys(); len(keys) != level.keys {
			t.Errorf("the %s block of all defaults sets %d keys, want %d: %q", level.def, len(keys), level.keys, keys)
		}
		q, err := Compile(*b, serviceBase, ServiceScope)
		if err != nil {
			t.Fatalf("Compile of the %s block of all defaults: %v", level.def, err)
		}
		if q.SuccessStatus() != p.SuccessStatus() || q.UnmatchedStatus() != p.UnmatchedStatus() || !slices.Equal(q.Methods(), p.Methods()) ||
			q.Credentials() || q.Terminate() || q.StripRequestHeaders() || q.Debug() || q.Passthrough() {
			t.Errorf("the %s block of all defaults compiles to another policy than the empty block", level.def)
		}
	}

	// Every key Block has is declared at the endpoint level, and at the
	// service level except the two endpoint-only keys.
	service := doc.Defs[schema.ServicePolicy]["properties"].(map[string]any)
	endpoint := doc.Defs[schema.EndpointPolicy]["properties"].(map[string]any)
	for key := range blockKeys() {
		if _, ok := endpoint[key]; !ok {
			t.Errorf("Block has %q but endpointPolicy does not declare it", key)
		}
		_, inService := service[key]
		if endpointOnly := key == "disable" || key == "strip_cors_request_headers"; inService == endpointOnly {
			t.Errorf("servicePolicy declares %q: %v, want %v", key, inService, !endpointOnly)
		}
	}
	if len(blockKeys()) != len(endpoint) {
		t.Errorf("Block has %d keys, endpointPolicy declares %d", len(blockKeys()), len(endpoint))
	}
}

// ParseMaxAge is the one grammar of max_age: a Go duration in whole
// seconds; negative durations are valid (they mean "cache nothing").
func TestParseMaxAge(t *testing.T) {
	tests := []struct {
		in      string
		seconds int64
		err     string
	}{
		{in: "0", seconds: 0},
		{in: "0s", seconds: 0},
		{in: "-0s", seconds: 0},
		{in: "12h", seconds: 12 * 3600},
		{in: "1h30m", seconds: 5400},
		{in: "90s", seconds: 90},
		{in: "2000ms", seconds: 2},
		{in: "-1s", seconds: -1},
		{in: "-2h", seconds: -7200},
		{in: "12", err: "is not a duration string"},
		{in: "+1h", err: "is not a duration string"},
		{in: "", err: "is not a duration string"},
		{in: "1 h", err: "is not a duration string"},
		{in: "1.5s", err: `use "1s"`},
		{in: "-1.5s", err: `use "-1s"`},
		{in: "1h0.5s", err: "not a whole number of seconds"},
	}
	for _, tc := range tests {
		d, err := ParseMaxAge(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseMaxAge(%q) = %v, %v; want an error containing %q", tc.in, d, err, tc.err)
			}
			continue
		}
		if err != nil || int64(d.Seconds()) != tc.seconds {
			t.Errorf("ParseMaxAge(%q) = %v, %v; want %ds", tc.in, d, err, tc.seconds)
		}
	}
}

// ParseBlock checks the shape only: a block whose values mean nothing
// valid is still read (the validator words those problems), while a wrong
// type, an unknown key or a non-object is refused with no block.
func TestParseBlockShapeOnly(t *testing.T) {
	tests := []struct {
		name  string
		level Level
		json  string
		// errPath is the path of the one error, "" when the block is read.
		errPath string
	}{
		{"meaningless values are read", ServiceLevel, `{"allow_origins": ["not an origin"], "allow_methods": ["get"], "max_age": "soon", "options_success_status": 404, "allow_credentials": true}`, ""},
		{"endpoint disable with keys is read", EndpointLevel, `{"disable": true, "debug": true}`, ""},
		{"wrong type", ServiceLevel, `{"debug": 1}`, serviceBase + ".debug"},
		{"unknown key", EndpointLevel, `{"allow_origin": []}`, serviceBase + ".allow_origin"},
		{"endpoint-only key at the service level", ServiceLevel, `{"strip_cors_request_headers": true}`, serviceBase + ".strip_cors_request_headers"},
		{"not an object", ServiceLevel, `42`, serviceBase},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v any
			if err := json.Unmarshal([]byte(tc.json), &v); err != nil {
				t.Fatal(err)
			}
			b, errs := ParseBlock(v, tc.level, serviceBase)
			if tc.errPath == "" {
				if len(errs) > 0 || b == nil {
					t.Fatalf("ParseBlock = %s, %v; want a block", dump(b), errs)
				}
				back, _ := json.Marshal(b)
				var again, orig any
				_ = json.Unmarshal(back, &again)
				_ = json.Unmarshal([]byte(tc.json), &orig)
				if !reflect.DeepEqual(again, orig) {
					t.Errorf("the block read is %s, want %s", back, tc.json)
				}
				return
			}
			if b != nil || len(errs) != 1 || errs[0].Path != tc.errPath || errs[0].Endpoint != "" {
				t.Errorf("ParseBlock = %s, %v; want no block and one error at %s", dump(b), errs, tc.errPath)
			}
		})
	}
}
