package merge

import "testing"

func TestTaskArithmeticTensor(t *testing.T) {
	shape := []int{2, 2}
	deltas := taskVecs(shape, []float64{1, -2, 3, 0}, []float64{2, 2, -1, 4})
	// 0.8·(0.5·τ1 + 2·τ2) = 0.8·[4.5, 3, -0.5, 8].
	wantMerged(t, "weighted", mergeOne(t, TaskArithmetic{Weights: []float64{0.5, 2}, Lambda: 0.8}, deltas), shape, []float64{3.6, 2.4, -0.4, 6.4})
	// The zero value: the plain sum.
	wantMerged(t, "zero value", mergeOne(t, TaskArithmetic{}, deltas), shape, []float64{3, 0, 2, 4})
	// λ = −1 negates the tasks.
	wantMerged(t, "negation", mergeOne(t, TaskArithmetic{Lambda: -1}, deltas), shape, []float64{-3, 0, -2, -4})
}
