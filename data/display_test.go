package data

import (
	"bytes"
	"image/png"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/tensor"
)

func TestDatasetText(t *testing.T) {
	d := indexed(t, []int{0, 2, 2, 1, 2}, nil)
	if got, want := d.String(), `Dataset "indexed": 5 examples, each (2); 3 classes: 0=1, 1=1, 2=3`; got != want {
		t.Fatalf("String\n got %q\nwant %q", got, want)
	}
	m, _ := TwoMoons(10, 0, 1)
	u := &Dataset{Name: "u", X: tensor.Zeros(3, 1, 4, 4)}
	if got, want := u.String(), `Dataset "u": 3 examples, each (1,4,4); unlabelled`; got != want {
		t.Fatalf("String\n got %q\nwant %q", got, want)
	}
	p := DomainPair{Name: "p", Source: m, Target: u, Shift: "a shift"}
	want := "DomainPair \"p\"\nshift:  a shift\nsource: \"two moons\", 10 examples, each (2); 2 classes: outer=5, inner=5\ntarget: \"u\", 3 examples, each (1,4,4); unlabelled"
	if got := p.String(); got != want {
		t.Fatalf("pair String\n got %q\nwant %q", got, want)
	}
}

// checkBundle checks that a display bundle carries text and a PNG that
// decodes, and returns the PNG's size.
func checkBundle(t *testing.T, b display.Bundle, text string) (int, int) {
	t.Helper()
	if b.Text() != text {
		t.Fatalf("text/plain %q, want %q", b.Text(), text)
	}
	raw, ok := b.Data[display.MIMEPNG].([]byte)
	if !ok {
		t.Fatalf("no PNG in the bundle: %v", b.Data)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Data[display.MIMESVG].(string); !ok {
		t.Fatalf("no SVG in the bundle")
	}
	return img.Bounds().Dx(), img.Bounds().Dy()
}

func TestDatasetFigures(t *testing.T) {
	moons, _ := TwoMoons(100, 0.1, 1)
	checkBundle(t, moons.Display(), moons.String())
	if s := moons.Plot().String(); !strings.Contains(s, `scatter of 100 points "two moons (100)"`) {
		t.Fatalf("moons figure %q", s)
	}

	// Many points are thinned; more than two dimensions are projected.
	wide, _ := Blobs(5000, BlobOptions{Dim: 6, Seed: 2})
	if s := wide.Plot().String(); !strings.Contains(s, `scatter of 2000 points "blobs (2000 of 5000 shown)"`) {
		t.Fatalf("6-D blobs figure %q", s)
	}
	idx := thin(5000)
	if len(idx) != 2000 || idx[0] != 0 || idx[1] != 2 || idx[2] != 5 || idx[1999] != 4997 || !slices.IsSorted(idx) {
		t.Fatalf("thin(5000): %d indices starting %v, ending %d", len(idx), idx[:3], idx[len(idx)-1])
	}
	if len(thin(7)) != 7 {
		t.Fatalf("thin(7) = %v", thin(7))
	}
	line := &Dataset{Name: "line", X: tensor.Arange(0, 5, 1), Labels: []int{0, 0, 1, 1, 1}}
	if s := line.Plot().String(); !strings.Contains(s, "scatter of 5 points") {
		t.Fatalf("1-D figure %q", s)
	}

	// Images: a row per class of up to 8 images.
	labels := make([]int, 30)
	for i := range labels {
		labels[i] = i % 3
	}
	imgs, _ := New("digits", tensor.Uniform(tensor.NewRNG(1), 0, 1, 30, 1, 8, 8), labels, []string{"a", "b", "c"})
	w, h := checkBundle(t, imgs.Display(), imgs.String())
	if s := imgs.Plot().String(); !strings.Contains(s, `24 images of 1x8x8 in 3 rows "digits"`) || w <= h {
		t.Fatalf("image figure %q, %dx%d", s, w, h)
	}
	unl := &Dataset{Name: "u", X: tensor.Zeros(40, 3, 4, 4)}
	if s := unl.Plot().String(); !strings.Contains(s, "32 images of 3x4x4 in 4 rows") {
		t.Fatalf("unlabelled image figure %q", s)
	}
}

func TestPairFigures(t *testing.T) {
	p, _ := RotatedMoons(200, 0.1, 30, 1)
	checkBundle(t, p.Display(), p.String())
	s := p.Plot().String()
	for _, want := range []string{"grid of 2 figures", `"source: two moons (200)"`, `"target: two moons rotated 30° (200)"`, `"` + p.Shift + `"`} {
		if !strings.Contains(s, want) {
			t.Fatalf("pair figure %q lacks %q", s, want)
		}
	}
	labels := []int{0, 1, 0, 1}
	src, _ := New("src", tensor.Uniform(tensor.NewRNG(1), 0, 1, 4, 1, 6, 6), labels, nil)
	tgt, err := src.Map("tgt", func(x *tensor.Tensor) *tensor.Tensor { return BlendBackground(Rotate(x, 45), 1) })
	if err != nil {
		t.Fatal(err)
	}
	ip := DomainPair{Name: "images", Source: src, Target: tgt, Shift: "rotated and coloured"}
	if s := ip.Plot().String(); !strings.Contains(s, `4 images of 1x6x6 in 2 rows "src"`) || !strings.Contains(s, `4 images of 3x6x6 in 2 rows "tgt"`) {
		t.Fatalf("image pair figure %q", s)
	}
	// Datasets that cannot share axes are shown as text with the reason.
	bad := DomainPair{Name: "bad", Source: src, Target: indexed(t, labels, nil)}
	if b := bad.Display(); !strings.Contains(b.Text(), "(no figure: data: \"src\" has 36 values per example and \"indexed\" has 2") || bad.Plot() != nil {
		t.Fatalf("mismatched pair: %q", b.Text())
	}
	if b := (DomainPair{Name: "half", Source: src}).Display(); !strings.Contains(b.Text(), "lacks a source or a target") {
		t.Fatalf("pair without a target: %q", b.Text())
	}

	// Shared axes hold every point with a 5% margin.
	x0, x1, y0, y1 := sharedRange([]*tensor.Tensor{tensor.New([]float32{0, 0, 1, 2}, 2, 2), tensor.New([]float32{-1, 4}, 1, 2)})
	if x0 != -1.1 || x1 != 1.1 || y0 != -0.2 || y1 != 4.2 {
		t.Fatalf("shared range x [%v, %v] y [%v, %v], want [-1.1, 1.1] and [-0.2, 4.2]", x0, x1, y0, y1)
	}
}
