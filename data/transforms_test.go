package data

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/graftml/graft/internal/testenv"
	"github.com/graftml/graft/tensor"
)

// closeTo fails the test unless got and want have the same length and agree
// element-wise within tol.
func closeTo(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i])-want[i]) > tol || math.IsNaN(float64(got[i])) {
			t.Fatalf("%s: value %d is %v, want %v (all: %v)", what, i, got[i], want[i], got)
		}
	}
}

// seq returns the tensor 0, 1, 2, … of the given shape.
func seq(shape ...int) *tensor.Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i)
	}
	return tensor.New(v, shape...)
}

// mustPanic fails the test unless f panics with a message containing want.
func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one containing %q", want)
		}
		if !strings.Contains(fmt.Sprint(r), want) {
			t.Fatalf("panic %q does not contain %q", r, want)
		}
	}()
	f()
}

func TestRotateQuarterTurns(t *testing.T) {
	x := seq(2, 2, 4, 4) // two images of two channels
	const H, W = 4, 4
	cases := []struct {
		deg float64
		src func(i, j int) (int, int) // output (i, j) comes from input (r, c)
	}{
		// numpy.rot90(a) (counter-clockwise): out[i][j] = a[j][W-1-i].
		{90, func(i, j int) (int, int) { return j, W - 1 - i }},
		{-90, func(i, j int) (int, int) { return H - 1 - j, i }},
		{180, func(i, j int) (int, int) { return H - 1 - i, W - 1 - j }},
		{360, func(i, j int) (int, int) { return i, j }},
	}
	for _, tc := range cases {
		got := Rotate(x, tc.deg)
		want := make([]float64, x.Len())
		for p := range 4 {
			for i := range H {
				for j := range W {
					r, c := tc.src(i, j)
					want[p*16+i*4+j] = float64(x.Data()[p*16+r*4+c])
				}
			}
		}
		closeTo(t, fmt.Sprintf("Rotate %v°", tc.deg), got.Data(), want, 1e-4)
	}
}

func TestRotateBilinearAndZeroFill(t *testing.T) {
	// A 3×3 image of ones turned 45°: the corner (0,0) samples the input
	// at row 1−√2, column 1, a point 2−√2 of the way from outside (0) to
	// row 0 (1); the centre stays 1.
	got := Rotate(tensor.Ones(1, 1, 3, 3), 45)
	c := 2 - math.Sqrt2
	closeTo(t, "Rotate 45° of ones", got.Data(), []float64{c, 1, c, 1, 1, 1, c, 1, c}, 1e-6)

	// Each image has its own angle.
	x := seq(2, 1, 3, 3)
	each := RotateEach(x, []float64{0, 90})
	closeTo(t, "RotateEach image 0", each.Data()[:9], x.Float64s()[:9], 1e-6)
	closeTo(t, "RotateEach image 1", each.Data()[9:], Rotate(x, 90).Float64s()[9:], 1e-6)
	mustPanic(t, "2 angles for 1 images", func() { RotateEach(tensor.Zeros(1, 1, 2, 2), []float64{1, 2}) })
	mustPanic(t, "want (N,C,H,W)", func() { Rotate(tensor.Zeros(3, 3), 10) })
}

func TestGaussianBlurOfDeltaIsKernel(t *testing.T) {
	x := tensor.Zeros(1, 1, 9, 9)
	x.SetAt(1, 0, 0, 4, 4)
	got := GaussianBlur(x, 1)
	k := GaussianKernel(1)
	// Σ = 1 + 2(e^−½ + e^−2 + e^−9/2) for offsets −3..3.
	closeTo(t, "kernel", []float32{float32(k[3]), float32(k[2]), float32(k[0])},
		[]float64{0.39905027965245493, 0.39905027965245493 * math.Exp(-0.5), 0.39905027965245493 * math.Exp(-4.5)}, 1e-7)
	want := make([]float64, 81)
	sum := 0.0
	for i := range 9 {
		for j := range 9 {
			if di, dj := i-4, j-4; di >= -3 && di <= 3 && dj >= -3 && dj <= 3 {
				want[i*9+j] = math.Exp(-float64(di*di+dj*dj)/2) * 0.15924112569070248
				sum += want[i*9+j]
			}
		}
	}
	if math.Abs(sum-1) > 1e-12 {
		t.Fatalf("the 2-D kernel sums to %v", sum)
	}
	closeTo(t, "blur of a delta", got.Data(), want, 1e-6)
}

func TestGaussianBlurBorders(t *testing.T) {
	// A kernel (radius 6) wider than the 5×4 image is mirrored several
	// times; a constant image stays constant.
	got := GaussianBlur(tensor.Full(2.5, 2, 3, 5, 4), 2)
	want := make([]float64, got.Len())
	for i := range want {
		want[i] = 2.5
	}
	closeTo(t, "blur of a constant", got.Data(), want, 1e-5)

	// A 1×3 row [1 0 0], σ = 1: mirrored, the offsets −3..3 from pixel 0
	// reach pixels 1,2,1,0,1,2,1; from pixel 1, 2,1,0,1,2,1,0; from pixel
	// 2, 1,0,1,2,1,0,1. So out = [k(0), k(−1)+k(3), k(−2)+k(2)].
	row := tensor.New([]float32{1, 0, 0}, 1, 1, 1, 3)
	k := GaussianKernel(1)
	// Rows are blurred too: a single row mirrors onto itself, so the
	// vertical pass sums the whole kernel (1).
	closeTo(t, "blur at the border", GaussianBlur(row, 1).Data(), []float64{k[3], k[2] + k[6], 2 * k[1]}, 1e-6)

	for _, c := range []struct{ i, n, want int }{{-1, 5, 1}, {5, 5, 3}, {-5, 5, 3}, {9, 5, 1}, {8, 5, 0}, {7, 1, 0}, {2, 5, 2}} {
		if got := reflect(c.i, c.n); got != c.want {
			t.Errorf("reflect(%d, %d) = %d, want %d", c.i, c.n, got, c.want)
		}
	}
	closeTo(t, "sigma 0", GaussianBlur(row, 0).Data(), []float64{1, 0, 0}, 0)
	mustPanic(t, "negative", func() { GaussianBlur(row, -1) })
}

func TestResize(t *testing.T) {
	// Bilinear, half-pixel centres: [0 4] → 4 samples at 0, 0.25, 0.75, 1
	// (the last clamped) = 0, 1, 3, 4.
	x := tensor.New([]float32{0, 4}, 1, 1, 1, 2)
	closeTo(t, "bilinear 2→4", Resize(x, 1, 4).Data(), []float64{0, 1, 3, 4}, 1e-6)
	// Area: 4→2 averages blocks of 2×2.
	blocks := seq(1, 1, 4, 4)
	closeTo(t, "area 4→2", ResizeArea(blocks, 2, 2).Data(), []float64{2.5, 4.5, 10.5, 12.5}, 1e-5)
	// Area 3→2: out0 = (a0 + ½a1)/1.5, out1 = (½a1 + a2)/1.5.
	three := tensor.New([]float32{3, 6, 9}, 1, 1, 1, 3)
	closeTo(t, "area 3→2", ResizeArea(three, 1, 2).Data(), []float64{4, 8}, 1e-5)
	// Area 2→4 repeats pixels.
	closeTo(t, "area 2→4", ResizeArea(x, 1, 4).Data(), []float64{0, 0, 4, 4}, 0)
	// A constant image stays constant, up and down, both methods.
	c := tensor.Full(0.7, 2, 3, 5, 7)
	for _, r := range []*tensor.Tensor{Resize(c, 3, 11), Resize(c, 9, 2), ResizeArea(c, 3, 11), ResizeArea(c, 9, 2)} {
		want := make([]float64, r.Len())
		for i := range want {
			want[i] = 0.7
		}
		closeTo(t, "resize of a constant "+tensor.FormatShape(r.Shape()), r.Data(), want, 1e-6)
	}
	mustPanic(t, "both must be positive", func() { Resize(x, 0, 3) })
}

func TestChannelsAndNormalize(t *testing.T) {
	x := seq(2, 1, 1, 2)
	rgb := ToRGB(x)
	closeTo(t, "ToRGB", rgb.Data(), []float64{0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3}, 0)
	if s := tensor.FormatShape(rgb.Shape()); s != "(2,3,1,2)" {
		t.Fatalf("ToRGB shape %s", s)
	}
	gray := ToGray(tensor.New([]float32{1, 0, 1, 1, 0, 1}, 1, 3, 1, 2)) // R [1 0], G [1 1], B [0 1]
	closeTo(t, "ToGray", gray.Data(), []float64{0.299 + 0.587, 0.587 + 0.114}, 1e-6)
	mustPanic(t, "want 1 or 3", func() { ToRGB(tensor.Zeros(1, 2, 2, 2)) })

	n := Normalize(seq(1, 2, 1, 2), []float64{1, 2}, []float64{2, 0.5})
	closeTo(t, "Normalize", n.Data(), []float64{-0.5, 0, 0, 2}, 1e-6)
	closeTo(t, "Normalize one value", Normalize(seq(2, 2), []float64{1}, []float64{2}).Data(), []float64{-0.5, 0, 0.5, 1}, 1e-6)
	mustPanic(t, "3 mean values for 2 channels", func() { Normalize(seq(1, 2, 1, 2), []float64{1, 2, 3}, []float64{1}) })
	mustPanic(t, "not positive", func() { Normalize(seq(1, 2), []float64{1}, []float64{0}) })
}

func TestStandardizer(t *testing.T) {
	// Feature 0: 1, 3 → mean 2, std 1; feature 1 constant 5 → std stored 1.
	fit := tensor.New([]float32{1, 5, 3, 5}, 2, 2)
	s := FitStandardizer(fit)
	closeTo(t, "mean", []float32{float32(s.Mean[0]), float32(s.Mean[1])}, []float64{2, 5}, 0)
	closeTo(t, "std", []float32{float32(s.Std[0]), float32(s.Std[1])}, []float64{1, 1}, 0)
	other := tensor.New([]float32{4, 7, 0, 5, 2, 3}, 3, 2)
	closeTo(t, "applied to another set", s.Apply(other).Data(), []float64{2, 2, -2, 0, 0, -2}, 1e-6)
	mustPanic(t, "does not have 2 features", func() { s.Apply(seq(2, 3)) })
}

func TestAddNoise(t *testing.T) {
	x := tensor.Zeros(200, 50)
	a, b := AddNoise(x, 0.5, 7), AddNoise(x, 0.5, 7)
	closeTo(t, "same seed", a.Data(), b.Float64s(), 0)
	mean, sq := 0.0, 0.0
	for _, v := range a.Data() {
		mean += float64(v)
		sq += float64(v) * float64(v)
	}
	mean /= float64(a.Len())
	std := math.Sqrt(sq/float64(a.Len()) - mean*mean)
	// 10,000 draws: the mean's standard error is 0.005, the std's 0.0035.
	if math.Abs(mean) > 0.02 || math.Abs(std-0.5) > 0.015 {
		t.Fatalf("noise has mean %v and std %v, want 0 and 0.5", mean, std)
	}
	if c := AddNoise(x, 0.5, 8); c.Data()[0] == a.Data()[0] {
		t.Fatalf("seeds 7 and 8 gave the same first value %v", c.Data()[0])
	}
}

func TestBlendBackground(t *testing.T) {
	tex := ColourTextures(4, 16, 12, 3)
	if s := tensor.FormatShape(tex.Shape()); s != "(4,3,16,12)" {
		t.Fatalf("textures shape %s", s)
	}
	lo, hi := 1.0, 0.0
	for _, v := range tex.Data() {
		lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
	}
	if lo < 0 || hi > 1 || hi-lo < 0.3 {
		t.Fatalf("texture values span [%v, %v], want a spread inside [0, 1]", lo, hi)
	}
	// Smooth: neighbouring pixels differ far less than the range.
	d := tex.Data()
	for p := 0; p+1 < 12; p++ {
		if math.Abs(float64(d[p+1]-d[p])) > 0.25 {
			t.Fatalf("texture jumps by %v between pixels %d and %d", d[p+1]-d[p], p, p+1)
		}
	}
	closeTo(t, "same seed", ColourTextures(4, 16, 12, 3).Data(), tex.Float64s(), 0)

	// |bg − x| per channel, one channel broadcast to three.
	x := tensor.New([]float32{1, 0}, 1, 1, 1, 2)
	bg := tensor.New([]float32{0.2, 0.3, 0.5, 0.6, 0.9, 0.1}, 1, 3, 1, 2)
	closeTo(t, "BlendDifference", BlendDifference(x, bg).Data(), []float64{0.8, 0.3, 0.5, 0.6, 0.1, 0.1}, 1e-6)
	mustPanic(t, "do not match", func() { BlendDifference(x, tensor.Zeros(2, 3, 1, 2)) })

	img := tensor.Zeros(4, 1, 16, 12)
	closeTo(t, "blank paper shows the darkened texture", BlendBackground(img, 3).Data(), tex.Scale(TextureBrightness).Float64s(), 0)
	ink := tensor.Ones(4, 1, 16, 12)
	closeTo(t, "ink shows the inverted texture", BlendBackground(ink, 3).Data(), tensor.OnesLike(tex).Sub(tex.Scale(TextureBrightness)).Float64s(), 1e-6)
}

// TestTransformsTorchParity checks Rotate, Resize, ResizeArea and
// GaussianBlur against PyTorch (grid_sample, interpolate, adaptive average
// pooling, reflect-padded convolution) on random images.
func TestTransformsTorchParity(t *testing.T) {
	python := testenv.RequirePython(t, "torch", "numpy")
	dir := t.TempDir()
	rng := tensor.NewRNG(11)
	x, y := tensor.Uniform(rng, 0, 1, 2, 3, 9, 9), tensor.Uniform(rng, 0, 1, 2, 3, 8, 6)
	writeF32(t, filepath.Join(dir, "x.bin"), x)
	writeF32(t, filepath.Join(dir, "y.bin"), y)
	if out, err := exec.Command(python, filepath.Join("testdata", "transforms_ref.py"), dir).CombinedOutput(); err != nil {
		t.Fatalf("%s testdata/transforms_ref.py: %v\n%s", python, err, out)
	}
	for _, c := range []struct {
		name string
		got  *tensor.Tensor
	}{
		{"rotate30", Rotate(x, 30)},
		{"bilinear_4x13", Resize(y, 4, 13)},
		{"bilinear_11x3", Resize(y, 11, 3)},
		{"area_4x3", ResizeArea(y, 4, 3)},
		{"blur1.3", GaussianBlur(y, 1.3)},
	} {
		raw, err := os.ReadFile(filepath.Join(dir, c.name+".bin"))
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float64, len(raw)/4)
		for i := range want {
			want[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
		}
		closeTo(t, c.name+" vs PyTorch", c.got.Data(), want, 1e-5)
	}
}

func writeF32(t *testing.T, path string, x *tensor.Tensor) {
	t.Helper()
	buf := make([]byte, 4*x.Len())
	for i, v := range x.Data() {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestStandardizePair(t *testing.T) {
	src, _ := New("s", tensor.New([]float32{1, 10, 3, 30}, 2, 2), []int{0, 1}, nil)
	tgt, _ := New("t", tensor.New([]float32{5, 20}, 1, 2), []int{1}, nil)
	p, err := DomainPair{Name: "p", Source: src, Target: tgt, Shift: "moved"}.Standardize()
	if err != nil {
		t.Fatal(err)
	}
	// Source means (2, 20), stds (1, 10).
	closeTo(t, "source", p.Source.X.Data(), []float64{-1, -1, 1, 1}, 1e-6)
	closeTo(t, "target", p.Target.X.Data(), []float64{3, 0}, 1e-6)
	closeTo(t, "Standardize", Standardize(src.X, tgt.X).Data(), []float64{3, 0}, 1e-6)
	if p.Shift != "moved; standardised with the source's statistics" || src.X.At(0, 0) != 1 {
		t.Fatalf("Shift %q; the original source changed to %v", p.Shift, src.X.At(0, 0))
	}
	bad, _ := New("b", tensor.Zeros(2, 3), nil, nil)
	if _, err := (DomainPair{Name: "p", Source: src, Target: bad}).Standardize(); err == nil || !strings.Contains(err.Error(), "does not have 2 features per row") {
		t.Fatalf("mismatched domains: error %v", err)
	}
}

// BenchmarkTransforms times the transforms on 1,000 MNIST-sized images.
func BenchmarkTransforms(b *testing.B) {
	x := tensor.Uniform(tensor.NewRNG(1), 0, 1, 1000, 1, 28, 28)
	for _, c := range []struct {
		name string
		f    func() *tensor.Tensor
	}{
		{"Rotate", func() *tensor.Tensor { return Rotate(x, 30) }},
		{"GaussianBlur1", func() *tensor.Tensor { return GaussianBlur(x, 1) }},
		{"ResizeArea32", func() *tensor.Tensor { return ResizeArea(x, 32, 32) }},
		{"Resize32", func() *tensor.Tensor { return Resize(x, 32, 32) }},
		{"BlendBackground", func() *tensor.Tensor { return BlendBackground(x, 1) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				c.f()
			}
		})
	}
}
