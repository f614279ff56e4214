package viz

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"github.com/graftml/graft/tensor"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ImageOptions are the settings of Images.
type ImageOptions struct {
	Options
	// Cols is the number of images per row when Rows is nil (0: 8, or
	// fewer when there are fewer images).
	Cols int
	// Rows lays the images out row by row: Rows[r] lists the indices of
	// the images of row r, left to right; rows may differ in length (an
	// image per class and row, say). nil: all images in order, Cols to a
	// row.
	Rows [][]int
	// RowLabels writes a label at the left of each row, such as the class
	// of its images; nil writes none.
	RowLabels []string
	// Min and Max are the pixel values drawn black and white (full
	// intensity for colour images), the same for every image. nil: 0 and 1
	// when every finite pixel drawn lies in [0, 1], otherwise the
	// smallest and largest finite pixel values.
	Min, Max *float64
}

// imageTileInches bounds the size of one image of a grid whose size is
// automatic.
const (
	imageTileMin = 0.35
	imageTileMax = 0.9
)

// Images draws a grid of images from a tensor (N, C, H, W) with one
// (grey) or three (red, green, blue) channels: samples of a dataset, a
// class per row, or inputs next to their transforms. All images share one
// value scale (see Min and Max). Pixels that are not finite are drawn grey
// and counted in the caption. Without a Width and Height the figure is
// sized to the grid, each image between 0.35 and 0.9 inches.
func Images(x *tensor.Tensor, opt ImageOptions) (*Figure, error) {
	const fn = "viz.Images"
	if x == nil {
		return nil, fmt.Errorf("%s: images are nil", fn)
	}
	if x.Dims() != 4 {
		return nil, fmt.Errorf("%s: images have shape %s, want (N,C,H,W)", fn, tensor.FormatShape(x.Shape()))
	}
	n, c, h, w := x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3)
	if c != 1 && c != 3 {
		return nil, fmt.Errorf("%s: images %s have %d channels, want 1 (grey) or 3 (RGB)", fn, tensor.FormatShape(x.Shape()), c)
	}
	if opt.Cols < 0 {
		return nil, fmt.Errorf("%s: Cols is %d, want a positive number or 0 for automatic", fn, opt.Cols)
	}
	rows := opt.Rows
	if rows == nil {
		cols := opt.Cols
		if cols == 0 {
			cols = min(8, max(n, 1))
		}
		for lo := 0; lo < n; lo += cols {
			row := make([]int, 0, cols)
			for i := lo; i < min(lo+cols, n); i++ {
				row = append(row, i)
			}
			rows = append(rows, row)
		}
	}
	cols := 0
	drawn := 0
	for r, row := range rows {
		cols = max(cols, len(row))
		for _, i := range row {
			if i < 0 || i >= n {
				return nil, fmt.Errorf("%s: Rows[%d] names image %d, outside 0..%d (%d images)", fn, r, i, n-1, n)
			}
		}
		drawn += len(row)
	}
	if opt.RowLabels != nil && len(opt.RowLabels) != len(rows) {
		return nil, fmt.Errorf("%s: %d row labels for %d rows", fn, len(opt.RowLabels), len(rows))
	}
	lo, hi, bad := imageRange(x, rows, opt.Min, opt.Max)
	if !(lo < hi) {
		return nil, fmt.Errorf("%s: Min %g is not below Max %g", fn, lo, hi)
	}
	f := &Figure{opt: opt.Options, marks: drawn,
		desc: fmt.Sprintf("%d images of %dx%dx%d in %d rows", drawn, c, h, w, len(rows))}
	if bad > 0 {
		s := "s"
		if bad == 1 {
			s = ""
		}
		f.notes = append(f.notes, fmt.Sprintf("%d non-finite pixel%s drawn grey", bad, s))
	}
	p := newPlot(opt.Options, "", "")
	p.HideAxes()
	p.X.Padding, p.Y.Padding = 0, 0
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	if drawn == 0 {
		p.Add(noData{})
	} else {
		img, centres := imageRaster(x, rows, cols, lo, hi)
		p.Add(&imageGrid{img: img, labels: opt.RowLabels, rowCentres: centres})
	}
	if f.opt.Width <= 0 && f.opt.Height <= 0 && drawn > 0 {
		aspect := float64(w) / float64(max(h, 1))
		tile := math.Max(imageTileMin, math.Min(imageTileMax, 6.0/float64(cols)/aspect))
		labelW := 0.0
		for _, l := range opt.RowLabels {
			labelW = math.Max(labelW, float64(textStyle(9, false).Width(l)/vg.Inch)+0.12)
		}
		f.opt.Width = float64(cols)*tile*aspect + labelW + 0.2
		f.opt.Height = float64(len(rows))*tile + 0.2
		if opt.Title != "" {
			f.opt.Height += 0.35
		}
		f.opt.Width = math.Max(f.opt.Width, 1.5)
	}
	f.plot = p
	return f, nil
}

// imageRange returns the values drawn black and white and the number of
// non-finite pixels among the images rows draws.
func imageRange(x *tensor.Tensor, rows [][]int, minV, maxV *float64) (lo, hi float64, bad int) {
	size := x.Len() / max(x.Dim(0), 1)
	data := x.Data()
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, row := range rows {
		for _, i := range row {
			for _, v := range data[i*size : (i+1)*size] {
				f := float64(v)
				if !finite(f) {
					bad++
					continue
				}
				lo, hi = math.Min(lo, f), math.Max(hi, f)
			}
		}
	}
	switch {
	case lo > hi: // no finite pixel
		lo, hi = 0, 1
	case lo >= 0 && hi <= 1:
		lo, hi = 0, 1
	case lo == hi:
		lo, hi = lo-0.5, hi+0.5
	}
	if minV != nil {
		lo = *minV
	}
	if maxV != nil {
		hi = *maxV
	}
	return lo, hi, bad
}

// imageRaster composes the grid as one picture: each image pixel is a
// block of s×s pixels (so that scaling the picture blurs only the blocks'
// edges), images are separated by gaps of white, and slots a short row
// leaves empty are white. It also returns the middle of each row as a
// fraction of the picture's height from the top.
func imageRaster(x *tensor.Tensor, rows [][]int, cols int, lo, hi float64) (*image.NRGBA, []float64) {
	c, h, w := x.Dim(1), x.Dim(2), x.Dim(3)
	s := max(1, int(math.Ceil(64/float64(max(h, w)))))
	gap := max(1, (s*max(h, w))/16)
	tw, th := w*s+gap, h*s+gap
	img := image.NewNRGBA(image.Rect(0, 0, cols*tw-gap, len(rows)*th-gap))
	centres := make([]float64, len(rows))
	for r := range rows {
		centres[r] = (float64(r*th) + float64(h*s)/2) / float64(img.Rect.Dy())
	}
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	data := x.Data()
	plane := h * w
	level := func(v float32) uint8 {
		t := (float64(v) - lo) / (hi - lo)
		return uint8(math.Round(255 * math.Max(0, math.Min(1, t))))
	}
	for r, row := range rows {
		for col, i := range row {
			base := i * c * plane
			for py := range h {
				for px := range w {
					var pix color.NRGBA
					k := base + py*w + px
					ok := true
					for ch := range c {
						ok = ok && finite(float64(data[k+ch*plane]))
					}
					switch {
					case !ok:
						pix = nanColour
					case c == 1:
						g := level(data[k])
						pix = color.NRGBA{g, g, g, 0xFF}
					default:
						pix = color.NRGBA{level(data[k]), level(data[k+plane]), level(data[k+2*plane]), 0xFF}
					}
					x0, y0 := col*tw+px*s, r*th+py*s
					for dy := range s {
						off := img.PixOffset(x0, y0+dy)
						for dx := range s {
							copy(img.Pix[off+4*dx:], []uint8{pix.R, pix.G, pix.B, pix.A})
						}
					}
				}
			}
		}
	}
	return img, centres
}

// imageGrid draws the composed picture as large as its canvas allows at
// its own aspect ratio, with the row labels at its left.
type imageGrid struct {
	img        *image.NRGBA
	labels     []string
	rowCentres []float64 // fractions of the picture's height from the top
}

// Plot implements plot.Plotter.
func (g *imageGrid) Plot(c draw.Canvas, _ *plot.Plot) {
	sty := textStyle(9, false)
	sty.Color = color.Gray{Y: 0x33}
	sty.XAlign = draw.XRight
	labelW := vg.Length(0)
	for _, l := range g.labels {
		labelW = max(labelW, sty.Width(l)+0.08*vg.Inch)
	}
	availW, availH := c.Max.X-c.Min.X-labelW, c.Max.Y-c.Min.Y
	if availW <= 0 || availH <= 0 {
		return
	}
	b := g.img.Bounds()
	scale := min(availW/vg.Length(b.Dx()), availH/vg.Length(b.Dy()))
	iw, ih := scale*vg.Length(b.Dx()), scale*vg.Length(b.Dy())
	x0 := c.Min.X + labelW + (availW-iw)/2
	y1 := c.Max.Y - (availH-ih)/2
	c.DrawImage(vg.Rectangle{Min: vg.Point{X: x0, Y: y1 - ih}, Max: vg.Point{X: x0 + iw, Y: y1}}, g.img)
	for r, l := range g.labels {
		c.FillText(sty, vg.Point{X: x0 - 0.06*vg.Inch, Y: y1 - vg.Length(g.rowCentres[r])*ih}, l)
	}
}

// DataRange implements plot.DataRanger: the grid fills the unit square.
func (g *imageGrid) DataRange() (xmin, xmax, ymin, ymax float64) { return 0, 1, 0, 1 }
