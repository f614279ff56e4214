package viz

import (
	"context"
	"fmt"
	"image/color"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/graftml/graft/tensor"
	"github.com/graftml/graft/viz/project"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// MaxSVGPoints is the largest scatter whose display carries SVG unless
// Options.Formats asks for it: SVG writes every marker out as text (100,000
// points are about 12 MB), which a notebook file and a browser carry poorly.
const MaxSVGPoints = 20_000

// ScatterOptions are the settings of Scatter.
type ScatterOptions struct {
	Options
	// Labels gives each point's class (0, 1, …), which picks its colour;
	// nil draws all points in one colour.
	Labels []int
	// Domains gives each point's domain (0, 1, …), which picks its marker:
	// circle, triangle, square, diamond, downward triangle, then again;
	// nil draws circles.
	Domains []int
	// ClassNames and DomainNames name the classes and domains in the
	// legend (nil: "class k"; "source" and "target" for two domains,
	// "domain k" otherwise).
	ClassNames, DomainNames []string
	// PointNames, when set, names each point (a file, a sentence, a
	// sample id): graft's notebook extension shows the name when the
	// pointer rests on the point.
	PointNames []string
	// PointSize is the markers' radius in points (0: smaller the more
	// points there are).
	PointSize float64
	// Alpha is the markers' opacity in (0, 1] (0: lower the more points
	// there are, so that dense regions show).
	Alpha float64
	// pointIndex is each point's row in the user's data when it differs
	// from its position (Embedding leaves out non-finite rows).
	pointIndex []int
}

// Scatter draws (N,2) points, such as 2-D embeddings, coloured by class and
// shaped by domain, with a legend that lists the classes (by colour) and
// the domains (by marker, in grey) separately. Points with a non-finite
// coordinate are skipped and counted in the caption.
func Scatter(points *tensor.Tensor, opt ScatterOptions) (*Figure, error) {
	xs, ys, err := pointColumns("viz.Scatter", "points", points)
	if err != nil {
		return nil, err
	}
	layer := pointLayer{xs: xs, ys: ys, classes: opt.Labels, domains: opt.Domains}
	if err := layer.check("viz.Scatter", opt.ClassNames, opt.DomainNames); err != nil {
		return nil, err
	}
	if opt.Alpha < 0 || opt.Alpha > 1 || math.IsNaN(opt.Alpha) {
		return nil, fmt.Errorf("viz.Scatter: Alpha is %g, want an opacity in (0, 1] or 0 for automatic", opt.Alpha)
	}
	if opt.PointNames != nil && len(opt.PointNames) != len(xs) {
		return nil, fmt.Errorf("viz.Scatter: %d point names for %d points", len(opt.PointNames), len(xs))
	}
	if opt.PointSize < 0 || math.IsNaN(opt.PointSize) {
		return nil, fmt.Errorf("viz.Scatter: PointSize is %g, want a radius in points or 0 for automatic", opt.PointSize)
	}
	f := &Figure{opt: opt.Options, desc: fmt.Sprintf("scatter of %d points", len(xs))}
	if f.opt.Formats == nil && len(xs) > MaxSVGPoints {
		f.opt.Formats = []string{"png", "interactive"}
	}
	p := newPlot(opt.Options, "", "")
	addGrid(p)
	n := len(xs)
	style := pointStyle{radius: vg.Length(opt.PointSize), alpha: opt.Alpha}
	if style.radius == 0 {
		style.radius = vg.Length(autoBySize(n, 3, 2.2, 1.5))
	}
	if style.alpha == 0 {
		style.alpha = autoBySize(n, 0.9, 0.7, 0.45)
	}
	drawn, skipped := layer.plotter(style, opt.LogX, opt.LogY, func(class, _ int) color.NRGBA {
		if class < 0 {
			return Colour(0)
		}
		return classColour(class)
	})
	f.marks = len(drawn.xy)
	if skipped > 0 {
		f.notes = append(f.notes, pointsSkippedNote(skipped, opt.LogX || opt.LogY))
	}
	if len(drawn.xy) == 0 {
		p.Add(noData{log: opt.LogX || opt.LogY})
	} else {
		p.Add(drawn)
	}
	applyRanges(p, opt.Options)
	var entries []legendEntry
	if opt.Labels != nil {
		entries = classEntries(layer.present(opt.Labels), opt.ClassNames)
	}
	if opt.Domains != nil {
		entries = append(entries, domainEntries(layer.present(opt.Domains), opt.DomainNames)...)
	}
	if err := addPointLegend(f, p, opt.Options, entries, []plotter.XYs{drawn.xy}); err != nil {
		return nil, err
	}
	f.plot = p
	f.data = scatterJSON(xs, ys, opt.Labels, opt.Domains, opt.PointNames, opt.pointIndex, opt)
	return f, nil
}

// EmbeddingOptions are the settings of Embedding.
type EmbeddingOptions struct {
	ScatterOptions
	// Method projects the embeddings to 2-D: "pca" ("", principal
	// components), "tsne" (t-SNE) or "none" (the embeddings are already
	// (N,2)).
	Method string
	// TSNE holds t-SNE's settings (its Dims is always 2).
	TSNE project.TSNEOptions
	// Context stops a long t-SNE run when it is done (nil: never).
	Context context.Context
}

// Embedding projects (N,D) embeddings, such as a model's features for a
// batch of source and target examples, to 2-D by PCA or t-SNE and draws
// them as Scatter does. Rows with a non-finite value are left out of the
// projection and counted in the caption. Without a title, the title names
// the method.
func Embedding(x *tensor.Tensor, opt EmbeddingOptions) (*Figure, error) {
	const fn = "viz.Embedding"
	if x == nil {
		return nil, fmt.Errorf("%s: embeddings are nil", fn)
	}
	if x.Dims() != 2 {
		return nil, fmt.Errorf("%s: embeddings have shape %s, want (N,D)", fn, tensor.FormatShape(x.Shape()))
	}
	n, d := x.Dim(0), x.Dim(1)
	ids := pointLayer{xs: make([]float64, n), classes: opt.Labels, domains: opt.Domains}
	if err := ids.check(fn, opt.ClassNames, opt.DomainNames); err != nil {
		return nil, err
	}
	if opt.PointNames != nil && len(opt.PointNames) != n {
		return nil, fmt.Errorf("%s: %d point names for %d embeddings", fn, len(opt.PointNames), n)
	}
	method := strings.ToLower(strings.TrimSpace(opt.Method))
	switch method {
	case "", "pca":
		method = "pca"
	case "tsne", "t-sne":
		method = "tsne"
	case "none":
		if d != 2 {
			return nil, fmt.Errorf("%s: Method \"none\" draws (N,2) embeddings as they are; these have shape %s", fn, tensor.FormatShape(x.Shape()))
		}
	default:
		return nil, fmt.Errorf("%s: Method %q is not one of pca, tsne, none", fn, opt.Method)
	}
	// Keep the finite rows, and their labels and domains.
	data := x.Data()
	var keep []int
	for i := range n {
		ok := true
		for _, v := range data[i*d : (i+1)*d] {
			ok = ok && finite(float64(v))
		}
		if ok {
			keep = append(keep, i)
		}
	}
	sopt := opt.ScatterOptions
	if len(keep) < n {
		x = x.IndexSelect(0, keep)
		sopt.Labels, sopt.Domains = pick(opt.Labels, keep), pick(opt.Domains, keep)
		sopt.pointIndex = keep
		if opt.PointNames != nil {
			sopt.PointNames = make([]string, len(keep))
			for i, k := range keep {
				sopt.PointNames[i] = opt.PointNames[k]
			}
		}
	}
	what := fmt.Sprintf("%d points (%d-D)", len(keep), d)
	var pts *tensor.Tensor
	switch method {
	case "pca":
		fit, err := project.FitPCA(x, 2)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", fn, err)
		}
		if pts, err = fit.Transform(x); err != nil {
			return nil, fmt.Errorf("%s: %v", fn, err)
		}
		ratio := fit.ExplainedVarianceRatio()
		sopt.XLabel = firstNonEmpty(sopt.XLabel, fmt.Sprintf("PC 1 (%.0f%% of variance)", 100*ratio[0]))
		sopt.YLabel = firstNonEmpty(sopt.YLabel, fmt.Sprintf("PC 2 (%.0f%% of variance)", 100*ratio[1]))
		sopt.Title = firstNonEmpty(sopt.Title, "PCA of "+what)
	case "tsne":
		ctx := opt.Context
		if ctx == nil {
			ctx = context.Background()
		}
		topt := opt.TSNE
		topt.Dims = 2
		var err error
		if pts, err = project.TSNE(ctx, x, topt); err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
		sopt.XLabel = firstNonEmpty(sopt.XLabel, "t-SNE 1")
		sopt.YLabel = firstNonEmpty(sopt.YLabel, "t-SNE 2")
		sopt.Title = firstNonEmpty(sopt.Title, "t-SNE of "+what)
	default:
		pts = x
	}
	f, err := Scatter(pts, sopt)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, strings.TrimPrefix(err.Error(), "viz.Scatter: "))
	}
	if skipped := n - len(keep); skipped > 0 {
		s := "s"
		if skipped == 1 {
			s = ""
		}
		f.notes = append([]string{fmt.Sprintf("%d embedding%s with non-finite values left out", skipped, s)}, f.notes...)
	}
	if method != "none" {
		f.desc = fmt.Sprintf("%s scatter of %d points", map[string]string{"pca": "PCA", "tsne": "t-SNE"}[method], f.marks)
	}
	return f, nil
}

// pick returns ids at the indices keep, or nil for nil ids.
func pick(ids []int, keep []int) []int {
	if ids == nil {
		return nil
	}
	out := make([]int, len(keep))
	for i, k := range keep {
		out[i] = ids[k]
	}
	return out
}

// pointColumns checks that t is an (N,2) tensor and returns its columns.
func pointColumns(fn, what string, t *tensor.Tensor) (xs, ys []float64, err error) {
	if t == nil {
		return nil, nil, fmt.Errorf("%s: %s is nil", fn, what)
	}
	if t.Dims() != 2 || t.Dim(1) != 2 {
		return nil, nil, fmt.Errorf("%s: %s has shape %s, want (N,2)", fn, what, tensor.FormatShape(t.Shape()))
	}
	d := t.Data()
	n := t.Dim(0)
	xs, ys = make([]float64, n), make([]float64, n)
	for i := range n {
		xs[i], ys[i] = float64(d[2*i]), float64(d[2*i+1])
	}
	return xs, ys, nil
}

// autoBySize picks small, medium or large according to the number of
// points: up to 300, up to 3000, more.
func autoBySize(n int, few, some, many float64) float64 {
	switch {
	case n <= 300:
		return few
	case n <= 3000:
		return some
	}
	return many
}

func pointsSkippedNote(n int, logAxis bool) string {
	s := "s"
	if n == 1 {
		s = ""
	}
	reason := "a non-finite coordinate"
	if logAxis {
		reason = "a non-finite or non-positive (log axis) coordinate"
	}
	return fmt.Sprintf("%d point%s with %s skipped", n, s, reason)
}

// pointLayer is a set of points with optional classes and domains; a
// class of -1 marks an unlabelled point.
type pointLayer struct {
	xs, ys           []float64
	classes, domains []int
}

// check reports labels or domains that do not fit the points or names.
func (l pointLayer) check(fn string, classNames, domainNames []string) error {
	for _, c := range []struct {
		what  string
		ids   []int
		names []string
	}{{"labels", l.classes, classNames}, {"domains", l.domains, domainNames}} {
		if c.ids == nil {
			continue
		}
		if len(c.ids) != len(l.xs) {
			return fmt.Errorf("%s: %d %s for %d points", fn, len(c.ids), c.what, len(l.xs))
		}
		for i, v := range c.ids {
			if v < 0 {
				return fmt.Errorf("%s: %s[%d] is %d, want 0 or more", fn, c.what, i, v)
			}
			if c.names != nil && v >= len(c.names) {
				return fmt.Errorf("%s: %s[%d] is %d, but only %d names are given", fn, c.what, i, v, len(c.names))
			}
		}
	}
	return nil
}

// present returns the distinct values of ids in increasing order.
func (pointLayer) present(ids []int) []int {
	seen := map[int]bool{}
	var out []int
	for _, v := range ids {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Ints(out)
	return out
}

// pointStyle is how markers are drawn.
type pointStyle struct {
	radius  vg.Length
	alpha   float64
	outline bool // a thin white ring around each marker, for busy backgrounds
}

// plotter returns the layer's drawable points (skipping those a finite,
// positive-where-log axis cannot show) and how many it skipped. colour
// gives a point's colour from its class (-1: none) and domain.
func (l pointLayer) plotter(sty pointStyle, logX, logY bool, colour func(class, domain int) color.NRGBA) (*points, int) {
	pts := &points{sty: sty}
	skipped := 0
	for i := range l.xs {
		x, y := l.xs[i], l.ys[i]
		if !finite(x) || !finite(y) || logX && x <= 0 || logY && y <= 0 {
			skipped++
			continue
		}
		class, domain := -1, 0
		if l.classes != nil {
			class = l.classes[i]
		}
		if l.domains != nil {
			domain = l.domains[i]
		}
		pts.xy = append(pts.xy, plotter.XY{X: x, Y: y})
		pts.colour = append(pts.colour, withAlpha(colour(class, domain), sty.alpha))
		pts.shape = append(pts.shape, domain)
	}
	// Drawn in a fixed shuffled order, so that no class or domain is
	// always painted over the others where they overlap.
	pts.order = rand.New(rand.NewPCG(1, 2)).Perm(len(pts.xy))
	return pts, skipped
}

// points draws markers, each in its own colour and shape.
type points struct {
	xy     plotter.XYs
	colour []color.NRGBA
	shape  []int // index into markers
	order  []int
	sty    pointStyle
}

// markers are the domains' marker shapes, all filled.
var markers = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.PyramidGlyph{}, draw.BoxGlyph{}, diamondGlyph{}, downTriangleGlyph{}}

func marker(domain int) draw.GlyphDrawer { return markers[domain%len(markers)] }

// Plot implements plot.Plotter.
func (p *points) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	for _, i := range p.order {
		pt := vg.Point{X: trX(p.xy[i].X), Y: trY(p.xy[i].Y)}
		drawMarker(&c, marker(p.shape[i]), p.colour[i], p.sty.radius, p.sty.outline, pt)
	}
}

// drawMarker draws one marker, clipped away when outside c.
func drawMarker(c *draw.Canvas, shape draw.GlyphDrawer, col color.Color, r vg.Length, outline bool, pt vg.Point) {
	if !c.Contains(pt) {
		return
	}
	sty := draw.GlyphStyle{Color: col, Radius: r, Shape: shape}
	if outline {
		ring := sty
		ring.Color, ring.Radius = color.White, r+0.7
		c.DrawGlyph(ring, pt)
	}
	c.DrawGlyph(sty, pt)
}

// DataRange implements plot.DataRanger.
func (p *points) DataRange() (xmin, xmax, ymin, ymax float64) {
	return plotter.XYRange(p.xy)
}

// GlyphBoxes implements plot.GlyphBoxer for the outermost points only,
// which is all the axes' padding depends on.
func (p *points) GlyphBoxes(plt *plot.Plot) []plot.GlyphBox {
	if len(p.xy) == 0 {
		return nil
	}
	ext := [4]int{}
	for i, q := range p.xy {
		if q.X < p.xy[ext[0]].X {
			ext[0] = i
		}
		if q.X > p.xy[ext[1]].X {
			ext[1] = i
		}
		if q.Y < p.xy[ext[2]].Y {
			ext[2] = i
		}
		if q.Y > p.xy[ext[3]].Y {
			ext[3] = i
		}
	}
	r := p.sty.radius + 1
	boxes := make([]plot.GlyphBox, 0, 4)
	for _, i := range ext {
		boxes = append(boxes, plot.GlyphBox{
			X:         plt.X.Norm(p.xy[i].X),
			Y:         plt.Y.Norm(p.xy[i].Y),
			Rectangle: vg.Rectangle{Min: vg.Point{X: -r, Y: -r}, Max: vg.Point{X: r, Y: r}},
		})
	}
	return boxes
}

// diamondGlyph is a filled diamond.
type diamondGlyph struct{}

// DrawGlyph implements draw.GlyphDrawer.
func (diamondGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	r := sty.Radius * 1.2
	var pa vg.Path
	pa.Move(vg.Point{X: pt.X, Y: pt.Y + r})
	pa.Line(vg.Point{X: pt.X + r, Y: pt.Y})
	pa.Line(vg.Point{X: pt.X, Y: pt.Y - r})
	pa.Line(vg.Point{X: pt.X - r, Y: pt.Y})
	pa.Close()
	c.Fill(pa)
}

// downTriangleGlyph is a filled triangle pointing down.
type downTriangleGlyph struct{}

// DrawGlyph implements draw.GlyphDrawer.
func (downTriangleGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	r := sty.Radius * 1.25
	var pa vg.Path
	pa.Move(vg.Point{X: pt.X, Y: pt.Y - r})
	pa.Line(vg.Point{X: pt.X - r*0.866, Y: pt.Y + r*0.5})
	pa.Line(vg.Point{X: pt.X + r*0.866, Y: pt.Y + r*0.5})
	pa.Close()
	c.Fill(pa)
}

// legendEntry is one line of a point legend.
type legendEntry struct {
	name  string
	thumb plot.Thumbnailer
}

// glyphThumb is a legend thumbnail showing one marker.
type glyphThumb struct {
	shape draw.GlyphDrawer
	c     color.Color
}

// Thumbnail implements plot.Thumbnailer.
func (g glyphThumb) Thumbnail(c *draw.Canvas) {
	pt := vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: (c.Min.Y + c.Max.Y) / 2}
	c.DrawGlyphNoClip(draw.GlyphStyle{Color: g.c, Radius: 3.2, Shape: g.shape}, pt)
}

// domainGrey is the colour of domain markers in a legend.
var domainGrey = color.NRGBA{0x66, 0x66, 0x66, 0xFF}

// classColour is the colour of class k: the palette, then (for more
// classes than it has colours) its colours darkened, then lightened.
func classColour(k int) color.NRGBA {
	c := Colour(k)
	switch (max(k, 0) / len(Palette)) % 3 {
	case 1:
		return color.NRGBA{uint8(float64(c.R) * 0.55), uint8(float64(c.G) * 0.55), uint8(float64(c.B) * 0.55), c.A}
	case 2:
		return tint(c, 0.5)
	}
	return c
}

// classEntries lists classes by colour.
func classEntries(classes []int, names []string) []legendEntry {
	var out []legendEntry
	for _, k := range classes {
		name := fmt.Sprintf("class %d", k)
		if k < len(names) {
			name = names[k]
		}
		out = append(out, legendEntry{name, glyphThumb{draw.CircleGlyph{}, classColour(k)}})
	}
	return out
}

// domainEntries lists domains by marker.
func domainEntries(domains []int, names []string) []legendEntry {
	maxDomain := 0
	for _, d := range domains {
		maxDomain = max(maxDomain, d)
	}
	var out []legendEntry
	for _, d := range domains {
		out = append(out, legendEntry{domainName(names, d, maxDomain+1), glyphThumb{marker(d), domainGrey}})
	}
	return out
}

// domainName names domain d of count: from names, else "source" and
// "target" when there are two at most, else "domain d".
func domainName(names []string, d, count int) string {
	switch {
	case d < len(names):
		return names[d]
	case names == nil && count <= 2 && d <= 1:
		return []string{"source", "target"}[d]
	}
	return fmt.Sprintf("domain %d", d)
}

// maxInsideLegend is the number of legend entries drawn over the data;
// more go in a strip at the right.
const maxInsideLegend = 8

// addPointLegend adds the entries to p's legend, placed as opt says, or
// in a strip at the right of the figure when they are many.
func addPointLegend(f *Figure, p *plot.Plot, opt Options, entries []legendEntry, pts []plotter.XYs) error {
	if len(entries) == 0 {
		return placeLegend(p, opt, pts)
	}
	for _, e := range entries {
		p.Legend.Add(e.name, e.thumb)
	}
	auto := opt.Legend == "" || opt.Legend == "auto"
	if !auto || len(entries) <= maxInsideLegend {
		return placeLegend(p, opt, pts)
	}
	side := plot.New()
	side.HideAxes()
	side.X.Padding, side.Y.Padding = 0, 0
	side.Add(blank{})
	side.Legend = p.Legend
	side.Legend.Top, side.Legend.Left = true, true
	side.Legend.XOffs = 0.1 * vg.Inch
	side.Legend.YOffs = 0
	if p.Title.Text != "" {
		side.Legend.YOffs = -(p.Title.TextStyle.Height(p.Title.Text) + p.Title.Padding)
	}
	widest := vg.Length(0)
	for _, e := range entries {
		widest = max(widest, side.Legend.TextStyle.Width(e.name))
	}
	p.Legend = plot.NewLegend()
	f.side = side
	f.sideW = widest + side.Legend.ThumbnailWidth + 0.3*vg.Inch
	return nil
}

// blank gives a plot that only holds a legend a data range.
type blank struct{}

// Plot implements plot.Plotter by drawing nothing.
func (blank) Plot(draw.Canvas, *plot.Plot) {}

// DataRange implements plot.DataRanger.
func (blank) DataRange() (xmin, xmax, ymin, ymax float64) { return 0, 1, 0, 1 }
