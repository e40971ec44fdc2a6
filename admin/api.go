package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/corsgate/corsgate/admin/auth"
	"github.com/corsgate/corsgate/admin/dashboard"
	"github.com/corsgate/corsgate/store"
	"github.com/corsgate/corsgate/engine/policy"
)

// Handler returns the admin API, every route behind auth.Guard.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(CloudantPath, s.cloudant)
	mux.HandleFunc("/v1/cors/config", s.methods(map[string]http.HandlerFunc{"GET": s.getConfig}))
	mux.HandleFunc("/v1/cors/layer", s.methods(map[string]http.HandlerFunc{"GET": s.getLayer, "PUT": s.putLayer}))
	mux.HandleFunc("/v1/cors/scopes/service", s.methods(map[string]http.HandlerFunc{"PUT": s.putScope, "DELETE": s.putScope}))
	mux.HandleFunc("/v1/cors/scopes/{method}/{path...}", s.methods(map[string]http.HandlerFunc{"PUT": s.putScope, "DELETE": s.putScope}))
	mux.HandleFunc("/v1/cors/validate", s.methods(map[string]http.HandlerFunc{"POST": s.validate}))
	mux.HandleFunc("/v1/cors/history", s.methods(map[string]http.HandlerFunc{"GET": s.history}))
	mux.HandleFunc("/v1/cors/rollback", s.methods(map[string]http.HandlerFunc{"POST": s.rollback}))
	mux.HandleFunc("/v1/cors/reset", s.methods(map[string]http.HandlerFunc{"POST": s.reset}))
	mux.HandleFunc("/v1/cors/decisions", s.methods(map[string]http.HandlerFunc{"GET": s.getDecisions}))
	mux.HandleFunc("/v1/cors/candidate", s.candidate)
	mux.Handle("/metrics", s.metricsHandler())
	mux.Handle("/dashboard/", dashboard.Handler())
	mux.HandleFunc("/dashboard", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/dashboard/", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/v1/cors/fleet", s.methods(map[string]http.HandlerFunc{"GET": s.fleet}))
	mux.HandleFunc("/v1/cors/status", s.methods(map[string]http.HandlerFunc{"GET": func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Status())
	}}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errorf(http.StatusNotFound, "not_found", "no admin route %s; the routes are %s and /v1/cors/{config,layer,scopes/...,validate,history,rollback,reset,fleet,status,decisions,candidate}, /metrics and /dashboard/", r.URL.Path, CloudantPath))
	})
	return auth.Guard(s.creds, func(msg string) { s.logger.Warning(LogPrefix, msg) }, mux)
}

// methods dispatches by method and answers 405 with Allow otherwise.
func (s *Server) methods(byMethod map[string]http.HandlerFunc) http.HandlerFunc {
	allowed := make([]string, 0, len(byMethod))
	for _, m := range []string{"GET", "HEAD", "PUT", "POST", "DELETE"} {
		if _, ok := byMethod[m]; ok {
			allowed = append(allowed, m)
		}
	}
	return func(w http.ResponseWriter, r *http.Request) {
		h, ok := byMethod[r.Method]
		if !ok && r.Method == http.MethodHead {
			h, ok = byMethod["GET"]
		}
		if !ok {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			writeError(w, errorf(http.StatusMethodNotAllowed, "method_not_allowed", "%s is not allowed on %s; use %s", r.Method, r.URL.Path, strings.Join(allowed, " or ")))
			return
		}
		h(w, r)
	}
}

// etag renders a revision as an ETag.
func etag(rev uint64) string { return `"` + strconv.FormatUint(rev, 10) + `"` }

// ifMatch reads If-Match: a quoted revision. required makes it 428 when
// absent.
func ifMatch(r *http.Request, required bool) (*uint64, *apiError) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" {
		if required {
			return nil, errorf(http.StatusPreconditionRequired, "precondition_required", "this write needs If-Match with the revision it changes, such as If-Match: \"3\"; read it from the ETag of GET /v1/cors/config")
		}
		return nil, nil
	}
	n, err := strconv.ParseUint(strings.Trim(strings.TrimPrefix(v, "W/"), `"`), 10, 64)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "bad_request", "If-Match %q is not a revision; send the ETag of GET /v1/cors/config, such as \"3\"", v)
	}
	return &n, nil
}

// configView is GET /v1/cors/config: the effective document, the file's,
// the layer and where each key comes from.
type configView struct {
	Revision  uint64                       `json:"revision"`
	Effective *policy.Document             `json:"effective"`
	File      *policy.Document             `json:"file"`
	Layer     *policy.Layer                `json:"layer"`
	Sources   map[string]map[string]string `json:"sources"`
}

func (s *Server) getConfig(w http.ResponseWriter, r *http.Request) {
	file, layer, rev := s.state()
	eff, _ := layer.Over(file)
	file.Paths = nil
	w.Header().Set("ETag", etag(rev))
	s.markStale(w)
	writeJSON(w, http.StatusOK, configView{Revision: rev, Effective: eff, File: file, Layer: layer, Sources: layer.Source(file)})
}

func (s *Server) getLayer(w http.ResponseWriter, r *http.Request) {
	_, layer, rev := s.state()
	w.Header().Set("ETag", etag(rev))
	s.markStale(w)
	writeJSON(w, http.StatusOK, layer)
}

// readLayer reads a layer body.
func readLayer(r *http.Request) (*policy.Layer, *apiError) {
	var l policy.Layer
	if e := readJSON(r, &l, true); e != nil {
		return nil, e
	}
	return &l, nil
}

// putLayer replaces the whole run-time layer.
func (s *Server) putLayer(w http.ResponseWriter, r *http.Request) {
	ifRev, e := ifMatch(r, true)
	if e == nil {
		var l *policy.Layer
		if l, e = readLayer(r); e == nil {
			s.write(w, r, change{ifRevision: ifRev, source: SourceAPI, mutate: func(cur *policy.Layer) *apiError {
				*cur = *l
				return nil
			}})
			return
		}
	}
	writeError(w, e)
}

// putScope replaces (PUT) or drops (DELETE) the layer's keys of one scope:
// /v1/cors/scopes/service or /v1/cors/scopes/GET/users/{id}.
func (s *Server) putScope(w http.ResponseWriter, r *http.Request) {
	scope := "service"
	if m := r.PathValue("method"); m != "" {
		scope = m + " /" + r.PathValue("path")
		if s.ctrl.Routes().Lookup(scope) == nil {
			writeError(w, errorf(http.StatusBadRequest, "bad_request", "the gateway serves no endpoint %s; routes cannot change at run time (a restart with a new file adds them)", scope))
			return
		}
	}
	ifRev, e := ifMatch(r, true)
	if e != nil {
		writeError(w, e)
		return
	}
	var keys map[string]json.RawMessage
	if r.Method == http.MethodPut {
		if e := readJSON(r, &keys, false); e != nil {
			writeError(w, e)
			return
		}
		if keys == nil {
			keys = map[string]json.RawMessage{}
		}
	}
	s.write(w, r, change{ifRevision: ifRev, source: SourceAPI, mutate: func(l *policy.Layer) *apiError {
		if scope == "service" {
			l.Service = keys
			return nil
		}
		if l.Endpoints == nil {
			l.Endpoints = map[string]map[string]json.RawMessage{}
		}
		if keys == nil {
			delete(l.Endpoints, scope)
		} else {
			l.Endpoints[scope] = keys
		}
		return nil
	}})
}

// write applies a change and answers its revision.
func (s *Server) write(w http.ResponseWriter, r *http.Request, c change) {
	c.user = auth.User(r.Context())
	wait, e := waitRequest(r)
	if e == nil {
		var res result
		if res, e = s.apply(r.Context(), c); e == nil {
			s.answerWrite(w, r, wait, res.Revision, map[string]any{"ok": true, "revision": res.Revision, "warnings": messages(res.Warnings)})
			return
		}
	}
	writeError(w, e)
}

func messages(errs policy.Errors) []fieldError {
	out := []fieldError{}
	for _, e := range errs {
		out = append(out, fieldError{Path: e.Path, Message: e.Message})
	}
	return out
}

// validate is the dry run of a whole layer: the errors check would give.
func (s *Server) validate(w http.ResponseWriter, r *http.Request) {
	l, e := readLayer(r)
	if e != nil {
		writeError(w, e)
		return
	}
	res, e := s.apply(r.Context(), change{dryRun: true, mutate: func(cur *policy.Layer) *apiError {
		*cur = *l
		return nil
	}})
	if e != nil {
		if e.status == http.StatusBadRequest {
			writeJSON(w, http.StatusOK, map[string]any{"valid": false, "errors": e.Errors, "reason": e.Reason})
			return
		}
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"valid": true, "errors": []fieldError{}, "warnings": messages(res.Warnings)})
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	if s.store == nil {
		writeError(w, errorf(http.StatusServiceUnavailable, "service_unavailable", "the store cannot be used: %s", s.Status().Store.Error))
		return
	}
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, errorf(http.StatusBadRequest, "bad_request", "limit=%q is not a positive number", v))
			return
		}
		limit = n
	}
	recs, err := s.store.History(r.Context(), limit)
	if err != nil {
		writeError(w, errorf(http.StatusServiceUnavailable, "service_unavailable", "the store cannot be read: %v", err))
		return
	}
	if recs == nil {
		recs = []store.Record{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"history": recs})
}

// rollback makes an earlier revision's layer the current one, as a new
// revision.
func (s *Server) rollback(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Revision uint64 `json:"revision"`
	}
	if e := readJSON(r, &body, true); e != nil {
		writeError(w, e)
		return
	}
	ifRev, e := ifMatch(r, false)
	if e != nil {
		writeError(w, e)
		return
	}
	if s.store == nil {
		writeError(w, errorf(http.StatusServiceUnavailable, "service_unavailable", "the store cannot be used: %s", s.Status().Store.Error))
		return
	}
	rec, err := s.store.Get(r.Context(), body.Revision)
	if err != nil {
		status := http.StatusServiceUnavailable
		if errors.Is(err, store.ErrNotFound) {
			status = http.StatusNotFound
		}
		writeError(w, errorf(status, "not_found", "revision %d cannot be read: %v", body.Revision, err))
		return
	}
	old, err := policy.ParseLayer(rec.Layer)
	if err != nil {
		writeError(w, errorf(http.StatusInternalServerError, "internal_error", "revision %d: %v", body.Revision, err))
		return
	}
	s.write(w, r, change{ifRevision: ifRev, source: SourceRollback, mutate: func(cur *policy.Layer) *apiError {
		*cur = *old
		return nil
	}})
}

// reset drops the run-time layer: the file alone applies.
func (s *Server) reset(w http.ResponseWriter, r *http.Request) {
	ifRev, e := ifMatch(r, false)
	if e != nil {
		writeError(w, e)
		return
	}
	s.write(w, r, change{ifRevision: ifRev, source: SourceReset, mutate: func(cur *policy.Layer) *apiError {
		*cur = policy.Layer{}
		return nil
	}})
}
