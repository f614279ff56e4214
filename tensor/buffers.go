package tensor

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
)

// Float32 buffers that live for one operation, one Backward or one training
// step — results of operations, gradients of intermediate tensors,
// convolution columns — are recycled here, one free list per power-of-two
// capacity. A training loop asks for the same sizes every step: reusing them
// saves the page faults and zeroing of fresh memory, which otherwise cost as
// much as the arithmetic.
//
// The free lists are shared by all goroutines (a sync.Pool keeps one item
// per processor out of the others' reach, and then misses whenever a
// goroutine moves). Like a sync.Pool they give memory back to the garbage
// collector: a buffer not asked for between two collections is dropped.

// minPooled is the smallest buffer worth recycling (1 K floats, 4 KiB).
const minPooled = 1 << 10

// freeList holds the recycled buffers of one capacity: recent ones, and
// those left over from before the last collection (dropped at the next).
type freeList struct {
	mu          sync.Mutex
	recent, old [][]float32
}

var freeLists [64]freeList

// idleDrops counts the collections after which idle buffers were dropped.
var idleDrops atomic.Uint64

func init() { dropIdleBuffersAtEachGC() }

// dropIdleBuffersAtEachGC arranges for every garbage collection to drop the
// buffers that stayed unused since the one before.
func dropIdleBuffersAtEachGC() {
	// The sentinel is 32 bytes: smaller pointer-free objects may share a
	// block with others and so never become unreachable on their own.
	runtime.AddCleanup(new([32]byte), func(struct{}) {
		for i := range freeLists {
			l := &freeLists[i]
			l.mu.Lock()
			clear(l.old)
			l.old, l.recent = l.recent, l.old[:0]
			l.mu.Unlock()
		}
		idleDrops.Add(1)
		dropIdleBuffersAtEachGC()
	}, struct{}{})
}

// getBuffer returns a buffer of length n with unspecified contents.
func getBuffer(n int) []float32 {
	if n < minPooled {
		return make([]float32, n)
	}
	c := bits.Len(uint(n - 1))
	l := &freeLists[c]
	l.mu.Lock()
	var b []float32
	switch {
	case len(l.recent) > 0:
		b = l.recent[len(l.recent)-1]
		l.recent[len(l.recent)-1] = nil
		l.recent = l.recent[:len(l.recent)-1]
	case len(l.old) > 0:
		b = l.old[len(l.old)-1]
		l.old[len(l.old)-1] = nil
		l.old = l.old[:len(l.old)-1]
	}
	l.mu.Unlock()
	if b != nil {
		return b[:n]
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
		l := &freeLists[bits.Len(uint(c-1))]
		l.mu.Lock()
		l.recent = append(l.recent, b[:0])
		l.mu.Unlock()
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
