package state

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/engine/route"
	"github.com/corsgate/corsgate/store"
)

// benchLayer is a layer whose service scope allows n origins, the i-th
// set of them.
func benchLayer(n, set int) json.RawMessage {
	origins := make([]string, n)
	for j := range origins {
		origins[j] = fmt.Sprintf("https://app-%d-%d.example.com", set, j)
	}
	data, _ := json.Marshal(map[string]any{"service": map[string]any{"allow_origins": origins, "allow_credentials": true}})
	return data
}

// BenchmarkAdopt is what a replica spends applying another replica's
// revision: a layer of 100 origins, a file of a service block and three
// endpoints, with the state directory's cache.
func BenchmarkAdopt(b *testing.B) {
	rs := route.New([]route.Route{
		{Method: "GET", Path: "/users", Index: 0},
		{Method: "GET", Path: "/users/{id}", Index: 1},
		{Method: "POST", Path: "/orders", Index: 2},
	}, false)
	svc, errs := policy.ParseBlock(map[string]any{"allow_origins": []any{"https://file.example.com"}, "allow_methods": []any{"GET", "POST"}, "max_age": "12h"}, policy.ServiceLevel, "extra_config.security/cors")
	if errs != nil {
		b.Fatal(errs)
	}
	ep, errs := policy.ParseBlock(map[string]any{"allow_headers": []any{"X-Request-Id"}}, policy.EndpointLevel, "endpoints[0]")
	if errs != nil {
		b.Fatal(errs)
	}
	doc := &policy.Document{Service: svc, Endpoints: map[string]*policy.Block{"GET /users/{id}": ep}}
	ctrl, err := core.NewController(rs, doc)
	if err != nil {
		b.Fatal(err)
	}
	m := New(Options{Controller: ctrl, File: doc, Store: store.NewMemory(), StoreInfo: StoreInfo{Type: "test", Name: "memory"}, StateDir: b.TempDir(), Replica: "r1", Timeout: time.Second})
	layers := []json.RawMessage{benchLayer(100, 0), benchLayer(100, 1)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		m.onChange(store.Record{Revision: uint64(i + 1), User: "admin", Source: SourceAPI, Layer: layers[i%2], Time: time.Now()}, nil)
	}
	b.StopTimer()
	m.Flush()
	if got := m.Revision(); got != uint64(b.N) {
		b.Fatalf("revision %d in force, want %d", got, b.N)
	}
}
