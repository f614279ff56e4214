package tensor

import (
	"fmt"
	"slices"
)

// Reshape returns a tensor with the same values in a new shape; one dimension
// may be −1 and is inferred. The result shares storage with t.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	shape = append([]int(nil), shape...)
	infer := -1
	known := 1
	for i, d := range shape {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			panic(fmt.Sprintf("reshape: invalid target shape %s for %s", FormatShape(shape), FormatShape(t.shape)))
		default:
			known *= d
		}
	}
	if infer >= 0 {
		if known == 0 || len(t.data)%known != 0 {
			panic(fmt.Sprintf("reshape: cannot reshape %s (%d values) into %s", FormatShape(t.shape), len(t.data), FormatShape(shape)))
		}
		shape[infer] = len(t.data) / known
		known *= shape[infer]
	}
	if known != len(t.data) {
		panic(fmt.Sprintf("reshape: cannot reshape %s (%d values) into %s", FormatShape(t.shape), len(t.data), FormatShape(shape)))
	}
	out := record("reshape", newTensor(shape, t.data), func(g []float32) {}, t)
	if out.node == nil {
		t.pooled = false // a view outside t's graph outlives any Release of it
		return out
	}
	out.node.backward = func(g []float32) {
		if t.requiresGrad && t.grad == nil && !out.retainGrad {
			t.grad, out.grad = g, nil // same layout: hand the buffer over instead of copying
			return
		}
		accumulateScaled(gradOf(t), g, 1)
	}
	return out
}

// View is Reshape (the name PyTorch users reach for).
func (t *Tensor) View(shape ...int) *Tensor { return t.Reshape(shape...) }

// Flatten merges dimensions start..end (inclusive; negative counts from the end) into one.
func (t *Tensor) Flatten(start, end int) *Tensor {
	if len(t.shape) == 0 {
		return t.Reshape(1)
	}
	s, e := t.axis("flatten", start), t.axis("flatten", end)
	if s > e {
		panic(fmt.Sprintf("flatten: start axis %d after end axis %d for %s", start, end, FormatShape(t.shape)))
	}
	shape := append([]int(nil), t.shape[:s]...)
	shape = append(shape, -1)
	shape = append(shape, t.shape[e+1:]...)
	if len(t.data) == 0 {
		m := 1
		for _, d := range t.shape[s : e+1] {
			m *= d
		}
		shape[s] = m
	}
	return t.Reshape(shape...)
}

// Squeeze removes the given size-1 axes (all size-1 axes if none are given).
func (t *Tensor) Squeeze(axes ...int) *Tensor {
	drop := make([]bool, len(t.shape))
	if len(axes) == 0 {
		for i, d := range t.shape {
			drop[i] = d == 1
		}
	}
	for _, a := range axes {
		a = t.axis("squeeze", a)
		if t.shape[a] != 1 {
			panic(fmt.Sprintf("squeeze: axis %d of %s has size %d, not 1", a, FormatShape(t.shape), t.shape[a]))
		}
		drop[a] = true
	}
	var shape []int
	for i, d := range t.shape {
		if !drop[i] {
			shape = append(shape, d)
		}
	}
	return t.Reshape(shape...)
}

// Unsqueeze inserts a size-1 axis at position axis (negative counts from the end
// of the result).
func (t *Tensor) Unsqueeze(axis int) *Tensor {
	n := len(t.shape) + 1
	ax := axis
	if ax < 0 {
		ax += n
	}
	if ax < 0 || ax >= n {
		panic(fmt.Sprintf("unsqueeze: axis %d out of range for %s", axis, FormatShape(t.shape)))
	}
	shape := slices.Insert(append([]int(nil), t.shape...), ax, 1)
	return t.Reshape(shape...)
}

// Permute reorders the axes: axis i of the result is axis perm[i] of t (a copy).
func (t *Tensor) Permute(perm ...int) *Tensor {
	nd := len(t.shape)
	if len(perm) != nd {
		panic(fmt.Sprintf("permute: %d axes given for %s", len(perm), FormatShape(t.shape)))
	}
	seen := make([]bool, nd)
	p := make([]int, nd)
	identity := true
	for i, a := range perm {
		a = t.axis("permute", a)
		if seen[a] {
			panic(fmt.Sprintf("permute: axis %d repeated in %v", a, perm))
		}
		seen[a] = true
		p[i] = a
		identity = identity && a == i
	}
	if identity {
		return t
	}
	shape := make([]int, nd)
	for i, a := range p {
		shape[i] = t.shape[a]
	}
	out := newOutput(shape)
	inStrides := stridesFor(t.shape, t.shape) // size-1 axes get stride 0, which is harmless here
	srcStride := make([]int, nd)              // stride in t of the result's axis i
	for i, a := range p {
		srcStride[i] = inStrides[a]
	}
	permuteCopy(out.data, t.data, shape, srcStride, false)
	return record("permute", out, func(g []float32) {
		permuteCopy(g, gradOf(t), shape, srcStride, true)
	}, t)
}

// permuteCopy walks the result (shape, contiguous) and the source with the
// given strides; forward copies src→dst, reverse adds dst into src. Rows of the
// result are split across goroutines (a permutation touches each source
// element once, so the reverse direction is safe in parallel too).
func permuteCopy(dst, src []float32, shape, srcStride []int, reverse bool) {
	nd := len(shape)
	if len(dst) == 0 {
		return
	}
	inner := shape[nd-1]
	step := srcStride[nd-1]
	rows := len(dst) / inner
	parallelFor(rows, inner, func(lo, hi int) {
		// position the odometer at row lo
		idx := make([]int, nd-1)
		pos := 0
		for k, r := nd-2, lo; k >= 0; k-- {
			idx[k] = r % shape[k]
			r /= shape[k]
			pos += idx[k] * srcStride[k]
		}
		for row := lo; row < hi; row++ {
			d := dst[row*inner : (row+1)*inner]
			s := pos
			if reverse {
				for _, v := range d {
					src[s] += v
					s += step
				}
			} else {
				for j := range d {
					d[j] = src[s]
					s += step
				}
			}
			for k := nd - 2; k >= 0; k-- {
				idx[k]++
				pos += srcStride[k]
				if idx[k] < shape[k] {
					break
				}
				pos -= srcStride[k] * shape[k]
				idx[k] = 0
			}
		}
	})
}

// Transpose swaps two axes (a copy).
func (t *Tensor) Transpose(a, b int) *Tensor {
	perm := make([]int, len(t.shape))
	for i := range perm {
		perm[i] = i
	}
	a, b = t.axis("transpose", a), t.axis("transpose", b)
	perm[a], perm[b] = perm[b], perm[a]
	return t.Permute(perm...)
}

// T returns the transpose of a 2-D tensor.
func (t *Tensor) T() *Tensor {
	if len(t.shape) != 2 {
		panic(fmt.Sprintf("t: expects a 2-D tensor, got %s", FormatShape(t.shape)))
	}
	return t.Transpose(0, 1)
}
