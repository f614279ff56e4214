package tensor

import (
	"fmt"
	"math"
	"testing"
)

// ceRef is the cross-entropy of CrossEntropyLabels in float64: per-row
// losses (0 for ignored rows) and the sum of the counted rows' label weights.
func ceRef(x []float32, classes int, labels []int, weight []float32, eps float64) (loss []float64, total float64) {
	w := func(c int) float64 {
		if weight == nil {
			return 1
		}
		return float64(weight[c])
	}
	loss = make([]float64, len(labels))
	for r, y := range labels {
		if y < 0 {
			continue
		}
		row := x[r*classes : (r+1)*classes]
		m := math.Inf(-1)
		for _, v := range row {
			m = max(m, float64(v))
		}
		var s float64
		for _, v := range row {
			s += math.Exp(float64(v) - m)
		}
		lz := m + math.Log(s)
		l := (1 - eps) * w(y) * (lz - float64(row[y]))
		for c, v := range row {
			l += eps / float64(classes) * w(c) * (lz - float64(v))
		}
		loss[r], total = l, total+w(y)
	}
	return loss, total
}

// ceCase builds logits (rows, classes) with a spread of 6, a row of large
// logits and a masked (−Inf) class, and labels with every fifth row ignored.
func ceCase(rows, classes int) (*Tensor, []int, []float32) {
	r := NewRNG(uint64(rows*classes + 1))
	x := Normal(r, 0, 6, rows, classes)
	for c := range classes {
		x.data[c] += 1000
	}
	x.data[classes+1] = float32(math.Inf(-1))
	labels := make([]int, rows)
	for i := range labels {
		labels[i] = (i * 7) % classes
		if i%5 == 4 {
			labels[i] = -100
		}
	}
	labels[1] = 0
	weight := make([]float32, classes)
	for c := range weight {
		weight[c] = 0.5 + float32(c%3)*0.75
	}
	return x, labels, weight
}

// TestCrossEntropyLabelsMatchesFloat64 checks the three reductions, with and
// without class weights and label smoothing, against ceRef. The fused op
// works in float64 except for the exponentials (2 ulp each, so log Σ is off
// by at most 2⁻²² absolutely, scaled by the row's weights, at most 2) and the
// float32 result: the bound is 2⁻²⁰·(1 + |want|).
func TestCrossEntropyLabelsMatchesFloat64(t *testing.T) {
	for _, s := range [][2]int{{11, 10}, {37, 1003}} {
		x, labels, weight := ceCase(s[0], s[1])
		for _, wt := range [][]float32{nil, weight} {
			for _, eps := range []float32{0, 0.1} {
				ref, total := ceRef(x.data, s[1], labels, wt, float64(eps))
				var sum float64
				for _, l := range ref {
					sum += l
				}
				name := fmt.Sprintf("%v weighted %v ε %v", s, wt != nil, eps)
				check := func(red string, got float32, want float64) {
					t.Helper()
					if math.Abs(float64(got)-want) > 0x1p-20*(1+math.Abs(want)) {
						t.Errorf("%s %s: %v, want %v", name, red, got, want)
					}
				}
				check("mean", CrossEntropyLabels(x, labels, wt, eps, "mean").Item(), sum/total)
				check("sum", CrossEntropyLabels(x, labels, wt, eps, "sum").Item(), sum)
				none := CrossEntropyLabels(x, labels, wt, eps, "none")
				if none.Dims() != 1 || none.Dim(0) != s[0] {
					t.Fatalf("%s none: shape %s", name, FormatShape(none.Shape()))
				}
				for r, want := range ref {
					check(fmt.Sprintf("none[%d]", r), none.data[r], want)
				}
			}
		}
	}
	// No row counts: the mean is NaN, as in PyTorch.
	if v := CrossEntropyLabels(Zeros(2, 3), []int{-100, -1}, nil, 0, "mean").Item(); !math.IsNaN(float64(v)) {
		t.Errorf("mean over ignored rows = %v, want NaN", v)
	}
	// Leading axes are rows; "none" keeps them.
	if got := CrossEntropyLabels(Zeros(2, 3, 4), make([]int, 6), nil, 0, "none"); FormatShape(got.Shape()) != "(2,3)" {
		t.Errorf("none over (2,3,4): shape %s", FormatShape(got.Shape()))
	}
}

func TestGradientsCrossEntropyLabels(t *testing.T) {
	_, labels, weight := ceCase(6, 5)
	x := Normal(NewRNG(9), 0, 2, 6, 5).SetRequiresGrad(true) // finite logits
	for _, red := range []string{"mean", "sum", "none"} {
		for _, wt := range [][]float32{nil, weight} {
			for _, eps := range []float32{0, 0.2} {
				f := func(in ...*Tensor) *Tensor { return CrossEntropyLabels(in[0], labels, wt, eps, red) }
				if err := GradCheck(f, []*Tensor{x}, GradCheckOptions{}); err != nil {
					t.Errorf("%s weighted %v ε %v: %v", red, wt != nil, eps, err)
				}
			}
		}
	}
	// Ignored rows get no gradient.
	x.ZeroGrad()
	CrossEntropyLabels(x, labels, weight, 0.2, "mean").Backward()
	for c := range 5 {
		if g := x.Grad().data[4*5+c]; g != 0 {
			t.Errorf("ignored row 4: gradient %v at class %d", g, c)
		}
	}
}

func TestCrossEntropyLabelsPanics(t *testing.T) {
	expectPanic(t, "cross_entropy: label 3 at position 1 is outside [0, 3)", func() { CrossEntropyLabels(Zeros(2, 3), []int{0, 3}, nil, 0, "mean") })
	expectPanic(t, "cross_entropy: 3 labels for logits (2,3) (2 rows)", func() { CrossEntropyLabels(Zeros(2, 3), []int{0, 1, 2}, nil, 0, "mean") })
	expectPanic(t, "cross_entropy: 2 class weights for 3 classes", func() { CrossEntropyLabels(Zeros(2, 3), []int{0, 1}, []float32{1, 1}, 0, "mean") })
	expectPanic(t, "cross_entropy: label smoothing 1 is outside [0, 1)", func() { CrossEntropyLabels(Zeros(2, 3), []int{0, 1}, nil, 1, "mean") })
	expectPanic(t, "cross_entropy: reduction batchmean is not mean, sum or none", func() { CrossEntropyLabels(Zeros(2, 3), []int{0, 1}, nil, 0, "batchmean") })
	expectPanic(t, "cross_entropy: logits must have a class axis, got a scalar", func() { CrossEntropyLabels(Scalar(1), []int{0}, nil, 0, "mean") })
}
