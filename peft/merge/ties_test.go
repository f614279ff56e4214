package merge

import (
	"fmt"
	"testing"

	"github.com/graftml/graft/tensor"
)

func TestTIESTrimElectMean(t *testing.T) {
	shape := []int{2, 3}
	deltas := taskVecs(shape,
		[]float64{4, -3, 0.5, 1, -2, 0},
		// Magnitudes 1, 2, 3, 0.2, 2, 2: three entries tie at 2 for the last
		// two places; the lower indices 1 and 4 are kept, 5 is dropped.
		[]float64{-1, 2, 3, 0.2, -2, 2},
		[]float64{-2, 1, -0.5, 3, -1, 5})
	// Density 0.5 keeps 3 of 6:
	//   τ̂1 = [4, -3, 0, 0, -2, 0]
	//   τ̂2 = [0, 2, 3, 0, -2, 0]
	//   τ̂3 = [-2, 0, 0, 3, 0, 5]
	// Sums [2, -1, 3, 3, -4, 5] elect [+, −, +, +, −, +]; the agreeing
	// entries' means are [4, -3, 3, 3, -2, 5]; λ = 0.5 halves them.
	want := []float64{2, -1.5, 1.5, 1.5, -1, 2.5}
	for _, c := range []TIESConvention{ConventionMergekit, ConventionPEFT} {
		wantMerged(t, c.String(), mergeOne(t, TIES{Density: 0.5, Lambda: 0.5, Convention: c}, deltas), shape, want)
	}
}

func TestTIESConventions(t *testing.T) {
	shape := []int{4}
	deltas := taskVecs(shape, []float64{2, 1, -1, 2}, []float64{-1, -3, 1, 4})
	w := []float64{3, 1}
	// mergekit: votes w·τ = [6, 3, -3, 6] and [-1, -3, 1, 4]; sums [5, 0, -2,
	// 10] elect [+, 0, −, +]; weighted means [6/3, 0, -3/3, (6+4)/(3+1)].
	wantMerged(t, "mergekit", mergeOne(t, TIES{Density: 1, Weights: w}, deltas), shape, []float64{2, 0, -1, 2.5})
	// PEFT: votes τ; sums [1, -2, 0, 6] elect [+, −, 0, +]; weighted sums
	// over the count of agreeing entries: [6/1, -3/1, 0, (6+4)/2].
	wantMerged(t, "PEFT", mergeOne(t, TIES{Density: 1, Weights: w, Convention: ConventionPEFT}, deltas), shape, []float64{6, -3, 0, 5})
	// With all weights 1 the conventions agree: sums [1, -2, 0, 6] elect
	// [+, −, 0, +]; means [2, -3, 0, (2+4)/2].
	for _, c := range []TIESConvention{ConventionMergekit, ConventionPEFT} {
		wantMerged(t, "weights 1 "+c.String(), mergeOne(t, TIES{Density: 1, Convention: c}, deltas), shape, []float64{2, -3, 0, 3})
	}
}

func TestTIESConventionsAgreeWithUnitWeights(t *testing.T) {
	r := tensor.NewRNG(1)
	for range 20 {
		deltas := []*tensor.Tensor{tensor.Randn(r, 7, 3), tensor.Randn(r, 7, 3), tensor.Randn(r, 7, 3)}
		for _, byCount := range []bool{false, true} {
			a := mergeOne(t, TIES{Density: 0.4, ElectByCount: byCount}, deltas)
			b := mergeOne(t, TIES{Density: 0.4, ElectByCount: byCount, Convention: ConventionPEFT, Weights: []float64{1, 1, 1}}, deltas)
			wantMerged(t, "unit weights", b, []int{7, 3}, a.Float64s())
		}
	}
}

func TestTIESElectByCount(t *testing.T) {
	shape := []int{3}
	deltas := taskVecs(shape, []float64{1, 3, 5}, []float64{-1, -1, -1}, []float64{0, 0, -1})
	// By sum: [0, 2, 3] elect [0, +, +]: a tie at zero gives 0.
	wantMerged(t, "sum", mergeOne(t, TIES{Density: 1}, deltas), shape, []float64{0, 3, 5})
	// By count: [0, 0, -1] elect [0, 0, −]; the two −1 average to −1.
	for _, c := range []TIESConvention{ConventionMergekit, ConventionPEFT} {
		wantMerged(t, "count "+c.String(), mergeOne(t, TIES{Density: 1, ElectByCount: true, Convention: c}, deltas), shape, []float64{0, 0, -1})
	}
}

func TestTIESSmallTensorsKeepAnEntry(t *testing.T) {
	// The default density 0.2 keeps round(0.6) = 1 of 3 entries and, rounded
	// up to at least one, 1 of 2 (flooring would keep none).
	wantMerged(t, "3 entries", mergeOne(t, TIES{}, taskVecs([]int{3}, []float64{1, -3, 2})), []int{3}, []float64{0, -3, 0})
	wantMerged(t, "2 entries", mergeOne(t, TIES{}, taskVecs([]int{2}, []float64{1, 1})), []int{2}, []float64{1, 0})
	// 10 entries at 0.2 keep 2.
	wantMerged(t, "10 entries", mergeOne(t, TIES{}, taskVecs([]int{10}, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, -10})), []int{10}, []float64{0, 0, 0, 0, 0, 0, 0, 0, 9, -10})
}

// Two models disagree on three of four entries; the first counts three times
// as much. mergekit's convention takes the weighted mean of the entries that
// agree with the weighted vote; PEFT's votes unweighted and divides by the
// number of agreeing entries. A tied vote gives 0.
func ExampleTIES() {
	deltas := []*tensor.Tensor{
		tensor.New([]float32{2, 1, -1, 2}, 4),
		tensor.New([]float32{-1, -3, 1, 4}, 4),
	}
	for _, c := range []TIESConvention{ConventionMergekit, ConventionPEFT} {
		m := TIES{Density: 1, Weights: []float64{3, 1}, Convention: c}
		merged, err := m.MergeTensor("layer.weight", nil, deltas)
		if err != nil {
			panic(err)
		}
		fmt.Println(c, merged.Float64s())
	}
	// Output:
	// mergekit [2 0 -1 2.5]
	// PEFT [6 -3 0 5]
}
