package tensor

import (
	"fmt"
	"math"
	"slices"
)

// idxProd returns the product of dims.
func idxProd(dims []int) int {
	p := 1
	for _, d := range dims {
		p *= d
	}
	return p
}

// idxSplitShape views shape as (outer, n, inner) around axis a: outer is the
// product of the dimensions before a, n the size of a and inner the product of
// those after it.
func idxSplitShape(shape []int, a int) (outer, n, inner int) {
	return idxProd(shape[:a]), shape[a], idxProd(shape[a+1:])
}

// idxWithDim returns a copy of shape with axis a set to d.
func idxWithDim(shape []int, a, d int) []int {
	s := append([]int(nil), shape...)
	s[a] = d
	return s
}

// idxStrides returns the row-major strides of shape.
func idxStrides(shape []int) []int {
	s := make([]int, len(shape))
	stride := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = stride
		stride *= shape[i]
	}
	return s
}

// idxPos renders flat position p of a tensor of the given shape for error
// messages: a plain number for 1-D tensors, a multi-index such as (1,2) otherwise.
func idxPos(p int, shape []int) string {
	if len(shape) == 1 {
		return fmt.Sprint(p)
	}
	coord := make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		if shape[d] > 0 {
			coord[d] = p % shape[d]
			p /= shape[d]
		}
	}
	return FormatShape(coord)
}

// idxFromFloat converts an index held as a float32 to an int in [0, n),
// returning a description of the problem ("" when it is fine).
func idxFromFloat(v float32, n int) (int, string) {
	f := float64(v)
	if f != math.Trunc(f) { // also catches NaN
		return 0, "is not an integer"
	}
	if f < 0 || f >= float64(n) {
		return 0, fmt.Sprintf("is outside [0,%d)", n)
	}
	return int(f), ""
}

// idxSlice copies positions start..end-1 of axis a of t into a tensor of the
// given shape (which holds the same elements: the sliced shape, possibly with
// axis a removed); the gradient adds back into that range.
func idxSlice(op string, t *Tensor, a, start, end int, shape []int) *Tensor {
	outer, n, inner := idxSplitShape(t.shape, a)
	w := (end - start) * inner
	out := newOutput(shape)
	for o := 0; o < outer; o++ {
		src := (o*n + start) * inner
		copy(out.data[o*w:(o+1)*w], t.data[src:src+w])
	}
	return record(op, out, func(g []float32) {
		gt := gradOf(t)
		for o := 0; o < outer; o++ {
			dst := gt[(o*n+start)*inner : (o*n+start)*inner+w]
			for j, v := range g[o*w : (o+1)*w] {
				dst[j] += v
			}
		}
	}, t)
}

// Slice returns a copy of the elements start..end-1 along axis. Negative start
// and end count from the end of the axis, as in Python; after that they must
// satisfy 0 ≤ start ≤ end ≤ the axis length, or Slice panics naming the axis,
// the range and the shape. The gradient flows back into the sliced range.
func (t *Tensor) Slice(axis, start, end int) *Tensor {
	a := t.axis("slice", axis)
	n := t.shape[a]
	s, e := start, end
	if s < 0 {
		s += n
	}
	if e < 0 {
		e += n
	}
	if s < 0 || e > n || s > e {
		panic(fmt.Sprintf("slice: range %d:%d out of range for axis %d of shape %s", start, end, axis, FormatShape(t.shape)))
	}
	return idxSlice("slice", t, a, s, e, idxWithDim(t.shape, a, e-s))
}

// Index returns a copy of position i along axis, with that axis removed
// (negative i counts from the end). The gradient flows back into that position.
func (t *Tensor) Index(axis, i int) *Tensor {
	a := t.axis("index", axis)
	n := t.shape[a]
	j := i
	if j < 0 {
		j += n
	}
	if j < 0 || j >= n {
		panic(fmt.Sprintf("index: index %d out of range for axis %d of shape %s", i, axis, FormatShape(t.shape)))
	}
	shape := slices.Delete(append([]int(nil), t.shape...), a, a+1)
	return idxSlice("index", t, a, j, j+1, shape)
}

// idxJoin builds a tensor of the given shape whose data is, for each of outer
// rows, block[k] values of ts[k] (its row o) laid one after another. Concat and
// Stack are both this copy; the gradient slices each input's part back out.
func idxJoin(op string, shape []int, ts []*Tensor, outer int, block []int) *Tensor {
	ts = append([]*Tensor(nil), ts...) // the node keeps its own copy of the inputs
	total := 0
	for _, b := range block {
		total += b
	}
	out := newOutput(shape)
	off := 0
	for k, x := range ts {
		b := block[k]
		for o := 0; o < outer; o++ {
			copy(out.data[o*total+off:o*total+off+b], x.data[o*b:(o+1)*b])
		}
		off += b
	}
	return record(op, out, func(g []float32) {
		off := 0
		for k, x := range ts {
			b := block[k]
			if gx := gradOf(x); gx != nil {
				for o := 0; o < outer; o++ {
					dst := gx[o*b : (o+1)*b]
					for j, v := range g[o*total+off : o*total+off+b] {
						dst[j] += v
					}
				}
			}
			off += b
		}
	}, ts...)
}

// idxCheckList panics if ts is empty or holds nil.
func idxCheckList(op string, ts []*Tensor) {
	if len(ts) == 0 {
		panic(op + ": no tensors given")
	}
	for k, x := range ts {
		if x == nil {
			panic(fmt.Sprintf("%s: tensor %d is nil", op, k))
		}
	}
}

// Concat joins tensors along an existing axis. All must have the same number
// of dimensions and equal sizes in every other axis, else it panics naming the
// first mismatching pair, e.g. "concat: (2,3) and (2,4) differ in axis 1".
// The gradient is split back among the inputs.
func Concat(axis int, ts ...*Tensor) *Tensor {
	idxCheckList("concat", ts)
	first := ts[0]
	a := first.axis("concat", axis)
	outer, _, inner := idxSplitShape(first.shape, a)
	block := make([]int, len(ts))
	total := 0
	for k, x := range ts {
		if len(x.shape) != len(first.shape) {
			panic(fmt.Sprintf("concat: %s and %s differ in number of dimensions", FormatShape(first.shape), FormatShape(x.shape)))
		}
		for d := range x.shape {
			if d != a && x.shape[d] != first.shape[d] {
				panic(fmt.Sprintf("concat: %s and %s differ in axis %d", FormatShape(first.shape), FormatShape(x.shape), d))
			}
		}
		block[k] = x.shape[a] * inner
		total += x.shape[a]
	}
	return idxJoin("concat", idxWithDim(first.shape, a, total), ts, outer, block)
}

// Stack joins tensors of identical shape along a new axis, placed at position
// axis of the result (negative counts from the end of the result, so -1 appends
// a last axis). The gradient is split back among the inputs.
func Stack(axis int, ts ...*Tensor) *Tensor {
	idxCheckList("stack", ts)
	first := ts[0]
	nd := len(first.shape)
	a := axis
	if a < 0 {
		a += nd + 1
	}
	if a < 0 || a > nd {
		panic(fmt.Sprintf("stack: axis %d out of range for stacking tensors of shape %s", axis, FormatShape(first.shape)))
	}
	for k, x := range ts {
		if !slices.Equal(x.shape, first.shape) {
			panic(fmt.Sprintf("stack: tensor %d has shape %s, tensor 0 has %s", k, FormatShape(x.shape), FormatShape(first.shape)))
		}
	}
	outer, inner := idxProd(first.shape[:a]), idxProd(first.shape[a:])
	block := make([]int, len(ts))
	for k := range block {
		block[k] = inner
	}
	shape := slices.Insert(append([]int(nil), first.shape...), a, len(ts))
	return idxJoin("stack", shape, ts, outer, block)
}

// idxSplitSizes cuts axis a of t into consecutive pieces of the given sizes.
func idxSplitSizes(op string, t *Tensor, a int, sizes []int) []*Tensor {
	out := make([]*Tensor, len(sizes))
	start := 0
	for i, s := range sizes {
		out[i] = idxSlice(op, t, a, start, start+s, idxWithDim(t.shape, a, s))
		start += s
	}
	return out
}

// Split cuts t along axis into consecutive pieces of the given sizes, which
// must be non-negative and sum to the axis length. Each piece is a copy whose
// gradient flows back into its part of t.
func (t *Tensor) Split(axis int, sizes ...int) []*Tensor {
	a := t.axis("split", axis)
	sum := 0
	for _, s := range sizes {
		if s < 0 {
			panic(fmt.Sprintf("split: negative size %d in %v for axis %d of shape %s", s, sizes, axis, FormatShape(t.shape)))
		}
		sum += s
	}
	if sum != t.shape[a] {
		panic(fmt.Sprintf("split: sizes %v sum to %d, not the length %d of axis %d of shape %s", sizes, sum, t.shape[a], axis, FormatShape(t.shape)))
	}
	return idxSplitSizes("split", t, a, append([]int(nil), sizes...))
}

// Chunk cuts t along axis into at most n pieces, as torch.chunk does: every
// piece has ⌈len/n⌉ elements along axis except possibly a smaller last one, so
// fewer than n pieces may come back (an empty axis gives n empty pieces).
// It panics unless n > 0.
func (t *Tensor) Chunk(n, axis int) []*Tensor {
	a := t.axis("chunk", axis)
	if n <= 0 {
		panic(fmt.Sprintf("chunk: number of chunks %d must be positive (shape %s)", n, FormatShape(t.shape)))
	}
	l := t.shape[a]
	var sizes []int
	if l == 0 {
		sizes = make([]int, n)
	} else {
		c := (l + n - 1) / n
		for s := 0; s < l; s += c {
			sizes = append(sizes, min(c, l-s))
		}
	}
	return idxSplitSizes("chunk", t, a, sizes)
}

// Gather picks values along axis at the positions held in index, with
// torch.gather semantics: index has as many dimensions as t, no axis other than
// axis longer than t's, and holds integral values in [0, t.Dim(axis)); the
// result has index's shape and, for a 3-D t and axis 1,
// out[i][j][k] = t[i][index[i][j][k]][k]. The gradient scatters-adds into t
// (repeated positions accumulate); index gets none.
func (t *Tensor) Gather(axis int, index *Tensor) *Tensor {
	a := t.axis("gather", axis)
	nd := len(t.shape)
	if len(index.shape) != nd {
		panic(fmt.Sprintf("gather: index %s and input %s differ in number of dimensions", FormatShape(index.shape), FormatShape(t.shape)))
	}
	for d := 0; d < nd; d++ {
		if d != a && index.shape[d] > t.shape[d] {
			panic(fmt.Sprintf("gather: index %s is larger than input %s in axis %d", FormatShape(index.shape), FormatShape(t.shape), d))
		}
	}
	strides := idxStrides(t.shape)
	n := t.shape[a]
	src := make([]int, len(index.data))
	coord := make([]int, nd)
	for p, v := range index.data {
		j, bad := idxFromFloat(v, n)
		if bad != "" {
			panic(fmt.Sprintf("gather: index %v at position %s %s for axis %d of input %s", v, idxPos(p, index.shape), bad, axis, FormatShape(t.shape)))
		}
		off := 0
		for d, c := range coord {
			if d == a {
				c = j
			}
			off += c * strides[d]
		}
		src[p] = off
		for d := nd - 1; d >= 0; d-- {
			coord[d]++
			if coord[d] < index.shape[d] {
				break
			}
			coord[d] = 0
		}
	}
	out := newOutput(index.shape)
	for p, s := range src {
		out.data[p] = t.data[s]
	}
	return record("gather", out, func(g []float32) {
		gt := gradOf(t)
		for p, s := range src {
			gt[s] += g[p]
		}
	}, t)
}

// IndexSelect returns the positions idx of axis, in that order (repeats
// allowed; negative values count from the end), as a copy whose axis has
// len(idx) entries. The gradient accumulates into the selected positions.
func (t *Tensor) IndexSelect(axis int, idx []int) *Tensor {
	a := t.axis("index_select", axis)
	outer, n, inner := idxSplitShape(t.shape, a)
	pos := make([]int, len(idx))
	for k, i := range idx {
		j := i
		if j < 0 {
			j += n
		}
		if j < 0 || j >= n {
			panic(fmt.Sprintf("index_select: index %d at position %d out of range for axis %d of shape %s", i, k, axis, FormatShape(t.shape)))
		}
		pos[k] = j
	}
	m := len(pos)
	out := newOutput(idxWithDim(t.shape, a, m))
	for o := 0; o < outer; o++ {
		for k, j := range pos {
			s := (o*n + j) * inner
			copy(out.data[(o*m+k)*inner:(o*m+k+1)*inner], t.data[s:s+inner])
		}
	}
	return record("index_select", out, func(g []float32) {
		gt := gradOf(t)
		for o := 0; o < outer; o++ {
			for k, j := range pos {
				dst := gt[(o*n+j)*inner : (o*n+j+1)*inner]
				for e, v := range g[(o*m+k)*inner : (o*m+k+1)*inner] {
					dst[e] += v
				}
			}
		}
	}, t)
}

// OneHot returns the (len(labels), n) matrix whose row i is 1 at column
// labels[i] and 0 elsewhere. A label outside [0, n) panics naming it and its
// position.
func OneHot(labels []int, n int) *Tensor {
	if n < 0 {
		panic(fmt.Sprintf("one_hot: negative number of classes %d", n))
	}
	out := Zeros(len(labels), n)
	for i, l := range labels {
		if l < 0 || l >= n {
			panic(fmt.Sprintf("one_hot: label %d at position %d is outside [0,%d)", l, i, n))
		}
		out.data[i*n+l] = 1
	}
	return out
}

// idxEmbedWeight checks that weight is (vocab, dim) and returns both.
func idxEmbedWeight(weight *Tensor) (vocab, dim int) {
	if len(weight.shape) != 2 {
		panic(fmt.Sprintf("embedding: weight %s must be 2-D (vocab, dim)", FormatShape(weight.shape)))
	}
	return weight.shape[0], weight.shape[1]
}

// idxEmbed copies weight rows into a tensor of the given shape; the gradient
// accumulates back into those rows.
func idxEmbed(weight *Tensor, rows []int, shape []int) *Tensor {
	dim := weight.shape[1]
	out := newOutput(shape)
	for p, r := range rows {
		copy(out.data[p*dim:(p+1)*dim], weight.data[r*dim:(r+1)*dim])
	}
	return record("embedding", out, func(g []float32) {
		gw := gradOf(weight)
		for p, r := range rows {
			dst := gw[r*dim : (r+1)*dim]
			for j, v := range g[p*dim : (p+1)*dim] {
				dst[j] += v
			}
		}
	}, weight)
}

// Embedding looks up rows of weight (vocab, dim) by the ids in ids, a tensor of
// any shape holding integral values; the result has shape ids.Shape() + (dim).
// The gradient accumulates into the rows used (repeated ids add up); ids gets
// none. An id outside [0, vocab), or not an integer, panics naming it and its
// position.
func Embedding(weight *Tensor, ids *Tensor) *Tensor {
	vocab, dim := idxEmbedWeight(weight)
	rows := make([]int, len(ids.data))
	for p, v := range ids.data {
		r, bad := idxFromFloat(v, vocab)
		if bad != "" {
			panic(fmt.Sprintf("embedding: id %v at position %s %s (weight %s)", v, idxPos(p, ids.shape), bad, FormatShape(weight.shape)))
		}
		rows[p] = r
	}
	return idxEmbed(weight, rows, append(ids.Shape(), dim))
}

// EmbeddingInts is Embedding for ids given as a slice: the result has shape
// (len(ids), dim).
func EmbeddingInts(weight *Tensor, ids []int) *Tensor {
	vocab, dim := idxEmbedWeight(weight)
	for p, r := range ids {
		if r < 0 || r >= vocab {
			panic(fmt.Sprintf("embedding: id %d at position %d is outside [0,%d) (weight %s)", r, p, vocab, FormatShape(weight.shape)))
		}
	}
	return idxEmbed(weight, append([]int(nil), ids...), []int{len(ids), dim})
}

// Pad returns t with before copies of value inserted at the start of axis and
// after copies at its end (constant padding). The gradient flows to the
// original entries only.
func (t *Tensor) Pad(axis, before, after int, value float32) *Tensor {
	a := t.axis("pad", axis)
	if before < 0 || after < 0 {
		panic(fmt.Sprintf("pad: negative padding (%d before, %d after) for axis %d of shape %s", before, after, axis, FormatShape(t.shape)))
	}
	outer, n, inner := idxSplitShape(t.shape, a)
	m := n + before + after
	out := Full(value, idxWithDim(t.shape, a, m)...)
	w := n * inner
	for o := 0; o < outer; o++ {
		d := (o*m + before) * inner
		copy(out.data[d:d+w], t.data[o*w:(o+1)*w])
	}
	return record("pad", out, func(g []float32) {
		gt := gradOf(t)
		for o := 0; o < outer; o++ {
			dst := gt[o*w : (o+1)*w]
			d := (o*m + before) * inner
			for j, v := range g[d : d+w] {
				dst[j] += v
			}
		}
	}, t)
}

// idxTileWalk calls f(o, s, n) for every run of n contiguous elements that
// tiling a tensor of shape by reps copies from flat source offset s to flat
// output offset o.
func idxTileWalk(shape, reps []int, f func(o, s, n int)) {
	nd := len(shape)
	if nd == 0 {
		f(0, 0, 1)
		return
	}
	outShape := make([]int, nd)
	for d := range shape {
		outShape[d] = shape[d] * reps[d]
	}
	if idxProd(outShape) == 0 {
		return
	}
	srcStr, outStr := idxStrides(shape), idxStrides(outShape)
	var walk func(d, o, s int)
	walk = func(d, o, s int) {
		if d == nd-1 {
			for r := 0; r < reps[d]; r++ {
				f(o+r*shape[d], s, shape[d])
			}
			return
		}
		for i := 0; i < outShape[d]; i++ {
			walk(d+1, o+i*outStr[d], s+(i%shape[d])*srcStr[d])
		}
	}
	walk(0, 0, 0)
}

// Tile repeats t reps[d] times along each axis d, like numpy.tile; reps must
// have one non-negative entry per axis. The gradient sums over the copies.
func (t *Tensor) Tile(reps ...int) *Tensor {
	if len(reps) != len(t.shape) {
		panic(fmt.Sprintf("tile: %d repetitions %v for shape %s; give one per axis", len(reps), reps, FormatShape(t.shape)))
	}
	shape := make([]int, len(reps))
	for d, r := range reps {
		if r < 0 {
			panic(fmt.Sprintf("tile: negative repetition %d for axis %d of shape %s", r, d, FormatShape(t.shape)))
		}
		shape[d] = t.shape[d] * r
	}
	reps = append([]int(nil), reps...)
	out := newOutput(shape)
	idxTileWalk(t.shape, reps, func(o, s, n int) {
		copy(out.data[o:o+n], t.data[s:s+n])
	})
	return record("tile", out, func(g []float32) {
		gt := gradOf(t)
		idxTileWalk(t.shape, reps, func(o, s, n int) {
			dst := gt[s : s+n]
			for j, v := range g[o : o+n] {
				dst[j] += v
			}
		})
	}, t)
}

// Flip reverses the order of the elements along axis (a copy).
func (t *Tensor) Flip(axis int) *Tensor {
	a := t.axis("flip", axis)
	outer, n, inner := idxSplitShape(t.shape, a)
	out := newOutput(t.shape)
	for o := 0; o < outer; o++ {
		for k := 0; k < n; k++ {
			s := (o*n + n - 1 - k) * inner
			copy(out.data[(o*n+k)*inner:(o*n+k+1)*inner], t.data[s:s+inner])
		}
	}
	return record("flip", out, func(g []float32) {
		gt := gradOf(t)
		for o := 0; o < outer; o++ {
			for k := 0; k < n; k++ {
				d := (o*n + n - 1 - k) * inner
				dst := gt[d : d+inner]
				for j, v := range g[(o*n+k)*inner : (o*n+k+1)*inner] {
					dst[j] += v
				}
			}
		}
	}, t)
}

// Tril returns the (n, m) mask that is 1 on and below diagonal k and 0 above
// it, as numpy.tril(ones((n, m)), k): entry (i, j) is 1 when j ≤ i+k. k = 0 is
// the main diagonal, k < 0 below it, k > 0 above it. Tril(T, T, 0) is the causal
// attention mask (1 where a position may attend).
func Tril(n, m, k int) *Tensor {
	out := Zeros(n, m)
	for i := 0; i < n; i++ {
		for j := 0; j < m && j <= i+k; j++ {
			out.data[i*m+j] = 1
		}
	}
	return out
}

// Triu returns the (n, m) mask that is 1 on and above diagonal k and 0 below
// it, as numpy.triu(ones((n, m)), k): entry (i, j) is 1 when j ≥ i+k.
// Triu(T, T, 1) marks the future positions a causal attention must not see.
func Triu(n, m, k int) *Tensor {
	out := Zeros(n, m)
	for i := 0; i < n; i++ {
		for j := max(0, i+k); j < m; j++ {
			out.data[i*m+j] = 1
		}
	}
	return out
}
