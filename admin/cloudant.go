package admin

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/corsgate/corsgate/admin/auth"
	"github.com/corsgate/corsgate/engine/policy"
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
// does.
func cloudantView(file *policy.Document, layer *policy.Layer) cloudantCORS {
	out := cloudantCORS{Origins: []string{}}
	eff, errs := layer.Over(file)
	if errs != nil || layer.Off || eff.Service == nil {
		return out
	}
	svc := eff.Service
	out.EnableCORS = true
	out.AllowCredentials = svc.AllowCredentials != nil && *svc.AllowCredentials
	switch {
	case slices.Contains(svc.AllowOrigins, "*"), len(svc.AllowOrigins) == 0 && len(svc.AllowOriginsRegex) == 0:
		out.Origins = []string{"*"}
	default:
		out.Origins = slices.Clone(svc.AllowOrigins)
	}
	return out
}

func (s *Server) cloudant(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		file, layer, rev := s.state()
		w.Header().Set("ETag", etag(rev))
		s.markStale(w)
		writeJSON(w, http.StatusOK, cloudantView(file, layer))
	case http.MethodPut:
		var body cloudantPut
		if e := readJSON(r, &body, true); e != nil {
			writeError(w, e)
			return
		}
		ifRev, e := ifMatch(r, false)
		if e != nil {
			writeError(w, e)
			return
		}
		wait, e := waitRequest(r)
		if e != nil {
			writeError(w, e)
			return
		}
		res, e := s.apply(r.Context(), change{
			user: auth.User(r.Context()), source: SourceCloudant, ifRevision: ifRev,
			mutate: func(l *policy.Layer) *apiError { return cloudantMutate(s.cur.Load().file, l, body) },
		})
		if e != nil {
			writeError(w, cloudantPaths(e))
			return
		}
		s.answerWrite(w, r, wait, res.Revision, map[string]any{"ok": true})
	default:
		w.Header().Set("Allow", "GET, HEAD, PUT")
		writeError(w, errorf(http.StatusMethodNotAllowed, "method_not_allowed", "%s is not allowed here; use GET or PUT", r.Method))
	}
}

// cloudantMutate turns a Cloudant PUT into a change of the layer's
// service keys.
func cloudantMutate(file *policy.Document, l *policy.Layer, body cloudantPut) *apiError {
	if body.EnableCORS != nil {
		l.Off = !*body.EnableCORS
	}
	if l.Service == nil {
		l.Service = map[string]json.RawMessage{}
	}
	if body.Origins != nil {
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
	if body.AllowCredentials != nil {
		l.Service["allow_credentials"] = mustJSON(*body.AllowCredentials)
	}
	if len(l.Service) == 0 {
		l.Service = nil
	}
	return nil
}

// cloudantPaths names the Cloudant body's keys in the errors of a
// refused PUT, and names the unsafe opt-in when "*" meets credentials.
func cloudantPaths(e *apiError) *apiError {
	rename := func(p string) string {
		p = strings.Replace(p, "service.allow_origins", "origins", 1)
		return strings.Replace(p, "service.allow_credentials", "allow_credentials", 1)
	}
	for i := range e.Errors {
		e.Errors[i].Path = rename(e.Errors[i].Path)
		if strings.HasPrefix(e.Errors[i].Path, "origins") && strings.Contains(e.Errors[i].Message, "allow_credentials") {
			hint := " (only the configuration file can allow every origin with credentials, with allow_any_origin_with_credentials_unsafe: true)"
			if !strings.Contains(e.Errors[i].Message, "allow_any_origin_with_credentials_unsafe") {
				e.Errors[i].Message += hint
			}
		}
	}
	if len(e.Errors) > 0 {
		e.Reason = e.Errors[0].Path + ": " + e.Errors[0].Message
		if len(e.Errors) > 1 {
			e.Reason += " (and more, listed in errors)"
		}
	}
	return e
}
