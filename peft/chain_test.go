package peft

import (
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/tensor"
)

func TestChainStepByHand(t *testing.T) {
	model, m := handNet(t)
	x := tensor.New([]float32{1, 1, 2, -1}, 2, 2)
	before := model.Forward(x).Clone()
	oldA := model.Fc.(*LoraLayer).LoraA["a"].Weight
	if err := m.ChainStep("a", nil); err != nil {
		t.Fatal(err)
	}
	l := model.Fc.(*LoraLayer)
	// W + ΔW_a = [[1, 2], [0, -1]] + [[2, 0], [2, 0]].
	if got, want := l.aff.weight.Data(), []float32{3, 2, 2, -1}; !slices.Equal(got, want) {
		t.Fatalf("base weight %v, want %v", got, want)
	}
	if l.LoraA["a"].Weight == oldA || slices.ContainsFunc(l.LoraB["a"].Weight.Data(), func(v float32) bool { return v != 0 }) {
		t.Fatal("the chained adapter is not fresh (new A, B = 0)")
	}
	if !l.LoraA["a"].Weight.RequiresGrad() || !slices.Equal(m.Active(), []string{"a"}) || len(m.Merged()) != 0 {
		t.Fatalf("active %q merged %q trainable %v", m.Active(), m.Merged(), l.LoraA["a"].Weight.RequiresGrad())
	}
	if d := maxAbsDiff(model.Forward(x), before); d > 1e-6 {
		t.Fatalf("outputs changed by %g", d)
	}
	// Adapter "b" is untouched and still applies on top of the new base.
	if err := m.SetActive("b"); err != nil {
		t.Fatal(err)
	}
	// (W + ΔW_a + ΔW_b)·(1, 1) = (5, 1) + (1, -1).
	if got := model.Forward(x).Data()[:2]; !slices.Equal(got, []float32{6, 0}) {
		t.Fatalf("with b on the chained base: %v, want [6 0]", got)
	}
}

// TestChainSteps chains three adapters on the toy model (Linear and Conv1D
// targets): after each step the outputs are unchanged and the base weight
// has taken in s·B·A.
func TestChainSteps(t *testing.T) {
	model := newToy(11)
	m, err := Inject(model, "", LoraConfig{R: 2, Alpha: 3, TargetModules: []string{"query", "c_proj"}})
	if err != nil {
		t.Fatal(err)
	}
	x := toyInput(12)
	for k := 0; k < 3; k++ {
		randomiseB(t, m, DefaultAdapter, uint64(20+k))
		l := model.Layers[1].Proj.(*LoraLayer)
		want := l.aff.weightOutIn()
		for i, d := range l.delta(DefaultAdapter) {
			want[i] += d
		}
		before := model.Forward(x).Clone()
		if err := m.ChainStep(DefaultAdapter, nil); err != nil {
			t.Fatal(err)
		}
		if d := relDiff(model.Forward(x), before); d > 1e-5 {
			t.Fatalf("step %d: outputs changed by %g relative", k, d)
		}
		l = model.Layers[1].Proj.(*LoraLayer)
		for i, v := range l.aff.weightOutIn() {
			if d := v - want[i]; d > 1e-6 || d < -1e-6 {
				t.Fatalf("step %d: merged Conv1D weight at %d is %g, want W + sBA = %g", k, i, v, want[i])
			}
		}
	}
}

func TestChainStepErrors(t *testing.T) {
	model, m := handNet(t)
	s := snap(model)
	if err := m.ChainStep("a", LoraConfig{R: 3, Alpha: 1, TargetModules: []string{"fc"}}); err == nil || !strings.Contains(err.Error(), "rank 3") {
		t.Fatalf("rank 3 on a 2×2 layer: got %v", err)
	}
	if err := m.ChainStep("c", nil); err == nil || !strings.Contains(err.Error(), `no adapter named "c"`) {
		t.Fatalf("unknown adapter: got %v", err)
	}
	s.same(t, model)
	if err := m.Merge("b"); err != nil {
		t.Fatal(err)
	}
	if err := m.ChainStep("a", nil); err == nil || !strings.Contains(err.Error(), `["b"] are merged`) {
		t.Fatalf("with b merged: got %v", err)
	}
}
