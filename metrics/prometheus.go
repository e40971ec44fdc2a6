package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

var (
	decisionsDesc = prometheus.NewDesc("corsgate_cors_decisions_total",
		"CORS decisions, by kind (preflight or actual), outcome (allowed, refused, ignored), reason and policy scope (service, or the endpoint with a policy of its own).",
		[]string{"kind", "outcome", "reason", "scope"}, nil)
	refusedDesc = prometheus.NewDesc("corsgate_cors_refused_origins_tracked",
		"Refusals counted by the top refused origins structure, per scope (the origins themselves are in GET /v1/cors/decisions, never in labels).",
		[]string{"scope"}, nil)
	candEvaluatedDesc = prometheus.NewDesc("corsgate_report_only_evaluated_total",
		"Requests the report-only candidate evaluated since it was set.", nil, nil)
	candDiffDesc = prometheus.NewDesc("corsgate_report_only_differences_total",
		"Requests the report-only candidate would decide differently, by kind and by the enforced and the candidate's reason.",
		[]string{"kind", "enforced", "candidate"}, nil)
)

// Describe implements prometheus.Collector.
func (d *Decisions) Describe(ch chan<- *prometheus.Desc) {
	ch <- decisionsDesc
	ch <- refusedDesc
	ch <- candEvaluatedDesc
	ch <- candDiffDesc
}

// Collect implements prometheus.Collector: the counters that are not
// zero, read at the moment of the scrape.
func (d *Decisions) Collect(ch chan<- prometheus.Metric) {
	for _, c := range d.Counts() {
		ch <- prometheus.MustNewConstMetric(decisionsDesc, prometheus.CounterValue, float64(c.N), c.Kind, c.Outcome, c.Reason, c.Scope)
	}
	for i := range d.top {
		if n := d.top[i].origins.Total() + d.top[i].others.Total(); n > 0 {
			ch <- prometheus.MustNewConstMetric(refusedDesc, prometheus.CounterValue, float64(n), d.scopes[i])
		}
	}
	if c := d.candidate.Load(); c != nil {
		rep := c.Report()
		ch <- prometheus.MustNewConstMetric(candEvaluatedDesc, prometheus.CounterValue, float64(rep.Evaluated))
		for _, ch2 := range rep.ByChange {
			ch <- prometheus.MustNewConstMetric(candDiffDesc, prometheus.CounterValue, float64(ch2.Count), ch2.Kind, ch2.Enforced, ch2.Candidate)
		}
	}
}
