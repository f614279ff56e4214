package tensor

import "math"

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
	out := newTensor(t.shape, make([]float32, len(t.data)))
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
				for o := lo; o < hi; o++ {
					smRowBackward(gt[o*n:(o+1)*n], g[o*n:(o+1)*n], y[o*n:(o+1)*n], logOut)
				}
			})
			return
		}
		s := make([]float64, inner)
		for o := 0; o < outer; o++ {
			b := o * n * inner
			smBlockBackward(gt[b:b+n*inner], g[b:b+n*inner], y[b:b+n*inner], n, inner, s, logOut)
		}
	}, t)
}

// smRow computes the (log-)softmax of one contiguous row x into y: one pass
// for the maximum, one for the exponentials and their sum, one to normalise.
func smRow(y, x []float32, logOut bool) {
	m := x[0]
	for _, v := range x[1:] {
		m = max(m, v) // NaN propagates
	}
	// When m is −Inf (all entries masked) v−m is NaN, so the row is NaN.
	var s float64
	if logOut {
		for _, v := range x {
			s += math.Exp(float64(v) - float64(m))
		}
		ls := math.Log(s)
		for j, v := range x {
			y[j] = float32(float64(v) - float64(m) - ls)
		}
		return
	}
	for j, v := range x {
		e := math.Exp(float64(v) - float64(m))
		y[j] = float32(e)
		s += e
	}
	inv := 1 / s
	for j := range y {
		y[j] = float32(float64(y[j]) * inv)
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
			e := math.Exp(float64(v) - float64(m[i]))
			if !logOut {
				dst[i] = float32(e)
			}
			s[i] += e
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
// the output gradient g and the forward output y.
func smRowBackward(gx, g, y []float32, logOut bool) {
	var s float64
	if logOut {
		for _, v := range g {
			s += float64(v)
		}
		sf := float32(s)
		for j, v := range g {
			gx[j] += v - float32(math.Exp(float64(y[j])))*sf
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

// smBlockBackward is smRowBackward for an (n, inner) block; s is scratch of length inner.
func smBlockBackward(gx, g, y []float32, n, inner int, s []float64, logOut bool) {
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
		for i, v := range gr {
			if logOut {
				dst[i] += v - float32(math.Exp(float64(yr[i]))*s[i])
			} else {
				dst[i] += yr[i] * (v - float32(s[i]))
			}
		}
	}
}
