package tensor

import "testing"

// BenchmarkRowKernels times forward+backward of the row-wise kernels at the
// transformer benchmark's sizes: attention softmax over (32,4,64,64) and layer
// norm over 2048 rows of 256.
func BenchmarkRowKernels(b *testing.B) {
	r := NewRNG(1)
	att := Randn(r, 32, 4, 64, 64).SetRequiresGrad(true)
	gAtt := Randn(r, 32, 4, 64, 64)
	x := Randn(r, 2048, 256).SetRequiresGrad(true)
	w := Randn(r, 256).SetRequiresGrad(true)
	bias := Randn(r, 256).SetRequiresGrad(true)
	gx := Randn(r, 2048, 256)
	b.Run("softmax(32,4,64,64)", func(b *testing.B) {
		for b.Loop() {
			att.Softmax(-1).BackwardWith(gAtt)
		}
	})
	b.Run("logsoftmax(32,4,64,64)", func(b *testing.B) {
		for b.Loop() {
			att.LogSoftmax(-1).BackwardWith(gAtt)
		}
	})
	b.Run("softmax-axis1(32,4,64,64)", func(b *testing.B) {
		for b.Loop() {
			att.Softmax(1).BackwardWith(gAtt)
		}
	})
	b.Run("layernorm(2048,256)", func(b *testing.B) {
		for b.Loop() {
			LayerNorm(x, w, bias, 1, 1e-5).BackwardWith(gx)
		}
	})
}

// BenchmarkActivations times forward+backward of the activations on a
// (64, 3072) tensor, a transformer feed-forward block's hidden layer for 64
// tokens at GPT-2 small's width.
func BenchmarkActivations(b *testing.B) {
	r := NewRNG(1)
	x := Normal(r, 0, 2, 64, 3072).SetRequiresGrad(true)
	g := Randn(r, 64, 3072)
	for _, c := range []struct {
		name string
		f    func(*Tensor) *Tensor
	}{
		{"relu", (*Tensor).ReLU}, {"sigmoid", (*Tensor).Sigmoid}, {"tanh", (*Tensor).Tanh},
		{"silu", (*Tensor).SiLU}, {"quick_gelu", (*Tensor).QuickGELU},
		{"gelu_tanh", (*Tensor).GELUTanh}, {"gelu", (*Tensor).GELU},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				c.f(x).BackwardWith(g)
			}
		})
	}
}
