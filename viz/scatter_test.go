package viz

import (
	"context"
	"encoding/xml"
	"errors"
	"image"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/graftml/graft/tensor"
	"github.com/graftml/graft/viz/project"
)

// svgPath is one <path> element of an SVG: its data and style.
type svgPath struct{ d, style string }

// svgPaths lists the <path> elements of a figure's SVG in order.
func svgPaths(t *testing.T, f *Figure) []svgPath {
	t.Helper()
	_, svg := svgElements(t, f)
	var out []svgPath
	dec := xml.NewDecoder(strings.NewReader(svg))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "path" {
			var p svgPath
			for _, a := range se.Attr {
				switch a.Name.Local {
				case "d":
					p.d = a.Value
				case "style":
					p.style = a.Value
				}
			}
			out = append(out, p)
		}
	}
}

// translucent returns the filled paths drawn with an opacity below 1: the
// markers, bars or cells of a figure whose other elements are opaque.
func translucent(paths []svgPath) []svgPath {
	var out []svgPath
	for _, p := range paths {
		if strings.Contains(p.style, "fill-opacity:") && !strings.Contains(p.style, "stroke:") {
			out = append(out, p)
		}
	}
	return out
}

// circle reports whether a path is a circle (drawn with arcs).
func (p svgPath) circle() bool { return strings.Contains(p.d, "A") }

// rgb returns the colour of img at (x, y) as 8-bit channels.
func rgb(img image.Image, x, y int) [3]int {
	r, g, b, _ := img.At(x, y).RGBA()
	return [3]int{int(r >> 8), int(g >> 8), int(b >> 8)}
}

// near reports whether two colours differ by at most tol in each channel.
func near(a, b [3]int, tol int) bool {
	for i := range a {
		if a[i]-b[i] > tol || b[i]-a[i] > tol {
			return false
		}
	}
	return true
}

// twoClusters returns n points in two clusters with labels and domains,
// deterministic.
func twoClusters(n int) (*tensor.Tensor, []int, []int) {
	data := make([]float32, 2*n)
	labels, domains := make([]int, n), make([]int, n)
	for i := range n {
		labels[i] = i % 3
		domains[i] = (i / 3) % 2
		a := float64(i) * 2.39996
		r := 0.3 + 0.7*math.Sqrt(float64(i)/float64(n))
		data[2*i] = float32(3*float64(labels[i]) + r*math.Cos(a) + 0.6*float64(domains[i]))
		data[2*i+1] = float32(r*math.Sin(a) + float64(labels[i]))
	}
	return tensor.New(data, n, 2), labels, domains
}

func TestScatterDrawsOneMarkerPerPoint(t *testing.T) {
	pts, labels, domains := twoClusters(37)
	f, err := Scatter(pts, ScatterOptions{Options: Options{Title: "embedding", Width: 5, Height: 3.5, Formats: []string{"svg"}},
		Labels: labels, Domains: domains, ClassNames: []string{"cat", "dog", "bird"}, Alpha: 0.8})
	if err != nil {
		t.Fatal(err)
	}
	if f.Marks() != 37 {
		t.Errorf("Marks %d, want 37", f.Marks())
	}
	requireNotBlank(t, f, 20)
	saveArtifact(t, f, "scatter")
	marks := translucent(svgPaths(t, f))
	if len(marks) != 37 {
		t.Fatalf("SVG has %d translucent marker paths, want 37", len(marks))
	}
	circles := 0
	for _, m := range marks {
		if m.circle() {
			circles++
		}
	}
	wantCircles := 0
	for _, d := range domains {
		if d == 0 {
			wantCircles++
		}
	}
	if circles != wantCircles {
		t.Errorf("%d circles, want %d (domain 0) and the rest triangles", circles, wantCircles)
	}
	_, svg := svgElements(t, f)
	texts := strings.Join(svgTexts(t, svg), "|")
	for _, want := range []string{"embedding", "cat", "dog", "bird", "source", "target"} {
		if !strings.Contains(texts, want) {
			t.Errorf("SVG texts %q lack %q", texts, want)
		}
	}
	if got := f.String(); got != `<scatter of 37 points "embedding", 480x336>` {
		t.Errorf("text %q", got)
	}
}

func TestScatterColoursByClass(t *testing.T) {
	// Three far-apart big points, one per class, in a known place each.
	pts := tensor.New([]float32{0, 0, 1, 0, 2, 0}, 3, 2)
	f, err := Scatter(pts, ScatterOptions{Labels: []int{0, 1, 2}, PointSize: 8, Alpha: 1, Options: Options{Legend: "none", XMin: -0.5, XMax: 2.5, YMin: -1, YMax: 1}})
	if err != nil {
		t.Fatal(err)
	}
	img := requireNotBlank(t, f, 5)
	// Each class's colour covers a disc, class 0 left of 1 left of 2.
	sum, count := [3]int{}, [3]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := rgb(img, x, y)
			for k := range 3 {
				p := Colour(k)
				if near(c, [3]int{int(p.R), int(p.G), int(p.B)}, 3) {
					sum[k] += x
					count[k]++
				}
			}
		}
	}
	for k := range 3 {
		if count[k] < 50 {
			t.Fatalf("class %d colour covers %d pixels, want a disc of radius 8 pt", k, count[k])
		}
	}
	if !(sum[0]/count[0] < sum[1]/count[1] && sum[1]/count[1] < sum[2]/count[2]) {
		t.Errorf("class discs centred at x %d, %d, %d, want left to right", sum[0]/count[0], sum[1]/count[1], sum[2]/count[2])
	}
}

func TestScatterSkipsNonFinitePoints(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	pts := tensor.New([]float32{0, 0, nan, 1, 2, inf, 3, 3, 4, 1}, 5, 2)
	f, err := Scatter(pts, ScatterOptions{Options: Options{Formats: []string{"svg"}}, Alpha: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if f.Marks() != 3 {
		t.Errorf("Marks %d, want 3", f.Marks())
	}
	want := "2 points with a non-finite coordinate skipped"
	if n := f.Notes(); len(n) != 1 || n[0] != want {
		t.Errorf("notes %q, want %q", n, want)
	}
	if got := len(translucent(svgPaths(t, f))); got != 3 {
		t.Errorf("%d markers drawn, want 3", got)
	}
	requireNotBlank(t, f, 5)

	all, err := Scatter(tensor.New([]float32{nan, nan}, 1, 2), ScatterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, svg := svgElements(t, all)
	if !strings.Contains(strings.Join(svgTexts(t, svg), "|"), "no data") {
		t.Error("a scatter of no finite points is not marked \"no data\"")
	}
}

func TestScatterErrorsNameTheProblem(t *testing.T) {
	pts := tensor.New(make([]float32, 8), 4, 2)
	cases := []struct {
		name string
		pts  *tensor.Tensor
		opt  ScatterOptions
		want string
	}{
		{"rank", tensor.New(make([]float32, 6), 6), ScatterOptions{}, "viz.Scatter: points has shape (6), want (N,2)"},
		{"columns", tensor.New(make([]float32, 12), 4, 3), ScatterOptions{}, "viz.Scatter: points has shape (4,3), want (N,2)"},
		{"nil", nil, ScatterOptions{}, "viz.Scatter: points is nil"},
		{"labels", pts, ScatterOptions{Labels: []int{0, 1, 0}}, "viz.Scatter: 3 labels for 4 points"},
		{"domains", pts, ScatterOptions{Domains: []int{0, 1, 0, 1, 1}}, "viz.Scatter: 5 domains for 4 points"},
		{"negative", pts, ScatterOptions{Labels: []int{0, 1, -2, 0}}, "viz.Scatter: labels[2] is -2, want 0 or more"},
		{"names", pts, ScatterOptions{Labels: []int{0, 1, 2, 0}, ClassNames: []string{"a", "b"}}, "viz.Scatter: labels[2] is 2, but only 2 names are given"},
		{"alpha", pts, ScatterOptions{Alpha: 1.5}, "viz.Scatter: Alpha is 1.5, want an opacity in (0, 1] or 0 for automatic"},
		{"legend", pts, ScatterOptions{Options: Options{Legend: "centre"}}, `viz: legend placement "centre" is not one of auto, top-right, top-left, bottom-right, bottom-left, none`},
	}
	for _, c := range cases {
		_, err := Scatter(c.pts, c.opt)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

func TestScatterManyClassesPutsLegendAside(t *testing.T) {
	n := 400
	data := make([]float32, 2*n)
	labels := make([]int, n)
	for i := range n {
		labels[i] = i % 10
		a := 2 * math.Pi * float64(labels[i]) / 10
		data[2*i] = float32(4*math.Cos(a) + math.Sin(float64(i)*1.7))
		data[2*i+1] = float32(4*math.Sin(a) + math.Cos(float64(i)*2.3))
	}
	f, err := Scatter(tensor.New(data, n, 2), ScatterOptions{Labels: labels, Options: Options{Title: "ten classes"}})
	if err != nil {
		t.Fatal(err)
	}
	if f.side == nil {
		t.Fatal("a legend of 10 entries is drawn over the data")
	}
	requireNotBlank(t, f, 20)
	saveArtifact(t, f, "scatter-ten-classes")
	_, svg := svgElements(t, f)
	texts := strings.Join(svgTexts(t, svg), "|")
	for k := range 10 {
		if !strings.Contains(texts, "class "+string(rune('0'+k))) {
			t.Errorf("legend lacks class %d", k)
		}
	}
}

func TestScatterEscapesLabels(t *testing.T) {
	evil := "<script>alert(1)</script>"
	pts := tensor.New([]float32{0, 0, 1, 1}, 2, 2)
	f, err := Scatter(pts, ScatterOptions{Options: Options{Title: evil}, Labels: []int{0, 1}, ClassNames: []string{evil, "b"}, Domains: []int{0, 1}, DomainNames: []string{"a", evil}})
	if err != nil {
		t.Fatal(err)
	}
	requireEscaped(t, f, evil, 3)
}

// requireEscaped checks that text appears n times as SVG text and never as
// markup.
func requireEscaped(t *testing.T, f *Figure, text string, n int) {
	t.Helper()
	counts, svg := svgElements(t, f)
	if counts["script"] != 0 {
		t.Fatal("a label became a <script> element")
	}
	got := 0
	for _, s := range svgTexts(t, svg) {
		if s == text {
			got++
		}
	}
	if got != n {
		t.Errorf("%d SVG texts read %q, want %d", got, text, n)
	}
}

func TestEmbeddingByPCA(t *testing.T) {
	// Four points on a plane of 4-D space: variance 6 along the first
	// axis, 2/3 along the second, so 90% and 10% of the variance; one
	// more row is NaN and left out with its label.
	nan := float32(math.NaN())
	x := tensor.New([]float32{
		3, 0, 0, 0,
		-3, 0, 0, 0,
		nan, 1, 1, 1,
		0, 1, 0, 0,
		0, -1, 0, 0,
	}, 5, 4)
	f, err := Embedding(x, EmbeddingOptions{ScatterOptions: ScatterOptions{Labels: []int{0, 0, 5, 1, 1}, Domains: []int{0, 1, 0, 0, 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if f.Marks() != 4 {
		t.Errorf("Marks %d, want 4", f.Marks())
	}
	if f.opt.Title != "PCA of 4 points (4-D)" {
		t.Errorf("title %q", f.opt.Title)
	}
	if p := f.plot; p.X.Label.Text != "PC 1 (90% of variance)" || p.Y.Label.Text != "PC 2 (10% of variance)" {
		t.Errorf("axis labels %q, %q", p.X.Label.Text, p.Y.Label.Text)
	}
	if n := f.Notes(); len(n) != 1 || n[0] != "1 embedding with non-finite values left out" {
		t.Errorf("notes %q", n)
	}
	requireNotBlank(t, f, 10)
	_, svg := svgElements(t, f)
	texts := strings.Join(svgTexts(t, svg), "|")
	if strings.Contains(texts, "class 5") || !strings.Contains(texts, "class 1") {
		t.Errorf("legend %q: want classes 0 and 1 only (class 5 was the NaN row's)", texts)
	}
	// The first axis separates ±3 (class 0) from the points at 0.
	xs := f.plot.X
	if xs.Min > -2.9 || xs.Max < 2.9 {
		t.Errorf("PC 1 spans %g..%g, want about -3..3", xs.Min, xs.Max)
	}
	if got := f.String(); !strings.HasPrefix(got, `<PCA scatter of 4 points "PCA of 4 points (4-D)"`) {
		t.Errorf("text %q", got)
	}
}

func TestEmbeddingByTSNE(t *testing.T) {
	// Three tight clusters of ten points in 4-D.
	n := 30
	data := make([]float32, 4*n)
	labels := make([]int, n)
	for i := range n {
		labels[i] = i % 3
		for j := range 4 {
			data[4*i+j] = float32(10*labels[i]*(j%2)) + 0.1*float32(math.Sin(float64(7*i+j)))
		}
	}
	f, err := Embedding(tensor.New(data, n, 4), EmbeddingOptions{Method: "tsne", ScatterOptions: ScatterOptions{Labels: labels, ClassNames: []string{"a", "b", "c"}},
		TSNE: project.TSNEOptions{Perplexity: 5, Iterations: 1000, Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if f.Marks() != n || f.opt.Title != "t-SNE of 30 points (4-D)" || f.plot.X.Label.Text != "t-SNE 1" || f.plot.Y.Label.Text != "t-SNE 2" {
		t.Errorf("marks %d, title %q, labels %q %q", f.Marks(), f.opt.Title, f.plot.X.Label.Text, f.plot.Y.Label.Text)
	}
	requireNotBlank(t, f, 10)
	saveArtifact(t, f, "embedding-tsne")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Embedding(tensor.New(data, n, 4), EmbeddingOptions{Method: "tsne", Context: ctx, TSNE: project.TSNEOptions{Perplexity: 5}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want one wrapping context.Canceled", err)
	}
}

func TestEmbeddingErrors(t *testing.T) {
	x := tensor.New(make([]float32, 20), 4, 5)
	cases := []struct {
		x    *tensor.Tensor
		opt  EmbeddingOptions
		want string
	}{
		{nil, EmbeddingOptions{}, "viz.Embedding: embeddings are nil"},
		{tensor.New(make([]float32, 8), 2, 2, 2), EmbeddingOptions{}, "viz.Embedding: embeddings have shape (2,2,2), want (N,D)"},
		{x, EmbeddingOptions{Method: "umap"}, `viz.Embedding: Method "umap" is not one of pca, tsne, none`},
		{x, EmbeddingOptions{Method: "none"}, `viz.Embedding: Method "none" draws (N,2) embeddings as they are; these have shape (4,5)`},
		{x, EmbeddingOptions{ScatterOptions: ScatterOptions{Labels: []int{0, 1, 2}}}, "viz.Embedding: 3 labels for 4 points"},
		{x, EmbeddingOptions{ScatterOptions: ScatterOptions{Domains: []int{0, 1, -1, 0}}}, "viz.Embedding: domains[2] is -1, want 0 or more"},
	}
	for _, c := range cases {
		if _, err := Embedding(c.x, c.opt); err == nil || err.Error() != c.want {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
	// "none" draws 2-D embeddings as they are.
	f, err := Embedding(tensor.New([]float32{0, 0, 1, 2}, 2, 2), EmbeddingOptions{Method: "none"})
	if err != nil || f.Marks() != 2 || f.opt.Title != "" {
		t.Errorf("none: %v, marks %v", err, f)
	}
}
