package viz

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"

	"github.com/graftml/graft/tensor"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// HeatmapOptions are the settings of Heatmap and Confusion.
type HeatmapOptions struct {
	Options
	// RowLabels and ColLabels name the rows (top to bottom) and columns
	// (left to right); nil numbers them from 0. When there are more labels
	// than fit, only every k-th is written.
	RowLabels, ColLabels []string
	// Values writes each cell's value in it, in black or white as the
	// cell's colour needs. Matrices larger than 30×30 are drawn without
	// values and the caption says so.
	Values bool
	// Format is the fmt verb for written values ("": "%.2g").
	Format string
	// Colormap is "viridis" ("", sequential and colour-blind safe),
	// "diverging" (blue–white–red, white at Centre, for signed values such
	// as a LoRA ΔW) or "greys" (white to black).
	Colormap string
	// Min and Max fix the values at the two ends of the colour scale
	// (nil: the smallest and largest finite values; for "diverging", a
	// range symmetric about Centre). Values outside are drawn in the end
	// colours.
	Min, Max *float64
	// Centre is the value drawn white by the "diverging" map.
	Centre float64
	// NoColourBar leaves out the colour bar at the right.
	NoColourBar bool
}

// maxValueCells bounds the rows and columns of a heatmap that writes its
// values; more would be unreadable.
const maxValueCells = 30

// rasterCells is the number of cells above which a heatmap is drawn as one
// image rather than a rectangle per cell (smaller SVG, faster PNG).
const rasterCells = 4096

// nanColour is the neutral grey non-finite cells are drawn in.
var nanColour = color.NRGBA{0xBB, 0xBB, 0xBB, 0xFF}

// Heatmap draws a rank-2 tensor as a grid of coloured cells, row 0 at the
// top as a matrix is written: transport plans, confusion matrices,
// attention maps, weight updates, similarity matrices. A colour bar at the
// right gives the scale. Non-finite cells are drawn grey and counted in the
// caption.
func Heatmap(m *tensor.Tensor, opt HeatmapOptions) (*Figure, error) {
	if m == nil {
		return nil, fmt.Errorf("viz.Heatmap: matrix is nil")
	}
	if m.Dims() != 2 {
		return nil, fmt.Errorf("viz.Heatmap: matrix has shape %s, want rank 2", tensor.FormatShape(m.Shape()))
	}
	return heatmap("viz.Heatmap", m.Float64s(), m.Dim(0), m.Dim(1), opt)
}

// Confusion counts a confusion matrix of predicted against true class
// indices (rows: true class, columns: predicted) and draws it with the
// counts written in the cells (up to 30 classes) and the accuracy in the
// title. classes names the classes; nil numbers them up to the largest
// index seen.
func Confusion(pred, truth []int, classes []string, opt HeatmapOptions) (*Figure, error) {
	if len(pred) != len(truth) {
		return nil, fmt.Errorf("viz.Confusion: %d predictions and %d true labels", len(pred), len(truth))
	}
	k := len(classes)
	if classes == nil {
		for i := range pred {
			k = max(k, pred[i]+1, truth[i]+1)
		}
	}
	if k == 0 {
		return nil, fmt.Errorf("viz.Confusion: no labels and no class names")
	}
	counts := make([]float64, k*k)
	correct := 0
	for i := range pred {
		for _, c := range []struct {
			what string
			v    int
		}{{"prediction", pred[i]}, {"true label", truth[i]}} {
			if c.v < 0 || c.v >= k {
				return nil, fmt.Errorf("viz.Confusion: %s %d at index %d is outside 0..%d (%d classes)", c.what, c.v, i, k-1, k)
			}
		}
		counts[truth[i]*k+pred[i]]++
		if pred[i] == truth[i] {
			correct++
		}
	}
	acc := "accuracy n/a"
	if len(pred) > 0 {
		acc = fmt.Sprintf("accuracy %.1f%% (%d/%d)", 100*float64(correct)/float64(len(pred)), correct, len(pred))
	}
	if opt.Title == "" {
		opt.Title = "confusion: " + acc
	} else {
		opt.Title += ", " + acc
	}
	opt.XLabel = firstNonEmpty(opt.XLabel, "predicted")
	opt.YLabel = firstNonEmpty(opt.YLabel, "true")
	if opt.RowLabels == nil {
		opt.RowLabels = classes
	}
	if opt.ColLabels == nil {
		opt.ColLabels = classes
	}
	opt.Values = true
	if opt.Format == "" {
		opt.Format = "%.0f"
	}
	f, err := heatmap("viz.Confusion", counts, k, k, opt)
	if err != nil {
		return nil, err
	}
	f.desc = fmt.Sprintf("confusion matrix of %d classes", k)
	return f, nil
}

// heatmap draws rows×cols values, row-major.
func heatmap(fn string, data []float64, rows, cols int, opt HeatmapOptions) (*Figure, error) {
	if opt.RowLabels != nil && len(opt.RowLabels) != rows {
		return nil, fmt.Errorf("%s: %d row labels for %d rows", fn, len(opt.RowLabels), rows)
	}
	if opt.ColLabels != nil && len(opt.ColLabels) != cols {
		return nil, fmt.Errorf("%s: %d column labels for %d columns", fn, len(opt.ColLabels), cols)
	}
	cmap, err := colormapNamed(opt.Colormap)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	if opt.LogX || opt.LogY {
		return nil, fmt.Errorf("%s: a heatmap has no log axes (LogX %v, LogY %v); take the log of the values instead", fn, opt.LogX, opt.LogY)
	}
	lo, hi, bad := scaleRange(data, opt)
	if lo > hi {
		return nil, fmt.Errorf("%s: Min %g is above Max %g", fn, lo, hi)
	}
	f := &Figure{opt: opt.Options, desc: fmt.Sprintf("heatmap of %dx%d cells", rows, cols), marks: rows * cols}
	if bad > 0 {
		s := "s"
		if bad == 1 {
			s = ""
		}
		f.notes = append(f.notes, fmt.Sprintf("%d non-finite cell%s drawn grey", bad, s))
	}
	f.data = heatmapJSON(data, rows, cols, opt, cmap, lo, hi)
	p := newPlot(opt.Options, "", "")
	if rows == 0 || cols == 0 {
		p.Add(noData{})
		f.plot = p
		return f, nil
	}
	colourOf := func(v float64) color.NRGBA {
		if !finite(v) {
			return nanColour
		}
		t := 0.5
		if hi > lo {
			t = (v - lo) / (hi - lo)
		}
		return cmap.at(t)
	}
	cells := make([]color.NRGBA, len(data))
	for i, v := range data {
		cells[i] = colourOf(v)
	}
	if rows*cols > rasterCells {
		p.Add(cellImage(cells, rows, cols, 0, 0, float64(cols), float64(rows)))
	} else {
		rs := make([]rect, 0, len(data))
		for i, c := range cells {
			r, col := i/cols, i%cols
			y := float64(rows - 1 - r)
			rs = append(rs, rect{x0: float64(col), x1: float64(col + 1), y0: y, y1: y + 1, c: c})
		}
		p.Add(&rects{rs: rs, overlap: 0.25})
	}
	if opt.Values {
		if rows > maxValueCells || cols > maxValueCells {
			f.notes = append(f.notes, fmt.Sprintf("values not written: %dx%d cells is more than %dx%d", rows, cols, maxValueCells, maxValueCells))
		} else {
			format := firstNonEmpty(opt.Format, "%.2g")
			texts := make([]string, len(data))
			for i, v := range data {
				texts[i] = fmt.Sprintf(format, v)
			}
			p.Add(&cellTexts{texts: texts, cells: cells, rows: rows, cols: cols})
		}
	}
	p.X.Min, p.X.Max = 0, float64(cols)
	p.Y.Min, p.Y.Max = 0, float64(rows)
	p.X.Padding, p.Y.Padding = 0, 0
	w, h := f.inches()
	w -= 1.0 // the y axis, its labels and the colour bar take about an inch
	if !opt.NoColourBar {
		w -= float64(colourBarWidth / vg.Inch)
	}
	setCategoryTicks(&p.X, opt.ColLabels, cols, false, w)
	setCategoryTicks(&p.Y, opt.RowLabels, rows, true, h-1.0)
	if !opt.NoColourBar {
		f.side, f.sideW = colourBarPlot(p, cmap, lo, hi), colourBarWidth
	}
	f.plot = p
	return f, nil
}

// scaleRange returns the values at the ends of the colour scale and the
// number of non-finite values.
func scaleRange(data []float64, opt HeatmapOptions) (lo, hi float64, bad int) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range data {
		if !finite(v) {
			bad++
			continue
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if lo > hi { // no finite values
		lo, hi = 0, 1
	}
	if strings.EqualFold(opt.Colormap, "diverging") {
		a := math.Max(math.Abs(lo-opt.Centre), math.Abs(hi-opt.Centre))
		if a == 0 {
			a = 1
		}
		lo, hi = opt.Centre-a, opt.Centre+a
	}
	if opt.Min != nil {
		lo = *opt.Min
	}
	if opt.Max != nil {
		hi = *opt.Max
	}
	if lo == hi { // one value: the middle of the scale
		if lo == 0 {
			return 0, 1, bad
		}
		a := math.Abs(lo) / 2
		lo, hi = lo-a, hi+a
	}
	return lo, hi, bad
}

// setCategoryTicks labels the cells of an axis of n unit cells at their
// centres, writing every k-th label (k = 1, 2, 5, 10, 20, …) when they would
// crowd each other in inches of axis. Rows are numbered from the top.
func setCategoryTicks(ax *plot.Axis, labels []string, n int, vertical bool, inches float64) {
	if labels == nil {
		labels = make([]string, n)
		for i := range labels {
			labels[i] = fmt.Sprint(i)
		}
	}
	sty := ax.Tick.Label
	widest := vg.Length(0)
	for _, l := range labels {
		widest = max(widest, sty.Width(l))
	}
	lineH := sty.Height("0")
	slot := vg.Length(inches) * vg.Inch / vg.Length(max(n, 1))
	need := widest + 8
	if vertical {
		need = lineH * 1.5
	} else if need > slot && widest > 3*lineH {
		// Long column labels are written upwards, one line high each.
		ax.Tick.Label.Rotation = math.Pi / 2
		ax.Tick.Label.XAlign = draw.XRight
		ax.Tick.Label.YAlign = draw.YCenter
		need = lineH * 1.5
	}
	step := tickStep(need, slot)
	var ticks []plot.Tick
	for i := 0; i < n; i += step {
		pos := float64(i) + 0.5
		if vertical {
			pos = float64(n-1-i) + 0.5
		}
		ticks = append(ticks, plot.Tick{Value: pos, Label: labels[i]})
	}
	ax.Tick.Marker = plot.ConstantTicks(ticks)
	ax.Tick.Length = 3
}

// tickStep is the smallest of 1, 2, 5, 10, 20, 50, … that spaces labels
// needing need each at least that far apart on slots of slot.
func tickStep(need, slot vg.Length) int {
	if slot <= 0 || need <= slot {
		return 1
	}
	raw := float64(need / slot)
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if float64(m*p) >= raw {
				return m * p
			}
		}
	}
}

// rect is a filled rectangle in data coordinates.
type rect struct {
	x0, y0, x1, y1 float64
	c              color.Color
}

// rects draws filled rectangles (cells, bars) in data coordinates,
// clipped to the data area. overlap widens each by that many points on
// every side, hiding the hairline seams anti-aliasing leaves between
// touching cells.
type rects struct {
	rs      []rect
	overlap vg.Length
}

// Plot implements plot.Plotter.
func (r *rects) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for _, q := range r.rs {
		x0, x1 := trX(q.x0), trX(q.x1)
		y0, y1 := trY(q.y0), trY(q.y1)
		if x0 > x1 {
			x0, x1 = x1, x0
		}
		if y0 > y1 {
			y0, y1 = y1, y0
		}
		x0, x1 = max(x0-r.overlap, c.Min.X), min(x1+r.overlap, c.Max.X)
		y0, y1 = max(y0-r.overlap, c.Min.Y), min(y1+r.overlap, c.Max.Y)
		if x0 > x1 || y0 > y1 {
			continue
		}
		c.SetColor(q.c)
		c.Fill(rectPath(x0, y0, x1, y1))
	}
}

// DataRange implements plot.DataRanger.
func (r *rects) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax, ymin, ymax = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, q := range r.rs {
		xmin, xmax = math.Min(xmin, math.Min(q.x0, q.x1)), math.Max(xmax, math.Max(q.x0, q.x1))
		ymin, ymax = math.Min(ymin, math.Min(q.y0, q.y1)), math.Max(ymax, math.Max(q.y0, q.y1))
	}
	return xmin, xmax, ymin, ymax
}

func rectPath(x0, y0, x1, y1 vg.Length) vg.Path {
	var pa vg.Path
	pa.Move(vg.Point{X: x0, Y: y0})
	pa.Line(vg.Point{X: x1, Y: y0})
	pa.Line(vg.Point{X: x1, Y: y1})
	pa.Line(vg.Point{X: x0, Y: y1})
	pa.Close()
	return pa
}

// cellImage draws rows×cols cells (row 0 at the top) as one image over
// [xmin,xmax]×[ymin,ymax]. Each cell is a block of pixels, so that the
// smoothing of image scaling blurs only the cells' edges.
func cellImage(cells []color.NRGBA, rows, cols int, xmin, ymin, xmax, ymax float64) *plotter.Image {
	s := max(1, int(math.Ceil(600/float64(max(rows, cols)))))
	img := image.NewNRGBA(image.Rect(0, 0, cols*s, rows*s))
	for r := range rows {
		for col := range cols {
			c := cells[r*cols+col]
			for dy := range s {
				off := img.PixOffset(col*s, r*s+dy)
				for dx := range s {
					copy(img.Pix[off+4*dx:], []uint8{c.R, c.G, c.B, c.A})
				}
			}
		}
	}
	return plotter.NewImage(img, xmin, ymin, xmax, ymax)
}

// cellTexts writes a value in the middle of each cell, in black or white
// as the cell's colour needs, at a size that fits the cell.
type cellTexts struct {
	texts      []string
	cells      []color.NRGBA
	rows, cols int
}

// Plot implements plot.Plotter.
func (t *cellTexts) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	cw := (trX(1) - trX(0))
	ch := (trY(1) - trY(0))
	widest := 0
	for _, s := range t.texts {
		widest = max(widest, len(s))
	}
	size := 9.0
	size = math.Min(size, float64(ch)*0.55)
	size = math.Min(size, float64(cw)*0.9/(0.56*float64(max(widest, 1))))
	size = math.Max(size, 5)
	sty := textStyle(size, false)
	for i, s := range t.texts {
		r, col := i/t.cols, i%t.cols
		pt := vg.Point{X: trX(float64(col) + 0.5), Y: trY(float64(t.rows-1-r) + 0.5)}
		if !c.Contains(pt) {
			continue
		}
		sty.Color = color.Black
		if luminance(t.cells[i]) < 0.45 {
			sty.Color = color.White
		}
		c.FillText(sty, pt, s)
	}
}

// luminance is the relative luminance (0 black, 1 white) of an sRGB colour.
func luminance(c color.NRGBA) float64 {
	lin := func(u uint8) float64 {
		v := float64(u) / 255
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B)
}

// colourBarWidth is the width of a heatmap's colour bar strip.
const colourBarWidth = 0.95 * vg.Inch

// colourBarPlot is the side strip holding the colour bar of main, a bar
// from lo to hi as tall as main's data area with its ticks at the right.
func colourBarPlot(main *plot.Plot, cmap colormap, lo, hi float64) *plot.Plot {
	p := plot.New()
	p.HideAxes()
	p.X.Padding, p.Y.Padding = 0, 0
	p.Add(&colourBar{main: main, cmap: cmap, lo: lo, hi: hi})
	return p
}

// colourBar draws itself at the left of its canvas, aligned with the data
// area of the main plot drawn beside it.
type colourBar struct {
	main   *plot.Plot
	cmap   colormap
	lo, hi float64
}

// Plot implements plot.Plotter.
func (b *colourBar) Plot(c draw.Canvas, _ *plot.Plot) {
	probe := c
	probe.Min.X -= 100 * vg.Inch // only the main plot's vertical layout matters
	da := b.main.DataCanvas(probe)
	x0 := c.Min.X + 0.14*vg.Inch
	x1 := x0 + 0.16*vg.Inch
	y0, y1 := da.Min.Y, da.Max.Y
	ramp := image.NewNRGBA(image.Rect(0, 0, 1, 256))
	for i := range 256 {
		ramp.SetNRGBA(0, 255-i, b.cmap.at(float64(i)/255))
	}
	c.DrawImage(vg.Rectangle{Min: vg.Point{X: x0, Y: y0}, Max: vg.Point{X: x1, Y: y1}}, ramp)
	frame := draw.LineStyle{Color: color.Gray{Y: 0x66}, Width: 0.5}
	c.StrokeLines(frame, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}, {X: x0, Y: y0}})
	sty := textStyle(8.5, false)
	sty.Color = color.Gray{Y: 0x33}
	sty.XAlign = draw.XLeft
	for _, t := range (plot.DefaultTicks{}).Ticks(b.lo, b.hi) {
		if t.IsMinor() || t.Value < b.lo || t.Value > b.hi || b.hi == b.lo {
			continue
		}
		y := y0 + (y1-y0)*vg.Length((t.Value-b.lo)/(b.hi-b.lo))
		c.StrokeLine2(frame, x1, y, x1+3, y)
		c.FillText(sty, vg.Point{X: x1 + 4.5, Y: y}, t.Label)
	}
}

// DataRange implements plot.DataRanger: the strip has no data of its own.
func (b *colourBar) DataRange() (xmin, xmax, ymin, ymax float64) { return 0, 1, 0, 1 }

// colormap maps [0, 1] to colours by linear interpolation between anchors.
type colormap struct {
	pos []float64 // increasing, from 0 to 1
	col []color.NRGBA
}

// at returns the colour at t, clamped to [0, 1].
func (m colormap) at(t float64) color.NRGBA {
	if math.IsNaN(t) {
		return nanColour
	}
	t = math.Max(0, math.Min(1, t))
	i := 1
	for i < len(m.pos)-1 && m.pos[i] < t {
		i++
	}
	a, b := m.col[i-1], m.col[i]
	u := (t - m.pos[i-1]) / (m.pos[i] - m.pos[i-1])
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + u*(float64(y)-float64(x)))) }
	return color.NRGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 0xFF}
}

// evenly returns a colormap with its anchors spread evenly over [0, 1].
func evenly(hex ...uint32) colormap {
	m := colormap{}
	for i, h := range hex {
		m.pos = append(m.pos, float64(i)/float64(len(hex)-1))
		m.col = append(m.col, color.NRGBA{uint8(h >> 16), uint8(h >> 8), uint8(h), 0xFF})
	}
	return m
}

// viridis is matplotlib's viridis map (van der Walt and Smith), by every
// eighth of its 256 published colours and the last, at their positions
// i/255.
var viridis = func() colormap {
	idx := []int{0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120, 128,
		136, 144, 152, 160, 168, 176, 184, 192, 200, 208, 216, 224, 232, 240, 248, 255}
	hex := []uint32{0x440154, 0x470d60, 0x48186a, 0x482374, 0x472d7b, 0x453781, 0x424086, 0x3e4989,
		0x3b528b, 0x375b8d, 0x33638d, 0x2f6b8e, 0x2c728e, 0x297a8e, 0x26828e, 0x23898e, 0x21918c,
		0x1f988b, 0x1fa088, 0x22a785, 0x28ae80, 0x32b67a, 0x3fbc73, 0x4ec36b, 0x5ec962, 0x70cf57,
		0x84d44b, 0x98d83e, 0xaddc30, 0xc2df23, 0xd8e219, 0xece51b, 0xfde725}
	m := evenly(hex...)
	for i, k := range idx {
		m.pos[i] = float64(k) / 255
	}
	return m
}()

// diverging is ColorBrewer's 11-class RdBu, blue for low and red for high.
var diverging = evenly(0x053061, 0x2166ac, 0x4393c3, 0x92c5de, 0xd1e5f0, 0xf7f7f7,
	0xfddbc7, 0xf4a582, 0xd6604d, 0xb2182b, 0x67001f)

// greys is ColorBrewer's 9-class Greys, white to black.
var greys = evenly(0xffffff, 0xf0f0f0, 0xd9d9d9, 0xbdbdbd, 0x969696, 0x737373, 0x525252, 0x252525, 0x000000)

func colormapNamed(name string) (colormap, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "viridis":
		return viridis, nil
	case "diverging":
		return diverging, nil
	case "greys", "grays":
		return greys, nil
	}
	return colormap{}, fmt.Errorf("colormap %q is not one of viridis, diverging, greys", name)
}
