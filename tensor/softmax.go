package tensor

import (
	"math"

	"github.com/graftml/graft/tensor/internal/vexp"
)

// Softmax returns exp(t)/Σexp(t) along axis (negative counts from the end),
// computed stably by subtracting each slice's maximum first, so large logits
// such as 1000 are fine. Entries equal to −Inf (masked out) get probability 0.
// A slice whose entries are all −Inf has no defined distribution and comes out
// as NaN, as in PyTorch; so does any slice holding NaN or +Inf. The gradient is
// dx = y⊙(g − Σ g⊙y).
func (t *Tensor) Softmax(axis int) *Tensor { return smSoftmax("softmax", t, axis, false) }

// LogSoftmax returns log(Softmax(t)) along axis, computed directly and stably as
// t − max − log Σexp(t − max). Masked (−Inf) entries give −Inf; a slice whose
// entries are all −Inf gives NaN, as Softmax does. The gradient is
// dx = g − softmax·Σg.
func (t *Tensor) LogSoftmax(axis int) *Tensor { return smSoftmax("log_softmax", t, axis, true) }

// smSoftmax views t as (outer, n, inner) around axis and normalises each of
// the outer·inner slices of length n. The last axis (inner == 1, contiguous
// rows) has its own loop; other axes process a whole (n, inner) block at once
// with unit-stride inner loops.
func smSoftmax(op string, t *Tensor, axis int, logOut bool) *Tensor {
	a := t.axis(op, axis)
	outer, n, inner := idxSplitShape(t.shape, a)
	out := newOutputUninit(t.shape)
	if n == 0 {
		return record(op, out, func([]float32) {}, t)
	}
	if inner == 1 {
		parallelFor(outer, 8*n, func(lo, hi int) {
			for o := lo; o < hi; o++ {
				smRow(out.data[o*n:(o+1)*n], t.data[o*n:(o+1)*n], logOut)
			}
		})
	} else {
		m := make([]float32, inner)
		s := make([]float64, inner)
		for o := 0; o < outer; o++ {
			b := o * n * inner
			smBlock(out.data[b:b+n*inner], t.data[b:b+n*inner], n, inner, m, s, logOut)
		}
	}
	return record(op, out, func(g []float32) {
		gt := gradOf(t)
		y := out.data
		if inner == 1 {
			parallelFor(outer, 4*n, func(lo, hi int) {
				var e []float32
				if logOut {
					e = make([]float32, n)
				}
				for o := lo; o < hi; o++ {
					smRowBackward(gt[o*n:(o+1)*n], g[o*n:(o+1)*n], y[o*n:(o+1)*n], e, logOut)
				}
			})
			return
		}
		s := make([]float64, inner)
		e := make([]float32, inner)
		for o := 0; o < outer; o++ {
			b := o * n * inner
			smBlockBackward(gt[b:b+n*inner], g[b:b+n*inner], y[b:b+n*inner], n, inner, s, e, logOut)
		}
	}, t)
}

// smRow computes the (log-)softmax of one contiguous row x into y: one pass
// for the maximum, one for the exponentials (into y) and their sum, one to
// normalise.
func smRow(y, x []float32, logOut bool) {
	m := vexp.Max(x)
	// When m is −Inf (all entries masked) v−m is NaN, so the row is NaN.
	s := vexp.ExpSum(y, x, m)
	if logOut {
		ls := math.Log(s)
		for j, v := range x {
			y[j] = float32(float64(v) - float64(m) - ls)
		}
		return
	}
	inv := float32(1 / s)
	for j := range y {
		y[j] *= inv
	}
}

// smBlock is smRow for the n slices of stride inner in an (n, inner) block;
// m and s are scratch of length inner.
func smBlock(y, x []float32, n, inner int, m []float32, s []float64, logOut bool) {
	copy(m, x[:inner])
	for k := 1; k < n; k++ {
		for i, v := range x[k*inner : (k+1)*inner] {
			m[i] = max(m[i], v)
		}
	}
	clear(s)
	for k := 0; k < n; k++ {
		row := x[k*inner : (k+1)*inner]
		dst := y[k*inner : (k+1)*inner]
		for i, v := range row {
			dst[i] = v - m[i]
		}
		vexp.ExpSum(dst, dst, 0)
		for i, e := range dst {
			s[i] += float64(e)
		}
	}
	if logOut {
		for i := range s {
			s[i] = math.Log(s[i])
		}
		for k := 0; k < n; k++ {
			row := x[k*inner : (k+1)*inner]
			dst := y[k*inner : (k+1)*inner]
			for i, v := range row {
				dst[i] = float32(float64(v) - float64(m[i]) - s[i])
			}
		}
		return
	}
	for i := range s {
		s[i] = 1 / s[i]
	}
	for k := 0; k < n; k++ {
		dst := y[k*inner : (k+1)*inner]
		for i := range dst {
			dst[i] = float32(float64(dst[i]) * s[i])
		}
	}
}

// smRowBackward adds the input gradient of one contiguous row into gx, given
// the output gradient g and the forward output y; e is scratch of the row's
// length for the log-softmax (nil for softmax).
func smRowBackward(gx, g, y, e []float32, logOut bool) {
	var s float64
	if logOut {
		for _, v := range g {
			s += float64(v)
		}
		sf := float32(s)
		vexp.ExpSum(e, y, 0)
		for j, v := range g {
			gx[j] += v - e[j]*sf
		}
		return
	}
	for j, v := range g {
		s += float64(v) * float64(y[j])
	}
	sf := float32(s)
	for j, v := range g {
		gx[j] += y[j] * (v - sf)
	}
}

// smBlockBackward is smRowBackward for an (n, inner) block; s and e are
// scratch of length inner.
func smBlockBackward(gx, g, y []float32, n, inner int, s []float64, e []float32, logOut bool) {
	clear(s)
	for k := 0; k < n; k++ {
		gr, yr := g[k*inner:(k+1)*inner], y[k*inner:(k+1)*inner]
		for i, v := range gr {
			if logOut {
				s[i] += float64(v)
			} else {
				s[i] += float64(v) * float64(yr[i])
			}
		}
	}
	for k := 0; k < n; k++ {
		gr, yr, dst := g[k*inner:(k+1)*inner], y[k*inner:(k+1)*inner], gx[k*inner:(k+1)*inner]
		if logOut {
			vexp.ExpSum(e, yr, 0)
			for i, v := range gr {
				dst[i] += v - float32(float64(e[i])*s[i])
			}
			continue
		}
		for i, v := range gr {
			dst[i] += yr[i] * (v - float32(s[i]))
		}
	}
}
