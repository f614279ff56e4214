package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/graftml/graft/tensor"
)

// unfused wraps a layer so that Sequential.Forward no longer sees a plain
// *Linear or ReLU *Activation and runs each layer on its own.
type unfused struct{ Layer }

// A Sequential whose Linear layers are followed by ReLU (run fused) gives
// the outputs and gradients of running the same layers one by one, bit for
// bit.
func TestSequentialFusedLinearReLUMatchesLayerByLayer(t *testing.T) {
	r := tensor.NewRNG(4)
	mlp := NewMLP([]int{20, 33, 17, 5}, "relu", 0, r)
	mixed := NewSequential(NewLinear(12, 9, true, r), NewActivation("relu"), NewLinear(9, 8, false, r), NewActivation("relu"),
		NewLinear(8, 7, true, r), NewActivation("tanh"), NewLinear(7, 6, true, r))
	for name, c := range map[string]struct {
		model *Sequential
		x     *tensor.Tensor
	}{
		"mlp":   {mlp, tensor.Randn(r, 16, 20)},
		"mixed": {mixed, tensor.Randn(r, 3, 4, 12)},
	} {
		wrapped := &Sequential{}
		for _, l := range c.model.Layers {
			wrapped.Layers = append(wrapped.Layers, unfused{l})
		}
		params := Parameters(c.model)
		run := func(m *Sequential) (out []float32, grads [][]float32) {
			for _, p := range params {
				p.SetGrad(nil)
			}
			y := m.Forward(c.x)
			g := tensor.Randn(tensor.NewRNG(9), y.Shape()...)
			y.BackwardWith(g)
			for _, p := range params {
				grads = append(grads, append([]float32(nil), p.GradData()...))
			}
			return append([]float32(nil), y.Data()...), grads
		}
		gotY, gotG := run(c.model)
		wantY, wantG := run(wrapped)
		same(t, name+" output", gotY, wantY)
		for i := range gotG {
			same(t, fmt.Sprintf("%s gradient of parameter %d", name, i), gotG[i], wantG[i])
		}
	}
}

// Only a plain Linear followed by a plain ReLU fuses.
func TestSequentialFusesOnlyPlainLinearReLU(t *testing.T) {
	r := tensor.NewRNG(5)
	lin, act := NewLinear(4, 3, true, r), NewActivation("relu")
	x := tensor.Randn(r, 2, 4)
	for _, c := range []struct {
		model *Sequential
		op    string
	}{
		{NewSequential(lin, act), "linear_relu"},
		{NewSequential(unfused{lin}, act), "relu"},
		{NewSequential(lin, unfused{act}), "relu"},
		{NewSequential(lin, NewActivation("leaky_relu")), "leaky_relu"},
		{NewSequential(lin), "linear"},
	} {
		if op := c.model.Forward(x).Op(); op != c.op {
			t.Errorf("%T then %T: output of %q, want %q", c.model.Layers[0], c.model.Layers[len(c.model.Layers)-1], op, c.op)
		}
	}
}

func same(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("%s: %d values, want %d (> 0)", name, len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: element %d = %v, want %v", name, i, got[i], want[i])
		}
	}
}
