package tensor

import "sync"

// Gradient buffers of intermediate tensors live only during Backward. Large
// ones are recycled here by exact length, since a training loop asks for the
// same sizes every step: reusing them saves the page faults and zeroing of
// fresh memory, which otherwise cost as much as the arithmetic.

// minPooled is the smallest buffer worth recycling (256 KiB).
const minPooled = 1 << 16

var gradBuffers sync.Map // length → *sync.Pool of *[]float32

// getGradBuffer returns a zeroed buffer of length n.
func getGradBuffer(n int) []float32 {
	if n < minPooled {
		return make([]float32, n)
	}
	if p, ok := gradBuffers.Load(n); ok {
		if b, ok := p.(*sync.Pool).Get().(*[]float32); ok {
			clear(*b)
			return *b
		}
	}
	return make([]float32, n)
}

// putGradBuffer recycles a buffer no tensor refers to any more.
func putGradBuffer(b []float32) {
	if len(b) < minPooled {
		return
	}
	p, _ := gradBuffers.LoadOrStore(len(b), &sync.Pool{})
	p.(*sync.Pool).Put(&b)
}
