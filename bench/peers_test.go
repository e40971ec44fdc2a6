package bench

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/corsgate/corsgate/engine/origin"
)

var behaviourOut = flag.String("behaviour", "", "write the per-peer, per-path behaviour table (TSV) to this file")

// handlers caches the handlers built for a policy, so that -count and
// repeated runs do not rebuild 100,000-origin tables.
var handlers = map[string]http.Handler{}

func handlerFor(tb testing.TB, key string, peer Peer, p Policy) http.Handler {
	tb.Helper()
	k := key + "/" + peer.Name
	if h, ok := handlers[k]; ok {
		return h
	}
	h, err := peer.New(p)
	if err != nil {
		tb.Fatalf("%s: %v", k, err)
	}
	handlers[k] = h
	return h
}

func run(b *testing.B, h http.Handler, r *http.Request) {
	w := NewDiscard()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.Reset()
		h.ServeHTTP(w, r)
	}
}

// BenchmarkPaths sends each path's request through every peer.
func BenchmarkPaths(b *testing.B) {
	pol := DefaultPolicy()
	for _, c := range Paths() {
		for _, peer := range Peers {
			h := handlerFor(b, "default", peer, pol)
			b.Run("path="+c.Name+"/peer="+peer.Name, func(b *testing.B) { run(b, h, c.Req) })
		}
	}
}

// BenchmarkScale sends requests whose origin is listed near the end of
// long origin lists (and one that is not listed) through every peer.
func BenchmarkScale(b *testing.B) {
	for _, s := range Scales() {
		pol := WithOrigins(s.Origins)
		for _, c := range ScalePaths(s) {
			for _, peer := range Peers {
				if peer.Name == "floor" {
					continue
				}
				h := handlerFor(b, s.Name, peer, pol)
				b.Run("origins="+s.Name+"/path="+c.Name+"/peer="+peer.Name, func(b *testing.B) { run(b, h, c.Req) })
			}
		}
	}
}

// BenchmarkMatch measures the origin matcher alone at every scale.
func BenchmarkMatch(b *testing.B) {
	for _, s := range Scales() {
		pats := make([]origin.Pattern, 0, len(s.Origins))
		for _, o := range s.Origins {
			p, err := origin.ParsePattern(o)
			if err != nil {
				b.Fatal(err)
			}
			pats = append(pats, p)
		}
		m := origin.NewMatcher(pats, nil)
		for _, c := range []struct{ name, origin string }{{"hit", s.Hit}, {"miss", DeniedOrigin}} {
			want := c.name == "hit"
			if m.Match(c.origin) != want {
				b.Fatalf("%s: Match(%q) != %v", s.Name, c.origin, want)
			}
			b.Run("origins="+s.Name+"/case="+c.name, func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if m.Match(c.origin) != want {
						b.Fatal("wrong answer")
					}
				}
			})
		}
	}
}

// outcome is what one peer did with one request.
type outcome struct {
	status  int
	acao    string
	acah    string
	vary    string
	reached bool
}

func serve(h http.Handler, r *http.Request) outcome {
	w := NewDiscard()
	h.ServeHTTP(w, r)
	st := w.Status
	if st == 0 {
		st = http.StatusOK
	}
	return outcome{
		status:  st,
		acao:    strings.Join(w.H.Values("Access-Control-Allow-Origin"), " | "),
		acah:    strings.Join(w.H.Values("Access-Control-Allow-Headers"), " | "),
		vary:    strings.Join(w.H.Values("Vary"), ", "),
		reached: w.H.Get(ReachedHeader) != "",
	}
}

// TestBehaviour checks that every peer, configured with the common policy,
// allows and refuses the same requests, so that the benchmarks compare
// like with like, and records what each one answers (the report prints
// it next to the timings).
func TestBehaviour(t *testing.T) {
	pol := DefaultPolicy()
	var rows []string
	for _, c := range Paths() {
		for _, peer := range Peers {
			h := handlerFor(t, "default", peer, pol)
			o := serve(h, c.Req)
			rows = append(rows, strings.Join([]string{
				c.Name, peer.Name, fmt.Sprint(o.status), o.acao, o.acah, o.vary, fmt.Sprint(o.reached),
			}, "\t"))
			if peer.Name == "floor" {
				if o.acao != "" {
					t.Errorf("%s/floor: Access-Control-Allow-Origin %q without a CORS layer", c.Name, o.acao)
				}
				continue
			}
			wantAllowed := strings.HasSuffix(c.Name, "_allowed") || c.Name == "preflight_long_headers"
			if dev, ok := KnownDeviation(peer.Name, c.Name); ok {
				t.Logf("%s/%s: known deviation: %s", c.Name, peer.Name, dev)
				if o.acao != "" {
					t.Errorf("%s/%s: the known deviation is gone (Access-Control-Allow-Origin %q): update KnownDeviation", c.Name, peer.Name, o.acao)
				}
				continue
			}
			if got := o.acao == AppOrigin; got != wantAllowed {
				t.Errorf("%s/%s: Access-Control-Allow-Origin %q, want allowed=%v", c.Name, peer.Name, o.acao, wantAllowed)
			}
			if strings.HasPrefix(c.Name, "preflight") && o.reached {
				t.Errorf("%s/%s: the preflight reached the route handler", c.Name, peer.Name)
			}
			if c.Name == "preflight_long_headers" && peer.Name != "gin-contrib-cors" {
				for _, name := range LongHeaders {
					if !strings.Contains(strings.ToLower(o.acah), name) {
						t.Errorf("%s/%s: Access-Control-Allow-Headers %q lacks %s", c.Name, peer.Name, o.acah, name)
					}
				}
			}
		}
	}
	if *behaviourOut != "" {
		data := "# path\tpeer\tstatus\tallow-origin\tallow-headers\tvary\treached-handler\n" + strings.Join(rows, "\n") + "\n"
		if err := os.WriteFile(*behaviourOut, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestScaleBehaviour checks that at every scale every peer allows the
// origin listed near the end and refuses an unlisted one.
func TestScaleBehaviour(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 100,000-origin policies")
	}
	for _, s := range Scales() {
		pol := WithOrigins(s.Origins)
		for _, c := range ScalePaths(s) {
			for _, peer := range Peers {
				if peer.Name == "floor" {
					continue
				}
				o := serve(handlerFor(t, s.Name, peer, pol), c.Req)
				want := ""
				if _, dev := KnownDeviation(peer.Name, c.Name); c.Name != "actual_refused" && !dev {
					want = s.Hit
				}
				if o.acao != want {
					t.Errorf("%s/%s/%s: Access-Control-Allow-Origin %q, want %q", s.Name, c.Name, peer.Name, o.acao, want)
				}
			}
		}
	}
}
