package table

import (
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/graftml/graft/display"
)

// Results collects the outcome of comparing runs — several methods, each run
// with several seeds — and shows it as a table with one row per method (in the
// order methods were first added), one column per metric (likewise) and a
// column with the number of runs. Each cell is "mean ± std" over the runs
// (sample standard deviation, n−1; just the mean for a single run), the best
// mean of each metric in bold (marked * in text). NaN and ±Inf values are
// skipped and counted in the caption.
type Results struct {
	// Caption is shown above the table, before the count of skipped values.
	Caption string
	// Digits is the number of significant digits means and deviations are
	// written with; 0 means 4.
	Digits int

	methods []string
	metrics []string
	values  map[[2]string][]float64
	lower   map[string]bool
	skipped int
}

// NewResults returns an empty results table.
func NewResults() *Results {
	r := &Results{}
	r.init()
	return r
}

// init makes the maps of a zero Results.
func (r *Results) init() {
	if r.values == nil {
		r.values = map[[2]string][]float64{}
	}
	if r.lower == nil {
		r.lower = map[string]bool{}
	}
}

// Add records one run's value of metric for method. A NaN or infinite value
// is not recorded but counted (see Skipped); the method and metric still get
// their row and column.
func (r *Results) Add(method, metric string, value float64) {
	r.init()
	if !slices.Contains(r.methods, method) {
		r.methods = append(r.methods, method)
	}
	if !slices.Contains(r.metrics, metric) {
		r.metrics = append(r.metrics, metric)
	}
	if math.IsNaN(value) || math.IsInf(value, 0) {
		r.skipped++
		return
	}
	key := [2]string{method, metric}
	r.values[key] = append(r.values[key], value)
}

// AddRun records one run of method with several metrics; metrics not seen
// before get their columns in alphabetical order.
func (r *Results) AddRun(method string, metrics map[string]float64) {
	names := make([]string, 0, len(metrics))
	for name := range metrics {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		r.Add(method, name, metrics[name])
	}
}

// LowerIsBetter marks metrics (losses, errors) whose best value is the
// lowest; every other metric is best when highest.
func (r *Results) LowerIsBetter(metrics ...string) {
	r.init()
	for _, m := range metrics {
		r.lower[m] = true
	}
}

// Methods returns the methods in the order they were first added.
func (r *Results) Methods() []string { return slices.Clone(r.methods) }

// Metrics returns the metrics in the order they were first added.
func (r *Results) Metrics() []string { return slices.Clone(r.metrics) }

// Skipped returns how many non-finite values Add left out.
func (r *Results) Skipped() int { return r.skipped }

// Values returns the finite values recorded for method and metric, in the
// order they were added.
func (r *Results) Values(method, metric string) []float64 {
	return slices.Clone(r.values[[2]string{method, metric}])
}

// Mean returns the mean and sample standard deviation (n−1 in the
// denominator) of the finite values recorded for method and metric, and
// their number n. With n = 0 both are NaN; with n = 1 the deviation is NaN.
func (r *Results) Mean(method, metric string) (mean, std float64, n int) {
	v := r.values[[2]string{method, metric}]
	n = len(v)
	if n == 0 {
		return math.NaN(), math.NaN(), 0
	}
	for _, x := range v {
		mean += x
	}
	mean /= float64(n)
	if n == 1 {
		return mean, math.NaN(), 1
	}
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(n-1)), n
}

// Best returns the methods with the best mean for metric (several when tied),
// or nil when fewer than two methods have values for it.
func (r *Results) Best(metric string) []string {
	var best []string
	var bestMean float64
	have := 0
	for _, m := range r.methods {
		mean, _, n := r.Mean(m, metric)
		if n == 0 {
			continue
		}
		have++
		better := mean > bestMean
		if r.lower[metric] {
			better = mean < bestMean
		}
		switch {
		case best == nil || better:
			best, bestMean = []string{m}, mean
		case mean == bestMean:
			best = append(best, m)
		}
	}
	if have < 2 {
		return nil
	}
	return best
}

// Table returns the results laid out as a Table, for further changes before
// showing it.
func (r *Results) Table() *Table {
	cols := []string{"method"}
	for _, m := range r.metrics {
		arrow := " ↑"
		if r.lower[m] {
			arrow = " ↓"
		}
		cols = append(cols, m+arrow)
	}
	cols = append(cols, "runs")
	t := New(cols...)
	t.Digits = r.Digits
	t.Caption = r.Caption
	if r.skipped > 0 {
		note := plural(r.skipped, "non-finite value", "non-finite values") + " skipped"
		if t.Caption != "" {
			t.Caption += "; " + note
		} else {
			t.Caption = note
		}
	}
	best := map[[2]string]bool{}
	for _, metric := range r.metrics {
		for _, m := range r.Best(metric) {
			best[[2]string{m, metric}] = true
		}
	}
	for _, method := range r.methods {
		runs := 0
		for _, metric := range r.metrics {
			runs = max(runs, len(r.values[[2]string{method, metric}]))
		}
		row := []any{method}
		for _, metric := range r.metrics {
			mean, std, n := r.Mean(method, metric)
			c := Cell{Text: "—", Right: true, Bold: best[[2]string{method, metric}]}
			if n > 0 {
				c.Text = t.formatFloat(mean, 64)
				if n > 1 {
					c.Text += " ± " + t.formatFloat(std, 64)
				}
				if n < runs {
					c.Text += " (n=" + strconv.Itoa(n) + ")"
				}
			}
			row = append(row, c)
		}
		row = append(row, runs)
		_ = t.AddRow(row...) // the row has one cell per column by construction
	}
	return t
}

// Display implements display.Displayer: the results table as HTML with a
// text/plain fallback.
func (r *Results) Display() display.Bundle { return r.Table().Display() }

// String returns the results table as plain text.
func (r *Results) String() string { return r.Table().String() }
