package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/corsgate/corsgate/admin/auth"
	"github.com/corsgate/corsgate/engine/policy"
	"github.com/corsgate/corsgate/metrics"
	"github.com/corsgate/corsgate/state"
)

// The metrics of the configuration, beside the decisions'.
var (
	revisionDesc = prometheus.NewDesc("corsgate_config_revision", "The revision of the run-time layer this gateway applies (0: the file alone).", nil, nil)
	appliesDesc  = prometheus.NewDesc("corsgate_config_applies_total", "Configurations applied (result ok: a write, a revision from the store, a reload of the file) or refused (failed: a store revision or a file that did not validate).", []string{"result"}, nil)
	storeUpDesc  = prometheus.NewDesc("corsgate_store_up", "1 when the store answers and its current revision is applied, 0 otherwise.", []string{"type"}, nil)
	refusedDesc  = prometheus.NewDesc("corsgate_store_revision_refused", "1 while the store's current revision is refused by this gateway.", nil, nil)
	guardDesc    = prometheus.NewDesc("corsgate_admin_refusals_total", "Admin API requests refused by the guard, by reason: unauthorized (wrong or no credentials), throttled (a client waiting after failed attempts), misdirected (a Host the listener does not answer to), read_only (a write with a read-only credential).", []string{"reason"}, nil)
)

// configCollector exports the status as metrics.
type configCollector struct{ s *Server }

func (c configCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- revisionDesc
	ch <- appliesDesc
	ch <- storeUpDesc
	ch <- refusedDesc
	ch <- guardDesc
}

func (c configCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.state.Status()
	ok, failed := c.s.state.Applies()
	ch <- prometheus.MustNewConstMetric(revisionDesc, prometheus.GaugeValue, float64(st.Revision))
	ch <- prometheus.MustNewConstMetric(appliesDesc, prometheus.CounterValue, float64(ok), "ok")
	ch <- prometheus.MustNewConstMetric(appliesDesc, prometheus.CounterValue, float64(failed), "failed")
	up, refused := 0.0, 0.0
	if st.Store.OK {
		up = 1
	}
	if st.Store.Refused != nil {
		refused = 1
	}
	ch <- prometheus.MustNewConstMetric(storeUpDesc, prometheus.GaugeValue, up, st.Store.Type)
	ch <- prometheus.MustNewConstMetric(refusedDesc, prometheus.GaugeValue, refused)
	g := c.s.guard.Stats()
	ch <- prometheus.MustNewConstMetric(guardDesc, prometheus.CounterValue, float64(g.AuthFailures), "unauthorized")
	ch <- prometheus.MustNewConstMetric(guardDesc, prometheus.CounterValue, float64(g.Throttled), "throttled")
	ch <- prometheus.MustNewConstMetric(guardDesc, prometheus.CounterValue, float64(g.Misdirected), "misdirected")
	ch <- prometheus.MustNewConstMetric(guardDesc, prometheus.CounterValue, float64(g.ReadOnlyRefused), "read_only")
}

// metricsHandler serves /metrics: the decisions, the configuration, and
// the Go runtime's and the process's metrics.
func (s *Server) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(configCollector{s}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if s.decisions != nil {
		reg.MustRegister(s.decisions)
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: nil, ErrorHandling: promhttp.ContinueOnError})
}

// decisionsView is GET /v1/cors/decisions.
type decisionsView struct {
	StepSeconds float64 `json:"step_seconds"`
	// WindowSeconds is how far back the series can go: the chart's width.
	WindowSeconds float64            `json:"window_seconds"`
	Series        []metrics.Point    `json:"series"`
	TopRefused    []metrics.ScopeTop `json:"top_refused"`
	Candidate     *metrics.Report    `json:"candidate"`
}

// needDecisions answers 503 when the gateway does not count decisions.
func (s *Server) needDecisions(h handler) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.decisions == nil {
			return errorf(http.StatusServiceUnavailable, "this gateway does not count its CORS decisions (it was built without them)")
		}
		return h(w, r)
	}
}

func (s *Server) getDecisions(w http.ResponseWriter, r *http.Request) error {
	series, step := s.decisions.Series()
	v := decisionsView{StepSeconds: step.Seconds(), WindowSeconds: s.decisions.Window().Seconds(), Series: series, TopRefused: s.decisions.TopRefused()}
	if c := s.decisions.Candidate(); c != nil {
		rep := c.Report()
		v.Candidate = &rep
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// getCandidate is GET /v1/cors/candidate: the report-only findings.
func (s *Server) getCandidate(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.decisions.Candidate().Report())
	return nil
}

// deleteCandidate stops report-only mode.
func (s *Server) deleteCandidate(w http.ResponseWriter, r *http.Request) error {
	rep := s.decisions.Candidate().Report()
	s.decisions.SetCandidate(nil)
	if rep.Active {
		s.logger.Info(LogPrefix, "report-only mode stopped")
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "report": rep})
	return nil
}

// putCandidate starts report-only mode with a candidate layer, validated
// like a write and never enforced.
func (s *Server) putCandidate(w http.ResponseWriter, r *http.Request) error {
	l, err := readLayer(r)
	if err != nil {
		return err
	}
	snap, rev, diff, err := s.state.Evaluate(l)
	if err != nil {
		return err
	}
	data, _ := json.Marshal(l)
	if diff == nil {
		diff = []state.KeyChange{}
	}
	diffJSON, _ := json.Marshal(diff)
	s.decisions.SetCandidate(metrics.NewCandidate(snap, data, rev, diffJSON, func(line string) { s.logger.Warning(LogPrefix, line) }))
	s.logger.Info(LogPrefix, "report-only mode: a candidate layer is evaluated beside the policy in force, by", auth.User(r.Context()))
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "warnings": problemList(snap.Warnings())})
	return nil
}

// applyCandidate is POST /v1/cors/candidate/apply: the candidate under
// evaluation, exactly as it is evaluated, becomes the run-time layer, as
// a new revision; If-Match must be the revision it was judged against
// (the report's revision), and the body may name it by its since. The
// evaluation then ends.
func (s *Server) applyCandidate(w http.ResponseWriter, r *http.Request) error {
	c := s.decisions.Candidate()
	if c == nil {
		return errorf(http.StatusConflict, "no candidate is under evaluation: start report-only with PUT /v1/cors/candidate, look at its findings, then apply it")
	}
	var body struct {
		Since *time.Time `json:"since"`
	}
	if r.ContentLength != 0 {
		if err := readJSON(r, &body, true); err != nil {
			return err
		}
	}
	if body.Since != nil && !body.Since.Equal(c.Since()) {
		return errorf(http.StatusConflict, "the candidate under evaluation started at %s, not at %s: it is not the one you looked at; read GET /v1/cors/candidate again", c.Since().Format(time.RFC3339Nano), body.Since.Format(time.RFC3339Nano))
	}
	layer, err := policy.ParseLayer(c.Layer())
	if err != nil {
		return errorf(http.StatusInternalServerError, "the candidate cannot be read back: %v", err)
	}
	return s.write(w, r, func(ctx context.Context, user string, ifRevision *uint64) (state.Result, error) {
		if ifRevision != nil && *ifRevision != c.Revision() {
			rev := c.Revision()
			return state.Result{}, &state.Error{Kind: state.PreconditionFailed, Current: &rev, Reason: fmt.Sprintf("the candidate was judged against revision %d, not %d: look at its diff (GET /v1/cors/candidate), then send If-Match: \"%d\"", c.Revision(), *ifRevision, c.Revision())}
		}
		res, err := s.state.Write(ctx, state.Change{User: user, Source: state.SourceCandidate, IfRevision: ifRevision, RequireIfRevision: true, Mutate: func(_ *policy.Document, l *policy.Layer) error {
			*l = *layer
			return nil
		}})
		if err == nil && s.decisions.EndCandidate(c) {
			s.logger.Info(LogPrefix, fmt.Sprintf("report-only mode ended: its candidate is revision %d, applied by %s", res.Revision, user))
		}
		return res, err
	}, func(res state.Result) map[string]any {
		answer := fullAnswer(res)
		answer["report"] = c.Report()
		return answer
	})
}
