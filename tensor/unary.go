package tensor

import (
	"fmt"
	"math"

	"github.com/graftml/graft/tensor/internal/vexp"
)

// unary applies f element-wise; df(x, y) is the derivative at input x with output y.
func unary(op string, t *Tensor, f func(x float32) float32, df func(x, y float32) float32) *Tensor {
	return unarySlices(op, t, func(dst, src []float32) {
		for i, v := range src {
			dst[i] = f(v)
		}
	}, df)
}

// unarySlices is unary with the function applied to whole chunks: f sets
// dst[i] to the function of src[i] for every i.
func unarySlices(op string, t *Tensor, f func(dst, src []float32), df func(x, y float32) float32) *Tensor {
	out := newOutputUninit(t.shape)
	src, dst := t.data, out.data
	parallelFor(len(src), 4, func(lo, hi int) { f(dst[lo:hi], src[lo:hi]) })
	return record(op, out, func(g []float32) {
		gt := gradOf(t)
		parallelFor(len(g), 4, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				gt[i] += g[i] * df(src[i], dst[i])
			}
		})
	}, t)
}

// Neg returns −t.
func (t *Tensor) Neg() *Tensor { return t.Scale(-1) }

// Scale returns s·t.
func (t *Tensor) Scale(s float32) *Tensor {
	out := newOutputUninit(t.shape)
	src, dst := t.data, out.data
	parallelFor(len(src), 1, func(lo, hi int) {
		d := dst[lo:hi]
		for i, v := range src[lo:hi] {
			d[i] = s * v
		}
	})
	return record("scale", out, func(g []float32) {
		accumulateScaled(gradOf(t), g, s)
	}, t)
}

// AddScalar returns t + s.
func (t *Tensor) AddScalar(s float32) *Tensor {
	out := newOutputUninit(t.shape)
	src, dst := t.data, out.data
	parallelFor(len(src), 1, func(lo, hi int) {
		d := dst[lo:hi]
		for i, v := range src[lo:hi] {
			d[i] = v + s
		}
	})
	return record("add_scalar", out, func(g []float32) {
		accumulateScaled(gradOf(t), g, 1)
	}, t)
}

// accumulateScaled adds s·g into dst element-wise, in parallel for large slices.
func accumulateScaled(dst, g []float32, s float32) {
	parallelFor(len(g), 1, func(lo, hi int) { accumulate(dst[lo:hi], 0, 1, g[lo:hi], s) })
}

// Pow returns t raised element-wise to the scalar power p.
func (t *Tensor) Pow(p float32) *Tensor {
	switch p {
	case 2:
		return unary("pow", t, func(x float32) float32 { return x * x }, func(x, _ float32) float32 { return 2 * x })
	case 1:
		return unary("pow", t, func(x float32) float32 { return x }, func(_, _ float32) float32 { return 1 })
	}
	return unary("pow", t,
		func(x float32) float32 { return float32(math.Pow(float64(x), float64(p))) },
		func(x, _ float32) float32 { return p * float32(math.Pow(float64(x), float64(p-1))) })
}

// Square returns t².
func (t *Tensor) Square() *Tensor { return t.Pow(2) }

// Exp returns eᵗ element-wise (within 2 ulp).
func (t *Tensor) Exp() *Tensor {
	return unarySlices("exp", t, func(dst, src []float32) { vexp.ExpSum(dst, src, 0) },
		func(_, y float32) float32 { return y })
}

// Log returns the natural logarithm element-wise.
func (t *Tensor) Log() *Tensor {
	return unary("log", t, func(x float32) float32 { return float32(math.Log(float64(x))) },
		func(x, _ float32) float32 { return 1 / x })
}

// Sqrt returns the square root element-wise.
func (t *Tensor) Sqrt() *Tensor {
	return unary("sqrt", t, func(x float32) float32 { return float32(math.Sqrt(float64(x))) },
		func(_, y float32) float32 { return 0.5 / y })
}

// Rsqrt returns 1/√t element-wise.
func (t *Tensor) Rsqrt() *Tensor {
	return unary("rsqrt", t, func(x float32) float32 { return float32(1 / math.Sqrt(float64(x))) },
		func(x, y float32) float32 { return -0.5 * y / x })
}

// Reciprocal returns 1/t element-wise.
func (t *Tensor) Reciprocal() *Tensor {
	return unary("reciprocal", t, func(x float32) float32 { return 1 / x },
		func(_, y float32) float32 { return -y * y })
}

// Abs returns |t| element-wise (gradient 0 at 0, as PyTorch).
func (t *Tensor) Abs() *Tensor {
	return unary("abs", t, func(x float32) float32 { return float32(math.Abs(float64(x))) },
		func(x, _ float32) float32 { return sign(x) })
}

// Sign returns −1, 0 or 1 element-wise (no gradient).
func (t *Tensor) Sign() *Tensor {
	out := ZerosLike(t)
	for i, v := range t.data {
		out.data[i] = sign(v)
	}
	return out
}

func sign(x float32) float32 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// Sin returns sin(t) element-wise.
func (t *Tensor) Sin() *Tensor {
	return unary("sin", t, func(x float32) float32 { return float32(math.Sin(float64(x))) },
		func(x, _ float32) float32 { return float32(math.Cos(float64(x))) })
}

// Cos returns cos(t) element-wise.
func (t *Tensor) Cos() *Tensor {
	return unary("cos", t, func(x float32) float32 { return float32(math.Cos(float64(x))) },
		func(x, _ float32) float32 { return -float32(math.Sin(float64(x))) })
}

// Clamp limits every element to [lo, hi]; the gradient is 1 inside and 0 where clamped.
// Use math.Inf for a one-sided clamp.
func (t *Tensor) Clamp(lo, hi float32) *Tensor {
	if lo > hi {
		panic(fmt.Sprintf("clamp: lower bound %v above upper bound %v", lo, hi))
	}
	return unary("clamp", t, func(x float32) float32 { return min(max(x, lo), hi) },
		func(x, _ float32) float32 {
			if x < lo || x > hi {
				return 0
			}
			return 1
		})
}

// ReLU returns max(t, 0).
func (t *Tensor) ReLU() *Tensor {
	out := newOutputUninit(t.shape)
	// Branch-free: on random signs a branch mispredicts half the time (6× slower).
	src, dst := t.data, out.data
	parallelFor(len(src), 1, func(lo, hi int) {
		d := dst[lo:hi]
		for i, v := range src[lo:hi] {
			b := math.Float32bits(v)
			d[i] = math.Float32frombits(b &^ uint32(int32(b)>>31)) // −x → +0, NaN with sign bit → +0
		}
	})
	return record("relu", out, func(g []float32) {
		gt := gradOf(t)
		parallelFor(len(g), 1, func(lo, hi int) {
			gd, gg := gt[lo:hi], g[lo:hi]
			for i, v := range dst[lo:hi] {
				b := math.Float32bits(v)
				keep := uint32(int32(b|-b) >> 31) // all ones where the output is non-zero (> 0)
				gd[i] += math.Float32frombits(math.Float32bits(gg[i]) & keep)
			}
		})
	}, t)
}

// LeakyReLU returns t where positive and slope·t elsewhere.
func (t *Tensor) LeakyReLU(slope float32) *Tensor {
	return unary("leaky_relu", t, func(x float32) float32 {
		if x > 0 {
			return x
		}
		return slope * x
	}, func(x, _ float32) float32 {
		if x > 0 {
			return 1
		}
		return slope
	})
}

// Sigmoid returns 1/(1+e^(−t)).
func (t *Tensor) Sigmoid() *Tensor {
	return unarySlices("sigmoid", t, sigmoidSlice, func(_, y float32) float32 { return y * (1 - y) })
}

// sigmoidSlice sets dst[i] = sigmoid(src[i]) from e = exp(−|x|): 1/(1+e) for
// x ≥ 0 and e/(1+e) below, within 4 ulp.
func sigmoidSlice(dst, src []float32) {
	for i, v := range src {
		dst[i] = -float32(math.Abs(float64(v)))
	}
	vexp.ExpSum(dst, dst, 0)
	for i, v := range src {
		e := dst[i]
		if v >= 0 {
			dst[i] = 1 / (1 + e)
		} else {
			dst[i] = e / (1 + e) // NaN too
		}
	}
}

func sigmoid(x float32) float32 {
	if x >= 0 {
		return float32(1 / (1 + math.Exp(-float64(x))))
	}
	e := math.Exp(float64(x))
	return float32(e / (1 + e))
}

// Softplus returns log(1+eᵗ), computed stably (linear above 20, as PyTorch).
func (t *Tensor) Softplus() *Tensor {
	return unary("softplus", t, func(x float32) float32 {
		if x > 20 {
			return x
		}
		return float32(math.Log1p(math.Exp(float64(x))))
	}, func(x, _ float32) float32 {
		if x > 20 {
			return 1
		}
		return sigmoid(x)
	})
}
