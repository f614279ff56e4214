package peft

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// TestSharedCountsGPT2 checks the trainable and total counts of the three
// methods on a tiny GPT-2 (8 wide, 2 layers) targeting c_attn (8 → 24) and
// c_proj (attention 8 → 8, MLP 32 → 8: 3 modules a layer, 6 in all), by
// formula; the shared matrices are sized in_max 32, out_max 24.
func TestSharedCountsGPT2(t *testing.T) {
	const r = 4
	base, _ := nn.CountParameters(tinyGPT2(t, 1))
	outs := 2 * (24 + 8 + 8) // Σ out over the 6 targets
	ins := 2 * (8 + 8 + 32)  // Σ in
	cases := []struct {
		method           Method
		trainable, extra int // extra: parameters added to the total
	}{
		// VeRA: r + out per layer; the projections (r, 32), (24, r) are buffers.
		{NewVeraConfig(r, "c_attn", "c_proj"), 6*r + outs, 6*r + outs},
		// Tied-LoRA: A (r, 32) and B (24, r) once, u (r) and v (out) per layer.
		{NewTiedLoraConfig(r, 8, "c_attn", "c_proj"), r*32 + 24*r + 6*r + outs, r*32 + 24*r + 6*r + outs},
		// HRA: in·r per layer.
		{NewHRAConfig(r, "c_attn", "c_proj"), ins * r, ins * r},
	}
	for _, c := range cases {
		m, err := Inject(tinyGPT2(t, 1), "", c.method)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Tuners()) != 6 {
			t.Fatalf("%s: %d modules adapted, want 6", c.method.PeftType(), len(m.Tuners()))
		}
		// A (batch, seq, in) input gives the rows of the (batch·seq, in) one.
		l := m.Tuners()[0].Module.(nn.Layer)
		x := tensor.Randn(tensor.NewRNG(3), 2, 3, 8)
		if d := maxAbsDiff(l.Forward(x).Reshape(6, 24), l.Forward(x.Reshape(6, 8))); d > 1e-6 {
			t.Errorf("%s: 3-D input differs by %g", c.method.PeftType(), d)
		}
		s := m.Summary()
		if s.Trainable != c.trainable || s.Total != base+c.extra {
			t.Errorf("%s: trainable %d of %d, want %d of %d", c.method.PeftType(), s.Trainable, s.Total, c.trainable, base+c.extra)
		}
	}
}

// TestVeraTwoAdapters: each adapter draws its own projections; switching
// adapters switches which vectors train; deleting one leaves the other.
func TestVeraTwoAdapters(t *testing.T) {
	m, up, _ := veraModel(t, 3)
	c := NewVeraConfig(2, "up", "down")
	c.ProjectionPRNGKey = 5
	if err := m.AddAdapter("other", c); err != nil {
		t.Fatal(err)
	}
	if up.A["other"] == up.A["default"] || !slices.Equal(up.A["other"].Shape(), []int{2, 5}) {
		t.Fatal("the second adapter shares the first one's projections")
	}
	if !up.LambdaB["default"].RequiresGrad() || up.LambdaB["other"].RequiresGrad() {
		t.Fatal("the inactive adapter's vectors train")
	}
	x := raggedInput()
	want := m.Module().(nn.Layer).Forward(x)
	if err := m.SetActive("other"); err != nil {
		t.Fatal(err)
	}
	if up.LambdaB["default"].RequiresGrad() || !up.LambdaB["other"].RequiresGrad() {
		t.Fatal("SetActive did not switch the trainable vectors")
	}
	// "other" has b = 0: the model computes as the base.
	var base *tensor.Tensor
	if err := m.WithDisabled(func() { base = m.Module().(nn.Layer).Forward(x) }); err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(m.Module().(nn.Layer).Forward(x), base); d != 0 {
		t.Fatalf("a fresh VeRA adapter changes the output by %g", d)
	}
	if err := m.DeleteAdapter("other"); err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(m.Module().(nn.Layer).Forward(x), want); d != 0 {
		t.Fatalf("after deleting the other adapter the output differs by %g", d)
	}
	if _, ok := up.A["other"]; ok {
		t.Fatal("the deleted adapter's projections are still held")
	}
}

// TestVeraWithoutProjection: with save_projection false only the vectors
// are saved, and loading redraws the projections from projection_prng_key.
// A file that should hold the projections and does not is refused.
func TestVeraWithoutProjection(t *testing.T) {
	c := NewVeraConfig(3, "up", "down")
	c.SaveProjection, c.ProjectionPRNGKey = false, 11
	m, err := Inject(newRagged(1), "", c)
	if err != nil {
		t.Fatal(err)
	}
	for _, nm := range m.Tuners() {
		randomise(nm.Module.(*VeraLayer).LambdaB, "default", 8)
	}
	dir := checkRoundTrip(t, m, newRagged(1), raggedInput())
	data, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	patched := []byte(replaceOnce(string(data), `"save_projection": false`, `"save_projection": true`))
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), patched, 0o644); err != nil {
		t.Fatal(err)
	}
	fresh := newRagged(1)
	before := snap(fresh)
	_, err = Load(fresh, dir, "")
	if err == nil {
		t.Fatal("loaded a VeRA adapter whose projections are missing")
	}
	t.Log(err)
	before.same(t, fresh)
}

func replaceOnce(s, old, new string) string {
	for i := 0; i+len(old) <= len(s); i++ {
		if s[i:i+len(old)] == old {
			return s[:i] + new + s[i+len(old):]
		}
	}
	return s
}
