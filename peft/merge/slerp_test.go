package merge

import (
	"math"
	"testing"

	"github.com/graftml/graft/tensor"
)

func TestSLERPByHand(t *testing.T) {
	zero := tensor.Zeros(2)
	e1, e2 := tensor.New([]float32{1, 0}, 2), tensor.New([]float32{0, 1}, 2)
	r := 1 / math.Sqrt2
	cases := []struct {
		name         string
		s            SLERP
		base, d0, d1 *tensor.Tensor
		want         []float64
	}{
		// Orthogonal unit vectors: the midpoint of the arc, not of the chord.
		{"orthogonal, t=0.5", SLERP{T: 0.5}, zero, e1, e2, []float64{r, r}},
		// sin(ω/3)/sin ω with ω = π/2: 1/2 and √3/2.
		{"orthogonal, t=1/3", SLERP{T: 1. / 3}, zero, e1, e2, []float64{math.Sqrt(3) / 2, 0.5}},
		{"t=0 is the first model", SLERP{}, zero, e1, e2, []float64{1, 0}},
		{"t=1 is the second model", SLERP{T: 1}, zero, e1, e2, []float64{0, 1}},
		// Colinear models (1,0) and (3,0): linear interpolation, (2,0).
		{"colinear falls back to lerp", SLERP{T: 0.5}, zero, e1, tensor.New([]float32{3, 0}, 2), []float64{2, 0}},
		// The angle is between θ = base + δ, not between the δ: with base
		// (1,0), θ_0 = (1,1) and θ_1 = (1,-1) are orthogonal of norm √2, so
		// the midpoint is (√2, 0) and its task vector (√2 − 1, 0).
		{"angle of the models, not the task vectors", SLERP{T: 0.5}, tensor.New([]float32{1, 0}, 2),
			tensor.New([]float32{0, 1}, 2), tensor.New([]float32{0, -1}, 2), []float64{math.Sqrt2 - 1, 0}},
		// Unnormalised: norms 1 and 2 at right angles interpolate the
		// direction with the arc's weights, the norm linearly in effect.
		{"unnormalised tensors", SLERP{T: 0.5}, zero, e1, tensor.New([]float32{0, 2}, 2), []float64{r, 2 * r}},
		// A zero model has no direction: linear interpolation.
		{"zero model", SLERP{T: 0.25}, zero, zero, e2, []float64{0, 0.25}},
		// cos = 0.999 < 0.9995 is slerped by default, but lerped with a
		// threshold of 0.99.
		{"threshold", SLERP{T: 0.5, Threshold: 0.99}, zero, e1, tensor.New([]float32{1, 0.0448}, 2), []float64{1, 0.0224}},
	}
	for _, c := range cases {
		got, err := c.s.MergeTensor("w", c.base, []*tensor.Tensor{c.d0, c.d1})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		expectFloats(t, c.name, got.Float64s(), c.want, 1e-6)
	}
	for _, bad := range []struct {
		s      SLERP
		deltas []*tensor.Tensor
		parts  []string
	}{
		{SLERP{T: 0.5}, []*tensor.Tensor{e1}, []string{"2 models", "got 1", `"w"`}},
		{SLERP{T: 0.5}, []*tensor.Tensor{e1, e2, e1}, []string{"2 models", "got 3"}},
		{SLERP{T: 1.5}, []*tensor.Tensor{e1, e2}, []string{"t 1.5", "[0, 1]"}},
		{SLERP{T: math.NaN()}, []*tensor.Tensor{e1, e2}, []string{"t NaN"}},
		{SLERP{Threshold: 2}, []*tensor.Tensor{e1, e2}, []string{"threshold 2"}},
		{SLERP{}, []*tensor.Tensor{e1, tensor.Zeros(3)}, []string{"task vector 1", "(3)"}},
	} {
		_, err := bad.s.MergeTensor("w", zero, bad.deltas)
		expectError(t, err, bad.parts...)
	}
	expectFloats(t, "inputs after SLERP", append(e1.Float64s(), e2.Float64s()...), []float64{1, 0, 0, 1}, 0)
}
