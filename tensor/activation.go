package tensor

import (
	"math"

	"github.com/graftml/graft/tensor/internal/vexp"
)

// The smooth activations — tanh, the sigmoid-gated family x·σ(αx + βx³)
// (SiLU, quick GELU and the tanh form of GELU) and the exact GELU — are
// computed a chunk of actChunk elements at a time: the exponentials of a
// chunk in one call of the vectorised exp (tensor/internal/vexp), the rest in
// float64 around it. Each stays within a few ulp of its float64 definition
// (activation_test.go), at a fraction of math.Exp's, math.Tanh's or
// math.Erf's cost per element.

// actChunk is the number of elements whose exponentials are computed
// together, in a buffer on the stack.
const actChunk = 256

// smoothActivation applies an activation whose kernels work a chunk at a
// time: fwd sets y from x, grad adds g times the derivative at x to gx (each
// chunk at most actChunk long).
func smoothActivation(op string, t *Tensor, fwd func(y, x []float32), grad func(gx, g, x []float32)) *Tensor {
	out := newOutputUninit(t.shape)
	src, dst := t.data, out.data
	parallelFor(len(src), 8, func(lo, hi int) { eachChunk(dst[lo:hi], src[lo:hi], fwd) })
	return record(op, out, func(g []float32) {
		gt := gradOf(t)
		parallelFor(len(g), 8, func(lo, hi int) {
			for c := lo; c < hi; c += actChunk {
				e := min(c+actChunk, hi)
				grad(gt[c:e], g[c:e], src[c:e])
			}
		})
	}, t)
}

// eachChunk calls f on y and x a chunk of at most actChunk elements at a
// time.
func eachChunk(y, x []float32, f func(y, x []float32)) {
	for c := 0; c < len(x); c += actChunk {
		e := min(c+actChunk, len(x))
		f(y[c:e], x[c:e])
	}
}

// expSplit returns exp(a) for a float64 argument from e = exp(float32(a)),
// the vectorised exp of its float32 rounding: exp(a) = e·exp(a − float32(a)),
// and the remainder is below 2⁻²⁴·|a|, so its exp is 1 + remainder to
// within float64 rounding. This keeps exp(−x²) and the like accurate to a
// few ulp where rounding the argument alone would cost |a|·2⁻²⁴ relative.
// a must be finite or NaN (callers clamp it): an infinite a leaves no
// remainder to take.
func expSplit(a float64, e float32) float64 {
	return float64(e) * (1 + (a - float64(float32(a))))
}

// bySign returns neg where s has its sign bit set (−0 included) and nonneg
// elsewhere, without a branch: the kernels below choose between two forms
// by the sign of random data, where a branch is mispredicted half the time.
func bySign(s, neg, nonneg float64) float64 {
	m := uint64(int64(math.Float64bits(s)) >> 63)
	return math.Float64frombits(math.Float64bits(neg)&m | math.Float64bits(nonneg)&^m)
}

// expArgLimit bounds the arguments of the exponentials below: exp(−200) is
// far below float32's least denormal, so clamping to it changes no result
// and keeps arguments finite for expSplit (NaN passes through min and max).
const expArgLimit = 200

// tanhPoly holds the coefficients of tanh(x) = x·(1 + z·P(z)), z = x², on
// |x| < tanhPolyBound: a least-squares fit at 2000 Chebyshev nodes whose
// relative error is below 7·10⁻¹⁰ there. Above the bound tanh is computed as
// (1 − e)/(1 + e) from e = exp(−2|x|), where the subtraction loses at most a
// factor 1.3 of e's error.
var tanhPoly = [...]float64{
	-0.33333333179148217, 0.13333304344306973, -0.05395941543402283,
	0.0217700166563222, -0.008347123187161997, 0.0022959740972163366,
}

const tanhPolyBound = 0.625

// tanhChunk sets y[i] = tanh(x[i]).
func tanhChunk(y, x []float32) {
	var buf [actChunk]float32
	e := buf[:len(x)]
	for i, v := range x {
		e[i] = -2 * float32(math.Abs(float64(v)))
	}
	vexp.ExpSum(e, e, 0)
	for i, v := range x {
		a := math.Abs(float64(v))
		z := a * a
		p := tanhPoly[5]
		for k := 4; k >= 0; k-- {
			p = p*z + tanhPoly[k]
		}
		ek := float64(e[i]) // ±Inf gives e = 0 and so ±1; NaN stays NaN
		t := bySign(a-tanhPolyBound, a+a*z*p, (1-ek)/(1+ek))
		y[i] = float32(math.Copysign(t, float64(v)))
	}
}

// Tanh returns the hyperbolic tangent element-wise.
func (t *Tensor) Tanh() *Tensor {
	return unarySlices("tanh", t, func(y, x []float32) { eachChunk(y, x, tanhChunk) }, func(_, y float32) float32 { return 1 - y*y })
}

// sigmoidGate is the activation x·σ(v), v = αx + βx³, with α and β in
// float64: SiLU is α = 1; quick GELU α = 1.702; the tanh form of GELU,
// 0.5·x·(1 + tanh(c·(x + 0.044715·x³))), is x·σ(2c·(x + 0.044715·x³)) since
// (1 + tanh u)/2 = σ(2u), which also avoids tanh's cancellation at −1.
type sigmoidGate struct{ alpha, beta float64 }

// arg returns v.
func (g sigmoidGate) arg(x float32) float64 {
	xf := float64(x)
	if g.beta == 0 {
		return g.alpha * xf // not 0·∞ at x = ±∞
	}
	return xf * (g.alpha + g.beta*xf*xf)
}

// sigmoids sets s[i] = σ(v) and sc[i] = 1 − σ(v) = σ(−v) for each x[i] of a
// chunk, in float64, both accurate from E = exp(−|v|): 1/(1+E) and E/(1+E),
// the two swapped for negative v.
func (g sigmoidGate) sigmoids(x []float32, s, sc *[actChunk]float64) {
	var buf [actChunk]float32
	var args [actChunk]float64
	e, v := buf[:len(x)], args[:len(x)]
	for i, xi := range x {
		v[i] = min(max(g.arg(xi), -expArgLimit), expArgLimit)
		e[i] = float32(-math.Abs(v[i]))
	}
	vexp.ExpSum(e, e, 0)
	for i, a := range v {
		ek := expSplit(-math.Abs(a), e[i])
		p := 1 / (1 + ek) // NaN for NaN
		q := ek * p
		s[i], sc[i] = bySign(a, q, p), bySign(a, p, q)
	}
}

// forward sets y[i] = x[i]·σ(v).
func (g sigmoidGate) forward(y, x []float32) {
	var s, sc [actChunk]float64
	g.sigmoids(x, &s, &sc)
	for i, xi := range x {
		y[i] = float32(float64(xi) * s[i])
	}
}

// grad adds g[i]·(σ(v) + x·σ(v)·(1 − σ(v))·(α + 3βx²)) to gx[i].
func (g sigmoidGate) grad(gx, gy, x []float32) {
	var s, sc [actChunk]float64
	g.sigmoids(x, &s, &sc)
	for i, xi := range x {
		xf := float64(xi)
		dv := g.alpha
		if g.beta != 0 {
			dv += 3 * g.beta * xf * xf
		}
		gx[i] += gy[i] * float32(s[i]+xf*s[i]*sc[i]*dv)
	}
}

// apply returns the gated activation of t under the operation name op.
func (g sigmoidGate) apply(op string, t *Tensor) *Tensor {
	return smoothActivation(op, t, g.forward, g.grad)
}

// geluTanhGate is GELU's tanh form: 2·√(2/π) and 2·√(2/π)·0.044715.
var geluTanhGate = sigmoidGate{2 * 0.7978845608028654, 2 * 0.7978845608028654 * 0.044715}

// SiLU returns t·sigmoid(t) (also called swish).
func (t *Tensor) SiLU() *Tensor { return sigmoidGate{1, 0}.apply("silu", t) }

// QuickGELU returns t·sigmoid(1.702·t), the approximation of GELU that CLIP
// was trained with (Hugging Face's "quick_gelu").
func (t *Tensor) QuickGELU() *Tensor { return sigmoidGate{1.702, 0}.apply("quick_gelu", t) }

// GELUTanh returns the tanh approximation of GELU,
// 0.5·t·(1 + tanh(√(2/π)·(t + 0.044715·t³))) (PyTorch's approximate="tanh",
// GPT-2's gelu_new).
func (t *Tensor) GELUTanh() *Tensor { return geluTanhGate.apply("gelu_tanh", t) }

// erfcCoef holds the Chebyshev fit of Numerical Recipes (Press et al.,
// §6.2): erfc(z) = t·exp(−z² + P(t)) with t = 1/(1 + z/2) for z ≥ 0, P the
// polynomial below (coefficients from the constant term up), of fractional
// error below 1.2·10⁻⁷ for every z ≥ 0.
var erfcCoef = [...]float64{
	-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
	0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277,
}

// erfcArg returns t and the exponent −z² + P(t) of erfc(z) for z = |x|/√2.
func erfcArg(x float32) (t, a float64) {
	z := math.Abs(float64(x)) / math.Sqrt2
	t = 1 / (1 + 0.5*z)
	p := erfcCoef[9]
	for k := 8; k >= 0; k-- {
		p = p*t + erfcCoef[k]
	}
	return t, -z*z + p
}

// normalCDFs sets cdf[i] = Φ(x[i]) for a chunk: half of erfc(|x|/√2)
// below 0, one minus that above. With pdf non-nil it also sets pdf[i] =
// φ(x[i]) = exp(−x²/2)/√(2π).
func normalCDFs(x []float32, cdf, pdf *[actChunk]float64) {
	var tb, ab [actChunk]float64
	var eb, db [actChunk]float32
	t, a, e, d := tb[:len(x)], ab[:len(x)], eb[:len(x)], db[:len(x)]
	for i, v := range x {
		t[i], a[i] = erfcArg(v)
		a[i] = max(a[i], -expArgLimit)
		e[i] = float32(a[i])
	}
	vexp.ExpSum(e, e, 0)
	for i, v := range x {
		q := 0.5 * t[i] * expSplit(a[i], e[i]) // Φ(−|x|)
		cdf[i] = bySign(float64(v), q, 1-q)
	}
	if pdf == nil {
		return
	}
	for i, v := range x {
		xf := float64(v)
		a[i] = max(-0.5*xf*xf, -expArgLimit)
		d[i] = float32(a[i])
	}
	vexp.ExpSum(d, d, 0)
	const invSqrt2Pi = 0.3989422804014327
	for i := range x {
		pdf[i] = invSqrt2Pi * expSplit(a[i], d[i])
	}
}

// geluChunk sets y[i] = x·Φ(x).
func geluChunk(y, x []float32) {
	var cdf [actChunk]float64
	normalCDFs(x, &cdf, nil)
	for i, v := range x {
		y[i] = float32(float64(v) * cdf[i])
	}
}

// geluGradChunk adds g·(Φ(x) + x·φ(x)) to gx.
func geluGradChunk(gx, g, x []float32) {
	var cdf, pdf [actChunk]float64
	normalCDFs(x, &cdf, &pdf)
	for i, v := range x {
		gx[i] += g[i] * float32(cdf[i]+float64(v)*pdf[i])
	}
}

// GELU returns the exact Gaussian error linear unit x·Φ(x) (PyTorch's default).
func (t *Tensor) GELU() *Tensor { return smoothActivation("gelu", t, geluChunk, geluGradChunk) }
