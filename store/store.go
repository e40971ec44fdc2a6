// Package store keeps corsgate's run-time CORS changes: the run-time layer,
// a JSON object of CORS settings that operators change through the admin
// API and that the gateway lays over its configuration file. Every change
// is a new revision of the whole layer, and every revision must survive a
// restart of the gateway. Whoever can write here decides which web sites
// may read the gateway's answers, so this package is a security boundary:
// a change is stored whole or not at all, and no change is ever lost to a
// concurrent one.
//
// The pieces:
//
//   - Record is one revision: its number, when and by whom it was made,
//     where it came from (the admin API, Cloudant's API, the file, a
//     rollback, a reset), the whole layer after it, and what changed.
//   - Store is what every store does. Current reads the latest record.
//     Commit is a compare-and-swap: it stores a record as the next revision
//     only if the current revision is still the one the caller read, and
//     otherwise returns ErrConflict without storing anything, so that two
//     operators changing CORS at once never overwrite each other's change
//     unknowingly. Get and History read the bounded history, which rollback
//     and the audit trail use.
//   - Embedded is the default store: one bbolt database file, corsgate.db,
//     in the gateway's state directory, locked by one process at a time.
//     It checks the whole file when it opens it and refuses a file that is
//     not its own or is damaged, leaving it untouched and saying how to
//     start without it; it never panics on a bad file.
//   - Etcd is the shared store, for a fleet of gateways: the layer is kept
//     in an etcd cluster, under a key prefix P that the replicas share.
//     P+"current" holds the current record, P+"history/" and the revision
//     in 20 digits each kept record, and P+"members/" and a gateway's ID
//     each live gateway, under a lease that expires a few seconds after
//     the gateway stops renewing it. Commit is one etcd transaction,
//     conditional on etcd's own revision (ModRevision) of P+"current".
//     Etcd is also a Shared store: Watch follows P+"current" with an etcd
//     watch, and checks its revision (not its value) at a slow, jittered
//     interval as a safety net, so that every replica applies every
//     change at almost no cost to etcd while nothing changes; Announce and
//     Members keep the list of the live gateways, and WatchMembers follows
//     it. Opening it does not wait for etcd.
//
// Package storetest holds the contract every Store must meet, as a test
// suite that each implementation runs against itself.
package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Record is one revision of the run-time layer.
type Record struct {
	// Revision is the revision's number: 1 for the first change, then one
	// more for each change. Commit sets it; 0 means nothing was ever
	// written.
	Revision uint64 `json:"revision"`
	// Time is when the revision was made. Commit sets it to the current
	// time when it is zero.
	Time time.Time `json:"time"`
	// User is who made the change, as the admin API authenticated them.
	User string `json:"user"`
	// Source is where the change came from: api, cloudant, file, rollback
	// or reset.
	Source string `json:"source"`
	// RollbackOf is, for a rollback, the revision whose layer it made
	// current again; 0 otherwise (and in records written before it
	// existed).
	RollbackOf uint64 `json:"rollback_of,omitempty"`
	// Layer is the whole layer after this revision: a JSON object, or
	// null after a reset.
	Layer json.RawMessage `json:"layer"`
	// Diff is what changed, computed by the caller and stored as given
	// (it must be JSON when it is not empty).
	Diff json.RawMessage `json:"diff,omitempty"`
	// Provenance says, for each key of the layer, which revision set it,
	// by whom and when; computed by the caller and stored as given (it
	// must be JSON when it is not empty). Records written before it
	// existed have none.
	Provenance json.RawMessage `json:"provenance,omitempty"`
}

// ErrConflict is returned, wrapped (test it with errors.Is), by Commit when
// the revision the caller read is no longer the current one: someone else
// changed the layer in between. The message names both revisions. Nothing
// is stored; read the current record, apply the change to it again, and
// commit against its revision.
var ErrConflict = errors.New("revision conflict")

// ErrNotFound is matched (test it with errors.Is) by the error of Get for
// a revision that was never written or that was dropped from the bounded
// history. The error's message is one sentence that says which, with the
// newest revision or the ones kept, without "revision not found" before
// it.
var ErrNotFound = errors.New("revision not found")

// ErrFull is returned, wrapped (test it with errors.Is), by Commit when the
// store has reached the last revision number (2^64-1): no further
// revision can be numbered. The message says how to start again.
var ErrFull = errors.New("the store has reached the last revision number")

// ErrBadRecord is matched (test it with errors.Is) by the error of a read
// that found a value that is not a corsgate record: another tool wrote
// it, or the file holding it is damaged. The store answers, but what it
// holds cannot be used; the message names where the value is and what is
// wrong with it.
var ErrBadRecord = errors.New("not a corsgate record")

// notFoundError is an error that matches ErrNotFound with a message of
// its own: one sentence that says which revision is missing and why,
// without "revision not found: " before it.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string        { return e.msg }
func (e *notFoundError) Is(target error) bool { return target == ErrNotFound }

// notFound returns an error that matches ErrNotFound, with the message of
// format and args.
func notFound(format string, args ...any) error {
	return &notFoundError{msg: fmt.Sprintf(format, args...)}
}

// neverWritten is the error of Get for a revision above the current one,
// cur.
func neverWritten(revision, cur uint64) error {
	if cur == 0 {
		return notFound("revision %d does not exist: nothing was written to the store yet", revision)
	}
	return notFound("revision %d does not exist; the newest is %d", revision, cur)
}

// revisionZero is the error of Get for revision 0.
var revisionZero = &notFoundError{msg: "revision 0 does not exist: it is the empty store, and revisions start at 1"}

// badRecordError is an error that matches ErrBadRecord without changing
// its message.
type badRecordError struct{ msg string }

func (e *badRecordError) Error() string        { return e.msg }
func (e *badRecordError) Is(target error) bool { return target == ErrBadRecord }

// badRecord returns err's message as an error that matches ErrBadRecord.
func badRecord(err error) error { return &badRecordError{msg: err.Error()} }

// Store keeps the run-time layer and its history. Its methods are safe for
// concurrent use. Every method except Close returns the context's error,
// having done nothing, when the context is done before the call.
type Store interface {
	// Current returns the latest record: Revision 0, nil Layer when
	// nothing was ever written.
	Current(ctx context.Context) (Record, error)
	// Commit stores rec as revision Current+1 if the current revision
	// equals ifRevision, in one transaction (compare-and-swap): it sets
	// rec.Revision, sets rec.Time to now when zero, validates that
	// rec.Layer is a JSON object or null (else an error, nothing stored),
	// and returns the stored record. When the current revision is not
	// ifRevision it returns an error wrapping ErrConflict and stores
	// nothing.
	Commit(ctx context.Context, ifRevision uint64, rec Record) (Record, error)
	// Get returns the record of one revision, or an error wrapping
	// ErrNotFound when the revision was never written or was dropped from
	// the bounded history.
	Get(ctx context.Context, revision uint64) (Record, error)
	// History lists up to limit records (limit <= 0: all kept), newest
	// first.
	History(ctx context.Context, limit int) ([]Record, error)
	// Close releases the store. Calls after Close return an error.
	Close() error
}

// checkRecord checks what Commit requires of a record before storing it:
// a Layer that is a JSON object or the JSON null, and a Diff that is empty
// or JSON. Every Store of this package calls it, so that all refuse the
// same records with the same messages.
func checkRecord(rec Record) error {
	layer := bytes.TrimSpace(rec.Layer)
	switch {
	case len(layer) == 0:
		return errors.New("the record's layer is empty: give the whole layer as a JSON object, or null to clear it")
	case !json.Valid(layer):
		return fmt.Errorf("the record's layer is not valid JSON (%s): give the whole layer as a JSON object, or null to clear it", excerpt(layer))
	case layer[0] != '{' && !bytes.Equal(layer, []byte("null")):
		return fmt.Errorf("the record's layer is JSON %s, not an object (%s): give the whole layer as a JSON object, or null to clear it", jsonKind(layer[0]), excerpt(layer))
	}
	if diff := bytes.TrimSpace(rec.Diff); len(diff) > 0 && !json.Valid(diff) {
		return fmt.Errorf("the record's diff is not valid JSON (%s): give it as JSON, or leave it empty", excerpt(diff))
	}
	if prov := bytes.TrimSpace(rec.Provenance); len(prov) > 0 && !json.Valid(prov) {
		return fmt.Errorf("the record's provenance is not valid JSON (%s): give it as JSON, or leave it empty", excerpt(prov))
	}
	return nil
}

// checkDecoded is checkRecord for a record json.Unmarshal just decoded,
// whose layer, diff and provenance are valid JSON already (Unmarshal
// checked the whole value): it checks only that the layer is there and
// is an object or null. A fleet replica decodes every change; scanning
// the same bytes three more times cost it a tenth of an apply.
func checkDecoded(rec Record) error {
	layer := bytes.TrimSpace(rec.Layer)
	switch {
	case len(layer) == 0:
		return errors.New("the record's layer is empty: give the whole layer as a JSON object, or null to clear it")
	case layer[0] != '{' && !bytes.Equal(layer, []byte("null")):
		return fmt.Errorf("the record's layer is JSON %s, not an object (%s): give the whole layer as a JSON object, or null to clear it", jsonKind(layer[0]), excerpt(layer))
	}
	return nil
}

// prepareRecord checks a record for Commit (checkRecord), sets its time
// to now when zero, and trims its layer and diff.
func prepareRecord(rec Record) (Record, error) {
	if err := checkRecord(rec); err != nil {
		return Record{}, err
	}
	if rec.Time.IsZero() {
		rec.Time = time.Now().UTC()
	}
	rec.Layer = bytes.TrimSpace(rec.Layer)
	if rec.Diff = bytes.TrimSpace(rec.Diff); len(rec.Diff) == 0 {
		rec.Diff = nil
	}
	if rec.Provenance = bytes.TrimSpace(rec.Provenance); len(rec.Provenance) == 0 {
		rec.Provenance = nil
	}
	return rec, nil
}

// jsonKind names the type of the JSON value that starts with c.
func jsonKind(c byte) string {
	switch c {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	default:
		return "a number"
	}
}

// excerpt quotes the start of b for an error message.
func excerpt(b []byte) string {
	const max = 40
	if len(b) > max {
		return fmt.Sprintf("%q…", b[:max])
	}
	return fmt.Sprintf("%q", b)
}
