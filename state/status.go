package state

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Status is the state of the run-time configuration, as GET
// /v1/cors/status answers it.
type Status struct {
	// Replica names this gateway in its fleet.
	Replica string `json:"replica"`
	// Revision is the run-time layer's revision (the ETag of the API).
	Revision uint64 `json:"revision"`
	// Applied is the controller's snapshot revision, which also counts
	// file reloads.
	Applied uint64 `json:"applied_snapshot"`
	Store   struct {
		Type string `json:"type"`
		// Path is the embedded store's directory.
		Path string `json:"path,omitempty"`
		// Endpoints and Prefix locate an etcd store.
		Endpoints []string `json:"endpoints,omitempty"`
		Prefix    string   `json:"prefix,omitempty"`
		// Cache is the file of the last applied layer (etcd store).
		Cache string `json:"cache,omitempty"`
		// OK says that the store answers and that its layer is applied.
		OK bool `json:"ok"`
		// Error says why the store cannot be used, or why its layer was
		// not applied.
		Error string `json:"error,omitempty"`
		// UnreachableSince is when the store stopped answering.
		UnreachableSince *time.Time `json:"unreachable_since,omitempty"`
		// Refused is the newest revision of the store that this gateway
		// refused; it keeps applying Revision.
		Refused *Refusal `json:"refused,omitempty"`
	} `json:"store"`
	// ApplyLatency covers the last applies of run-time changes.
	ApplyLatency Latency `json:"apply_latency"`
	File         struct {
		Path string `json:"path"`
		// LastReload is when the file's CORS settings were last applied.
		LastReload *time.Time `json:"last_reload,omitempty"`
		// Error is the last reload's problem, when it was refused.
		Error string `json:"error,omitempty"`
		// RestartRequired lists the changes of the file outside CORS,
		// which only a restart applies.
		RestartRequired []string `json:"restart_required,omitempty"`
		// Masked lists the keys that the file sets and the run-time
		// layer overrides with another value: the file's value does not
		// apply, and editing it changes nothing, until the layer drops
		// the key (or they agree again).
		Masked []KeyDiff `json:"masked,omitempty"`
	} `json:"file"`
}

// Refusal is a revision of the store that did not validate.
type Refusal struct {
	// Revision is 0 when the store's value is not a record at all.
	Revision uint64    `json:"revision"`
	Error    string    `json:"error"`
	Time     time.Time `json:"time"`
}

// message says what a refusal means.
func (r *Refusal) message(kept uint64) string {
	what := "the store's current value"
	if r.Revision != 0 {
		what = fmt.Sprintf("the store's revision %d", r.Revision)
	}
	return fmt.Sprintf("%s was refused, so this gateway keeps revision %d: %s", what, kept, r.Error)
}

// behind is a revision of the store that this gateway does not apply,
// and why: it was refused (it does not validate here), or it was stored
// but could not be applied, or the store did not confirm whether a write
// of this gateway was stored. The next commit, or the next read of the
// store, replaces it.
type behind struct {
	why     behindKind
	refusal Refusal
}

type behindKind int

const (
	refused     behindKind = iota + 1 // does not validate here
	unapplied                         // stored, but the apply failed
	unconfirmed                       // the store did not confirm a write
)

func (b *behind) message(kept uint64) string {
	switch b.why {
	case unapplied:
		return fmt.Sprintf("the store's revision %d was stored but could not be applied, so this gateway keeps revision %d until the next change or read of the store: %s", b.refusal.Revision, kept, b.refusal.Error)
	case unconfirmed:
		return fmt.Sprintf("the store did not confirm revision %d, so this gateway keeps revision %d until the store answers and says whether it holds it: %s", b.refusal.Revision, kept, b.refusal.Error)
	}
	return b.refusal.message(kept)
}

// outage is since when, and why, the store does not answer.
type outage struct {
	since time.Time
	err   error
}

// message says what an outage means.
func (o *outage) message(kept uint64) string {
	return fmt.Sprintf("the store does not answer (since %s), so writes answer 503 and reads may be stale; this gateway keeps serving revision %d: %v", o.since.Format(time.RFC3339), kept, o.err)
}

// condition is everything about the store and the file that the status
// reports and that changes while the gateway runs: one value, replaced
// whole under Manager.mu and read without a lock, so that the status
// never waits for a write and never reconciles several sources.
type condition struct {
	openErr string   // why the store cannot be used; "" when it can
	outage  *outage  // nil while the store answers
	behind  *behind  // nil while the store's revision is the one in force
	file    fileCond // the last reload of the file
}

// fileCond is the last reload of the configuration file.
type fileCond struct {
	lastReload      *time.Time
	err             string
	restartRequired []string
}

// storeError is what the status says about the store: "" when it answers
// and its revision is in force.
func (c *condition) storeError(kept uint64) string {
	switch {
	case c.openErr != "":
		return c.openErr
	case c.outage != nil:
		return c.outage.message(kept)
	case c.behind != nil:
		return c.behind.message(kept)
	}
	return ""
}

// Latency summarises how long applies took, from the write received to
// the new policy in place.
type Latency struct {
	Samples int     `json:"samples"`
	P50ms   float64 `json:"p50_ms"`
	P99ms   float64 `json:"p99_ms"`
}

// maxLatencies bounds the apply latencies kept for the status.
const maxLatencies = 1000

// latencies is a ring of the last apply latencies.
type latencies struct {
	mu   sync.Mutex
	ring []time.Duration
	next int
}

func (l *latencies) record(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ring) < maxLatencies {
		l.ring = append(l.ring, d)
		return
	}
	l.ring[l.next] = d
	l.next = (l.next + 1) % maxLatencies
}

func (l *latencies) summary() Latency {
	l.mu.Lock()
	ds := slices.Clone(l.ring)
	l.mu.Unlock()
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	at := func(q float64) float64 {
		return float64(ds[min(len(ds)-1, int(q*float64(len(ds))))]) / float64(time.Millisecond)
	}
	return Latency{Samples: len(ds), P50ms: at(0.50), P99ms: at(0.99)}
}
