package admin

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/corsgate/corsgate/admin/auth"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/internal/apierror"
	"github.com/corsgate/corsgate/schema"
	"github.com/corsgate/corsgate/state"
)

// etag renders a revision as an ETag.
func etag(rev uint64) string { return `"` + strconv.FormatUint(rev, 10) + `"` }

// ifMatch reads If-Match: a quoted revision, or nil when absent.
func ifMatch(r *http.Request) (*uint64, error) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseUint(strings.Trim(strings.TrimPrefix(v, "W/"), `"`), 10, 64)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "If-Match %q is not a revision; send the ETag of GET /v1/cors/config, such as \"3\"", v)
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
	// Provenance says, for each key of the layer, the revision that set
	// it, by whom and when.
	Provenance state.Provenance `json:"provenance"`
}

func (s *Server) getConfig(w http.ResponseWriter, r *http.Request) error {
	v := s.state.View()
	eff, _ := v.Layer.Over(v.File)
	v.File.Paths = nil
	s.readHeaders(w, v.Revision)
	prov := v.Provenance
	if prov == nil {
		prov = state.Provenance{}
	}
	writeJSON(w, http.StatusOK, configView{Revision: v.Revision, Effective: eff, File: v.File, Layer: v.Layer, Sources: v.Layer.Source(v.File), Provenance: prov})
	return nil
}

// scopeView is one entry of GET /v1/cors/scopes.
type scopeView struct {
	// Scope names it as the layer and the other routes do: "service",
	// or "METHOD /path" with {param} segments.
	Scope string `json:"scope"`
	// Method and Path are the endpoint's; empty for the service.
	Method string `json:"method,omitempty"`
	Path   string `json:"path,omitempty"`
	// Block says where the scope's own block comes from: "file",
	// "runtime", "file+runtime", or "" when it has none (an endpoint
	// then follows the service-level policy).
	Block string `json:"block"`
	// RuntimeKeys is how many keys the run-time layer sets on it.
	RuntimeKeys int `json:"runtime_keys"`
}

// listScopes is GET /v1/cors/scopes: the service, then every endpoint
// the gateway serves, in the order of the configuration. Routes only
// change with a restart, so this is the list a write may name.
func (s *Server) listScopes(w http.ResponseWriter, r *http.Request) error {
	v := s.state.View()
	if v.File == nil {
		v.File = &policy.Document{}
	}
	if v.Layer == nil {
		v.Layer = &policy.Layer{}
	}
	view := func(scope string, file *policy.Block, layer map[string]json.RawMessage) scopeView {
		sv := scopeView{Scope: scope, RuntimeKeys: len(layer)}
		switch {
		case file != nil && layer != nil:
			sv.Block = "file+runtime"
		case file != nil:
			sv.Block = "file"
		case layer != nil:
			sv.Block = "runtime"
		}
		return sv
	}
	out := []scopeView{view("service", v.File.Service, v.Layer.Service)}
	for _, rt := range s.state.Routes().Routes() {
		key := rt.Key()
		sv := view(key, v.File.Endpoints[key], v.Layer.Endpoints[key])
		sv.Method, sv.Path = rt.Method, rt.Template()
		out = append(out, sv)
	}
	s.readHeaders(w, v.Revision)
	writeJSON(w, http.StatusOK, map[string]any{"revision": v.Revision, "scopes": out})
	return nil
}

func (s *Server) getLayer(w http.ResponseWriter, r *http.Request) error {
	v := s.state.View()
	s.readHeaders(w, v.Revision)
	writeJSON(w, http.StatusOK, v.Layer)
	return nil
}

// readHeaders sets the headers of a read: its revision as the ETag, and
// the stale headers while the store does not answer.
func (s *Server) readHeaders(w http.ResponseWriter, rev uint64) {
	w.Header().Set("ETag", etag(rev))
	s.markStale(w)
}

// readLayer reads a layer body.
func readLayer(r *http.Request) (*policy.Layer, error) {
	var l policy.Layer
	if err := readJSON(r, &l, true); err != nil {
		return nil, err
	}
	return &l, nil
}

// replaceLayer is the Mutate of a change that replaces the whole layer.
func replaceLayer(l *policy.Layer) func(*policy.Document, *policy.Layer) error {
	return func(_ *policy.Document, cur *policy.Layer) error {
		*cur = *l
		return nil
	}
}

// putLayer replaces the whole run-time layer.
func (s *Server) putLayer(w http.ResponseWriter, r *http.Request) error {
	l, err := readLayer(r)
	if err != nil {
		return err
	}
	return s.write(w, r, s.change(state.Change{RequireIfRevision: true, Source: state.SourceAPI, Mutate: replaceLayer(l)}), fullAnswer)
}

// putScope replaces (PUT) or drops (DELETE) the layer's keys of one scope:
// /v1/cors/scopes/service or /v1/cors/scopes/GET/users/{id}.
func (s *Server) putScope(w http.ResponseWriter, r *http.Request) error {
	scope := "service"
	if m := r.PathValue("method"); m != "" {
		scope = m + " /" + r.PathValue("path")
		if s.state.Routes().Lookup(scope) == nil {
			return errorf(http.StatusBadRequest, "the gateway serves no endpoint %s; routes cannot change at run time (a restart with a new file adds them)", scope)
		}
	}
	var keys map[string]json.RawMessage
	if r.Method == http.MethodPut {
		if err := readJSON(r, &keys, false); err != nil {
			return err
		}
		if keys == nil {
			keys = map[string]json.RawMessage{}
		}
	}
	// The keys of the scope that the layer set and this write drops: the
	// file's value (or the default) applies to them again, which the
	// answer says.
	var dropped []apierror.Problem
	change := s.change(state.Change{RequireIfRevision: true, Source: state.SourceAPI, Mutate: func(_ *policy.Document, l *policy.Layer) error {
		old, path := l.Service, "service"
		if scope != "service" {
			old, path = l.Endpoints[scope], schema.Path("endpoints", scope)
		}
		dropped = nil
		for _, k := range slices.Sorted(maps.Keys(old)) {
			if _, kept := keys[k]; !kept {
				dropped = append(dropped, apierror.Problem{Path: schema.Path(path, k), Message: "dropped from the run-time layer by this write: the file's value, or the default, applies again"})
			}
		}
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
	return s.write(w, r, change, func(res state.Result) map[string]any {
		answer := fullAnswer(res)
		answer["warnings"] = append(dropped, answer["warnings"].([]apierror.Problem)...)
		return answer
	})
}

// writeFunc makes a change of the run-time state for user, based on
// the revision ifRevision when not nil.
type writeFunc func(ctx context.Context, user string, ifRevision *uint64) (state.Result, error)

// write reads what every write takes besides its body (If-Match, and
// ?wait=fleet), makes the change with do, and answers it with the body
// that answer gives (with ?wait=fleet, once the fleet applied it or the
// wait ended).
func (s *Server) write(w http.ResponseWriter, r *http.Request, do writeFunc, answer func(state.Result) map[string]any) error {
	ifRev, err := ifMatch(r)
	if err != nil {
		return err
	}
	wait, err := waitRequest(r)
	if err != nil {
		return err
	}
	res, err := do(r.Context(), auth.User(r.Context()), ifRev)
	if err != nil {
		return err
	}
	s.answerWrite(w, r, wait, res.Revision, answer(res))
	return nil
}

// change is the writeFunc of a change of the layer.
func (s *Server) change(c state.Change) writeFunc {
	return func(ctx context.Context, user string, ifRevision *uint64) (state.Result, error) {
		c.User, c.IfRevision = user, ifRevision
		return s.state.Write(ctx, c)
	}
}

// fullAnswer is the full API's answer to a write.
func fullAnswer(res state.Result) map[string]any {
	return map[string]any{"ok": true, "revision": res.Revision, "warnings": problemList(res.Warnings)}
}

// problems lists the problems of errs in the answer's shape; nil when
// there are none. Each message stands on its own (an unknown key's lists
// the known keys, FullMessage), since a client may read one problem only,
// and comes with its correction, when it suggests one.
func problems(errs policy.Errors) []apierror.Problem {
	var out []apierror.Problem
	for _, e := range errs {
		out = append(out, apierror.Problem{Path: e.Path, Message: e.FullMessage(), Fix: e.Fix})
	}
	return out
}

// problemList is problems, as an empty list when there are none.
func problemList(errs policy.Errors) []apierror.Problem {
	if out := problems(errs); out != nil {
		return out
	}
	return []apierror.Problem{}
}

// validate is the dry run of a whole layer: the errors check would give.
func (s *Server) validate(w http.ResponseWriter, r *http.Request) error {
	l, err := readLayer(r)
	if err != nil {
		return err
	}
	res, err := s.state.Check(state.Change{Mutate: replaceLayer(l)})
	var se *state.Error
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, map[string]any{"valid": true, "errors": []apierror.Problem{}, "warnings": problemList(res.Warnings)})
	case errors.As(err, &se) && se.Kind == state.Invalid:
		writeJSON(w, http.StatusOK, map[string]any{"valid": false, "errors": problems(se.Problems), "reason": se.Reason})
	default:
		return err
	}
	return nil
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) error {
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return errorf(http.StatusBadRequest, "limit=%q is not a positive number", v)
		}
		limit = n
	}
	recs, err := s.state.History(r.Context(), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"history": recs})
	return nil
}

// rollback makes an earlier revision's layer the current one, as a new
// revision.
func (s *Server) rollback(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Revision uint64 `json:"revision"`
	}
	if err := readJSON(r, &body, true); err != nil {
		return err
	}
	return s.write(w, r, func(ctx context.Context, user string, ifRevision *uint64) (state.Result, error) {
		return s.state.Rollback(ctx, body.Revision, user, ifRevision)
	}, fullAnswer)
}

// reset drops the run-time layer: the file alone applies.
func (s *Server) reset(w http.ResponseWriter, r *http.Request) error {
	return s.write(w, r, s.state.Reset, fullAnswer)
}

// diff is GET /v1/cors/diff: the file and the run-time layer compared key
// by key, and which one wins.
func (s *Server) diff(w http.ResponseWriter, r *http.Request) error {
	v := s.state.View()
	s.readHeaders(w, v.Revision)
	writeJSON(w, http.StatusOK, map[string]any{"revision": v.Revision, "keys": s.state.Drift()})
	return nil
}

// dropKey is DELETE /v1/cors/keys/{key}?scope=S: the key leaves the
// run-time layer, in one scope (service, or an endpoint such as
// "GET /users/{id}") or, without scope, in every scope.
func (s *Server) dropKey(w http.ResponseWriter, r *http.Request) error {
	key := r.PathValue("key")
	scope := r.URL.Query().Get("scope")
	if scope != "" && scope != "service" && scope != "gateway" && s.state.Routes().Lookup(scope) == nil {
		return errorf(http.StatusBadRequest, "scope=%q is neither service nor an endpoint of the gateway, such as \"GET /users/{id}\"", scope)
	}
	return s.write(w, r, func(ctx context.Context, user string, ifRevision *uint64) (state.Result, error) {
		return s.state.DropKey(ctx, key, scope, user, ifRevision)
	}, fullAnswer)
}
