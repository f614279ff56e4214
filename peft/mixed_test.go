package peft

import (
	"strings"
	"testing"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// net is one adaptable layer with a Forward, for hand-computed checks.
type net struct{ Fc nn.Layer }

func (n *net) Forward(x *tensor.Tensor) *tensor.Tensor { return n.Fc.Forward(x) }

// handNet returns W = [[1, 2], [0, -1]], b = 0, with LoRA adapters "a"
// (A = (1, 0), B = (1, 1)ᵀ, s = 2) and "b" (A = (0, 1), B = (1, -1)ᵀ, s = 1)
// on fc: ΔW_a = [[2, 0], [2, 0]], ΔW_b = [[0, 1], [0, -1]].
func handNet(t *testing.T) (*net, *Model) {
	t.Helper()
	model := &net{Fc: handLinear()}
	return model, handAdapters(t, model)
}

func handLinear() *nn.Linear { return &nn.Linear{Weight: tensor.New([]float32{1, 2, 0, -1}, 2, 2)} }

// handAdapters puts handNet's adapters on model's module "fc".
func handAdapters(t *testing.T, model nn.Module) *Model {
	t.Helper()
	m, err := Inject(model, "a", LoraConfig{R: 1, Alpha: 2, TargetModules: []string{"fc"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AddAdapter("b", LoraConfig{R: 1, Alpha: 1, TargetModules: []string{"fc"}}); err != nil {
		t.Fatal(err)
	}
	mod, err := nn.Get(model, "fc")
	if err != nil {
		t.Fatal(err)
	}
	l := mod.(*LoraLayer)
	l.LoraA["a"].Weight.CopyFrom(tensor.New([]float32{1, 0}, 1, 2))
	l.LoraB["a"].Weight.CopyFrom(tensor.New([]float32{1, 1}, 2, 1))
	l.LoraA["b"].Weight.CopyFrom(tensor.New([]float32{0, 1}, 1, 2))
	l.LoraB["b"].Weight.CopyFrom(tensor.New([]float32{1, -1}, 2, 1))
	return m
}

func TestMixedBatchByHand(t *testing.T) {
	_, m := handNet(t)
	x := tensor.New([]float32{1, 1, 1, 1, 1, 1, 2, -1}, 4, 2)
	y, err := m.ForwardWithAdapters(x, []string{"a", "b", "", BaseAdapter})
	if err != nil {
		t.Fatal(err)
	}
	// Wx for (1, 1): (3, -1); ΔW_a x = (2, 2); ΔW_b x = (1, -1); for (2, -1): Wx = (0, 1).
	want := []float32{5, 1, 4, -2, 3, -1, 0, 1}
	for i, v := range want {
		if d := y.Data()[i] - v; d > 1e-6 || d < -1e-6 {
			t.Fatalf("got %v, want %v", y.Data(), want)
		}
	}
	// Afterwards the active adapter ("a") applies to every row again.
	if got := m.Module().(*net).Forward(x).Data()[2]; got != 5 {
		t.Fatalf("after the mixed batch row 1 gives %v, want 5", got)
	}
}

// TestMixedBatchEqualsAlone compares a mixed batch with each example run
// alone, on the toy model (Linear and Conv1D targets) with 2-D and 3-D
// inputs.
func TestMixedBatchEqualsAlone(t *testing.T) {
	model := newToy(3)
	m, err := Inject(model, "a", LoraConfig{R: 2, Alpha: 4, TargetModules: []string{"query", "c_proj"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AddAdapter("b", LoraConfig{R: 3, Alpha: 2, TargetModules: []string{"layers.1.value", "c_proj"}, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	randomiseB(t, m, "a", 7)
	randomiseB(t, m, "b", 8)
	// An active IA3 adapter elsewhere is none of the rows' adapter: it
	// applies to no row.
	if err := m.AddAdapter("i", IA3Config{TargetModules: []string{"layers.0.value"}}); err != nil {
		t.Fatal(err)
	}
	nn.NormalInit(model.Layers[0].Value.(*IA3Layer).IA3L["i"], tensor.NewRNG(10), 1, 0.5)
	if err := m.SetActive("a", "i"); err != nil {
		t.Fatal(err)
	}
	names := []string{"b", "", "a", "b"}
	for _, x := range []*tensor.Tensor{toyInput(4), tensor.Randn(tensor.NewRNG(9), 4, 3, toyDim)} {
		y, err := m.ForwardWithAdapters(x, names)
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range names {
			xi := x.Slice(0, i, i+1)
			var want *tensor.Tensor
			if a == "" {
				if err := m.WithDisabled(func() { want = model.Forward(xi) }); err != nil {
					t.Fatal(err)
				}
			} else {
				if err := m.SetActive(a); err != nil {
					t.Fatal(err)
				}
				want = model.Forward(xi)
			}
			if d := maxAbsDiff(y.Slice(0, i, i+1), want); d > 1e-5 {
				t.Fatalf("input %v row %d (%q): differs from running it alone by %g", x.Shape(), i, a, d)
			}
		}
	}
}

func TestMixedBatchErrors(t *testing.T) {
	_, m := handNet(t)
	x := tensor.Zeros(2, 2)
	for _, c := range []struct {
		names []string
		want  string
	}{
		{[]string{"a"}, "1 adapter names for a batch of 2"},
		{[]string{"a", "c"}, `no adapter named "c"`},
	} {
		if _, err := m.ForwardWithAdapters(x, c.names); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%q: got %v, want an error containing %q", c.names, err, c.want)
		}
	}
	if err := m.Merge("a"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.ForwardWithAdapters(x, []string{"b", "b"}); err == nil || !strings.Contains(err.Error(), `["a"] are merged`) {
		t.Fatalf("merged: got %v", err)
	}
}

// flat runs its layer on (N, L, in) flattened to (N·L, in).
type flat struct{ Fc nn.Layer }

func (f *flat) Forward(x *tensor.Tensor) *tensor.Tensor {
	s := x.Shape()
	return f.Fc.Forward(x.Reshape(-1, s[2])).Reshape(s[0], s[1], -1)
}

// TestMixedBatchFlattened: a layer that sees the batch flattened to
// (N·L, in) gives example i its rows i·L … i·L+L−1.
func TestMixedBatchFlattened(t *testing.T) {
	m := handAdapters(t, &flat{Fc: handLinear()})
	x := tensor.New([]float32{1, 1, 2, -1, 1, 1, 2, -1}, 2, 2, 2)
	y, err := m.ForwardWithAdapters(x, []string{BaseAdapter, "b"})
	if err != nil {
		t.Fatal(err)
	}
	// Example 0 base: W(1, 1) = (3, -1), W(2, -1) = (0, 1). Example 1 with
	// b: plus ΔW_b x = (1, -1) and (-1, 1).
	want := []float32{3, -1, 0, 1, 4, -2, -1, 2}
	for i, v := range want {
		if d := y.Data()[i] - v; d > 1e-6 || d < -1e-6 {
			t.Fatalf("got %v, want %v", y.Data(), want)
		}
	}
}
