package viz

import (
	"fmt"
	"image/color"
	"math"
	"sort"
	"strings"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// BarGroup is one series of a bar chart: a value for each label.
type BarGroup struct {
	// Name labels the group in the legend ("" leaves it out).
	Name string
	// Values holds one value per label.
	Values []float64
}

// BarOptions are the settings of Bars and ParameterBars.
type BarOptions struct {
	Options
	// Stacked stacks the groups' bars on each other (positive values up,
	// negative down) instead of placing them side by side.
	Stacked bool
	// Orientation is "vertical", "horizontal" or "auto" ("": horizontal
	// when there are more than 12 labels or they are too long to write
	// under the bars).
	Orientation string
	// Log puts the value axis on a logarithmic scale (as LogY does for
	// vertical bars and LogX for horizontal ones); values that are not
	// positive are skipped and counted.
	Log bool
}

// maxVerticalBars is the number of labels above which Bars turns
// horizontal on its own.
const maxVerticalBars = 12

// Bars draws a bar chart of one or more groups of values, one bar per
// label and group: side by side, or stacked. Non-finite values are skipped
// and counted in the caption.
func Bars(labels []string, groups []BarGroup, opt BarOptions) (*Figure, error) {
	return bars("viz.Bars", labels, groups, nil, opt)
}

// bars draws the chart, in colours (nil: the palette in order).
func bars(fn string, labels []string, groups []BarGroup, colours []color.Color, opt BarOptions) (*Figure, error) {
	for i, g := range groups {
		if len(g.Values) != len(labels) {
			return nil, fmt.Errorf("%s: group %s has %d values for %d labels", fn, groupName(g.Name, i), len(g.Values), len(labels))
		}
	}
	horizontal, err := barsHorizontal(opt, labels)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	log := opt.Log || opt.LogX || opt.LogY
	base := opt.Options
	base.LogX, base.LogY = false, false
	if horizontal && opt.Height == 0 {
		base.Height = math.Min(60, math.Max(DefaultHeight, 1.0+0.24*float64(len(labels))))
	}
	f := &Figure{opt: base, desc: fmt.Sprintf("bar chart of %d labels", len(labels))}
	if len(groups) > 1 {
		f.desc = fmt.Sprintf("bar chart of %d labels in %d groups", len(labels), len(groups))
	}
	p := newPlot(base, "", "")
	valueAxis, labelAxis := &p.Y, &p.X
	if horizontal {
		valueAxis, labelAxis = &p.X, &p.Y
	}
	if log {
		valueAxis.Scale = plot.LogScale{}
		valueAxis.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	valueGrid(p, horizontal)

	// Finite (and, on a log axis, positive) values, the rest counted.
	vals := make([][]float64, len(groups))
	smallest := math.Inf(1)
	for i, g := range groups {
		vals[i] = make([]float64, len(labels))
		skipped := 0
		for j, v := range g.Values {
			if !finite(v) || log && v <= 0 {
				v = math.NaN()
				skipped++
			} else if v > 0 {
				smallest = math.Min(smallest, v)
			}
			vals[i][j] = v
		}
		if note := skippedNote(skipped, groupName(g.Name, i), log); note != "" {
			f.notes = append(f.notes, note)
		}
	}
	// Bars start at 0, or on a log axis at the power of ten below the
	// smallest value.
	zero := 0.0
	if log {
		zero = logBase(smallest)
	}
	var rs []rect
	const span = 0.8 // width of the bars at one label
	for j := range labels {
		pos, neg := zero, zero
		for i := range groups {
			v := vals[i][j]
			if math.IsNaN(v) || v == 0 {
				continue // skipped and counted above, or nothing to draw
			}
			var lo, hi, c0, c1 float64
			if opt.Stacked {
				c0, c1 = float64(j)-span/2, float64(j)+span/2
				if v >= 0 {
					lo, hi = pos, pos+v
					if log && pos == zero {
						hi = v // the first bar on a log axis starts at its base
					}
					pos = hi
				} else {
					lo, hi = neg+v, neg
					neg = lo
				}
			} else {
				w := span / float64(len(groups))
				c0 = float64(j) - span/2 + w*float64(i)
				c1 = c0 + w*0.94
				lo, hi = zero, v
			}
			colour := color.Color(Colour(i))
			if colours != nil {
				colour = colours[i%len(colours)]
			}
			if horizontal {
				y := float64(len(labels) - 1)
				rs = append(rs, rect{x0: lo, x1: hi, y0: y - c1, y1: y - c0, c: colour})
			} else {
				rs = append(rs, rect{x0: c0, x1: c1, y0: lo, y1: hi, c: colour})
			}
		}
	}
	f.marks = len(rs)
	if len(rs) > 0 {
		p.Add(&rects{rs: rs})
	} else {
		p.Add(noData{log: log})
	}
	w, h := f.inches()
	if horizontal {
		setBarTicks(labelAxis, labels, true, h-1.0)
	} else {
		setBarTicks(labelAxis, labels, false, w-1.0)
	}
	if len(labels) > 0 {
		labelAxis.Min, labelAxis.Max = -0.5, float64(len(labels))-0.5
	}
	labelAxis.Padding = 0
	// The value axis starts at the bars' base.
	if len(rs) > 0 {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, r := range rs {
			a, b := r.y0, r.y1
			if horizontal {
				a, b = r.x0, r.x1
			}
			lo, hi = math.Min(lo, math.Min(a, b)), math.Max(hi, math.Max(a, b))
		}
		valueAxis.Min, valueAxis.Max = lo, hi
		if log {
			valueAxis.Max = hi * 1.3
		} else if hi > 0 {
			valueAxis.Max = hi * 1.04
		}
		if !log && lo < 0 {
			valueAxis.Min = lo * 1.04
		}
		valueAxis.Padding = 0
	}
	applyRanges(p, base)
	legendOpt := base
	legendOpt.LogX, legendOpt.LogY = log && horizontal, log && !horizontal
	if err := barLegend(p, groups, colours, legendOpt, barPoints(rs, horizontal, log)); err != nil {
		return nil, err
	}
	f.plot = p
	return f, nil
}

func groupName(name string, i int) string {
	if name == "" {
		return fmt.Sprintf("group %d", i)
	}
	return fmt.Sprintf("%q", name)
}

// barsHorizontal decides the orientation.
func barsHorizontal(opt BarOptions, labels []string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(opt.Orientation)) {
	case "vertical":
		return false, nil
	case "horizontal":
		return true, nil
	case "", "auto":
	default:
		return false, fmt.Errorf("orientation %q is not one of auto, vertical, horizontal", opt.Orientation)
	}
	if len(labels) > maxVerticalBars {
		return true, nil
	}
	w := opt.Width
	if w <= 0 {
		w = DefaultWidth
	}
	sty := textStyle(9, false)
	slot := (vg.Length(w) - 1) * vg.Inch / vg.Length(max(len(labels), 1))
	for _, l := range labels {
		if sty.Width(l)+6 > slot {
			return true, nil
		}
	}
	return false, nil
}

// setBarTicks writes the labels at positions 0, 1, … (from the top on a
// vertical axis), every k-th when they would crowd each other.
func setBarTicks(ax *plot.Axis, labels []string, vertical bool, inches float64) {
	sty := ax.Tick.Label
	need := sty.Height("0") * 1.15
	if !vertical {
		for _, l := range labels {
			need = max(need, sty.Width(l)+4)
		}
	}
	slot := vg.Length(inches) * vg.Inch / vg.Length(max(len(labels), 1))
	step := tickStep(need, slot)
	var ticks []plot.Tick
	for i := 0; i < len(labels); i += step {
		pos := float64(i)
		if vertical {
			pos = float64(len(labels) - 1 - i)
		}
		ticks = append(ticks, plot.Tick{Value: pos, Label: labels[i]})
	}
	ax.Tick.Marker = plot.ConstantTicks(ticks)
	ax.Tick.Length = 0
}

// valueGrid draws light grid lines across the value axis only.
func valueGrid(p *plot.Plot, horizontal bool) {
	g := plotter.NewGrid()
	g.Vertical.Color, g.Horizontal.Color = nil, color.Gray{Y: 0xE4}
	g.Horizontal.Width = 0.6
	if horizontal {
		g.Vertical, g.Horizontal = g.Horizontal, g.Vertical
	}
	p.Add(g)
}

// logBase is where bars start on a log axis: the power of ten below
// smallest (1 when there is no positive value), so that every bar has a
// length.
func logBase(smallest float64) float64 {
	if math.IsInf(smallest, 1) || !(smallest > 0) {
		return 1
	}
	return math.Pow(10, math.Ceil(math.Log10(smallest))-1)
}

// barPoints stands for each bar with points along its length, so that
// the legend goes in the corner bars cover least.
func barPoints(rs []rect, horizontal, log bool) []plotter.XYs {
	var pts plotter.XYs
	for _, r := range rs {
		for _, t := range []float64{0, 0.25, 0.5, 0.75, 1} {
			lo, hi, mid := r.y0, r.y1, (r.x0+r.x1)/2
			if horizontal {
				lo, hi, mid = r.x0, r.x1, (r.y0+r.y1)/2
			}
			v := lo + t*(hi-lo)
			if log {
				v = lo * math.Pow(hi/lo, t)
			}
			if horizontal {
				pts = append(pts, plotter.XY{X: v, Y: mid})
			} else {
				pts = append(pts, plotter.XY{X: mid, Y: v})
			}
		}
	}
	return []plotter.XYs{pts}
}

// barLegend lists the named groups, with the bars' colours, in the corner
// the bars cover least unless opt places it.
func barLegend(p *plot.Plot, groups []BarGroup, colours []color.Color, opt Options, pts []plotter.XYs) error {
	named := 0
	for i, g := range groups {
		if g.Name == "" {
			continue
		}
		colour := color.Color(Colour(i))
		if colours != nil {
			colour = colours[i%len(colours)]
		}
		p.Legend.Add(g.Name, swatch{colour})
		named++
	}
	if named == 0 {
		return nil
	}
	return placeLegend(p, opt, pts)
}

// swatch is a legend thumbnail: a filled square.
type swatch struct{ c color.Color }

// Thumbnail implements plot.Thumbnailer.
func (s swatch) Thumbnail(c *draw.Canvas) {
	side := min(c.Max.Y-c.Min.Y, 8)
	cx, cy := (c.Min.X+c.Max.X)/2, (c.Min.Y+c.Max.Y)/2
	c.SetColor(s.c)
	c.Fill(rectPath(cx-side/2, cy-side/2, cx+side/2, cy+side/2))
}

// frozenColour is the colour of frozen parameters.
var frozenColour = color.NRGBA{0xA8, 0xA8, 0xA8, 0xFF}

// ParameterBars draws each module's trainable and frozen parameter counts
// as stacked bars: where a LoRA or adapter's few trainable parameters sit
// among the frozen ones. Modules are those of nn.Summary(m).Modules(depth):
// parameter names cut to depth dotted parts (1: the model's direct
// children), or with depth 0 each module that holds parameters itself; the
// root's own parameters are labelled "(own)". Log puts the counts on a
// logarithmic axis.
func ParameterBars(m nn.Module, depth int, opt BarOptions) (*Figure, error) {
	if m == nil {
		return nil, fmt.Errorf("viz.ParameterBars: module is nil")
	}
	if depth < 0 {
		return nil, fmt.Errorf("viz.ParameterBars: depth is %d, want 0 or more", depth)
	}
	sum := nn.Summary(m)
	var labels []string
	var trainable, frozen []float64
	for _, mc := range sum.Modules(depth) {
		labels = append(labels, firstNonEmpty(mc.Name, "(own)"))
		t := float64(mc.Trainable)
		fr := float64(mc.Total - mc.Trainable)
		if opt.Log {
			// Zero counts are expected here (a frozen block has no
			// trainable parameters), not values to report as skipped.
			t, fr = zeroToNaN(t), zeroToNaN(fr)
		}
		trainable, frozen = append(trainable, t), append(frozen, fr)
	}
	if opt.Title == "" {
		share := ""
		if sum.Total > 0 {
			share = fmt.Sprintf(" (%.2g%%)", sum.TrainablePercent())
		}
		opt.Title = fmt.Sprintf("parameters: %s trainable of %s%s", humanCount(float64(sum.Trainable)), humanCount(float64(sum.Total)), share)
	}
	opt.Stacked = true
	horizontal, err := barsHorizontal(opt, labels)
	if err != nil {
		return nil, fmt.Errorf("viz.ParameterBars: %v", err)
	}
	if horizontal {
		opt.XLabel = firstNonEmpty(opt.XLabel, "parameters")
	} else {
		opt.YLabel = firstNonEmpty(opt.YLabel, "parameters")
	}
	groups := []BarGroup{{Name: "trainable", Values: trainable}, {Name: "frozen", Values: frozen}}
	f, err := bars("viz.ParameterBars", labels, groups, []color.Color{Colour(0), frozenColour}, opt)
	if err != nil {
		return nil, err
	}
	f.notes = nil // only the zeros above can have been skipped
	f.desc = fmt.Sprintf("parameter counts of %d modules", len(labels))
	return f, nil
}

func zeroToNaN(v float64) float64 {
	if v == 0 {
		return math.NaN()
	}
	return v
}

// humanCount writes a count as 1234, 12.3k, 4.56M or 1.2B.
func humanCount(n float64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.3gB", n/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.3gM", n/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.3gk", n/1e3)
	}
	return fmt.Sprintf("%.0f", n)
}

// Values is one named set of numbers for a histogram.
type Values struct {
	// Name labels the set in the legend ("" leaves it out).
	Name string
	// Data holds the numbers.
	Data []float64
}

// TensorValues returns the values of t under name, for a histogram of
// weights, gradients (pass t.Grad()) or adapter scales. A nil tensor gives
// no values.
func TensorValues(name string, t *tensor.Tensor) Values {
	if t == nil {
		return Values{Name: name}
	}
	return Values{Name: name, Data: t.Float64s()}
}

// HistOptions are the settings of Histogram.
type HistOptions struct {
	Options
	// Bins is the number of bins shared by all sets (0: the
	// Freedman–Diaconis rule on all values, or the square-root rule when
	// their interquartile range is 0, kept within 10..100).
	Bins int
	// Density scales each set's counts so that its area is 1, which
	// compares sets of different sizes.
	Density bool
}

// Histogram draws the distribution of one or more sets of values over
// shared bins, overlaid and translucent. Non-finite values are skipped and
// counted in the caption.
func Histogram(values []Values, opt HistOptions) (*Figure, error) {
	if opt.Bins < 0 {
		return nil, fmt.Errorf("viz.Histogram: Bins is %d, want 0 (automatic) or more", opt.Bins)
	}
	if opt.LogX {
		return nil, fmt.Errorf("viz.Histogram: LogX is not supported; histogram the logarithms of the values instead")
	}
	ylabel := "count"
	if opt.Density {
		ylabel = "density"
	}
	f := &Figure{opt: opt.Options}
	p := newPlot(opt.Options, "value", ylabel)
	valueGrid(p, false)
	sets := make([][]float64, len(values))
	var all []float64
	for i, v := range values {
		skipped := 0
		for _, x := range v.Data {
			if finite(x) {
				sets[i] = append(sets[i], x)
			} else {
				skipped++
			}
		}
		if note := skippedNote(skipped, groupName(v.Name, i), false); note != "" {
			f.notes = append(f.notes, note)
		}
		all = append(all, sets[i]...)
	}
	bins := opt.Bins
	if bins == 0 {
		bins = autoBins(all)
	}
	f.desc = fmt.Sprintf("histogram of %d sets in %d bins", len(values), bins)
	if len(values) == 1 {
		f.desc = fmt.Sprintf("histogram in %d bins", bins)
	}
	if len(all) == 0 {
		p.Add(noData{log: opt.LogY})
		f.plot = p
		return f, nil
	}
	lo, hi := all[0], all[0]
	for _, x := range all {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	if lo == hi {
		lo, hi = lo-0.5, hi+0.5
	}
	width, heights := binCounts(sets, lo, hi, bins, opt.Density)
	smallest := math.Inf(1)
	for _, hs := range heights {
		for _, h := range hs {
			if h > 0 {
				smallest = math.Min(smallest, h)
			}
		}
	}
	zero := 0.0
	if opt.LogY {
		zero = logBase(smallest)
	}
	alpha := 0.75
	if len(values) > 1 {
		alpha = 0.4
	}
	var drawn []rect
	for i := range sets {
		if len(sets[i]) == 0 {
			continue
		}
		c := Colour(i)
		var rs []rect
		var outline plotter.XYs
		for b, h := range heights[i] {
			x0, x1 := lo+float64(b)*width, lo+float64(b+1)*width
			top := math.Max(h, zero)
			outline = append(outline, plotter.XY{X: x0, Y: top}, plotter.XY{X: x1, Y: top})
			if h > 0 {
				rs = append(rs, rect{x0: x0, x1: x1, y0: zero, y1: h, c: withAlpha(c, alpha)})
			}
		}
		drawn = append(drawn, rs...)
		p.Add(&rects{rs: rs})
		p.Add(mustLine(outline, c, 1.1, false))
		if values[i].Name != "" {
			p.Legend.Add(values[i].Name, swatch{tint(c, alpha)})
		}
	}
	f.marks = len(drawn)
	p.Y.Min = zero
	if !opt.LogY {
		p.Y.Max *= 1.08 // room above the highest bin
	}
	p.Y.Padding = 0
	applyRanges(p, opt.Options)
	if err := placeLegend(p, opt.Options, barPoints(drawn, false, opt.LogY)); err != nil {
		return nil, err
	}
	f.plot = p
	return f, nil
}

// binCounts counts each set's values in bins equal bins over [lo, hi]
// (the last bin holds hi), as densities when density is set.
func binCounts(sets [][]float64, lo, hi float64, bins int, density bool) (width float64, heights [][]float64) {
	width = (hi - lo) / float64(bins)
	heights = make([][]float64, len(sets))
	for i, set := range sets {
		heights[i] = make([]float64, bins)
		for _, x := range set {
			heights[i][min(bins-1, int((x-lo)/width))]++
		}
		if density && len(set) > 0 {
			for b := range heights[i] {
				heights[i][b] /= float64(len(set)) * width
			}
		}
	}
	return width, heights
}

// autoBins is the Freedman–Diaconis number of bins for xs, or the
// square-root rule when the interquartile range is 0, within 10..100.
func autoBins(xs []float64) int {
	n := len(xs)
	if n < 2 {
		return 10
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	q := func(p float64) float64 { // linear interpolation between order statistics
		h := p * float64(n-1)
		i := int(h)
		if i+1 >= n {
			return s[n-1]
		}
		return s[i] + (h-float64(i))*(s[i+1]-s[i])
	}
	iqr := q(0.75) - q(0.25)
	bins := math.Ceil(math.Sqrt(float64(n)))
	if span := s[n-1] - s[0]; iqr > 0 && span > 0 {
		bins = math.Ceil(span / (2 * iqr * math.Pow(float64(n), -1.0/3)))
	}
	return int(math.Max(10, math.Min(100, bins)))
}
