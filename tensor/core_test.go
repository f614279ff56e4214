package tensor

import (
	"math"
	"math/bits"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// seq returns a tensor of the given shape with distinct, well-spaced values.
func seq(shape ...int) *Tensor {
	t := Zeros(shape...)
	for i := range t.data {
		t.data[i] = float32(math.Sin(float64(i)*1.3+0.4)) * 1.5
	}
	return t.SetRequiresGrad(true)
}

// positive returns values in [0.5, 2.0].
func positive(shape ...int) *Tensor {
	t := Zeros(shape...)
	for i := range t.data {
		t.data[i] = 1.25 + 0.75*float32(math.Sin(float64(i)*0.7+1))
	}
	return t.SetRequiresGrad(true)
}

func assertClose(t *testing.T, name string, got *Tensor, want []float32, shape []int, tol float64) {
	t.Helper()
	if !slices.Equal(got.shape, shape) {
		t.Fatalf("%s: shape %s, want %s", name, FormatShape(got.shape), FormatShape(shape))
	}
	for i, w := range want {
		if math.Abs(float64(got.data[i]-w)) > tol*(1+math.Abs(float64(w))) {
			t.Fatalf("%s: element %d = %v, want %v (all: %v)", name, i, got.data[i], w, got.data)
		}
	}
}

func expectPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic; want %q", want)
		}
		if !strings.Contains(r.(string), want) {
			t.Fatalf("panic %q does not contain %q", r, want)
		}
	}()
	f()
}

func TestHandComputedValues(t *testing.T) {
	a := New([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	b := New([]float32{10, 20, 30}, 3)
	assertClose(t, "add broadcast", a.Add(b), []float32{11, 22, 33, 14, 25, 36}, []int{2, 3}, 0)
	col := New([]float32{2, 4}, 2, 1)
	assertClose(t, "div column", a.Div(col), []float32{0.5, 1, 1.5, 1, 1.25, 1.5}, []int{2, 3}, 1e-7)
	assertClose(t, "sum axis0", a.Sum(0), []float32{5, 7, 9}, []int{3}, 0)
	assertClose(t, "sum keep axis1", a.SumKeep(1), []float32{6, 15}, []int{2, 1}, 0)
	assertClose(t, "mean all", a.Mean(), []float32{3.5}, nil, 0)
	assertClose(t, "max axis1", a.Max(1), []float32{3, 6}, []int{2}, 0)
	assertClose(t, "min all", a.Min(), []float32{1}, nil, 0)
	assertClose(t, "argmax", New([]float32{1, 9, 9, 7, 2, 3}, 2, 3).Argmax(1), []float32{1, 0}, []int{2}, 0)
	assertClose(t, "var unbiased", a.Var(true, 1), []float32{1, 1}, []int{2}, 1e-6)
	assertClose(t, "var biased all", a.Var(false), []float32{35.0 / 12}, nil, 1e-6)
	// log(e^1+e^2+e^3) = 3.40760596
	assertClose(t, "logsumexp", a.LogSumExp(1), []float32{3.4076059, 6.4076059}, []int{2}, 1e-6)
	m := a.MatMul(New([]float32{1, 0, 0, 1, 1, 1}, 3, 2))
	assertClose(t, "matmul", m, []float32{4, 5, 10, 11}, []int{2, 2}, 0)
	assertClose(t, "matmul trans", a.MatMulT(a, false, true), []float32{14, 32, 32, 77}, []int{2, 2}, 0)
	assertClose(t, "permute", a.T(), []float32{1, 4, 2, 5, 3, 6}, []int{3, 2}, 0)
	assertClose(t, "gelu(1)", Scalar(1).GELU(), []float32{0.8413447}, nil, 1e-6)
	assertClose(t, "sigmoid(-30)", Scalar(-30).Sigmoid(), []float32{9.357623e-14}, nil, 1e-6)
	assertClose(t, "softplus(30)", Scalar(30).Softplus(), []float32{30}, nil, 0)
	assertClose(t, "where", Where(New([]float32{1, 0}, 2), Full(5, 2), Full(-1, 2)), []float32{5, -1}, []int{2}, 0)
	assertClose(t, "reshape infer", a.Reshape(-1, 2), []float32{1, 2, 3, 4, 5, 6}, []int{3, 2}, 0)
	assertClose(t, "linear", Linear(a, New([]float32{1, 1, 1, 0, 1, 0}, 2, 3), New([]float32{0.5, -1}, 2)), []float32{6.5, 1, 15.5, 4}, []int{2, 2}, 0)
}

func TestShapeErrorsNameOpAndShapes(t *testing.T) {
	expectPanic(t, "matmul: (32,784) x (100,10): inner dimensions differ", func() { Zeros(32, 784).MatMul(Zeros(100, 10)) })
	expectPanic(t, "add: (3,4) and (5) cannot be broadcast together", func() { Zeros(3, 4).Add(Zeros(5)) })
	expectPanic(t, "reshape: cannot reshape (2,3) (6 values) into (4,-1)", func() { Zeros(2, 3).Reshape(4, -1) })
	expectPanic(t, "sum: axis 2 out of range for shape (2,3)", func() { Zeros(2, 3).Sum(2) })
	expectPanic(t, "linear: input (4,3) and weight (2,5)", func() { Linear(Zeros(4, 3), Zeros(2, 5), nil) })
	expectPanic(t, "backward: output has shape (2,3)", func() { seq(2, 3).Exp().Backward() })
}

type gradCase struct {
	name   string
	inputs []*Tensor
	f      func(in ...*Tensor) *Tensor
}

func runGradCases(t *testing.T, cases []gradCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := GradCheck(c.f, c.inputs, GradCheckOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestGradientsElementwise(t *testing.T) {
	runGradCases(t, []gradCase{
		{"add", []*Tensor{seq(2, 3), seq(2, 3)}, func(in ...*Tensor) *Tensor { return in[0].Add(in[1]) }},
		{"add broadcast row", []*Tensor{seq(4, 3), seq(3)}, func(in ...*Tensor) *Tensor { return in[0].Add(in[1]) }},
		{"sub broadcast both", []*Tensor{seq(4, 1), seq(1, 3)}, func(in ...*Tensor) *Tensor { return in[0].Sub(in[1]) }},
		{"mul broadcast 3d", []*Tensor{seq(2, 1, 3), seq(4, 1)}, func(in ...*Tensor) *Tensor { return in[0].Mul(in[1]) }},
		{"div", []*Tensor{seq(3, 2), positive(3, 2)}, func(in ...*Tensor) *Tensor { return in[0].Div(in[1]) }},
		{"div scalar tensor", []*Tensor{seq(3, 2), positive()}, func(in ...*Tensor) *Tensor { return in[0].Div(in[1]) }},
		{"maximum", []*Tensor{seq(3, 4), seq(4).Scale(0.5).Detach().SetRequiresGrad(true)}, func(in ...*Tensor) *Tensor { return in[0].Maximum(in[1]) }},
		{"minimum", []*Tensor{seq(3, 4), Full(0.3, 1).SetRequiresGrad(true)}, func(in ...*Tensor) *Tensor { return in[0].Minimum(in[1]) }},
		{"powT", []*Tensor{positive(2, 3), seq(3)}, func(in ...*Tensor) *Tensor { return in[0].PowT(in[1]) }},
		{"pow 3", []*Tensor{seq(5)}, func(in ...*Tensor) *Tensor { return in[0].Pow(3) }},
		{"pow 0.5", []*Tensor{positive(5)}, func(in ...*Tensor) *Tensor { return in[0].Pow(0.5) }},
		{"square", []*Tensor{seq(5)}, func(in ...*Tensor) *Tensor { return in[0].Square() }},
		{"scale", []*Tensor{seq(5)}, func(in ...*Tensor) *Tensor { return in[0].Scale(-2.5) }},
		{"add scalar", []*Tensor{seq(5)}, func(in ...*Tensor) *Tensor { return in[0].AddScalar(3) }},
		{"neg", []*Tensor{seq(5)}, func(in ...*Tensor) *Tensor { return in[0].Neg() }},
		{"exp", []*Tensor{seq(2, 3)}, func(in ...*Tensor) *Tensor { return in[0].Exp() }},
		{"log", []*Tensor{positive(2, 3)}, func(in ...*Tensor) *Tensor { return in[0].Log() }},
		{"sqrt", []*Tensor{positive(2, 3)}, func(in ...*Tensor) *Tensor { return in[0].Sqrt() }},
		{"rsqrt", []*Tensor{positive(2, 3)}, func(in ...*Tensor) *Tensor { return in[0].Rsqrt() }},
		{"reciprocal", []*Tensor{positive(2, 3)}, func(in ...*Tensor) *Tensor { return in[0].Reciprocal() }},
		{"abs", []*Tensor{seq(2, 3)}, func(in ...*Tensor) *Tensor { return in[0].Abs() }},
		{"sin", []*Tensor{seq(6)}, func(in ...*Tensor) *Tensor { return in[0].Sin() }},
		{"cos", []*Tensor{seq(6)}, func(in ...*Tensor) *Tensor { return in[0].Cos() }},
		{"clamp", []*Tensor{seq(3, 3)}, func(in ...*Tensor) *Tensor { return in[0].Clamp(-0.7, 0.9) }},
		{"relu", []*Tensor{seq(3, 3)}, func(in ...*Tensor) *Tensor { return in[0].ReLU() }},
		{"leaky relu", []*Tensor{seq(3, 3)}, func(in ...*Tensor) *Tensor { return in[0].LeakyReLU(0.1) }},
		{"sigmoid", []*Tensor{seq(3, 3)}, func(in ...*Tensor) *Tensor { return in[0].Sigmoid() }},
		{"tanh", []*Tensor{seq(3, 3)}, func(in ...*Tensor) *Tensor { return in[0].Tanh() }},
		{"softplus", []*Tensor{seq(3, 3)}, func(in ...*Tensor) *Tensor { return in[0].Softplus() }},
		{"silu", []*Tensor{seq(3, 3)}, func(in ...*Tensor) *Tensor { return in[0].SiLU() }},
		{"gelu", []*Tensor{seq(3, 3)}, func(in ...*Tensor) *Tensor { return in[0].GELU() }},
		{"gelu tanh", []*Tensor{seq(3, 3)}, func(in ...*Tensor) *Tensor { return in[0].GELUTanh() }},
		{"where", []*Tensor{seq(2, 3), seq(3)}, func(in ...*Tensor) *Tensor {
			return Where(New([]float32{1, 0, 1, 0, 0, 1}, 2, 3), in[0], in[1])
		}},
		{"masked fill", []*Tensor{seq(2, 3)}, func(in ...*Tensor) *Tensor {
			return in[0].MaskedFill(New([]float32{0, 1, 0}, 3), -9)
		}},
		{"broadcast_to", []*Tensor{seq(3, 1)}, func(in ...*Tensor) *Tensor { return in[0].BroadcastTo(2, 3, 4) }},
	})
}

func TestGradientsReductionsAndShapes(t *testing.T) {
	runGradCases(t, []gradCase{
		{"sum all", []*Tensor{seq(2, 3, 4)}, func(in ...*Tensor) *Tensor { return in[0].Sum() }},
		{"sum middle", []*Tensor{seq(2, 3, 4)}, func(in ...*Tensor) *Tensor { return in[0].Sum(1) }},
		{"sum outer axes (non-contiguous)", []*Tensor{seq(2, 3, 4)}, func(in ...*Tensor) *Tensor { return in[0].SumKeep(0, 2) }},
		{"mean", []*Tensor{seq(2, 3, 4)}, func(in ...*Tensor) *Tensor { return in[0].Mean(-1) }},
		{"max axis", []*Tensor{seq(3, 4)}, func(in ...*Tensor) *Tensor { return in[0].Max(0) }},
		{"min keep", []*Tensor{seq(3, 4)}, func(in ...*Tensor) *Tensor { return in[0].MinKeep(1) }},
		{"var unbiased", []*Tensor{seq(3, 4)}, func(in ...*Tensor) *Tensor { return in[0].Var(true, 1) }},
		{"var biased non-contiguous", []*Tensor{seq(2, 3, 4)}, func(in ...*Tensor) *Tensor { return in[0].Var(false, 0, 2) }},
		{"logsumexp", []*Tensor{seq(3, 4)}, func(in ...*Tensor) *Tensor { return in[0].LogSumExp(1) }},
		{"reshape", []*Tensor{seq(2, 6)}, func(in ...*Tensor) *Tensor { return in[0].Reshape(3, 4).Exp() }},
		{"permute", []*Tensor{seq(2, 3, 4)}, func(in ...*Tensor) *Tensor { return in[0].Permute(2, 0, 1) }},
		{"transpose", []*Tensor{seq(2, 3, 4)}, func(in ...*Tensor) *Tensor { return in[0].Transpose(0, 2) }},
		{"squeeze unsqueeze", []*Tensor{seq(2, 1, 3)}, func(in ...*Tensor) *Tensor { return in[0].Squeeze().Unsqueeze(0).Square() }},
		{"flatten", []*Tensor{seq(2, 3, 4)}, func(in ...*Tensor) *Tensor { return in[0].Flatten(1, 2).Square() }},
	})
}

func TestGradientsMatMul(t *testing.T) {
	runGradCases(t, []gradCase{
		{"2d", []*Tensor{seq(3, 4), seq(4, 5)}, func(in ...*Tensor) *Tensor { return in[0].MatMul(in[1]) }},
		{"2d transposed both", []*Tensor{seq(4, 3), seq(5, 4)}, func(in ...*Tensor) *Tensor { return in[0].MatMulT(in[1], true, true) }},
		{"3d x 2d", []*Tensor{seq(2, 3, 4), seq(4, 5)}, func(in ...*Tensor) *Tensor { return in[0].MatMul(in[1]) }},
		{"3d x 2d transposed", []*Tensor{seq(2, 3, 4), seq(5, 4)}, func(in ...*Tensor) *Tensor { return in[0].MatMulT(in[1], false, true) }},
		{"batched", []*Tensor{seq(2, 3, 4), seq(2, 4, 2)}, func(in ...*Tensor) *Tensor { return in[0].MatMul(in[1]) }},
		{"batched transA", []*Tensor{seq(2, 4, 3), seq(2, 4, 2)}, func(in ...*Tensor) *Tensor { return in[0].MatMulT(in[1], true, false) }},
		{"batched transB", []*Tensor{seq(2, 3, 4), seq(2, 2, 4)}, func(in ...*Tensor) *Tensor { return in[0].MatMulT(in[1], false, true) }},
		{"broadcast batch", []*Tensor{seq(2, 1, 3, 4), seq(3, 4, 2)}, func(in ...*Tensor) *Tensor { return in[0].MatMul(in[1]) }},
		{"2d x batched", []*Tensor{seq(3, 4), seq(2, 4, 2)}, func(in ...*Tensor) *Tensor { return in[0].MatMul(in[1]) }},
		{"vector x matrix", []*Tensor{seq(4), seq(4, 3)}, func(in ...*Tensor) *Tensor { return in[0].MatMul(in[1]) }},
		{"matrix x vector", []*Tensor{seq(3, 4), seq(4)}, func(in ...*Tensor) *Tensor { return in[0].MatMul(in[1]) }},
		{"linear", []*Tensor{seq(2, 3, 4), seq(5, 4), seq(5)}, func(in ...*Tensor) *Tensor { return Linear(in[0], in[1], in[2]) }},
		{"linear no bias", []*Tensor{seq(3, 4), seq(5, 4)}, func(in ...*Tensor) *Tensor { return Linear(in[0], in[1], nil) }},
	})
}

func TestAutogradSemantics(t *testing.T) {
	// y = x² + 3x used twice: gradients accumulate across uses and calls.
	x := New([]float32{2}, 1).SetRequiresGrad(true)
	y := x.Mul(x).Add(x.Scale(3)).Sum()
	y.Backward()
	if g := x.Grad().Item(); g != 7 {
		t.Fatalf("dy/dx = %v, want 7", g)
	}
	x.Mul(x).Sum().Backward() // accumulate 2x = 4
	if g := x.Grad().Item(); g != 11 {
		t.Fatalf("accumulated grad = %v, want 11", g)
	}
	x.ZeroGrad()
	if g := x.Grad().Item(); g != 0 {
		t.Fatalf("after ZeroGrad: %v", g)
	}
	// No-grad mode records nothing; detach cuts the graph.
	func() {
		defer NoGrad()()
		if z := x.Exp(); z.RequiresGrad() || !z.IsLeaf() {
			t.Fatal("op under NoGrad recorded a node")
		}
	}()
	if d := x.Detach().Exp(); d.RequiresGrad() {
		t.Fatal("op on a detached tensor requires grad")
	}
	// Intermediate gradients are freed unless retained.
	h := x.Scale(2)
	h.RetainGrad()
	k := x.Scale(5)
	h.Mul(k).Sum().Backward()
	if h.Grad() == nil || h.Grad().Item() != 10 {
		t.Fatalf("retained grad of h = %v, want 10", h.Grad())
	}
	if k.Grad() != nil {
		t.Fatal("non-retained intermediate kept its gradient")
	}
	expectPanic(t, "only leaf tensors", func() { h.SetRequiresGrad(false) })
}

// gradReverse is the few-line gradient reversal layer the Custom doc promises.
func gradReverse(x *Tensor, lambda float32) *Tensor {
	return Custom("grad_reverse", x.Detach(), []*Tensor{x},
		func(g *Tensor) []*Tensor { return []*Tensor{g.Scale(-lambda)} })
}

func TestCustomOpGradientReversal(t *testing.T) {
	x := seq(2, 3)
	y := gradReverse(x, 0.5)
	assertClose(t, "forward is identity", y, x.data, []int{2, 3}, 0)
	y.Mul(y).Sum().Backward() // d/dx of Σx² is 2x; reversed and scaled: −x
	for i, v := range x.data {
		if math.Abs(float64(x.grad[i]+v)) > 1e-6 {
			t.Fatalf("grad[%d] = %v, want %v", i, x.grad[i], -v)
		}
	}
	// A custom op with a correct backward passes GradCheck; a wrong one fails it.
	cube := func(in ...*Tensor) *Tensor {
		var out *Tensor
		WithNoGrad(func() { out = in[0].Pow(3) })
		return Custom("cube", out, in[:1], func(g *Tensor) []*Tensor {
			return []*Tensor{g.Mul(in[0].Square().Scale(3))}
		})
	}
	if err := GradCheck(cube, []*Tensor{seq(4)}, GradCheckOptions{}); err != nil {
		t.Fatal(err)
	}
	wrong := func(in ...*Tensor) *Tensor {
		var out *Tensor
		WithNoGrad(func() { out = in[0].Pow(3) })
		return Custom("cube_wrong", out, in[:1], func(g *Tensor) []*Tensor {
			return []*Tensor{g.Mul(in[0].Square().Scale(2))}
		})
	}
	if err := GradCheck(wrong, []*Tensor{seq(4)}, GradCheckOptions{}); err == nil {
		t.Fatal("GradCheck accepted a wrong backward")
	}
}

func TestRNGStateRoundTrip(t *testing.T) {
	r := NewRNG(42)
	Randn(r, 10)
	state, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	a := Randn(r, 5)
	r2 := NewRNG(0)
	if err := r2.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	b := Randn(r2, 5)
	assertClose(t, "restored draws", b, a.data, []int{5}, 0)
}

func TestStringAbbreviates(t *testing.T) {
	s := Arange(0, 20, 1).String()
	if !strings.Contains(s, "[0, 1, 2, …, 17, 18, 19]") || !strings.Contains(s, "shape=(20)") {
		t.Fatalf("String() = %q", s)
	}
}

func TestRecycledGradBuffersNeverAliasKeptGradients(t *testing.T) {
	n := minPooled + 3 // large enough to be recycled
	x := Full(1, n).SetRequiresGrad(true)
	var kept *Tensor
	keep := func(v *Tensor) *Tensor {
		return Custom("keep_grad", v.Detach(), []*Tensor{v}, func(g *Tensor) []*Tensor {
			kept = g
			return []*Tensor{g}
		})
	}
	h := x.Scale(2)
	h.RetainGrad()
	keep(h).Reshape(1, n).Scale(3).Sum().Backward()
	if kept.Data()[0] != 3 || h.Grad().Data()[0] != 3 || x.Grad().Data()[0] != 6 {
		t.Fatalf("first pass: kept %v, h %v, x %v", kept.Data()[0], h.Grad().Data()[0], x.Grad().Data()[0])
	}
	// More graphs of the same size reuse recycled buffers; earlier gradients must not change.
	for i := 0; i < 3; i++ {
		x.Scale(5).Reshape(n, 1).Exp().Sum().Backward()
	}
	if kept.Data()[0] != 3 || h.Grad().Data()[n-1] != 3 {
		t.Fatalf("a recycled buffer overwrote a kept gradient: kept %v, h %v", kept.Data()[0], h.Grad().Data()[n-1])
	}
}

func TestFreeListsReuseBuffersAndDropIdleOnesAtCollections(t *testing.T) {
	const n = 3 * minPooled
	b := getBuffer(n)
	putBuffer(b)
	if again := getBuffer(n); &again[0] != &b[0] || len(again) != n {
		t.Fatal("a recycled buffer was not handed out again")
	}
	putBuffer(b)
	// Two collections: the first makes the buffer idle, the second drops it.
	// The lists are rotated by a cleanup that runs after each collection.
	l := &freeLists[bits.Len(uint(n-1))]
	listed := func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, x := range append(l.recent, l.old...) {
			if &x[:1][0] == &b[0] {
				return true
			}
		}
		return false
	}
	if !listed() {
		t.Fatal("a recycled buffer is not in its free list")
	}
	start := idleDrops.Load()
	deadline := time.Now().Add(30 * time.Second)
	for idleDrops.Load() < start+2 {
		if time.Now().After(deadline) {
			t.Fatalf("the free lists were rotated %d times in 30 s of collections, want 2", idleDrops.Load()-start)
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if listed() {
		t.Fatal("a buffer idle across two collections is still in its free list")
	}
	if fresh := getBuffer(n); &fresh[0] == &b[0] {
		t.Fatal("a dropped buffer was handed out")
	}
}
