package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corsgate/corsgate/admin/auth"
	"github.com/corsgate/corsgate/metrics"
	"github.com/corsgate/corsgate/store"
	"github.com/corsgate/corsgate/engine/core"
	"github.com/corsgate/corsgate/engine/policy"
)

// Logger receives the admin API's log lines; lura's logging.Logger is one.
type Logger interface {
	Info(v ...any)
	Warning(v ...any)
	Error(v ...any)
}

// LogPrefix starts the admin API's log lines.
const LogPrefix = "[ADMIN]"

// Sources of a revision.
const (
	SourceAPI      = "api"
	SourceCloudant = "cloudant"
	SourceFile     = "file"
	SourceRollback = "rollback"
	SourceReset    = "reset"
)

// Server holds the run-time state: the file's document, the run-time
// layer and its revision, and the controller both are applied to. With a
// shared store (etcd) it also follows the revisions that other replicas
// commit (Run).
type Server struct {
	ctrl   *core.Controller
	store  store.Store  // nil when it could not be opened
	shared store.Shared // the store, when replicas share it
	cfg    *Config
	creds  *auth.Credentials
	logger Logger
	// decisions counts the gateway's CORS decisions; nil without them.
	decisions *metrics.Decisions

	appliesOK, appliesFailed atomic.Uint64

	mu       sync.Mutex // serialises changes
	storeRev uint64     // the newest revision seen in the store, applied or refused
	openErr  string     // why the store could not be opened; "" when it was
	member   store.Member

	cur    atomic.Pointer[state]
	status atomic.Pointer[Status]
	outage atomic.Pointer[outage] // nil while the store answers

	announceC chan store.Member // latest wins, for the announcer

	latMu     sync.Mutex
	latencies []time.Duration // of the last applies, a ring
	latNext   int
}

// state is what the gateway applies: the file's document, the layer over
// it and the layer's revision. It is replaced whole, never changed.
type state struct {
	file     *policy.Document
	layer    *policy.Layer
	revision uint64
}

// outage is since when, and why, the store does not answer.
type outage struct {
	since time.Time
	err   error
}

// maxLatencies bounds the apply latencies kept for the status.
const maxLatencies = 1000

// Latency summarises how long applies took, from the write received to
// the new policy in place.
type Latency struct {
	Samples int     `json:"samples"`
	P50ms   float64 `json:"p50_ms"`
	P99ms   float64 `json:"p99_ms"`
}

// Status is what GET /v1/cors/status answers.
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
	} `json:"file"`
}

// Refusal is a revision of the store that did not validate.
type Refusal struct {
	// Revision is 0 when the store's value is not a record at all.
	Revision uint64    `json:"revision"`
	Error    string    `json:"error"`
	Time     time.Time `json:"time"`
}

// Options are what NewServer needs.
type Options struct {
	// Controller applies the effective document.
	Controller *core.Controller
	// File is the configuration file's CORS document.
	File *policy.Document
	// Store keeps the run-time layer; nil when it could not be opened,
	// and StoreErr then says why.
	Store    store.Store
	StoreErr error
	// Config is the admin block as read (store, state directory,
	// credentials, replica name).
	Config *Config
	// ConfigPath is the configuration file's path, for the status.
	ConfigPath string
	Logger     Logger
	// Decisions, when not nil, are the gateway's CORS decisions, shown at
	// /metrics, /v1/cors/decisions and on the dashboard, and the home of
	// report-only mode.
	Decisions *metrics.Decisions
}

// NewServer loads the run-time layer from the store and applies it over
// the file's document. A store that could not be opened is not fatal: the
// gateway then runs with the file alone, and writes answer 503. A layer
// that no longer validates against the file (an endpoint it names was
// removed, for example) is not applied either: the file alone serves, and
// the status says why. An etcd store that does not answer at start is
// not fatal either: the gateway serves the layer it cached when it last
// ran, and Run catches up once etcd answers.
func NewServer(o Options) *Server {
	s := &Server{ctrl: o.Controller, store: o.Store, cfg: o.Config, creds: o.Config.Credentials, logger: o.Logger, decisions: o.Decisions, announceC: make(chan store.Member, 1)}
	if sh, ok := o.Store.(store.Shared); ok {
		s.shared = sh
	}
	s.cur.Store(&state{file: o.File.Clone(), layer: &policy.Layer{}})
	var status Status
	status.Replica = o.Config.ReplicaID
	status.Store.Type = o.Config.Store.Type
	if e := o.Config.Store.Etcd; e != nil {
		status.Store.Endpoints, status.Store.Prefix = e.Endpoints, e.Prefix
		status.Store.Cache = s.cachePath()
	} else {
		status.Store.Path = o.Config.Store.Path
	}
	status.File.Path = o.ConfigPath
	s.status.Store(&status)
	s.member = store.Member{ID: o.Config.ReplicaID, Admin: o.Config.Listen, Started: time.Now().UTC()}

	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case o.Store == nil:
		s.openErr = fmt.Sprintf("the store cannot be opened, so run-time changes are off and the file alone applies: %v", o.StoreErr)
		s.logger.Error(LogPrefix, s.openErr)
	default:
		ctx, cancel := context.WithTimeout(context.Background(), s.storeTimeout())
		rec, err := o.Store.Current(ctx)
		cancel()
		switch {
		case err != nil && s.shared != nil && !isDecodeError(err):
			s.startFromCache(err)
			s.storeDown(err)
		case err != nil && s.shared != nil:
			// Another tool wrote a value that is not a record: serve the
			// last good layer, as the other replicas do.
			s.startFromCache(err)
			s.refuse(0, err)
		case err != nil:
			s.refuse(0, err)
		default:
			s.storeRev = rec.Revision
			if rec.Revision != 0 {
				if err := s.adopt(rec); err != nil {
					s.refuse(rec.Revision, err)
				}
			}
		}
	}
	s.updateStatus(func(st *Status) { st.Revision = s.cur.Load().revision })
	s.announce()
	return s
}

// storeTimeout bounds a call to the store made outside a request.
func (s *Server) storeTimeout() time.Duration {
	if e := s.cfg.Store.Etcd; e != nil {
		return e.DialTimeout
	}
	return 5 * time.Second
}

// isDecodeError tells a value in the store that is not a record from a
// store that does not answer.
func isDecodeError(err error) bool {
	return err != nil && strings.Contains(err.Error(), "is not a corsgate record")
}

// adopt validates a record read from the store and applies its layer over
// the file, or changes nothing and says why. s.mu is held.
func (s *Server) adopt(rec store.Record) error {
	cur := s.cur.Load()
	layer := &policy.Layer{}
	if len(rec.Layer) > 0 {
		var err error
		if layer, err = policy.ParseLayer(rec.Layer); err != nil {
			return fmt.Errorf("revision %d: %v", rec.Revision, err)
		}
	}
	eff, errs := layer.Over(cur.file)
	if errs != nil {
		return fmt.Errorf("revision %d does not validate against the file:\n%v", rec.Revision, errs)
	}
	if _, err := s.ctrl.Apply(eff); err != nil {
		return fmt.Errorf("revision %d does not validate against the file:\n%v", rec.Revision, err)
	}
	s.cur.Store(&state{file: cur.file, layer: layer, revision: rec.Revision})
	s.applied(rec)
	return nil
}

// applied records that rec is in force: the status, the refusal cleared,
// the cache and the fleet. s.mu is held.
func (s *Server) applied(rec store.Record) {
	s.appliesOK.Add(1)
	s.updateStatus(func(st *Status) {
		st.Revision = rec.Revision
		st.Store.Refused = nil
	})
	s.member.Applied, s.member.Error = rec.Revision, ""
	if s.shared != nil {
		if err := s.writeCache(rec); err != nil {
			s.logger.Warning(LogPrefix, "the cache of the applied layer was not written, so a restart while the store is down would serve an older layer:", err)
		}
	}
	s.announce()
}

// refuse records that the store's revision rev (0: a value that is not a
// record) was not applied: the gateway keeps its layer and says why.
// s.mu is held.
func (s *Server) refuse(rev uint64, err error) {
	s.appliesFailed.Add(1)
	kept := s.cur.Load().revision
	ref := &Refusal{Revision: rev, Error: err.Error(), Time: time.Now().UTC()}
	msg := ref.message(kept)
	s.updateStatus(func(st *Status) { st.Store.Refused = ref })
	s.member.Error = msg
	s.logger.Error(LogPrefix, msg)
	s.announce()
}

// storeDown records that the store stopped answering.
func (s *Server) storeDown(err error) {
	if s.outage.Load() != nil {
		return
	}
	o := &outage{since: time.Now().UTC(), err: err}
	s.outage.Store(o)
	s.updateStatus(func(st *Status) { st.Store.UnreachableSince = &o.since })
	s.logger.Error(LogPrefix, o.message(s.cur.Load().revision))
}

// storeUp records that the store answers again.
func (s *Server) storeUp() {
	o := s.outage.Swap(nil)
	if o == nil {
		return
	}
	s.updateStatus(func(st *Status) { st.Store.UnreachableSince = nil })
	s.logger.Info(LogPrefix, fmt.Sprintf("the store answers again, after %s", time.Since(o.since).Round(time.Millisecond)))
}

// Run follows a shared store until ctx is done: it applies every revision
// that another replica commits (validated first: a revision that does not
// validate is refused, and the gateway keeps its layer), tracks whether
// the store answers, and publishes this gateway in the fleet. With the
// embedded store there is nothing to follow: it waits for ctx.
func (s *Server) Run(ctx context.Context) {
	if s.shared == nil {
		<-ctx.Done()
		return
	}
	done := make(chan struct{})
	go func() { s.announcer(ctx); close(done) }()
	// From 0: the first read is always given, and onChange drops it when
	// it is what this gateway applies already. That also catches a store
	// rebuilt behind the same address that holds another layer under the
	// same revision number.
	s.shared.Watch(ctx, 0, s.onChange, s.onHealth)
	<-done
}

// onChange applies a revision the store's watch delivered.
func (s *Server) onChange(rec store.Record, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.refuse(0, err)
		return
	}
	if rec.Revision < s.storeRev {
		// Older than a revision this gateway committed or saw: the watch
		// is catching up with this gateway's own writes. Unless the store
		// really went back (restored from a backup), it is skipped.
		ctx, cancel := context.WithTimeout(context.Background(), s.storeTimeout())
		latest, err := s.shared.Current(ctx)
		cancel()
		if err != nil || latest.Revision >= s.storeRev {
			return
		}
		s.logger.Warning(LogPrefix, fmt.Sprintf("the store went back from revision %d to %d (restored from a backup?); following it", s.storeRev, latest.Revision))
		rec = latest
	}
	s.storeRev = rec.Revision
	cur := s.cur.Load()
	if rec.Revision == cur.revision && sameLayer(rec.Layer, cur.layer) {
		if s.status.Load().Store.Refused != nil {
			s.applied(rec)
		}
		return
	}
	if err := s.adopt(rec); err != nil {
		s.refuse(rec.Revision, err)
		return
	}
	s.logger.Info(LogPrefix, fmt.Sprintf("revision %d applied from the store (%s, by %s)", rec.Revision, rec.Source, rec.User))
}

// sameLayer reports whether a stored layer is l.
func sameLayer(stored []byte, l *policy.Layer) bool {
	got := &policy.Layer{}
	if len(stored) > 0 {
		var err error
		if got, err = policy.ParseLayer(stored); err != nil {
			return false
		}
	}
	return reflect.DeepEqual(normalize(got), normalize(l))
}

// onHealth tracks whether the store answers.
func (s *Server) onHealth(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.storeDown(err)
		return
	}
	s.storeUp()
}

// announce hands the member to the announcer; the latest wins. s.mu is
// held.
func (s *Server) announce() {
	if s.shared == nil {
		return
	}
	m := s.member
	for {
		select {
		case s.announceC <- m:
			return
		default:
			select {
			case <-s.announceC:
			default:
			}
		}
	}
}

// announcer publishes the member in the fleet, one update at a time.
func (s *Server) announcer(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-s.announceC:
			if err := s.shared.Announce(ctx, m); err != nil && ctx.Err() == nil {
				// The store's renewal publishes the latest member when
				// it answers again; the outage is logged by onHealth.
				continue
			}
		}
	}
}

// Status returns the status.
func (s *Server) Status() Status {
	st := *s.status.Load()
	st.Applied = s.ctrl.Snapshot().Revision()
	st.ApplyLatency = s.latency()
	o := s.outage.Load()
	switch {
	case s.openErr != "":
		st.Store.Error = s.openErr
	case o != nil:
		st.Store.Error = o.message(st.Revision)
	case st.Store.Refused != nil:
		st.Store.Error = st.Store.Refused.message(st.Revision)
	default:
		st.Store.Error = ""
	}
	st.Store.OK = st.Store.Error == ""
	return st
}

// message says what an outage means.
func (o *outage) message(kept uint64) string {
	return fmt.Sprintf("the store does not answer (since %s), so writes answer 503 and reads may be stale; this gateway keeps serving revision %d: %v", o.since.Format(time.RFC3339), kept, o.err)
}

// message says what a refusal means.
func (r *Refusal) message(kept uint64) string {
	what := "the store's current value"
	if r.Revision != 0 {
		what = fmt.Sprintf("the store's revision %d", r.Revision)
	}
	return fmt.Sprintf("%s was refused, so this gateway keeps revision %d: %s", what, kept, r.Error)
}

func (s *Server) recordLatency(d time.Duration) {
	s.latMu.Lock()
	defer s.latMu.Unlock()
	if len(s.latencies) < maxLatencies {
		s.latencies = append(s.latencies, d)
		return
	}
	s.latencies[s.latNext] = d
	s.latNext = (s.latNext + 1) % maxLatencies
}

func (s *Server) latency() Latency {
	s.latMu.Lock()
	l := slices.Clone(s.latencies)
	s.latMu.Unlock()
	if len(l) == 0 {
		return Latency{}
	}
	slices.Sort(l)
	at := func(q float64) float64 {
		return float64(l[min(len(l)-1, int(q*float64(len(l))))]) / float64(time.Millisecond)
	}
	return Latency{Samples: len(l), P50ms: at(0.50), P99ms: at(0.99)}
}

func (s *Server) updateStatus(f func(*Status)) {
	st := *s.status.Load()
	f(&st)
	s.status.Store(&st)
}

// state is a consistent view of the file, the layer and the revision. It
// never waits for a write, so reads answer while the store is slow.
func (s *Server) state() (*policy.Document, *policy.Layer, uint64) {
	c := s.cur.Load()
	return c.file.Clone(), c.layer.Clone(), c.revision
}

// change is one write: ifRevision, when not nil, must be the current
// revision; mutate changes a copy of the layer. The new layer is merged
// over the file, validated, committed to the store and applied, or
// nothing happens.
type change struct {
	user, source string
	ifRevision   *uint64
	mutate       func(l *policy.Layer) *apiError
	// dryRun validates without committing or applying.
	dryRun bool
}

// result is what a change did.
type result struct {
	Revision uint64        `json:"revision"`
	Warnings policy.Errors `json:"-"`
}

// maxCatchUps bounds how many times a write catches up with revisions
// that other replicas committed before it gives up.
const maxCatchUps = 5

func (s *Server) apply(ctx context.Context, c change) (result, *apiError) {
	start := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for attempt := 0; ; attempt++ {
		cur := s.cur.Load()
		if s.shared != nil && s.storeRev != cur.revision && (c.ifRevision == nil || *c.ifRevision != s.storeRev) && !c.dryRun {
			// The store's current revision, which another replica
			// committed, was refused here (its keys do not validate
			// against this gateway's file): a change based on the layer
			// this gateway keeps would silently undo it. (With the
			// embedded store, the refused revision is this gateway's own
			// past, which a write replaces as before.)
			ref := s.status.Load().Store.Refused
			why := ""
			if ref != nil {
				why = ": " + ref.Error
			}
			return result{}, errorf(http.StatusConflict, "conflict", "the store is at revision %d, which this gateway refused%s; it keeps revision %d. Fix this gateway's file so that revision %d validates, write through a replica that applies it, or replace it with If-Match: \"%d\"", s.storeRev, why, cur.revision, s.storeRev, s.storeRev)
		}
		if c.ifRevision != nil && *c.ifRevision != cur.revision && *c.ifRevision != s.storeRev {
			e := errorf(http.StatusPreconditionFailed, "precondition_failed", "the configuration changed since revision %d; it is at revision %d: read it again (GET, then If-Match: \"%d\") and redo the change", *c.ifRevision, cur.revision, cur.revision)
			rev := cur.revision
			e.Revision = &rev
			return result{}, e
		}
		cand := cur.layer.Clone()
		if e := c.mutate(cand); e != nil {
			return result{}, e
		}
		eff, perrs := cand.Over(cur.file)
		if perrs != nil {
			return result{}, invalid(perrs)
		}
		snap, err := core.Compile(eff, s.ctrl.Routes())
		if err != nil {
			return result{}, compileError(err)
		}
		if c.dryRun {
			return result{Revision: cur.revision, Warnings: snap.Warnings()}, nil
		}
		if s.store == nil {
			return result{}, errorf(http.StatusServiceUnavailable, "service_unavailable", "the store cannot be used, so changes cannot be kept: %s", s.openErr)
		}
		if o := s.outage.Load(); o != nil {
			e := errorf(http.StatusServiceUnavailable, "service_unavailable", "nothing changed: %s", o.message(cur.revision))
			e.retryAfter = 5
			return result{}, e
		}
		if reflect.DeepEqual(normalize(cand), normalize(cur.layer)) && c.source != SourceRollback && c.source != SourceReset && s.storeRev == cur.revision {
			// Nothing changes: no new revision.
			return result{Revision: cur.revision, Warnings: snap.Warnings()}, nil
		}
		layerJSON, _ := json.Marshal(cand)
		if cand.Empty() {
			layerJSON = []byte("null")
		}
		diff, _ := json.Marshal(diffLayers(cur.layer, cand))
		rec, err := s.store.Commit(ctx, s.storeRev, store.Record{User: c.user, Source: c.source, Layer: layerJSON, Diff: diff})
		if errors.Is(err, store.ErrConflict) && s.shared != nil && attempt < maxCatchUps {
			// Another replica committed first: catch up with it, then
			// judge the change again (an If-Match then fails with 412,
			// a change without one applies over the newer layer).
			if e := s.catchUp(ctx); e != nil {
				return result{}, e
			}
			continue
		}
		if err != nil {
			switch {
			case errors.Is(err, store.ErrConflict) && s.shared != nil:
				e := errorf(http.StatusConflict, "conflict", "other replicas kept committing changes before this one (%v); retry it", err)
				e.retryAfter = 1
				return result{}, e
			case errors.Is(err, store.ErrConflict):
				return result{}, errorf(http.StatusConflict, "conflict", "the store holds a revision this gateway has not seen (%v); restart it, or give each gateway its own store", err)
			case s.shared != nil:
				// The transaction may have reached etcd before the
				// answer was lost: say so rather than "nothing changed".
				s.logger.Error(LogPrefix, "the store did not confirm revision", s.storeRev+1, ":", err)
				e := errorf(http.StatusServiceUnavailable, "service_unavailable", "the store did not confirm the change, so this gateway still applies revision %d; the change may or may not be stored: GET /v1/cors/history once the store answers shows whether revision %d is yours (%v)", cur.revision, s.storeRev+1, err)
				e.retryAfter = 5
				return result{}, e
			}
			s.logger.Error(LogPrefix, "the store refused revision", s.storeRev+1, ":", err)
			return result{}, errorf(http.StatusServiceUnavailable, "service_unavailable", "the store did not take the change, so nothing changed (revision %d stays in force): %v", cur.revision, err)
		}
		if _, err := s.ctrl.Apply(eff); err != nil {
			// Compile accepted the same document a moment ago.
			s.logger.Error(LogPrefix, "revision", rec.Revision, "was stored but not applied:", err)
		}
		s.cur.Store(&state{file: cur.file, layer: cand, revision: rec.Revision})
		s.storeRev = rec.Revision
		s.applied(rec)
		s.recordLatency(time.Since(start))
		s.logger.Info(LogPrefix, fmt.Sprintf("revision %d applied (%s, by %s)", rec.Revision, c.source, c.user))
		return result{Revision: rec.Revision, Warnings: snap.Warnings()}, nil
	}
}

// catchUp reads the store's current revision and applies it, for a write
// that lost a race with another replica. s.mu is held.
func (s *Server) catchUp(ctx context.Context) *apiError {
	rec, err := s.shared.Current(ctx)
	if err != nil {
		if isDecodeError(err) {
			s.refuse(0, err)
			return errorf(http.StatusConflict, "conflict", "another writer changed the store, and its value is not a corsgate record: %v", err)
		}
		return errorf(http.StatusServiceUnavailable, "service_unavailable", "another replica changed the configuration, and the store did not answer when asked for it, so nothing changed: %v", err)
	}
	s.storeRev = rec.Revision
	if rec.Revision == s.cur.Load().revision {
		return nil
	}
	if err := s.adopt(rec); err != nil {
		s.refuse(rec.Revision, err)
	}
	return nil
}

// normalize makes two layers that change the same comparable.
func normalize(l *policy.Layer) *policy.Layer {
	c := l.Clone()
	if len(c.Service) == 0 {
		c.Service = nil
	}
	for k, v := range c.Endpoints {
		if len(v) == 0 {
			delete(c.Endpoints, k)
		}
	}
	if len(c.Endpoints) == 0 {
		c.Endpoints = nil
	}
	return c
}

// compileError is the answer to a document that does not compile: 400
// with its problems, or 500 for anything else.
func compileError(err error) *apiError {
	var errs policy.Errors
	if errors.As(err, &errs) {
		return invalid(errs)
	}
	return errorf(http.StatusInternalServerError, "internal_error", "%v", err)
}

// invalid is the 400 of a change that does not validate.
func invalid(errs policy.Errors) *apiError {
	e := errorf(http.StatusBadRequest, "bad_request", "%s", errs[0].Error())
	if len(errs) > 1 {
		e.Reason += fmt.Sprintf(" (and %d more problem(s), listed in errors)", len(errs)-1)
	}
	for _, pe := range errs {
		e.Errors = append(e.Errors, fieldError{Path: pe.Path, Message: pe.Message})
	}
	return e
}

// ReloadFile applies a new version of the configuration file's CORS
// document under the run-time layer. When the merge does not validate,
// nothing changes and the status keeps the error. With the embedded store,
// a change of the file's CORS settings is recorded in the history as a
// revision of source "file" (the layer itself stays as it was), so that
// the ETag of the API changes with the effective settings. With a shared
// store it is not: each replica reads its own file, and the store's
// history is the fleet's.
func (s *Server) ReloadFile(file *policy.Document, restartRequired []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	cur := s.cur.Load()
	eff, perrs := cur.layer.Over(file)
	var err error
	if perrs != nil {
		err = perrs
	} else {
		_, err = s.ctrl.Apply(eff)
	}
	s.updateStatus(func(st *Status) {
		st.File.RestartRequired = restartRequired
		if err != nil {
			s.appliesFailed.Add(1)
			st.File.Error = err.Error()
			return
		}
		s.appliesOK.Add(1)
		st.File.Error = ""
		st.File.LastReload = &now
	})
	if err != nil {
		return err
	}
	changes := diffDocuments(cur.file, file)
	next := &state{file: file.Clone(), layer: cur.layer, revision: cur.revision}
	if len(changes) > 0 && s.store != nil && s.shared == nil {
		layerJSON, _ := json.Marshal(cur.layer)
		if cur.layer.Empty() {
			layerJSON = []byte("null")
		}
		diff, _ := json.Marshal(changes)
		rec, cerr := s.store.Commit(context.Background(), s.storeRev, store.Record{User: "file", Source: SourceFile, Layer: layerJSON, Diff: diff})
		if cerr != nil {
			s.logger.Error(LogPrefix, "the file's change is applied but not recorded in the history:", cerr)
		} else {
			next.revision, s.storeRev = rec.Revision, rec.Revision
			s.updateStatus(func(st *Status) { st.Revision = rec.Revision })
		}
	}
	s.cur.Store(next)
	if s.shared != nil && s.storeRev != next.revision {
		// A revision refused against the old file may validate against
		// the new one.
		ctx, cancel := context.WithTimeout(context.Background(), s.storeTimeout())
		rec, err := s.shared.Current(ctx)
		cancel()
		if err == nil && rec.Revision == s.storeRev {
			if aerr := s.adopt(rec); aerr == nil {
				s.logger.Info(LogPrefix, fmt.Sprintf("revision %d applied from the store, now that the file lets it validate", rec.Revision))
			}
		}
	}
	return nil
}

// diffDocuments lists the keys whose value differs between two versions
// of the file's document.
func diffDocuments(a, b *policy.Document) []keyChange {
	asKeys := func(bl *policy.Block) map[string]json.RawMessage {
		if bl == nil {
			return nil
		}
		data, _ := json.Marshal(bl)
		var m map[string]json.RawMessage
		json.Unmarshal(data, &m)
		return m
	}
	la := &policy.Layer{Service: asKeys(a.Service), Endpoints: map[string]map[string]json.RawMessage{}}
	lb := &policy.Layer{Service: asKeys(b.Service), Endpoints: map[string]map[string]json.RawMessage{}}
	for k, bl := range a.Endpoints {
		la.Endpoints[k] = asKeys(bl)
	}
	for k, bl := range b.Endpoints {
		lb.Endpoints[k] = asKeys(bl)
	}
	return diffLayers(la, lb)
}

// ReloadFailed records in the status that a new version of the file was
// refused (the current settings stay).
func (s *Server) ReloadFailed(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updateStatus(func(st *Status) { st.File.Error = err.Error() })
}

// keyChange is one entry of a revision's diff.
type keyChange struct {
	Scope string          `json:"scope"`
	Key   string          `json:"key"`
	Old   json.RawMessage `json:"old,omitempty"`
	New   json.RawMessage `json:"new,omitempty"`
}

// diffLayers lists the keys whose run-time value differs.
func diffLayers(a, b *policy.Layer) []keyChange {
	var out []keyChange
	if a.Off != b.Off {
		out = append(out, keyChange{Scope: "gateway", Key: "cors_off", Old: mustJSON(a.Off), New: mustJSON(b.Off)})
	}
	scope := func(name string, x, y map[string]json.RawMessage) {
		keys := map[string]bool{}
		for k := range x {
			keys[k] = true
		}
		for k := range y {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		slices.Sort(sorted)
		for _, k := range sorted {
			if string(x[k]) != string(y[k]) {
				out = append(out, keyChange{Scope: name, Key: k, Old: x[k], New: y[k]})
			}
		}
	}
	scope("service", a.Service, b.Service)
	names := map[string]bool{}
	for k := range a.Endpoints {
		names[k] = true
	}
	for k := range b.Endpoints {
		names[k] = true
	}
	sorted := make([]string, 0, len(names))
	for k := range names {
		sorted = append(sorted, k)
	}
	slices.Sort(sorted)
	for _, n := range sorted {
		scope(n, a.Endpoints[n], b.Endpoints[n])
	}
	return out
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
