package digits

import (
	"fmt"
	"strings"
	"testing"

	"github.com/graftml/graft/tensor"
)

// canvas returns an h×w image of the background value with ink (1) where
// ink(y, x) says.
func canvas(h, w int, background float32, ink func(y, x int) bool) []float32 {
	img := make([]float32, h*w)
	for y := range h {
		for x := range w {
			img[y*w+x] = background
			if ink(y, x) {
				img[y*w+x] = 1
			}
		}
	}
	return img
}

// grid formats an 8×8 grid of counts one row a line.
func grid(v []float32) string {
	var b strings.Builder
	for r := range 8 {
		fmt.Fprintln(&b, v[r*8:r*8+8])
	}
	return b.String()
}

// rows builds an 8×8 grid from the count of each row's first four and last
// four cells.
func rows(spec [8][2]float32) []float32 {
	out := make([]float32, 64)
	for r, s := range spec {
		for c := range 8 {
			out[r*8+c] = s[c/4]
		}
	}
	return out
}

func TestUCIStyleHandMade(t *testing.T) {
	rect := func(r0, r1, c0, c1 int) func(y, x int) bool {
		return func(y, x int) bool { return y >= r0 && y <= r1 && x >= c0 && x <= c1 }
	}
	full, empty := [2]float32{16, 16}, [2]float32{0, 0}
	cases := []struct {
		name string
		img  []float32
		opts UCIStyleOptions
		want []float32
	}{
		{
			// An 8-tall, 16-wide block: scaled ×2 to 16×32, centred at rows 8..23,
			// it fills block rows 2..5.
			name: "wide box keeps aspect",
			img:  canvas(28, 28, 0, rect(3, 10, 5, 20)),
			want: rows([8][2]float32{empty, empty, full, full, full, full, empty, empty}),
		},
		{
			name: "wide box stretched",
			img:  canvas(28, 28, 0, rect(3, 10, 5, 20)),
			opts: UCIStyleOptions{Stretch: true},
			want: rows([8][2]float32{full, full, full, full, full, full, full, full}),
		},
		{
			// A 16-tall, 4-wide bar: scaled ×2 to 32×8 at columns 12..19, the
			// columns 12..15 are block column 3 and 16..19 block column 4.
			name: "tall bar",
			img:  canvas(28, 28, 0, rect(6, 21, 0, 3)),
			want: func() []float32 {
				g := make([]float32, 64)
				for r := range 8 {
					g[r*8+3], g[r*8+4] = 16, 16
				}
				return g
			}(),
		},
		{
			name: "one pixel fills the box",
			img:  canvas(28, 28, 0, rect(14, 14, 9, 9)),
			want: rows([8][2]float32{full, full, full, full, full, full, full, full}),
		},
		{
			name: "no ink",
			img:  canvas(28, 28, 0.29, func(int, int) bool { return false }),
			want: make([]float32, 64),
		},
		{
			// A 16×16 box: the top row and the left half inked. Scaling by
			// exactly 2 with threshold 0.5 doubles every pixel (the nearer
			// source pixel weighs at least 0.5625, the others together at most
			// 0.4375), so each 4×4 block counts 4× the ink of a 2×2 source block:
			// block row 0 has 4 (left) and 2 (right) source pixels, the others 4
			// and 0. The grey (0.4) outside the box is below the threshold and
			// cropped away.
			name: "exact doubling",
			img: func() []float32 {
				img := canvas(28, 28, 0.4, func(int, int) bool { return false })
				for y := range 16 {
					for x := range 16 {
						img[(y+5)*28+x+7] = 0
						if y == 0 || x < 8 {
							img[(y+5)*28+x+7] = 1
						}
					}
				}
				return img
			}(),
			opts: UCIStyleOptions{Threshold: 0.5},
			want: rows([8][2]float32{{16, 8}, {16, 0}, {16, 0}, {16, 0}, {16, 0}, {16, 0}, {16, 0}, {16, 0}}),
		},
		{
			// A 32×32 image whose ink touches all four edges is copied as is:
			// the corners plus a 3×2 patch in block (2, 5) and a full block (7, 0).
			name: "32×32 copied",
			img: canvas(32, 32, 0, func(y, x int) bool {
				corner := (y == 0 || y == 31) && (x == 0 || x == 31)
				return corner || (y >= 9 && y <= 11 && x >= 21 && x <= 22) || (y >= 28 && x < 4)
			}),
			want: func() []float32 {
				g := make([]float32, 64)
				g[0], g[7], g[56], g[63] = 1, 1, 16, 1
				g[2*8+5] = 6
				return g
			}(),
		},
	}
	for _, c := range cases {
		side := 28
		if len(c.img) == 32*32 {
			side = 32
		}
		opts := c.opts
		opts.Counts = true
		got, err := UCIStyle(tensor.New(c.img, 1, 1, side, side), opts)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if s := got.Shape(); len(s) != 4 || s[0] != 1 || s[1] != 1 || s[2] != 8 || s[3] != 8 {
			t.Fatalf("%s: shape %v", c.name, s)
		}
		for i, v := range got.Data() {
			if v != c.want[i] {
				t.Errorf("%s: counts\n%swant\n%s", c.name, grid(got.Data()), grid(c.want))
				break
			}
		}
	}
}

func TestUCIStyleScalingAndShapes(t *testing.T) {
	// Two images as (N, H, W): one a full 10×10 square (all 16), one empty.
	img := append(canvas(12, 12, 0, func(y, x int) bool { return y >= 1 && y <= 10 && x >= 1 && x <= 10 }), make([]float32, 144)...)
	got, err := UCIStyle(tensor.New(img, 2, 12, 12), UCIStyleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := got.Data()
	for i := range 64 {
		if d[i] != 1 || d[64+i] != 0 {
			t.Fatalf("cell %d: %v and %v, want 16/16 = 1 and 0", i, d[i], d[64+i])
		}
	}
	bad := []struct {
		x    *tensor.Tensor
		opts UCIStyleOptions
		want string
	}{
		{tensor.Zeros(2, 3, 28, 28), UCIStyleOptions{}, "(2,3,28,28) must be grey"},
		{tensor.Zeros(28, 28), UCIStyleOptions{}, "(28,28) must be grey"},
		{tensor.Zeros(0, 1, 28, 28), UCIStyleOptions{}, "are empty"},
		{tensor.Zeros(1, 28, 28), UCIStyleOptions{Threshold: 1.5}, "Threshold 1.5 is outside (0, 1]"},
		{tensor.Zeros(1, 28, 28), UCIStyleOptions{Threshold: -0.1}, "Threshold -0.1"},
		{nil, UCIStyleOptions{}, "nil"},
	}
	for _, b := range bad {
		if _, err := UCIStyle(b.x, b.opts); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("UCIStyle: error %v, want %q", err, b.want)
		}
	}
	if _, err := PoolTo8x8Plain(tensor.Zeros(2, 3, 28, 28)); err == nil || !strings.Contains(err.Error(), "PoolTo8x8Plain") {
		t.Errorf("PoolTo8x8Plain on colour images: %v", err)
	}
}

func TestPoolTo8x8Plain(t *testing.T) {
	// 28→8 adaptive pooling uses 4×4 windows starting at rows/columns
	// 0, 3, 7, 10, 14, 17, 21, 24. A 4×4 patch of ink at the top left fills
	// cell (0,0), shares its last column with cell (0,1)'s window (4 of 16
	// pixels), its last row with cell (1,0), and one pixel with cell (1,1).
	img := canvas(28, 28, 0, func(y, x int) bool { return y < 4 && x < 4 })
	got, err := PoolTo8x8Plain(tensor.New(img, 1, 1, 28, 28))
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, 64)
	want[0], want[1], want[8], want[9] = 1, 0.25, 0.25, 1.0/16
	for i, v := range got.Data() {
		if v != want[i] {
			t.Fatalf("pooled\n%swant\n%s", grid(got.Data()), grid(want))
		}
	}
	if s := got.Shape(); s[0] != 1 || s[1] != 1 || s[2] != 8 || s[3] != 8 {
		t.Errorf("shape %v", s)
	}
}

// BenchmarkUCIStyle prepares 1,000 synthetic 28×28 digits (ink boxes of
// varying size).
func BenchmarkUCIStyle(b *testing.B) {
	const n = 1000
	pix := make([]float32, 0, n*784)
	for i := range n {
		pix = append(pix, canvas(28, 28, 0, func(y, x int) bool {
			return y >= 4+i%5 && y < 24 && x >= 6+i%7 && x < 12+i%11
		})...)
	}
	x := tensor.New(pix, n, 1, 28, 28)
	b.ResetTimer()
	for range b.N {
		if _, err := UCIStyle(x, UCIStyleOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
