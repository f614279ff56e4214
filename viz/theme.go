package viz

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Palette is the colour-blind-safe palette series are drawn in, in order:
// the Okabe–Ito colours, with yellow (hard to see on white) last.
var Palette = []color.NRGBA{
	{0x00, 0x72, 0xB2, 0xFF}, // blue
	{0xD5, 0x5E, 0x00, 0xFF}, // vermillion
	{0x00, 0x9E, 0x73, 0xFF}, // bluish green
	{0xE6, 0x9F, 0x00, 0xFF}, // orange
	{0xCC, 0x79, 0xA7, 0xFF}, // reddish purple
	{0x56, 0xB4, 0xE9, 0xFF}, // sky blue
	{0x00, 0x00, 0x00, 0xFF}, // black
	{0xF0, 0xE4, 0x42, 0xFF}, // yellow
}

// Colour returns the i-th palette colour, cycling.
func Colour(i int) color.NRGBA {
	if i < 0 {
		i = -i
	}
	return Palette[i%len(Palette)]
}

// withAlpha returns c with its opacity set to a (0–1).
func withAlpha(c color.NRGBA, a float64) color.NRGBA {
	c.A = uint8(math.Round(255 * a))
	return c
}

// sansFont is the font figures use, at size points.
func sansFont(size float64, bold bool) font.Font {
	f := font.Font{Typeface: "Liberation", Variant: "Sans", Size: font.Length(size) * vg.Inch / 72}
	if bold {
		f.Weight = xfont.WeightBold
	}
	return f
}

// textStyle is a plain text style in the figures' font.
func textStyle(size float64, bold bool) text.Style {
	return text.Style{
		Color:   color.Black,
		Font:    sansFont(size, bold),
		XAlign:  draw.XCenter,
		YAlign:  draw.YCenter,
		Handler: plot.DefaultTextHandler,
	}
}

// restyle sets a text style's font and colour, keeping gonum's alignment.
func restyle(s *text.Style, size float64, bold bool, c color.Color) {
	s.Font = sansFont(size, bold)
	s.Color = c
}

// newPlot returns a plot styled for a notebook column: sans-serif text,
// light grid lines, the title and labels of opt, and the axis scales it asks
// for.
func newPlot(opt Options, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = opt.Title
	restyle(&p.Title.TextStyle, 12, true, color.Black)
	p.Title.Padding = 0.1 * vg.Inch
	p.X.Label.Text = firstNonEmpty(opt.XLabel, xlabel)
	p.Y.Label.Text = firstNonEmpty(opt.YLabel, ylabel)
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		restyle(&ax.Label.TextStyle, 10.5, false, color.Black)
		restyle(&ax.Tick.Label, 9, false, color.Gray{Y: 0x33})
		ax.LineStyle.Color = color.Gray{Y: 0x66}
		ax.Tick.LineStyle.Color = color.Gray{Y: 0x66}
		ax.Padding = 0.04 * vg.Inch
	}
	restyle(&p.Legend.TextStyle, 9, false, color.Black)
	p.Legend.ThumbnailWidth = 0.3 * vg.Inch
	p.Legend.Padding = 0.03 * vg.Inch
	if opt.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	if opt.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	return p
}

// addGrid adds light grid lines behind everything drawn later.
func addGrid(p *plot.Plot) {
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 0xE4}
	g.Horizontal.Color = color.Gray{Y: 0xE4}
	g.Vertical.Width = 0.6
	g.Horizontal.Width = 0.6
	p.Add(g)
}

// applyRanges fixes the axis ranges opt asks for.
func applyRanges(p *plot.Plot, opt Options) {
	if opt.XMin != opt.XMax {
		p.X.Min, p.X.Max = opt.XMin, opt.XMax
	}
	if opt.YMin != opt.YMax {
		p.Y.Min, p.Y.Max = opt.YMin, opt.YMax
	}
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// placeLegend puts the legend where opt says, or for "auto" in the corner
// of the data area holding the fewest points. It reports an unknown
// placement as an error.
func placeLegend(p *plot.Plot, opt Options, pts []plotter.XYs) error {
	where := strings.ToLower(strings.TrimSpace(opt.Legend))
	switch where {
	case "none":
		p.Legend = plot.NewLegend()
		return nil
	case "", "auto":
		where = emptiestCorner(p, opt, pts)
	case "top-right", "top-left", "bottom-right", "bottom-left":
	default:
		return fmt.Errorf("viz: legend placement %q is not one of auto, top-right, top-left, bottom-right, bottom-left, none", opt.Legend)
	}
	p.Legend.Top = strings.HasPrefix(where, "top")
	p.Legend.Left = strings.HasSuffix(where, "left")
	inset := 0.08 * vg.Inch
	if p.Legend.Left {
		p.Legend.XOffs = inset
	} else {
		p.Legend.XOffs = -inset
	}
	if p.Legend.Top {
		p.Legend.YOffs = -inset
	} else {
		p.Legend.YOffs = inset
	}
	return nil
}

// emptiestCorner counts the points in each corner third of the data range
// (in the axes' scales) and returns the corner with the fewest.
func emptiestCorner(p *plot.Plot, opt Options, pts []plotter.XYs) string {
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	sx, sy := axisScale(opt.LogX), axisScale(opt.LogY)
	for _, s := range pts {
		for _, q := range s {
			x, y := sx(q.X), sy(q.Y)
			xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
			ymin, ymax = math.Min(ymin, y), math.Max(ymax, y)
		}
	}
	corners := []string{"top-right", "top-left", "bottom-right", "bottom-left"}
	if !(xmax > xmin) || !(ymax > ymin) {
		return corners[0]
	}
	counts := make([]int, 4)
	for _, s := range pts {
		for _, q := range s {
			fx, fy := (sx(q.X)-xmin)/(xmax-xmin), (sy(q.Y)-ymin)/(ymax-ymin)
			top, bottom, left, right := fy > 0.62, fy < 0.38, fx < 0.45, fx > 0.55
			switch {
			case top && right:
				counts[0]++
			case top && left:
				counts[1]++
			case bottom && right:
				counts[2]++
			case bottom && left:
				counts[3]++
			}
		}
	}
	best := 0
	for i := range counts {
		if counts[i] < counts[best] {
			best = i
		}
	}
	return corners[best]
}

func axisScale(log bool) func(float64) float64 {
	if log {
		return math.Log10
	}
	return func(v float64) float64 { return v }
}

// finitePoints pairs xs and ys, leaving out points that are not finite or
// that a log axis cannot show, and returns how many it left out.
func finitePoints(xs, ys []float64, logX, logY bool) (plotter.XYs, int) {
	out := make(plotter.XYs, 0, len(ys))
	skipped := 0
	for i := range ys {
		x, y := xs[i], ys[i]
		if !finite(x) || !finite(y) || logX && x <= 0 || logY && y <= 0 {
			skipped++
			continue
		}
		out = append(out, plotter.XY{X: x, Y: y})
	}
	return out, skipped
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// skippedNote is the caption line for n values left out of what, or "".
func skippedNote(n int, what string, logAxis bool) string {
	if n == 0 {
		return ""
	}
	reason := "non-finite"
	if logAxis {
		reason = "non-finite or non-positive (log axis)"
	}
	s := "s"
	if n == 1 {
		s = ""
	}
	return fmt.Sprintf("%d %s value%s skipped in %s", n, reason, s, what)
}

// noData marks an empty plot so that it is never a blank image.
type noData struct {
	log bool // an axis is logarithmic, so the range must be positive
}

// Plot writes "no data" in the middle of the data area.
func (noData) Plot(c draw.Canvas, _ *plot.Plot) {
	sty := textStyle(11, false)
	sty.Color = color.Gray{Y: 0x77}
	c.FillText(sty, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: (c.Min.Y + c.Max.Y) / 2}, "no data")
}

// DataRange gives the empty plot a unit range (1 to 10 on log axes).
func (n noData) DataRange() (xmin, xmax, ymin, ymax float64) {
	if n.log {
		return 1, 10, 1, 10
	}
	return 0, 1, 0, 1
}
