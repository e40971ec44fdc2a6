package metrics_test

import (
	"strconv"
	"testing"

	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/metrics"
)

// BenchmarkTopKAdd is the cost of recording one refusal: an origin
// already kept (hit), and a stream of new ones that each take the least
// counted slot (evict).
func BenchmarkTopKAdd(b *testing.B) {
	origins := make([]string, 64)
	for i := range origins {
		origins[i] = "https://client-" + strconv.Itoa(i) + ".example.net"
	}
	b.Run("hit", func(b *testing.B) {
		var tk metrics.TopK
		b.ReportAllocs()
		for b.Loop() {
			tk.Add(origins[0], policy.OriginDenied)
		}
	})
	b.Run("evict", func(b *testing.B) {
		var tk metrics.TopK
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			tk.Add(origins[i%len(origins)], policy.OriginDenied)
			i++
		}
	})
}
