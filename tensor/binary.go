package tensor

import (
	"fmt"
	"math"
	"slices"
)

// binKind selects an element-wise binary kernel.
type binKind int

const (
	binAdd binKind = iota
	binSub
	binMul
	binDiv
	binMaximum
	binMinimum
	binPow
)

var binNames = [...]string{"add", "sub", "mul", "div", "maximum", "minimum", "pow"}

func (k binKind) apply(x, y float32) float32 {
	switch k {
	case binAdd:
		return x + y
	case binSub:
		return x - y
	case binMul:
		return x * y
	case binDiv:
		return x / y
	case binMaximum: // NaN in either input propagates
		if x != x || x >= y {
			return x
		}
		return y
	case binMinimum:
		if x != x || x <= y {
			return x
		}
		return y
	default:
		return float32(math.Pow(float64(x), float64(y)))
	}
}

// binRow fills dst[j] = a[ia+j·sa] ∘ b[ib+j·sb] for the row.
func binRow(k binKind, dst, a []float32, ia, sa int, b []float32, ib, sb int) {
	switch {
	case k == binAdd && sa == 1 && sb == 1:
		a, b = a[ia:ia+len(dst)], b[ib:ib+len(dst)]
		for j := range dst {
			dst[j] = a[j] + b[j]
		}
	case k == binAdd && sa == 1 && sb == 0:
		a, v := a[ia:ia+len(dst)], b[ib]
		for j := range dst {
			dst[j] = a[j] + v
		}
	case k == binMul && sa == 1 && sb == 1:
		a, b = a[ia:ia+len(dst)], b[ib:ib+len(dst)]
		for j := range dst {
			dst[j] = a[j] * b[j]
		}
	case k == binMul && sa == 1 && sb == 0:
		a, v := a[ia:ia+len(dst)], b[ib]
		for j := range dst {
			dst[j] = a[j] * v
		}
	case k == binSub && sa == 1 && sb == 1:
		a, b = a[ia:ia+len(dst)], b[ib:ib+len(dst)]
		for j := range dst {
			dst[j] = a[j] - b[j]
		}
	default:
		for j := range dst {
			dst[j] = k.apply(a[ia], b[ib])
			ia += sa
			ib += sb
		}
	}
}

// binary applies an element-wise binary op with broadcasting and records its gradient.
func binary(k binKind, a, b *Tensor) *Tensor {
	name := binNames[k]
	shape := broadcastShape(name, a.shape, b.shape)
	out := newOutput(shape)
	var w rowWalk
	if slices.Equal(a.shape, b.shape) {
		parallelFor(len(out.data), 2, func(lo, hi int) {
			binRow(k, out.data[lo:hi], a.data, lo, 1, b.data, lo, 1)
		})
	} else {
		w = newRowWalk(shape, a.shape, b.shape)
		w.each(func(o, ia, ib int) {
			binRow(k, out.data[o:o+w.n], a.data, ia, w.stepA, b.data, ib, w.stepB)
		})
	}
	if !tracking(a, b) {
		return out
	}
	return record(name, out, func(g []float32) {
		ga, gb := gradOf(a), gradOf(b)
		if slices.Equal(a.shape, b.shape) {
			parallelFor(len(g), 2, func(lo, hi int) {
				binGrad(k, g[lo:hi], ga, gb, a.data, lo, 1, b.data, lo, 1, out.data[lo:hi])
			})
			return
		}
		w.each(func(o, ia, ib int) {
			binGrad(k, g[o:o+w.n], ga, gb, a.data, ia, w.stepA, b.data, ib, w.stepB, out.data[o:o+w.n])
		})
	}, a, b)
}

// binGrad accumulates into ga and gb (either may be nil) the gradients of one
// row: g and out are the row's output gradient and values, and the inputs'
// elements start at ia and ib and advance by sa and sb (0 or 1).
func binGrad(k binKind, g, ga, gb, a []float32, ia, sa int, b []float32, ib, sb int, out []float32) {
	switch k {
	case binAdd, binSub:
		if ga != nil {
			accumulate(ga, ia, sa, g, 1)
		}
		if gb != nil {
			sign := float32(1)
			if k == binSub {
				sign = -1
			}
			accumulate(gb, ib, sb, g, sign)
		}
		return
	case binMul:
		if sa == 1 && sb == 1 {
			n := len(g)
			av, bv := a[ia:ia+n], b[ib:ib+n]
			if ga != nil {
				d := ga[ia : ia+n]
				for j, v := range g {
					d[j] += v * bv[j]
				}
			}
			if gb != nil {
				d := gb[ib : ib+n]
				for j, v := range g {
					d[j] += v * av[j]
				}
			}
			return
		}
	}
	for j, gv := range g {
		x, y := a[ia], b[ib]
		var da, db float32
		switch k {
		case binMul:
			da, db = gv*y, gv*x
		case binDiv:
			da, db = gv/y, -gv*x/(y*y)
		case binMaximum:
			if x >= y {
				da = gv
			} else {
				db = gv
			}
		case binMinimum:
			if x <= y {
				da = gv
			} else {
				db = gv
			}
		case binPow:
			if ga != nil {
				da = gv * y * float32(math.Pow(float64(x), float64(y-1)))
			}
			if gb != nil && x > 0 {
				db = gv * out[j] * float32(math.Log(float64(x)))
			}
		}
		if ga != nil {
			ga[ia] += da
		}
		if gb != nil {
			gb[ib] += db
		}
		ia += sa
		ib += sb
	}
}

// accumulate adds scale·g into dst starting at off: element-wise when step is
// 1, or summed into the one element when step is 0 (a broadcast input).
func accumulate(dst []float32, off, step int, g []float32, scale float32) {
	if step == 1 {
		d := dst[off : off+len(g)]
		for j, v := range g {
			d[j] += scale * v
		}
		return
	}
	var s float32
	for _, v := range g {
		s += v
	}
	dst[off] += scale * s
}

// Add returns t + u with broadcasting.
func (t *Tensor) Add(u *Tensor) *Tensor { return binary(binAdd, t, u) }

// Sub returns t − u with broadcasting.
func (t *Tensor) Sub(u *Tensor) *Tensor { return binary(binSub, t, u) }

// Mul returns the element-wise product t·u with broadcasting.
func (t *Tensor) Mul(u *Tensor) *Tensor { return binary(binMul, t, u) }

// Div returns the element-wise quotient t/u with broadcasting.
func (t *Tensor) Div(u *Tensor) *Tensor { return binary(binDiv, t, u) }

// Maximum returns the element-wise maximum of t and u with broadcasting
// (ties send the gradient to t).
func (t *Tensor) Maximum(u *Tensor) *Tensor { return binary(binMaximum, t, u) }

// Minimum returns the element-wise minimum of t and u with broadcasting
// (ties send the gradient to t).
func (t *Tensor) Minimum(u *Tensor) *Tensor { return binary(binMinimum, t, u) }

// PowT returns t raised element-wise to the power u, with broadcasting. The
// gradient with respect to u is taken where t > 0.
func (t *Tensor) PowT(u *Tensor) *Tensor { return binary(binPow, t, u) }

// compare returns 1 where pred(t, u) holds and 0 elsewhere, with broadcasting; no gradient.
func compare(name string, t, u *Tensor, pred func(x, y float32) bool) *Tensor {
	shape := broadcastShape(name, t.shape, u.shape)
	out := newOutput(shape)
	w := newRowWalk(shape, t.shape, u.shape)
	w.each(func(o, ia, ib int) {
		for j := 0; j < w.n; j++ {
			if pred(t.data[ia], u.data[ib]) {
				out.data[o+j] = 1
			}
			ia += w.stepA
			ib += w.stepB
		}
	})
	return out
}

// Greater returns 1 where t > u and 0 elsewhere (broadcasting; no gradient).
func (t *Tensor) Greater(u *Tensor) *Tensor {
	return compare("greater", t, u, func(x, y float32) bool { return x > y })
}

// GreaterEqual returns 1 where t ≥ u and 0 elsewhere (broadcasting; no gradient).
func (t *Tensor) GreaterEqual(u *Tensor) *Tensor {
	return compare("greater_equal", t, u, func(x, y float32) bool { return x >= y })
}

// Less returns 1 where t < u and 0 elsewhere (broadcasting; no gradient).
func (t *Tensor) Less(u *Tensor) *Tensor {
	return compare("less", t, u, func(x, y float32) bool { return x < y })
}

// LessEqual returns 1 where t ≤ u and 0 elsewhere (broadcasting; no gradient).
func (t *Tensor) LessEqual(u *Tensor) *Tensor {
	return compare("less_equal", t, u, func(x, y float32) bool { return x <= y })
}

// Equal returns 1 where t == u and 0 elsewhere (broadcasting; no gradient).
func (t *Tensor) Equal(u *Tensor) *Tensor {
	return compare("equal", t, u, func(x, y float32) bool { return x == y })
}

// NotEqual returns 1 where t != u and 0 elsewhere (broadcasting; no gradient).
func (t *Tensor) NotEqual(u *Tensor) *Tensor {
	return compare("not_equal", t, u, func(x, y float32) bool { return x != y })
}

// Where returns a where cond is non-zero and b elsewhere, broadcasting all
// three; gradients flow to a and b through the chosen entries.
func Where(cond, a, b *Tensor) *Tensor {
	shape := broadcastShape("where", broadcastShape("where", cond.shape, a.shape), b.shape)
	c := cond.Detach().BroadcastTo(shape...)
	a2, b2 := a.BroadcastTo(shape...), b.BroadcastTo(shape...)
	out := newOutput(shape)
	for i, v := range c.data {
		if v != 0 {
			out.data[i] = a2.data[i]
		} else {
			out.data[i] = b2.data[i]
		}
	}
	return record("where", out, func(g []float32) {
		ga, gb := gradOf(a2), gradOf(b2)
		for i, v := range c.data {
			if v != 0 {
				if ga != nil {
					ga[i] += g[i]
				}
			} else if gb != nil {
				gb[i] += g[i]
			}
		}
	}, a2, b2)
}

// MaskedFill returns t with value written where mask (broadcast to t's shape)
// is non-zero; no gradient flows to the filled entries.
func (t *Tensor) MaskedFill(mask *Tensor, value float32) *Tensor {
	m := mask.Detach().BroadcastTo(t.shape...)
	if !slices.Equal(m.shape, t.shape) {
		panic(fmt.Sprintf("masked_fill: mask %s does not broadcast to %s", FormatShape(mask.shape), FormatShape(t.shape)))
	}
	out := t.Clone()
	out.requiresGrad = false
	for i, v := range m.data {
		if v != 0 {
			out.data[i] = value
		}
	}
	return record("masked_fill", out, func(g []float32) {
		gt := gradOf(t)
		for i, v := range m.data {
			if v == 0 {
				gt[i] += g[i]
			}
		}
	}, t)
}
