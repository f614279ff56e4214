package merge

import (
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

// largestMask reports which entries of x are among its k largest
// magnitudes, where among equal magnitudes the lower flat index ranks as the
// larger: exactly min(k, len(x)) entries are marked, and the marks for a
// smaller k are a subset of those for a larger one. It runs in linear
// expected time (a selection, not a sort).
func largestMask(x []float64, k int) []bool {
	keep := make([]bool, len(x))
	if k <= 0 {
		return keep
	}
	mag := make([]float64, len(x))
	for i, v := range x {
		mag[i] = math.Abs(v)
	}
	if k >= len(x) {
		for i := range keep {
			keep[i] = true
		}
		return keep
	}
	t := kthLargest(slices.Clone(mag), k)
	above := 0
	for _, m := range mag {
		if m > t {
			above++
		}
	}
	ties := k - above
	for i, m := range mag {
		if m > t || m == t && ties > 0 {
			keep[i] = true
			if m == t {
				ties--
			}
		}
	}
	return keep
}

// kthLargest returns the k-th largest value of a (k from 1), reordering a:
// quickselect with three-way partitions, so runs of equal values (such as
// the zeros of a sparse task vector) cost no more than distinct ones.
func kthLargest(a []float64, k int) float64 {
	lo, hi, target := 0, len(a), k-1
	for hi-lo > 1 {
		p := median3(a[lo], a[lo+(hi-lo)/2], a[hi-1])
		// Partition into [lo, gt) > p, [gt, lt) = p, [lt, hi) < p.
		gt, i, lt := lo, lo, hi
		for i < lt {
			switch {
			case a[i] > p:
				a[gt], a[i] = a[i], a[gt]
				gt++
				i++
			case a[i] < p:
				lt--
				a[i], a[lt] = a[lt], a[i]
			default:
				i++
			}
		}
		switch {
		case target < gt:
			hi = gt
		case target < lt:
			return p
		default:
			lo = lt
		}
	}
	return a[lo]
}

// median3 returns the middle one of three values.
func median3(a, b, c float64) float64 {
	return max(min(a, b), min(max(a, b), c))
}

// fractionCount is ⌊f·n⌋, computed so that products such as 0.29·100 that
// float64 renders just below an integer still count as that integer.
func fractionCount(f float64, n int) int {
	return int(math.Floor(f*float64(n) + 1e-9))
}

// densityError returns an error unless density lies in (0, 1].
func densityError(method string, density float64) error {
	if !(density > 0 && density <= 1) {
		return fmt.Errorf("merge: %s: density %v is outside (0, 1]", method, density)
	}
	return nil
}
