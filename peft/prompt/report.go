package prompt

import (
	"fmt"
	"strings"

	"github.com/graftml/graft/data"
	"github.com/graftml/graft/display"
	"github.com/graftml/graft/viz"
	"github.com/graftml/graft/viz/table"
)

// HarmonicMean returns 2ab/(a+b), the H of the base-to-new protocol (0 when
// both are 0).
func HarmonicMean(a, b float64) float64 {
	if a+b == 0 {
		return 0
	}
	return 2 * a * b / (a + b)
}

// Result is one method's base-to-new accuracies (fractions in [0, 1]).
type Result struct {
	Method       string
	Base, New, H float64
}

// BaseToNew evaluates c on the base classes' test images and on the new
// classes' (each dataset's Classes name its classes; the prompts are built
// for those names), with H their harmonic mean.
func BaseToNew(c Classifier, base, novel *data.Dataset) (Result, error) {
	if base == nil || novel == nil {
		return Result{}, fmt.Errorf("prompt: base-to-new needs a base and a new test set")
	}
	b, err := Evaluate(c, base.X, base.Labels, base.Classes)
	if err != nil {
		return Result{}, fmt.Errorf("prompt: %s on the base classes: %w", c.Name(), err)
	}
	n, err := Evaluate(c, novel.X, novel.Labels, novel.Classes)
	if err != nil {
		return Result{}, fmt.Errorf("prompt: %s on the new classes: %w", c.Name(), err)
	}
	return Result{Method: c.Name(), Base: b, New: n, H: HarmonicMean(b, n)}, nil
}

// Report collects base-to-new results: a table (method × base/new/H, in
// percent) when displayed, and a bar chart (Chart).
type Report struct {
	Title   string // caption of the table and title of the chart ("" : "base-to-new accuracy %")
	Results []Result
}

// Add appends a result.
func (r *Report) Add(res Result) { r.Results = append(r.Results, res) }

func (r *Report) title() string {
	if r.Title == "" {
		return "base-to-new accuracy %"
	}
	return r.Title
}

// Table returns the results in percent, one row per method.
func (r *Report) Table() *table.Table {
	t := table.New("method", "base", "new", "H")
	t.Caption = r.title()
	for _, res := range r.Results {
		_ = t.AddRow(res.Method, pct(res.Base), pct(res.New), pct(res.H))
	}
	return t
}

// pct writes a fraction as a percentage with one decimal.
func pct(v float64) string { return fmt.Sprintf("%.1f", 100*v) }

// Chart draws base, new and H (percent) per method as grouped bars.
func (r *Report) Chart() (*viz.Figure, error) {
	labels := make([]string, len(r.Results))
	groups := []viz.BarGroup{{Name: "base"}, {Name: "new"}, {Name: "H"}}
	for i, res := range r.Results {
		labels[i] = res.Method
		for g, v := range []float64{res.Base, res.New, res.H} {
			groups[g].Values = append(groups[g].Values, 100*v)
		}
	}
	// Horizontal bars with room beyond 100 % for the legend.
	return viz.Bars(labels, groups, viz.BarOptions{Orientation: "horizontal",
		Options: viz.Options{Title: r.title(), XLabel: "accuracy %", XMin: 0, XMax: 125, Legend: "top-right"}})
}

// String writes the table as aligned text: one line per method,
// "CoOp (M=4, end)  base 99.7  new 88.3  H 93.7".
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", r.title())
	w := 0
	for _, res := range r.Results {
		w = max(w, len([]rune(res.Method)))
	}
	for _, res := range r.Results {
		fmt.Fprintf(&b, "%-*s  base %5s  new %5s  H %5s\n", w, res.Method, pct(res.Base), pct(res.New), pct(res.H))
	}
	return b.String()
}

// Display shows the table, with String as its plain-text form.
func (r *Report) Display() display.Bundle {
	b := r.Table().Display()
	b.Data[display.MIMEText] = r.String()
	return b
}
