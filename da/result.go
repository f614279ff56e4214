package da

import (
	"fmt"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/viz"
	"github.com/graftml/graft/viz/table"
)

// AccuracyTable returns one row per result: method, pair, steps, source and
// target accuracy.
func AccuracyTable(results ...*Result) *table.Table {
	t := table.New("method", "pair", "steps", "source acc", "target acc")
	for _, r := range results {
		if r == nil {
			continue
		}
		_ = t.AddRow(r.Method, r.Pair, r.Steps, r.SourceAccuracy, r.TargetAccuracy)
	}
	return t
}

// Table returns the result's accuracy table (one row).
func (r *Result) Table() *table.Table { return AccuracyTable(r) }

// Curves plots the training loss (with its classification and alignment
// parts), the source and target accuracy over training, and the
// alignment's λ schedule when it has one.
func (r *Result) Curves() (*viz.Figure, error) {
	steps := make([]float64, len(r.Loss))
	for i := range steps {
		steps[i] = float64(i + 1)
	}
	loss := []viz.Series{{Name: "total", X: steps, Y: r.Loss}, {Name: "source CE", X: steps, Y: r.ClassLoss}}
	if r.Method != "source-only" {
		loss = append(loss, viz.Series{Name: "alignment", X: steps, Y: r.AlignLoss})
	}
	lf, err := viz.Lines(loss, viz.LineOptions{Options: viz.Options{Title: r.Method + ": loss", XLabel: "step", Width: 4, Height: 3}, Smooth: 0.9})
	if err != nil {
		return nil, err
	}
	ev := make([]float64, len(r.EvalSteps))
	for i, s := range r.EvalSteps {
		ev[i] = float64(s)
	}
	af, err := viz.Lines([]viz.Series{
		{Name: "source", X: ev, Y: r.SourceCurve, Points: true},
		{Name: "target", X: ev, Y: r.TargetCurve, Points: true},
	}, viz.LineOptions{Options: viz.Options{Title: r.Method + ": accuracy", XLabel: "step", YLabel: "accuracy", Width: 4, Height: 3}})
	if err != nil {
		return nil, err
	}
	figs := []*viz.Figure{lf, af}
	if len(r.Lambda) > 0 {
		xf, err := viz.Lines([]viz.Series{{Name: "λ", X: steps, Y: r.Lambda}}, viz.LineOptions{Options: viz.Options{Title: r.Method + ": λ schedule", XLabel: "step", Width: 4, Height: 3}})
		if err != nil {
			return nil, err
		}
		figs = append(figs, xf)
	}
	return viz.Grid(len(figs), figs...)
}

// String summarises the result in one line.
func (r *Result) String() string {
	return fmt.Sprintf("%s on %s: source accuracy %.4f, target accuracy %.4f after %d steps", r.Method, r.Pair, r.SourceAccuracy, r.TargetAccuracy, r.Steps)
}

// Display shows the accuracy table and the training curves.
func (r *Result) Display() display.Bundle {
	t := r.Table()
	f, err := r.Curves()
	return viz.TableBundle(r.String()+"\n"+t.String(), t.HTML(), f, err)
}
