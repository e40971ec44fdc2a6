package metrics

import (
	"context"
	"time"

	"github.com/corsgate/corsgate/engine/policy"
)

// DefaultStep is the interval of the time series.
const DefaultStep = 5 * time.Second

// maxPoints bounds the series: 10 minutes at DefaultStep.
const maxPoints = 120

// Point is the decisions of one step of the series: how many were allowed,
// and how many were refused, by reason.
type Point struct {
	Time    time.Time         `json:"time"`
	Allowed uint64            `json:"allowed"`
	Refused map[string]uint64 `json:"refused"`
	// Partial marks the last point: the step under way, so far.
	Partial bool `json:"partial,omitempty"`
}

// totals sums the counters over kinds and scopes.
func (d *Decisions) totals() Point {
	p := Point{Time: time.Now().UTC(), Refused: map[string]uint64{}}
	for k := 0; k < numKinds; k++ {
		for r := 0; r < numReasons; r++ {
			var n uint64
			for s := range d.scopes {
				n += d.counts[(k*numReasons+r)*len(d.scopes)+s].Load()
			}
			reason := policy.Reason(r)
			switch Outcome(reason) {
			case "allowed":
				p.Allowed += n
			case "refused":
				p.Refused[reason.String()] += n
			}
		}
	}
	return p
}

// Sample adds a point to the series: the decisions since the last sample.
// Run calls it every step; tests call it directly.
func (d *Decisions) Sample() {
	d.seriesMu.Lock()
	defer d.seriesMu.Unlock()
	p, now := d.sinceLast()
	d.last = now
	d.series = append(d.series, p)
	if len(d.series) > maxPoints {
		d.series = d.series[len(d.series)-maxPoints:]
	}
}

// sinceLast is the point of the decisions since the last sample, and the
// totals now. seriesMu is held.
func (d *Decisions) sinceLast() (Point, Point) {
	now := d.totals()
	p := Point{Time: now.Time, Allowed: now.Allowed - d.last.Allowed, Refused: map[string]uint64{}}
	for k, v := range now.Refused {
		if delta := v - d.last.Refused[k]; delta > 0 {
			p.Refused[k] = delta
		}
	}
	return p, now
}

// Series returns the points of the last minutes, oldest first, and the
// step between them. The last point is the step under way, so far
// (Partial), so that what just happened shows at once.
func (d *Decisions) Series() ([]Point, time.Duration) {
	d.seriesMu.Lock()
	defer d.seriesMu.Unlock()
	p, _ := d.sinceLast()
	p.Partial = true
	return append(append([]Point{}, d.series...), p), d.step
}

// Window is how far back the series goes once full: maxPoints steps.
func (d *Decisions) Window() time.Duration { return maxPoints * d.step }

// Run samples the series every step until ctx is done.
func (d *Decisions) Run(ctx context.Context) {
	d.seriesMu.Lock()
	d.last = d.totals()
	d.seriesMu.Unlock()
	t := time.NewTicker(d.step)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.Sample()
		}
	}
}
