package peft

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// fusedModel returns the 2 → 2 layer of the bottleneck hand computations with
// two sequential adapters "a" (setBottleneck's weights) and "b" (u_b = (1, 0)
// on the test input) and a fusion "fusion" over them, active alone.
func fusedModel(t *testing.T, fusion FusionConfig) (*single, *Model) {
	t.Helper()
	model := &single{Fc: &nn.Linear{Weight: tensor.New([]float32{1, 2, 0, -1}, 2, 2), Bias: tensor.New([]float32{0.5, 0}, 2)}}
	cfg := BottleneckConfig{TargetModules: []string{"fc"}, ReductionFactor: 2}
	m, err := Inject(model, "a", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AddAdapter("b", cfg); err != nil {
		t.Fatal(err)
	}
	l := model.Fc.(*BottleneckLayer)
	setBottleneck(l, "a")
	// b: W_down = (0, 1), b_down = 0: ReLU(−1) = 0, so u_b = b_up = (1, 0).
	l.Down["b"].Weight.CopyFrom(tensor.New([]float32{0, 1}, 1, 2))
	l.Up["b"].Bias.CopyFrom(tensor.New([]float32{1, 0}, 2))
	fusion.TargetModules, fusion.Adapters = []string{"fc"}, []string{"a", "b"}
	if err := m.AddAdapter("fusion", fusion); err != nil {
		t.Fatal(err)
	}
	if err := m.SetActive("fusion"); err != nil {
		t.Fatal(err)
	}
	return model, m
}

// TestFusionForwardByHand checks the fused output with identity query, key
// and value: y + Σ softmax(y·uᵢ/T)·uᵢ, and that only the fusion trains.
func TestFusionForwardByHand(t *testing.T) {
	model, m := fusedModel(t, FusionConfig{Temperature: 10})
	f := model.Fc.(*BottleneckLayer).Fusion["fusion"]
	// W_v starts at the identity with 1e-6 off the diagonal.
	closeTo(t, "value init", f.Value.Weight.Data(), widen([]float32{1, 1e-6, 1e-6, 1}), 0)
	for _, p := range []*nn.Linear{f.Query, f.Key, f.Value} {
		p.Weight.CopyFrom(tensor.Eye(2))
	}
	x := tensor.New([]float32{1, 1}, 1, 2)
	// y = (3.5, −1); u_a = (10.1, −4.8), u_b = (1, 0); y·u_a = 40.15,
	// y·u_b = 3.5; p = softmax((4.015, 0.35)).
	pa := 1 / (1 + math.Exp(0.35-4.015))
	pb := 1 - pa
	want := []float32{float32(3.5 + pa*10.1 + pb*1), float32(-1 + pa*-4.8)}
	closeTo(t, "fused", model.Forward(x).Data(), widen(want), 1e-5)
	// Trainable: the fusion's three (2, 2) projections with biases only.
	if got := m.Summary().Trainable; got != 3*(4+2) {
		t.Errorf("trainable %d, want 18", got)
	}
	if err := m.Merge(); err == nil || !strings.Contains(err.Error(), "AdapterFusion") {
		t.Errorf("merge: %v", err)
	}
}

// TestFusionGradients checks the fusion layer's gradients by finite
// differences, and the regulariser's value and gradient.
func TestFusionGradients(t *testing.T) {
	model, m := fusedModel(t, FusionConfig{Temperature: 2, Seed: 3})
	f := model.Fc.(*BottleneckLayer).Fusion["fusion"]
	r := tensor.NewRNG(7)
	for _, p := range nn.Parameters(f) {
		nn.NormalInit(p, r, 0, 0.3)
	}
	x := tensor.Randn(tensor.NewRNG(8), 3, 2)
	ps := nn.Parameters(f)
	if err := tensor.GradCheck(func(...*tensor.Tensor) *tensor.Tensor { return model.Forward(x) }, ps, tensor.GradCheckOptions{}); err != nil {
		t.Fatal(err)
	}
	// ‖I − W_v‖² by hand, weight 0.01 by default.
	v := f.Value.Weight.Data()
	want := 0.01 * (sq(1-v[0]) + sq(v[1]) + sq(v[2]) + sq(1-v[3]))
	if got := FusionPenalty(m).Item(); math.Abs(float64(got)-want) > 1e-6 {
		t.Errorf("penalty %v, want %v", got, want)
	}
	if err := tensor.GradCheck(func(...*tensor.Tensor) *tensor.Tensor { return FusionPenalty(m) }, []*tensor.Tensor{f.Value.Weight}, tensor.GradCheckOptions{}); err != nil {
		t.Fatal(err)
	}
}

func sq(v float32) float64 { return float64(v) * float64(v) }

// TestFusionAnneal checks the temperature falling linearly to 1.
func TestFusionAnneal(t *testing.T) {
	model, m := fusedModel(t, FusionConfig{Temperature: 5, AnnealSteps: 4})
	f := model.Fc.(*BottleneckLayer).Fusion["fusion"]
	for i, want := range []float64{4, 3, 2, 1, 1} {
		AnnealFusion(m)
		if math.Abs(f.T-want) > 1e-12 {
			t.Fatalf("after %d steps T = %v, want %v", i+1, f.T, want)
		}
	}
}

// TestFusionSaveLoad saves both adapters and the fusion, loads them into a
// fresh model and compares outputs; a fusion without its adapters is
// refused with the model unchanged.
func TestFusionSaveLoad(t *testing.T) {
	dir := t.TempDir()
	model, m := fusedModel(t, FusionConfig{Temperature: 3, AnnealSteps: 10})
	r := tensor.NewRNG(9)
	for _, p := range nn.Parameters(model.Fc.(*BottleneckLayer).Fusion["fusion"]) {
		nn.NormalInit(p, r, 0, 0.3)
	}
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	x := tensor.Randn(tensor.NewRNG(10), 3, 2)
	want := model.Forward(x)
	fresh := &single{Fc: &nn.Linear{Weight: tensor.New([]float32{1, 2, 0, -1}, 2, 2), Bias: tensor.New([]float32{0.5, 0}, 2)}}
	before := snap(fresh)
	if _, err := Load(fresh, filepath.Join(dir, "fusion"), ""); err == nil || !strings.Contains(err.Error(), "no bottleneck adapters") {
		t.Errorf("fusion without adapters: %v", err)
	}
	before.same(t, fresh)
	lm, err := Load(fresh, filepath.Join(dir, "a"), "a")
	if err != nil {
		t.Fatal(err)
	}
	if err := lm.LoadAdapter(filepath.Join(dir, "b"), "b"); err != nil {
		t.Fatal(err)
	}
	if err := lm.LoadAdapter(filepath.Join(dir, "fusion"), "fusion"); err != nil {
		t.Fatal(err)
	}
	if err := lm.SetActive("fusion"); err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(fresh.Forward(x), want); d != 0 {
		t.Errorf("loaded fusion's output differs by %v", d)
	}
	if c, ok := lm.Method("fusion").(FusionConfig); !ok || c.Temperature != 3 || c.AnnealSteps != 10 || c.RegWeight != 0.01 || len(c.Adapters) != 2 {
		t.Errorf("loaded config %+v", lm.Method("fusion"))
	}
}
