package tensor

import (
	"math"
	"slices"
	"testing"
)

func TestSoftmaxValues(t *testing.T) {
	inf := float32(math.Inf(-1))
	x := New([]float32{1, 2, 3}, 3)
	cols := New([]float32{1, 0, 2, 0, 3, 0}, 3, 2) // columns [1,2,3] and [0,0,0]
	cases := []struct {
		name  string
		got   *Tensor
		want  []float32
		shape []int
	}{
		{"softmax [1,2,3]", x.Softmax(0), []float32{0.09003057, 0.24472847, 0.66524096}, []int{3}},
		{"log_softmax [1,2,3]", x.LogSoftmax(-1), []float32{-2.40760596, -1.40760596, -0.40760596}, []int{3}},
		{"softmax rows", New([]float32{1, 2, 3, 0, 0, 0}, 2, 3).Softmax(1),
			[]float32{0.09003057, 0.24472847, 0.66524096, 1.0 / 3, 1.0 / 3, 1.0 / 3}, []int{2, 3}},
		{"softmax axis 0", cols.Softmax(0), []float32{0.09003057, 1.0 / 3, 0.24472847, 1.0 / 3, 0.66524096, 1.0 / 3}, []int{3, 2}},
		{"log_softmax axis 0", cols.LogSoftmax(0),
			[]float32{-2.40760596, -1.09861229, -1.40760596, -1.09861229, -0.40760596, -1.09861229}, []int{3, 2}},
		{"softmax large logits", New([]float32{1000, 1001}, 2).Softmax(0), []float32{0.26894142, 0.73105858}, []int{2}},
		{"log_softmax large logits", New([]float32{1000, 1001}, 2).LogSoftmax(0), []float32{-1.31326169, -0.31326169}, []int{2}},
		{"softmax very negative logits", New([]float32{-1000, -1001}, 2).Softmax(0), []float32{0.73105858, 0.26894142}, []int{2}},
		{"softmax masked", New([]float32{1, inf, 2}, 3).Softmax(0), []float32{0.26894142, 0, 0.73105858}, []int{3}},
		{"softmax masked middle axis", New([]float32{1, 5, inf, 5, 2, inf}, 1, 3, 2).Softmax(1),
			[]float32{0.26894142, 0.5, 0, 0.5, 0.73105858, 0}, []int{1, 3, 2}},
		{"log_softmax masked", New([]float32{1, inf, 2}, 3).LogSoftmax(0), []float32{-1.31326169, inf, -0.31326169}, []int{3}},
		{"causal mask rows", Zeros(3, 3).MaskedFill(Triu(3, 3, 1), inf).Softmax(-1),
			[]float32{1, 0, 0, 0.5, 0.5, 0, 1.0 / 3, 1.0 / 3, 1.0 / 3}, []int{3, 3}},
		{"single element", New([]float32{-7}, 1, 1).Softmax(1), []float32{1}, []int{1, 1}},
	}
	for _, c := range cases {
		if !slices.Equal(c.got.Shape(), c.shape) {
			t.Fatalf("%s: shape %s, want %s", c.name, FormatShape(c.got.Shape()), FormatShape(c.shape))
		}
		for i, w := range c.want {
			g := c.got.Data()[i]
			if math.IsInf(float64(w), -1) {
				if !math.IsInf(float64(g), -1) {
					t.Fatalf("%s: element %d = %v, want -Inf", c.name, i, g)
				}
				continue
			}
			if math.IsNaN(float64(g)) || math.Abs(float64(g-w)) > 1e-6*(1+math.Abs(float64(w))) {
				t.Fatalf("%s: element %d = %v, want %v (all: %v)", c.name, i, g, w, c.got.Data())
			}
		}
	}
}

func TestSoftmaxMatchesComposition(t *testing.T) {
	for _, c := range []struct {
		shape []int
		axis  int
	}{{[]int{2, 3, 4}, 0}, {[]int{2, 3, 4}, 1}, {[]int{2, 3, 4}, 2}, {[]int{5, 7}, -1}, {[]int{4, 1}, 0}} {
		x := seq(c.shape...).Detach().Scale(3)
		e := x.Exp()
		want := e.Div(e.SumKeep(c.axis))
		assertClose(t, "softmax vs exp/sum", x.Softmax(c.axis), want.Data(), c.shape, 1e-5)
		wantLog := x.Sub(x.LogSumExpKeep(c.axis))
		assertClose(t, "log_softmax vs x-logsumexp", x.LogSoftmax(c.axis), wantLog.Data(), c.shape, 1e-5)
		// every slice sums to 1
		sums := x.Softmax(c.axis).Sum(c.axis)
		assertClose(t, "slices sum to 1", sums, OnesLike(sums).Data(), sums.Shape(), 1e-6)
	}
}

func TestSoftmaxAllMaskedIsNaN(t *testing.T) {
	inf := float32(math.Inf(-1))
	x := New([]float32{inf, inf, 0, 0}, 2, 2)
	s := x.Softmax(1).Data()
	if !math.IsNaN(float64(s[0])) || !math.IsNaN(float64(s[1])) || s[2] != 0.5 || s[3] != 0.5 {
		t.Fatalf("softmax of an all -Inf row: %v, want [NaN NaN 0.5 0.5]", s)
	}
	l := x.LogSoftmax(1).Data()
	if !math.IsNaN(float64(l[0])) || !math.IsNaN(float64(l[1])) || math.Abs(float64(l[2])+math.Ln2) > 1e-6 {
		t.Fatalf("log_softmax of an all -Inf row: %v", l)
	}
	c := x.T().Softmax(0).Data() // the same along a non-last axis: column 0 is all -Inf
	if !math.IsNaN(float64(c[0])) || !math.IsNaN(float64(c[2])) || c[1] != 0.5 || c[3] != 0.5 {
		t.Fatalf("softmax of an all -Inf column: %v", c)
	}
}

func TestGradientsSoftmax(t *testing.T) {
	inf := float32(math.Inf(-1))
	mask := New([]float32{0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}, 3, 4)
	runGradCases(t, []gradCase{
		{"softmax last axis", []*Tensor{seq(3, 5)}, func(in ...*Tensor) *Tensor { return in[0].Softmax(-1) }},
		{"softmax middle axis", []*Tensor{seq(2, 4, 3)}, func(in ...*Tensor) *Tensor { return in[0].Softmax(1) }},
		{"softmax first axis", []*Tensor{seq(3, 2, 2)}, func(in ...*Tensor) *Tensor { return in[0].Softmax(0) }},
		{"softmax 1-d", []*Tensor{seq(6)}, func(in ...*Tensor) *Tensor { return in[0].Softmax(0) }},
		{"log_softmax last axis", []*Tensor{seq(3, 5)}, func(in ...*Tensor) *Tensor { return in[0].LogSoftmax(1) }},
		{"log_softmax middle axis", []*Tensor{seq(2, 4, 3)}, func(in ...*Tensor) *Tensor { return in[0].LogSoftmax(-2) }},
		{"log_softmax first axis", []*Tensor{seq(3, 2, 2)}, func(in ...*Tensor) *Tensor { return in[0].LogSoftmax(0) }},
		{"softmax masked", []*Tensor{seq(3, 4)}, func(in ...*Tensor) *Tensor { return in[0].MaskedFill(mask, inf).Softmax(1) }},
		{"softmax masked middle axis", []*Tensor{seq(3, 4, 2)}, func(in ...*Tensor) *Tensor {
			return in[0].MaskedFill(mask.Reshape(3, 4, 1), inf).Softmax(1)
		}},
		{"softmax large logits", []*Tensor{seq(2, 3)}, func(in ...*Tensor) *Tensor { return in[0].AddScalar(1000).Softmax(1) }},
		{"log_softmax then nll-like", []*Tensor{seq(4, 3)}, func(in ...*Tensor) *Tensor {
			return in[0].LogSoftmax(1).Mul(OneHot([]int{2, 0, 1, 1}, 3)).Sum()
		}},
	})
}

func TestSoftmaxGradOfMaskedEntries(t *testing.T) {
	inf := float32(math.Inf(-1))
	x := New([]float32{1, inf, 2}, 3).SetRequiresGrad(true)
	x.Softmax(0).Mul(New([]float32{1, 2, 3}, 3)).Sum().Backward()
	if g := x.Grad().Data(); g[1] != 0 || math.IsNaN(float64(g[0])) || math.IsNaN(float64(g[2])) {
		t.Fatalf("softmax grad with a masked entry: %v", g)
	}
	// y = (p0, p2) = (0.26894142, 0.73105858); g = (1, 3): Σg·y = 2.46211716;
	// dx = y⊙(g − 2.46211716).
	assertClose(t, "masked softmax grad", x.Grad(), []float32{-0.39322387, 0, 0.39322387}, []int{3}, 1e-5)
}

func TestSoftmaxPanics(t *testing.T) {
	expectPanic(t, "softmax: axis 2 out of range for shape (2,3)", func() { Zeros(2, 3).Softmax(2) })
	expectPanic(t, "log_softmax: axis 0 out of range for shape ()", func() { Scalar(1).LogSoftmax(0) })
}

func TestSoftmaxEmpty(t *testing.T) {
	y := Zeros(2, 0).SetRequiresGrad(true).Softmax(1)
	if !slices.Equal(y.Shape(), []int{2, 0}) {
		t.Fatalf("shape %v", y.Shape())
	}
	y = Zeros(0, 3).Softmax(1)
	if !slices.Equal(y.Shape(), []int{0, 3}) {
		t.Fatalf("shape %v", y.Shape())
	}
}

func BenchmarkSoftmax(b *testing.B) {
	x := Randn(NewRNG(1), 64, 128, 512)
	for _, c := range []struct {
		name string
		axis int
	}{{"last", -1}, {"middle", 1}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(4 * x.Len()))
			for b.Loop() {
				x.Softmax(c.axis)
			}
		})
	}
}

// TestSoftmaxMatchesFloat64 checks long rows (the vectorised exponential's
// lanes and tail) on the last and a middle axis against a float64 reference.
// Each probability is within (8 + |x−max|)·2⁻²⁴ of it relatively: a few ulp
// from the exponential and the normalisation, plus the rounding of x − max to
// float32 (as PyTorch computes it); log-probabilities within 4·2⁻²⁴·(1+|want|).
func TestSoftmaxMatchesFloat64(t *testing.T) {
	r := NewRNG(3)
	for _, c := range []struct {
		shape []int
		axis  int
	}{{[]int{5, 67}, -1}, {[]int{3, 1000}, 1}, {[]int{2, 37, 11}, 1}} {
		x := Normal(r, 0, 8, c.shape...)
		outer, n, inner := idxSplitShape(x.Shape(), x.axis("test", c.axis))
		sm, lsm := x.Softmax(c.axis).Data(), x.LogSoftmax(c.axis).Data()
		for o := 0; o < outer; o++ {
			for i := 0; i < inner; i++ {
				at := func(k int) int { return (o*n+k)*inner + i }
				m := math.Inf(-1)
				for k := 0; k < n; k++ {
					m = max(m, float64(x.Data()[at(k)]))
				}
				var s float64
				for k := 0; k < n; k++ {
					s += math.Exp(float64(x.Data()[at(k)]) - m)
				}
				for k := 0; k < n; k++ {
					d := float64(x.Data()[at(k)]) - m
					want := math.Exp(d) / s
					if got := float64(sm[at(k)]); math.Abs(got-want) > (8-d)*0x1p-24*want {
						t.Fatalf("%v axis %d: softmax at %d = %v, want %v", c.shape, c.axis, at(k), got, want)
					}
					wantLog := d - math.Log(s)
					if got := float64(lsm[at(k)]); math.Abs(got-wantLog) > 4*0x1p-24*(1+math.Abs(wantLog)) {
						t.Fatalf("%v axis %d: log_softmax at %d = %v, want %v", c.shape, c.axis, at(k), got, wantLog)
					}
				}
			}
		}
	}
}
