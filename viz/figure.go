// Package viz draws the pictures adaptation research is read through — loss
// curves, compared runs, embeddings, decision regions, transport plans,
// parameter counts — straight from graft's types, in one call each.
//
// Every chart is a *Figure: a display value that carries image/png,
// image/svg+xml and a text/plain summary, so it renders in JupyterLab,
// classic Notebook, VS Code, nbconvert HTML and `graft run` HTML alike, and
// prints a readable line in a terminal. Figures are drawn with gonum/plot in a
// colour-blind-safe palette (Okabe–Ito) with sans-serif fonts sized for a
// notebook column; size and resolution are set through Options.
//
// Bad data never yields a blank or crashed figure: NaN and infinite values
// (and values a log axis cannot show) are skipped and counted in the figure's
// caption; an empty series draws empty axes marked "no data". Inputs that
// cannot be drawn at all, such as x and y of different lengths, are errors
// naming both lengths.
package viz

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/graftml/graft/display"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Default figure size and resolution.
const (
	// DefaultWidth is a figure's width in inches when Options.Width is 0.
	DefaultWidth = 6.5
	// DefaultHeight is a figure's height in inches when Options.Height is 0.
	DefaultHeight = 4.0
	// DefaultDPI is the PNG resolution in dots per inch when Options.DPI is 0.
	// A figure always shows at Width×96 by Height×96 CSS pixels; a higher DPI
	// makes it sharper (192 suits high-density screens), not larger.
	DefaultDPI = 96
	// MaxPixels bounds a PNG's width and height, so that a mistyped size
	// cannot exhaust memory.
	MaxPixels = 8192
)

// Options are the settings every figure shares. The zero value gives a
// 6.5×4 inch figure at 96 DPI with no title and automatic axis labels.
type Options struct {
	// Title is drawn above the plot.
	Title string
	// XLabel and YLabel name the axes; figures fill in sensible defaults
	// (such as "step") when they are empty.
	XLabel, YLabel string
	// Width and Height are the figure's size in inches (0: DefaultWidth,
	// DefaultHeight). For a grid they are the size of each tile.
	Width, Height float64
	// DPI is the PNG resolution (0: DefaultDPI).
	DPI int
	// LogX and LogY put an axis on a logarithmic scale; values that are not
	// positive are skipped and counted in the caption.
	LogX, LogY bool
	// XMin, XMax, YMin and YMax fix an axis range when they differ from
	// each other (both 0, the default, means automatic).
	XMin, XMax, YMin, YMax float64
	// Legend places the legend: "auto" or "" (the corner with the fewest
	// data points), "top-right", "top-left", "bottom-right", "bottom-left",
	// or "none".
	Legend string
	// Formats lists the forms the figure's display bundle carries: "png",
	// "svg" and "interactive" (the data for graft's notebook extension, as
	// MIMEFigure; line plots, scatters, heatmaps and grids of them); nil
	// means all three. A figure with tens of thousands of marks is smaller
	// as PNG and interactive only.
	Formats []string
}

// Figure is a finished chart. It shows itself in a notebook (Display), can
// be encoded as PNG or SVG, saved to a file, and placed in a Grid.
type Figure struct {
	opt   Options
	plot  *plot.Plot  // the chart, nil for a grid
	side  *plot.Plot  // an optional strip at the right, such as a colour bar
	sideW vg.Length   // width of the side strip
	tiles []*Figure   // the tiles of a grid, row by row
	cols  int         // columns of a grid
	notes []string    // caption lines, such as counts of skipped values
	desc  string      // one line for text/plain
	marks int         // number of data marks drawn (points, cells, bars, lines)
	data  *figureJSON // what graft's notebook extension draws, nil if it draws nothing of this figure
	frame *int        // the update number of a live figure's frame
	final bool        // the last frame of a live figure
	board *figureJSON // metrics and progress that make the figure a training dashboard
}

// Notes returns the figure's caption lines: counts of skipped values and
// similar remarks, drawn under the plot and repeated in the text form.
func (f *Figure) Notes() []string { return append([]string(nil), f.notes...) }

// Marks returns the number of data marks the figure draws: points of a
// scatter, cells of a heatmap, bars, or one per line series.
func (f *Figure) Marks() int {
	if f.tiles != nil {
		n := 0
		for _, t := range f.tiles {
			n += t.Marks()
		}
		return n
	}
	return f.marks
}

// Size returns the PNG's size in pixels.
func (f *Figure) Size() (width, height int) {
	w, h := f.inches()
	dpi := float64(f.dpi())
	return int(math.Round(w * dpi)), int(math.Round(h * dpi))
}

// inches returns the whole figure's size: a grid is its tiles' sizes summed.
func (f *Figure) inches() (w, h float64) {
	if f.tiles != nil {
		rows := (len(f.tiles) + f.cols - 1) / f.cols
		tw, th := 0.0, 0.0
		for _, t := range f.tiles {
			a, b := t.inches()
			tw, th = math.Max(tw, a), math.Max(th, b)
		}
		return tw * float64(f.cols), th*float64(rows) + f.captionHeight() + f.gridTitleHeight()
	}
	w, h = f.opt.Width, f.opt.Height
	if w <= 0 {
		w = DefaultWidth
	}
	if h <= 0 {
		h = DefaultHeight
	}
	return w, h + f.captionHeight()
}

func (f *Figure) dpi() int {
	if f.opt.DPI > 0 {
		return f.opt.DPI
	}
	return DefaultDPI
}

// captionLine is the height of one caption line in inches.
const captionLine = 0.22

// gridTitleHeight is the height of a grid's title band in inches.
func (f *Figure) gridTitleHeight() float64 {
	if f.tiles == nil || f.opt.Title == "" {
		return 0
	}
	return 0.32
}

// SetTitle sets the figure's title: drawn above the plot, or above all the
// tiles of a grid.
func (f *Figure) SetTitle(title string) {
	f.opt.Title = title
	if f.plot != nil {
		f.plot.Title.Text = title
	}
}

func (f *Figure) captionHeight() float64 {
	if len(f.notes) == 0 {
		return 0
	}
	return captionLine*float64(len(f.notes)) + 0.06
}

// name is what the figure shows and its title, if any.
func (f *Figure) name() string {
	desc := f.descOrFigure()
	if f.opt.Title != "" {
		desc = fmt.Sprintf("%s %q", desc, f.opt.Title)
	}
	return desc
}

// String returns the text/plain form: what the figure shows, its size and
// its notes.
func (f *Figure) String() string {
	w, h := f.Size()
	var b strings.Builder
	fmt.Fprintf(&b, "<%s, %dx%d>", f.name(), w, h)
	for _, n := range f.notes {
		b.WriteString("\n" + n)
	}
	return b.String()
}

// Display implements display.Displayer: PNG and SVG (as Options.Formats
// selects) and the text form. The PNG's metadata asks frontends to show it
// at the figure's size in CSS pixels whatever its DPI. A figure that fails to
// render shows the error as text.
func (f *Figure) Display() display.Bundle {
	b := display.NewBundle(f.String())
	b.Metadata = map[string]any{}
	if f.wants("png") {
		png, err := f.PNG()
		if err != nil {
			return display.NewBundle(fmt.Sprintf("viz: rendering PNG: %v", err))
		}
		b.Data[display.MIMEPNG] = png
		w, h := f.inches()
		b.Metadata[display.MIMEPNG] = map[string]any{"width": int(math.Round(w * 96)), "height": int(math.Round(h * 96))}
	}
	if f.wants("svg") {
		svg, err := f.SVG()
		if err != nil {
			return display.NewBundle(fmt.Sprintf("viz: rendering SVG: %v", err))
		}
		b.Data[display.MIMESVG] = svg
	}
	if f.wants("interactive") {
		if j := f.interactiveJSON(); j != nil {
			b.Data[MIMEFigure] = json.RawMessage(j)
		}
	}
	return b
}

func (f *Figure) wants(format string) bool {
	if len(f.opt.Formats) == 0 {
		return true
	}
	for _, x := range f.opt.Formats {
		if strings.EqualFold(x, format) {
			return true
		}
	}
	return false
}

// PNG renders the figure as a PNG image of Size() pixels.
func (f *Figure) PNG() ([]byte, error) {
	w, h := f.Size()
	if w < 1 || h < 1 || w > MaxPixels || h > MaxPixels {
		return nil, fmt.Errorf("viz: figure of %dx%d pixels is outside 1..%d (width %g in, height %g in, %d DPI)", w, h, MaxPixels, f.opt.Width, f.opt.Height, f.dpi())
	}
	wi, hi := f.inches()
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(wi)*vg.Inch, vg.Length(hi)*vg.Inch), vgimg.UseDPI(f.dpi()), vgimg.UseBackgroundColor(color.White))
	if err := f.draw(draw.New(c)); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	// Fast compression: figures are mostly flat colour, so the files grow
	// little, and encoding at the default level took ~40% of a render.
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, c.Image()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// SVG renders the figure as an SVG document. Text is SVG text (escaped)
// in Liberation Sans with common sans-serif fonts as fallbacks.
func (f *Figure) SVG() (string, error) {
	wi, hi := f.inches()
	c := vgsvg.New(vg.Length(wi)*vg.Inch, vg.Length(hi)*vg.Inch)
	if err := f.draw(draw.New(c)); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", err
	}
	return svgFixes.Replace(buf.String()), nil
}

// svgFixes adjusts gonum's SVG for browsers: fallback fonts for machines
// without Liberation Sans, and embedded images (heatmap cells, decision
// regions) stretched to the box they are drawn in, as the PNG backend does,
// instead of centred at their own aspect ratio, and labelled with the PNG
// type their data has.
var svgFixes = strings.NewReplacer(
	"font-family:Liberation Sans;", "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;",
	"<image ", `<image preserveAspectRatio="none" `,
	"data:image/jpg;base64,iVBOR", "data:image/png;base64,iVBOR",
)

// Save writes the figure to path as PNG or SVG, chosen by the extension.
func (f *Figure) Save(path string) error {
	var data []byte
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png":
		png, err := f.PNG()
		if err != nil {
			return err
		}
		data = png
	case ".svg":
		svg, err := f.SVG()
		if err != nil {
			return err
		}
		data = []byte(svg)
	default:
		return fmt.Errorf("viz: cannot save %q: extension %q is neither .png nor .svg", path, ext)
	}
	return os.WriteFile(path, data, 0o644)
}

// draw draws the whole figure, caption included, on c.
func (f *Figure) draw(c draw.Canvas) (err error) {
	defer func() {
		// gonum/plot panics on some degenerate inputs; a figure reports
		// them as an error rather than taking the caller down.
		if r := recover(); r != nil {
			err = fmt.Errorf("viz: drawing %s: %v", f.descOrFigure(), r)
		}
	}()
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	body := f.drawCaption(c)
	f.drawBody(body)
	return nil
}

func (f *Figure) descOrFigure() string {
	if f.desc != "" {
		return f.desc
	}
	return "figure"
}

// drawCaption writes the notes at the bottom of c and returns the canvas
// left above them.
func (f *Figure) drawCaption(c draw.Canvas) draw.Canvas {
	if len(f.notes) == 0 {
		return c
	}
	hgt := vg.Length(f.captionHeight()) * vg.Inch
	sty := textStyle(9, false)
	sty.Color = color.Gray{Y: 0x55}
	sty.XAlign = draw.XLeft
	sty.YAlign = draw.YBottom
	line := vg.Length(captionLine) * vg.Inch
	for i, n := range f.notes {
		y := c.Min.Y + vg.Length(len(f.notes)-1-i)*line + 0.04*vg.Inch
		c.FillText(sty, vg.Point{X: c.Min.X + 0.12*vg.Inch, Y: y}, n)
	}
	body := c
	body.Min.Y += hgt
	return body
}

// drawBody draws the chart or the grid of tiles on c.
func (f *Figure) drawBody(c draw.Canvas) {
	if f.tiles != nil {
		if f.opt.Title != "" {
			band := vg.Length(f.gridTitleHeight()) * vg.Inch
			sty := textStyle(12.5, true)
			sty.YAlign = draw.YCenter
			c.FillText(sty, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: c.Max.Y - band/2}, f.opt.Title)
			c.Max.Y -= band
		}
		rows := (len(f.tiles) + f.cols - 1) / f.cols
		w := (c.Max.X - c.Min.X) / vg.Length(f.cols)
		h := (c.Max.Y - c.Min.Y) / vg.Length(rows)
		for i, t := range f.tiles {
			r, col := i/f.cols, i%f.cols
			tile := c
			tile.Min = vg.Point{X: c.Min.X + vg.Length(col)*w, Y: c.Max.Y - vg.Length(r+1)*h}
			tile.Max = vg.Point{X: tile.Min.X + w, Y: tile.Min.Y + h}
			tw, th := t.inches()
			// A smaller tile keeps its own size, top-left in its cell.
			tile.Max.X = tile.Min.X + min(w, vg.Length(tw)*vg.Inch)
			tile.Min.Y = tile.Max.Y - min(h, vg.Length(th)*vg.Inch)
			t.drawBody(t.drawCaption(tile))
		}
		return
	}
	main := f.chartArea(c)
	if f.side != nil {
		strip := c
		strip.Min.X = main.Max.X
		strip.Min.Y, strip.Max.Y = main.Min.Y, main.Max.Y
		f.side.Draw(strip)
	}
	if f.plot != nil {
		f.plot.Draw(main)
	}
}

// chartArea is the part of a figure's body c that its plot draws in: a
// small margin keeps tick labels off the image's edges, and the side strip
// (a colour bar) takes the right.
func (f *Figure) chartArea(c draw.Canvas) draw.Canvas {
	const inset = 0.06 * vg.Inch
	c.Min.X += inset
	c.Max.X -= inset
	c.Min.Y += inset / 2
	c.Max.Y -= inset / 2
	if f.side != nil {
		c.Max.X -= f.sideW
	}
	return c
}

// Grid places figures side by side, cols to a row, filling rows left to
// right. Each tile keeps its own size; the grid is as large as its rows and
// columns of the largest tile. Captions of the tiles stay under each tile.
func Grid(cols int, figs ...*Figure) (*Figure, error) {
	if cols < 1 {
		return nil, fmt.Errorf("viz.Grid: cols is %d, want at least 1", cols)
	}
	if len(figs) == 0 {
		return nil, fmt.Errorf("viz.Grid: no figures")
	}
	for i, f := range figs {
		if f == nil {
			return nil, fmt.Errorf("viz.Grid: figure %d is nil", i)
		}
	}
	cols = min(cols, len(figs))
	var names []string
	for _, f := range figs {
		names = append(names, f.name())
	}
	g := &Figure{tiles: append([]*Figure(nil), figs...), cols: cols, desc: fmt.Sprintf("grid of %d figures: %s", len(figs), strings.Join(names, "; "))}
	// The grid renders at the highest resolution any tile asks for, and
	// carries the formats all of its tiles carry.
	for _, f := range figs {
		g.opt.DPI = max(g.opt.DPI, f.dpi())
	}
	for _, format := range []string{"png", "svg", "interactive"} {
		all := true
		for _, f := range figs {
			all = all && f.wants(format)
		}
		if all {
			g.opt.Formats = append(g.opt.Formats, format)
		}
	}
	if len(g.opt.Formats) == 0 {
		g.opt.Formats = []string{"png"}
	}
	return g, nil
}
