package tensor

import (
	"fmt"
	"math"
	"testing"

	"github.com/graftml/graft/tensor/gemm"
)

// sameBits fails the test unless got and want hold the same float32 bits.
func sameBits(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: element %d = %v, want %v", name, i, got[i], want[i])
		}
	}
}

// LinearReLU gives Linear followed by ReLU bit for bit, forward and backward,
// on every GEMM backend, for edge-tile and split shapes, with and without a
// bias, and matches a float64 reference within float32 rounding.
func TestLinearReLUEqualsLinearThenReLU(t *testing.T) {
	shapes := []struct {
		x   []int
		out int
	}{
		{[]int{1, 1}, 1}, {[]int{2, 3, 5}, 7}, {[]int{13, 29}, 17}, {[]int{64, 257}, 33}, {[]int{128, 784}, 256}, {[]int{7, 600}, 5},
	}
	for _, name := range gemm.Available() {
		be, _ := gemm.ByName(name)
		prev := gemm.Set(be)
		for si, sh := range shapes {
			for _, withBias := range []bool{true, false} {
				r := NewRNG(uint64(10*si + 1))
				in := sh.x[len(sh.x)-1]
				x0, w0, b0 := Randn(r, sh.x...), Randn(r, sh.out, in), Randn(r, sh.out)
				outShape := append(append([]int(nil), sh.x[:len(sh.x)-1]...), sh.out)
				g := Randn(r, outShape...)
				for i := 0; i < len(g.data); i += 7 {
					g.data[i] = float32(math.Copysign(0, float64(-1))) // −0 gradients keep their sign through the mask as in ReLU's
				}
				params := func() (x, w, b *Tensor) {
					x, w = x0.Detach().Clone().SetRequiresGrad(true), w0.Detach().Clone().SetRequiresGrad(true)
					if withBias {
						b = b0.Detach().Clone().SetRequiresGrad(true)
					}
					return
				}
				label := fmt.Sprintf("%s x%v out %d bias %v", name, sh.x, sh.out, withBias)
				x1, w1, b1 := params()
				want := Linear(x1, w1, b1).ReLU()
				want.BackwardWith(g)
				x2, w2, b2 := params()
				got := LinearReLU(x2, w2, b2)
				sameBits(t, label+" forward", got.data, want.data)
				got.BackwardWith(g)
				sameBits(t, label+" dx", x2.grad, x1.grad)
				sameBits(t, label+" dw", w2.grad, w1.grad)
				if withBias {
					sameBits(t, label+" db", b2.grad, b1.grad)
				}
				// float64 reference of max(0, x·wᵀ + b).
				rows := len(x0.data) / in
				for i := 0; i < rows; i++ {
					for j := 0; j < sh.out; j++ {
						var s, mag float64
						if withBias {
							s, mag = float64(b0.data[j]), math.Abs(float64(b0.data[j]))
						}
						for p := 0; p < in; p++ {
							v := float64(x0.data[i*in+p]) * float64(w0.data[j*in+p])
							s += v
							mag += math.Abs(v)
						}
						ref := math.Max(s, 0)
						if d := math.Abs(float64(got.data[i*sh.out+j]) - ref); d > 2*float64(in+3)*mag/(1<<24)+1e-30 {
							t.Fatalf("%s: y[%d,%d] = %v, want %v", label, i, j, got.data[i*sh.out+j], ref)
						}
					}
				}
			}
		}
		gemm.Set(prev)
	}
}

func TestLinearReLUGradCheck(t *testing.T) {
	r := NewRNG(3)
	for _, c := range []struct {
		name   string
		inputs []*Tensor
	}{
		{"bias", []*Tensor{Randn(r, 2, 3, 4).SetRequiresGrad(true), Randn(r, 5, 4).SetRequiresGrad(true), Randn(r, 5).SetRequiresGrad(true)}},
		{"no bias", []*Tensor{Randn(r, 3, 4).SetRequiresGrad(true), Randn(r, 5, 4).SetRequiresGrad(true)}},
	} {
		f := func(in ...*Tensor) *Tensor {
			var b *Tensor
			if len(in) > 2 {
				b = in[2]
			}
			return LinearReLU(in[0], in[1], b)
		}
		if err := GradCheck(f, c.inputs, GradCheckOptions{}); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestLinearReLUShapeErrors(t *testing.T) {
	expectPanic(t, "linear_relu: input (4,3) and weight (2,5)", func() { LinearReLU(Zeros(4, 3), Zeros(2, 5), nil) })
	expectPanic(t, "linear_relu: bias (3) does not match weight (2,5)", func() { LinearReLU(Zeros(4, 5), Zeros(2, 5), Zeros(3)) })
}

func BenchmarkLinearReLU(b *testing.B) {
	r := NewRNG(1)
	x, w, bias := Randn(r, 128, 784), Randn(r, 256, 784), Randn(r, 256)
	b.Run("fused", func(b *testing.B) {
		for b.Loop() {
			LinearReLU(x, w, bias)
		}
	})
	b.Run("separate", func(b *testing.B) {
		for b.Loop() {
			Linear(x, w, bias).ReLU()
		}
	})
}
