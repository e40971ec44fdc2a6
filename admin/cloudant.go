package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/state"
)

// CloudantPath is the route of Cloudant's CORS API.
const CloudantPath = "/_api/v2/user/config/cors"

// cloudantCORS is the body of Cloudant's CORS API.
type cloudantCORS struct {
	EnableCORS       bool     `json:"enable_cors"`
	AllowCredentials bool     `json:"allow_credentials"`
	Origins          []string `json:"origins"`
}

// cloudantPut is a PUT's body: absent keys keep their values.
type cloudantPut struct {
	EnableCORS       *bool     `json:"enable_cors"`
	AllowCredentials *bool     `json:"allow_credentials"`
	Origins          *[]string `json:"origins"`
}

// cloudantView describes the effective service-level policy as Cloudant
// does. While the layer turns CORS off, enable_cors is false and the
// other keys keep the values they have when it is on, as Cloudant shows
// them.
func cloudantView(file *policy.Document, layer *policy.Layer) cloudantCORS {
	out := cloudantCORS{Origins: []string{}}
	on := layer
	if layer.Off {
		on = layer.Clone()
		on.Off = false
	}
	eff, errs := on.Over(file)
	if errs != nil || eff.Service == nil {
		return out
	}
	svc := eff.Service
	out.EnableCORS = !layer.Off
	out.AllowCredentials = svc.AllowCredentials != nil && *svc.AllowCredentials
	switch {
	case slices.Contains(svc.AllowOrigins, "*"), len(svc.AllowOrigins) == 0 && len(svc.AllowOriginsRegex) == 0:
		out.Origins = []string{"*"}
	default:
		out.Origins = slices.Clone(svc.AllowOrigins)
	}
	return out
}

// getCloudant is Cloudant's GET: the effective service-level policy.
func (s *Server) getCloudant(w http.ResponseWriter, r *http.Request) error {
	v := s.state.View()
	s.readHeaders(w, v.Revision)
	writeJSON(w, http.StatusOK, cloudantView(v.File, v.Layer))
	return nil
}

// putCloudant is Cloudant's PUT: absent keys keep their values.
func (s *Server) putCloudant(w http.ResponseWriter, r *http.Request) error {
	var body cloudantPut
	if err := readJSON(r, &body, true); err != nil {
		return err
	}
	put := s.change(state.Change{Source: state.SourceCloudant, Mutate: func(file *policy.Document, l *policy.Layer) error {
		cloudantMutate(file, l, body)
		return nil
	}})
	return s.write(w, r, func(ctx context.Context, user string, ifRevision *uint64) (state.Result, error) {
		res, err := put(ctx, user, ifRevision)
		return res, cloudantPaths(err)
	}, func(state.Result) map[string]any { return map[string]any{"ok": true} })
}

// cloudantMutate turns a Cloudant PUT into a change of the layer's
// service keys: only the keys its body carries and whose values differ
// from the effective ones are written, so that a key the operator did not
// change stays the file's (a key the layer sets masks the file's later
// edits of it).
func cloudantMutate(file *policy.Document, l *policy.Layer, body cloudantPut) {
	shown := cloudantView(file, l)
	if body.EnableCORS != nil {
		l.Off = !*body.EnableCORS
	}
	if l.Service == nil {
		l.Service = map[string]json.RawMessage{}
	}
	if body.Origins != nil && !sameOrigins(*body.Origins, shown.Origins) {
		origins := *body.Origins
		if origins == nil {
			origins = []string{}
		}
		l.Service["allow_origins"] = mustJSON(origins)
		// Origins listed by the operator are what was asked for: the
		// file's unsafe opt-in, which only applies to "*", is turned off.
		listed := slices.ContainsFunc(origins, func(o string) bool { return o != "*" })
		if fileSvc := file.Service; listed && fileSvc != nil && fileSvc.AllowAnyOriginWithCredentialsUnsafe != nil && *fileSvc.AllowAnyOriginWithCredentialsUnsafe {
			l.Service["allow_any_origin_with_credentials_unsafe"] = mustJSON(false)
		}
	}
	if body.AllowCredentials != nil && *body.AllowCredentials != shown.AllowCredentials {
		l.Service["allow_credentials"] = mustJSON(*body.AllowCredentials)
	}
	if len(l.Service) == 0 {
		l.Service = nil
	}
}

// sameOrigins reports whether a PUT's origins are those Cloudant's view
// shows: the same list, where an empty list and ["*"] both allow every
// origin.
func sameOrigins(put, shown []string) bool {
	if len(put) == 0 {
		put = []string{"*"}
	}
	return slices.Equal(put, shown)
}

// cloudantPaths names the Cloudant body's keys in the problems of a
// refused PUT, and names the unsafe opt-in when "*" meets credentials.
func cloudantPaths(err error) error {
	var e *state.Error
	if !errors.As(err, &e) || len(e.Problems) == 0 {
		return err
	}
	rename := func(p string) string {
		p = strings.Replace(p, "service.allow_origins", "origins", 1)
		return strings.Replace(p, "service.allow_credentials", "allow_credentials", 1)
	}
	out := *e
	out.Problems = slices.Clone(e.Problems)
	for i := range out.Problems {
		p := &out.Problems[i]
		p.Path = rename(p.Path)
		if strings.HasPrefix(p.Path, "origins") && strings.Contains(p.Message, "allow_credentials") && !strings.Contains(p.Message, "allow_any_origin_with_credentials_unsafe") {
			p.Message += " (only the configuration file can allow every origin with credentials, with allow_any_origin_with_credentials_unsafe: true)"
		}
	}
	out.Reason = out.Problems[0].Path + ": " + out.Problems[0].FullMessage()
	if len(out.Problems) > 1 {
		out.Reason += " (and more, listed in errors)"
	}
	return &out
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
