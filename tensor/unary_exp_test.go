package tensor

import (
	"math"
	"testing"

	"github.com/graftml/graft/tensor/internal/vexp"
)

// TestExpSigmoidAccuracy sweeps Exp over the float32 range (within 2 ulp of
// math.Exp) and Sigmoid over [−120, 120] (within 4 ulp of the float64
// formula), with the infinities and NaN.
func TestExpSigmoidAccuracy(t *testing.T) {
	sweep := func(lo, hi float64, n int) *Tensor {
		x := Zeros(n + 1)
		for i := range x.data {
			x.data[i] = float32(lo + (hi-lo)*float64(i)/float64(n))
		}
		x.data = append(x.data, float32(math.Inf(-1)), float32(math.Inf(1)), float32(math.NaN()))
		x.shape = []int{len(x.data)}
		return x
	}
	sig := func(x float64) float64 {
		if x >= 0 {
			return 1 / (1 + math.Exp(-x))
		}
		return math.Exp(x) / (1 + math.Exp(x))
	}
	for _, c := range []struct {
		name  string
		x     *Tensor
		f     func(*Tensor) *Tensor
		ref   func(float64) float64
		bound float64
	}{
		{"exp", sweep(-104, 89, 200_000), (*Tensor).Exp, math.Exp, 2},
		{"sigmoid", sweep(-120, 120, 200_000), (*Tensor).Sigmoid, sig, 4},
	} {
		y := c.f(c.x)
		var worst float64
		for i, v := range c.x.data {
			if e := vexp.ULPError(y.data[i], c.ref(float64(v))); e > worst {
				worst = e
				if e > c.bound {
					t.Errorf("%s(%v) = %v, want %v", c.name, v, y.data[i], c.ref(float64(v)))
				}
			}
		}
		t.Logf("%s: worst error %.3f ulp", c.name, worst)
	}
}
