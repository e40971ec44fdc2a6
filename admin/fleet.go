package admin

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/corsgate/corsgate/store"
)

// StaleHeader is set on the answers of reads while the store does not
// answer: what they show is the last state this gateway applied, and the
// fleet may have moved on. Its value says since when. The standard
// Warning: 110 header is set too.
const StaleHeader = "X-Corsgate-Stale"

// markStale sets the stale headers on a read's answer while the store
// does not answer.
func (s *Server) markStale(w http.ResponseWriter) {
	since, kept, stale := s.state.Stale()
	if !stale {
		return
	}
	w.Header().Set(StaleHeader, fmt.Sprintf("the store does not answer since %s; this is revision %d as this gateway last applied it", since.Format(time.RFC3339), kept))
	w.Header().Set("Warning", `110 corsgate "Response is Stale"`)
}

// Fleet is what GET /v1/cors/fleet answers: the gateways that share the
// store, and the revision each applies.
type Fleet struct {
	// Store is the store's type: embedded (this gateway alone) or etcd.
	Store string `json:"store"`
	// Prefix is the etcd store's prefix, which the fleet shares.
	Prefix string `json:"prefix,omitempty"`
	// Replica is the gateway that answers.
	Replica string `json:"replica"`
	// Revision is the revision this gateway applies.
	Revision uint64 `json:"revision"`
	// Members are the live gateways, this one included.
	Members []store.Member `json:"members"`
	// Converged says that every live member applies Revision.
	Converged bool `json:"converged"`
}

func (s *Server) fleet(w http.ResponseWriter, r *http.Request) error {
	ms, err := s.state.Members(r.Context())
	if err != nil {
		return err
	}
	rev := s.state.Revision()
	prefix := ""
	if e := s.cfg.Store.Etcd; e != nil {
		prefix = e.Prefix
	}
	writeJSON(w, http.StatusOK, Fleet{Store: s.cfg.Store.Type, Prefix: prefix, Replica: s.cfg.ReplicaID, Revision: rev, Members: ms, Converged: converged(ms, rev)})
	return nil
}

// converged reports whether every member applies rev or a later revision.
func converged(ms []store.Member, rev uint64) bool {
	for _, m := range ms {
		if m.Applied < rev {
			return false
		}
	}
	return true
}

// Wait limits of ?wait=fleet.
const (
	DefaultWaitTimeout = 10 * time.Second
	MaxWaitTimeout     = 2 * time.Minute
)

// waitRequest reads ?wait=fleet&timeout=10s from a write: nil without
// wait.
func waitRequest(r *http.Request) (*time.Duration, error) {
	q := r.URL.Query()
	switch q.Get("wait") {
	case "":
		if q.Has("timeout") {
			return nil, errorf(http.StatusBadRequest, "timeout= only goes with wait=fleet")
		}
		return nil, nil
	case "fleet":
	default:
		return nil, errorf(http.StatusBadRequest, "wait=%q is not known; wait=fleet waits until every live replica applies the change", q.Get("wait"))
	}
	d := DefaultWaitTimeout
	if v := q.Get("timeout"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil || d <= 0 || d > MaxWaitTimeout {
			return nil, errorf(http.StatusBadRequest, "timeout=%q is not a duration from 1ms to %s, such as 10s", v, MaxWaitTimeout)
		}
	}
	return &d, nil
}

// FleetWait is the "fleet" part of a write's answer with ?wait=fleet.
type FleetWait struct {
	// Complete says that every live replica applied the revision within
	// the timeout.
	Complete bool   `json:"complete"`
	Revision uint64 `json:"revision"`
	// Waited is how long it took, in milliseconds.
	WaitedMs float64 `json:"waited_ms"`
	// Pending names the replicas that had not applied it, with their
	// errors when they refused it.
	Pending []store.Member `json:"pending"`
	Members []store.Member `json:"members"`
	// Error is why the fleet could not be listed, when the wait ended
	// without knowing.
	Error string `json:"error,omitempty"`
}

// waitFleet waits until every live member applies rev, or timeout.
func (s *Server) waitFleet(ctx context.Context, rev uint64, timeout time.Duration) FleetWait {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out := FleetWait{Revision: rev, Pending: []store.Member{}}
	// Follow the members (one read, then a watch of their changes) until
	// each applies rev or the time is up; when the store stops answering,
	// say so and try again.
	for {
		err := s.state.WatchMembers(ctx, func(ms []store.Member) bool {
			out.Error = ""
			out.Members = ms
			out.Pending = slices.DeleteFunc(slices.Clone(ms), func(m store.Member) bool { return m.Applied >= rev })
			out.Complete = len(out.Pending) == 0
			return out.Complete
		})
		if err == nil || ctx.Err() != nil {
			break
		}
		out.Error = err.Error()
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
			continue
		}
		break
	}
	out.WaitedMs = float64(time.Since(start).Microseconds()) / 1000
	if out.Members == nil {
		out.Members = []store.Member{}
	}
	return out
}

// answerWrite answers a successful write: 200, or with ?wait=fleet 200
// when every replica applied it in time and 202 when some had not.
func (s *Server) answerWrite(w http.ResponseWriter, r *http.Request, wait *time.Duration, rev uint64, body map[string]any) {
	status := http.StatusOK
	if wait != nil {
		fw := s.waitFleet(r.Context(), rev, *wait)
		body["fleet"] = fw
		if !fw.Complete {
			status = http.StatusAccepted
		}
	}
	w.Header().Set("ETag", etag(rev))
	writeJSON(w, status, body)
}
