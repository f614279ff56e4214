package merge

import (
	"math"
	"testing"

	"github.com/graftml/graft/tensor"
)

func TestModelStockByHand(t *testing.T) {
	base := tensor.New([]float32{5, 5}, 2)
	s := math.Sqrt(0.5)
	cases := []struct {
		name   string
		deltas [][]float32
		want   []float64
	}{
		// k = 2, cos θ = 1/√2: t = 2c/(1+c) = 2/(√2+1) = 2√2 − 2 ≈ 0.8284,
		// mean task vector (1, ½).
		{"k=2 at 45°", [][]float32{{1, 0}, {1, 1}}, []float64{2*math.Sqrt2 - 2, (2*math.Sqrt2 - 2) * 0.5}},
		// Agreeing task vectors keep their mean (t = 1).
		{"k=2 colinear", [][]float32{{1, 1}, {3, 3}}, []float64{2, 2}},
		// Orthogonal ones fall back to the base (t = 0).
		{"k=2 orthogonal", [][]float32{{1, 0}, {0, 2}}, []float64{0, 0}},
		// Opposite ones too (a negative cosine counts as 0).
		{"k=2 opposite", [][]float32{{1, 0}, {-1, 0.5}}, []float64{0, 0}},
		// k = 3 with pairwise cosines 1/√2, 1/√2, 0: mean c = √2/3, so
		// t = 3c/(1+2c) = √2/(1 + 2√2/3), mean task vector (2/3, 2/3).
		{"k=3", [][]float32{{1, 0}, {float32(s), float32(s)}, {0, 1}},
			[]float64{math.Sqrt2 / (1 + 2*math.Sqrt2/3) * (1 + s) / 3, math.Sqrt2 / (1 + 2*math.Sqrt2/3) * (1 + s) / 3}},
	}
	for _, c := range cases {
		deltas := make([]*tensor.Tensor, len(c.deltas))
		for i, d := range c.deltas {
			deltas[i] = tensor.New(d, 2)
		}
		got, err := ModelStock{}.MergeTensor("w", base, deltas)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		expectFloats(t, c.name, got.Float64s(), c.want, 1e-6)
	}
	_, err := ModelStock{}.MergeTensor("w", base, []*tensor.Tensor{tensor.New([]float32{1, 0}, 2)})
	expectError(t, err, "Model Stock", "at least 2", "got 1", `"w"`)
}
