package tensor

import (
	"math"
	"slices"
	"testing"
)

func TestPoolHandComputed(t *testing.T) {
	x := Arange(1, 17, 1).Reshape(1, 1, 4, 4) // rows 1..4, 5..8, 9..12, 13..16
	neg := x.Neg()
	k := func(h, w int) [2]int { return [2]int{h, w} }
	cases := []struct {
		name  string
		got   *Tensor
		want  []float32
		shape []int
	}{
		{"max 2x2", MaxPool2d(x, PoolOptions{Kernel: k(2, 2)}), []float32{6, 8, 14, 16}, []int{1, 1, 2, 2}},
		// Padding is −∞: with all-negative input a padded window's max is a real value.
		{"max 3x3 stride 2 pad 1", MaxPool2d(neg, PoolOptions{Kernel: k(3, 3), Stride: k(2, 2), Padding: k(1, 1)}), []float32{-1, -2, -5, -6}, []int{1, 1, 2, 2}},
		{"max stride 1 overlapping", MaxPool2d(x, PoolOptions{Kernel: k(3, 3), Stride: k(1, 1)}), []float32{11, 12, 15, 16}, []int{1, 1, 2, 2}},
		{"max 1x4 rectangular", MaxPool2d(neg, PoolOptions{Kernel: k(1, 4)}), []float32{-1, -5, -9, -13}, []int{1, 1, 4, 1}},
		{"max NaN propagates", MaxPool2d(New([]float32{1, float32(math.NaN()), 3, 4}, 1, 1, 2, 2), PoolOptions{Kernel: k(2, 2)}), nil, []int{1, 1, 1, 1}},
		{"avg 2x2", AvgPool2d(x, PoolOptions{Kernel: k(2, 2)}), []float32{3.5, 5.5, 11.5, 13.5}, []int{1, 1, 2, 2}},
		// count_include_pad: every window divides by 9.
		{"avg 3x3 stride 2 pad 1", AvgPool2d(x, PoolOptions{Kernel: k(3, 3), Stride: k(2, 2), Padding: k(1, 1)}), []float32{14.0 / 9, 30.0 / 9, 57.0 / 9, 11}, []int{1, 1, 2, 2}},
		{"avg 2x1 pad (1,0)", AvgPool2d(x, PoolOptions{Kernel: k(2, 1), Padding: k(1, 0)}), []float32{0.5, 1, 1.5, 2, 7, 8, 9, 10, 6.5, 7, 7.5, 8}, []int{1, 1, 3, 4}},
		{"adaptive 4x4 to 3x3", AdaptiveAvgPool2d(x, 3, 3), []float32{3.5, 4.5, 5.5, 7.5, 8.5, 9.5, 11.5, 12.5, 13.5}, []int{1, 1, 3, 3}},
		{"adaptive 4x4 to 1x1", AdaptiveAvgPool2d(x, 1, 1), []float32{8.5}, []int{1, 1, 1, 1}},
		{"adaptive 4x4 to 2x4", AdaptiveAvgPool2d(x, 2, 4), []float32{3, 4, 5, 6, 11, 12, 13, 14}, []int{1, 1, 2, 4}},
		// 5 → 2: windows [0,3) and [2,5) overlap at index 2.
		{"adaptive 1x5 to 1x2", AdaptiveAvgPool2d(New([]float32{1, 2, 3, 4, 5}, 1, 1, 5), 1, 2), []float32{2, 4}, []int{1, 1, 2}},
		{"adaptive upsamples 2x2 to 3x3", AdaptiveAvgPool2d(New([]float32{1, 2, 3, 4}, 1, 1, 2, 2), 3, 3), []float32{1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4}, []int{1, 1, 3, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.want == nil {
				if !slices.Equal(c.got.shape, c.shape) || !math.IsNaN(float64(c.got.data[0])) {
					t.Fatalf("got %v", c.got)
				}
				return
			}
			assertClose(t, c.name, c.got, c.want, c.shape, 1e-6)
		})
	}
}

func TestPoolMultiChannelAndGradientRouting(t *testing.T) {
	// Two images × two channels; each plane pooled independently.
	x := Arange(0, 32, 1).Reshape(2, 2, 2, 4).Detach().SetRequiresGrad(true)
	y := MaxPool2d(x, PoolOptions{Kernel: [2]int{2, 2}})
	assertClose(t, "planes", y, []float32{5, 7, 13, 15, 21, 23, 29, 31}, []int{2, 2, 1, 2}, 0)
	// Ties: the gradient goes to the first maximum of the window only.
	z := New([]float32{2, 2, 2, 2}, 1, 1, 2, 2).SetRequiresGrad(true)
	MaxPool2d(z, PoolOptions{Kernel: [2]int{2, 2}}).Sum().Backward()
	assertClose(t, "tie grad", z.Grad(), []float32{1, 0, 0, 0}, []int{1, 1, 2, 2}, 0)
	// Overlapping windows accumulate.
	w := New([]float32{1, 9, 1, 1, 1, 1}, 1, 1, 1, 6).SetRequiresGrad(true)
	MaxPool2d(w, PoolOptions{Kernel: [2]int{1, 3}, Stride: [2]int{1, 1}}).Sum().Backward()
	assertClose(t, "overlap grad", w.Grad(), []float32{0, 2, 1, 1, 0, 0}, []int{1, 1, 1, 6}, 0)
}

func TestGradientsPool(t *testing.T) {
	k := func(h, w int) [2]int { return [2]int{h, w} }
	runGradCases(t, []gradCase{
		{"max 2x2", []*Tensor{seq(2, 3, 4, 6)}, func(in ...*Tensor) *Tensor { return MaxPool2d(in[0], PoolOptions{Kernel: k(2, 2)}) }},
		{"max 3x3 stride 2 pad 1", []*Tensor{seq(2, 2, 5, 6)}, func(in ...*Tensor) *Tensor {
			return MaxPool2d(in[0], PoolOptions{Kernel: k(3, 3), Stride: k(2, 2), Padding: k(1, 1)})
		}},
		{"max overlapping rect", []*Tensor{seq(1, 2, 5, 7)}, func(in ...*Tensor) *Tensor {
			return MaxPool2d(in[0], PoolOptions{Kernel: k(2, 3), Stride: k(1, 2), Padding: k(1, 0)})
		}},
		{"max unbatched", []*Tensor{seq(3, 4, 4)}, func(in ...*Tensor) *Tensor { return MaxPool2d(in[0], PoolOptions{Kernel: k(2, 2)}) }},
		{"avg 2x2", []*Tensor{seq(2, 3, 4, 6)}, func(in ...*Tensor) *Tensor { return AvgPool2d(in[0], PoolOptions{Kernel: k(2, 2)}) }},
		{"avg 3x3 stride 2 pad 1", []*Tensor{seq(2, 2, 5, 6)}, func(in ...*Tensor) *Tensor {
			return AvgPool2d(in[0], PoolOptions{Kernel: k(3, 3), Stride: k(2, 2), Padding: k(1, 1)})
		}},
		{"avg overlapping rect", []*Tensor{seq(1, 2, 5, 7)}, func(in ...*Tensor) *Tensor {
			return AvgPool2d(in[0], PoolOptions{Kernel: k(2, 3), Stride: k(1, 2), Padding: k(1, 1)})
		}},
		{"adaptive down", []*Tensor{seq(2, 2, 7, 5)}, func(in ...*Tensor) *Tensor { return AdaptiveAvgPool2d(in[0], 3, 2) }},
		{"adaptive up", []*Tensor{seq(1, 2, 3, 2)}, func(in ...*Tensor) *Tensor { return AdaptiveAvgPool2d(in[0], 4, 5) }},
		{"adaptive global", []*Tensor{seq(2, 3, 4, 4)}, func(in ...*Tensor) *Tensor { return AdaptiveAvgPool2d(in[0], 1, 1) }},
	})
}

func TestPoolErrors(t *testing.T) {
	cases := []struct {
		want string
		f    func()
	}{
		{"max_pool2d: input (1,1,2,2) is too small: size 2×2 with padding (0,0) is smaller than kernel 3×3 (stride (3,3))",
			func() { MaxPool2d(Zeros(1, 1, 2, 2), PoolOptions{Kernel: [2]int{3, 3}}) }},
		{"avg_pool2d: padding (2,0) should be at most half of kernel size (3,3)",
			func() { AvgPool2d(Zeros(1, 1, 8, 8), PoolOptions{Kernel: [2]int{3, 3}, Padding: [2]int{2, 0}}) }},
		{"max_pool2d: kernel size must be positive, got (0,2)",
			func() { MaxPool2d(Zeros(1, 1, 8, 8), PoolOptions{Kernel: [2]int{0, 2}}) }},
		{"avg_pool2d: input (8,8) must be 4-D (N,C,H,W) or 3-D (C,H,W)",
			func() { AvgPool2d(Zeros(8, 8), PoolOptions{Kernel: [2]int{2, 2}}) }},
		{"max_pool2d: stride must be at least 0, got (-1,1)",
			func() { MaxPool2d(Zeros(1, 1, 8, 8), PoolOptions{Kernel: [2]int{2, 2}, Stride: [2]int{-1, 1}}) }},
		{"adaptive_avg_pool2d: output size must be positive, got (0,3)",
			func() { AdaptiveAvgPool2d(Zeros(1, 1, 8, 8), 0, 3) }},
		{"adaptive_avg_pool2d: input (1,1,0,8) has an empty spatial dimension",
			func() { AdaptiveAvgPool2d(Zeros(1, 1, 0, 8), 2, 2) }},
	}
	for _, c := range cases {
		expectPanic(t, c.want, c.f)
	}
}

func TestPoolParallelMatchesSerial(t *testing.T) {
	opt := PoolOptions{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}
	checkParallelMatchesSerial(t, "max", func(in ...*Tensor) *Tensor { return MaxPool2d(in[0], opt) }, seq(16, 8, 24, 24))
	checkParallelMatchesSerial(t, "avg", func(in ...*Tensor) *Tensor { return AvgPool2d(in[0], opt) }, seq(16, 8, 24, 24))
	checkParallelMatchesSerial(t, "adaptive", func(in ...*Tensor) *Tensor { return AdaptiveAvgPool2d(in[0], 3, 5) }, seq(16, 8, 24, 24))
}
