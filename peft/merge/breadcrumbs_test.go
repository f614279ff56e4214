package merge

import (
	"fmt"
	"testing"

	"github.com/graftml/graft/tensor"
)

func TestBreadcrumbsSmallTensor(t *testing.T) {
	// 5 entries, β = 0.1: β·n = 0.5 < 1, so no outlier is dropped (mergekit
	// would return all zeros); γ = 0.2 drops the ⌊1⌋ smallest, 0.5.
	shape := []int{5}
	got := mergeOne(t, Breadcrumbs{Beta: 0.1, Gamma: 0.2}, taskVecs(shape, []float64{0.5, -4, 2, 1, -3}))
	wantMerged(t, "5 entries", got, shape, []float64{0, -4, 2, 1, -3})
}

func TestBreadcrumbsWeighted(t *testing.T) {
	shape := []int{2, 5}
	deltas := taskVecs(shape,
		[]float64{10, -1, 2, -3, 0.1, 4, -5, 6, 0, 0.2},
		// All magnitudes tie: the lower index ranks larger, so the outlier is
		// entry 0 and the three smallest are entries 7, 8, 9.
		[]float64{1, 1, 1, 1, 1, -1, -1, -1, 1, 1})
	// β = 0.1 drops 1 outlier, γ = 0.3 drops 3 smallest:
	//   τ̃1 = [0, -1, 2, -3, 0, 4, -5, 6, 0, 0]   (10; 0, 0.1, 0.2 dropped)
	//   τ̃2 = [0, 1, 1, 1, 1, -1, -1, 0, 0, 0]
	// 0.5·(τ̃1 + 2·τ̃2) = 0.5·[0, 1, 4, -1, 2, 2, -7, 6, 0, 0].
	got := mergeOne(t, Breadcrumbs{Beta: 0.1, Gamma: 0.3, Weights: []float64{1, 2}, Lambda: 0.5}, deltas)
	wantMerged(t, "weighted", got, shape, []float64{0, 0.5, 2, -0.5, 1, 1, -3.5, 3, 0, 0})
}

func TestBreadcrumbsZeroValueIsTaskArithmetic(t *testing.T) {
	shape := []int{3}
	deltas := taskVecs(shape, []float64{1, -2, 3}, []float64{0.5, 0, -1})
	wantMerged(t, "zero value", mergeOne(t, Breadcrumbs{}, deltas), shape, mergeOne(t, TaskArithmetic{}, deltas).Float64s())
}

func TestBreadcrumbsCountsAtFloatEdges(t *testing.T) {
	// 0.29·100 is 28.999999999999996 in float64; it still drops 29.
	data := make([]float64, 100)
	for i := range data {
		data[i] = float64(i + 1)
	}
	got := mergeOne(t, Breadcrumbs{Gamma: 0.29}, taskVecs([]int{100}, data)).Float64s()
	for i, v := range got {
		if (i < 29) != (v == 0) {
			t.Fatalf("entry %d = %v: want the 29 smallest dropped", i, v)
		}
	}
}

// On a 5-entry tensor a 10% outlier fraction rounds to no outlier, so only
// the smallest entry (20% of 5) is dropped.
func ExampleBreadcrumbs() {
	delta := tensor.New([]float32{0.5, -4, 2, 1, -3}, 5)
	merged, err := Breadcrumbs{Beta: 0.1, Gamma: 0.2}.MergeTensor("bias", nil, []*tensor.Tensor{delta})
	if err != nil {
		panic(err)
	}
	fmt.Println(merged.Float64s())
	// Output: [0 -4 2 1 -3]
}
