package viz

import (
	"fmt"
	"image/color"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one named line of a line plot.
type Series struct {
	// Name labels the series in the legend ("" leaves it out).
	Name string
	// X holds the x values; nil means 1, 2, …, len(Y).
	X []float64
	// Y holds the values.
	Y []float64
	// Band, when set, is a half-width drawn as a shaded band Y±Band around
	// the line (a standard deviation, say); it has Y's length.
	Band []float64
	// Dashed draws the line dashed (for evaluation curves, say).
	Dashed bool
	// Points marks each value with a dot as well as the line (for sparse
	// series such as per-epoch evaluations).
	Points bool
	// Smooth overrides LineOptions.Smooth for this series: an EMA weight in
	// (0, 1), or a negative value for no smoothing.
	Smooth float64
	// faint draws the series as a thin translucent line without a legend
	// entry (the single runs behind a mean).
	faint bool
	// Colour picks the palette colour by index; 0 means the series' own
	// position among those drawn, counting from 1 (so 1 is the first
	// palette colour).
	Colour int
}

// LineOptions are the settings of Lines.
type LineOptions struct {
	Options
	// Smooth, in [0, 1), is the weight of an exponential moving average
	// (debiased, as TensorBoard does) drawn over each series, with the raw
	// values kept as a faint line behind it. 0 draws the raw values only.
	Smooth float64
}

// Lines draws one or more series as lines on shared axes, with a legend
// for the named ones.
func Lines(series []Series, opt LineOptions) (*Figure, error) {
	if opt.Smooth < 0 || opt.Smooth >= 1 {
		return nil, fmt.Errorf("viz.Lines: Smooth is %g, want a weight in [0, 1)", opt.Smooth)
	}
	for _, s := range series {
		if s.Smooth >= 1 {
			return nil, fmt.Errorf("viz.Lines: series %q has Smooth %g, want a weight below 1", s.Name, s.Smooth)
		}
	}
	f := &Figure{opt: opt.Options, desc: fmt.Sprintf("line plot of %d series", len(series))}
	p := newPlot(opt.Options, "x", "")
	addGrid(p)
	var all []plotter.XYs
	var data []seriesJSON
	for i, s := range series {
		name := s.Name
		if name == "" {
			name = fmt.Sprintf("series %d", i)
		}
		xs := s.X
		if xs == nil {
			xs = make([]float64, len(s.Y))
			for j := range xs {
				xs[j] = float64(j + 1)
			}
		} else if len(xs) != len(s.Y) {
			return nil, fmt.Errorf("viz.Lines: series %q has %d x values and %d y values", name, len(xs), len(s.Y))
		}
		if s.Band != nil && len(s.Band) != len(s.Y) {
			return nil, fmt.Errorf("viz.Lines: series %q has %d band values and %d y values", name, len(s.Band), len(s.Y))
		}
		colour := Colour(i)
		if s.Colour > 0 {
			colour = Colour(s.Colour - 1)
		}
		ys := s.Y
		smooth := opt.Smooth
		if s.Smooth != 0 {
			smooth = max(s.Smooth, 0)
		}
		if smooth > 0 {
			raw, _ := finitePoints(xs, ys, opt.LogX, opt.LogY)
			if len(raw) > 1 {
				faint := mustLine(raw, withAlpha(colour, 0.25), 1, false)
				p.Add(faint)
				data = append(data, seriesJSON{Name: name + " (raw)", X: slices.Clone(xs), Y: slices.Clone(ys), Color: hexColour(withAlpha(colour, 0.25))})
			}
			ys = EMA(ys, smooth)
		}
		pts, skipped := finitePoints(xs, ys, opt.LogX, opt.LogY)
		if note := skippedNote(skipped, fmt.Sprintf("%q", name), opt.LogX || opt.LogY); note != "" && !s.faint {
			f.notes = append(f.notes, note)
		}
		if s.Band != nil {
			if band := bandPolygon(xs, ys, s.Band, opt.Options, colour); band != nil {
				p.Add(band)
			}
		}
		// Copies: a live figure is encoded later, on another goroutine,
		// while the loop that made it goes on writing its slices.
		sj := seriesJSON{Name: s.Name, X: slices.Clone(xs), Y: slices.Clone(ys), Color: hexColour(colour), Dash: s.Dashed, Band: slices.Clone(s.Band)}
		if s.faint {
			sj.Color = hexColour(withAlpha(colour, 0.3))
		}
		data = append(data, sj)
		if s.faint {
			if len(pts) > 1 {
				p.Add(mustLine(pts, withAlpha(colour, 0.3), 0.8, s.Dashed))
			}
			all = append(all, pts)
			continue
		}
		var thumbs []plot.Thumbnailer
		if len(pts) > 1 || len(pts) == 1 && !s.Points {
			l := mustLine(pts, colour, 1.6, s.Dashed)
			p.Add(l)
			thumbs = append(thumbs, l)
		}
		if s.Points || len(pts) == 1 {
			sc := mustScatter(pts, colour, 2.2, draw.CircleGlyph{})
			p.Add(sc)
			thumbs = append(thumbs, sc)
		}
		if s.Name != "" && len(thumbs) > 0 {
			p.Legend.Add(s.Name, thumbs...)
		}
		all = append(all, pts)
		f.marks++
	}
	total := 0
	for _, pts := range all {
		total += len(pts)
	}
	if total == 0 {
		p.Add(noData{log: opt.LogX || opt.LogY})
	}
	applyRanges(p, opt.Options)
	if err := placeLegend(p, opt.Options, all); err != nil {
		return nil, err
	}
	f.plot = p
	f.data = linesJSON(data)
	return f, nil
}

// EMA returns the exponential moving average of values with the given
// weight of the past, debiased so that early values are not pulled toward
// zero: s_t = w·s_{t−1} + (1−w)·x_t, reported as s_t / (1 − w^t). Values
// that are not finite are passed through as they are and left out of the
// average.
func EMA(values []float64, weight float64) []float64 {
	out := make([]float64, len(values))
	s, norm := 0.0, 0.0
	for i, v := range values {
		if !finite(v) {
			out[i] = v
			continue
		}
		s = weight*s + (1-weight)*v
		norm = weight*norm + (1 - weight)
		out[i] = s / norm
	}
	return out
}

// mustLine makes a line plotter; pts holds only finite values, so gonum
// has nothing to refuse.
func mustLine(pts plotter.XYs, c color.Color, width vg.Length, dashed bool) *plotter.Line {
	l, err := plotter.NewLine(pts)
	if err != nil {
		panic(fmt.Sprintf("viz: line of finite points refused: %v", err))
	}
	l.LineStyle = draw.LineStyle{Color: c, Width: width}
	if dashed {
		l.LineStyle.Dashes = []vg.Length{vg.Points(4), vg.Points(2.5)}
	}
	return l
}

// mustScatter makes a scatter plotter of finite points.
func mustScatter(pts plotter.XYs, c color.Color, radius vg.Length, shape draw.GlyphDrawer) *plotter.Scatter {
	s, err := plotter.NewScatter(pts)
	if err != nil {
		panic(fmt.Sprintf("viz: scatter of finite points refused: %v", err))
	}
	s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: radius, Shape: shape}
	return s
}

// bandPolygon is the shaded region y±half, or nil when fewer than two
// points are finite.
func bandPolygon(xs, ys, half []float64, opt Options, c color.NRGBA) *plotter.Polygon {
	lo := make([]float64, len(ys))
	hi := make([]float64, len(ys))
	for i := range ys {
		lo[i], hi[i] = ys[i]-half[i], ys[i]+half[i]
	}
	upper, _ := finitePoints(xs, hi, opt.LogX, opt.LogY)
	lower, _ := finitePoints(xs, lo, opt.LogX, opt.LogY)
	if len(upper) < 2 || len(lower) < 2 {
		return nil
	}
	ring := make(plotter.XYs, 0, len(upper)+len(lower))
	ring = append(ring, upper...)
	for i := len(lower) - 1; i >= 0; i-- {
		ring = append(ring, lower[i])
	}
	poly, err := plotter.NewPolygon(ring)
	if err != nil {
		return nil
	}
	poly.Color = withAlpha(c, 0.18)
	poly.LineStyle.Width = 0
	return poly
}
