package viz

import (
	"fmt"
	"image/color"
	"math"

	"github.com/graftml/graft/tensor"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// RegionOptions are the settings of DecisionRegions.
type RegionOptions struct {
	Options
	// Source and Target are (N,2) points drawn over the regions, source as
	// circles and target as triangles; either may be nil.
	Source, Target *tensor.Tensor
	// SourceLabels and TargetLabels colour the points by class; nil draws
	// them unlabelled (source black, target grey).
	SourceLabels, TargetLabels []int
	// Resolution is the number of grid cells per side the classifier is
	// evaluated on (0: 150).
	Resolution int
	// Margin widens the points' bounding box by this fraction of its size
	// on every side (0: 0.1). Options.XMin…YMax, when set, fix the bounds
	// instead.
	Margin float64
	// ClassNames name the classes in the legend (nil: "class k").
	ClassNames []string
	// Confidence shades each region by the classifier's softmax
	// probability: pale where it is unsure, stronger where it is sure.
	Confidence bool
}

// Default and largest grid resolution of DecisionRegions.
const (
	defaultResolution = 150
	maxResolution     = 1000
	regionBatch       = 4096
)

// DecisionRegions draws the regions a 2-D classifier assigns to each class,
// with their boundaries, and the source and target points over them: the
// picture of a domain adaptation method on two moons. classify maps an
// (M,2) tensor of grid points to (M,C) class scores (logits or
// probabilities; a single column is read as a binary logit); it is called
// with gradients off, on batches of the grid. A panic in classify is
// returned as an error.
func DecisionRegions(classify func(x *tensor.Tensor) *tensor.Tensor, opt RegionOptions) (*Figure, error) {
	const fn = "viz.DecisionRegions"
	if classify == nil {
		return nil, fmt.Errorf("%s: classify is nil", fn)
	}
	if opt.LogX || opt.LogY {
		return nil, fmt.Errorf("%s: log axes are not supported (LogX %v, LogY %v)", fn, opt.LogX, opt.LogY)
	}
	var layer pointLayer
	for _, s := range []struct {
		name   string
		pts    *tensor.Tensor
		labels []int
		domain int
	}{{"Source", opt.Source, opt.SourceLabels, 0}, {"Target", opt.Target, opt.TargetLabels, 1}} {
		if s.pts == nil {
			if s.labels != nil {
				return nil, fmt.Errorf("%s: %d %sLabels but no %s points", fn, len(s.labels), s.name, s.name)
			}
			continue
		}
		xs, ys, err := pointColumns(fn, s.name, s.pts)
		if err != nil {
			return nil, err
		}
		if s.labels != nil && len(s.labels) != len(xs) {
			return nil, fmt.Errorf("%s: %d %sLabels for %d %s points", fn, len(s.labels), s.name, len(xs), s.name)
		}
		for i := range xs {
			class := -1
			if s.labels != nil {
				class = s.labels[i]
				if class < 0 {
					return nil, fmt.Errorf("%s: %sLabels[%d] is %d, want 0 or more", fn, s.name, i, class)
				}
			}
			layer.xs, layer.ys = append(layer.xs, xs[i]), append(layer.ys, ys[i])
			layer.classes = append(layer.classes, class)
			layer.domains = append(layer.domains, s.domain)
		}
	}
	res := opt.Resolution
	if res == 0 {
		res = defaultResolution
	}
	if res < 2 || res > maxResolution {
		return nil, fmt.Errorf("%s: Resolution is %d, want 2..%d", fn, res, maxResolution)
	}
	margin := opt.Margin
	if margin == 0 {
		margin = 0.1
	}
	if margin < 0 || !finite(margin) {
		return nil, fmt.Errorf("%s: Margin is %g, want a fraction of the points' extent, 0 or more", fn, opt.Margin)
	}
	xmin, xmax, ymin, ymax, err := regionBounds(layer, margin, opt.Options)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}

	scores, classes, err := evaluateGrid(classify, res, xmin, xmax, ymin, ymax)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	if opt.ClassNames != nil && len(opt.ClassNames) < classes {
		return nil, fmt.Errorf("%s: %d ClassNames for %d classes", fn, len(opt.ClassNames), classes)
	}
	for i, c := range layer.classes {
		if opt.ClassNames != nil && c >= len(opt.ClassNames) {
			return nil, fmt.Errorf("%s: point %d has label %d, but only %d ClassNames are given", fn, i, c, len(opt.ClassNames))
		}
	}

	f := &Figure{opt: opt.Options, desc: fmt.Sprintf("decision regions of %d classes on a %dx%d grid", classes, res, res)}
	p := newPlot(opt.Options, "x1", "x2")
	cells, bad := regionColours(scores, res, classes, opt.Confidence)
	p.Add(cellImage(cells, res, res, xmin, ymin, xmax, ymax))
	p.Add(boundaries(scores, res, classes, xmin, xmax, ymin, ymax))
	if bad > 0 {
		f.notes = append(f.notes, fmt.Sprintf("%d of %d grid points with non-finite scores drawn grey", bad, res*res))
	}
	radius := vg.Length(autoBySize(len(layer.xs), 3.2, 2.4, 1.6))
	pts, skipped := layer.plotter(pointStyle{radius: radius, alpha: autoBySize(len(layer.xs), 1, 0.85, 0.6), outline: true}, false, false,
		func(class, domain int) color.NRGBA {
			switch {
			case class >= 0:
				return classColour(class)
			case domain == 0:
				return color.NRGBA{0x22, 0x22, 0x22, 0xFF}
			}
			return color.NRGBA{0x88, 0x88, 0x88, 0xFF}
		})
	if skipped > 0 {
		f.notes = append(f.notes, pointsSkippedNote(skipped, false))
	}
	if len(pts.xy) > 0 {
		p.Add(pts)
	}
	f.marks = len(pts.xy)
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = xmin, xmax, ymin, ymax
	p.X.Padding, p.Y.Padding = 0, 0

	all := make([]int, classes)
	for k := range all {
		all[k] = k
	}
	entries := classEntries(all, opt.ClassNames)
	if len(layer.xs) > 0 {
		entries = append(entries, domainEntries(layer.present(layer.domains), nil)...)
	}
	if err := addPointLegend(f, p, opt.Options, entries, []plotter.XYs{pts.xy}); err != nil {
		return nil, err
	}
	f.plot = p
	return f, nil
}

// regionBounds is the grid's extent: the points' bounding box widened by
// margin of its size, or the ranges opt fixes.
func regionBounds(layer pointLayer, margin float64, opt Options) (xmin, xmax, ymin, ymax float64, err error) {
	xmin, xmax, ymin, ymax = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i := range layer.xs {
		x, y := layer.xs[i], layer.ys[i]
		if finite(x) && finite(y) {
			xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
			ymin, ymax = math.Min(ymin, y), math.Max(ymax, y)
		}
	}
	widen := func(lo, hi float64) (float64, float64) {
		span := hi - lo
		if span == 0 {
			span = 1
		}
		return lo - margin*span, hi + margin*span
	}
	fixedX, fixedY := opt.XMin != opt.XMax, opt.YMin != opt.YMax
	if xmin > xmax && !(fixedX && fixedY) {
		return 0, 0, 0, 0, fmt.Errorf("no finite Source or Target points and no XMin..XMax and YMin..YMax to span the grid")
	}
	if fixedX {
		xmin, xmax = math.Min(opt.XMin, opt.XMax), math.Max(opt.XMin, opt.XMax)
	} else {
		xmin, xmax = widen(xmin, xmax)
	}
	if fixedY {
		ymin, ymax = math.Min(opt.YMin, opt.YMax), math.Max(opt.YMin, opt.YMax)
	} else {
		ymin, ymax = widen(ymin, ymax)
	}
	return xmin, xmax, ymin, ymax, nil
}

// evaluateGrid calls classify on the centres of a res×res grid over the
// bounds, row by row from the bottom, and returns the scores (res*res rows
// of C) and C.
func evaluateGrid(classify func(*tensor.Tensor) *tensor.Tensor, res int, xmin, xmax, ymin, ymax float64) ([]float32, int, error) {
	defer tensor.NoGrad()()
	n := res * res
	dx, dy := (xmax-xmin)/float64(res), (ymax-ymin)/float64(res)
	var scores []float32
	classes := 0
	for start := 0; start < n; start += regionBatch {
		m := min(regionBatch, n-start)
		grid := make([]float32, 2*m)
		for i := range m {
			r, c := (start+i)/res, (start+i)%res
			grid[2*i] = float32(xmin + (float64(c)+0.5)*dx)
			grid[2*i+1] = float32(ymin + (float64(r)+0.5)*dy)
		}
		out, err := callClassify(classify, tensor.New(grid, m, 2))
		if err != nil {
			return nil, 0, err
		}
		if out == nil {
			return nil, 0, fmt.Errorf("classify returned nil for a (%d,2) batch of grid points", m)
		}
		if out.Dims() != 2 || out.Dim(0) != m || out.Dim(1) < 1 {
			return nil, 0, fmt.Errorf("classify returned shape %s for a (%d,2) batch of grid points, want (%d,C): a row of class scores per point", tensor.FormatShape(out.Shape()), m, m)
		}
		if classes == 0 {
			classes = out.Dim(1)
			scores = make([]float32, 0, n*classes)
		} else if out.Dim(1) != classes {
			return nil, 0, fmt.Errorf("classify returned %d columns for one batch and %d for another", classes, out.Dim(1))
		}
		scores = append(scores, out.Data()...)
	}
	if classes == 1 { // a binary logit: class 1 where it is positive
		two := make([]float32, 2*n)
		for i, s := range scores {
			two[2*i+1] = s
		}
		scores, classes = two, 2
	}
	return scores, classes, nil
}

// callClassify calls classify, turning a panic into an error.
func callClassify(classify func(*tensor.Tensor) *tensor.Tensor, x *tensor.Tensor) (out *tensor.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("classify panicked on a (%d,2) batch of grid points: %v", x.Dim(0), r)
		}
	}()
	return classify(x), nil
}

// regionColours returns the colour of every grid cell (row 0 at the top)
// and the number with non-finite scores.
func regionColours(scores []float32, res, classes int, confidence bool) ([]color.NRGBA, int) {
	cells := make([]color.NRGBA, res*res)
	bad := 0
	for i := range res * res {
		row := scores[i*classes : (i+1)*classes]
		k, p := argmaxSoftmax(row)
		r, c := i/res, i%res
		at := (res-1-r)*res + c
		if k < 0 {
			cells[at] = nanColour
			bad++
			continue
		}
		alpha := 0.25
		if confidence {
			// From nearly white at chance to 0.45 at certainty.
			chance := 1 / float64(classes)
			alpha = 0.04 + 0.41*math.Max(0, (p-chance)/(1-chance))
		}
		cells[at] = tint(classColour(k), alpha)
	}
	return cells, bad
}

// argmaxSoftmax returns the index of the largest score and its softmax
// probability, or -1 when a score is not finite.
func argmaxSoftmax(row []float32) (int, float64) {
	best := 0
	for j, s := range row {
		if !finite(float64(s)) {
			return -1, 0
		}
		if s > row[best] {
			best = j
		}
	}
	sum := 0.0
	for _, s := range row {
		sum += math.Exp(float64(s - row[best]))
	}
	return best, 1 / sum
}

// tint is c at opacity alpha over white, as an opaque colour.
func tint(c color.NRGBA, alpha float64) color.NRGBA {
	mix := func(v uint8) uint8 { return uint8(math.Round(alpha*float64(v) + (1-alpha)*255)) }
	return color.NRGBA{mix(c.R), mix(c.G), mix(c.B), 0xFF}
}

// boundaries traces where the predicted class changes: for each class k
// but the last, the zero line of its margin s_k − max_{j≠k} s_j over the
// grid, by marching squares with linear interpolation. Every boundary
// between two classes is the zero line of one of their margins.
func boundaries(scores []float32, res, classes int, xmin, xmax, ymin, ymax float64) *segments {
	dx, dy := (xmax-xmin)/float64(res), (ymax-ymin)/float64(res)
	node := func(r, c int) plotter.XY {
		return plotter.XY{X: xmin + (float64(c)+0.5)*dx, Y: ymin + (float64(r)+0.5)*dy}
	}
	segs := &segments{style: draw.LineStyle{Color: color.Gray{Y: 0x30}, Width: 1.1}}
	margin := make([]float64, res*res)
	for k := 0; k < classes-1; k++ {
		for i := range margin {
			row := scores[i*classes : (i+1)*classes]
			other := math.Inf(-1)
			for j, s := range row {
				if j != k {
					other = math.Max(other, float64(s))
				}
			}
			margin[i] = float64(row[k]) - other
		}
		for r := 0; r+1 < res; r++ {
			for c := 0; c+1 < res; c++ {
				// Corners counter-clockwise from the bottom left, and the
				// edges between them: bottom, right, top, left.
				corner := [4][2]int{{r, c}, {r, c + 1}, {r + 1, c + 1}, {r + 1, c}}
				var v [4]float64
				ok := true
				for i, q := range corner {
					v[i] = margin[q[0]*res+q[1]]
					ok = ok && finite(v[i])
				}
				if !ok {
					continue
				}
				var cross []plotter.XY
				for e := range 4 {
					a, b := v[e], v[(e+1)%4]
					if (a > 0) == (b > 0) {
						continue
					}
					t := a / (a - b)
					pa, pb := node(corner[e][0], corner[e][1]), node(corner[(e+1)%4][0], corner[(e+1)%4][1])
					cross = append(cross, plotter.XY{X: pa.X + t*(pb.X-pa.X), Y: pa.Y + t*(pb.Y-pa.Y)})
				}
				switch len(cross) {
				case 2:
					segs.add(cross[0], cross[1])
				case 4:
					// A saddle: the centre's sign says which pair of
					// opposite corners is joined.
					centre := (v[0] + v[1] + v[2] + v[3]) / 4
					if (centre > 0) == (v[0] > 0) {
						segs.add(cross[0], cross[1])
						segs.add(cross[2], cross[3])
					} else {
						segs.add(cross[0], cross[3])
						segs.add(cross[1], cross[2])
					}
				}
			}
		}
	}
	return segs
}

// segments strokes line segments given in data coordinates as one path.
type segments struct {
	ends  []plotter.XY // pairs
	style draw.LineStyle
}

func (s *segments) add(a, b plotter.XY) { s.ends = append(s.ends, a, b) }

// Plot implements plot.Plotter.
func (s *segments) Plot(c draw.Canvas, p *plot.Plot) {
	if len(s.ends) == 0 {
		return
	}
	trX, trY := p.Transforms(&c)
	var pa vg.Path
	for i := 0; i+1 < len(s.ends); i += 2 {
		pa.Move(vg.Point{X: trX(s.ends[i].X), Y: trY(s.ends[i].Y)})
		pa.Line(vg.Point{X: trX(s.ends[i+1].X), Y: trY(s.ends[i+1].Y)})
	}
	c.SetLineStyle(s.style)
	c.Stroke(pa)
}
