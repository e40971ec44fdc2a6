package metrics

import (
	"slices"
	"sync"

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
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total++
	for i := 0; i < t.n; i++ {
		if s := &t.slots[i]; s.is(origin, cut) {
			s.count++
			s.reason = reason
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
}

// Top lists the origins kept, most counted first.
func (t *TopK) Top() []Origin {
	t.mu.Lock()
	out := make([]Origin, t.n)
	for i := 0; i < t.n; i++ {
		s := &t.slots[i]
		out[i] = Origin{Origin: string(s.origin[:s.len]), Truncated: s.cut, Count: s.count, Error: s.err, Reason: s.reason.String()}
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
