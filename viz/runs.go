package viz

import (
	"fmt"
	"math"
	"sort"
)

// Run is one training run of a comparison: the method it tried, the seed
// it used, and its history.
type Run struct {
	// Method names the group the run belongs to ("LoRA r=8", "DANN" …).
	Method string
	// Seed tells runs of one method apart (informational).
	Seed int
	// History is the run's record; *train.History and *Tracker fit.
	History TrainingHistory
}

// CompareOptions are the settings of CompareRuns.
type CompareOptions struct {
	Options
	// Metric is the metric compared (default "loss").
	Metric string
	// Eval compares the evaluation series instead of the per-step train
	// series; by default evaluations are used when the metric has no
	// per-step values.
	Eval bool
	// PerEpoch compares per-epoch means ("eval_" prefixed metrics allowed).
	PerEpoch bool
	// Smooth is the EMA weight applied to each run's per-step series before
	// averaging (0: automatic as in History, negative: none).
	Smooth float64
	// ShowRuns draws each run faintly behind its method's mean.
	ShowRuns bool
}

// CompareRuns draws several runs of several methods on one figure: per
// method the mean over its runs as a line and ±1 sample standard deviation
// as a shaded band (no band for a single run). Runs are grouped by Method in
// order of first appearance; a method's mean is taken over the x values
// (steps, evaluation steps or epochs) that all of its runs reached, and the
// caption says when runs of one method differ in length.
func CompareRuns(runs []Run, opt CompareOptions) (*Figure, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("viz.CompareRuns: no runs")
	}
	metric := opt.Metric
	if metric == "" {
		metric = "loss"
	}
	var order []string
	groups := map[string][]Run{}
	for i, r := range runs {
		if r.History == nil {
			return nil, fmt.Errorf("viz.CompareRuns: run %d (%q, seed %d) has no history", i, r.Method, r.Seed)
		}
		if _, ok := groups[r.Method]; !ok {
			order = append(order, r.Method)
		}
		groups[r.Method] = append(groups[r.Method], r)
	}
	var series []Series
	var notes []string
	xlabel := "step"
	for gi, method := range order {
		var curves []curve
		for _, r := range groups[method] {
			c, label := runCurve(r.History, metric, opt)
			xlabel = label
			curves = append(curves, c)
		}
		xs, mean, std, dropped := meanCurve(curves)
		if dropped > 0 {
			notes = append(notes, fmt.Sprintf("%s: runs differ in length; mean over the %d %ss all %d runs reached", method, len(xs), xlabel, len(curves)))
		}
		if opt.ShowRuns && len(curves) > 1 {
			for _, c := range curves {
				series = append(series, Series{X: c.x, Y: c.y, Colour: gi + 1, Smooth: -1, faint: true})
			}
		}
		s := Series{Name: fmt.Sprintf("%s (n=%d)", method, len(curves)), X: xs, Y: mean, Colour: gi + 1, Smooth: -1}
		if len(curves) > 1 {
			s.Band = std
		}
		s.Points = len(xs) <= 30 // sparse curves (evaluations, epochs) show their points
		series = append(series, s)
	}
	lopt := opt.Options
	lopt.XLabel = firstNonEmpty(opt.XLabel, xlabel)
	lopt.YLabel = firstNonEmpty(opt.YLabel, metric)
	f, err := Lines(series, LineOptions{Options: lopt})
	if err != nil {
		return nil, fmt.Errorf("viz.CompareRuns: %w", err)
	}
	f.notes = append(notes, f.notes...)
	f.desc = fmt.Sprintf("comparison of %d methods over %d runs", len(order), len(runs))
	f.marks = len(order)
	return f, nil
}

// curve is one run's values of the compared metric against its x values.
type curve struct{ x, y []float64 }

// runCurve picks the series CompareRuns compares from one history, and the
// name of its x axis.
func runCurve(h TrainingHistory, metric string, opt CompareOptions) (curve, string) {
	if opt.PerEpoch {
		return curve{floats(h.EpochNumbers()), h.EpochSeries(metric)}, "epoch"
	}
	ys := h.Series(metric)
	if opt.Eval || !anyFinite(ys) {
		return curve{floats(h.EvalSteps()), h.EvalSeries(metric)}, "step"
	}
	smooth := opt.Smooth
	if smooth == 0 {
		smooth = autoSmooth(len(ys))
	}
	if smooth > 0 {
		ys = EMA(ys, smooth)
	}
	return curve{floats(h.Steps()), ys}, "step"
}

// meanCurve averages curves over the x values all of them have, ignoring
// non-finite values; std is the sample standard deviation (0 for one
// value). dropped counts x values some curve lacked.
func meanCurve(curves []curve) (xs, mean, std []float64, dropped int) {
	count := map[float64]int{}
	for _, c := range curves {
		seen := map[float64]bool{}
		for _, x := range c.x {
			if !seen[x] {
				seen[x] = true
				count[x]++
			}
		}
	}
	for x, n := range count {
		if n == len(curves) {
			xs = append(xs, x)
		} else {
			dropped++
		}
	}
	sort.Float64s(xs)
	index := make(map[float64]int, len(xs))
	for i, x := range xs {
		index[x] = i
	}
	// Two passes over the values: the mean, then squared deviations from it.
	sum := make([]float64, len(xs))
	n := make([]int, len(xs))
	each := func(f func(j int, v float64)) {
		for _, c := range curves {
			for i, x := range c.x {
				if j, ok := index[x]; ok && finite(c.y[i]) {
					f(j, c.y[i])
				}
			}
		}
	}
	each(func(j int, v float64) { sum[j] += v; n[j]++ })
	mean = make([]float64, len(xs))
	for j := range xs {
		mean[j] = sum[j] / float64(n[j]) // NaN when no run has a finite value
	}
	dev := make([]float64, len(xs))
	each(func(j int, v float64) { dev[j] += (v - mean[j]) * (v - mean[j]) })
	std = make([]float64, len(xs))
	for j := range xs {
		if n[j] > 1 {
			std[j] = math.Sqrt(dev[j] / float64(n[j]-1))
		}
	}
	return xs, mean, std, dropped
}
