package metrics_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/metrics"
	"github.com/corsgate/corsgate/plugin/plugintest"
)

const app, evil = "https://app.example.com", "https://evil.example"

func gateway() plugintest.Gateway {
	return plugintest.Gateway{
		CORS: plugintest.Block{"allow_origins": []any{app}, "allow_methods": []any{"GET", "PUT"}},
		Endpoints: []plugintest.Endpoint{
			plugintest.EP("GET", "/users/{id}", nil),
			plugintest.EP("GET", "/reports", plugintest.Block{"allow_origins": []any{"https://reports.example.com"}}),
			plugintest.EP("GET", "/public", plugintest.Block{"disable": true}),
		},
	}
}

// counted is a gateway whose decisions d counts.
func counted(t *testing.T) (*metrics.Decisions, http.Handler) {
	t.Helper()
	routes := gateway().Controller(t).Routes()
	d := metrics.New(routes)
	h := gateway().Controller(t, core.WithObserver(d)).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	return d, h
}

func send(h http.Handler, method, path string, kv ...string) {
	r := httptest.NewRequest(method, path, nil)
	r.Header = plugintest.Header(kv...)
	h.ServeHTTP(httptest.NewRecorder(), r)
}

func TestCountsByKindOutcomeReasonScope(t *testing.T) {
	d, h := counted(t)
	send(h, "GET", "/users/1", "Origin", app)
	send(h, "GET", "/users/1", "Origin", app)
	send(h, "GET", "/users/1", "Origin", evil)
	send(h, "OPTIONS", "/users/1", "Origin", app, "Access-Control-Request-Method", "DELETE")
	send(h, "GET", "/reports", "Origin", app)
	send(h, "GET", "/public", "Origin", evil)
	send(h, "GET", "/users/1")
	got := map[string]uint64{}
	for _, c := range d.Counts() {
		got[fmt.Sprintf("%s %s %s %s", c.Kind, c.Outcome, c.Reason, c.Scope)] = c.N
	}
	want := map[string]uint64{
		"actual allowed allowed service":            2,
		"actual refused origin_denied service":      1,
		"preflight refused method_denied service":   1,
		"actual refused origin_denied GET /reports": 1,
		"actual ignored exempt GET /public":         1,
		"actual ignored no_origin service":          1,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("counts\n got %v\nwant %v", got, want)
	}
	top := d.TopRefused()
	data, _ := json.Marshal(top)
	if len(top) != 2 || top[0].Scope != "service" || top[0].Origins[0].Origin != evil || top[1].Scope != "GET /reports" || top[1].Origins[0].Origin != app {
		t.Errorf("top refused: %s", data)
	}

	// Prometheus sees the same counts, labelled by scope, never by origin.
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(d)
	if n, err := testutil.GatherAndCount(reg, "corsgate_cors_decisions_total"); err != nil || n != len(want) {
		t.Errorf("series: %d, %v", n, err)
	}
	err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP corsgate_cors_refused_origins_tracked Refusals counted by the top refused origins structure, per scope (the origins themselves are in GET /v1/cors/decisions, never in labels).
# TYPE corsgate_cors_refused_origins_tracked counter
corsgate_cors_refused_origins_tracked{scope="GET /reports"} 1
corsgate_cors_refused_origins_tracked{scope="service"} 2
`), "corsgate_cors_refused_origins_tracked")
	if err != nil {
		t.Error(err)
	}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.Contains(l.GetValue(), "example") {
					t.Errorf("a label holds an origin: %s=%s", l.GetName(), l.GetValue())
				}
			}
		}
	}
}

func TestSeries(t *testing.T) {
	d, h := counted(t)
	d.Sample()
	send(h, "GET", "/users/1", "Origin", app)
	send(h, "GET", "/users/1", "Origin", evil)
	send(h, "GET", "/users/1", "Origin", evil)
	d.Sample()
	send(h, "GET", "/users/1", "Origin", app)
	d.Sample()
	send(h, "OPTIONS", "/users/1", "Origin", app, "Access-Control-Request-Method", "DELETE")
	series, step := d.Series()
	if len(series) != 4 || step != metrics.DefaultStep {
		t.Fatalf("series %+v, step %s", series, step)
	}
	if series[1].Allowed != 1 || series[1].Refused["origin_denied"] != 2 || series[2].Allowed != 1 || len(series[2].Refused) != 0 || series[2].Partial {
		t.Errorf("series %+v", series)
	}
	// The step under way shows what just happened.
	if last := series[3]; !last.Partial || last.Refused["method_denied"] != 1 || last.Allowed != 0 {
		t.Errorf("the partial point: %+v", last)
	}
}

// The top refused origins stay in fixed memory whatever is sent, and keep
// the origin a front-end team asks about when it is frequent.
func TestTopKBoundedUnderMillionsOfOrigins(t *testing.T) {
	var tk metrics.TopK
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const n = 1_000_000
	buf := []byte("https://attacker-")
	for i := 0; i < n; i++ {
		// Every origin is new, but one in ten is the frequent one.
		if i%10 == 0 {
			tk.Add("https://spa.example.com", policy.OriginDenied)
			continue
		}
		tk.Add(string(strconv.AppendInt(buf[:17], int64(i), 10))+".example", policy.OriginDenied)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap after %d refusals of distinct origins: %+d bytes; a TopK is %d bytes", n, grown, unsafe.Sizeof(tk))
	if grown > 64<<10 {
		t.Errorf("the heap grew by %d bytes", grown)
	}
	long := strings.Repeat("x", 4096)
	top := tk.Top()
	if len(top) != metrics.K || top[0].Origin != "https://spa.example.com" || top[0].Count < n/10 {
		t.Errorf("top: %+v", top[:2])
	}
	// A long origin is kept cut, and says so.
	tk.Add("https://"+long, policy.OriginMalformed)
	for i := 0; i < 200000; i++ {
		tk.Add("https://"+long[:200], policy.OriginMalformed)
	}
	top = tk.Top()
	if !top[0].Truncated || len(top[0].Origin) != metrics.MaxOriginBytes {
		t.Errorf("long origin: %+v", top[0])
	}
}

// Report-only: the candidate is evaluated on every request and nothing is
// enforced differently.
func TestCandidate(t *testing.T) {
	d, h := counted(t)
	stricter := plugintest.Gateway{
		CORS:      plugintest.Block{"allow_origins": []any{"https://new.example.com"}, "allow_methods": []any{"GET", "PUT"}},
		Endpoints: gateway().Endpoints,
	}
	var logged []string
	d.SetCandidate(metrics.NewCandidate(stricter.Snapshot(t), json.RawMessage(`{"service":{"allow_origins":["https://new.example.com"]}}`), 3, nil, func(s string) { logged = append(logged, s) }))
	r := httptest.NewRequest("GET", "/users/1", nil)
	r.Header.Set("Origin", app)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Header().Get("Access-Control-Allow-Origin") != app {
		t.Errorf("report-only changed the answer: %v", w.Header())
	}
	send(h, "GET", "/users/1", "Origin", "https://new.example.com")
	send(h, "GET", "/reports", "Origin", "https://reports.example.com")
	rep := d.Candidate().Report()
	if !rep.Active || rep.Evaluated != 3 || rep.Differences != 2 || len(rep.Samples) != 2 || len(logged) != 2 {
		t.Fatalf("report %+v, logged %q", rep, logged)
	}
	data, _ := json.Marshal(rep.ByChange)
	if string(data) != `[{"kind":"actual","enforced":"allowed","candidate":"origin_denied","count":1},{"kind":"actual","enforced":"origin_denied","candidate":"allowed","count":1}]` {
		t.Errorf("by change: %s", data)
	}
	if s := rep.Samples[0]; s.Origin != app || s.Enforced != "allowed" || s.Candidate != "origin_denied" || !strings.Contains(s.Reason, "allow_origins") || !strings.Contains(logged[0], "report-only: GET /users/1 from "+app) {
		t.Errorf("sample %+v, logged %q", s, logged[0])
	}
	d.SetCandidate(nil)
	if rep := d.Candidate().Report(); rep.Active {
		t.Errorf("after stopping: %+v", rep)
	}
}

// An allowed origin refused for its method or headers is kept apart from
// the origins refused for themselves, with its kind; each entry says when
// it was first and last refused.
func TestTopRefusedKindsAndTimes(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	clock := t0
	defer metrics.SetClock(func() time.Time { return clock })()
	d, h := counted(t)
	send(h, "GET", "/users/1", "Origin", evil)
	clock = t0.Add(time.Minute)
	send(h, "OPTIONS", "/users/1", "Origin", app, "Access-Control-Request-Method", "DELETE")
	send(h, "OPTIONS", "/users/1", "Origin", app, "Access-Control-Request-Method", "PATCH")
	clock = t0.Add(2 * time.Minute)
	send(h, "GET", "/users/1", "Origin", evil)

	top := d.TopRefused()
	if len(top) != 1 || top[0].Scope != "service" || len(top[0].Origins) != 2 {
		t.Fatalf("top refused: %+v", top)
	}
	o, r := top[0].Origins[0], top[0].Origins[1]
	if o.Origin != evil || o.Kind != "origin" || o.Count != 2 || o.Reason != "origin_denied" || !o.FirstSeen.Equal(t0) || !o.LastSeen.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("the refused origin: %+v", o)
	}
	if r.Origin != app || r.Kind != "request" || r.Count != 2 || r.Reason != "method_denied" || !r.FirstSeen.Equal(t0.Add(time.Minute)) || !r.LastSeen.Equal(t0.Add(time.Minute)) {
		t.Errorf("the allowed origin refused for its method and headers: %+v", r)
	}
}
