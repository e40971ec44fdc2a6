package schema_test

import (
	"encoding/json"
	"testing"

	"github.com/corsgate/corsgate/schema"
)

// Fix.Apply changes the value at a path written as Path and Index write
// them, and nothing else; a path that names nothing, or an operation that
// does not fit the place, is an error that leaves the value as it was.
func TestFixApply(t *testing.T) {
	const doc = `{"a": {"list": ["x", "y", "z"], "k": 1, "s/l": true}, "top": [[1, 2]]}`
	tests := []struct {
		name, path string
		fix        *schema.Fix
		want       string // the result as JSON, or "" for an error
	}{
		{"replace a key", ".a.k", schema.ReplaceWith("1h"), `{"a":{"k":"1h","list":["x","y","z"],"s/l":true},"top":[[1,2]]}`},
		{"replace without the first dot", "a.k", schema.ReplaceWith(2), `{"a":{"k":2,"list":["x","y","z"],"s/l":true},"top":[[1,2]]}`},
		{"replace an item", ".a.list[1]", schema.ReplaceWith("Y"), `{"a":{"k":1,"list":["x","Y","z"],"s/l":true},"top":[[1,2]]}`},
		{"replace a quoted key", `.a["s/l"]`, schema.ReplaceWith(false), `{"a":{"k":1,"list":["x","y","z"],"s/l":false},"top":[[1,2]]}`},
		{"remove an item", ".a.list[0]", schema.RemoveIt(), `{"a":{"k":1,"list":["y","z"],"s/l":true},"top":[[1,2]]}`},
		{"remove an item of a nested list", ".top[0][1]", schema.RemoveIt(), `{"a":{"k":1,"list":["x","y","z"],"s/l":true},"top":[[1]]}`},
		{"remove a key", ".a.k", schema.RemoveIt(), `{"a":{"list":["x","y","z"],"s/l":true},"top":[[1,2]]}`},
		{"rename a key", ".a.k", schema.RenameTo("key"), `{"a":{"key":1,"list":["x","y","z"],"s/l":true},"top":[[1,2]]}`},
		{"replace the root", "", schema.ReplaceWith([]int{1}), `[1]`},
		{"rename onto a key", ".a.k", schema.RenameTo("list"), ""},
		{"no such key", ".a.nope", schema.RemoveIt(), ""},
		{"no such item", ".a.list[3]", schema.RemoveIt(), ""},
		{"an index into an object", ".a[0]", schema.RemoveIt(), ""},
		{"rename an item", ".a.list[0]", schema.RenameTo("x"), ""},
		{"remove the root", "", schema.RemoveIt(), ""},
		{"unclosed quote", `.a["s/l]`, schema.RemoveIt(), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v any
			if err := json.Unmarshal([]byte(doc), &v); err != nil {
				t.Fatal(err)
			}
			got, err := tc.fix.Apply(v, tc.path)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("Apply(%s) = %v, want an error", tc.path, got)
				}
				if b, _ := json.Marshal(v); string(b) != `{"a":{"k":1,"list":["x","y","z"],"s/l":true},"top":[[1,2]]}` {
					t.Errorf("Apply(%s) failed and changed the value to %s", tc.path, b)
				}
				return
			}
			if err != nil {
				t.Fatalf("Apply(%s): %v", tc.path, err)
			}
			if b, _ := json.Marshal(got); string(b) != tc.want {
				t.Errorf("Apply(%s) = %s, want %s", tc.path, b, tc.want)
			}
		})
	}
}

// ParentPath names the object or list that holds a value, in the same
// notation.
func TestParentPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{`extra_config["security/cors"].allow_origin`, `extra_config["security/cors"]`},
		{`endpoints[1].extra_config["security/cors"]["@note"]`, `endpoints[1].extra_config["security/cors"]`},
		{`service.allow_origins[2]`, `service.allow_origins`},
		{`endpoints["GET /a"].Debug`, `endpoints["GET /a"]`},
		{`max_age`, ``},
		{``, ``},
	}
	for _, tc := range tests {
		if got := schema.ParentPath(tc.in); got != tc.want {
			t.Errorf("ParentPath(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
