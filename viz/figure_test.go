package viz

import (
	"bytes"
	"encoding/xml"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/graftml/graft/display"
)

// decodePNG decodes a figure's PNG and checks its size against Size().
func decodePNG(t *testing.T, f *Figure) image.Image {
	t.Helper()
	data, err := f.PNG()
	if err != nil {
		t.Fatalf("PNG: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	w, h := f.Size()
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("PNG is %dx%d, Size says %dx%d", b.Dx(), b.Dy(), w, h)
	}
	return img
}

// colourCount returns how many distinct colours the image uses, and the
// fraction of pixels that are not white.
func colourCount(img image.Image) (colours int, inked float64) {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	ink := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r >> 8, g >> 8, bl >> 8, a >> 8}] = true
			if r>>8 < 250 || g>>8 < 250 || bl>>8 < 250 {
				ink++
			}
		}
	}
	return len(seen), float64(ink) / float64(b.Dx()*b.Dy())
}

// requireNotBlank fails unless the figure's PNG has ink and colour.
func requireNotBlank(t *testing.T, f *Figure, minColours int) image.Image {
	t.Helper()
	img := decodePNG(t, f)
	colours, inked := colourCount(img)
	if colours < minColours || inked < 0.005 {
		t.Fatalf("PNG looks blank: %d colours, %.4f of pixels inked", colours, inked)
	}
	return img
}

// svgElements parses a figure's SVG as XML and counts its elements by name.
func svgElements(t *testing.T, f *Figure) (map[string]int, string) {
	t.Helper()
	svg, err := f.SVG()
	if err != nil {
		t.Fatalf("SVG: %v", err)
	}
	counts := map[string]int{}
	dec := xml.NewDecoder(strings.NewReader(svg))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			counts[se.Name.Local]++
		}
	}
	if counts["svg"] != 1 {
		t.Fatalf("SVG has %d <svg> elements", counts["svg"])
	}
	return counts, svg
}

// svgTexts returns the character data of every <text> element.
func svgTexts(t *testing.T, svg string) []string {
	t.Helper()
	var out []string
	dec := xml.NewDecoder(strings.NewReader(svg))
	in := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("SVG: %v", err)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			in = x.Name.Local == "text"
		case xml.CharData:
			if in {
				out = append(out, string(x))
			}
		case xml.EndElement:
			in = false
		}
	}
}

// saveArtifact writes the figure's PNG under $GRAFT_VIZ_OUT for a person to
// look at, when that variable is set.
func saveArtifact(t *testing.T, f *Figure, name string) {
	dir := os.Getenv("GRAFT_VIZ_OUT")
	if dir == "" {
		return
	}
	if err := f.Save(filepath.Join(dir, name+".png")); err != nil {
		t.Error(err)
	}
}

func TestLinesDrawsSeriesAtRequestedSize(t *testing.T) {
	n := 200
	loss, acc := make([]float64, n), make([]float64, n)
	for i := range loss {
		loss[i] = 2*math.Exp(-float64(i)/40) + 0.05*math.Sin(float64(i))
		acc[i] = 1 - math.Exp(-float64(i)/50)
	}
	f, err := Lines([]Series{{Name: "loss", Y: loss}, {Name: "accuracy", Y: acc, Dashed: true}},
		LineOptions{Options: Options{Title: "two series", Width: 5, Height: 3, DPI: 120}, Smooth: 0.6})
	if err != nil {
		t.Fatal(err)
	}
	if w, h := f.Size(); w != 600 || h != 360 {
		t.Fatalf("Size %dx%d, want 600x360 (5x3 in at 120 DPI)", w, h)
	}
	requireNotBlank(t, f, 20)
	saveArtifact(t, f, "lines")
	counts, svg := svgElements(t, f)
	// Two raw faint lines, two smoothed lines and the grid: at least 4
	// data paths beyond the frame.
	if counts["path"] < 4 {
		t.Errorf("SVG has %d paths", counts["path"])
	}
	texts := strings.Join(svgTexts(t, svg), "|")
	for _, want := range []string{"two series", "loss", "accuracy"} {
		if !strings.Contains(texts, want) {
			t.Errorf("SVG text %q lacks %q", texts, want)
		}
	}
	b := f.Display()
	if _, ok := b.Data[display.MIMEPNG].([]byte); !ok {
		t.Error("bundle lacks image/png")
	}
	if _, ok := b.Data[display.MIMESVG].(string); !ok {
		t.Error("bundle lacks image/svg+xml")
	}
	md := b.Metadata[display.MIMEPNG].(map[string]any)
	if md["width"] != 480 || md["height"] != 288 {
		t.Errorf("PNG metadata %v, want the 96-DPI size 480x288", md)
	}
	if got := b.Text(); got != `<line plot of 2 series "two series", 600x360>` {
		t.Errorf("text %q", got)
	}
}

func TestLinesSkipsAndCountsNonFinite(t *testing.T) {
	y := []float64{1, math.NaN(), 3, math.Inf(1), 5, -1}
	f, err := Lines([]Series{{Name: "loss", Y: y}}, LineOptions{Options: Options{LogY: true}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`3 non-finite or non-positive (log axis) values skipped in "loss"`}
	if got := f.Notes(); len(got) != 1 || got[0] != want[0] {
		t.Errorf("notes %q, want %q", got, want)
	}
	if !strings.Contains(f.String(), want[0]) {
		t.Errorf("text form %q lacks the note", f.String())
	}
	requireNotBlank(t, f, 10)
	_, svg := svgElements(t, f)
	if !strings.Contains(strings.Join(svgTexts(t, svg), "|"), "3 non-finite") {
		t.Error("caption is not drawn in the SVG")
	}
}

func TestLinesEmptyAndAllNaNSeriesStillDraw(t *testing.T) {
	for name, y := range map[string][]float64{"empty": nil, "all NaN": {math.NaN(), math.NaN()}} {
		for _, log := range []bool{false, true} {
			f, err := Lines([]Series{{Name: name, Y: y}}, LineOptions{Options: Options{LogY: log}})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			requireNotBlank(t, f, 5)
			_, svg := svgElements(t, f)
			if !strings.Contains(strings.Join(svgTexts(t, svg), "|"), "no data") {
				t.Errorf("%s (log %v): empty plot is not marked \"no data\"", name, log)
			}
		}
	}
}

func TestLinesMismatchedLengthsNameBoth(t *testing.T) {
	_, err := Lines([]Series{{Name: "eval", X: []float64{1, 2, 3}, Y: []float64{1, 2}}}, LineOptions{})
	if err == nil || err.Error() != `viz.Lines: series "eval" has 3 x values and 2 y values` {
		t.Errorf("error %v", err)
	}
	_, err = Lines([]Series{{Name: "m", Y: []float64{1, 2}, Band: []float64{1}}}, LineOptions{})
	if err == nil || !strings.Contains(err.Error(), "1 band values and 2 y values") {
		t.Errorf("error %v", err)
	}
	_, err = Lines(nil, LineOptions{Smooth: 1})
	if err == nil || !strings.Contains(err.Error(), "Smooth is 1") {
		t.Errorf("error %v", err)
	}
	_, err = Lines(nil, LineOptions{Options: Options{Legend: "middle"}})
	if err == nil || !strings.Contains(err.Error(), `"middle"`) {
		t.Errorf("error %v", err)
	}
}

func TestEMAIsDebiased(t *testing.T) {
	got := EMA([]float64{2, 4, math.NaN(), 8}, 0.5)
	// s1 = 1, n1 = .5 → 2; s2 = .5+2 = 2.5, n2 = .75 → 10/3;
	// NaN passes through; s3 = 1.25+4 = 5.25, n3 = .875 → 6.
	want := []float64{2, 10.0 / 3, math.NaN(), 6}
	for i := range want {
		if math.IsNaN(want[i]) != math.IsNaN(got[i]) || !math.IsNaN(want[i]) && math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("EMA[%d] = %g, want %g", i, got[i], want[i])
		}
	}
}

func TestUserTextIsEscapedInSVG(t *testing.T) {
	evil := "<script>alert(1)</script>"
	f, err := Lines([]Series{{Name: evil, Y: []float64{1, 2, 3}}}, LineOptions{Options: Options{Title: evil, XLabel: evil}})
	if err != nil {
		t.Fatal(err)
	}
	requireEscaped(t, f, evil, 3) // title, x label, legend
}

func TestGridPlacesTilesSideBySide(t *testing.T) {
	a, _ := Lines([]Series{{Y: []float64{1, 2, 3}}}, LineOptions{Options: Options{Width: 3, Height: 2}})
	b, _ := Lines([]Series{{Y: []float64{3, 2, 1}}}, LineOptions{Options: Options{Width: 3, Height: 2, Formats: []string{"png"}}})
	c, _ := Lines([]Series{{Y: []float64{math.NaN(), 1}}}, LineOptions{Options: Options{Width: 3, Height: 2}})
	g, err := Grid(2, a, b, c)
	if err != nil {
		t.Fatal(err)
	}
	// Two columns of 3 in, two rows as tall as the tallest tile (c's
	// caption makes it taller than 2 in).
	_, ch := c.inches()
	if w, h := g.Size(); ch <= 2 || w != 576 || h != int(math.Round(2*ch*96)) {
		t.Errorf("grid size %dx%d", w, h)
	}
	requireNotBlank(t, g, 10)
	if bundle := g.Display(); bundle.Data[display.MIMESVG] != nil {
		t.Error("a grid of a PNG-only tile carries SVG")
	}
	if got, want := g.String(), "<grid of 3 figures: line plot of 1 series; line plot of 1 series; line plot of 1 series, 576x"; !strings.HasPrefix(got, want) {
		t.Errorf("grid text %q, want it to start %q", got, want)
	}
	if g.Marks() != 3 {
		t.Errorf("grid marks %d, want 3", g.Marks())
	}
	if _, err := Grid(0, a); err == nil || err.Error() != "viz.Grid: cols is 0, want at least 1" {
		t.Errorf("error %v", err)
	}
	if _, err := Grid(2, a, nil); err == nil || err.Error() != "viz.Grid: figure 1 is nil" {
		t.Errorf("error %v", err)
	}
}

func TestSizeLimitsAndSave(t *testing.T) {
	f, _ := Lines([]Series{{Y: []float64{1, 2}}}, LineOptions{Options: Options{Width: 100, DPI: 300}})
	if _, err := f.PNG(); err == nil || !strings.Contains(err.Error(), "30000x1200 pixels is outside 1..8192") {
		t.Errorf("error %v", err)
	}
	if !strings.HasPrefix(f.Display().Text(), "viz: rendering PNG:") {
		t.Errorf("an unrenderable figure shows %q", f.Display().Text())
	}
	dir := t.TempDir()
	g, _ := Lines([]Series{{Y: []float64{1, 2}}}, LineOptions{})
	if err := g.Save(filepath.Join(dir, "f.svg")); err != nil {
		t.Fatal(err)
	}
	if err := g.Save(filepath.Join(dir, "f.jpg")); err == nil || !strings.Contains(err.Error(), `extension ".jpg"`) {
		t.Errorf("error %v", err)
	}
}
