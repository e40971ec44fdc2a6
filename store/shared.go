package store

import (
	"context"
	"time"
)

// Shared is a Store that several gateways use at once, so that a change
// made on one replica reaches the others: the etcd store. Beyond the Store
// contract it tells each gateway about the revisions that any gateway
// commits, and it keeps the list of the gateways that are live.
type Shared interface {
	Store
	// Watch follows the current record until ctx is done, then returns
	// ctx's error. after is the revision the caller has already applied.
	//
	// onChange is called, from one goroutine and in order, with the
	// current record each time it differs from the last one given (or from
	// after, the first time), whoever committed it. When the value in the
	// store is not a record that decodes (another tool wrote it), onChange
	// gets the error instead, which names the key and what is wrong; the
	// caller keeps what it has.
	//
	// Watch never leaves the caller behind for long: when the store was
	// unreachable, was restarted, or compacted the revisions the watch was
	// to resume from, it reads the current record again and gives it if it
	// differs, even when its revision is lower (a store restored from a
	// backup). It also checks at a regular interval that it missed no
	// change, without reading the value when nothing changed.
	//
	// onHealth is called with an error when the store becomes unreachable,
	// and with nil when it is reachable again (and once at the start when
	// it is reachable).
	Watch(ctx context.Context, after uint64, onChange func(Record, error), onHealth func(error)) error
	// Announce publishes this gateway as a live member until ctx is done,
	// under a lease that expires a few seconds after the process stops
	// renewing it, so that a gateway that dies drops out of Members by
	// itself. The first call starts the renewal; later calls replace the
	// published member (same ID). When the store is unreachable it returns
	// the error, and the renewal publishes the latest member again once the
	// store is back.
	Announce(ctx context.Context, m Member) error
	// Members lists the live members, sorted by ID.
	Members(ctx context.Context) ([]Member, error)
	// WatchMembers calls fn with the live members, sorted by ID, at once
	// and then each time they change, until fn returns true (then it
	// returns nil) or ctx is done (then ctx's error). It reads the list
	// once and then follows its changes, rather than reading it again and
	// again. It returns an error when the store does not answer.
	WatchMembers(ctx context.Context, fn func([]Member) bool) error
}

// Member is one live gateway of a fleet that shares a store.
type Member struct {
	// ID names the gateway: unique within the fleet.
	ID string `json:"id"`
	// Admin is the address of its admin listener.
	Admin string `json:"admin"`
	// Applied is the revision whose layer it applies.
	Applied uint64 `json:"applied_revision"`
	// Error is why it refused the store's current revision, if it did.
	Error string `json:"error,omitempty"`
	// Started is when it started.
	Started time.Time `json:"started"`
	// Updated is when it last published itself.
	Updated time.Time `json:"updated"`
}
