package policy

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// fullService sets every service-level key.
func fullService() *Block {
	return &Block{
		AllowOrigins:                        []string{"https://app.example.com"},
		AllowOriginsRegex:                   []string{"^https://pr-[0-9]+[.]example[.]com$"},
		AllowOriginsRegexUnsafe:             ptr(false),
		AllowMethods:                        []string{"GET", "POST"},
		AllowHeaders:                        []string{"Content-Type"},
		ExposeHeaders:                       []string{"X-Request-Id"},
		MaxAge:                              ptr("1h"),
		AllowCredentials:                    ptr(true),
		AllowAnyOriginWithCredentialsUnsafe: ptr(false),
		AllowPrivateNetwork:                 ptr(true),
		OptionsPassthrough:                  ptr(true),
		OptionsSuccessStatus:                ptr(200),
		TerminateUnmatchedRequest:           ptr(true),
		UnmatchedStatus:                     ptr(401),
		Debug:                               ptr(true),
	}
}

// dump renders a block for messages, naming the absent (nil) fields, which
// JSON would not show apart from empty ones.
func dump(b *Block) string {
	if b == nil {
		return "nil"
	}
	j, _ := json.Marshal(b)
	var nils []string
	v := reflect.ValueOf(*b)
	for i := range v.NumField() {
		if f := v.Field(i); (f.Kind() == reflect.Pointer || f.Kind() == reflect.Slice) && f.IsNil() {
			nils = append(nils, v.Type().Field(i).Name)
		}
	}
	return string(j) + " nil:" + strings.Join(nils, ",")
}

// Every key the endpoint sets overrides the service's, an explicit false
// or empty list included; the others are inherited; the service block is
// not changed.
func TestMergeOverridesKeyByKey(t *testing.T) {
	service := fullService()
	before := dump(service)
	endpoint := &Block{
		AllowOrigins:            []string{"https://admin.example.com"},
		AllowOriginsRegexUnsafe: ptr(true),
		MaxAge:                  ptr("0s"),
		Debug:                   ptr(false), // an explicit false overrides true
		UnmatchedStatus:         ptr(403),
		ExposeHeaders:           []string{}, // an explicit empty list overrides too
	}
	got := Merge(service, endpoint)
	want := *fullService()
	want.AllowOrigins = []string{"https://admin.example.com"}
	want.AllowOriginsRegexUnsafe = ptr(true)
	want.MaxAge = ptr("0s")
	want.Debug = ptr(false)
	want.UnmatchedStatus = ptr(403)
	want.ExposeHeaders = []string{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Merge =\n %s\nwant\n %s", dump(&got), dump(&want))
	}
	if got.ExposeHeaders == nil {
		t.Error("an endpoint's empty expose_headers was dropped: the service's list would be inherited")
	}
	if after := dump(service); after != before {
		t.Errorf("Merge changed the service block:\n before %s\n after  %s", before, after)
	}
}

// TestMergeEveryField sets each key on one side only and checks that it
// reaches the merged block (from the endpoint: always; from the service:
// except the endpoint-only keys), so that a key added to Block but
// forgotten in Merge or Keys fails here.
func TestMergeEveryField(t *testing.T) {
	typ := reflect.TypeFor[Block]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Name == "Comment" {
			continue
		}
		key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		var set reflect.Value
		switch f.Type.Kind() {
		case reflect.Slice:
			set = reflect.ValueOf([]string{"x"})
		case reflect.Pointer:
			set = reflect.New(f.Type.Elem())
			switch f.Type.Elem().Kind() {
			case reflect.Bool:
				set.Elem().SetBool(true)
			case reflect.Int:
				set.Elem().SetInt(299)
			case reflect.String:
				set.Elem().SetString("5s")
			default:
				t.Fatalf("unexpected pointer field %s", f.Name)
			}
		default:
			t.Fatalf("unexpected field kind %s of %s", f.Type.Kind(), f.Name)
		}
		endpointOnly := key == "disable" || key == "strip_cors_request_headers"
		t.Run(key, func(t *testing.T) {
			var one Block
			reflect.ValueOf(&one).Elem().Field(i).Set(set)

			fromEndpoint := Merge(&Block{}, &one)
			if !reflect.DeepEqual(reflect.ValueOf(fromEndpoint).Field(i).Interface(), set.Interface()) {
				t.Errorf("the endpoint's %s is lost: merged %s", key, dump(&fromEndpoint))
			}
			if keys := fromEndpoint.Keys(); !slices.Equal(keys, []string{key}) {
				t.Errorf("merged Keys() = %q, want [%s]", keys, key)
			}

			fromService := Merge(&one, &Block{})
			inherited := !reflect.ValueOf(fromService).Field(i).IsNil()
			if inherited == endpointOnly {
				t.Errorf("%s inherited from the service: %v, want %v", key, inherited, !endpointOnly)
			}
		})
	}
}

// disable and strip_cors_request_headers belong to the endpoint that sets
// them: a service block that has them (only possible in Go, the schema
// refuses them there) never passes them on.
func TestMergeNeverInheritsEndpointOnlyKeys(t *testing.T) {
	service := fullService()
	service.Disable, service.StripCORSRequestHeaders = ptr(true), ptr(true)
	for name, endpoint := range map[string]*Block{"nil endpoint": nil, "empty endpoint": {}, "other keys": {Debug: ptr(false)}} {
		m := Merge(service, endpoint)
		if m.Disable != nil || m.StripCORSRequestHeaders != nil {
			t.Errorf("%s: merged Disable %v, StripCORSRequestHeaders %v; want both nil", name, m.Disable, m.StripCORSRequestHeaders)
		}
		if m.AllowCredentials == nil || !*m.AllowCredentials {
			t.Errorf("%s: the other service keys were not inherited: %s", name, dump(&m))
		}
	}
	if service.Disable == nil || service.StripCORSRequestHeaders == nil {
		t.Error("Merge cleared the service block's own fields")
	}
	// The endpoint's own values stay, true or false.
	m := Merge(service, &Block{StripCORSRequestHeaders: ptr(true), Disable: ptr(false)})
	if m.StripCORSRequestHeaders == nil || !*m.StripCORSRequestHeaders || m.Disable == nil || *m.Disable {
		t.Errorf("the endpoint's own keys: Disable %v, StripCORSRequestHeaders %v", m.Disable, m.StripCORSRequestHeaders)
	}
}

// Either side may be missing.
func TestMergeNil(t *testing.T) {
	endpoint := &Block{AllowOrigins: []string{"https://admin.example.com"}, AllowCredentials: ptr(true), StripCORSRequestHeaders: ptr(true)}
	if got := Merge(nil, endpoint); !reflect.DeepEqual(got, *endpoint) {
		t.Errorf("Merge(nil, e) = %s, want e = %s", dump(&got), dump(endpoint))
	}
	service := fullService()
	if got := Merge(service, nil); !reflect.DeepEqual(got, *fullService()) {
		t.Errorf("Merge(s, nil) = %s, want s = %s", dump(&got), dump(service))
	}
	if got := Merge(nil, nil); !reflect.DeepEqual(got, Block{}) {
		t.Errorf("Merge(nil, nil) = %s, want the zero block", dump(&got))
	}
}

// Keys lists the keys a block sets (false and empty count as set), in the
// schema's order, never @comment.
func TestKeys(t *testing.T) {
	all := fullService()
	all.Disable, all.StripCORSRequestHeaders = ptr(true), ptr(true)
	tests := []struct {
		name  string
		block *Block
		want  []string
	}{
		{"nil block", nil, nil},
		{"only a comment", &Block{Comment: "only a comment"}, nil},
		{"false and empty count as set", &Block{
			Debug:            ptr(false),
			AllowOrigins:     []string{},
			UnmatchedStatus:  ptr(401),
			AllowCredentials: ptr(false),
			Disable:          ptr(false),
		}, []string{"allow_origins", "allow_credentials", "unmatched_status", "debug", "disable"}},
		{"the new key", &Block{AllowOriginsRegexUnsafe: ptr(false), AllowOriginsRegex: []string{}}, []string{"allow_origins_regex", "allow_origins_regex_unsafe"}},
		{"every key", all, []string{
			"allow_origins", "allow_origins_regex", "allow_origins_regex_unsafe", "allow_methods", "allow_headers", "expose_headers",
			"max_age", "allow_credentials", "allow_any_origin_with_credentials_unsafe", "allow_private_network",
			"options_passthrough", "options_success_status", "terminate_unmatched_request", "unmatched_status",
			"debug", "disable", "strip_cors_request_headers",
		}},
	}
	for _, tt := range tests {
		if got := tt.block.Keys(); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Keys() =\n %q\nwant\n %q", tt.name, got, tt.want)
		}
	}
}

// mutate changes every list item and every pointed-to value of b.
func mutate(b *Block) {
	for _, l := range [][]string{b.AllowOrigins, b.AllowOriginsRegex, b.AllowMethods, b.AllowHeaders, b.ExposeHeaders} {
		for i := range l {
			l[i] = "changed"
		}
	}
	for _, p := range []*bool{b.AllowOriginsRegexUnsafe, b.AllowCredentials, b.AllowAnyOriginWithCredentialsUnsafe, b.AllowPrivateNetwork,
		b.OptionsPassthrough, b.TerminateUnmatchedRequest, b.Debug, b.Disable, b.StripCORSRequestHeaders} {
		if p != nil {
			*p = !*p
		}
	}
	for _, p := range []*int{b.OptionsSuccessStatus, b.UnmatchedStatus} {
		if p != nil {
			*p++
		}
	}
	if b.MaxAge != nil {
		*b.MaxAge = "changed"
	}
}

// A clone is equal to its block and shares no list or value with it:
// changing every value of one leaves the other as it was, both ways.
func TestBlockClone(t *testing.T) {
	full := func() *Block {
		b := fullService()
		b.Disable, b.StripCORSRequestHeaders = ptr(false), ptr(true)
		return b
	}
	tests := []struct {
		name  string
		block func() *Block
	}{
		{"every key", full},
		{"empty lists stay empty, not absent", func() *Block { return &Block{AllowOrigins: []string{}, ExposeHeaders: []string{}} }},
		{"empty block", func() *Block { return &Block{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := tt.block()
			c := orig.Clone()
			if !reflect.DeepEqual(c, tt.block()) {
				t.Fatalf("Clone =\n %s\nwant\n %s", dump(c), dump(tt.block()))
			}
			mutate(c)
			if !reflect.DeepEqual(orig, tt.block()) {
				t.Errorf("changing the clone changed the block:\n %s", dump(orig))
			}
			c = orig.Clone()
			mutate(orig)
			if !reflect.DeepEqual(c, tt.block()) {
				t.Errorf("changing the block changed the clone:\n %s", dump(c))
			}
		})
	}
	if (*Block)(nil).Clone() != nil {
		t.Error("(*Block)(nil).Clone() is not nil")
	}
}

// A document's clone shares no block, no endpoint map and no path map with
// it.
func TestDocumentClone(t *testing.T) {
	doc := func() *Document {
		return &Document{
			Service:   fullService(),
			Endpoints: map[string]*Block{"GET /users/{id}": {AllowMethods: []string{"GET"}, Debug: ptr(true)}, "POST /x": nil},
			Paths:     map[string]string{"": `extra_config["security/cors"]`, "GET /users/{id}": `endpoints[0].extra_config["security/cors"]`},
		}
	}
	orig := doc()
	c := orig.Clone()
	if !reflect.DeepEqual(c, doc()) {
		t.Fatalf("Clone = %+v, want %+v", c, doc())
	}
	mutate(c.Service)
	mutate(c.Endpoints["GET /users/{id}"])
	c.Endpoints["DELETE /y"] = &Block{}
	delete(c.Endpoints, "POST /x")
	c.Paths["POST /x"] = "elsewhere"
	if !reflect.DeepEqual(orig, doc()) {
		t.Errorf("changing the clone changed the document: service %s, endpoints %v, paths %v", dump(orig.Service), orig.Endpoints, orig.Paths)
	}

	for name, d := range map[string]*Document{"no endpoints": {Service: fullService()}, "no service": {Endpoints: map[string]*Block{}}} {
		c := d.Clone()
		if !reflect.DeepEqual(c, d) || c == d {
			t.Errorf("%s: Clone = %+v, want an equal copy of %+v", name, c, d)
		}
	}
	if (*Document)(nil).Clone() != nil {
		t.Error("(*Document)(nil).Clone() is not nil")
	}
}
