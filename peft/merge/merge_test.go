package merge

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// twoParams is a module with two parameters and, optionally, a batch norm
// whose running statistics are buffers.
type twoParams struct {
	W  *tensor.Tensor
	B  *tensor.Tensor
	BN *nn.BatchNorm
}

func newTwoParams(w, b []float32) *twoParams {
	return &twoParams{W: tensor.New(w, 2, len(w)/2), B: tensor.New(b, len(b))}
}

// expectFloats fails unless got and want agree entry by entry within tol.
func expectFloats(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values %v, want %d %v", what, len(got), got, len(want), want)
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol || math.IsNaN(got[i]) {
			t.Fatalf("%s: %v, want %v (entry %d off by %g)", what, got, want, i, got[i]-want[i])
		}
	}
}

// expectError fails unless err is non-nil and mentions every part.
func expectError(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not mention %q", err, p)
		}
	}
}

func TestTaskVectorArithmetic(t *testing.T) {
	base := newTwoParams([]float32{1, 2, 3, 4}, []float32{0, 0})
	ftA := newTwoParams([]float32{2, 2, 3, 4}, []float32{0, 3})
	ftB := newTwoParams([]float32{1, 3, 3, 4}, []float32{0, 4})
	a, err := NewTaskVector(base, ftA)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewTaskVector(base, ftB)
	if err != nil {
		t.Fatal(err)
	}
	if a.Deltas[0].Name != "w" || a.Deltas[1].Name != "b" {
		t.Fatalf("names %q, %q, want w, b", a.Deltas[0].Name, a.Deltas[1].Name)
	}
	expectFloats(t, "τ_A.w", a.Deltas[0].Tensor.Float64s(), []float64{1, 0, 0, 0}, 0)
	expectFloats(t, "τ_A.b", a.Deltas[1].Tensor.Float64s(), []float64{0, 3}, 0)
	// ‖τ_A‖ = √(1 + 9), ‖τ_B‖ = √(1 + 16), τ_A·τ_B = 12.
	expectFloats(t, "norms", []float64{a.Norm(), b.Norm()}, []float64{math.Sqrt(10), math.Sqrt(17)}, 1e-6)
	expectFloats(t, "per-parameter norms", a.Norms(), []float64{1, 3}, 1e-6)
	c, err := a.Cosine(b)
	if err != nil {
		t.Fatal(err)
	}
	expectFloats(t, "cosine", []float64{c}, []float64{12 / math.Sqrt(170)}, 1e-6)
	cs, err := a.Cosines(b)
	if err != nil {
		t.Fatal(err)
	}
	expectFloats(t, "per-parameter cosines", cs, []float64{0, 1}, 1e-6)
	sum, err := a.Scale(2).Add(b)
	if err != nil {
		t.Fatal(err)
	}
	expectFloats(t, "2τ_A + τ_B (w)", sum.Deltas[0].Tensor.Float64s(), []float64{2, 1, 0, 0}, 0)
	expectFloats(t, "2τ_A + τ_B (b)", sum.Deltas[1].Tensor.Float64s(), []float64{0, 10}, 0)
	expectFloats(t, "τ_A after the arithmetic", a.Deltas[1].Tensor.Float64s(), []float64{0, 3}, 0)
	expectFloats(t, "base after the arithmetic", base.W.Float64s(), []float64{1, 2, 3, 4}, 0)

	// A task vector of another base is refused.
	other := newTwoParams([]float32{1, 2, 3, 5}, []float32{0, 0})
	c2, err := NewTaskVector(other, ftA)
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Add(c2)
	expectError(t, err, "different bases")
	_, err = a.Cosine(c2)
	expectError(t, err, "different bases")

	tab, err := TaskVectorTable([]string{"A", "B"}, []*TaskVector{a, b})
	if err != nil {
		t.Fatal(err)
	}
	text := tab.String()
	for _, want := range []string{"‖A‖", "cosine", "w", "(2,2)", "3.16"} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %q:\n%s", want, text)
		}
	}
	if _, err := PlotTaskVectors([]string{"A", "B"}, []*TaskVector{a, b}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Plot(); err != nil {
		t.Fatal(err)
	}
	if text := a.Display().Text(); !strings.Contains(text, "‖task vector‖") || !strings.Contains(text, "3.16") {
		t.Errorf("the task vector shows as\n%s", text)
	}
	_, err = TaskVectorTable([]string{"A"}, []*TaskVector{a, c2})
	expectError(t, err, "1 names for 2")
	_, err = PlotTaskVectors([]string{"A", "C"}, []*TaskVector{a, c2})
	expectError(t, err, "different bases", `"C"`)
}

func TestTaskVectorLayoutErrors(t *testing.T) {
	base := newTwoParams([]float32{1, 2, 3, 4}, []float32{0, 0})
	wide := newTwoParams([]float32{1, 2, 3, 4, 5, 6}, []float32{0, 0})
	_, err := NewTaskVector(base, wide)
	expectError(t, err, `"w"`, "(2,2)", "(2,3)")
	type renamed struct{ W, C *tensor.Tensor }
	_, err = NewTaskVector(base, &renamed{W: base.W, C: base.B})
	expectError(t, err, `"b"`, `"c"`)
	type fewer struct{ W *tensor.Tensor }
	_, err = NewTaskVector(base, &fewer{W: base.W})
	expectError(t, err, "2 parameters", "1", `"b" is missing`)
	_, err = Merge(base, []nn.Module{base, wide}, ModelStock{})
	expectError(t, err, "model 1", "(2,3)")
	_, err = Merge(base, []nn.Module{base, nil}, ModelStock{})
	expectError(t, err, "model 1 is nil")
	_, err = NewTaskVector(nil, base)
	expectError(t, err, "base model is nil")
	_, err = Merge(base, nil, ModelStock{})
	expectError(t, err, "no fine-tuned models")
	_, err = Merge(base, []nn.Module{base}, nil)
	expectError(t, err, "nil method")
}

// badShape is a method that returns a task vector of the wrong shape.
type badShape struct{}

func (badShape) Name() string { return "bad" }
func (badShape) MergeTensor(string, *tensor.Tensor, []*tensor.Tensor) (*tensor.Tensor, error) {
	return tensor.Zeros(1), nil
}

// failing is a method that always fails.
type failing struct{}

func (failing) Name() string { return "failing" }
func (failing) MergeTensor(name string, _ *tensor.Tensor, _ []*tensor.Tensor) (*tensor.Tensor, error) {
	return nil, errors.New("cannot merge " + name)
}

func TestMergeParametersAndBuffers(t *testing.T) {
	mk := func(w, b []float32, mean, vr float32, tracked float32) *twoParams {
		m := newTwoParams(w, b)
		m.BN = nn.NewBatchNorm1d(1)
		m.BN.RunningMean.Fill(mean)
		m.BN.RunningVar.Fill(vr)
		m.BN.NumBatchesTracked.Fill(tracked)
		return m
	}
	base := mk([]float32{0, 0, 0, 0}, []float32{1, 1}, 0, 1, 0)
	ftA := mk([]float32{1, 0, 0, 1}, []float32{1, 1}, 2, 3, 10)
	ftB := mk([]float32{1, 1, 0, 0}, []float32{1, 1}, 4, 7, 15)
	state, err := Merge(base, []nn.Module{ftA, ftB}, ModelStock{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range nn.StateDict(base) {
		names = append(names, e.Name)
	}
	if len(state) != len(names) {
		t.Fatalf("%d entries, want %d (%v)", len(state), len(names), names)
	}
	for i, e := range state {
		if e.Name != names[i] {
			t.Fatalf("entry %d is %q, want %q (state-dict order)", i, e.Name, names[i])
		}
	}
	// w: task vectors (1,0,0,1) and (1,1,0,0) have cosine 1/2, so
	// t = 2·½/(1 + ½) = 2/3 and the merged w is 2/3·(1, ½, 0, ½).
	expectFloats(t, "merged w", state[0].Tensor.Float64s(), []float64{2. / 3, 1. / 3, 0, 1. / 3}, 1e-6)
	// b: zero task vectors leave the base.
	expectFloats(t, "merged b", state[1].Tensor.Float64s(), []float64{1, 1}, 0)
	for _, e := range state {
		switch e.Name {
		case "bn.running_mean":
			expectFloats(t, e.Name, e.Tensor.Float64s(), []float64{3}, 0)
		case "bn.running_var":
			expectFloats(t, e.Name, e.Tensor.Float64s(), []float64{5}, 0)
		case "bn.num_batches_tracked":
			expectFloats(t, e.Name, e.Tensor.Float64s(), []float64{13}, 0)
		}
	}
	expectFloats(t, "fine-tune A's w after merging", ftA.W.Float64s(), []float64{1, 0, 0, 1}, 0)
	expectFloats(t, "fine-tune A's running mean after merging", ftA.BN.RunningMean.Float64s(), []float64{2}, 0)

	dst := mk([]float32{9, 9, 9, 9}, []float32{9, 9}, 9, 9, 9)
	if err := MergeInto(dst, base, []nn.Module{ftA, ftB}, ModelStock{}); err != nil {
		t.Fatal(err)
	}
	expectFloats(t, "loaded w", dst.W.Float64s(), []float64{2. / 3, 1. / 3, 0, 1. / 3}, 1e-6)
	expectFloats(t, "loaded running var", dst.BN.RunningVar.Float64s(), []float64{5}, 0)

	// Merging into one of the inputs overwrites it with the merge.
	if err := MergeInto(ftB, base, []nn.Module{ftA, ftB}, ModelStock{}); err != nil {
		t.Fatal(err)
	}
	expectFloats(t, "merged into fine-tune B", ftB.W.Float64s(), []float64{2. / 3, 1. / 3, 0, 1. / 3}, 1e-6)
	_, err = Merge(base, []nn.Module{ftA, ftB}, badShape{})
	expectError(t, err, "bad", `"w"`, "(1)", "(2,2)")
	err = MergeInto(dst, base, []nn.Module{ftA, ftB}, failing{})
	expectError(t, err, `cannot merge w`)
	expectFloats(t, "dst after a failed merge", dst.W.Float64s(), []float64{2. / 3, 1. / 3, 0, 1. / 3}, 1e-6)
}
