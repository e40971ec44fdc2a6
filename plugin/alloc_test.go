//go:build !race

package plugin_test

// This file is left out of -race builds: the race detector makes
// sync.Pool drop pooled objects at random on purpose, so allocation counts
// mean nothing there. make test runs it in a build without -race.

import (
	"net/http"
	"testing"

	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/metrics"
)

// TestPluginAddsNoAllocations checks the benchmark's claim in a test: on
// every path, the CORS Handler allocates nothing beyond what the engine
// itself does.
func TestPluginAddsNoAllocations(t *testing.T) {
	e := benchEngine()
	observed := &countingObserver{}
	counted := metrics.New(benchGateway.Controller(t).Routes())
	handlers := map[string]http.Handler{
		"plugin":                     benchGateway.Controller(t).Handler(benchEngine()),
		"plugin preset":              benchGateway.Controller(t).PresetHandler(benchEngine()),
		"plugin preset with metrics": benchGateway.Controller(t, core.WithObserver(metrics.New(benchGateway.Controller(t).Routes()))).PresetHandler(benchEngine()),
		"plugin with observer":       benchGateway.Controller(t, core.WithObserver(observed)).Handler(benchEngine()),
		"plugin with metrics":        benchGateway.Controller(t, core.WithObserver(counted)).Handler(benchEngine()),
	}
	for name, h := range handlers {
		for _, c := range benchRequests() {
			w := &discard{h: http.Header{}}
			floor := testing.AllocsPerRun(200, func() { clear(w.h); e.ServeHTTP(w, c.req) })
			got := testing.AllocsPerRun(200, func() { clear(w.h); h.ServeHTTP(w, c.req) })
			if c.name == "preflight_allowed" || c.name == "preflight_denied" {
				floor = 0 // the plugin answers preflights without the engine
			}
			if got > floor {
				t.Errorf("%s, %s: %v allocations with the plugin, %v without", name, c.name, got, floor)
			}
		}
	}
	if observed.n.Load() == 0 {
		t.Error("the observer saw no decision")
	}
	if len(counted.Counts()) == 0 || len(counted.TopRefused()) == 0 {
		t.Errorf("the metrics counted %v and kept %v refused origins", counted.Counts(), counted.TopRefused())
	}
}
