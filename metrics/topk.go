package metrics

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corsgate/corsgate/engine/policy"
)

// K is how many origins a TopK keeps.
const K = 16

// MaxOriginBytes bounds the bytes kept of one origin; a longer one is kept
// cut, and shown with Truncated set.
const MaxOriginBytes = 128

// TopK keeps the origins seen most often, in fixed memory, with the
// space-saving algorithm (Metwally, Agrawal and El Abbadi, 2005): K slots;
// an origin already in a slot counts one more; a new origin takes the slot
// of the least counted one and inherits its count plus one, which it may
// overstate by at most that count (Error). Any origin seen more than N/K
// times in N adds is always kept. Its memory does not grow, whatever is
// sent: each slot holds a copy of at most MaxOriginBytes bytes in a fixed
// array, so Add allocates nothing. The zero value is ready to use.
type TopK struct {
	mu    sync.Mutex
	slots [K]slot
	n     int
	total uint64
}

type slot struct {
	origin [MaxOriginBytes]byte
	len    uint8
	cut    bool
	count  uint64
	err    uint64
	reason policy.Reason
	// first and last are when the slot's origin was first and last
	// refused, in Unix nanoseconds: first is when it took the slot.
	first, last int64
}

func (s *slot) is(origin string, cut bool) bool {
	return s.cut == cut && string(s.origin[:s.len]) == origin
}

// Add counts one refusal of origin for reason.
func (t *TopK) Add(origin string, reason policy.Reason) {
	cut := len(origin) > MaxOriginBytes
	if cut {
		origin = origin[:MaxOriginBytes]
	}
	at := nowNanos()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total++
	for i := 0; i < t.n; i++ {
		if s := &t.slots[i]; s.is(origin, cut) {
			s.count++
			s.reason = reason
			s.last = at
			return
		}
	}
	var s *slot
	var floor uint64
	if t.n < K {
		s = &t.slots[t.n]
		t.n++
	} else {
		min := 0
		for i := 1; i < K; i++ {
			if t.slots[i].count < t.slots[min].count {
				min = i
			}
		}
		s = &t.slots[min]
		floor = s.count
	}
	s.len = uint8(copy(s.origin[:], origin))
	s.cut, s.count, s.err, s.reason = cut, floor+1, floor, reason
	s.first, s.last = at, at
}

// The clock of TopK: a time in Unix nanoseconds kept to the second by one
// goroutine of the process, started by the first refusal, so that
// recording a refusal costs an atomic load instead of a read of the clock
// (50 ns on the 2-core VM of the benchmarks, three quarters of Add). First
// and last seen are shown to the second.
var (
	coarse    atomic.Int64
	startTick sync.Once
	// testClock, when set (by tests, before any Add), replaces it.
	testClock func() time.Time
)

// nowNanos is the time for TopK.
func nowNanos() int64 {
	if testClock != nil {
		return testClock().UnixNano()
	}
	startTick.Do(func() {
		coarse.Store(time.Now().UnixNano())
		go func() {
			for at := range time.Tick(time.Second) {
				coarse.Store(at.UnixNano())
			}
		}()
	})
	return coarse.Load()
}

// Origin is one entry of a TopK.
type Origin struct {
	Origin string `json:"origin"`
	// Truncated says that Origin is the start of a longer value.
	Truncated bool `json:"truncated,omitempty"`
	// Count is how many times it was refused; it may overstate the truth
	// by up to Error.
	Count uint64 `json:"count"`
	Error uint64 `json:"error,omitempty"`
	// Reason is the reason of its last refusal.
	Reason string `json:"reason"`
	// Kind tells an origin refused for itself ("origin": not allowed, or
	// malformed) from an allowed origin whose request was refused for
	// its method or headers ("request"), or its WebSocket upgrade
	// ("upgrade"). Only the first is fixed by allowing the origin.
	Kind string `json:"kind"`
	// FirstSeen and LastSeen are when it was first and last refused (first:
	// since it entered the top; an origin pushed out and back starts
	// again).
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// RefusalKind classifies a refusal reason for Origin.Kind: "origin",
// "request" or "upgrade".
func RefusalKind(r policy.Reason) string {
	switch r {
	case policy.OriginDenied, policy.OriginMalformed:
		return "origin"
	case policy.UpgradeDenied:
		return "upgrade"
	}
	return "request"
}

// Top lists the origins kept, most counted first.
func (t *TopK) Top() []Origin {
	t.mu.Lock()
	out := make([]Origin, t.n)
	for i := 0; i < t.n; i++ {
		s := &t.slots[i]
		out[i] = Origin{Origin: string(s.origin[:s.len]), Truncated: s.cut, Count: s.count, Error: s.err, Reason: s.reason.String(),
			Kind: RefusalKind(s.reason), FirstSeen: time.Unix(0, s.first).UTC(), LastSeen: time.Unix(0, s.last).UTC()}
	}
	t.mu.Unlock()
	slices.SortStableFunc(out, func(a, b Origin) int {
		switch {
		case a.Count > b.Count:
			return -1
		case a.Count < b.Count:
			return 1
		}
		return 0
	})
	return out
}

// Total is how many refusals were added.
func (t *TopK) Total() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.total
}
