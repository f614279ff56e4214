package da

import (
	"testing"
)

// BenchmarkMMDBackward times multi-kernel MMD² (DAN's five kernels) and its
// gradient on two batches of 150 rows of width 15.
func BenchmarkMMDBackward(b *testing.B) {
	xs, xt := randn(1, 150, 15, 0, 1).SetRequiresGrad(true), randn(2, 150, 15, 0.5, 1).SetRequiresGrad(true)
	for b.Loop() {
		m, _ := MMD(xs, xt, MMDOptions{})
		m.Backward()
	}
}
