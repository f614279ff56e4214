package tensor

import (
	"math"
	"testing"

	"github.com/graftml/graft/tensor/internal/vexp"
)

// activationCase is a smooth activation with its float64 definition and
// derivative.
type activationCase struct {
	name string
	f    func(*Tensor) *Tensor
	ref  func(x float64) float64
	// dref returns the derivative and a scale for its error bound: the sum
	// of the magnitudes of its terms (so cancelling terms, as in GELU's near
	// its minimum, are judged by the size of what cancelled).
	dref func(x float64) (d, scale float64)
}

func sigmoid64(v float64) float64 {
	if v >= 0 {
		return 1 / (1 + math.Exp(-v))
	}
	return math.Exp(v) / (1 + math.Exp(v))
}

// gatedCase is x·σ(αx + βx³) with its derivative.
func gatedCase(name string, f func(*Tensor) *Tensor, alpha, beta float64) activationCase {
	arg := func(x float64) float64 {
		if beta == 0 {
			return alpha * x
		}
		return x * (alpha + beta*x*x)
	}
	return activationCase{name, f,
		func(x float64) float64 { return x * sigmoid64(arg(x)) },
		func(x float64) (float64, float64) {
			v := arg(x)
			s, sc := sigmoid64(v), sigmoid64(-v)
			term := x * s * sc * (alpha + 3*beta*x*x)
			return s + term, s + math.Abs(term)
		}}
}

func activationCases() []activationCase {
	const c = 0.7978845608028654 // √(2/π)
	phi := func(x float64) float64 { return math.Exp(-x*x/2) / math.Sqrt(2*math.Pi) }
	cdf := func(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }
	return []activationCase{
		{"tanh", (*Tensor).Tanh, math.Tanh, func(x float64) (float64, float64) {
			th := math.Tanh(x)
			return 1 - th*th, 1
		}},
		gatedCase("silu", (*Tensor).SiLU, 1, 0),
		gatedCase("quick_gelu", (*Tensor).QuickGELU, 1.702, 0),
		// The tanh form as PyTorch defines it, 0.5·x·(1 + tanh(u)), written
		// without tanh's cancellation at −1.
		gatedCase("gelu_tanh", (*Tensor).GELUTanh, 2*c, 2*c*0.044715),
		{"gelu", (*Tensor).GELU, func(x float64) float64 { return x * cdf(x) }, func(x float64) (float64, float64) {
			return cdf(x) + x*phi(x), cdf(x) + math.Abs(x*phi(x))
		}},
	}
}

// activationInputs sweeps [−20, 20] finely, adds wide magnitudes from 1e-38
// to 1e30 of both signs, and the special values.
func activationInputs() []float32 {
	var xs []float32
	const n = 400_000
	for i := 0; i <= n; i++ {
		xs = append(xs, float32(-20+40*float64(i)/n))
	}
	for e := -38.0; e <= 30; e += 0.01 {
		v := float32(math.Pow(10, e))
		xs = append(xs, v, -v)
	}
	return append(xs, 0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), math.SmallestNonzeroFloat32, math.MaxFloat32, -math.MaxFloat32)
}

// TestSmoothActivationsAgreeWithFloat64 checks every smooth activation
// against its float64 definition: within 4 ulp (GELU: 6 ulp, as its erfc fit
// contributes one) for every result above 1e-30 in magnitude, within 1e-36
// absolutely below, NaN and infinities where the definition has them; and the
// gradient within 2⁻²⁰ of the magnitude of its terms.
func TestSmoothActivationsAgreeWithFloat64(t *testing.T) {
	xs := activationInputs()
	x := New(xs, len(xs)).SetRequiresGrad(true)
	for _, c := range activationCases() {
		y := c.f(x)
		y.Sum().Backward()
		grad := x.Grad().Data()
		var worst, worstX float64
		bound := 4.0
		if c.name == "gelu" {
			bound = 6
		}
		for i, v := range xs {
			want := c.ref(float64(v))
			got := y.Data()[i]
			if math.Abs(want) < 1e-30 && !math.IsNaN(want) {
				if math.Abs(float64(got)-want) > 1e-36 {
					t.Errorf("%s(%g) = %g, want %g", c.name, v, got, want)
				}
				continue
			}
			e := vexp.ULPError(got, want)
			if e > worst {
				worst, worstX = e, float64(v)
			}
			if e > bound {
				t.Errorf("%s(%g) = %g, want %g (%.2f ulp)", c.name, v, got, want, e)
			}
			if math.IsInf(float64(v), 0) || math.IsNaN(float64(v)) || math.Abs(float64(v)) > 1e15 {
				continue // the float64 derivative overflows or is NaN as x³ or x·φ do
			}
			d, scale := c.dref(float64(v))
			if diff := math.Abs(float64(grad[i]) - d); diff > 0x1p-20*scale+1e-37 {
				t.Errorf("%s'(%g) = %g, want %g (scale %g)", c.name, v, grad[i], d, scale)
			}
		}
		t.Logf("%s: worst %.2f ulp at %g", c.name, worst, worstX)
		x.ZeroGrad()
		if t.Failed() {
			return
		}
	}
}

// TestSmoothActivationsSpecialValues pins the values PyTorch gives at the
// edges: odd symmetry of tanh, signed zeros, saturation, NaN propagation.
func TestSmoothActivationsSpecialValues(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	negZero := float32(math.Copysign(0, -1))
	x := New([]float32{negZero, inf, -inf, nan, 30, -30}, 6)
	same := func(a, b float32) bool {
		return a == b && math.Signbit(float64(a)) == math.Signbit(float64(b)) || a != a && b != b
	}
	for _, c := range []struct {
		name string
		y    *Tensor
		want []float32
	}{
		{"tanh", x.Tanh(), []float32{negZero, 1, -1, nan, 1, -1}},
		{"silu", x.SiLU(), []float32{negZero, inf, nan, nan, 30, float32(-30 * sigmoid64(-30))}},
		{"gelu", x.GELU(), []float32{negZero, inf, nan, nan, 30, 0}},
		{"gelu_tanh", x.GELUTanh(), []float32{negZero, inf, nan, nan, 30, 0}},
	} {
		for i, w := range c.want {
			if got := c.y.Data()[i]; !same(got, w) && !(w == 0 && got == 0) {
				t.Errorf("%s(%g) = %g, want %g", c.name, x.Data()[i], got, w)
			}
		}
	}
}

// TestSmoothActivationsGradCheck checks each backward against finite
// differences on a tensor whose chunks are split across workers.
func TestSmoothActivationsGradCheck(t *testing.T) {
	r := NewRNG(7)
	x := Normal(r, 0, 2, 3, 700).SetRequiresGrad(true)
	for _, c := range activationCases() {
		if err := GradCheck(func(in ...*Tensor) *Tensor { return c.f(in[0]) }, []*Tensor{x}, GradCheckOptions{}); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
