// Package state owns corsgate's run-time CORS state: the configuration
// file's document, the run-time layer that operators change over it, the
// layer's revision, and the store that keeps the layer. It knows no HTTP:
// the admin API (package admin) and the file watcher call it, and it
// answers with values and typed errors (Error, with a Kind).
//
// Every change goes through one commit path (Manager.commit): the layer is
// merged over the file and compiled once into a core.Snapshot; when the
// change is this gateway's own, it is committed to the store as the next
// revision (compare-and-swap); then the compiled snapshot is published to
// the controller, and the status and the fleet are told. The doors to it:
//
//   - Write: the admin API's writes (Cloudant's and the full API),
//     rollbacks and resets;
//   - ReloadFile: a new version of the configuration file (the watcher,
//     SIGHUP);
//   - Run, the follow loop: the revisions other replicas commit to a
//     shared store, and the store's health;
//   - the store's record (or the local cache) when the Manager starts.
//
// Check and Evaluate take the same path up to the compiled snapshot and
// stop there: the dry run of a write, and the report-only candidate.
//
// A change is applied whole or not at all. A revision that the store took
// but that could not be applied is an error, shows in the status, and is
// repaired by the next write or the next read of the store.
package state

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/engine/route"
	"github.com/corsgate/corsgate/store"
)

// Logger receives the run-time state's log lines; lura's logging.Logger
// is one.
type Logger interface {
	Info(v ...any)
	Warning(v ...any)
	Error(v ...any)
}

// LogPrefix starts the log lines of the run-time state (the admin API's
// prefix, which they have always had).
const LogPrefix = "[ADMIN]"

// Sources of a revision.
const (
	SourceAPI      = "api"
	SourceCloudant = "cloudant"
	SourceFile     = "file"
	SourceRollback = "rollback"
	SourceReset    = "reset"
	// SourceCandidate is a report-only candidate, applied.
	SourceCandidate = "candidate"
)

// CacheFile is the file, in the state directory, where a gateway keeps
// the last layer it applied: what it serves when it starts while a shared
// store does not answer, and what corsgate explain reads.
const CacheFile = "applied-layer.json"

// StoreInfo describes the store for the status and the cache.
type StoreInfo struct {
	// Type is "embedded" or "etcd".
	Type string
	// Path is the embedded store's directory.
	Path string
	// Endpoints and Prefix locate an etcd store.
	Endpoints []string
	Prefix    string
	// Name names the store in one line (type and place); the cache of a
	// store of another name is not used.
	Name string
}

// Options are what New needs.
type Options struct {
	// Controller applies the effective document.
	Controller *core.Controller
	// File is the configuration file's CORS document.
	File *policy.Document
	// Store keeps the run-time layer. When nil, StoreErr says why it could
	// not be opened, and writes are refused; with neither, the gateway
	// keeps no run-time layer (it has no admin listener).
	Store    store.Store
	StoreErr error
	// StoreInfo describes the store for the status.
	StoreInfo StoreInfo
	// StateDir holds the cache of the last applied layer of a shared
	// store.
	StateDir string
	// Replica names this gateway in the fleet of a shared store, and
	// Admin is its admin listener's address.
	Replica, Admin string
	// Timeout bounds each call to the store made outside a request (5s
	// when zero).
	Timeout time.Duration
	// ConfigPath is the configuration file's path, for the status.
	ConfigPath string
	Logger     Logger
}

// View is one consistent state: the file's document, the layer over it
// and the layer's revision. The values a Manager returns are copies.
type View struct {
	File     *policy.Document
	Layer    *policy.Layer
	Revision uint64
	// Provenance says which revision set each key of the layer.
	Provenance Provenance
}

// Manager owns the run-time state of one gateway. Its methods are safe
// for concurrent use; changes are serialised, reads never wait for them.
type Manager struct {
	ctrl    *core.Controller
	store   store.Store  // nil without a store
	shared  store.Shared // the store, when replicas share it
	logger  Logger
	timeout time.Duration
	info    StoreInfo
	cache   *cache // nil without a store
	// cached is closed when the cache holds the last record applied (nil:
	// nothing to wait for). m.mu is held to change it.
	cached  <-chan struct{}
	replica string
	file    string // the configuration file's path

	appliesOK, appliesFailed atomic.Uint64
	lat                      latencies

	mu       sync.Mutex // serialises changes
	storeRev uint64     // the newest revision seen in the store, in force or not
	member   store.Member
	fleet    *announcer // nil without a shared store

	cur  atomic.Pointer[View]
	cond atomic.Pointer[condition]
}

// New loads the run-time layer from the store and applies it over the
// file's document. A store that could not be opened is not fatal: the
// gateway then runs with the file alone, and writes are refused. A layer
// that no longer validates against the file (an endpoint it names was
// removed, for example) is not applied either: the file alone serves, and
// the status says why. A shared store that does not answer at start is
// not fatal: the gateway serves the layer it cached when it last ran, and
// Run catches up once the store answers.
func New(o Options) *Manager {
	m := &Manager{
		ctrl: o.Controller, store: o.Store, logger: o.Logger, timeout: o.Timeout, info: o.StoreInfo,
		replica: o.Replica, file: o.ConfigPath,
	}
	if m.logger == nil {
		m.logger = nopLogger{}
	}
	if m.timeout <= 0 {
		m.timeout = 5 * time.Second
	}
	if sh, ok := o.Store.(store.Shared); ok {
		m.shared = sh
		m.fleet = newAnnouncer(sh)
	}
	if o.Store != nil && o.StateDir != "" {
		// The layer last applied, for a restart while a shared store does
		// not answer, and for corsgate explain, which reads it without
		// touching the store.
		m.cache = &cache{dir: o.StateDir, path: filepath.Join(o.StateDir, CacheFile), store: o.StoreInfo.Name, failed: func(err error) {
			m.logger.Warning(LogPrefix, "the cache of the applied layer was not written, so a restart while the store is down would serve an older layer:", err)
		}}
	}
	m.cur.Store(&View{File: o.File.Clone(), Layer: &policy.Layer{}})
	m.cond.Store(&condition{})
	m.member = store.Member{ID: o.Replica, Admin: o.Admin, Started: time.Now().UTC()}

	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case o.Store == nil && o.StoreErr != nil:
		msg := fmt.Sprintf("the store cannot be opened, so run-time changes are off and the file alone applies: %v", o.StoreErr)
		m.setCond(func(c *condition) { c.openErr = msg })
		m.logger.Error(LogPrefix, msg)
	case o.Store == nil:
		m.setCond(func(c *condition) { c.openErr = "this gateway keeps no run-time layer: it has no store" })
	default:
		m.load()
	}
	m.announce()
	return m
}

// announce publishes this gateway as a member of the fleet of a shared
// store. m.mu is held.
func (m *Manager) announce() {
	if m.fleet != nil {
		m.fleet.publish(m.member)
	}
}

// load reads the store's record at start and adopts it. m.mu is held.
func (m *Manager) load() {
	ctx, cancel := context.WithTimeout(context.Background(), m.timeout)
	rec, err := m.store.Current(ctx)
	cancel()
	switch {
	case err != nil && m.shared != nil && !isBadRecord(err):
		m.startFromCache(err)
		m.storeDown(err)
	case err != nil && m.shared != nil:
		// Another tool wrote a value that is not a record: serve the
		// last good layer, as the other replicas do.
		m.startFromCache(err)
		m.refuse(0, err)
	case err != nil:
		m.refuse(0, err)
	default:
		m.storeRev = rec.Revision
		if rec.Revision != 0 {
			if err := m.adopt(rec); err != nil {
				m.refuse(rec.Revision, err)
			}
		} else if m.cache != nil {
			// Nothing was ever written: say so to corsgate explain.
			if err := m.cache.write(store.Record{Layer: json.RawMessage("null")}); err != nil {
				m.logger.Warning(LogPrefix, "the copy of the applied layer was not written:", err)
			}
		}
	}
}

// View returns the state in force. It never waits for a change, so reads
// answer while the store is slow.
func (m *Manager) View() View {
	c := m.cur.Load()
	return View{File: c.File.Clone(), Layer: c.Layer.Clone(), Revision: c.Revision, Provenance: c.Provenance.clone()}
}

// Revision returns the revision in force.
func (m *Manager) Revision() uint64 { return m.cur.Load().Revision }

// Routes returns the gateway's route set, which never changes.
func (m *Manager) Routes() *route.Index { return m.ctrl.Routes() }

// Applies returns how many configurations were applied (writes, revisions
// from the store, reloads of the file) and how many were refused.
func (m *Manager) Applies() (ok, failed uint64) {
	return m.appliesOK.Load(), m.appliesFailed.Load()
}

// Stale reports, while the store does not answer, since when, and the
// revision this gateway keeps serving meanwhile.
func (m *Manager) Stale() (since time.Time, kept uint64, stale bool) {
	o := m.cond.Load().outage
	if o == nil {
		return time.Time{}, 0, false
	}
	return o.since, m.cur.Load().Revision, true
}

// Status returns the status.
func (m *Manager) Status() Status {
	var st Status
	cur, c := m.cur.Load(), m.cond.Load()
	st.Replica = m.replica
	st.Revision = cur.Revision
	st.Applied = m.ctrl.Snapshot().Revision()
	st.ApplyLatency = m.lat.summary()
	st.Store.Type, st.Store.Path, st.Store.Endpoints, st.Store.Prefix = m.info.Type, m.info.Path, m.info.Endpoints, m.info.Prefix
	if m.cache != nil {
		st.Store.Cache = m.cache.path
	}
	if c.outage != nil {
		since := c.outage.since
		st.Store.UnreachableSince = &since
	}
	if c.behind != nil && c.behind.why == refused {
		r := c.behind.refusal
		st.Store.Refused = &r
	}
	st.Store.Error = c.storeError(cur.Revision)
	st.Store.OK = st.Store.Error == ""
	st.File.Path = m.file
	st.File.LastReload, st.File.Error, st.File.RestartRequired = c.file.lastReload, c.file.err, c.file.restartRequired
	if masked := slices.DeleteFunc(drift(cur), func(d KeyDiff) bool { return !d.Masked }); len(masked) > 0 {
		st.File.Masked = masked
	}
	return st
}

// setCond replaces the condition with a changed copy. m.mu is held.
func (m *Manager) setCond(f func(*condition)) {
	c := *m.cond.Load()
	f(&c)
	m.cond.Store(&c)
}

type nopLogger struct{}

func (nopLogger) Info(...any)    {}
func (nopLogger) Warning(...any) {}
func (nopLogger) Error(...any)   {}
