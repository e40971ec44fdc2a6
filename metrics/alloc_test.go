//go:build !race

package metrics_test

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/metrics"
)

// Counting a decision, and recording a refused origin never seen before,
// allocate nothing (make test runs this file without -race).
func TestObserveNoAllocations(t *testing.T) {
	d := metrics.New(gateway().Controller(t).Routes())
	snap := gateway().Snapshot(t)
	origins := make([]string, 300)
	for i := range origins {
		origins[i] = fmt.Sprintf("https://new-%d.example", i)
	}
	r := httptest.NewRequest("GET", "/users/1", nil)
	sc := snap.Service()
	i := 0
	if n := testing.AllocsPerRun(200, func() {
		d.ObserveCORS(r, sc, policy.Decision{Reason: policy.Allowed})
		d.ObserveCORS(r, sc, policy.Decision{Reason: policy.OriginDenied, Detail: origins[i%len(origins)]})
		i++
	}); n != 0 {
		t.Errorf("%v allocations per decision", n)
	}
	var tk metrics.TopK
	if n := testing.AllocsPerRun(200, func() { tk.Add(origins[i%len(origins)], policy.OriginDenied); i++ }); n != 0 {
		t.Errorf("TopK.Add: %v allocations", n)
	}
}
