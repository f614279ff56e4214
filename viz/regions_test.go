package viz

import (
	"math"
	"strings"
	"testing"

	"github.com/graftml/graft/tensor"
)

// linearClassifier returns logits [w·x, −w·x] for each row x.
func linearClassifier(wx, wy float32) func(x *tensor.Tensor) *tensor.Tensor {
	return func(x *tensor.Tensor) *tensor.Tensor {
		n := x.Dim(0)
		d := x.Data()
		out := make([]float32, 2*n)
		for i := range n {
			s := wx*d[2*i] + wy*d[2*i+1]
			out[2*i], out[2*i+1] = s, -s
		}
		return tensor.New(out, n, 2)
	}
}

func TestDecisionRegionsColourTheHalvesOfALinearClassifier(t *testing.T) {
	// logits [x, −x]: class 0 on the right, class 1 on the left.
	f, err := DecisionRegions(linearClassifier(1, 0), RegionOptions{Options: Options{XMin: -1, XMax: 1, YMin: -1, YMax: 1, Legend: "none"}})
	if err != nil {
		t.Fatal(err)
	}
	img := requireNotBlank(t, f, 5)
	at := dataPixel(t, f)
	left, right := hexRGB(tint(Colour(1), 0.25)), hexRGB(tint(Colour(0), 0.25))
	for _, y := range []float64{-0.8, 0, 0.7} {
		for _, x := range []float64{-0.9, -0.5, -0.1} {
			px, py := at(x, y)
			if got := rgb(img, px, py); !near(got, left, 3) {
				t.Errorf("(%g,%g) is %v, want class 1's tint %v", x, y, got, left)
			}
			px, py = at(-x, y)
			if got := rgb(img, px, py); !near(got, right, 3) {
				t.Errorf("(%g,%g) is %v, want class 0's tint %v", -x, y, got, right)
			}
		}
		// The boundary line at x = 0 is dark.
		px, py := at(0, y)
		if c := rgb(img, px, py); c[0]+c[1]+c[2] > 3*0x90 {
			t.Errorf("boundary at (0,%g) is %v, want a dark line", y, c)
		}
	}
	if f.String() != "<decision regions of 2 classes on a 150x150 grid, 624x384>" {
		t.Errorf("text %q", f.String())
	}
}

func TestDecisionRegionsPointsAndConfidence(t *testing.T) {
	src := tensor.New([]float32{-1, 0, -0.5, 0.5, 1, 0, 0.5, -0.5}, 4, 2)
	tgt := tensor.New([]float32{-1.2, 0.3, 1.1, 0.2, 0.9, -0.4}, 3, 2)
	calls := []int{}
	gradsOn := false
	classify := func(x *tensor.Tensor) *tensor.Tensor {
		calls = append(calls, x.Dim(0))
		gradsOn = gradsOn || tensor.GradEnabled()
		return linearClassifier(3, 0)(x)
	}
	f, err := DecisionRegions(classify, RegionOptions{Options: Options{Title: "two domains", Formats: []string{"svg"}}, Source: src, SourceLabels: []int{1, 1, 0, 0},
		Target: tgt, Resolution: 100, Confidence: true, ClassNames: []string{"right", "left"}})
	if err != nil {
		t.Fatal(err)
	}
	if gradsOn {
		t.Error("classify ran with gradients on")
	}
	if len(calls) != 3 || calls[0] != 4096 || calls[1] != 4096 || calls[2] != 10000-8192 {
		t.Errorf("classify called on batches %v, want 4096, 4096, 1808", calls)
	}
	if f.Marks() != 7 {
		t.Errorf("Marks %d, want 7 points", f.Marks())
	}
	img := requireNotBlank(t, f, 10)
	saveArtifact(t, f, "regions")
	// Confidence: paler near the boundary than far from it. The margin
	// 0.1 of the points' extent puts the grid at x -1.43..1.33, y -0.6..0.6.
	at := dataPixel(t, f)
	px, py := at(0.05, -0.25)
	near0 := rgb(img, px, py)
	px, py = at(1.3, -0.25)
	far := rgb(img, px, py)
	if !(near0[0] > far[0]+40) {
		t.Errorf("near the boundary %v, far %v: want paler near it", near0, far)
	}
	// Source circles and target triangles, with white rings: count the
	// markers by their colours in the SVG.
	paths := svgPaths(t, f)
	circles, triangles := 0, 0
	for _, p := range paths {
		switch {
		case strings.Contains(p.style, "fill:#FFFFFF") || strings.Contains(p.style, "stroke"):
		case p.circle():
			circles++
		case strings.Count(p.d, "L") == 2:
			triangles++
		}
	}
	// 4 source circles + legend's class circles (2) and source circle (1);
	// 3 target triangles + the legend's target triangle.
	if circles != 4+3 || triangles != 3+1 {
		t.Errorf("%d circles and %d triangles, want 7 and 4", circles, triangles)
	}
	_, svg := svgElements(t, f)
	texts := strings.Join(svgTexts(t, svg), "|")
	for _, want := range []string{"two domains", "right", "left", "source", "target"} {
		if !strings.Contains(texts, want) {
			t.Errorf("texts %q lack %q", texts, want)
		}
	}
}

func TestDecisionRegionsSingleLogitAndNonFiniteScores(t *testing.T) {
	// One column: a binary logit, class 1 where it is positive; NaN in the
	// top half.
	classify := func(x *tensor.Tensor) *tensor.Tensor {
		n := x.Dim(0)
		d := x.Data()
		out := make([]float32, n)
		for i := range n {
			out[i] = d[2*i]
			if d[2*i+1] > 0 {
				out[i] = float32(math.NaN())
			}
		}
		return tensor.New(out, n, 1)
	}
	f, err := DecisionRegions(classify, RegionOptions{Options: Options{XMin: -1, XMax: 1, YMin: -1, YMax: 1}, Resolution: 20})
	if err != nil {
		t.Fatal(err)
	}
	if n := f.Notes(); len(n) != 1 || n[0] != "200 of 400 grid points with non-finite scores drawn grey" {
		t.Errorf("notes %q", n)
	}
	img := requireNotBlank(t, f, 5)
	at := dataPixel(t, f)
	for _, c := range []struct {
		x, y float64
		want [3]int
	}{{0.6, -0.6, hexRGB(tint(Colour(1), 0.25))}, {-0.6, -0.6, hexRGB(tint(Colour(0), 0.25))}, {0.6, 0.6, hexRGB(nanColour)}} {
		px, py := at(c.x, c.y)
		if got := rgb(img, px, py); !near(got, c.want, 3) {
			t.Errorf("(%g,%g) is %v, want %v", c.x, c.y, got, c.want)
		}
	}
}

func TestDecisionRegionsErrors(t *testing.T) {
	box := Options{XMin: -1, XMax: 1, YMin: -1, YMax: 1}
	pts := tensor.New([]float32{0, 0, 1, 1}, 2, 2)
	cases := []struct {
		classify func(*tensor.Tensor) *tensor.Tensor
		opt      RegionOptions
		want     string
	}{
		{func(x *tensor.Tensor) *tensor.Tensor { return tensor.Zeros(x.Dim(0)) }, RegionOptions{Options: box, Resolution: 20},
			"viz.DecisionRegions: classify returned shape (400) for a (400,2) batch of grid points, want (400,C): a row of class scores per point"},
		{func(x *tensor.Tensor) *tensor.Tensor { return tensor.Zeros(3, 2) }, RegionOptions{Options: box, Resolution: 20},
			"viz.DecisionRegions: classify returned shape (3,2) for a (400,2) batch of grid points, want (400,C): a row of class scores per point"},
		{func(x *tensor.Tensor) *tensor.Tensor { panic("boom") }, RegionOptions{Options: box, Resolution: 20},
			"viz.DecisionRegions: classify panicked on a (400,2) batch of grid points: boom"},
		{func(x *tensor.Tensor) *tensor.Tensor { return nil }, RegionOptions{Options: box, Resolution: 20},
			"viz.DecisionRegions: classify returned nil for a (400,2) batch of grid points"},
		{nil, RegionOptions{Options: box}, "viz.DecisionRegions: classify is nil"},
		{linearClassifier(1, 0), RegionOptions{},
			"viz.DecisionRegions: no finite Source or Target points and no XMin..XMax and YMin..YMax to span the grid"},
		{linearClassifier(1, 0), RegionOptions{Source: pts, SourceLabels: []int{0}},
			"viz.DecisionRegions: 1 SourceLabels for 2 Source points"},
		{linearClassifier(1, 0), RegionOptions{Target: tensor.New(make([]float32, 6), 2, 3)},
			"viz.DecisionRegions: Target has shape (2,3), want (N,2)"},
		{linearClassifier(1, 0), RegionOptions{Source: pts, Resolution: 1},
			"viz.DecisionRegions: Resolution is 1, want 2..1000"},
		{linearClassifier(1, 0), RegionOptions{Source: pts, ClassNames: []string{"only"}},
			"viz.DecisionRegions: 1 ClassNames for 2 classes"},
	}
	for _, c := range cases {
		_, err := DecisionRegions(c.classify, c.opt)
		if err == nil || err.Error() != c.want {
			t.Errorf("error %v,\nwant %q", err, c.want)
		}
	}
	// A panic with an error value inside the batch loop of a larger grid.
	n := 0
	_, err := DecisionRegions(func(x *tensor.Tensor) *tensor.Tensor {
		n++
		if n == 2 {
			return tensor.Zeros(x.Dim(0), 3)
		}
		return tensor.Zeros(x.Dim(0), 2)
	}, RegionOptions{Options: box, Resolution: 100})
	if err == nil || err.Error() != "viz.DecisionRegions: classify returned 2 columns for one batch and 3 for another" {
		t.Errorf("error %v", err)
	}
}

func TestDecisionRegionsEscapesNames(t *testing.T) {
	evil := "<script>alert(1)</script>"
	f, err := DecisionRegions(linearClassifier(1, 1), RegionOptions{Options: Options{Title: evil, XMin: -1, XMax: 1, YMin: -1, YMax: 1}, ClassNames: []string{evil, "b"}, Resolution: 10})
	if err != nil {
		t.Fatal(err)
	}
	requireEscaped(t, f, evil, 2)
}
