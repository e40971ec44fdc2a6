package metrics

import (
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/policy"
)

// maxSamples bounds the differences a Candidate keeps as examples.
const maxSamples = 20

// sampleEvery is the least time between two examples kept (and logged),
// so that a candidate that differs on every request costs little.
const sampleEvery = time.Second

// Candidate is a policy evaluated beside the one in force, on live
// traffic, without changing any answer (report-only mode): each request
// is also decided by the candidate's snapshot, and the requests it would
// decide differently are counted, and sampled with the candidate's reason.
type Candidate struct {
	snap     *core.Snapshot
	layer    json.RawMessage
	revision uint64
	diff     json.RawMessage
	since    time.Time
	log      func(string)

	evaluated   atomic.Uint64
	differences atomic.Uint64
	changes     [numKinds][numReasons][numReasons]atomic.Uint64

	mu         sync.Mutex
	samples    []Sample
	lastSample time.Time
}

// NewCandidate evaluates snap, compiled from layer over the file, beside
// the policy in force, which is revision; diff is what layer changes from
// that revision's layer (shown before the candidate is applied). log,
// when not nil, receives a line for each sampled difference.
func NewCandidate(snap *core.Snapshot, layer json.RawMessage, revision uint64, diff json.RawMessage, log func(string)) *Candidate {
	return &Candidate{snap: snap, layer: layer, revision: revision, diff: diff, since: time.Now().UTC(), log: log}
}

// Layer is the candidate layer, as given.
func (c *Candidate) Layer() json.RawMessage { return c.layer }

// Revision is the revision in force when the candidate was given: the one
// it is judged against, and the one its apply must change.
func (c *Candidate) Revision() uint64 { return c.revision }

// Since is when the evaluation started; it names the candidate.
func (c *Candidate) Since() time.Time { return c.since }

// Sample is one request the candidate would decide differently.
type Sample struct {
	Time      time.Time `json:"time"`
	Method    string    `json:"method"`
	Path      string    `json:"path"`
	Origin    string    `json:"origin"`
	Enforced  string    `json:"enforced"`
	Candidate string    `json:"candidate"`
	// Reason is the candidate's explanation of its decision.
	Reason string `json:"reason"`
}

func (c *Candidate) observe(r *http.Request, enforced policy.Decision) {
	c.evaluated.Add(1)
	sc, cand := c.snap.Decide(r)
	if cand.Reason == enforced.Reason {
		return
	}
	c.differences.Add(1)
	kind := kindActual
	if enforced.Preflight {
		kind = kindPreflight
	}
	c.changes[kind][enforced.Reason][cand.Reason].Add(1)

	now := time.Now()
	c.mu.Lock()
	if len(c.samples) == maxSamples && now.Sub(c.lastSample) < sampleEvery {
		c.mu.Unlock()
		return
	}
	c.lastSample = now
	s := Sample{Time: now.UTC(), Method: r.Method, Path: r.URL.Path, Enforced: enforced.Reason.String(), Candidate: cand.Reason.String()}
	if v := r.Header["Origin"]; len(v) > 0 {
		s.Origin = v[0]
		if len(s.Origin) > MaxOriginBytes {
			s.Origin = s.Origin[:MaxOriginBytes]
		}
	}
	if p := sc.Policy; p != nil {
		s.Reason = p.Text(cand)
	} else {
		s.Reason = cand.Reason.String()
	}
	c.samples = append(c.samples, s)
	if len(c.samples) > maxSamples {
		c.samples = c.samples[1:]
	}
	c.mu.Unlock()
	if c.log != nil {
		c.log("report-only: " + s.Method + " " + s.Path + " from " + s.Origin + ": enforced " + s.Enforced + ", the candidate would answer " + s.Candidate + ": " + s.Reason)
	}
}

// Change counts the requests whose decision would change from Enforced to
// Candidate.
type Change struct {
	Kind      string `json:"kind"`
	Enforced  string `json:"enforced"`
	Candidate string `json:"candidate"`
	Count     uint64 `json:"count"`
}

// Report is what report-only mode found so far.
type Report struct {
	Active bool            `json:"active"`
	Since  *time.Time      `json:"since,omitempty"`
	Layer  json.RawMessage `json:"layer,omitempty"`
	// Revision is the revision the candidate is judged against: an apply
	// sends it as If-Match.
	Revision uint64 `json:"revision,omitempty"`
	// Diff is what the candidate changes from that revision's layer.
	Diff        json.RawMessage `json:"diff,omitempty"`
	Evaluated   uint64          `json:"evaluated"`
	Differences uint64          `json:"differences"`
	ByChange    []Change        `json:"by_change"`
	Samples     []Sample        `json:"samples"`
}

// Report returns what the candidate found; a nil Candidate reports an
// inactive mode.
func (c *Candidate) Report() Report {
	rep := Report{ByChange: []Change{}, Samples: []Sample{}}
	if c == nil {
		return rep
	}
	since := c.since
	rep.Active, rep.Since, rep.Layer, rep.Revision, rep.Diff = true, &since, c.layer, c.revision, c.diff
	rep.Evaluated, rep.Differences = c.evaluated.Load(), c.differences.Load()
	for k := 0; k < numKinds; k++ {
		for e := 0; e < numReasons; e++ {
			for n := 0; n < numReasons; n++ {
				if v := c.changes[k][e][n].Load(); v > 0 {
					rep.ByChange = append(rep.ByChange, Change{Kind: kindNames[k], Enforced: policy.Reason(e).String(), Candidate: policy.Reason(n).String(), Count: v})
				}
			}
		}
	}
	c.mu.Lock()
	rep.Samples = append(rep.Samples, c.samples...)
	c.mu.Unlock()
	return rep
}
