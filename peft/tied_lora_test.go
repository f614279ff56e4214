package peft

import (
	"testing"

	"github.com/graftml/graft/models/gpt2"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

func tiedModel(t *testing.T, c TiedLoraConfig) (*Model, *TiedLoraLayer, *TiedLoraLayer) {
	t.Helper()
	m, err := Inject(newRagged(1), "", c)
	if err != nil {
		t.Fatal(err)
	}
	mod := m.Module().(*ragged)
	up, down := mod.Up.(*TiedLoraLayer), mod.Down.(*TiedLoraLayer)
	for i, ts := range []map[string]*tensor.Tensor{up.B, up.U, up.V, down.U, down.V} {
		randomise(ts, "default", uint64(10+i))
	}
	return m, up, down
}

func TestTiedLoraSharingAndCounts(t *testing.T) {
	const r = 2
	c := NewTiedLoraConfig(r, 4, "up", "down")
	m, up, down := tiedModel(t, c)
	if up.A["default"] != down.A["default"] || up.B["default"] != down.B["default"] {
		t.Fatal("the layers do not share A and B")
	}
	names := map[string]bool{}
	for _, p := range nn.NamedParameters(m.Module()) {
		names[p.Name] = true
	}
	if !names["up.tied_lora_A.default"] || names["down.tied_lora_A.default"] || !names["down.tied_lora_v.default"] {
		t.Fatalf("parameter names %v: want A once, under the first layer", names)
	}
	const base = 4*5 + 5 + 5*3 + 3
	shared := r*5 + 5*r // A (r, in_max 5), B (out_max 5, r)
	vectors := (r + 5) + (r + 3)
	s := m.Summary()
	if s.Trainable != shared+vectors || s.Total != base+shared+vectors {
		t.Fatalf("trainable %d of %d, want %d of %d", s.Trainable, s.Total, shared+vectors, base+shared+vectors)
	}
	// Only the vectors train (the paper's vBuA with A, B frozen).
	c.TrainA, c.TrainB = false, false
	m2, up2, _ := tiedModel(t, c)
	if got := trainable(m2); got != vectors {
		t.Fatalf("trainable %d with A and B frozen, want %d", got, vectors)
	}
	if up2.B["default"].RequiresGrad() || up2.B["default"].Data()[0] == 0 {
		t.Fatal("a frozen B must be random and frozen")
	}
	// B and v frozen: refused, model unchanged.
	c.TrainV = false
	toy := newRagged(1)
	before := snap(toy)
	if _, err := Inject(toy, "", c); err == nil {
		t.Fatal("accepted B and v both frozen")
	}
	before.same(t, toy)
}

// TestTiedLoraForwardByHand computes the down layer (5 → 3, Conv1D, B
// sliced) in float64: y = W₀x + bias + s·v ⊙ (B[:3]·(u ⊙ (A·x))).
func TestTiedLoraForwardByHand(t *testing.T) {
	const r = 2
	_, _, down := tiedModel(t, NewTiedLoraConfig(r, 3, "up", "down"))
	x := tensor.Randn(tensor.NewRNG(5), 2, 5)
	a, b := down.A["default"].Data(), down.B["default"].Data()
	u, v := down.U["default"].Data(), down.V["default"].Data()
	w := down.aff.weightOutIn()
	for o := 0; o < 3; o++ {
		for i := 0; i < 5; i++ {
			for k := 0; k < r; k++ {
				w[o*5+i] += 1.5 * float64(v[o]) * float64(b[o*r+k]) * float64(u[k]) * float64(a[k*5+i])
			}
		}
	}
	want := affineByHand(x, w, down.Base.(*gpt2.Conv1D).Bias, 5, 3)
	closeTo(t, "Tied-LoRA forward", down.Forward(x).Data(), want, 1e-5)
}

// TestTiedLoraGradients checks the gradients of the shared A and B, which
// collect contributions from both layers, and of the vectors.
func TestTiedLoraGradients(t *testing.T) {
	_, up, down := tiedModel(t, NewTiedLoraConfig(2, 2, "up", "down"))
	x := tensor.Randn(tensor.NewRNG(6), 2, 4)
	f := func(in ...*tensor.Tensor) *tensor.Tensor {
		up.A["default"], down.A["default"] = in[0], in[0]
		up.B["default"], down.B["default"] = in[1], in[1]
		up.U["default"], down.V["default"] = in[2], in[3]
		return down.Forward(up.Forward(x).Tanh())
	}
	in := []*tensor.Tensor{up.A["default"], up.B["default"], up.U["default"], down.V["default"]}
	if err := tensor.GradCheck(f, in, tensor.GradCheckOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestTiedLoraMergeAndSave(t *testing.T) {
	c := NewTiedLoraConfig(2, 2, "up", "down")
	c.TrainA = false
	m, _, _ := tiedModel(t, c)
	x := raggedInput()
	checkConfig(t, checkRoundTrip(t, m, newRagged(1), x), c)
	checkMerge(t, m, x)
}
