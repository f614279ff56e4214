package ot

import (
	"fmt"
	"strings"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/viz"
)

// Summary returns one line on how the solver ended: method, cost,
// iterations, convergence and marginal error.
func (p *Plan) Summary() string {
	return p.headline() + ", " + p.ending()
}

// headline is the method, shape and cost.
func (p *Plan) headline() string {
	shape := "no plan"
	if p.T != nil {
		shape = fmt.Sprintf("%d×%d", p.T.Rows, p.T.Cols)
	}
	return fmt.Sprintf("%s %s: cost %.6g", p.Method, shape, p.Cost)
}

// ending is how the solver ended.
func (p *Plan) ending() string {
	conv := "converged"
	if !p.Converged {
		conv = "NOT converged"
	}
	return fmt.Sprintf("%d iterations, %s, marginal error %.2g", p.Iterations, conv, p.MarginalError)
}

// String prints the summary line and, for small plans, the plan itself.
func (p *Plan) String() string {
	var b strings.Builder
	b.WriteString("ot.Plan ")
	b.WriteString(p.Summary())
	if p.T != nil && p.T.Rows*p.T.Cols <= 100 {
		b.WriteString("\n")
		b.WriteString(p.T.String())
	}
	return b.String()
}

// Plot draws the plan as a heatmap (rows: source points, columns: target
// points), the method and cost as its title and how the solver ended under
// the x axis; opt sets size, colours, labels.
func (p *Plan) Plot(opt viz.HeatmapOptions) (*viz.Figure, error) {
	if p.T == nil || p.T.Rows == 0 || p.T.Cols == 0 {
		return nil, fmt.Errorf("ot: the plan is empty")
	}
	if opt.Title == "" {
		opt.Title = p.headline()
	}
	if opt.XLabel == "" {
		opt.XLabel = "target point j  (" + p.ending() + ")"
	}
	if opt.YLabel == "" {
		opt.YLabel = "source point i"
	}
	if opt.Formats == nil && p.T.Rows*p.T.Cols > 10000 {
		opt.Formats = []string{"png"}
	}
	return viz.Heatmap(p.T.Tensor(), opt)
}

// Display shows the plan in a notebook: the heatmap of Plot, with String
// as the text form.
func (p *Plan) Display() display.Bundle {
	f, err := p.Plot(viz.HeatmapOptions{})
	return viz.FigureBundle(p.String(), f, err)
}
