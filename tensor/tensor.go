// Package tensor is graft's engine: float32 row-major tensors with eager,
// define-by-run reverse-mode automatic differentiation.
//
// Every operation computes its result immediately and, when gradients are
// enabled and an input requires them, records how to send gradients back to its
// inputs. Calling Backward on a scalar result fills the Grad of every leaf
// tensor that requires gradients (accumulating, as PyTorch does, until ZeroGrad).
// Shape errors panic with the operation's name and the shapes involved, e.g.
// "matmul: (32,784) x (100,10): inner dimensions differ"; graft's kernel turns
// such panics into cell errors. New differentiable operations with a hand-written
// backward are defined with Custom.
package tensor

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Tensor is an n-dimensional array of float32 values in row-major order,
// optionally tracking gradients.
type Tensor struct {
	shape        []int
	data         []float32
	grad         []float32
	requiresGrad bool
	retainGrad   bool
	node         *node
	// pooled marks data as an op's fresh result drawn from the buffer pool
	// (outputBuffer), which Release may recycle. Views, user-supplied data and
	// buffers handed out by Data are never pooled.
	pooled bool
	// released marks a tensor whose memory Release gave back.
	released bool
}

// numel returns the product of the dimensions, panicking on negatives.
func numel(op string, shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("%s: negative dimension in shape %s", op, FormatShape(shape)))
		}
		n *= d
	}
	return n
}

// FormatShape renders a shape the way graft's error messages do, e.g. "(32,784)".
func FormatShape(shape []int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, d := range shape {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, d)
	}
	b.WriteByte(')')
	return b.String()
}

// newTensor wraps data with a copy of shape; data must have the right length.
func newTensor(shape []int, data []float32) *Tensor {
	return &Tensor{shape: append([]int(nil), shape...), data: data}
}

// New returns a tensor with the given shape over a copy of data.
// It panics if len(data) does not equal the product of shape.
func New(data []float32, shape ...int) *Tensor {
	n := numel("tensor.New", shape)
	if len(data) != n {
		panic(fmt.Sprintf("tensor.New: %d values do not fill shape %s (%d values)", len(data), FormatShape(shape), n))
	}
	return newTensor(shape, append([]float32(nil), data...))
}

// FromFloat64 returns a tensor with the given shape holding data converted to float32.
func FromFloat64(data []float64, shape ...int) *Tensor {
	n := numel("tensor.FromFloat64", shape)
	if len(data) != n {
		panic(fmt.Sprintf("tensor.FromFloat64: %d values do not fill shape %s (%d values)", len(data), FormatShape(shape), n))
	}
	out := make([]float32, n)
	for i, v := range data {
		out[i] = float32(v)
	}
	return newTensor(shape, out)
}

// Wrap returns a tensor that uses data directly (no copy) as its storage.
func Wrap(data []float32, shape ...int) *Tensor {
	n := numel("tensor.Wrap", shape)
	if len(data) != n {
		panic(fmt.Sprintf("tensor.Wrap: %d values do not fill shape %s (%d values)", len(data), FormatShape(shape), n))
	}
	return newTensor(shape, data)
}

// Scalar returns a 0-dimensional tensor holding v.
func Scalar(v float32) *Tensor { return newTensor(nil, []float32{v}) }

// Zeros returns a tensor of the given shape filled with 0.
func Zeros(shape ...int) *Tensor {
	return newTensor(shape, make([]float32, numel("tensor.Zeros", shape)))
}

// Ones returns a tensor of the given shape filled with 1.
func Ones(shape ...int) *Tensor { return Full(1, shape...) }

// Full returns a tensor of the given shape filled with v.
func Full(v float32, shape ...int) *Tensor {
	t := newTensor(shape, make([]float32, numel("tensor.Full", shape)))
	if v != 0 {
		for i := range t.data {
			t.data[i] = v
		}
	}
	return t
}

// ZerosLike returns a tensor of zeros with t's shape.
func ZerosLike(t *Tensor) *Tensor { return Zeros(t.shape...) }

// OnesLike returns a tensor of ones with t's shape.
func OnesLike(t *Tensor) *Tensor { return Ones(t.shape...) }

// Arange returns the 1-D tensor start, start+step, … up to but excluding stop.
func Arange(start, stop, step float32) *Tensor {
	if step == 0 {
		panic("tensor.Arange: step is 0")
	}
	n := int(math.Ceil(float64((stop - start) / step)))
	if n < 0 {
		n = 0
	}
	t := Zeros(n)
	for i := range t.data {
		t.data[i] = start + float32(i)*step
	}
	return t
}

// Eye returns the n×n identity matrix.
func Eye(n int) *Tensor {
	t := Zeros(n, n)
	for i := 0; i < n; i++ {
		t.data[i*n+i] = 1
	}
	return t
}

// Linspace returns n evenly spaced values from start to stop inclusive.
func Linspace(start, stop float32, n int) *Tensor {
	t := Zeros(n)
	for i := range t.data {
		if n == 1 {
			t.data[i] = start
			continue
		}
		t.data[i] = start + (stop-start)*float32(i)/float32(n-1)
	}
	return t
}

// Shape returns a copy of the tensor's dimensions.
func (t *Tensor) Shape() []int { return append([]int(nil), t.shape...) }

// Dims returns the number of dimensions.
func (t *Tensor) Dims() int { return len(t.shape) }

// Dim returns the size of dimension i; negative i counts from the end.
func (t *Tensor) Dim(i int) int { return t.shape[t.axis("dim", i)] }

// Len returns the number of elements.
func (t *Tensor) Len() int { return len(t.data) }

// Data returns the underlying values in row-major order. The slice is shared
// with the tensor: writing to it changes the tensor (and is not recorded by
// autodiff). A slice handed out here stays valid even after Release.
func (t *Tensor) Data() []float32 {
	t.live("data")
	t.pooled = false // the caller may keep the slice: never recycle it
	return t.data
}

// Float64s returns a copy of the values converted to float64.
func (t *Tensor) Float64s() []float64 {
	out := make([]float64, len(t.data))
	for i, v := range t.data {
		out[i] = float64(v)
	}
	return out
}

// Item returns the single value of a one-element tensor.
func (t *Tensor) Item() float32 {
	t.live("item")
	if len(t.data) != 1 {
		panic(fmt.Sprintf("item: tensor of shape %s has %d elements, not 1", FormatShape(t.shape), len(t.data)))
	}
	return t.data[0]
}

// offset converts a multi-index to a flat position, checking bounds.
func (t *Tensor) offset(op string, idx []int) int {
	if len(idx) != len(t.shape) {
		panic(fmt.Sprintf("%s: %d indices for a tensor of shape %s", op, len(idx), FormatShape(t.shape)))
	}
	off := 0
	for i, v := range idx {
		d := t.shape[i]
		if v < 0 {
			v += d
		}
		if v < 0 || v >= d {
			panic(fmt.Sprintf("%s: index %d out of range for dimension %d of shape %s", op, idx[i], i, FormatShape(t.shape)))
		}
		off = off*d + v
	}
	return off
}

// At returns the element at the given indices (negative indices count from the end).
func (t *Tensor) At(idx ...int) float32 {
	t.live("at")
	return t.data[t.offset("at", idx)]
}

// SetAt writes v at the given indices. It is not recorded by autodiff.
func (t *Tensor) SetAt(v float32, idx ...int) { t.data[t.offset("set", idx)] = v }

// Fill sets every element to v in place (not recorded by autodiff) and returns t.
func (t *Tensor) Fill(v float32) *Tensor {
	for i := range t.data {
		t.data[i] = v
	}
	return t
}

// CopyFrom copies src's values into t in place (shapes must hold the same
// number of elements); not recorded by autodiff. It returns t.
func (t *Tensor) CopyFrom(src *Tensor) *Tensor {
	if len(src.data) != len(t.data) {
		panic(fmt.Sprintf("copy: source %s and destination %s differ in size", FormatShape(src.shape), FormatShape(t.shape)))
	}
	copy(t.data, src.data)
	return t
}

// Clone returns a copy of the tensor's values and shape, detached from any graph.
func (t *Tensor) Clone() *Tensor {
	c := newTensor(t.shape, append([]float32(nil), t.data...))
	c.requiresGrad = t.requiresGrad && t.node == nil
	return c
}

// axis normalises a possibly negative axis, panicking with op's name if out of range.
func (t *Tensor) axis(op string, a int) int {
	n := len(t.shape)
	ax := a
	if ax < 0 {
		ax += n
	}
	if ax < 0 || ax >= n {
		panic(fmt.Sprintf("%s: axis %d out of range for shape %s", op, a, FormatShape(t.shape)))
	}
	return ax
}

// SameShape reports whether a and b have identical shapes.
func SameShape(a, b *Tensor) bool { return slices.Equal(a.shape, b.shape) }

// String renders the tensor like NumPy, abbreviating large tensors.
func (t *Tensor) String() string {
	if t.released {
		return "tensor(freed by Release, shape=" + FormatShape(t.shape) + ")"
	}
	var b strings.Builder
	b.WriteString("tensor(")
	if len(t.shape) == 0 {
		b.WriteString(formatValue(t.data[0]))
	} else {
		t.format(&b, 0, 0, 7)
	}
	fmt.Fprintf(&b, ", shape=%s", FormatShape(t.shape))
	if t.requiresGrad {
		b.WriteString(", requires_grad")
	}
	b.WriteString(")")
	return b.String()
}

func formatValue(v float32) string { return strconv.FormatFloat(float64(v), 'g', 5, 32) }

func (t *Tensor) format(b *strings.Builder, dim, off, depth int) {
	n := t.shape[dim]
	stride := 1
	for _, d := range t.shape[dim+1:] {
		stride *= d
	}
	b.WriteByte('[')
	const edge = 3
	for i := 0; i < n; i++ {
		if n > 2*edge+1 && i == edge {
			b.WriteString("…")
			if dim < len(t.shape)-1 {
				b.WriteString(",\n" + strings.Repeat(" ", 7+dim+1))
			} else {
				b.WriteString(", ")
			}
			i = n - edge - 1
			continue
		}
		if dim == len(t.shape)-1 {
			b.WriteString(formatValue(t.data[off+i]))
			if i < n-1 {
				b.WriteString(", ")
			}
		} else {
			t.format(b, dim+1, off+i*stride, depth)
			if i < n-1 {
				b.WriteString(",\n" + strings.Repeat(" ", 7+dim+1))
			}
		}
	}
	b.WriteByte(']')
}
