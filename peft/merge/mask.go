package merge

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/graftml/graft/tensor"
)

// taskSet holds one call's task vectors as float64 copies (the methods work
// on these, so the caller's tensors are never touched), with the resolved
// weights and scaling λ.
type taskSet struct {
	shape   []int
	deltas  [][]float64
	weights []float64
	lambda  float64
}

// readTaskSet checks one MergeTensor call's arguments and copies the task
// vectors. Weights nil means all 1; λ 0 means 1. method and name appear in
// every error.
func readTaskSet(method, name string, base *tensor.Tensor, deltas []*tensor.Tensor, weights []float64, lambda float64) (*taskSet, error) {
	if len(deltas) == 0 {
		return nil, fmt.Errorf("merge: %s: parameter %q: no task vectors to merge", method, name)
	}
	if math.IsNaN(lambda) || math.IsInf(lambda, 0) {
		return nil, fmt.Errorf("merge: %s: lambda %v is not a finite number", method, lambda)
	}
	if weights != nil && len(weights) != len(deltas) {
		return nil, fmt.Errorf("merge: %s: parameter %q: %d weights for %d task vectors", method, name, len(weights), len(deltas))
	}
	for i, w := range weights {
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("merge: %s: weight %d is %v, not a finite number", method, i, w)
		}
	}
	for i, d := range deltas {
		if d == nil {
			return nil, fmt.Errorf("merge: %s: parameter %q: task vector %d is nil", method, name, i)
		}
	}
	shape := deltas[0].Shape()
	for i, d := range deltas[1:] {
		if !tensor.SameShape(deltas[0], d) {
			return nil, fmt.Errorf("merge: %s: parameter %q: task vector %d has shape %s but task vector 0 has %s",
				method, name, i+1, tensor.FormatShape(d.Shape()), tensor.FormatShape(shape))
		}
	}
	if base != nil && !tensor.SameShape(base, deltas[0]) {
		return nil, fmt.Errorf("merge: %s: parameter %q: task vectors have shape %s but the base has %s",
			method, name, tensor.FormatShape(shape), tensor.FormatShape(base.Shape()))
	}
	s := &taskSet{shape: shape, deltas: make([][]float64, len(deltas)), weights: make([]float64, len(deltas)), lambda: lambda}
	if s.lambda == 0 {
		s.lambda = 1
	}
	for i, d := range deltas {
		s.deltas[i] = d.Float64s()
		for j, v := range s.deltas[i] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("merge: %s: parameter %q: task vector %d holds %v at entry %d", method, name, i, v, j)
			}
		}
		s.weights[i] = 1
		if weights != nil {
			s.weights[i] = weights[i]
		}
	}
	return s, nil
}

// weightedSum returns λ·Σ w_i τ_i over the set's (possibly sparsified) task
// vectors.
func (s *taskSet) weightedSum() *tensor.Tensor {
	out := make([]float64, len(s.deltas[0]))
	for i, d := range s.deltas {
		for j, v := range d {
			out[j] += s.weights[i] * v
		}
	}
	return s.scaled(out)
}

// scaled multiplies a merged task vector by λ and returns it as a tensor of
// the task vectors' shape.
func (s *taskSet) scaled(out []float64) *tensor.Tensor {
	for j := range out {
		out[j] *= s.lambda
	}
	return tensor.FromFloat64(out, s.shape...)
}

// magnitudeOrder returns the indices of x from the largest magnitude to the
// smallest; among equal magnitudes the lower index comes first, so every
// cut through this order is deterministic.
func magnitudeOrder(x []float64) []int {
	idx := make([]int, len(x))
	mag := make([]float64, len(x))
	for i, v := range x {
		idx[i], mag[i] = i, math.Abs(v)
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := cmp.Compare(mag[b], mag[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return idx
}

// keepLargest zeroes all but the k entries of x that come first in
// magnitudeOrder.
func keepLargest(x []float64, k int) {
	for _, i := range magnitudeOrder(x)[k:] {
		x[i] = 0
	}
}

// fractionCount is ⌊f·n⌋, computed so that products such as 0.29·100 that
// float64 renders just below an integer still count as that integer.
func fractionCount(f float64, n int) int {
	return int(math.Floor(f*float64(n) + 1e-9))
}

// checkDensity returns an error unless density lies in (0, 1].
func checkDensity(method string, density float64) error {
	if !(density > 0 && density <= 1) {
		return fmt.Errorf("merge: %s: density %v is outside (0, 1]", method, density)
	}
	return nil
}
