package data

import (
	"fmt"
	"math"
	"strings"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/tensor"
	"github.com/graftml/graft/viz"
	"github.com/graftml/graft/viz/project"
)

// Limits of what a dataset's figure draws.
const (
	// plotPoints is the most points of one dataset a scatter draws; larger
	// datasets are thinned evenly.
	plotPoints = 2000
	// imagesPerClass is the number of sample images a row of an image
	// dataset's figure shows per class.
	imagesPerClass = 8
	// maxImageRows bounds the rows (classes) of an image dataset's figure.
	maxImageRows = 20
)

// String returns a summary of the dataset: its name, size, the shape of
// one example, and the count of each class.
func (d *Dataset) String() string {
	if d == nil || d.X == nil {
		return "Dataset <nil>"
	}
	return fmt.Sprintf("Dataset %q: %s", d.Name, d.summary())
}

// summary is the dataset's description without its name.
func (d *Dataset) summary() string {
	if d == nil || d.X == nil {
		return "<nil>"
	}
	s := fmt.Sprintf("%d examples, each %s", d.Len(), tensor.FormatShape(d.X.Shape()[1:]))
	counts := d.ClassCounts()
	if counts == nil {
		return s + "; unlabelled"
	}
	parts := make([]string, len(counts))
	for k, c := range counts {
		parts[k] = fmt.Sprintf("%s=%d", d.ClassName(k), c)
	}
	return fmt.Sprintf("%s; %d classes: %s", s, len(counts), strings.Join(parts, ", "))
}

// Display implements display.Displayer: the summary as text, and Plot's
// figure as images.
func (d *Dataset) Display() display.Bundle {
	return figureBundle(d.String(), func() (*viz.Figure, error) { return plotDatasets([]*Dataset{d}) })
}

// Plot returns the dataset's figure: for images (N, C, H, W) with one or
// three channels, a grid of sample images with a row per class (the first
// 8 of each class in dataset order, up to 20 classes); for 2-D inputs, a
// scatter of the points coloured by class; for other inputs, a scatter of
// their first two principal components. At most 2,000 points are drawn,
// evenly spaced through the dataset. It returns nil when the inputs cannot
// be drawn (Display then says why).
func (d *Dataset) Plot() *viz.Figure {
	f, _ := plotDatasets([]*Dataset{d})
	return f
}

// String returns a summary of the pair: its name, the shift, and each
// domain's summary.
func (p DomainPair) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "DomainPair %q\nshift:  %s\nsource: %q, %s\ntarget: %q, %s", p.Name, p.Shift,
		nameOf(p.Source), p.Source.summary(), nameOf(p.Target), p.Target.summary())
	return b.String()
}

func nameOf(d *Dataset) string {
	if d == nil {
		return "<nil>"
	}
	return d.Name
}

// Display implements display.Displayer: the summary as text, and Plot's
// figure as images.
func (p DomainPair) Display() display.Bundle {
	return figureBundle(p.String(), p.plot)
}

// Plot returns the source and target figures side by side (as
// Dataset.Plot draws them) under the Shift as title. Scatters of the two
// domains share their axes, and inputs of more than two dimensions are
// projected on the principal components of both domains together, so
// that the shift shows as it is. It returns nil when the domains cannot be
// drawn (Display then says why).
func (p DomainPair) Plot() *viz.Figure {
	f, _ := p.plot()
	return f
}

func (p DomainPair) plot() (*viz.Figure, error) {
	if p.Source == nil || p.Target == nil {
		return nil, fmt.Errorf("data: domain pair %q lacks a source or a target", p.Name)
	}
	g, err := plotDatasets([]*Dataset{p.Source, p.Target})
	if err != nil {
		return nil, err
	}
	g.SetTitle(firstNonEmpty(p.Shift, p.Name))
	return g, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// figureBundle is the display of a value: text, plus the figure's images
// when it can be drawn, or a line saying why not.
func figureBundle(text string, plot func() (*viz.Figure, error)) display.Bundle {
	f, err := plot()
	return viz.FigureBundle(text, f, err)
}

// plotDatasets draws one tile per dataset, side by side when several.
func plotDatasets(ds []*Dataset) (*viz.Figure, error) {
	for _, d := range ds {
		if d == nil || d.X == nil {
			return nil, fmt.Errorf("data: no dataset to draw")
		}
	}
	var tiles []*viz.Figure
	var err error
	if allImages(ds) {
		tiles, err = imageTiles(ds)
	} else {
		tiles, err = pointTiles(ds)
	}
	if err != nil {
		return nil, err
	}
	if len(tiles) == 1 {
		return tiles[0], nil
	}
	return viz.Grid(len(tiles), tiles...)
}

// allImages reports whether every dataset holds images of one or three
// channels.
func allImages(ds []*Dataset) bool {
	for _, d := range ds {
		if d.X.Dims() != 4 || (d.X.Dim(1) != 1 && d.X.Dim(1) != 3) {
			return false
		}
	}
	return true
}

// tileTitle names a dataset in its tile, with how much of it is drawn.
func tileTitle(d *Dataset, shown int) string {
	if shown < d.Len() {
		return fmt.Sprintf("%s (%d of %d shown)", d.Name, shown, d.Len())
	}
	return fmt.Sprintf("%s (%d)", d.Name, d.Len())
}

// imageTiles draws sample images of each dataset, a row per class.
func imageTiles(ds []*Dataset) ([]*viz.Figure, error) {
	var tiles []*viz.Figure
	for _, d := range ds {
		var rows [][]int
		var labels []string
		var picked []int
		if d.Labels == nil {
			for i := 0; i < min(d.Len(), 4*imagesPerClass); i++ {
				if i%imagesPerClass == 0 {
					rows = append(rows, nil)
				}
				rows[len(rows)-1] = append(rows[len(rows)-1], len(picked))
				picked = append(picked, i)
			}
		} else {
			for k, idx := range d.indicesByClass() {
				if len(idx) == 0 || len(rows) == maxImageRows {
					continue
				}
				var row []int
				for _, i := range idx[:min(len(idx), imagesPerClass)] {
					row = append(row, len(picked))
					picked = append(picked, i)
				}
				rows = append(rows, row)
				labels = append(labels, d.ClassName(k))
			}
		}
		x := d.X.Detach().IndexSelect(0, picked)
		if len(picked) == 0 {
			x = tensor.Zeros(append([]int{0}, d.X.Shape()[1:]...)...)
		}
		f, err := viz.Images(x, viz.ImageOptions{Rows: rows, RowLabels: labels, Options: viz.Options{Title: d.Name}})
		if err != nil {
			return nil, fmt.Errorf("data: drawing %q: %w", d.Name, err)
		}
		tiles = append(tiles, f)
	}
	return tiles, nil
}

// thin returns at most plotPoints indices spread evenly over [0, n).
func thin(n int) []int {
	m := min(n, plotPoints)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = int(int64(i) * int64(n) / int64(m))
	}
	return idx
}

// pointTiles draws each dataset as a scatter: 2-D inputs as they are,
// one-dimensional inputs against their class, others on the principal
// components of all the datasets together. Several tiles share their axes.
func pointTiles(ds []*Dataset) ([]*viz.Figure, error) {
	type part struct {
		d      *Dataset
		x      *tensor.Tensor // (n, D) rows drawn
		labels []int
	}
	parts := make([]part, len(ds))
	dim := -1
	classes := 0
	for i, d := range ds {
		idx := thin(d.Len())
		n := d.Len()
		per := 0
		if n > 0 {
			per = d.X.Len() / n
		}
		if dim >= 0 && per != dim {
			return nil, fmt.Errorf("data: %q has %d values per example and %q has %d: cannot draw them on shared axes", ds[0].Name, dim, d.Name, per)
		}
		dim = per
		x := d.X.Detach().IndexSelect(0, idx).Reshape(len(idx), per)
		var labels []int
		if d.Labels != nil {
			labels = make([]int, len(idx))
			for j, k := range idx {
				labels[j] = d.Labels[k]
			}
		}
		parts[i] = part{d, x, labels}
		classes = max(classes, d.NumClasses())
	}
	if dim == 0 {
		return nil, fmt.Errorf("data: %q has no input values to draw", ds[0].Name)
	}
	xlabel, ylabel := "x₁", "x₂"
	switch {
	case dim == 1:
		ylabel = "class"
		for i, p := range parts {
			ys := make([]float32, p.x.Dim(0))
			for j := range ys {
				if p.labels != nil {
					ys[j] = float32(p.labels[j])
				}
			}
			parts[i].x = tensor.Concat(1, p.x, tensor.Wrap(ys, len(ys), 1))
		}
	case dim > 2:
		all := make([]*tensor.Tensor, len(parts))
		for i, p := range parts {
			all[i] = p.x
		}
		fit, err := project.FitPCA(tensor.Concat(0, all...), 2)
		if err != nil {
			return nil, fmt.Errorf("data: projecting %q on principal components: %w", ds[0].Name, err)
		}
		for i, p := range parts {
			if parts[i].x, err = fit.Transform(p.x); err != nil {
				return nil, fmt.Errorf("data: projecting %q: %w", p.d.Name, err)
			}
		}
		r := fit.ExplainedVarianceRatio()
		xlabel = fmt.Sprintf("PC 1 (%.0f%% of variance)", 100*r[0])
		ylabel = fmt.Sprintf("PC 2 (%.0f%% of variance)", 100*r[1])
	}
	names := make([]string, classes)
	for k := range names {
		names[k] = ds[0].ClassName(k)
	}
	opt := viz.Options{XLabel: xlabel, YLabel: ylabel}
	if len(parts) > 1 {
		opt.Width, opt.Height = 5.2, 4.2
		xs := make([]*tensor.Tensor, len(parts))
		for i, p := range parts {
			xs[i] = p.x
		}
		opt.XMin, opt.XMax, opt.YMin, opt.YMax = sharedRange(xs)
	}
	var tiles []*viz.Figure
	for _, p := range parts {
		o := opt
		o.Title = tileTitle(p.d, p.x.Dim(0))
		sopt := viz.ScatterOptions{Options: o, Labels: p.labels}
		if p.labels != nil {
			sopt.ClassNames = names
		}
		f, err := viz.Scatter(p.x, sopt)
		if err != nil {
			return nil, fmt.Errorf("data: drawing %q: %w", p.d.Name, err)
		}
		tiles = append(tiles, f)
	}
	return tiles, nil
}

// sharedRange returns axis limits holding the finite points of every
// (n, 2) tensor, with a margin of 5% on each side.
func sharedRange(xs []*tensor.Tensor) (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for _, t := range xs {
		v := t.Data()
		for i := 0; i+1 < len(v); i += 2 {
			x, y := float64(v[i]), float64(v[i+1])
			if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
				continue
			}
			xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
			ymin, ymax = math.Min(ymin, y), math.Max(ymax, y)
		}
	}
	if xmin > xmax { // no finite point: automatic ranges
		return 0, 0, 0, 0
	}
	pad := func(lo, hi float64) (float64, float64) {
		m := 0.05 * (hi - lo)
		if m == 0 {
			m = 0.5
		}
		return lo - m, hi + m
	}
	xmin, xmax = pad(xmin, xmax)
	ymin, ymax = pad(ymin, ymax)
	return xmin, xmax, ymin, ymax
}
