package tensor

import (
	"math/bits"
	"sync"
)

// Large float32 buffers that live only for one operation or one Backward —
// gradients of intermediate tensors, convolution columns — are recycled here,
// one pool per power-of-two capacity. A training loop asks for the same sizes
// every step: reusing them saves the page faults and zeroing of fresh memory,
// which otherwise cost as much as the arithmetic.

// minPooled is the smallest buffer worth recycling (1 K floats, 4 KiB).
const minPooled = 1 << 10

var bufferPools [64]sync.Pool

// getBuffer returns a buffer of length n with unspecified contents.
func getBuffer(n int) []float32 {
	if n < minPooled {
		return make([]float32, n)
	}
	c := bits.Len(uint(n - 1))
	if p, ok := bufferPools[c].Get().(*[]float32); ok {
		return (*p)[:n]
	}
	return make([]float32, n, 1<<c)
}

// getZeroedBuffer returns a buffer of length n filled with zeros.
func getZeroedBuffer(n int) []float32 {
	b := getBuffer(n)
	if n >= minPooled { // possibly recycled
		clear(b)
	}
	return b
}

// putBuffer recycles a buffer from getBuffer that nothing refers to any more.
func putBuffer(b []float32) {
	if c := cap(b); c >= minPooled && c&(c-1) == 0 {
		bufferPools[bits.Len(uint(c-1))].Put(&b)
	}
}

// newOutput returns a zero-filled tensor of the given shape for an
// operation's result, its buffer drawn from the pool so that Release can
// recycle it once the step is over.
func newOutput(shape []int) *Tensor {
	t := newTensor(shape, getZeroedBuffer(numel("tensor", shape)))
	t.pooled = true
	return t
}

// newOutputUninit is newOutput with unspecified contents: the operation must
// write every element.
func newOutputUninit(shape []int) *Tensor {
	t := newTensor(shape, getBuffer(numel("tensor", shape)))
	t.pooled = true
	return t
}
