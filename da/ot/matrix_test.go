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

func TestNilWeightsAreUniform(t *testing.T) {
	r := newTestRand(3)
	M, _ := Dist(r.matrix(6, 2), r.matrix(4, 2), "")
	C1, _ := Dist(r.matrix(6, 2), r.matrix(6, 2), "")
	C2, _ := Dist(r.matrix(4, 2), r.matrix(4, 2), "")
	u, v := Uniform(6), Uniform(4)
	for _, c := range []struct {
		name       string
		nil_, full func() (*Plan, error)
	}{
		{"emd", func() (*Plan, error) { return EMD(nil, nil, M, EMDOptions{}) }, func() (*Plan, error) { return EMD(u, v, M, EMDOptions{}) }},
		{"sinkhorn", func() (*Plan, error) { return Sinkhorn(nil, nil, M, 0.1, SinkhornOptions{}) }, func() (*Plan, error) { return Sinkhorn(u, v, M, 0.1, SinkhornOptions{}) }},
		{"unbalanced", func() (*Plan, error) { return SinkhornUnbalanced(nil, nil, M, 0.1, 1, SinkhornOptions{}) }, func() (*Plan, error) { return SinkhornUnbalanced(u, v, M, 0.1, 1, SinkhornOptions{}) }},
		{"partial", func() (*Plan, error) { return PartialEMD(nil, nil, M, 0.5, EMDOptions{}) }, func() (*Plan, error) { return PartialEMD(u, v, M, 0.5, EMDOptions{}) }},
		{"gw", func() (*Plan, error) { return GromovWasserstein(C1, C2, nil, nil, GWOptions{}) }, func() (*Plan, error) { return GromovWasserstein(C1, C2, u, v, GWOptions{}) }},
	} {
		p, err := c.nil_()
		if err != nil {
			t.Fatalf("%s with nil weights: %v", c.name, err)
		}
		q, err := c.full()
		if err != nil {
			t.Fatal(err)
		}
		if p.Cost != q.Cost || p.T.Dot(p.T) != q.T.Dot(q.T) {
			t.Errorf("%s: nil weights give cost %v, uniform %v", c.name, p.Cost, q.Cost)
		}
	}
}
