package peft

import (
	"slices"
	"testing"

	"github.com/graftml/graft/models/gpt2"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

func veraModel(t *testing.T, r int) (*Model, *VeraLayer, *VeraLayer) {
	t.Helper()
	m, err := Inject(newRagged(1), "", NewVeraConfig(r, "up", "down"))
	if err != nil {
		t.Fatal(err)
	}
	mod := m.Module().(*ragged)
	up, down := mod.Up.(*VeraLayer), mod.Down.(*VeraLayer)
	randomise(up.LambdaB, "default", 2)
	randomise(down.LambdaB, "default", 3)
	randomise(down.LambdaD, "default", 4)
	return m, up, down
}

func TestVeraSharedProjections(t *testing.T) {
	const r = 3
	m, up, down := veraModel(t, r)
	a, b := up.A["default"], up.B["default"]
	if a != down.A["default"] || b != down.B["default"] {
		t.Fatal("the layers do not share vera_A and vera_B")
	}
	// Largest widths: in 5 (down), out 5 (up).
	if !slices.Equal(a.Shape(), []int{r, 5}) || !slices.Equal(b.Shape(), []int{5, r}) {
		t.Fatalf("vera_A %v, vera_B %v: want (3, 5), (5, 3)", a.Shape(), b.Shape())
	}
	// Kaiming uniform, gain √2: |A| ≤ √(6/5), |B| ≤ √(6/3).
	for _, c := range []struct {
		t     *tensor.Tensor
		bound float64
	}{{a, 1.0954451}, {b, 1.4142136}} {
		for _, v := range c.t.Data() {
			if float64(v) > c.bound || float64(v) < -c.bound || v == 0 {
				t.Fatalf("projection value %g outside (−%g, %g)", v, c.bound, c.bound)
			}
		}
	}
	if got := up.LambdaD["default"].Data(); got[0] != 0.1 || got[2] != 0.1 {
		t.Fatalf("vera_lambda_d starts at %v, want d_initial 0.1", got)
	}
	// Trainable: r + out per layer; the projections are buffers.
	if got, want := trainable(m), (r+5)+(r+3); got != want {
		t.Fatalf("trainable %d, want %d", got, want)
	}
	names := map[string]bool{}
	for _, p := range nn.NamedParameters(m.Module()) {
		names[p.Name] = true
	}
	if !names["up.vera_lambda_b.default"] || !names["down.vera_lambda_d.default"] || names["up.vera_A.default"] {
		t.Fatalf("parameter names %v", names)
	}
}

// TestVeraForwardByHand computes the down layer (5 → 3, Conv1D, so A and B
// are sliced) in float64: y = W₀x + bias + b ⊙ (B[:3]·(d ⊙ (A·x))).
func TestVeraForwardByHand(t *testing.T) {
	const r = 3
	_, _, down := veraModel(t, r)
	x := tensor.Randn(tensor.NewRNG(5), 2, 5)
	a, b := down.A["default"].Data(), down.B["default"].Data()
	d, lb := down.LambdaD["default"].Data(), down.LambdaB["default"].Data()
	w := down.aff.weightOutIn()
	for o := 0; o < 3; o++ {
		for i := 0; i < 5; i++ {
			for k := 0; k < r; k++ {
				w[o*5+i] += float64(lb[o]) * float64(b[o*r+k]) * float64(d[k]) * float64(a[k*5+i])
			}
		}
	}
	want := affineByHand(x, w, down.Base.(*gpt2.Conv1D).Bias, 5, 3)
	closeTo(t, "VeRA forward", down.Forward(x).Data(), want, 1e-5)
}

func TestVeraGradients(t *testing.T) {
	_, up, down := veraModel(t, 2)
	x := tensor.Randn(tensor.NewRNG(6), 2, 4)
	f := func(in ...*tensor.Tensor) *tensor.Tensor {
		up.LambdaB["default"], up.LambdaD["default"], down.LambdaB["default"] = in[0], in[1], in[2]
		return down.Forward(up.Forward(x).Tanh())
	}
	in := []*tensor.Tensor{up.LambdaB["default"], up.LambdaD["default"], down.LambdaB["default"]}
	if err := tensor.GradCheck(f, in, tensor.GradCheckOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestVeraMergeAndSave(t *testing.T) {
	m, _, _ := veraModel(t, 3)
	x := raggedInput()
	dir := checkRoundTrip(t, m, newRagged(1), x)
	checkConfig(t, dir, m.Method("default"))
	checkMerge(t, m, x)
	keys := savedKeys(t, dir)
	want := []string{"base_model.model.down.vera_lambda_b", "base_model.model.down.vera_lambda_d",
		"base_model.model.up.vera_lambda_b", "base_model.model.up.vera_lambda_d", "base_model.vera_A", "base_model.vera_B"}
	if !sameSet(keys, want) {
		t.Fatalf("saved keys %q, want %q", keys, want)
	}
	// A file whose projections do not fit is refused, the model unchanged.
	small := newRagged(1)
	small.Down = nn.NewLinear(5, 2, false, tensor.NewRNG(3))
	before := snap(small)
	if _, err := Load(small, dir, ""); err == nil {
		t.Fatal("loaded projections of the wrong shape")
	}
	before.same(t, small)
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}
