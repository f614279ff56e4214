package tensor

import "fmt"

// Dropout applies inverted dropout: while training, each element is zeroed
// with probability p and the kept ones are divided by 1−p, so the expected
// value is unchanged and evaluation needs no rescaling. The mask takes one
// r.Float64() per element in row-major order, keeping the element when the
// draw is ≥ p; the gradient uses the same mask (g/(1−p) where kept, 0 where
// dropped). When training is false or p is 0, t itself is returned. p outside
// [0, 1) panics, whatever the mode.
func (t *Tensor) Dropout(p float32, r Rand, training bool) *Tensor {
	if !(p >= 0 && p < 1) {
		panic(fmt.Sprintf("dropout: probability %v is outside [0, 1)", p))
	}
	if !training || p == 0 {
		return t
	}
	if r == nil {
		panic(fmt.Sprintf("dropout: no random source for training-mode dropout of %s", FormatShape(t.shape)))
	}
	q := 1 - p
	pf := float64(p)
	keep := make([]bool, len(t.data))
	out := newOutput(t.shape)
	for i, v := range t.data {
		if r.Float64() >= pf {
			keep[i] = true
			out.data[i] = v / q
		}
	}
	return record("dropout", out, func(g []float32) {
		gt := gradOf(t)
		for i, k := range keep {
			if k {
				gt[i] += g[i] / q
			}
		}
	}, t)
}
