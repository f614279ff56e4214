package tensor

import (
	"fmt"
	"math"
	"runtime"
	"testing"
)

// convRefDirect is an independent float64 direct convolution (PyTorch's
// cross-correlation) used to check Conv2d; x is (N,C,H,W), w (O,C/g,kh,kw).
func convRefDirect(x, w, b *Tensor, opt Conv2dOptions) ([]float64, []int) {
	def := func(v, d int) int {
		if v == 0 {
			return d
		}
		return v
	}
	sh, sw := def(opt.Stride[0], 1), def(opt.Stride[1], 1)
	dh, dw := def(opt.Dilation[0], 1), def(opt.Dilation[1], 1)
	ph, pw := opt.Padding[0], opt.Padding[1]
	groups := def(opt.Groups, 1)
	n, c, h, wd := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	o, cg, kh, kw := w.shape[0], w.shape[1], w.shape[2], w.shape[3]
	og := o / groups
	oh := (h+2*ph-dh*(kh-1)-1)/sh + 1
	ow := (wd+2*pw-dw*(kw-1)-1)/sw + 1
	out := make([]float64, n*o*oh*ow)
	for in := 0; in < n; in++ {
		for oc := 0; oc < o; oc++ {
			g := oc / og
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					var s float64
					if b != nil {
						s = float64(b.data[oc])
					}
					for ci := 0; ci < cg; ci++ {
						for ki := 0; ki < kh; ki++ {
							for kj := 0; kj < kw; kj++ {
								y, xx := i*sh-ph+ki*dh, j*sw-pw+kj*dw
								if y < 0 || y >= h || xx < 0 || xx >= wd {
									continue
								}
								xv := float64(x.data[((in*c+g*cg+ci)*h+y)*wd+xx])
								wv := float64(w.data[((oc*cg+ci)*kh+ki)*kw+kj])
								s += xv * wv
							}
						}
					}
					out[((in*o+oc)*oh+i)*ow+j] = s
				}
			}
		}
	}
	return out, []int{n, o, oh, ow}
}

func toF32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func TestConv2dHandComputed(t *testing.T) {
	img := New([]float32{1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3)
	k := New([]float32{1, 2, 3, 4}, 1, 1, 2, 2)
	// Two channels: 1..9 and 9..1, one 2×2 filter each (groups 2).
	img2 := New([]float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 1, 2, 3, 3)
	k2 := New([]float32{1, 2, 3, 4, 1, 0, 0, -1}, 2, 1, 2, 2)
	cases := []struct {
		name    string
		x, w, b *Tensor
		opt     Conv2dOptions
		want    []float32
		shape   []int
	}{
		{"valid", img, k, nil, Conv2dOptions{}, []float32{37, 47, 67, 77}, []int{1, 1, 2, 2}},
		{"bias", img, k, New([]float32{-7}, 1), Conv2dOptions{}, []float32{30, 40, 60, 70}, []int{1, 1, 2, 2}},
		{"padding 1", img, k, nil, Conv2dOptions{Padding: [2]int{1, 1}}, []float32{
			4, 11, 18, 9,
			18, 37, 47, 21,
			36, 67, 77, 33,
			14, 23, 26, 9}, []int{1, 1, 4, 4}},
		{"padding 1 stride 2", img, k, nil, Conv2dOptions{Padding: [2]int{1, 1}, Stride: [2]int{2, 2}}, []float32{4, 18, 36, 77}, []int{1, 1, 2, 2}},
		{"dilation 2", img, k, nil, Conv2dOptions{Dilation: [2]int{2, 2}}, []float32{1 + 3*2 + 7*3 + 9*4}, []int{1, 1, 1, 1}},
		{"padding only in width", img, k, nil, Conv2dOptions{Padding: [2]int{0, 1}}, []float32{
			18, 37, 47, 21,
			36, 67, 77, 33}, []int{1, 1, 2, 4}},
		{"groups 2 with bias", img2, k2, New([]float32{0.5, -1}, 2), Conv2dOptions{Groups: 2}, []float32{
			37.5, 47.5, 67.5, 77.5,
			3, 3, 3, 3}, []int{1, 2, 2, 2}},
		{"unbatched", New(img.data, 1, 3, 3), k, nil, Conv2dOptions{}, []float32{37, 47, 67, 77}, []int{1, 2, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assertClose(t, c.name, Conv2d(c.x, c.w, c.b, c.opt), c.want, c.shape, 1e-6)
		})
	}
}

func TestConv2dMatchesDirectReference(t *testing.T) {
	cases := []struct {
		name   string
		x, w   []int
		bias   bool
		opt    Conv2dOptions
		colLim int // 0: default; otherwise forces chunks of images
	}{
		{"lenet-like", []int{3, 2, 9, 8}, []int{4, 2, 3, 3}, true, Conv2dOptions{}, 0},
		{"stride padding", []int{2, 3, 7, 6}, []int{5, 3, 3, 2}, true, Conv2dOptions{Stride: [2]int{2, 3}, Padding: [2]int{1, 2}}, 0},
		{"dilation", []int{2, 2, 9, 10}, []int{3, 2, 3, 3}, false, Conv2dOptions{Dilation: [2]int{2, 3}, Padding: [2]int{2, 1}}, 0},
		{"groups", []int{2, 6, 5, 5}, []int{9, 2, 3, 3}, true, Conv2dOptions{Groups: 3, Padding: [2]int{1, 1}}, 0},
		{"depthwise strided", []int{2, 4, 8, 8}, []int{4, 1, 3, 3}, false, Conv2dOptions{Groups: 4, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}, 0},
		{"1x1", []int{3, 5, 4, 4}, []int{2, 5, 1, 1}, true, Conv2dOptions{}, 0},
		{"patchify", []int{2, 3, 8, 8}, []int{4, 3, 4, 4}, true, Conv2dOptions{Stride: [2]int{4, 4}}, 0},
		{"stride > kernel", []int{1, 1, 9, 9}, []int{1, 1, 2, 2}, false, Conv2dOptions{Stride: [2]int{4, 3}, Padding: [2]int{1, 0}}, 0},
		{"one image per chunk", []int{3, 2, 6, 6}, []int{4, 2, 3, 3}, true, Conv2dOptions{Padding: [2]int{1, 1}}, 1},
		{"partial last chunk", []int{5, 4, 6, 5}, []int{6, 2, 3, 2}, true, Conv2dOptions{Groups: 2, Stride: [2]int{2, 1}}, 2 * 2 * 3 * 2 * 3 * 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.colLim != 0 {
				old := convColLimit
				convColLimit = c.colLim
				defer func() { convColLimit = old }()
			}
			x, w := seq(c.x...), positive(c.w...).AddScalar(-1.2).Detach()
			var b *Tensor
			if c.bias {
				b = seq(c.w[0])
			}
			want, shape := convRefDirect(x, w, b, c.opt)
			assertClose(t, c.name, Conv2d(x, w, b, c.opt), toF32(want), shape, 1e-5)
		})
	}
}

func TestGradientsConv(t *testing.T) {
	conv := func(opt Conv2dOptions) func(in ...*Tensor) *Tensor {
		return func(in ...*Tensor) *Tensor {
			var b *Tensor
			if len(in) > 2 {
				b = in[2]
			}
			return Conv2d(in[0], in[1], b, opt)
		}
	}
	chunked := func(limit int, opt Conv2dOptions) func(in ...*Tensor) *Tensor {
		return func(in ...*Tensor) *Tensor {
			old := convColLimit
			convColLimit = limit
			defer func() { convColLimit = old }()
			return conv(opt)(in...)
		}
	}
	// rebuilt makes backward rebuild the columns instead of keeping them.
	rebuilt := func(colLimit int, opt Conv2dOptions) func(in ...*Tensor) *Tensor {
		return func(in ...*Tensor) *Tensor {
			old := convKeepLimit
			convKeepLimit = 0
			defer func() { convKeepLimit = old }()
			return chunked(colLimit, opt)(in...)
		}
	}
	runGradCases(t, []gradCase{
		{"plain with bias", []*Tensor{seq(2, 2, 5, 4), seq(3, 2, 3, 2), seq(3)}, conv(Conv2dOptions{})},
		{"no bias", []*Tensor{seq(2, 2, 4, 4), seq(3, 2, 2, 2)}, conv(Conv2dOptions{})},
		{"stride", []*Tensor{seq(1, 2, 7, 6), seq(2, 2, 3, 3), seq(2)}, conv(Conv2dOptions{Stride: [2]int{2, 3}})},
		{"padding", []*Tensor{seq(2, 1, 4, 5), seq(2, 1, 3, 3), seq(2)}, conv(Conv2dOptions{Padding: [2]int{1, 2}})},
		{"dilation", []*Tensor{seq(1, 2, 7, 7), seq(2, 2, 2, 3)}, conv(Conv2dOptions{Dilation: [2]int{3, 2}})},
		{"groups", []*Tensor{seq(2, 4, 4, 4), seq(6, 2, 2, 2), seq(6)}, conv(Conv2dOptions{Groups: 2})},
		{"everything", []*Tensor{seq(2, 4, 6, 7), seq(4, 2, 3, 2), seq(4)},
			conv(Conv2dOptions{Stride: [2]int{2, 1}, Padding: [2]int{1, 1}, Dilation: [2]int{1, 2}, Groups: 2})},
		{"depthwise", []*Tensor{seq(1, 3, 5, 5), seq(3, 1, 3, 3)}, conv(Conv2dOptions{Groups: 3, Padding: [2]int{1, 1}})},
		{"input without grad", []*Tensor{seq(2, 1, 5, 5).SetRequiresGrad(false), seq(2, 1, 3, 3), seq(2)}, conv(Conv2dOptions{})},
		{"weight without grad", []*Tensor{seq(2, 2, 5, 5), seq(2, 2, 3, 3).SetRequiresGrad(false)}, conv(Conv2dOptions{Padding: [2]int{1, 1}})},
		{"unbatched", []*Tensor{seq(2, 4, 4), seq(3, 2, 2, 2), seq(3)}, conv(Conv2dOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}})},
		{"chunked by image", []*Tensor{seq(3, 2, 4, 4), seq(2, 2, 3, 3), seq(2)}, chunked(1, Conv2dOptions{Padding: [2]int{1, 1}})},
		{"rebuilt columns", []*Tensor{seq(2, 4, 5, 5), seq(4, 2, 3, 3), seq(4)},
			rebuilt(1<<20, Conv2dOptions{Groups: 2, Padding: [2]int{1, 0}, Stride: [2]int{1, 2}})},
		{"rebuilt columns chunked", []*Tensor{seq(3, 4, 5, 5), seq(4, 2, 3, 3)},
			rebuilt(1, Conv2dOptions{Groups: 2, Dilation: [2]int{2, 1}})},
	})
}

func TestConv2dBackwardTwiceAccumulates(t *testing.T) {
	x, w, b := seq(2, 2, 5, 5), seq(3, 2, 3, 3), seq(3)
	y := Conv2d(x, w, b, Conv2dOptions{Padding: [2]int{1, 1}})
	g := seq(y.shape...).Detach()
	y.BackwardWith(g)
	once := []*Tensor{x.Grad().Clone(), w.Grad().Clone(), b.Grad().Clone()}
	y.BackwardWith(g) // the kept columns were released: this rebuilds them
	for i, p := range []*Tensor{x, w, b} {
		want := once[i].Scale(2)
		assertClose(t, "twice", p.Grad(), want.data, want.shape, 1e-6)
	}
}

func TestConv2dErrors(t *testing.T) {
	cases := []struct {
		want string
		f    func()
	}{
		{"conv2d: input (8,3,28,28) has 3 channels but weight (6,1,5,5) expects 1 (groups 1)",
			func() { Conv2d(Zeros(8, 3, 28, 28), Zeros(6, 1, 5, 5), nil, Conv2dOptions{}) }},
		{"conv2d: input (8,4,28,28) has 4 channels but weight (6,1,5,5) expects 2 (groups 2)",
			func() { Conv2d(Zeros(8, 4, 28, 28), Zeros(6, 1, 5, 5), nil, Conv2dOptions{Groups: 2}) }},
		{"conv2d: input (1,3,8,8) has 3 channels, which groups 2 does not divide",
			func() { Conv2d(Zeros(1, 3, 8, 8), Zeros(4, 1, 3, 3), nil, Conv2dOptions{Groups: 2}) }},
		{"conv2d: weight (5,2,3,3) has 5 output channels, which groups 2 does not divide",
			func() { Conv2d(Zeros(1, 4, 8, 8), Zeros(5, 2, 3, 3), nil, Conv2dOptions{Groups: 2}) }},
		{"conv2d: input (1,1,3,3) is too small: size 3×3 with padding (0,0) is smaller than kernel 5×5 with dilation (1,1) (stride (1,1))",
			func() { Conv2d(Zeros(1, 1, 3, 3), Zeros(1, 1, 5, 5), nil, Conv2dOptions{}) }},
		{"conv2d: input (1,1,4,4) is too small: size 4×4 with padding (0,0) is smaller than kernel 3×3 with dilation (2,2) (stride (2,2))",
			func() {
				Conv2d(Zeros(1, 1, 4, 4), Zeros(1, 1, 3, 3), nil, Conv2dOptions{Dilation: [2]int{2, 2}, Stride: [2]int{2, 2}})
			}},
		{"conv2d: bias (4) does not match weight (3,1,3,3) (want (3))",
			func() { Conv2d(Zeros(1, 1, 4, 4), Zeros(3, 1, 3, 3), Zeros(4), Conv2dOptions{}) }},
		{"conv2d: input (16) must be 4-D (N,C,H,W) or 3-D (C,H,W)",
			func() { Conv2d(Zeros(16), Zeros(3, 1, 3, 3), nil, Conv2dOptions{}) }},
		{"conv2d: weight (3,9) must be 4-D",
			func() { Conv2d(Zeros(1, 1, 4, 4), Zeros(3, 9), nil, Conv2dOptions{}) }},
		{"conv2d: stride must be at least 1, got (-1,1)",
			func() { Conv2d(Zeros(1, 1, 4, 4), Zeros(3, 1, 3, 3), nil, Conv2dOptions{Stride: [2]int{-1, 1}}) }},
		{"conv2d: padding must be at least 0, got (0,-2)",
			func() { Conv2d(Zeros(1, 1, 4, 4), Zeros(3, 1, 3, 3), nil, Conv2dOptions{Padding: [2]int{0, -2}}) }},
		{"conv2d: groups must be positive, got -2",
			func() { Conv2d(Zeros(1, 2, 4, 4), Zeros(2, 1, 3, 3), nil, Conv2dOptions{Groups: -2}) }},
	}
	for _, c := range cases {
		expectPanic(t, c.want, c.f)
	}
}

// BenchmarkConv2dLeNet runs LeNet-5's two convolutions on a batch of 64,
// forward and backward: 1→6 channels 5×5 on 28×28 (the input needs no
// gradient) and 6→16 channels 5×5 on 12×12 (the input does).
func BenchmarkConv2dLeNet(b *testing.B) {
	r := NewRNG(1)
	x1 := Randn(r, 64, 1, 28, 28)
	w1, b1 := Randn(r, 6, 1, 5, 5).Scale(0.2).Detach().SetRequiresGrad(true), Zeros(6).SetRequiresGrad(true)
	x2 := Randn(r, 64, 6, 12, 12).SetRequiresGrad(true)
	w2, b2 := Randn(r, 16, 6, 5, 5).Scale(0.08).Detach().SetRequiresGrad(true), Zeros(16).SetRequiresGrad(true)
	g1, g2 := Ones(64, 6, 24, 24), Ones(64, 16, 8, 8)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Conv2d(x1, w1, b1, Conv2dOptions{}).BackwardWith(g1)
		Conv2d(x2, w2, b2, Conv2dOptions{}).BackwardWith(g2)
	}
}

// BenchmarkConv2dShapes times forward+backward of a few common layer shapes.
func BenchmarkConv2dShapes(b *testing.B) {
	for _, c := range []struct {
		n, c, h, o, k int
		opt           Conv2dOptions
	}{
		{32, 16, 32, 32, 3, Conv2dOptions{Padding: [2]int{1, 1}}},
		{32, 64, 16, 64, 3, Conv2dOptions{Padding: [2]int{1, 1}}},
		{32, 64, 16, 128, 1, Conv2dOptions{}},
		{8, 3, 224, 96, 16, Conv2dOptions{Stride: [2]int{16, 16}}},
	} {
		b.Run(fmt.Sprintf("n%d_c%d_%dx%d_o%d_k%d", c.n, c.c, c.h, c.h, c.o, c.k), func(b *testing.B) {
			r := NewRNG(1)
			x := Randn(r, c.n, c.c, c.h, c.h).SetRequiresGrad(true)
			w := Randn(r, c.o, c.c, c.k, c.k).Scale(float32(1 / math.Sqrt(float64(c.c*c.k*c.k)))).Detach().SetRequiresGrad(true)
			bias := Zeros(c.o).SetRequiresGrad(true)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				Conv2d(x, w, bias, c.opt).Sum().Backward()
			}
		})
	}
}

// checkParallelMatchesSerial runs f forward and backward with GOMAXPROCS 1 and
// 4 (so the helpers split work across goroutines even on a small machine) and
// compares the outputs and gradients.
func checkParallelMatchesSerial(t *testing.T, name string, f func(in ...*Tensor) *Tensor, inputs ...*Tensor) {
	t.Helper()
	run := func(procs int) []*Tensor {
		old := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(old)
		for _, in := range inputs {
			in.SetGrad(nil)
		}
		y := f(inputs...)
		y.BackwardWith(seq(y.shape...).Detach())
		res := []*Tensor{y.Detach()}
		for _, in := range inputs {
			if in.RequiresGrad() {
				res = append(res, in.Grad().Clone())
			}
		}
		return res
	}
	serial, parallel := run(1), run(4)
	for i := range serial {
		assertClose(t, fmt.Sprintf("%s: result %d", name, i), parallel[i], serial[i].data, serial[i].shape, 1e-5)
	}
}

func TestConv2dParallelMatchesSerial(t *testing.T) {
	conv := func(opt Conv2dOptions) func(in ...*Tensor) *Tensor {
		return func(in ...*Tensor) *Tensor { return Conv2d(in[0], in[1], in[2], opt) }
	}
	checkParallelMatchesSerial(t, "conv", conv(Conv2dOptions{Padding: [2]int{1, 1}}), seq(16, 4, 16, 16), seq(8, 4, 3, 3), seq(8))
	checkParallelMatchesSerial(t, "conv strided groups", conv(Conv2dOptions{Stride: [2]int{2, 2}, Groups: 2}), seq(16, 4, 17, 16), seq(6, 2, 3, 3), seq(6))
	x := seq(16, 4, 16, 16)
	want, shape := convRefDirect(x, seq(8, 4, 3, 3), nil, Conv2dOptions{Padding: [2]int{1, 1}})
	assertClose(t, "large vs reference", Conv2d(x, seq(8, 4, 3, 3), nil, Conv2dOptions{Padding: [2]int{1, 1}}), toF32(want), shape, 1e-5)
}
