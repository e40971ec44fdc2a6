package policy

import (
	"net/http"
	"reflect"
	"testing"
)

func TestTrimBackend(t *testing.T) {
	gwActual := http.Header{"Vary": {"Origin"}, "Access-Control-Allow-Origin": {"https://app.example.com"}}
	gwPreflight := http.Header{"Vary": {"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"}}
	backendCORS := http.Header{
		"Access-Control-Allow-Origin":      {"*"},
		"Access-Control-Allow-Credentials": {"true"},
		"access-control-expose-headers":    {"X-Secret"}, // not canonical: a plugin's map
		"Vary":                             {"Origin, Accept-Encoding"},
		"Content-Type":                     {"application/json"},
	}
	cases := []struct {
		name        string
		gw, backend http.Header
		cors        bool
		want        http.Header // nil: backend passes as it is
		dropped     bool
	}{
		{
			name: "CORS request: the backend's CORS headers go, Vary keeps what the gateway lacks",
			gw:   gwActual, backend: backendCORS, cors: true,
			want:    http.Header{"Vary": {"Accept-Encoding"}, "Content-Type": {"application/json"}},
			dropped: true,
		},
		{
			name: "no Origin: the backend's CORS headers stay, Vary loses Origin only",
			gw:   http.Header{"Vary": {"Origin"}}, backend: backendCORS, cors: false,
			want: http.Header{
				"Access-Control-Allow-Origin":      {"*"},
				"Access-Control-Allow-Credentials": {"true"},
				"access-control-expose-headers":    {"X-Secret"},
				"Vary":                             {"Accept-Encoding"},
				"Content-Type":                     {"application/json"},
			},
		},
		{
			name: "a passed-through preflight: the backend's Vary tokens the answer has go",
			gw:   gwPreflight, backend: http.Header{"Vary": {"origin", "access-control-request-method"}, "Allow": {"GET"}}, cors: true,
			want: http.Header{"Allow": {"GET"}},
		},
		{
			name: "nothing to trim: the same map, no copy",
			gw:   gwActual, backend: http.Header{"Vary": {"Accept-Encoding"}, "Content-Type": {"text/plain"}}, cors: true,
		},
		{
			name: "exempt or no policy (no Vary from the gateway): untouched",
			gw:   http.Header{}, backend: backendCORS, cors: true,
		},
		{
			name: "a Vary naming Origin only inside another token does not count",
			gw:   http.Header{"Vary": {"X-Origin-Id"}}, backend: backendCORS, cors: true,
		},
		{
			name: "no backend headers",
			gw:   gwActual, backend: nil, cors: true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := c.backend.Clone()
			got, dropped := TrimBackend(c.gw, c.backend, c.cors)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("TrimBackend = %v, want %v", got, c.want)
			}
			if dropped != c.dropped {
				t.Errorf("dropped = %v, want %v", dropped, c.dropped)
			}
			if !reflect.DeepEqual(c.backend, before) {
				t.Errorf("TrimBackend changed its argument: %v, was %v", c.backend, before)
			}
		})
	}
}

// TrimBackend runs on every backend answer of a gateway with the CORS
// layer up front: when there is nothing to trim, it must not allocate.
func TestTrimBackendDoesNotAllocateWhenNothingIsTrimmed(t *testing.T) {
	gw := http.Header{"Vary": {"Origin"}, "Access-Control-Allow-Origin": {"https://app.example.com"}}
	backend := http.Header{"Vary": {"Accept-Encoding"}, "Content-Type": {"application/json"}, "Cache-Control": {"no-store"}}
	if n := testing.AllocsPerRun(100, func() { TrimBackend(gw, backend, true) }); n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}

// BenchmarkTrimBackend measures what StripBackendCORS adds to each
// backend answer of a no-op endpoint: nothing to trim (the usual case),
// a backend whose CORS middleware sends Vary: Origin, and one that also
// answers CORS.
func BenchmarkTrimBackend(b *testing.B) {
	gw := http.Header{"Vary": {"Origin"}, "Access-Control-Allow-Origin": {"https://app.example.com"}}
	base := http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}, "Date": {"Sun, 06 Dec 2026 18:00:00 GMT"}, "X-Request-Id": {"42"}}
	with := func(kv ...string) http.Header {
		h := base.Clone()
		for i := 0; i < len(kv); i += 2 {
			h[kv[i]] = []string{kv[i+1]}
		}
		return h
	}
	for _, c := range []struct {
		name    string
		backend http.Header
	}{
		{"nothing", with("Vary", "Accept-Encoding")},
		{"vary_origin", with("Vary", "Origin")},
		{"own_cors", with("Vary", "Origin, Accept-Encoding", "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Credentials", "true")},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				TrimBackend(gw, c.backend, true)
			}
		})
	}
}
