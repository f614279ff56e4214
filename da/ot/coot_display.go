package ot

import (
	"fmt"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/viz"
)

// String is one line on the result: value, objective, alternations,
// convergence and the plans' shapes.
func (r *COOTResult) String() string {
	conv := "converged"
	if !r.Converged {
		conv = "NOT converged"
	}
	shape := func(m *Matrix) string {
		if m == nil {
			return "none"
		}
		return fmt.Sprintf("%d×%d", m.Rows, m.Cols)
	}
	return fmt.Sprintf("ot.COOTResult value %.6g, objective %.6g, %d alternations, %s; sample plan %s, feature plan %s",
		r.Value, r.Objective, r.Iterations, conv, shape(r.Samples), shape(r.Features))
}

// Plot draws the sample plan and the feature plan as heatmaps and the
// objective after every block update, side by side.
func (r *COOTResult) Plot() (*viz.Figure, error) {
	if r.Samples == nil || r.Features == nil {
		return nil, fmt.Errorf("ot: the COOT result has no plans")
	}
	samples, err := viz.Heatmap(r.Samples.Tensor(), viz.HeatmapOptions{NoColourBar: true,
		Options: viz.Options{Title: "sample plan π_s", XLabel: "row of Y", YLabel: "row of X", Formats: []string{"png"}}})
	if err != nil {
		return nil, err
	}
	features, err := viz.Heatmap(r.Features.Tensor(), viz.HeatmapOptions{NoColourBar: true,
		Options: viz.Options{Title: "feature plan π_v", XLabel: "column of Y", YLabel: "column of X", Formats: []string{"png"}}})
	if err != nil {
		return nil, err
	}
	figs := []*viz.Figure{samples, features}
	if len(r.History) > 0 {
		h, err := viz.Lines([]viz.Series{{Name: "objective", Y: r.History, Points: len(r.History) < 30}},
			viz.LineOptions{Options: viz.Options{Title: "objective", XLabel: "block update", Legend: "none", Formats: []string{"png"}}})
		if err != nil {
			return nil, err
		}
		figs = append(figs, h)
	}
	return viz.Grid(len(figs), figs...)
}

// Display shows the result in a notebook: the figure of Plot, with String
// as the text form.
func (r *COOTResult) Display() display.Bundle {
	f, err := r.Plot()
	return viz.FigureBundle(r.String(), f, err)
}
