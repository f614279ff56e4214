package tensor

import (
	"fmt"
	"math"
	"slices"
)

// reduction describes reducing a tensor over a set of axes after moving them
// (if needed) to form one contiguous block: the input is viewed as
// (outer, red, inner) and the result as (outer, inner).
type reduction struct {
	src        *Tensor // the input, permuted so the reduced axes are contiguous
	outer, red int
	inner      int
	outShape   []int // final shape of the result (keepdim applied)
}

// planReduction normalises axes (none means all) and prepares the reduction.
func planReduction(op string, t *Tensor, keepdim bool, axes []int) reduction {
	nd := len(t.shape)
	var ax []int
	if len(axes) == 0 {
		for i := 0; i < nd; i++ {
			ax = append(ax, i)
		}
	} else {
		for _, a := range axes {
			ax = append(ax, t.axis(op, a))
		}
		slices.Sort(ax)
		for i := 1; i < len(ax); i++ {
			if ax[i] == ax[i-1] {
				panic(fmt.Sprintf("%s: axis %d repeated", op, ax[i]))
			}
		}
	}
	reduced := make([]bool, nd)
	for _, a := range ax {
		reduced[a] = true
	}
	var outShape []int
	for i, d := range t.shape {
		switch {
		case !reduced[i]:
			outShape = append(outShape, d)
		case keepdim:
			outShape = append(outShape, 1)
		}
	}
	src := t
	lo, hi := 0, -1
	if len(ax) > 0 {
		lo, hi = ax[0], ax[len(ax)-1]
		if hi-lo+1 != len(ax) { // not contiguous: move reduced axes to the end
			var perm []int
			for i := 0; i < nd; i++ {
				if !reduced[i] {
					perm = append(perm, i)
				}
			}
			perm = append(perm, ax...)
			src = t.Permute(perm...)
			lo, hi = nd-len(ax), nd-1
		}
	}
	r := reduction{src: src, outer: 1, red: 1, inner: 1, outShape: outShape}
	for i, d := range src.shape {
		switch {
		case i < lo:
			r.outer *= d
		case i <= hi:
			r.red *= d
		default:
			r.inner *= d
		}
	}
	return r
}

// idx returns the flat input position of element k of the reduced block for output (o, i).
func (r reduction) idx(o, k, i int) int { return (o*r.red+k)*r.inner + i }

// sumReduce is shared by Sum and Mean; scale multiplies the result.
func sumReduce(op string, t *Tensor, keepdim bool, axes []int, meanOf bool) *Tensor {
	r := planReduction(op, t, keepdim, axes)
	scale := float32(1)
	if meanOf {
		if r.red == 0 {
			panic(fmt.Sprintf("%s: reducing an empty axis of %s", op, FormatShape(t.shape)))
		}
		scale = 1 / float32(r.red)
	}
	out := newOutput(r.outShape)
	x := r.src.data
	for o := 0; o < r.outer; o++ {
		dst := out.data[o*r.inner : (o+1)*r.inner]
		if r.inner == 1 {
			var s float64
			for _, v := range x[o*r.red : (o+1)*r.red] {
				s += float64(v)
			}
			dst[0] = float32(s) * scale
			continue
		}
		for k := 0; k < r.red; k++ {
			row := x[r.idx(o, k, 0) : r.idx(o, k, 0)+r.inner]
			for i, v := range row {
				dst[i] += v
			}
		}
		if scale != 1 {
			for i := range dst {
				dst[i] *= scale
			}
		}
	}
	src := r.src
	return record(op, out, func(g []float32) {
		gx := gradOf(src)
		parallelFor(r.outer, r.red*r.inner, func(lo, hi int) {
			for o := lo; o < hi; o++ {
				if r.inner == 1 {
					v := g[o] * scale
					for k, row := 0, gx[o*r.red:(o+1)*r.red]; k < len(row); k++ {
						row[k] += v
					}
					continue
				}
				gr := g[o*r.inner : (o+1)*r.inner]
				for k := 0; k < r.red; k++ {
					dst := gx[r.idx(o, k, 0) : r.idx(o, k, 0)+r.inner]
					for i, v := range gr {
						dst[i] += v * scale
					}
				}
			}
		})
	}, src)
}

// Sum adds the elements over the given axes (all axes if none), removing them.
func (t *Tensor) Sum(axes ...int) *Tensor { return sumReduce("sum", t, false, axes, false) }

// SumKeep is Sum keeping the reduced axes with size 1.
func (t *Tensor) SumKeep(axes ...int) *Tensor { return sumReduce("sum", t, true, axes, false) }

// Mean averages over the given axes (all axes if none), removing them.
func (t *Tensor) Mean(axes ...int) *Tensor { return sumReduce("mean", t, false, axes, true) }

// MeanKeep is Mean keeping the reduced axes with size 1.
func (t *Tensor) MeanKeep(axes ...int) *Tensor { return sumReduce("mean", t, true, axes, true) }

// extremum is shared by Max and Min; the gradient goes to the first extreme element.
func extremum(op string, t *Tensor, keepdim bool, axes []int, greater bool) *Tensor {
	r := planReduction(op, t, keepdim, axes)
	if r.red == 0 {
		panic(fmt.Sprintf("%s: reducing an empty axis of %s", op, FormatShape(t.shape)))
	}
	out := newOutput(r.outShape)
	arg := r.argExtremum(greater)
	for j, p := range arg {
		out.data[j] = r.src.data[p]
	}
	src := r.src
	return record(op, out, func(g []float32) {
		gx := gradOf(src)
		for j, p := range arg {
			gx[p] += g[j]
		}
	}, src)
}

// argExtremum returns, per output element, the flat input position of the
// first maximum (or minimum); NaN wins, as in PyTorch.
func (r reduction) argExtremum(greater bool) []int {
	arg := make([]int, r.outer*r.inner)
	x := r.src.data
	for o := 0; o < r.outer; o++ {
		for i := 0; i < r.inner; i++ {
			best := r.idx(o, 0, i)
			for k := 1; k < r.red; k++ {
				p := r.idx(o, k, i)
				v, b := x[p], x[best]
				if b != b {
					break
				}
				if v != v || (greater && v > b) || (!greater && v < b) {
					best = p
				}
			}
			arg[o*r.inner+i] = best
		}
	}
	return arg
}

// Max returns the largest element over the given axes (all if none), removing them.
func (t *Tensor) Max(axes ...int) *Tensor { return extremum("max", t, false, axes, true) }

// MaxKeep is Max keeping the reduced axes with size 1.
func (t *Tensor) MaxKeep(axes ...int) *Tensor { return extremum("max", t, true, axes, true) }

// Min returns the smallest element over the given axes (all if none), removing them.
func (t *Tensor) Min(axes ...int) *Tensor { return extremum("min", t, false, axes, false) }

// MinKeep is Min keeping the reduced axes with size 1.
func (t *Tensor) MinKeep(axes ...int) *Tensor { return extremum("min", t, true, axes, false) }

// Argmax returns the index of the first largest element along axis, as a
// tensor without that axis (indices stored as float32; no gradient).
func (t *Tensor) Argmax(axis int) *Tensor { return argIndex("argmax", t, axis, true) }

// Argmin returns the index of the first smallest element along axis (see Argmax).
func (t *Tensor) Argmin(axis int) *Tensor { return argIndex("argmin", t, axis, false) }

func argIndex(op string, t *Tensor, axis int, greater bool) *Tensor {
	r := planReduction(op, t, false, []int{axis})
	if r.red == 0 {
		panic(fmt.Sprintf("%s: empty axis %d of %s", op, axis, FormatShape(t.shape)))
	}
	out := newOutput(r.outShape)
	for j, p := range r.argExtremum(greater) {
		out.data[j] = float32((p / r.inner) % r.red)
	}
	return out
}

// Ints returns the values converted to int (for index tensors such as Argmax's result).
func (t *Tensor) Ints() []int {
	out := make([]int, len(t.data))
	for i, v := range t.data {
		out[i] = int(v)
	}
	return out
}

// Var returns the variance over the given axes (all if none), removing them;
// unbiased divides by n−1 instead of n.
func (t *Tensor) Var(unbiased bool, axes ...int) *Tensor {
	return variance(t, false, unbiased, axes)
}

// VarKeep is Var keeping the reduced axes with size 1.
func (t *Tensor) VarKeep(unbiased bool, axes ...int) *Tensor {
	return variance(t, true, unbiased, axes)
}

func variance(t *Tensor, keepdim, unbiased bool, axes []int) *Tensor {
	r := planReduction("var", t, keepdim, axes)
	denom := r.red
	if unbiased {
		denom--
	}
	if denom <= 0 {
		panic(fmt.Sprintf("var: %d elements per group of %s is too few", r.red, FormatShape(t.shape)))
	}
	out := newOutput(r.outShape)
	mean := make([]float32, r.outer*r.inner)
	x := r.src.data
	for o := 0; o < r.outer; o++ {
		for i := 0; i < r.inner; i++ {
			var s float64
			for k := 0; k < r.red; k++ {
				s += float64(x[r.idx(o, k, i)])
			}
			m := s / float64(r.red)
			var ss float64
			for k := 0; k < r.red; k++ {
				d := float64(x[r.idx(o, k, i)]) - m
				ss += d * d
			}
			mean[o*r.inner+i] = float32(m)
			out.data[o*r.inner+i] = float32(ss / float64(denom))
		}
	}
	src := r.src
	return record("var", out, func(g []float32) {
		gx := gradOf(src)
		c := 2 / float32(denom)
		for o := 0; o < r.outer; o++ {
			for i := 0; i < r.inner; i++ {
				j := o*r.inner + i
				for k := 0; k < r.red; k++ {
					p := r.idx(o, k, i)
					gx[p] += g[j] * c * (x[p] - mean[j])
				}
			}
		}
	}, src)
}

// LogSumExp returns log Σ exp over the given axes (all if none), computed stably, removing them.
func (t *Tensor) LogSumExp(axes ...int) *Tensor { return logSumExp(t, false, axes) }

// LogSumExpKeep is LogSumExp keeping the reduced axes with size 1.
func (t *Tensor) LogSumExpKeep(axes ...int) *Tensor { return logSumExp(t, true, axes) }

func logSumExp(t *Tensor, keepdim bool, axes []int) *Tensor {
	r := planReduction("logsumexp", t, keepdim, axes)
	out := newOutput(r.outShape)
	x := r.src.data
	for o := 0; o < r.outer; o++ {
		for i := 0; i < r.inner; i++ {
			m := float32(math.Inf(-1))
			for k := 0; k < r.red; k++ {
				m = max(m, x[r.idx(o, k, i)])
			}
			if math.IsInf(float64(m), 0) {
				out.data[o*r.inner+i] = m
				continue
			}
			var s float64
			for k := 0; k < r.red; k++ {
				s += math.Exp(float64(x[r.idx(o, k, i)] - m))
			}
			out.data[o*r.inner+i] = m + float32(math.Log(s))
		}
	}
	src := r.src
	return record("logsumexp", out, func(g []float32) {
		gx := gradOf(src)
		for o := 0; o < r.outer; o++ {
			for i := 0; i < r.inner; i++ {
				j := o*r.inner + i
				for k := 0; k < r.red; k++ {
					p := r.idx(o, k, i)
					gx[p] += g[j] * float32(math.Exp(float64(x[p]-out.data[j])))
				}
			}
		}
	}, src)
}
