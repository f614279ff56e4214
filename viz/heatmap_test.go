package viz

import (
	"encoding/xml"
	"fmt"
	"image/color"
	"io"
	"math"
	"os/exec"
	"strings"
	"testing"

	"github.com/graftml/graft/internal/testenv"
	"github.com/graftml/graft/tensor"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// dataPixel returns the PNG pixel where a point in data coordinates of
// the figure's plot is drawn, by laying the figure out on a canvas of the
// PNG's size as drawing it does.
func dataPixel(t *testing.T, f *Figure) func(x, y float64) (int, int) {
	t.Helper()
	w, h := f.inches()
	dpi := float64(f.dpi())
	c := draw.New(vgimg.NewWith(vgimg.UseWH(vg.Length(w)*vg.Inch, vg.Length(h)*vg.Inch), vgimg.UseDPI(f.dpi())))
	da := f.plot.DataCanvas(f.chartArea(f.drawCaption(c)))
	trX, trY := f.plot.Transforms(&da)
	_, hp := f.Size()
	return func(x, y float64) (int, int) {
		return int(trX(x).Dots(dpi)), hp - 1 - int(trY(y).Dots(dpi))
	}
}

// hexRGB returns a colour as channels.
func hexRGB(c interface{ RGBA() (r, g, b, a uint32) }) [3]int {
	r, g, b, _ := c.RGBA()
	return [3]int{int(r >> 8), int(g >> 8), int(b >> 8)}
}

func TestColormapsAtPublishedValues(t *testing.T) {
	cases := []struct {
		m    colormap
		t    float64
		want [3]int
		tol  int
	}{
		{viridis, 0, [3]int{0x44, 0x01, 0x54}, 0},
		{viridis, 0.5, [3]int{0x21, 0x91, 0x8c}, 1},
		{viridis, 1, [3]int{0xfd, 0xe7, 0x25}, 0},
		{viridis, -3, [3]int{0x44, 0x01, 0x54}, 0}, // clamped
		{diverging, 0, [3]int{0x05, 0x30, 0x61}, 0},
		{diverging, 0.5, [3]int{0xf7, 0xf7, 0xf7}, 0},
		{diverging, 1, [3]int{0x67, 0x00, 0x1f}, 0},
		{greys, 0, [3]int{0xff, 0xff, 0xff}, 0},
		{greys, 1, [3]int{0, 0, 0}, 0},
	}
	for _, c := range cases {
		if got := hexRGB(c.m.at(c.t)); !near(got, c.want, c.tol) {
			t.Errorf("colour at %g is %02x, want %02x", c.t, got, c.want)
		}
	}
}

// TestColormapsMatchMatplotlib compares the maps with matplotlib's viridis,
// RdBu_r and Greys at 101 points.
func TestColormapsMatchMatplotlib(t *testing.T) {
	python := testenv.RequirePython(t, "matplotlib")
	script := `
import matplotlib
for name in ["viridis", "RdBu_r", "Greys"]:
    m = matplotlib.colormaps[name]
    print(" ".join("%d,%d,%d" % tuple(round(255 * v) for v in m(i / 100)[:3]) for i in range(101)))
`
	out, err := exec.Command(python, "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", python, err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	maps := []colormap{viridis, diverging, greys}
	if len(lines) != len(maps) {
		t.Fatalf("python printed %d lines:\n%s", len(lines), out)
	}
	for mi, line := range lines {
		for i, f := range strings.Fields(line) {
			var want [3]int
			if _, err := fmt.Sscanf(f, "%d,%d,%d", &want[0], &want[1], &want[2]); err != nil {
				t.Fatal(err)
			}
			// matplotlib looks up one of 256 steps; linear interpolation
			// between anchors differs from that by a few levels at most.
			if got := hexRGB(maps[mi].at(float64(i) / 100)); !near(got, want, 3) {
				t.Errorf("map %d at %.2f: %v, matplotlib %v", mi, float64(i)/100, got, want)
			}
		}
	}
}

func TestHeatmapDrawsOneCellPerValueRowZeroOnTop(t *testing.T) {
	rows, cols := 5, 7
	data := make([]float32, rows*cols)
	for i := range data {
		data[i] = float32(i)
	}
	f, err := Heatmap(tensor.New(data, rows, cols), HeatmapOptions{Options: Options{Title: "ramp"}})
	if err != nil {
		t.Fatal(err)
	}
	if f.Marks() != 35 {
		t.Errorf("Marks %d, want 35", f.Marks())
	}
	img := requireNotBlank(t, f, 30)
	saveArtifact(t, f, "heatmap-ramp")
	at := dataPixel(t, f)
	for r := range rows {
		for c := range cols {
			x, y := at(float64(c)+0.5, float64(rows-1-r)+0.5)
			want := hexRGB(viridis.at(float64(r*cols+c) / 34))
			if got := rgb(img, x, y); !near(got, want, 2) {
				t.Errorf("cell (%d,%d) at pixel (%d,%d) is %v, want %v", r, c, x, y, got, want)
			}
		}
	}
	// Cells are rectangles filled in a colour of the map: count them
	// (the colour bar is one image, the background is white).
	cells := 0
	for _, p := range svgPaths(t, f) {
		if strings.HasPrefix(p.style, "fill:#") && !strings.Contains(p.style, "stroke") && p.style != "fill:#FFFFFF" && strings.Count(p.d, "L") == 3 {
			cells++
		}
	}
	if cells != 35 {
		t.Errorf("SVG has %d filled rectangles, want 35 cells", cells)
	}
	if f.side == nil {
		t.Error("no colour bar")
	}
	if got := f.String(); got != `<heatmap of 5x7 cells "ramp", 624x384>` {
		t.Errorf("text %q", got)
	}
}

func TestHeatmapLargeIsOneImageWithTheSameLayout(t *testing.T) {
	n := 70 // 4900 cells: drawn as an image
	data := make([]float32, n*n)
	for i := range data {
		data[i] = float32(i / n) // value = row
	}
	f, err := Heatmap(tensor.New(data, n, n), HeatmapOptions{NoColourBar: true})
	if err != nil {
		t.Fatal(err)
	}
	if f.side != nil {
		t.Error("NoColourBar drew a colour bar")
	}
	img := requireNotBlank(t, f, 30)
	at := dataPixel(t, f)
	for _, r := range []int{0, 10, 35, 69} {
		x, y := at(20.5, float64(n-1-r)+0.5)
		want := hexRGB(viridis.at(float64(r) / float64(n-1)))
		if got := rgb(img, x, y); !near(got, want, 3) {
			t.Errorf("row %d at pixel (%d,%d) is %v, want %v", r, x, y, got, want)
		}
	}
	counts, svg := svgElements(t, f)
	if counts["image"] != 1 {
		t.Errorf("SVG has %d images, want the cells as 1", counts["image"])
	}
	// Browsers keep an image's aspect ratio unless told otherwise: the
	// 70x70 cells must fill the non-square data area as in the PNG.
	if !strings.Contains(svg, `<image preserveAspectRatio="none" `) || !strings.Contains(svg, "data:image/png;base64,") {
		t.Error("the SVG's cell image is not stretched to its box or not labelled PNG")
	}
	// Only every k-th index is written on the axes.
	texts := svgTexts(t, svg)
	if len(texts) > 40 {
		t.Errorf("%d tick labels for 70 rows and columns: not thinned", len(texts))
	}
}

func TestHeatmapNaNCellsAreGreyAndCounted(t *testing.T) {
	nan := float32(math.NaN())
	m := tensor.New([]float32{1, nan, 3, 4, 5, float32(math.Inf(-1))}, 2, 3)
	f, err := Heatmap(m, HeatmapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := f.Notes(); len(n) != 1 || n[0] != "2 non-finite cells drawn grey" {
		t.Errorf("notes %q", n)
	}
	img := requireNotBlank(t, f, 10)
	at := dataPixel(t, f)
	x, y := at(1.5, 1.5) // row 0, column 1
	if got := rgb(img, x, y); !near(got, hexRGB(nanColour), 1) {
		t.Errorf("NaN cell is %v, want grey %v", got, hexRGB(nanColour))
	}
	x, y = at(0.5, 1.5) // row 0, column 0: the smallest finite value
	if got := rgb(img, x, y); !near(got, hexRGB(viridis.at(0)), 2) {
		t.Errorf("cell of the minimum is %v, want %v", got, hexRGB(viridis.at(0)))
	}
}

func TestHeatmapDivergingIsWhiteAtCentre(t *testing.T) {
	m := tensor.New([]float32{-2, 0, 1, 2}, 2, 2)
	f, err := Heatmap(m, HeatmapOptions{Colormap: "diverging"})
	if err != nil {
		t.Fatal(err)
	}
	img := requireNotBlank(t, f, 10)
	at := dataPixel(t, f)
	for _, c := range []struct {
		x, y float64
		t    float64
	}{{0.5, 1.5, 0}, {1.5, 1.5, 0.5}, {0.5, 0.5, 0.75}, {1.5, 0.5, 1}} {
		px, py := at(c.x, c.y)
		if got, want := rgb(img, px, py), hexRGB(diverging.at(c.t)); !near(got, want, 2) {
			t.Errorf("cell at (%g,%g) is %v, want %v", c.x, c.y, got, want)
		}
	}
	// Min and Max fix the scale; Centre moves white.
	lo, hi := 0.0, 4.0
	g, err := Heatmap(m, HeatmapOptions{Min: &lo, Max: &hi})
	if err != nil {
		t.Fatal(err)
	}
	img = decodePNG(t, g)
	at = dataPixel(t, g)
	px, py := at(1.5, 0.5) // value 2 of 0..4
	if got, want := rgb(img, px, py), hexRGB(viridis.at(0.5)); !near(got, want, 2) {
		t.Errorf("value 2 on a 0..4 scale is %v, want %v", got, want)
	}
	h, _ := Heatmap(m, HeatmapOptions{Colormap: "diverging", Centre: 1})
	img = decodePNG(t, h)
	at = dataPixel(t, h)
	px, py = at(0.5, 0.5) // value 1, the centre
	if got, want := rgb(img, px, py), [3]int{0xf7, 0xf7, 0xf7}; !near(got, want, 2) {
		t.Errorf("the centre value is %v, want white %v", got, want)
	}
}

// svgTextFills maps each SVG text to its fill colour.
func svgTextFills(t *testing.T, f *Figure) map[string]string {
	t.Helper()
	_, svg := svgElements(t, f)
	out := map[string]string{}
	dec := xml.NewDecoder(strings.NewReader(svg))
	fill := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			fill = ""
			if x.Name.Local != "text" {
				continue
			}
			fill = "#000000" // vgsvg leaves out the default fill
			for _, a := range x.Attr {
				if a.Name.Local == "style" {
					if i := strings.Index(a.Value, "fill:"); i >= 0 {
						fill = a.Value[i+5 : i+12]
					}
				}
			}
		case xml.CharData:
			if fill != "" {
				out[string(x)] = fill
			}
		case xml.EndElement:
			fill = ""
		}
	}
}

func TestHeatmapValuesInContrastingColours(t *testing.T) {
	m := tensor.New([]float32{0.1, 0.5, 0.9, 0.3}, 2, 2)
	f, err := Heatmap(m, HeatmapOptions{Values: true, Format: "%.1f", NoColourBar: true})
	if err != nil {
		t.Fatal(err)
	}
	fills := svgTextFills(t, f)
	// 0.1 is the dark end of viridis, 0.9 the yellow end.
	if fills["0.1"] != "#FFFFFF" || fills["0.9"] != "#000000" {
		t.Errorf("value colours %v: want white on dark, black on light", fills)
	}
	for _, v := range []string{"0.1", "0.5", "0.9", "0.3"} {
		if _, ok := fills[v]; !ok {
			t.Errorf("value %s not written", v)
		}
	}
	big, err := Heatmap(tensor.New(make([]float32, 31*31), 31, 31), HeatmapOptions{Values: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := big.Notes(); len(n) != 1 || n[0] != "values not written: 31x31 cells is more than 30x30" {
		t.Errorf("notes %q", n)
	}
}

func TestHeatmapErrorsNameTheShapes(t *testing.T) {
	m := tensor.New(make([]float32, 6), 2, 3)
	lo, hi := 2.0, 1.0
	cases := []struct {
		m    *tensor.Tensor
		opt  HeatmapOptions
		want string
	}{
		{tensor.New(make([]float32, 8), 2, 2, 2), HeatmapOptions{}, "viz.Heatmap: matrix has shape (2,2,2), want rank 2"},
		{nil, HeatmapOptions{}, "viz.Heatmap: matrix is nil"},
		{m, HeatmapOptions{RowLabels: []string{"a", "b", "c"}}, "viz.Heatmap: 3 row labels for 2 rows"},
		{m, HeatmapOptions{ColLabels: []string{"a"}}, "viz.Heatmap: 1 column labels for 3 columns"},
		{m, HeatmapOptions{Colormap: "jet"}, `viz.Heatmap: colormap "jet" is not one of viridis, diverging, greys`},
		{m, HeatmapOptions{Min: &lo, Max: &hi}, "viz.Heatmap: Min 2 is above Max 1"},
	}
	for _, c := range cases {
		_, err := Heatmap(c.m, c.opt)
		if err == nil || err.Error() != c.want {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}

func TestHeatmapEscapesLabels(t *testing.T) {
	evil := "<script>alert(1)</script>"
	f, err := Heatmap(tensor.New([]float32{1, 2, 3, 4}, 2, 2), HeatmapOptions{Options: Options{Title: evil}, RowLabels: []string{evil, "b"}, ColLabels: []string{"a", evil}})
	if err != nil {
		t.Fatal(err)
	}
	requireEscaped(t, f, evil, 3)
}

func TestConfusionCountsByHand(t *testing.T) {
	truth := []int{0, 0, 0, 1, 1, 2, 2, 2, 2, 1}
	pred := []int{0, 1, 0, 1, 2, 2, 2, 0, 2, 1}
	// truth\pred   0 1 2
	//   0          2 1 0
	//   1          0 2 1
	//   2          1 0 3     correct 2+2+3 = 7 of 10
	f, err := Confusion(pred, truth, []string{"cat", "dog", "bird"}, HeatmapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if f.opt.Title != "confusion: accuracy 70.0% (7/10)" {
		t.Errorf("title %q", f.opt.Title)
	}
	img := requireNotBlank(t, f, 10)
	saveArtifact(t, f, "confusion")
	want := [][]float64{{2, 1, 0}, {0, 2, 1}, {1, 0, 3}}
	at := dataPixel(t, f)
	for r := range 3 {
		for c := range 3 {
			x, y := at(float64(c)+0.5, float64(2-r)+0.5)
			// Sample beside the written count, inside the cell.
			x -= 25
			if got, w := rgb(img, x, y), hexRGB(viridis.at(want[r][c]/3)); !near(got, w, 2) {
				t.Errorf("cell (%d,%d) is %v, want the colour of %g: %v", r, c, got, want[r][c], w)
			}
		}
	}
	_, svg := svgElements(t, f)
	texts := svgTexts(t, svg)
	counts := map[string]int{}
	for _, s := range texts {
		counts[s]++
	}
	// Counts written: 0 ×3, 1 ×3, 2 ×2, 3 ×1; the colour bar adds its
	// own tick labels 0..3, and the axes the class names twice.
	if counts["cat"] != 2 || counts["bird"] != 2 || counts["predicted"] != 1 || counts["true"] != 1 {
		t.Errorf("labels %v", counts)
	}
	if counts["2"] < 2 || counts["1"] < 3 || counts["0"] < 3 {
		t.Errorf("written counts %v", counts)
	}
	if got := f.String(); !strings.HasPrefix(got, "<confusion matrix of 3 classes") {
		t.Errorf("text %q", got)
	}

	g, err := Confusion([]int{1, 1}, []int{1, 0}, nil, HeatmapOptions{Options: Options{Title: "val"}})
	if err != nil {
		t.Fatal(err)
	}
	if g.opt.Title != "val, accuracy 50.0% (1/2)" || g.Marks() != 4 {
		t.Errorf("title %q, marks %d", g.opt.Title, g.Marks())
	}
	for _, c := range []struct {
		pred, truth []int
		classes     []string
		want        string
	}{
		{[]int{0, 1}, []int{0}, nil, "viz.Confusion: 2 predictions and 1 true labels"},
		{[]int{0, 3}, []int{0, 1}, []string{"a", "b"}, "viz.Confusion: prediction 3 at index 1 is outside 0..1 (2 classes)"},
		{[]int{0, 1}, []int{-1, 1}, nil, "viz.Confusion: true label -1 at index 0 is outside 0..1 (2 classes)"},
		{nil, nil, nil, "viz.Confusion: no labels and no class names"},
	} {
		if _, err := Confusion(c.pred, c.truth, c.classes, HeatmapOptions{}); err == nil || err.Error() != c.want {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}

func TestLuminance(t *testing.T) {
	for _, c := range []struct {
		c    [3]uint8
		want float64
	}{{[3]uint8{0, 0, 0}, 0}, {[3]uint8{255, 255, 255}, 1}, {[3]uint8{255, 0, 0}, 0.2126}, {[3]uint8{0x77, 0x77, 0x77}, 0.1845}} {
		got := luminance(color.NRGBA{c.c[0], c.c[1], c.c[2], 0xFF})
		if math.Abs(got-c.want) > 1e-3 {
			t.Errorf("luminance %v = %.4f, want %.4f", c.c, got, c.want)
		}
	}
}

// TestDegenerateInputsStillDraw renders inputs with no spread or nothing
// finite: each is a figure, never a gonum range panic.
func TestDegenerateInputsStillDraw(t *testing.T) {
	nan := float32(math.NaN())
	var figs []*Figure
	add := func(f *Figure, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		figs = append(figs, f)
	}
	for _, m := range []*tensor.Tensor{tensor.New([]float32{3}, 1, 1), tensor.New([]float32{2, 2, 2, 2}, 2, 2), tensor.New([]float32{nan, nan}, 1, 2), tensor.Zeros(0, 3)} {
		for _, cm := range []string{"", "diverging"} {
			add(Heatmap(m, HeatmapOptions{Colormap: cm, Values: true}))
		}
	}
	add(Confusion(nil, nil, []string{"a", "b"}, HeatmapOptions{}))
	add(Bars([]string{"a"}, []BarGroup{{Values: []float64{math.NaN()}}}, BarOptions{Log: true}))
	add(Scatter(tensor.New([]float32{-1, 1, 2, 3}, 2, 2), ScatterOptions{Options: Options{LogX: true}}))
	add(DecisionRegions(linearClassifier(1, 0), RegionOptions{Source: tensor.New([]float32{1, 1}, 1, 2)}))
	add(Histogram([]Values{{Data: []float64{5}}}, HistOptions{Options: Options{LogY: true}}))
	add(Histogram([]Values{{Data: []float64{5, 5, 5}}}, HistOptions{}))
	for i, f := range figs {
		if _, err := f.PNG(); err != nil {
			t.Errorf("figure %d (%s): %v", i, f, err)
			continue
		}
		requireNotBlank(t, f, 2)
	}
	// A matrix of one value is drawn in the middle colour.
	f := figs[2]
	img := decodePNG(t, f)
	x, y := dataPixel(t, f)(0.5, 0.5)
	if got, want := rgb(img, x, y), hexRGB(viridis.at(0.5)); !near(got, want, 2) {
		t.Errorf("constant matrix drawn %v, want the middle colour %v", got, want)
	}
	if figs[8].opt.Title != "confusion: accuracy n/a" {
		t.Errorf("title %q", figs[8].opt.Title)
	}
}
