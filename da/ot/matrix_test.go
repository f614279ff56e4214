package ot

import (
	"math"
	"strings"
	"testing"
)

func TestDistByHand(t *testing.T) {
	xs, _ := FromRows([][]float64{{0, 0}, {1, 2}})
	xt, _ := FromRows([][]float64{{3, 4}})
	for _, c := range []struct {
		metric Metric
		want   []float64
	}{
		{"", []float64{25, 8}},
		{Euclidean, []float64{5, math.Sqrt(8)}},
		{Cityblock, []float64{7, 4}},
	} {
		m, err := Dist(xs, xt, c.metric)
		if err != nil {
			t.Fatal(err)
		}
		if m.Rows != 2 || m.Cols != 1 || math.Abs(m.Data[0]-c.want[0]) > 1e-12 || math.Abs(m.Data[1]-c.want[1]) > 1e-12 {
			t.Errorf("%q: got %v, want %v", c.metric, m.Data, c.want)
		}
	}
	if _, err := Dist(xs, xt, "cosine"); err == nil || !strings.Contains(err.Error(), `"cosine"`) {
		t.Errorf("unknown metric: err = %v", err)
	}
}

func TestChecksNameTheValue(t *testing.T) {
	M, _ := NewMatrix(2, 2, []float64{0, 1, math.NaN(), 0})
	if err := checkCost("M", M, 2, 2); err == nil || !strings.Contains(err.Error(), "M[1,0] is NaN") {
		t.Errorf("NaN cost: %v", err)
	}
	if err := checkMarginal("a", []float64{0.5, -0.5}, 2); err == nil || !strings.Contains(err.Error(), "a[1] = -0.5") {
		t.Errorf("negative weight: %v", err)
	}
	if err := checkBalanced([]float64{0.5, 0.5}, []float64{1, 1}); err == nil || !strings.Contains(err.Error(), "different masses") {
		t.Errorf("unbalanced: %v", err)
	}
	r, _ := FromRows([][]float64{{1, 2}, {3, 4}})
	if got := r.RowSums(); got[0] != 3 || got[1] != 7 {
		t.Errorf("row sums %v", got)
	}
	if got := r.ColSums(); got[0] != 4 || got[1] != 6 {
		t.Errorf("col sums %v", got)
	}
}
