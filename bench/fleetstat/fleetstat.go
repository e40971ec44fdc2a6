// Package fleetstat holds what the fleet measurements share (the
// simulator, cmd/fleetsim, and the real-process run, cmd/fleetscale):
// etcd's request counters read from its /metrics, CPU time from /proc, and
// percentiles.
package fleetstat

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Counts are etcd's request counters: "Method/call" for unary calls
// handled (grpc_server_handled_total), "Method/msg" for messages received
// on a stream (grpc_server_msg_received_total).
type Counts map[string]float64

// Metrics reads etcd's request counters from the /metrics of the etcd
// server at endpoint.
func Metrics(endpoint string) (Counts, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(endpoint + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return ParseMetrics(resp.Body)
}

// ParseMetrics reads the counters from Prometheus' text format.
func ParseMetrics(r io.Reader) (Counts, error) {
	c := Counts{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var suffix string
		switch {
		case strings.HasPrefix(line, "grpc_server_handled_total{") && strings.Contains(line, `grpc_type="unary"`):
			suffix = "/call"
		case strings.HasPrefix(line, "grpc_server_msg_received_total{") && !strings.Contains(line, `grpc_type="unary"`):
			suffix = "/msg"
		default:
			continue
		}
		_, rest, _ := strings.Cut(line, `grpc_method="`)
		method, _, _ := strings.Cut(rest, `"`)
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("etcd's metrics: %q: %v", line, err)
		}
		c[method+suffix] += v
	}
	return c, sc.Err()
}

// Minus returns c - o, without the counters that did not change.
func (c Counts) Minus(o Counts) Counts {
	d := Counts{}
	for k, v := range c {
		if v-o[k] != 0 {
			d[k] = v - o[k]
		}
	}
	return d
}

// writeMethods are etcd's calls that write.
var writeMethods = []string{"Put", "Txn", "DeleteRange", "LeaseGrant", "LeaseRevoke"}

// Writes counts the calls that write: Put, Txn, DeleteRange, LeaseGrant
// and LeaseRevoke.
func (c Counts) Writes() float64 {
	var n float64
	for _, m := range writeMethods {
		n += c[m+"/call"]
	}
	return n
}

// Requests counts every unary call and every message on a stream but the
// lease keep-alives.
func (c Counts) Requests() float64 {
	var n float64
	for k, v := range c {
		if k != "LeaseKeepAlive/msg" {
			n += v
		}
	}
	return n
}

// WriteDetail lists the writes per change, by method, over k changes.
func (c Counts) WriteDetail(k int) string {
	var parts []string
	for _, m := range writeMethods {
		if v := c[m+"/call"]; v != 0 {
			parts = append(parts, fmt.Sprintf("%s %.1f", m, v/float64(k)))
		}
	}
	return strings.Join(parts, ", ")
}

// RequestDetail lists the requests by method, keep-alives left out.
func (c Counts) RequestDetail() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(c)) {
		if k != "LeaseKeepAlive/msg" {
			parts = append(parts, fmt.Sprintf("%s %.0f", k, c[k]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// CPUTime returns the user and system CPU time process pid has used, from
// /proc (0 when it cannot be read).
func CPUTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseUint(f[11], 10, 64)
	stime, _ := strconv.ParseUint(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // clock ticks (USER_HZ, 100 on Linux)
}

// RSS returns the resident set of process pid, from /proc (0 when it
// cannot be read).
func RSS(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

// Pct returns the p-th quantile (0 to 1) of sorted.
func Pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(float64(len(sorted)-1)*p)]
}

// Ms formats d in milliseconds with one decimal, such as "12.3ms".
func Ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + "ms"
}
