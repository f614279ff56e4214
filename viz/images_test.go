package viz

import (
	"image/color"
	"math"
	"strings"
	"testing"

	"github.com/graftml/graft/tensor"
)

func TestImageRaster(t *testing.T) {
	nan := float32(math.NaN())
	x := tensor.New([]float32{0, 1, 0.5, nan}, 2, 1, 1, 2)
	rows := [][]int{{0, 1}}
	lo, hi, bad := imageRange(x, rows, nil, nil)
	if lo != 0 || hi != 1 || bad != 1 {
		t.Fatalf("range [%v, %v], %d bad; want [0, 1], 1", lo, hi, bad)
	}
	img, centres := imageRaster(x, rows, 2, lo, hi)
	// 1×2 images: blocks of ceil(64/2) = 32 pixels, gaps of 64/16 = 4.
	if b := img.Bounds(); b.Dx() != 2*68-4 || b.Dy() != 32 {
		t.Fatalf("raster is %dx%d, want 132x32", b.Dx(), b.Dy())
	}
	if len(centres) != 1 || centres[0] != 0.5 {
		t.Fatalf("row centres %v", centres)
	}
	for _, c := range []struct {
		x, y int
		want color.NRGBA
	}{
		{0, 0, color.NRGBA{0, 0, 0, 255}},        // 0: black
		{31, 31, color.NRGBA{0, 0, 0, 255}},      // the same block
		{32, 5, color.NRGBA{255, 255, 255, 255}}, // 1: white
		{65, 5, color.NRGBA{255, 255, 255, 255}}, // the gap
		{68, 0, color.NRGBA{128, 128, 128, 255}}, // 0.5: mid grey (127.5 rounded)
		{100, 20, nanColour},                     // NaN
	} {
		if got := img.NRGBAAt(c.x, c.y); got != c.want {
			t.Errorf("pixel (%d,%d) is %v, want %v", c.x, c.y, got, c.want)
		}
	}

	// Colour images on a given scale; a short second row leaves white.
	rgb := tensor.New([]float32{1, -1, -1, 1, 0, -1}, 2, 3, 1, 1)
	lo, hi, _ = imageRange(rgb, [][]int{{0, 1}, {1}}, ptr(-1), ptr(1))
	img, centres = imageRaster(rgb, [][]int{{0, 1}, {1}}, 2, lo, hi)
	// 1×1 images: blocks of 64, gaps of 4.
	for _, c := range []struct {
		x, y int
		want color.NRGBA
	}{
		{10, 10, color.NRGBA{255, 0, 0, 255}},     // (1, −1, −1): red
		{80, 10, color.NRGBA{255, 128, 0, 255}},   // (1, 0, −1): orange
		{10, 80, color.NRGBA{255, 128, 0, 255}},   // row 2 holds image 1
		{80, 80, color.NRGBA{255, 255, 255, 255}}, // and nothing else
	} {
		if got := img.NRGBAAt(c.x, c.y); got != c.want {
			t.Errorf("RGB pixel (%d,%d) is %v, want %v", c.x, c.y, got, c.want)
		}
	}
	if math.Abs(centres[1]-100.0/132) > 1e-12 {
		t.Errorf("row centres %v, want [32/132 100/132]", centres)
	}

	// Outside [0, 1] the scale is the data's range.
	if lo, hi, _ := imageRange(tensor.New([]float32{-2, 3}, 1, 1, 1, 2), [][]int{{0}}, nil, nil); lo != -2 || hi != 3 {
		t.Errorf("range [%v, %v], want [-2, 3]", lo, hi)
	}
}

func ptr(v float64) *float64 { return &v }

func TestImages(t *testing.T) {
	x := tensor.Uniform(tensor.NewRNG(1), 0, 1, 3, 1, 8, 8)
	f, err := Images(x, ImageOptions{Rows: [][]int{{0, 2}, {1}}, RowLabels: []string{"even", "odd"}, Options: Options{Title: "samples"}})
	if err != nil {
		t.Fatal(err)
	}
	if s := f.String(); !strings.Contains(s, `3 images of 1x8x8 in 2 rows "samples"`) || f.Marks() != 3 {
		t.Fatalf("text %q, marks %d", s, f.Marks())
	}
	requireNotBlank(t, f, 20)
	if _, err := f.SVG(); err != nil {
		t.Fatal(err)
	}

	red := tensor.Zeros(2, 3, 4, 4)
	for i := range 16 {
		red.Data()[i] = 1
	}
	g, err := Images(red, ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, g)
	found := false
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y && !found; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			if hexRGB(img.At(x, y)) == [3]int{255, 0, 0} {
				found = true
				break
			}
		}
	}
	if !found {
		t.Fatalf("no pure red pixel in the PNG of a red image")
	}
	if w, h := g.Size(); w <= h {
		t.Fatalf("two square images side by side drawn %dx%d", w, h)
	}

	for _, c := range []struct {
		x    *tensor.Tensor
		opt  ImageOptions
		want string
	}{
		{tensor.Zeros(2, 8, 8), ImageOptions{}, "want (N,C,H,W)"},
		{tensor.Zeros(2, 2, 8, 8), ImageOptions{}, "2 channels"},
		{x, ImageOptions{Rows: [][]int{{0, 3}}}, "Rows[0] names image 3, outside 0..2"},
		{x, ImageOptions{RowLabels: []string{"a", "b"}}, "2 row labels for 1 rows"},
		{x, ImageOptions{Min: ptr(2)}, "Min 2 is not below Max 1"},
		{nil, ImageOptions{}, "images are nil"},
	} {
		if _, err := Images(c.x, c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Images: error %v, want one containing %q", err, c.want)
		}
	}
	empty, err := Images(tensor.Zeros(0, 1, 4, 4), ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	decodePNG(t, empty)
}
