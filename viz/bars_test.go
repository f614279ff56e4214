package viz

import (
	"math"
	"strings"
	"testing"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// paletteRects counts the SVG's filled rectangles in the palette colours
// of the first n palette entries.
func paletteRects(t *testing.T, f *Figure, n int) int {
	t.Helper()
	count := 0
	for _, p := range svgPaths(t, f) {
		if strings.Count(p.d, "L") != 3 || strings.Contains(p.style, "stroke") {
			continue
		}
		for k := range n {
			c := Colour(k)
			if strings.Contains(p.style, "fill:#"+strings.ToUpper(hex2(c.R)+hex2(c.G)+hex2(c.B))) {
				count++
			}
		}
	}
	return count
}

func hex2(v uint8) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[v>>4], digits[v&15]})
}

func TestBarsGroupedHeightsAndCount(t *testing.T) {
	labels := []string{"lora", "adapter", "prefix", "full"}
	groups := []BarGroup{{Name: "source", Values: []float64{0.9, 0.85, 0.8, 0.95}}, {Name: "target", Values: []float64{0.7, 0.72, 0.6, 0.65}}}
	f, err := Bars(labels, groups, BarOptions{Options: Options{Title: "accuracy"}})
	if err != nil {
		t.Fatal(err)
	}
	if f.Marks() != 8 {
		t.Errorf("Marks %d, want 8", f.Marks())
	}
	img := requireNotBlank(t, f, 10)
	saveArtifact(t, f, "bars")
	// 8 bars and 2 legend swatches.
	if got := paletteRects(t, f, 2); got != 10 {
		t.Errorf("%d palette rectangles, want 8 bars + 2 swatches", got)
	}
	// Inside each bar, just under its top, its group's colour; just above
	// it, not.
	at := dataPixel(t, f)
	for g, grp := range groups {
		for j, v := range grp.Values {
			x := float64(j) - 0.4 + 0.4*float64(g) + 0.2 // the middle of the bar
			px, py := at(x, v*0.97)
			want := hexRGB(Colour(g))
			if got := rgb(img, px, py); !near(got, want, 2) {
				t.Errorf("%s %s: %v under the top, want %v", labels[j], grp.Name, got, want)
			}
			px, py = at(x, v*1.03)
			if got := rgb(img, px, py); near(got, want, 2) {
				t.Errorf("%s %s: bar colour above its value %g", labels[j], grp.Name, v)
			}
		}
	}
	_, svg := svgElements(t, f)
	texts := strings.Join(svgTexts(t, svg), "|")
	for _, want := range append(labels, "accuracy", "source", "target") {
		if !strings.Contains(texts, want) {
			t.Errorf("texts %q lack %q", texts, want)
		}
	}
}

func TestBarsStackedNegativeAndNonFinite(t *testing.T) {
	f, err := Bars([]string{"a", "b"}, []BarGroup{{Name: "x", Values: []float64{1, 2}}, {Name: "y", Values: []float64{3, math.NaN()}}, {Values: []float64{-1, 0}}},
		BarOptions{Stacked: true, Options: Options{Legend: "none"}})
	if err != nil {
		t.Fatal(err)
	}
	// a: x 0..1, y 1..4, group 2 -1..0; b: x 0..2 (NaN and 0 draw nothing).
	if f.Marks() != 4 {
		t.Errorf("Marks %d, want 4", f.Marks())
	}
	if n := f.Notes(); len(n) != 1 || n[0] != `1 non-finite value skipped in "y"` {
		t.Errorf("notes %q", n)
	}
	img := requireNotBlank(t, f, 5)
	at := dataPixel(t, f)
	for _, c := range []struct {
		x, y float64
		k    int
	}{{0, 0.5, 0}, {0, 2.5, 1}, {0, -0.5, 2}, {1, 1.5, 0}} {
		px, py := at(c.x, c.y)
		if got, want := rgb(img, px, py), hexRGB(Colour(c.k)); !near(got, want, 2) {
			t.Errorf("at (%g,%g): %v, want group %d's %v", c.x, c.y, got, c.k, want)
		}
	}
}

func TestBarsTurnHorizontalForManyLabels(t *testing.T) {
	labels := make([]string, 20)
	values := make([]float64, 20)
	for i := range labels {
		labels[i] = "encoder.layers." + string(rune('a'+i)) + ".attn"
		values[i] = float64(i + 1)
	}
	f, err := Bars(labels, []BarGroup{{Values: values}}, BarOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// 20 labels: horizontal, and taller than the default to fit them.
	if w, h := f.Size(); w != 624 || h != int(math.Round((1.0+0.24*20)*96)) {
		t.Errorf("size %dx%d", w, h)
	}
	img := requireNotBlank(t, f, 5)
	saveArtifact(t, f, "bars-horizontal")
	at := dataPixel(t, f)
	// The first label is at the top: its bar (value 1) at y = 19.
	px, py := at(0.5, 19)
	if got := rgb(img, px, py); !near(got, hexRGB(Colour(0)), 2) {
		t.Errorf("first bar at the top: %v", got)
	}
	px, py = at(1.5, 19)
	if got := rgb(img, px, py); near(got, hexRGB(Colour(0)), 2) {
		t.Error("the first bar is longer than its value 1")
	}
	v, err := Bars(labels[:3], []BarGroup{{Values: values[:3]}}, BarOptions{Orientation: "vertical"})
	if err != nil {
		t.Fatal(err)
	}
	if _, h := v.Size(); h != 384 {
		t.Errorf("vertical bars height %d", h)
	}
}

func TestBarsLogAxis(t *testing.T) {
	f, err := Bars([]string{"a", "b", "c"}, []BarGroup{{Name: "n", Values: []float64{10, 1000, -5}}}, BarOptions{Log: true})
	if err != nil {
		t.Fatal(err)
	}
	want := `1 non-finite or non-positive (log axis) value skipped in "n"`
	if n := f.Notes(); len(n) != 1 || n[0] != want {
		t.Errorf("notes %q, want %q", n, want)
	}
	if f.Marks() != 2 {
		t.Errorf("Marks %d", f.Marks())
	}
	img := requireNotBlank(t, f, 5)
	at := dataPixel(t, f)
	// Bars start at 1, the power of ten below the smallest value 10: b's
	// bar covers 100, a's bar covers 5 and ends at 10.
	for _, c := range []struct {
		x, y float64
		in   bool
	}{{1, 100, true}, {1, 1500, false}, {0, 5, true}, {0, 20, false}} {
		px, py := at(c.x, c.y)
		if got := rgb(img, px, py); near(got, hexRGB(Colour(0)), 2) != c.in {
			t.Errorf("bar %g at %g: colour %v, want inside %v", c.x, c.y, got, c.in)
		}
	}
}

func TestBarsErrorsAndEscaping(t *testing.T) {
	cases := []struct {
		labels []string
		groups []BarGroup
		opt    BarOptions
		want   string
	}{
		{[]string{"a", "b", "c", "d"}, []BarGroup{{Name: "target", Values: []float64{1, 2, 3}}}, BarOptions{}, `viz.Bars: group "target" has 3 values for 4 labels`},
		{[]string{"a"}, []BarGroup{{Values: []float64{1}}, {Values: nil}}, BarOptions{}, `viz.Bars: group group 1 has 0 values for 1 labels`},
		{[]string{"a"}, nil, BarOptions{Orientation: "diagonal"}, `viz.Bars: orientation "diagonal" is not one of auto, vertical, horizontal`},
	}
	for _, c := range cases {
		if _, err := Bars(c.labels, c.groups, c.opt); err == nil || err.Error() != c.want {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
	evil := "<script>alert(1)</script>"
	f, err := Bars([]string{evil, "b"}, []BarGroup{{Name: evil, Values: []float64{1, 2}}}, BarOptions{Options: Options{Title: evil}, Orientation: "horizontal"})
	if err != nil {
		t.Fatal(err)
	}
	requireEscaped(t, f, evil, 3)
	empty, err := Bars(nil, nil, BarOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, svg := svgElements(t, empty)
	if !strings.Contains(strings.Join(svgTexts(t, svg), "|"), "no data") {
		t.Error("an empty bar chart is not marked \"no data\"")
	}
}

type barsTestBlock struct {
	Attn, MLP *nn.Linear
}

type barsTestNet struct {
	Embed  *nn.Linear
	Layers []*barsTestBlock
	Head   *nn.Linear
	Scale  *tensor.Tensor
}

func TestParameterBarsCountsTrainableAndFrozen(t *testing.T) {
	r := tensor.NewRNG(1)
	m := &barsTestNet{Embed: nn.NewLinear(8, 4, true, r), Head: nn.NewLinear(4, 2, false, r), Scale: tensor.Ones(3).SetRequiresGrad(true)}
	for range 2 {
		m.Layers = append(m.Layers, &barsTestBlock{nn.NewLinear(4, 4, true, r), nn.NewLinear(4, 16, true, r)})
	}
	nn.Freeze(m)
	for _, p := range nn.Parameters(m.Head) {
		p.SetRequiresGrad(true)
	}
	m.Layers[1].MLP.Bias.SetRequiresGrad(true)
	// embed 36 frozen; layers.0 20+80 frozen; layers.1 20+64 frozen and
	// 16 trainable; head 8 trainable; scale 3 frozen. 247 in all, 24 trainable.
	f, err := ParameterBars(m, 2, BarOptions{Orientation: "vertical"})
	if err != nil {
		t.Fatal(err)
	}
	if f.opt.Title != "parameters: 24 trainable of 247 (9.7%)" {
		t.Errorf("title %q", f.opt.Title)
	}
	img := requireNotBlank(t, f, 5)
	saveArtifact(t, f, "parameter-bars")
	at := dataPixel(t, f)
	labels := []string{"embed", "layers.0", "layers.1", "head", "(own)"}
	trainable := []float64{0, 0, 16, 8, 0}
	frozen := []float64{36, 100, 84, 0, 3}
	// Drawn stacked: trainable from 0, frozen above; bars that are zero draw
	// nothing.
	if want := 6; f.Marks() != want {
		t.Errorf("Marks %d, want %d", f.Marks(), want)
	}
	for j := range labels {
		if trainable[j] > 0 {
			px, py := at(float64(j), trainable[j]/2)
			if got := rgb(img, px, py); !near(got, hexRGB(Colour(0)), 2) {
				t.Errorf("%s trainable: %v", labels[j], got)
			}
		}
		if frozen[j] > 0 {
			px, py := at(float64(j), trainable[j]+frozen[j]/2)
			if got := rgb(img, px, py); !near(got, hexRGB(frozenColour), 2) {
				t.Errorf("%s frozen: %v", labels[j], got)
			}
		}
	}
	_, svg := svgElements(t, f)
	texts := strings.Join(svgTexts(t, svg), "|")
	for _, l := range labels {
		if !strings.Contains(texts, l) {
			t.Errorf("label %q missing from %q", l, texts)
		}
	}
	logged, err := ParameterBars(m, 1, BarOptions{Log: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(logged.Notes()) != 0 {
		t.Errorf("zero counts on a log axis reported as skipped: %q", logged.Notes())
	}
	requireNotBlank(t, logged, 5)
	if _, err := ParameterBars(m, -1, BarOptions{}); err == nil || err.Error() != "viz.ParameterBars: depth is -1, want 0 or more" {
		t.Errorf("error %v", err)
	}
}

func TestHistogramBinsByHand(t *testing.T) {
	// 0..9 in 3 bins of width 3: {0,1,2}, {3,4,5}, {6,7,8,9}.
	width, h := binCounts([][]float64{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}, 0, 9, 3, false)
	if width != 3 || h[0][0] != 3 || h[0][1] != 3 || h[0][2] != 4 {
		t.Errorf("width %g, counts %v", width, h)
	}
	_, d := binCounts([][]float64{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}, 0, 9, 3, true)
	for b, want := range []float64{0.1, 0.1, 4.0 / 30} {
		if math.Abs(d[0][b]-want) > 1e-12 {
			t.Errorf("density[%d] = %g, want %g", b, d[0][b], want)
		}
	}
	// Freedman–Diaconis: 999 values 0..998 and one at 4000. Quartiles
	// 249.75 and 749.25, IQR 499.5, h = 2·499.5/10 = 99.9, 4000/99.9 → 41.
	xs := make([]float64, 1000)
	for i := range 999 {
		xs[i] = float64(i)
	}
	xs[999] = 4000
	if got := autoBins(xs); got != 41 {
		t.Errorf("autoBins = %d, want 41", got)
	}
	// IQR 0: the square-root rule, ceil(sqrt(200)) = 15.
	ys := make([]float64, 200)
	for i := range 5 {
		ys[i] = float64(i + 2)
	}
	if got := autoBins(ys); got != 15 {
		t.Errorf("autoBins with IQR 0 = %d, want 15", got)
	}
	if got := autoBins([]float64{1, 2, 3}); got != 10 {
		t.Errorf("autoBins of 3 values = %d, want the minimum 10", got)
	}
}

func TestHistogramDrawsOverlaidSets(t *testing.T) {
	a := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, math.NaN(), math.Inf(1)}
	b := []float64{5, 6, 7, 8, 9}
	f, err := Histogram([]Values{{Name: "weights", Data: a}, {Name: "grads", Data: b}}, HistOptions{Bins: 3, Options: Options{Formats: []string{"svg"}}})
	if err != nil {
		t.Fatal(err)
	}
	// a: 3, 3, 4; b over the shared range 0..9: 0, 1 (5), 4 (6..9).
	if f.Marks() != 5 {
		t.Errorf("Marks %d, want 5 non-empty bins", f.Marks())
	}
	if n := f.Notes(); len(n) != 1 || n[0] != `2 non-finite values skipped in "weights"` {
		t.Errorf("notes %q", n)
	}
	if got := len(translucent(svgPaths(t, f))); got != 5 {
		t.Errorf("%d translucent bins in the SVG, want 5", got)
	}
	img := requireNotBlank(t, f, 10)
	saveArtifact(t, f, "histogram")
	at := dataPixel(t, f)
	// In the first bin only a is drawn, up to 3.
	px, py := at(1.5, 1.5)
	if got, want := rgb(img, px, py), hexRGB(tint(Colour(0), 0.4)); !near(got, want, 3) {
		t.Errorf("first bin %v, want a's translucent %v", got, want)
	}
	px, py = at(1.5, 3.5)
	if got := rgb(img, px, py); !near(got, [3]int{255, 255, 255}, 1) {
		t.Errorf("above the first bin %v, want white", got)
	}
	if got := f.String(); got != "<histogram of 2 sets in 3 bins, 624x411>\n2 non-finite values skipped in \"weights\"" {
		t.Errorf("text %q", got)
	}
	w := tensor.New([]float32{1, 2, 3}, 3)
	if v := TensorValues("w", w); v.Name != "w" || len(v.Data) != 3 || v.Data[2] != 3 {
		t.Errorf("TensorValues %+v", v)
	}
	if v := TensorValues("grad", nil); v.Data != nil {
		t.Errorf("TensorValues of nil %+v", v)
	}
	for _, c := range []struct {
		opt  HistOptions
		want string
	}{
		{HistOptions{Bins: -2}, "viz.Histogram: Bins is -2, want 0 (automatic) or more"},
		{HistOptions{Options: Options{LogX: true}}, "viz.Histogram: LogX is not supported; histogram the logarithms of the values instead"},
	} {
		if _, err := Histogram(nil, c.opt); err == nil || err.Error() != c.want {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
	evil := "<script>alert(1)</script>"
	e, err := Histogram([]Values{{Name: evil, Data: []float64{1, 2}}}, HistOptions{Options: Options{Title: evil}})
	if err != nil {
		t.Fatal(err)
	}
	requireEscaped(t, e, evil, 2)
}
