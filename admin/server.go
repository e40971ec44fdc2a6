package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corsgate/corsgate/admin/auth"
	"github.com/corsgate/corsgate/admin/store"
	"github.com/corsgate/corsgate/plugin/core"
	"github.com/corsgate/corsgate/plugin/policy"
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
// layer and its revision, and the controller both are applied to.
type Server struct {
	ctrl   *core.Controller
	store  store.Store // nil when it could not be opened
	creds  *auth.Credentials
	logger Logger

	mu       sync.Mutex // serialises changes
	file     *policy.Document
	layer    *policy.Layer
	revision uint64

	status atomic.Pointer[Status]

	latMu     sync.Mutex
	latencies []time.Duration // of the last applies, a ring
	latNext   int
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
	// Revision is the run-time layer's revision (the ETag of the API).
	Revision uint64 `json:"revision"`
	// Applied is the controller's snapshot revision, which also counts
	// file reloads.
	Applied uint64 `json:"applied_snapshot"`
	Store   struct {
		Type string `json:"type"`
		Path string `json:"path,omitempty"`
		OK   bool   `json:"ok"`
		// Error says why the store cannot be used, or why its layer was
		// not applied at start.
		Error string `json:"error,omitempty"`
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

// NewServer loads the run-time layer from st and applies it over file,
// the configuration file's document, through ctrl. st may be nil when the
// store could not be opened (storeErr says why): the gateway then runs
// with the file alone, and writes answer 503. A layer that no longer
// validates against the file (an endpoint it names was removed, for
// example) is not applied either: the file alone serves, and the status
// says why. Neither case is fatal.
func NewServer(ctrl *core.Controller, file *policy.Document, st store.Store, storeErr error, storePath string, creds *auth.Credentials, configPath string, logger Logger) *Server {
	s := &Server{ctrl: ctrl, store: st, creds: creds, logger: logger, file: file.Clone(), layer: &policy.Layer{}}
	var status Status
	status.Store.Type, status.Store.Path = "embedded", storePath
	status.File.Path = configPath
	switch {
	case st == nil:
		status.Store.Error = fmt.Sprintf("the store cannot be opened, so run-time changes are off and the file alone applies: %v", storeErr)
		logger.Error(LogPrefix, status.Store.Error)
	default:
		status.Store.OK = true
		if err := s.loadLayer(context.Background()); err != nil {
			status.Store.Error = fmt.Sprintf("the run-time layer was not applied, so the file alone applies until it is fixed (a write, a rollback or a reset): %v", err)
			logger.Error(LogPrefix, status.Store.Error)
		}
	}
	status.Revision = s.revision
	status.Applied = ctrl.Snapshot().Revision()
	s.status.Store(&status)
	return s
}

// loadLayer reads the current revision and applies it.
func (s *Server) loadLayer(ctx context.Context) error {
	rec, err := s.store.Current(ctx)
	if err != nil {
		return err
	}
	s.revision = rec.Revision
	if rec.Revision == 0 {
		return nil
	}
	layer, err := policy.ParseLayer(rec.Layer)
	if err != nil {
		return fmt.Errorf("revision %d: %v", rec.Revision, err)
	}
	eff, errs := layer.Over(s.file)
	if errs != nil {
		return fmt.Errorf("revision %d does not validate against the file:\n%v", rec.Revision, errs)
	}
	if _, err := s.ctrl.Apply(eff); err != nil {
		return fmt.Errorf("revision %d does not validate against the file:\n%v", rec.Revision, err)
	}
	s.layer = layer
	return nil
}

// Status returns the status.
func (s *Server) Status() Status {
	st := *s.status.Load()
	st.Applied = s.ctrl.Snapshot().Revision()
	st.ApplyLatency = s.latency()
	return st
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

// state is a consistent view of the file, the layer and the revision.
func (s *Server) state() (*policy.Document, *policy.Layer, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.file.Clone(), s.layer.Clone(), s.revision
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

func (s *Server) apply(ctx context.Context, c change) (result, *apiError) {
	start := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.ifRevision != nil && *c.ifRevision != s.revision {
		e := errorf(http.StatusPreconditionFailed, "precondition_failed", "the configuration changed since revision %d; it is at revision %d: read it again (GET, then If-Match: \"%d\") and redo the change", *c.ifRevision, s.revision, s.revision)
		rev := s.revision
		e.Revision = &rev
		return result{}, e
	}
	cand := s.layer.Clone()
	if e := c.mutate(cand); e != nil {
		return result{}, e
	}
	eff, perrs := cand.Over(s.file)
	if perrs != nil {
		return result{}, invalid(perrs)
	}
	snap, err := core.Compile(eff, s.ctrl.Routes())
	if err != nil {
		var errs policy.Errors
		if errors.As(err, &errs) {
			return result{}, invalid(errs)
		}
		return result{}, errorf(http.StatusInternalServerError, "internal_error", "%v", err)
	}
	if c.dryRun {
		return result{Revision: s.revision, Warnings: snap.Warnings()}, nil
	}
	if s.store == nil {
		return result{}, errorf(http.StatusServiceUnavailable, "service_unavailable", "the store cannot be used, so changes cannot be kept: %s", s.status.Load().Store.Error)
	}
	if reflect.DeepEqual(normalize(cand), normalize(s.layer)) && c.source != SourceRollback && c.source != SourceReset {
		// Nothing changes: no new revision.
		return result{Revision: s.revision, Warnings: snap.Warnings()}, nil
	}
	layerJSON, _ := json.Marshal(cand)
	if cand.Empty() {
		layerJSON = []byte("null")
	}
	diff, _ := json.Marshal(diffLayers(s.layer, cand))
	rec, err := s.store.Commit(ctx, s.revision, store.Record{User: c.user, Source: c.source, Layer: layerJSON, Diff: diff})
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return result{}, errorf(http.StatusConflict, "conflict", "the store holds a revision this gateway has not seen (%v); restart it, or give each gateway its own store", err)
		}
		s.logger.Error(LogPrefix, "the store refused revision", s.revision+1, ":", err)
		return result{}, errorf(http.StatusServiceUnavailable, "service_unavailable", "the store refused the change, so nothing changed: %v", err)
	}
	if _, err := s.ctrl.Apply(eff); err != nil {
		// Compile accepted the same document a moment ago.
		s.logger.Error(LogPrefix, "revision", rec.Revision, "was stored but not applied:", err)
	}
	s.layer, s.revision = cand, rec.Revision
	s.recordLatency(time.Since(start))
	s.updateStatus(func(st *Status) { st.Revision = rec.Revision })
	s.logger.Info(LogPrefix, fmt.Sprintf("revision %d applied (%s, by %s)", rec.Revision, c.source, c.user))
	return result{Revision: rec.Revision, Warnings: snap.Warnings()}, nil
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
// nothing changes and the status keeps the error. A change of the file's
// CORS settings is recorded in the history as a revision of source
// "file" (the layer itself stays as it was), so that the ETag of the API
// changes with the effective settings.
func (s *Server) ReloadFile(file *policy.Document, restartRequired []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	eff, perrs := s.layer.Over(file)
	var err error
	if perrs != nil {
		err = perrs
	} else {
		_, err = s.ctrl.Apply(eff)
	}
	s.updateStatus(func(st *Status) {
		st.File.RestartRequired = restartRequired
		if err != nil {
			st.File.Error = err.Error()
			return
		}
		st.File.Error = ""
		st.File.LastReload = &now
	})
	if err != nil {
		return err
	}
	changes := diffDocuments(s.file, file)
	s.file = file.Clone()
	if len(changes) > 0 && s.store != nil {
		layerJSON, _ := json.Marshal(s.layer)
		if s.layer.Empty() {
			layerJSON = []byte("null")
		}
		diff, _ := json.Marshal(changes)
		rec, cerr := s.store.Commit(context.Background(), s.revision, store.Record{User: "file", Source: SourceFile, Layer: layerJSON, Diff: diff})
		if cerr != nil {
			s.logger.Error(LogPrefix, "the file's change is applied but not recorded in the history:", cerr)
			return nil
		}
		s.revision = rec.Revision
		s.updateStatus(func(st *Status) { st.Revision = rec.Revision })
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
