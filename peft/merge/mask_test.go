package merge

import (
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/graftml/graft/tensor"
)

// taskVecs wraps each slice as a task vector of the given shape.
func taskVecs(shape []int, data ...[]float64) []*tensor.Tensor {
	out := make([]*tensor.Tensor, len(data))
	for i, d := range data {
		out[i] = tensor.FromFloat64(d, shape...)
	}
	return out
}

// mergeOne merges deltas of the parameter "w" with m and fails the test on
// an error.
func mergeOne(t *testing.T, m Method, deltas []*tensor.Tensor) *tensor.Tensor {
	t.Helper()
	got, err := m.MergeTensor("w", nil, deltas)
	if err != nil {
		t.Fatalf("%s: %v", m.Name(), err)
	}
	return got
}

// wantMerged fails unless got has the shape and values of want (to float32
// precision).
func wantMerged(t *testing.T, label string, got *tensor.Tensor, shape []int, want []float64) {
	t.Helper()
	if tensor.FormatShape(got.Shape()) != tensor.FormatShape(shape) {
		t.Fatalf("%s: shape %s, want %s", label, tensor.FormatShape(got.Shape()), tensor.FormatShape(shape))
	}
	g := got.Float64s()
	for i := range want {
		if math.Abs(g[i]-want[i]) > 1e-6*math.Max(1, math.Abs(want[i])) {
			t.Fatalf("%s: got %v, want %v", label, g, want)
		}
	}
}

// sparseMethods lists the five methods of this file set with non-default
// options where they have any.
func sparseMethods() []Method {
	return []Method{
		TaskArithmetic{Weights: []float64{1, 2}, Lambda: 0.5},
		TIES{Weights: []float64{1, 2}, Density: 0.5},
		TIES{Weights: []float64{1, 2}, Density: 0.5, Convention: ConventionPEFT, ElectByCount: true},
		DARE{Weights: []float64{1, 2}, Density: 0.5, Seed: 3},
		DARE{Weights: []float64{1, 2}, Density: 0.5, Seed: 3, Rescale: RescaleL1},
		DARETIES{Weights: []float64{1, 2}, Density: 0.5, Seed: 3},
		Breadcrumbs{Weights: []float64{1, 2}, Beta: 0.1, Gamma: 0.3},
	}
}

func TestSparseInputsUntouched(t *testing.T) {
	for _, m := range sparseMethods() {
		deltas := taskVecs([]int{2, 5},
			[]float64{10, -1, 2, -3, 0.1, 4, -5, 6, 0, 0.2},
			[]float64{1, 1, 1, 1, 1, -1, -1, -1, 1, 1})
		base := tensor.Ones(2, 5)
		before := [][]float32{append([]float32(nil), deltas[0].Data()...), append([]float32(nil), deltas[1].Data()...), append([]float32(nil), base.Data()...)}
		got, err := m.MergeTensor("w", base, deltas)
		if err != nil {
			t.Fatalf("%s: %v", m.Name(), err)
		}
		for i, x := range []*tensor.Tensor{deltas[0], deltas[1], base} {
			for j, v := range x.Data() {
				if v != before[i][j] {
					t.Fatalf("%s modified input %d at %d: %v -> %v", m.Name(), i, j, before[i][j], v)
				}
			}
		}
		if got == deltas[0] || got == deltas[1] || got == base {
			t.Fatalf("%s returned one of its inputs", m.Name())
		}
	}
}

func TestSparseBadInput(t *testing.T) {
	two := taskVecs([]int{2, 2}, []float64{1, 2, 3, 4}, []float64{4, 3, 2, 1})
	cases := []struct {
		m      Method
		base   *tensor.Tensor
		deltas []*tensor.Tensor
		want   string
	}{
		{TaskArithmetic{}, nil, nil, `parameter "w": no task vectors`},
		{TIES{}, nil, []*tensor.Tensor{}, `parameter "w": no task vectors`},
		{TaskArithmetic{Weights: []float64{1}}, nil, two, `parameter "w": 1 weights for 2 task vectors`},
		{DARE{Weights: []float64{1, math.NaN()}}, nil, two, "weight 1 is NaN"},
		{Breadcrumbs{Weights: []float64{math.Inf(1), 1}}, nil, two, "weight 0 is +Inf"},
		{TIES{Lambda: math.NaN()}, nil, two, "lambda NaN"},
		{TaskArithmetic{}, nil, []*tensor.Tensor{two[0], tensor.Zeros(4)}, `parameter "w": task vector 1 has shape (4) but task vector 0 has (2,2)`},
		{DARETIES{}, nil, []*tensor.Tensor{two[0], tensor.Zeros(2, 3)}, `task vector 1 has shape (2,3) but task vector 0 has (2,2)`},
		{TIES{}, tensor.Zeros(3), two, `parameter "w": task vectors have shape (2,2) but the base has (3)`},
		{TaskArithmetic{}, nil, []*tensor.Tensor{two[0], nil}, "task vector 1 is nil"},
		{TaskArithmetic{}, nil, taskVecs([]int{2}, []float64{1, math.NaN()}), "task vector 0 holds NaN at entry 1"},
		{TIES{Density: 1.5}, nil, two, "TIES: density 1.5 is outside (0, 1]"},
		{TIES{Density: -0.2}, nil, two, "density -0.2 is outside (0, 1]"},
		{TIES{Density: math.NaN()}, nil, two, "density NaN is outside (0, 1]"},
		{TIES{Convention: 7}, nil, two, "convention 7"},
		{DARE{Density: 1.01}, nil, two, "DARE: density 1.01 is outside (0, 1]"},
		{DARE{Rescale: 9}, nil, two, "rescale 9"},
		{DARETIES{Density: -1}, nil, two, "DARE-TIES: density -1 is outside (0, 1]"},
		{DARETIES{Convention: -1}, nil, two, "convention -1"},
		{Breadcrumbs{Beta: 1}, nil, two, "beta 1 is outside [0, 1)"},
		{Breadcrumbs{Gamma: -0.1}, nil, two, "gamma -0.1 is outside [0, 1)"},
		{Breadcrumbs{Beta: 0.5, Gamma: 0.5}, nil, two, "beta 0.5 + gamma 0.5 is not below 1"},
	}
	for _, c := range cases {
		got, err := c.m.MergeTensor("w", c.base, c.deltas)
		if err == nil {
			t.Errorf("%s %+v: no error, got %v", c.m.Name(), c.m, got)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "merge: "+c.m.Name()+": ") {
			t.Errorf("%s: error %q, want it to start with %q and contain %q", c.m.Name(), err, "merge: "+c.m.Name()+": ", c.want)
		}
	}
}

// TestLargestMask checks the selection against its definition: sort the
// indices by magnitude, larger first and lower index first among equals, and
// mark the first k.
func TestLargestMask(t *testing.T) {
	r := tensor.NewRNG(3)
	for trial := range 300 {
		n := 1 + r.IntN(40)
		x := make([]float64, n)
		for i := range x {
			if trial%2 == 0 {
				x[i] = float64(r.IntN(7) - 3) // many ties, zeros among them
			} else {
				x[i] = r.NormFloat64()
			}
		}
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return math.Abs(x[order[a]]) > math.Abs(x[order[b]]) })
		for k := 0; k <= n+1; k++ {
			want := make([]bool, n)
			for _, i := range order[:min(k, n)] {
				want[i] = true
			}
			got := largestMask(x, k)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("x %v, k %d: mask %v, want %v", x, k, got, want)
				}
			}
		}
	}
}
