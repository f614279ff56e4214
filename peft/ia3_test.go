package peft

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/models/gpt2"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// widen converts float32 values to float64 for closeTo.
func widen(v []float32) []float64 {
	w := make([]float64, len(v))
	for i, x := range v {
		w[i] = float64(x)
	}
	return w
}

// TestIA3ForwardByHand checks y = l ⊙ (Wx + b) on an ordinary target and
// y = W(l ⊙ x) + b on a feed-forward one, for a Linear and the same layer as
// a Conv1D, and the merged weights.
func TestIA3ForwardByHand(t *testing.T) {
	w := []float32{1, 2, 0, -1, 0, 3} // (out 2, in 3)
	x := tensor.New([]float32{1, 1, 2}, 1, 3)
	for _, ff := range []bool{false, true} {
		for _, conv := range []bool{false, true} {
			var layer nn.Layer = &nn.Linear{Weight: tensor.New(w, 2, 3), Bias: tensor.New([]float32{0.5, -0.5}, 2)}
			if conv {
				layer = &gpt2.Conv1D{Weight: tensor.New(w, 2, 3).T().Clone(), Bias: tensor.New([]float32{0.5, -0.5}, 2)}
			}
			model := &single{Fc: layer}
			cfg := NewIA3Config([]string{"fc"}, nil)
			if ff {
				cfg.FeedforwardModules = []string{"fc"}
			}
			m, err := Inject(model, "", cfg)
			if err != nil {
				t.Fatal(err)
			}
			l := model.Fc.(*IA3Layer)
			// Initialised to ones: the base layer's output (3.5, 4.5).
			closeTo(t, "identity at init", model.Fc.Forward(x).Data(), widen([]float32{3.5, 4.5}), 1e-6)
			var want, merged []float32
			if ff {
				// l = (2, -1, 0.5): l⊙x = (2, -1, 1); W(l⊙x) + b = (2-2+0+0.5, -2+0+3-0.5).
				l.IA3L["default"].CopyFrom(tensor.New([]float32{2, -1, 0.5}, 1, 3))
				want = []float32{0.5, 0.5}
				merged = []float32{2, -2, 0, -2, 0, 1.5}
			} else {
				// l = (2, -1): (7, -4.5).
				l.IA3L["default"].CopyFrom(tensor.New([]float32{2, -1}, 2, 1))
				want = []float32{7, -4.5}
				merged = []float32{2, 4, 0, 1, 0, -3}
			}
			closeTo(t, "adapted", model.Fc.Forward(x).Data(), widen(want), 1e-6)
			before := snap(model)
			if err := m.Merge(); err != nil {
				t.Fatal(err)
			}
			wt := l.aff.weight
			if conv {
				wt = wt.T()
			}
			closeTo(t, "merged weight", wt.Clone().Data(), widen(merged), 0)
			closeTo(t, "merged forward", model.Fc.Forward(x).Data(), widen(want), 1e-6)
			if err := m.Unmerge(); err != nil {
				t.Fatal(err)
			}
			before.same(t, model)
			closeTo(t, "unmerged forward", model.Fc.Forward(x).Data(), widen(want), 1e-6)
		}
	}
}

// TestIA3Gradients checks the vectors' gradients by finite differences,
// with an output and an input vector active on one layer.
func TestIA3Gradients(t *testing.T) {
	model := &single{Fc: nn.NewLinear(5, 4, true, tensor.NewRNG(1))}
	m, err := Inject(model, "", NewIA3Config([]string{"fc"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	cfg := NewIA3Config([]string{"fc"}, []string{"fc"})
	if err := m.AddAdapter("ff", cfg); err != nil {
		t.Fatal(err)
	}
	if err := m.SetActive("default", "ff"); err != nil {
		t.Fatal(err)
	}
	l := model.Fc.(*IA3Layer)
	nn.NormalInit(l.IA3L["default"], tensor.NewRNG(2), 1, 0.5)
	nn.NormalInit(l.IA3L["ff"], tensor.NewRNG(3), 1, 0.5)
	x := tensor.Randn(tensor.NewRNG(4), 3, 5)
	err = tensor.GradCheck(func(in ...*tensor.Tensor) *tensor.Tensor {
		l.IA3L["default"], l.IA3L["ff"] = in[0], in[1]
		return model.Fc.Forward(x)
	}, []*tensor.Tensor{l.IA3L["default"], l.IA3L["ff"]}, tensor.GradCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Both merged: the same output from the merged weights.
	want := model.Fc.Forward(x)
	if err := m.Merge(); err != nil {
		t.Fatal(err)
	}
	if d := relDiff(model.Fc.Forward(x), want); d > 1e-5 {
		t.Errorf("merged output differs by %v relative", d)
	}
}

// TestIA3SaveLoad checks PEFT's keys and shapes ((out, 1), (1, in) for
// feed-forward targets), the config, and identical outputs after loading;
// and that a feed-forward module outside the targets is refused.
func TestIA3SaveLoad(t *testing.T) {
	dir := t.TempDir()
	model := newToy(1)
	cfg := NewIA3Config([]string{"value", "c_proj"}, []string{"c_proj"})
	cfg.TaskType = "SEQ_CLS"
	m, err := Inject(model, "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := tensor.NewRNG(5)
	for _, nm := range m.Tuners() {
		nn.NormalInit(nm.Module.(*IA3Layer).IA3L["default"], r, 1, 0.3)
	}
	// (6 + 6) per block, 2 blocks.
	if got := m.Summary().Trainable; got != 2*(toyDim+toyDim) {
		t.Errorf("trainable %d", got)
	}
	if err := m.SaveAdapter(dir, "default"); err != nil {
		t.Fatal(err)
	}
	x := toyInput(2)
	want := model.Forward(x)
	shapes := savedShapes(t, dir)
	wantShapes := map[string][]int{
		"base_model.model.layers.0.value.ia3_l": {toyDim, 1}, "base_model.model.layers.0.c_proj.ia3_l": {1, toyDim},
		"base_model.model.layers.1.value.ia3_l": {toyDim, 1}, "base_model.model.layers.1.c_proj.ia3_l": {1, toyDim},
	}
	if len(shapes) != len(wantShapes) {
		t.Fatalf("keys %v", shapes)
	}
	for k, s := range wantShapes {
		if !slices.Equal(shapes[k], s) {
			t.Errorf("%s: shape %v, want %v", k, shapes[k], s)
		}
	}
	var js map[string]any
	data, _ := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err := json.Unmarshal(data, &js); err != nil {
		t.Fatal(err)
	}
	if js["peft_type"] != "IA3" || js["task_type"] != "SEQ_CLS" || js["init_ia3_weights"] != true {
		t.Errorf("config %s", data)
	}
	if tm, _ := json.Marshal(js["target_modules"]); string(tm) != `["c_proj","value"]` {
		t.Errorf("target_modules %s", tm)
	}
	if fm, _ := json.Marshal(js["feedforward_modules"]); string(fm) != `["c_proj"]` {
		t.Errorf("feedforward_modules %s", fm)
	}
	fresh := newToy(1)
	if _, err := Load(fresh, dir, ""); err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(fresh.Forward(x), want); d != 0 {
		t.Errorf("loaded model's output differs by %v", d)
	}

	other := newToy(1)
	before := snap(other)
	_, err = Inject(other, "", NewIA3Config([]string{"value"}, []string{"c_proj"}))
	if err == nil || !strings.Contains(err.Error(), `"c_proj"`) {
		t.Errorf("feed-forward module outside the targets: %v", err)
	}
	before.same(t, other)
}

// TestIA3Counts checks PEFT's IA3 set-up for GPT-2 small (c_attn scaled at
// its 2,304 outputs, mlp.c_proj at its 3,072 inputs, 12 layers).
func TestIA3Counts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds GPT-2 small")
	}
	g, err := gpt2.New(gpt2.Small(), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Inject(g, "", NewIA3Config([]string{"c_attn", "mlp.c_proj"}, []string{"mlp.c_proj"}))
	if err != nil {
		t.Fatal(err)
	}
	ia3 := 12 * (2304 + 3072) // 64,512
	const gpt2Params = 124_439_808
	want := "trainable params: 64,512 || all params: 124,504,320 || trainable%: 0.0518"
	if s := m.Summary(); s.Trainable != ia3 || s.Total != gpt2Params+ia3 || m.TrainableLine() != want {
		t.Errorf("got %s, want %s", m.TrainableLine(), want)
	}
}
