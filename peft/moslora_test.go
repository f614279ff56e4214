package peft

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/graftml/graft/models/gpt2"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// TestMoSLoRAForwardByHand checks y = W₀x + b + s·B·M·A·x and the merged
// weight W₀ + s·B·M·A on numbers worked out by hand (Linear and Conv1D),
// and that M = I gives plain LoRA.
func TestMoSLoRAForwardByHand(t *testing.T) {
	w := []float32{1, 2, 0, -1, 0, 3} // (out 2, in 3)
	x := tensor.New([]float32{1, 1, 2}, 1, 3)
	for _, layer := range linearAndConv1D(w, []float32{0.5, -0.5}, 2, 3) {
		model := &single{Fc: layer}
		m, err := Inject(model, "", LoraConfig{R: 2, Alpha: 4, UseMixer: true, TargetModules: []string{"fc"}})
		if err != nil {
			t.Fatal(err)
		}
		l := model.Fc.(*LoraLayer)
		// A·x = (−1, 1); M·A·x = (1, 1); B·M·A·x = (1, −1); s = 4/2.
		l.LoraA["default"].Weight.CopyFrom(tensor.New([]float32{1, 0, -1, 0, 1, 0}, 2, 3))
		l.Mixer["default"].Weight.CopyFrom(tensor.New([]float32{1, 2, 0, 1}, 2, 2))
		l.LoraB["default"].Weight.CopyFrom(tensor.New([]float32{1, 0, 2, -3}, 2, 2))
		want := []float32{3.5 + 2, 4.5 - 2}
		checkOut := func(what string, tol float64) {
			t.Helper()
			checkLayerOut(t, what, layer, model.Fc, x, want, tol)
		}
		checkOut("adapted", 1e-6)
		// B·M = ((1, 2), (2, 1)); 2·B·M·A = ((2, 4, −2), (4, 2, −4)).
		d, err := l.DeltaWeight("default")
		if err != nil {
			t.Fatal(err)
		}
		if l.aff.fanInFanOut {
			d = d.T()
		}
		for i, v := range []float32{2, 4, -2, 4, 2, -4} {
			if math.Abs(float64(d.Clone().Data()[i]-v)) > 1e-6 {
				t.Fatalf("%T: delta %v", layer, d.Clone().Data())
			}
		}
		if err := m.Merge(); err != nil {
			t.Fatal(err)
		}
		checkOut("merged", 1e-5)
		if err := m.Unmerge(); err != nil {
			t.Fatal(err)
		}
		// M = I: plain LoRA's s·B·A·x = 2·B·(−1, 1) = 2·(−1, −5).
		l.Mixer["default"].Weight.CopyFrom(tensor.New([]float32{1, 0, 0, 1}, 2, 2))
		want = []float32{3.5 - 2, 4.5 - 10}
		checkOut("identity mixer", 1e-6)
	}
}

// TestMoSLoRAGradients checks the gradients of A, B and M by finite
// differences through a Linear and a Conv1D.
func TestMoSLoRAGradients(t *testing.T) {
	for _, layer := range []nn.Layer{nn.NewLinear(5, 4, true, tensor.NewRNG(2)), gpt2.NewConv1D(5, 4, 0.5, tensor.NewRNG(3))} {
		model := &single{Fc: layer}
		if _, err := Inject(model, "", LoraConfig{R: 3, Alpha: 3, UseMixer: true, TargetModules: []string{"fc"}, Seed: 4}); err != nil {
			t.Fatal(err)
		}
		l := model.Fc.(*LoraLayer)
		nn.NormalInit(l.LoraB["default"].Weight, tensor.NewRNG(5), 0, 1)
		x := tensor.Randn(tensor.NewRNG(6), 2, 3, 5)
		err := tensor.GradCheck(func(in ...*tensor.Tensor) *tensor.Tensor {
			l.LoraA["default"].Weight, l.Mixer["default"].Weight, l.LoraB["default"].Weight = in[0], in[1], in[2]
			return model.Fc.Forward(x)
		}, []*tensor.Tensor{l.LoraA["default"].Weight, l.Mixer["default"].Weight, l.LoraB["default"].Weight}, tensor.GradCheckOptions{})
		if err != nil {
			t.Fatalf("%T: %v", layer, err)
		}
	}
}

// TestMoSLoRAMergeSaveLoad checks merge/unmerge, the saved layout
// (lora_AB.weight, use_mixer true), the round trip, the config's parse, the
// mixer's initialisation and the trainable count; and the same with DoRA.
func TestMoSLoRAMergeSaveLoad(t *testing.T) {
	cfg := NewLoraConfig(2, 4, "query", "c_proj")
	cfg.UseMixer = true
	saved := checkMergeSaveLoad(t, cfg, "base_model.model.layers.0.query.lora_AB.weight", "base_model.model.layers.1.c_proj.lora_AB.weight")
	if saved["use_mixer"] != true {
		t.Errorf("use_mixer %v, want true", saved["use_mixer"])
	}
	data, _ := cfg.MarshalJSON()
	if back, err := ParseConfig(data); err != nil || !back.(LoraConfig).UseMixer {
		t.Errorf("parsed back %+v, %v", back, err)
	}
	model := newToy(1)
	m, err := Inject(model, "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Kaiming-uniform (a = √5) over fan_in r = 2: bound 1/√2, not all zero.
	mx := model.Layers[0].Query.(*LoraLayer).Mixer["default"].Weight
	nonzero := false
	for _, v := range mx.Data() {
		nonzero = nonzero || v != 0
		if math.Abs(float64(v)) > 1/math.Sqrt2 {
			t.Errorf("mixer entry %v outside the Kaiming bound", v)
		}
	}
	if !nonzero || !mx.RequiresGrad() {
		t.Errorf("mixer %v, trainable %v", mx.Data(), mx.RequiresGrad())
	}
	// 4 targets × (r·(in+out) + r²) = 4·(24 + 4).
	total, _ := nn.CountParameters(newToy(1))
	want := "trainable params: 112 || all params: " + strconv.Itoa(total+112) + " || trainable%: "
	if line := m.TrainableLine(); !strings.HasPrefix(line, want) {
		t.Errorf("line %q, want prefix %q", line, want)
	}
	cfg.UseDoRA = true
	checkMergeSaveLoad(t, cfg, "base_model.model.layers.0.query.lora_AB.weight", "base_model.model.layers.0.query.lora_magnitude_vector")
}
