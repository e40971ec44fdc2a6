// Command report writes BENCHMARKS.md from the raw outputs of make bench
// and make load: go test -bench output (several runs of every benchmark,
// plus "# key: value" lines about the machine), the behaviour table
// written by TestBehaviour, benchstat's summary, and the wrk outputs of
// load.sh. Every figure in the file comes from those outputs; none is
// written by hand. An input that does not exist yet leaves its section
// out.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/corsgate/corsgate/bench"
)

func main() {
	benchFile := flag.String("bench", "results/bench.txt", "go test -bench output")
	behaviourFile := flag.String("behaviour", "results/behaviour.tsv", "behaviour table written by TestBehaviour")
	benchstatFile := flag.String("benchstat", "results/benchstat.txt", "benchstat output")
	loadFile := flag.String("load", "results/load.txt", "load.sh output")
	runtimeFile := flag.String("runtime", "results/runtime.txt", "runtime.sh output")
	fleetFile := flag.String("fleet", "results/fleet.txt", "fleet.sh output")
	scaleFile := flag.String("fleet-scale", "results/fleet-scale.txt", "fleetscale.sh output")
	scaleBeforeFile := flag.String("fleet-scale-before", "results/fleet-scale-before.txt", "fleetscale.sh output of the revision before issue 19")
	out := flag.String("out", "../BENCHMARKS.md", "file to write")
	flag.Parse()

	var r report
	if err := r.readBench(*benchFile); err != nil {
		fatal(err)
	}
	r.behaviour, _ = readLines(*behaviourFile)
	r.benchstat, _ = os.ReadFile(*benchstatFile)
	r.runtime, _ = readLines(*runtimeFile)
	r.fleet, _ = readLines(*fleetFile)
	r.scale, _ = readLines(*scaleFile)
	r.scaleBefore, _ = readLines(*scaleBeforeFile)
	if err := r.readLoad(*loadFile); err != nil {
		fatal(err)
	}
	var b strings.Builder
	r.write(&b)
	if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
		fatal(err)
	}
	fmt.Println("wrote", *out)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "report:", err)
	os.Exit(1)
}

func readLines(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n"), nil
}

// samples are the measurements of one benchmark, one per run.
type samples struct {
	ns, bytes, allocs []float64
}

type report struct {
	runtime []string // results/runtime.txt
	fleet   []string // results/fleet.txt
	// scale and scaleBefore are results/fleet-scale.txt and
	// results/fleet-scale-before.txt.
	scale, scaleBefore []string
	benchMeta          map[string]string
	benchOrder         []string
	bench              map[string]*samples

	behaviour []string
	benchstat []byte

	loadMeta map[string]string
	loads    []loadRun
}

// readBench parses go test -bench output. Lines "# key: value" carry the
// machine description written by the Makefile.
func (r *report) readBench(path string) error {
	r.benchMeta = map[string]string{}
	r.bench = map[string]*samples{}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if k, v, ok := metaLine(line); ok {
			if _, dup := r.benchMeta[k]; !dup {
				r.benchMeta[k] = v
			}
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 4 {
			continue
		}
		name := trimProcs(fields[0])
		s := r.bench[name]
		if s == nil {
			s = &samples{}
			r.bench[name] = s
			r.benchOrder = append(r.benchOrder, name)
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			switch fields[i+1] {
			case "ns/op":
				s.ns = append(s.ns, v)
			case "B/op":
				s.bytes = append(s.bytes, v)
			case "allocs/op":
				s.allocs = append(s.allocs, v)
			}
		}
	}
	return sc.Err()
}

// metaLine reads "# key: value" and go test's "cpu: ..." style headers.
func metaLine(line string) (string, string, bool) {
	if strings.HasPrefix(line, "# ") {
		k, v, ok := strings.Cut(line[2:], ": ")
		return strings.TrimSpace(k), strings.TrimSpace(v), ok
	}
	for _, k := range []string{"goos", "goarch", "pkg", "cpu"} {
		if strings.HasPrefix(line, k+": ") {
			return k, strings.TrimSpace(line[len(k)+2:]), true
		}
	}
	return "", "", false
}

// trimProcs removes the -GOMAXPROCS suffix of a benchmark name.
func trimProcs(name string) string {
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			return name[:i]
		}
	}
	return name
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// spread is the median absolute deviation of the runs, as a fraction of
// the median: unlike the range, one run disturbed by another process on
// the machine does not inflate it.
func spread(v []float64) float64 {
	m := median(v)
	if len(v) == 0 || m == 0 {
		return 0
	}
	dev := make([]float64, len(v))
	for i, x := range v {
		dev[i] = math.Abs(x - m)
	}
	return median(dev) / m
}

// disturbed counts the runs more than 25% slower than the median.
func disturbed(v []float64) int {
	m, n := median(v), 0
	for _, x := range v {
		if x > 1.25*m {
			n++
		}
	}
	return n
}

// peerHeader writes the header of a table with a path column, one column
// per peer, and the extra columns (with their alignment rows).
func peerHeader(p func(string, ...any), extra, align []string) {
	p("| path |")
	for _, peer := range bench.Peers {
		p(" %s |", peer.Name)
	}
	for _, e := range extra {
		p(" %s |", e)
	}
	p("\n|---|")
	for range bench.Peers {
		p("---:|")
	}
	for _, a := range align {
		p("%s|", a)
	}
	p("\n")
}

// peerCells writes one cell per peer for path: cell's text, or "–" when
// the peer has no measurement.
func (r *report) peerCells(p func(string, ...any), path string, cell func(peer string, s *samples) string) {
	for _, peer := range bench.Peers {
		s, ok := r.get(pathsName(path, peer.Name))
		if !ok {
			p(" – |")
			continue
		}
		p(" %s |", cell(peer.Name, s))
	}
}

func (r *report) get(name string) (*samples, bool) {
	s, ok := r.bench[name]
	return s, ok && len(s.ns) > 0
}

func fmtNs(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case v >= 100000:
		return fmt.Sprintf("%.0f µs", v/1000)
	case v >= 10000:
		return fmt.Sprintf("%.1f µs", v/1000)
	case v >= 100:
		return fmt.Sprintf("%.0f ns", v)
	}
	return fmt.Sprintf("%.1f ns", v)
}

func fmtRatio(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	if v >= 100 {
		return fmt.Sprintf("%.0f×", v)
	}
	return fmt.Sprintf("%.2f×", v)
}

func (r *report) write(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("# Benchmarks\n\n")
	p("Generated by `make bench` and `make load` (bench/cmd/report); every figure below is parsed from the raw outputs in `bench/results/`. Do not edit by hand: rerun the targets.\n\n")
	if len(r.bench) > 0 {
		r.writeMachine(w, r.benchMeta, "## Machine (make bench)")
		r.writeGoals(w)
		r.writePaths(w)
		r.writeScale(w)
		r.writeBehaviour(w)
		r.writePeers(w)
	}
	if len(r.loads) > 0 {
		r.writeLoad(w)
	}
	if len(r.runtime) > 0 {
		r.writeRuntime(w)
	}
	if len(r.fleet) > 0 {
		r.writeFleet(w)
	}
	if len(r.scale) > 0 {
		r.writeFleetScale(w)
	}
	if len(r.benchstat) > 0 {
		p("## Appendix: benchstat\n\n")
		p("benchstat's summary of the same runs (`benchstat -col /peer`: every column is compared with corsgate, the first one; `~` means no significant difference).\n\n")
		p("<details><summary>benchstat output</summary>\n\n```\n%s```\n\n</details>\n", strings.TrimLeft(string(r.benchstat), "\n"))
	}
}

func (r *report) writeMachine(w io.Writer, meta map[string]string, heading string) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("%s\n\n", heading)
	p("| | |\n|---|---|\n")
	for _, k := range []string{"date", "cpu-model", "cores", "go", "goos", "goarch", "corsgate-revision", "command", "runs"} {
		if v, ok := meta[k]; ok {
			p("| %s | %s |\n", k, strings.ReplaceAll(v, "|", "\\|"))
		}
	}
	p("\n")
}

func pathsName(path, peer string) string { return "BenchmarkPaths/path=" + path + "/peer=" + peer }

func scaleName(scale, path, peer string) string {
	return "BenchmarkScale/origins=" + scale + "/path=" + path + "/peer=" + peer
}

func (r *report) ns(name string) float64 {
	if s, ok := r.get(name); ok {
		return median(s.ns)
	}
	return math.NaN()
}

// competitors are the peers that are CORS layers (not the floor).
func competitors() []bench.Peer {
	var out []bench.Peer
	for _, p := range bench.Peers {
		// corsgate-writetime and corsgate-metrics are corsgate itself, in
		// its other mode and with its counters.
		if !strings.HasPrefix(p.Name, "corsgate") && p.Name != "floor" {
			out = append(out, p)
		}
	}
	return out
}

// fastest returns the fastest competitor on a path, leaving out figures
// that measure a known deviation.
func (r *report) fastest(name func(peer string) string, path string) (string, float64) {
	best, bestNs := "", math.Inf(1)
	for _, peer := range competitors() {
		if _, dev := bench.KnownDeviation(peer.Name, path); dev {
			continue
		}
		if v := r.ns(name(peer.Name)); v < bestNs {
			best, bestNs = peer.Name, v
		}
	}
	return best, bestNs
}

func (r *report) writeGoals(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("## Goals\n\n| goal | measured | met |\n|---|---|---|\n")
	for _, path := range []string{"actual_allowed", "preflight_allowed"} {
		small := r.ns(scaleName("exact-10", path, "corsgate"))
		large := r.ns(scaleName("exact-100000", path, "corsgate"))
		ratio := large / small
		p("| corsgate, %s: 100,000 exact origins within 1.3× of 10 | %s vs %s = %s | %s |\n",
			path, fmtNs(large), fmtNs(small), fmtRatio(ratio), yesNo(ratio <= 1.3))
	}
	small := r.ns("BenchmarkMatch/origins=exact-10/case=hit")
	large := r.ns("BenchmarkMatch/origins=exact-100000/case=hit")
	p("| origin matcher alone: 100,000 exact origins within 1.3× of 10 | %s vs %s = %s | %s |\n",
		fmtNs(large), fmtNs(small), fmtRatio(large/small), yesNo(large/small <= 1.3))
	if ratios := r.pairRatios("corsgate-cors-on", "corsgate-cors-off", "actual"); len(ratios) > 0 {
		m := median(ratios)
		p("| load: actual requests with CORS on ≥ 95%% of CORS off (requests/s, median of the per-repetition ratios) | %.1f%% (repetitions: %s) | %s |\n",
			100*m, pctList(ratios), yesNo(m >= 0.95))
	}
	p("\n")
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func (r *report) writePaths(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	paths := bench.Paths()
	p("## Per path: the same engine and requests through each CORS layer\n\n")
	total, slow := 0, 0
	for _, s := range r.bench {
		total += len(s.ns)
		slow += disturbed(s.ns)
	}
	p("Median of %s runs; ± is the median absolute deviation of the runs. The machine is shared: %d of %d measurements were more than 25%% slower than their benchmark's median (another process took the CPU); the median is robust to a few of them, and every run is in bench/results/bench.txt. The ratio in brackets is the peer's time over corsgate's (above 1: corsgate is faster). `floor` is the engine without a CORS layer.\n\n", r.runs(), slow, total)
	p("Policy: allow_origins [%s], allow_methods %v, allow_headers Content-Type, X-Api-Key and %d more; no credentials. Requests go to /users/42 (a GET/POST/PUT/DELETE route). Preflights ask for PUT with `Access-Control-Request-Headers: %s`; the long one with the %d names, lower case and sorted as browsers send them. Refused requests come from %s.\n\n",
		bench.AppOrigin, bench.Methods, len(bench.LongHeaders), bench.ShortACRH, len(bench.LongHeaders), bench.DeniedOrigin)

	p("### ns/op\n\n")
	peerHeader(p, []string{"fastest CORS peer", "corsgate ÷ fastest"}, []string{"---", "---:"})
	for _, c := range paths {
		base := r.ns(pathsName(c.Name, "corsgate"))
		p("| %s |", c.Name)
		r.peerCells(p, c.Name, func(peer string, s *samples) string {
			m := median(s.ns)
			cell := fmt.Sprintf("%s ±%.0f%%", fmtNs(m), 100*spread(s.ns))
			if peer != "corsgate" {
				cell += " (" + fmtRatio(m/base) + ")"
			}
			if _, dev := bench.KnownDeviation(peer, c.Name); dev {
				cell += " †"
			}
			return cell
		})
		best, bestNs := r.fastest(func(peer string) string { return pathsName(c.Name, peer) }, c.Name)
		p(" %s | %s |\n", best, fmtRatio(base/bestNs))
	}
	p("\n† measures a refusal where the policy allows the request: see the behaviour table.\n\n")

	p("### B/op and allocs/op\n\n")
	peerHeader(p, nil, nil)
	for _, c := range paths {
		p("| %s |", c.Name)
		r.peerCells(p, c.Name, func(_ string, s *samples) string {
			return fmt.Sprintf("%.0f B, %.0f allocs", median(s.bytes), median(s.allocs))
		})
		p("\n")
	}
	p("\n")

	// Where corsgate is slower than a peer: listed, not hidden.
	var slower []string
	for _, c := range paths {
		base := r.ns(pathsName(c.Name, "corsgate"))
		for _, peer := range competitors() {
			if _, dev := bench.KnownDeviation(peer.Name, c.Name); dev {
				continue
			}
			if v := r.ns(pathsName(c.Name, peer.Name)); v < base {
				slower = append(slower, fmt.Sprintf("- %s: %s takes %s, corsgate %s (corsgate %s slower)", c.Name, peer.Name, fmtNs(v), fmtNs(base), pct(base/v-1)))
			}
		}
	}
	p("### Where corsgate is slower than a peer\n\n")
	p("Read this list with the behaviour table below: a peer that does less on a path is cheaper there (gin-contrib-cors answers a refused actual request with 403 without running the route and sets no Vary on requests without Origin; jub0bs-cors answers a refused preflight with a bare 403 and sets no Vary on preflights).\n\n")
	if len(slower) == 0 {
		p("Nowhere: corsgate is the fastest CORS layer on every path.\n\n")
	} else {
		p("%s\n\n", strings.Join(slower, "\n"))
	}
}

func pct(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) }

func (r *report) runs() string {
	n := 0
	for _, s := range r.bench {
		n = max(n, len(s.ns))
	}
	return strconv.Itoa(n)
}

func (r *report) writeScale(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("## Scale: long origin lists\n\n")
	p("The same policy with allow_origins replaced by 10, 1,000 or 100,000 exact origins (`https://siteNNNNNN.example.com`) or 1,000 subdomain patterns (`https://*.xN.example.com`). The allowed request comes from an origin listed second to last (for the patterns: `https://app.x998.example.com`); the refused one from %s. Median ns/op; the ratio in brackets is the peer's time over corsgate's.\n\n", bench.DeniedOrigin)
	p("| origins | path |")
	for _, peer := range bench.Peers {
		if peer.Name != "floor" {
			p(" %s |", peer.Name)
		}
	}
	p("\n|---|---|")
	for _, peer := range bench.Peers {
		if peer.Name != "floor" {
			p("---:|")
		}
	}
	p("\n")
	for _, s := range bench.Scales() {
		for _, c := range bench.ScalePaths(s) {
			base := r.ns(scaleName(s.Name, c.Name, "corsgate"))
			p("| %s | %s |", s.Name, c.Name)
			for _, peer := range bench.Peers {
				if peer.Name == "floor" {
					continue
				}
				v := r.ns(scaleName(s.Name, c.Name, peer.Name))
				cell := fmtNs(v)
				if peer.Name != "corsgate" {
					cell += " (" + fmtRatio(v/base) + ")"
				}
				if _, dev := bench.KnownDeviation(peer.Name, c.Name); dev {
					cell += " †"
				}
				p(" %s |", cell)
			}
			p("\n")
		}
	}
	p("\n† measures a refusal (see the behaviour table).\n\n")

	p("corsgate's cost at each scale, relative to 10 exact origins:\n\n| origins | actual_allowed | preflight_allowed | actual_refused | matcher alone, hit | matcher alone, miss |\n|---|---:|---:|---:|---:|---:|\n")
	for _, s := range bench.Scales() {
		p("| %s |", s.Name)
		for _, path := range []string{"actual_allowed", "preflight_allowed", "actual_refused"} {
			v, ref := r.ns(scaleName(s.Name, path, "corsgate")), r.ns(scaleName("exact-10", path, "corsgate"))
			p(" %s (%s) |", fmtNs(v), fmtRatio(v/ref))
		}
		for _, c := range []string{"hit", "miss"} {
			v := r.ns("BenchmarkMatch/origins=" + s.Name + "/case=" + c)
			ref := r.ns("BenchmarkMatch/origins=exact-10/case=" + c)
			p(" %s (%s) |", fmtNs(v), fmtRatio(v/ref))
		}
		p("\n")
	}
	p("\n")
}

func (r *report) writeBehaviour(w io.Writer) {
	if len(r.behaviour) < 2 {
		return
	}
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("## What each peer answered\n\n")
	p("Recorded by TestBehaviour with the benchmark's policy and requests (status, Access-Control-Allow-Origin, Vary, and whether the route handler ran). Access-Control-Allow-Headers is left out for width.\n\n")
	p("| path | peer | status | Access-Control-Allow-Origin | Vary | route handler ran |\n|---|---|---:|---|---|---|\n")
	for _, line := range r.behaviour[1:] {
		f := strings.Split(line, "\t")
		if len(f) < 7 {
			continue
		}
		p("| %s | %s | %s | %s | %s | %s |\n", f[0], f[1], f[2], orDash(f[3]), orDash(f[5]), f[6])
	}
	p("\n")
	for _, c := range bench.Paths() {
		for _, peer := range bench.Peers {
			if d, ok := bench.KnownDeviation(peer.Name, c.Name); ok {
				p("- † %s / %s: %s.\n", c.Name, peer.Name, d)
			}
		}
	}
	p("\n")
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return "`" + s + "`"
}

func (r *report) writePeers(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("## How each peer is set up\n\n| peer | module | wiring and differences |\n|---|---|---|\n")
	for _, peer := range bench.Peers {
		p("| %s | %s | %s |\n", peer.Name, peer.Module, peer.Wiring)
	}
	p("\n")
}

// loadRun is one wrk run of load.sh.
type loadRun struct {
	scenario, kind string
	rep            int
	reqPerSec      float64
	p50, p99       float64 // seconds
	requests       float64
	non2xx         float64
	errors         string
	backendDelta   float64
	cpuSeconds     float64 // the gateway's CPU time during the run
}

// cpuPerRequest is the gateway's CPU time per request, in seconds.
func (l loadRun) cpuPerRequest() float64 {
	if l.requests == 0 {
		return math.NaN()
	}
	return l.cpuSeconds / l.requests
}

func (r *report) readLoad(path string) error {
	r.loadMeta = map[string]string{}
	lines, err := readLines(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var cur *loadRun
	for _, line := range lines {
		t := strings.TrimSpace(line)
		if k, v, ok := metaLine(line); ok && cur == nil {
			r.loadMeta[k] = v
			continue
		}
		switch {
		case strings.HasPrefix(t, "=== run "):
			kv := fields(t[len("=== run "):])
			cur = &loadRun{scenario: kv["scenario"], kind: kv["kind"]}
			cur.rep, _ = strconv.Atoi(kv["rep"])
			cur.backendDelta = -atof(kv["backend_before"])
			cur.cpuSeconds = -atof(kv["cpu_before"])
		case strings.HasPrefix(t, "=== end ") && cur != nil:
			kv := fields(t[len("=== end "):])
			cur.backendDelta += atof(kv["backend_after"])
			if tck := atof(kv["clk_tck"]); tck > 0 {
				cur.cpuSeconds = (cur.cpuSeconds + atof(kv["cpu_after"])) / tck
			} else {
				cur.cpuSeconds = math.NaN()
			}
			r.loads = append(r.loads, *cur)
			cur = nil
		case cur == nil:
		case strings.HasPrefix(t, "Requests/sec:"):
			cur.reqPerSec = atof(strings.TrimSpace(strings.TrimPrefix(t, "Requests/sec:")))
		case strings.HasPrefix(t, "50%"):
			cur.p50 = duration(strings.Fields(t)[1])
		case strings.HasPrefix(t, "99%"):
			cur.p99 = duration(strings.Fields(t)[1])
		case strings.HasPrefix(t, "Non-2xx or 3xx responses:"):
			cur.non2xx = atof(strings.TrimSpace(strings.TrimPrefix(t, "Non-2xx or 3xx responses:")))
		case strings.HasPrefix(t, "Socket errors:"):
			cur.errors = strings.TrimSpace(strings.TrimPrefix(t, "Socket errors:"))
		case strings.Contains(t, " requests in "):
			cur.requests = atof(strings.Fields(t)[0])
		}
	}
	return nil
}

func fields(s string) map[string]string {
	m := map[string]string{}
	for _, f := range strings.Fields(s) {
		if k, v, ok := strings.Cut(f, "="); ok {
			m[k] = v
		}
	}
	return m
}

func atof(s string) float64 {
	v, _ := strconv.ParseFloat(s, 64)
	return v
}

// duration parses wrk's latency figures: 1.23ms, 456.00us, 1.02s, 2.00m.
func duration(s string) float64 {
	for _, u := range []struct {
		suffix string
		scale  float64
	}{{"us", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"m", 60}} {
		if strings.HasSuffix(s, u.suffix) {
			return atof(strings.TrimSuffix(s, u.suffix)) * u.scale
		}
	}
	return atof(s)
}

func (r *report) loadRuns(scenario, kind string) []loadRun {
	var out []loadRun
	for _, l := range r.loads {
		if l.scenario == scenario && l.kind == kind {
			out = append(out, l)
		}
	}
	return out
}

func collect(runs []loadRun, f func(loadRun) float64) []float64 {
	out := make([]float64, len(runs))
	for i, l := range runs {
		out[i] = f(l)
	}
	return out
}

// pairRatios returns, for every repetition that ran both scenarios, a's
// requests/s over b's.
func (r *report) pairRatios(a, b, kind string) []float64 {
	return r.pairs(a, b, kind, func(l loadRun) float64 { return l.reqPerSec })
}

func (r *report) pairs(a, b, kind string, f func(loadRun) float64) []float64 {
	var out []float64
	for _, la := range r.loadRuns(a, kind) {
		for _, lb := range r.loadRuns(b, kind) {
			if la.rep == lb.rep && f(lb) > 0 {
				out = append(out, f(la)/f(lb))
			}
		}
	}
	return out
}

func pctList(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.0f%%", 100*x)
	}
	return strings.Join(s, ", ")
}

func (r *report) writeLoad(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("## Load: the real binaries under wrk\n\n")
	r.writeMachine(w, r.loadMeta, "### Machine (make load)")
	p("wrk %s against each gateway on 127.0.0.1, all in one run of bench/load.sh, scenarios interleaved repetition by repetition. The gateways proxy GET /users/{id} to bench/cmd/loadbackend (no-op encoding, access log off), which counts the requests it receives. `corsgate-cors-on` and `corsgate-cors-off` are `corsgate run` with and without the security/cors block; `krakendce` is bench/cmd/krakendce, lura's gin router behind krakend-cors wired as KrakenD CE wires it, with the same policy under security/cors. Preflights are OPTIONS with Origin and Access-Control-Request-Method: PUT (bench/wrk/preflight.lua); actual requests are GET with Origin (bench/wrk/actual.lua). wrk, the gateway and the backend share the 2 cores, so absolute figures are low and noisy: compare the ratios.\n\n", r.loadMeta["wrk-args"])
	type row struct{ scenario, kind string }
	var rows []row
	for _, l := range r.loads {
		k := row{l.scenario, l.kind}
		if !slices.Contains(rows, k) {
			rows = append(rows, k)
		}
	}
	p("| gateway | requests | runs | requests/s (median) | requests/s per run | p50 (median) | p99 (median) | p99 per run | gateway CPU per request (median) | non-2xx | backend hits during the runs |\n|---|---|---:|---:|---|---:|---:|---|---:|---:|---:|\n")
	for _, k := range rows {
		runs := r.loadRuns(k.scenario, k.kind)
		rps := collect(runs, func(l loadRun) float64 { return l.reqPerSec })
		p99 := collect(runs, func(l loadRun) float64 { return l.p99 })
		var rpsS, p99S []string
		var non2xx, hits float64
		for _, l := range runs {
			rpsS = append(rpsS, fmt.Sprintf("%.0f", l.reqPerSec))
			p99S = append(p99S, fmtSec(l.p99))
			non2xx += l.non2xx
			hits += l.backendDelta
		}
		p("| %s | %s | %d | %.0f | %s | %s | %s | %s | %s | %.0f | %.0f |\n", k.scenario, k.kind, len(runs), median(rps), strings.Join(rpsS, ", "),
			fmtSec(median(collect(runs, func(l loadRun) float64 { return l.p50 }))), fmtSec(median(p99)), strings.Join(p99S, ", "),
			fmtSec(median(collect(runs, loadRun.cpuPerRequest))), non2xx, hits)
	}
	p("\n### Ratios\n\nEach ratio is taken within one repetition (the two runs were a few seconds apart), then the median over the repetitions is shown; the per-repetition figures show the noise.\n\n| comparison | requests/s (median) | requests/s per repetition | p99 latency (median) | p99 per repetition | gateway CPU per request (median) | CPU per repetition | goal |\n|---|---:|---|---:|---|---:|---|---|\n")
	cmp := func(label, a, b, kind, goal string, ok func(rps float64) bool) {
		rps := r.pairRatios(a, b, kind)
		lat := r.pairs(a, b, kind, func(l loadRun) float64 { return l.p99 })
		if len(rps) == 0 {
			return
		}
		g := goal
		if ok != nil {
			g += " — " + yesNo(ok(median(rps)))
		}
		cpu := r.pairs(a, b, kind, loadRun.cpuPerRequest)
		ratios := func(v []float64) string {
			s := make([]string, len(v))
			for i, x := range v {
				s[i] = fmtRatio(x)
			}
			return strings.Join(s, ", ")
		}
		p("| %s | %s | %s | %s | %s | %s | %s | %s |\n", label, pct(median(rps)), pctList(rps), fmtRatio(median(lat)), ratios(lat), fmtRatio(median(cpu)), ratios(cpu), g)
	}
	cmp("corsgate actual requests, CORS on ÷ CORS off", "corsgate-cors-on", "corsgate-cors-off", "actual", "≥ 95% requests/s", func(v float64) bool { return v >= 0.95 })
	cmp("corsgate ÷ krakendce, actual requests", "corsgate-cors-on", "krakendce", "actual", "", nil)
	cmp("corsgate ÷ krakendce, preflights", "corsgate-cors-on", "krakendce", "preflight", "", nil)
	p("\nrequests/s: above 100%% the first gateway served more; p99 and CPU: below 1× the first gateway's p99 latency, or its CPU time per request (user + system, from /proc/PID/stat), is lower. CPU time per request depends much less on what else runs on the machine than requests/s does.\n\n")

	var pre []string
	ok := true
	for _, l := range r.loads {
		if l.kind == "preflight" {
			pre = append(pre, fmt.Sprintf("%s run %d: %.0f preflights, backend +%.0f", l.scenario, l.rep, l.requests, l.backendDelta))
			ok = ok && l.backendDelta == 0
		}
	}
	if len(pre) > 0 {
		verdict := "No preflight reached the backend: its counter did not move during any preflight run."
		if !ok {
			verdict = "**Some preflight runs moved the backend's counter**: see the figures."
		}
		p("### Preflights never reach the backend\n\n%s\n\n%s\n\n", verdict, "- "+strings.Join(pre, "\n- "))
	}
}

func fmtSec(s float64) string {
	switch {
	case math.IsNaN(s):
		return "–"
	case s >= 1:
		return fmt.Sprintf("%.2f s", s)
	case s >= 1e-3:
		return fmt.Sprintf("%.2f ms", s*1e3)
	}
	return fmt.Sprintf("%.0f µs", s*1e6)
}

// writeRuntime is the section of make load-runtime: wrk against corsgate
// while the admin API applies changes, and without.
func (r *report) writeRuntime(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("## Run-time changes under load (make load-runtime)\n\n")
	p("bench/runtime.sh: wrk against `corsgate run` (GET from two origins in turn, `wrk/mixed.lua`), once without changes and once while the admin API applies a new policy about 10 times a second, interleaved. The gateway's CPU time per request (user + system, from /proc) decides; requests/s swings on 2 shared cores. A mixed answer is one whose allowed origin and exposed header belong to two different policies.\n\n")
	writeRuns(w, r.runtime, "| repetition | changes | requests | requests/s | CPU µs per request | non-2xx | mixed | changes applied |\n|---|---|---:|---:|---:|---:|---:|---:|")
}

// writeRuns writes the "#" lines of a load script's output as a list and
// its other lines as the rows of a table under header.
func writeRuns(w io.Writer, lines []string, header string) {
	var rows, notes []string
	for _, line := range lines {
		switch {
		case strings.HasPrefix(line, "# run "):
		case strings.HasPrefix(line, "#"):
			notes = append(notes, strings.TrimSpace(strings.TrimPrefix(line, "#")))
		case strings.TrimSpace(line) != "":
			rows = append(rows, line)
		}
	}
	for _, n := range notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
	fmt.Fprintf(w, "\n%s\n", header)
	for _, row := range rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(strings.Fields(row), " | "))
	}
	fmt.Fprintf(w, "\n")
}

// writeFleet is the section of make load-fleet: convergence between three
// replicas sharing etcd, and wrk against all three with and without
// changes.
func (r *report) writeFleet(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("## A fleet of three replicas sharing etcd (make load-fleet)\n\n")
	p("bench/fleet.sh: a real etcd and three `corsgate run` processes of one configuration file on loopback. Convergence comes from the e2e test TestFleet/Convergence: after each of 200 changes made on replica 1, the time until a preflight on replicas 2 and 3 follows it. The load runs wrk against the three replicas at once, without changes and while cmd/changer applies a new policy 10 times a second through the replicas in turn (PUT with If-Match), interleaved; each replica's CPU time per request (user + system, from /proc) decides.\n\n")
	writeRuns(w, r.fleet, "| repetition | changes | replica | requests | requests/s | CPU µs per request | non-2xx | mixed | changes applied |\n|---|---|---|---:|---:|---:|---:|---:|---:|")
}

// scaleRun is one run of fleetscale.sh: its summary line, "replicas=…
// changes=…", or why it did not complete.
type scaleRun struct {
	real   bool // fleetscale (processes), not fleetsim
	fields map[string]string
	failed string // the run's last line, when it printed no summary
}

// scaleRuns reads the runs of a fleetscale.sh output, and its "# key:
// value" lines.
func scaleRuns(lines []string) (runs []scaleRun, meta []string) {
	var cur *scaleRun // the run under way, until its summary
	var last string
	end := func() {
		if cur != nil {
			cur.failed = last
			runs = append(runs, *cur)
			cur = nil
		}
	}
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "# run: "):
			end()
			cur = &scaleRun{real: strings.HasPrefix(l, "# run: fleetscale"), fields: map[string]string{}}
			if f := strings.Fields(l); len(f) > 4 {
				cur.fields["replicas"] = f[4] // "# run: fleetsim -replicas M" or "fleetscale -n N"
			}
		case strings.HasPrefix(l, "# "):
			meta = append(meta, strings.TrimPrefix(l, "# "))
		case strings.HasPrefix(l, "replicas="):
			r := scaleRun{fields: map[string]string{}}
			if cur != nil {
				r.real = cur.real
				if v, ok := cur.fields["cpu_per_apply"]; ok {
					r.fields["cpu_per_apply"] = v
				}
			}
			for _, kv := range strings.Fields(l) {
				k, v, _ := strings.Cut(kv, "=")
				r.fields[k] = v
			}
			runs = append(runs, r)
			cur = nil
		case strings.TrimSpace(l) != "":
			last = l
			// Older summaries lack cpu_per_apply; the simulator's log has it.
			if i := strings.Index(l, " µs per replica)"); cur != nil && i > 0 {
				if j := strings.LastIndexByte(l[:i], '('); j >= 0 {
					if us, err := strconv.ParseFloat(l[j+1:i], 64); err == nil {
						cur.fields["cpu_per_apply"] = strconv.FormatFloat(us/1000, 'f', 1, 64) + "ms"
					}
				}
			}
		}
	}
	end()
	return runs, meta
}

// ms reads a figure such as "12.3ms" (NaN when it is not one).
func msOf(v string) float64 {
	f, err := strconv.ParseFloat(strings.TrimSuffix(v, "ms"), 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// writeScaleTable writes the runs of one fleetscale.sh output.
func writeScaleTable(w io.Writer, runs []scaleRun) {
	fmt.Fprintf(w, "| run | replicas | changes | p50 | p99 | max | idle etcd requests/s per replica | etcd writes per change | CPU per change per replica | write accepted after etcd is back | resync | errors |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range runs {
		kind := "simulated"
		if r.real {
			kind = "processes"
		}
		f := r.fields
		if r.failed != "" {
			fmt.Fprintf(w, "| %s | %s | did not complete: %s |||||||||\n", kind, f["replicas"], strings.ReplaceAll(r.failed, "|", "\\|"))
			continue
		}
		dash := func(k string) string {
			if v, ok := f[k]; ok {
				return v
			}
			return "—"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", kind, f["replicas"], f["changes"], f["p50"], f["p99"], f["max"], f["idle_etcd_rps"], f["per_change_etcd_writes"], dash("cpu_per_apply"), dash("write_accepted"), f["resync"], f["errors"])
	}
	fmt.Fprintln(w)
}

// writeFleetScale is the section of make load-fleet-scale: the simulator
// at several sizes and a fleet of real processes, against issue 19's
// goals, and the same runs of the revision before it when kept.
func (r *report) writeFleetScale(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	runs, meta := scaleRuns(r.scale)
	p("## Fleet scale (make load-fleet-scale)\n\n")
	p("bench/fleetscale.sh. *Simulated*: cmd/fleetsim runs the replicas' store and follow code (store.OpenEtcd, state.New, Manager.Run, each with its own etcd client, state directory and CORS controller) in one process against one real etcd, with the HTTP listeners left out; the state directories are in /dev/shm, since a thousand replicas writing one disk's journal would measure the disk. *Processes*: cmd/fleetscale runs real `corsgate run` processes. Each run makes its changes through replica 1 (100 origins each), one at a time; convergence is the time from the write to each replica applying it (every replica × every change). Idle load is etcd's requests (from its /metrics: unary calls and watch-stream messages, lease keep-alives apart) over a minute without changes. Resync: etcd killed, down 3 s, started again; from its being healthy to a write through replica 1 accepted, and to every replica applying it. The whole machine (etcd included) is shared by every replica, so CPU-bound figures grow with the fleet's size here, not in a real fleet.\n\n")
	for _, m := range meta {
		p("- %s\n", m)
	}
	p("\n")
	writeScaleTable(w, runs)
	// Issue 19's goals, checked against the figures above.
	type goal struct {
		what, want string
		ok         func(scaleRun) bool
		real       bool
		replicas   string
	}
	num := func(v string) float64 {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return math.NaN()
		}
		return f
	}
	goals := []goal{
		{"convergence p99", "≤ 250 ms", func(s scaleRun) bool { return msOf(s.fields["p99"]) <= 250 }, false, "1000"},
		{"idle etcd load per replica", "≤ 0.1 requests/s", func(s scaleRun) bool { return num(s.fields["idle_etcd_rps"]) <= 0.1 }, false, "1000"},
		{"etcd writes per change", "≤ replicas + 3", func(s scaleRun) bool {
			return num(s.fields["per_change_etcd_writes"]) <= num(s.fields["replicas"])+3
		}, false, "1000"},
		{"resync after etcd is healthy", "≤ 1 s", func(s scaleRun) bool { return msOf(s.fields["resync"]) <= 1000 }, false, "1000"},
		{"errors", "0", func(s scaleRun) bool { return s.fields["errors"] == "0" }, false, "1000"},
		{"convergence p99", "≤ 100 ms", func(s scaleRun) bool { return msOf(s.fields["p99"]) <= 100 }, true, ""},
		{"write accepted after etcd is healthy", "≤ 1 s", func(s scaleRun) bool { return msOf(s.fields["write_accepted"]) <= 1000 }, true, ""},
	}
	p("| goal (issue 19) | run | wanted | measured | met |\n|---|---|---|---|---|\n")
	for _, g := range goals {
		for _, s := range runs {
			if s.real != g.real || (g.replicas != "" && s.fields["replicas"] != g.replicas) {
				continue
			}
			kind := "simulated, " + s.fields["replicas"] + " replicas"
			if s.real {
				kind = s.fields["replicas"] + " processes"
			}
			if s.failed != "" {
				p("| %s | %s | %s | did not complete | no |\n", g.what, kind, g.want)
				continue
			}
			measured := map[string]string{"convergence p99": s.fields["p99"], "idle etcd load per replica": s.fields["idle_etcd_rps"], "etcd writes per change": s.fields["per_change_etcd_writes"],
				"resync after etcd is healthy": s.fields["resync"], "errors": s.fields["errors"], "write accepted after etcd is healthy": s.fields["write_accepted"]}[g.what]
			met := "no"
			if g.ok(s) {
				met = "yes"
			}
			p("| %s | %s | %s | %s | %s |\n", g.what, kind, g.want, measured, met)
		}
	}
	p("\n")
	if before, bmeta := scaleRuns(r.scaleBefore); len(before) > 0 {
		p("The same runs before issue 19's changes (results/fleet-scale-before.txt):\n\n")
		for _, m := range bmeta {
			p("- %s\n", m)
		}
		p("\n")
		writeScaleTable(w, before)
	}
	p("<details><summary>The runs' logs</summary>\n\n```\n%s\n```\n\n</details>\n\n", strings.Join(r.scale, "\n"))
}
