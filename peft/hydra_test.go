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

var _ Tuner = (*HydraLayer)(nil)

// TestHydraForwardByHand checks y = Wx + b + s·B_p·A_p·x + s·B_s·A_s·(Wx + b)
// and the merged weight and bias on numbers worked out by hand, for a
// Linear and the same layer stored as a Conv1D.
func TestHydraForwardByHand(t *testing.T) {
	w := []float32{1, 2, 0, -1, 0, 3} // (out 2, in 3)
	bias := []float32{1, -0.5}
	x := tensor.New([]float32{1, 1, 2}, 1, 3)
	for _, layer := range linearAndConv1D(w, bias, 2, 3) {
		model := &single{Fc: layer}
		m, err := Inject(model, "", NewHydraConfig(1, 1, "fc"))
		if err != nil {
			t.Fatal(err)
		}
		h := model.Fc.(*HydraLayer)
		// base = Wx + b = (3, 5) + (1, −0.5) = (4, 4.5): B's are zero.
		want := []float32{4, 4.5}
		checkOut := func(what string, tol float64) {
			t.Helper()
			checkLayerOut(t, what, layer, model.Fc, x, want, tol)
		}
		checkOut("initial", 1e-6)
		h.LoraA["default"].Weight.CopyFrom(tensor.New([]float32{1, 0, -1}, 1, 3))
		h.LoraB["default"].Weight.CopyFrom(tensor.New([]float32{2, -1}, 2, 1))
		h.SeqA["default"].Weight.CopyFrom(tensor.New([]float32{1, 1}, 1, 2))
		h.SeqB["default"].Weight.CopyFrom(tensor.New([]float32{0.5, -1}, 2, 1))
		// Parallel: B_p·(A_p·x = −1) = (−2, 1). Sequential: A_s·base = 8.5,
		// B_s·8.5 = (4.25, −8.5).
		want = []float32{4 - 2 + 4.25, 4.5 + 1 - 8.5}
		checkOut("adapted", 1e-6)
		if err := m.Merge(); err != nil {
			t.Fatal(err)
		}
		// W′ = W + B_p·A_p + B_s·A_s·W: A_s·W = (0, 2, 3);
		// W′ = ((1+2+0, 2+0+1, 0−2+1.5), (−1−1−0, 0+0−2, 3+1−3)).
		// b′ = b + B_s·(A_s·b = 0.5) = (1.25, −1).
		wt := h.aff.weight
		if h.aff.fanInFanOut {
			wt = wt.T()
		}
		for i, v := range []float32{3, 3, -0.5, -2, -2, 1} {
			if math.Abs(float64(wt.Clone().Data()[i]-v)) > 1e-6 {
				t.Fatalf("%T: merged weight %v", layer, wt.Clone().Data())
			}
		}
		if b := h.bias().Data(); math.Abs(float64(b[0])-1.25) > 1e-6 || math.Abs(float64(b[1])+1) > 1e-6 {
			t.Fatalf("%T: merged bias %v", layer, b)
		}
		checkOut("merged", 1e-5)
		if err := m.Unmerge(); err != nil {
			t.Fatal(err)
		}
		for i, v := range w {
			wt := h.aff.weight
			if h.aff.fanInFanOut {
				wt = wt.T()
			}
			if math.Abs(float64(wt.Clone().Data()[i]-v)) > 1e-6 || math.Abs(float64(h.bias().Data()[i%2]-bias[i%2])) > 1e-6 {
				t.Fatalf("%T: unmerged weight %v, bias %v", layer, wt.Clone().Data(), h.bias().Data())
			}
		}
	}
}

// TestHydraGradients checks the gradients of both branches' factors by
// finite differences, through a Linear and a Conv1D, on a batch of
// sequences.
func TestHydraGradients(t *testing.T) {
	for _, layer := range []nn.Layer{nn.NewLinear(5, 4, true, tensor.NewRNG(2)), gpt2.NewConv1D(5, 4, 0.5, tensor.NewRNG(3))} {
		model := &single{Fc: layer}
		if _, err := Inject(model, "", HydraConfig{LoraConfig{R: 2, Alpha: 3, TargetModules: []string{"fc"}, Seed: 4}}); err != nil {
			t.Fatal(err)
		}
		h := model.Fc.(*HydraLayer)
		nn.NormalInit(h.LoraB["default"].Weight, tensor.NewRNG(5), 0, 1)
		nn.NormalInit(h.SeqB["default"].Weight, tensor.NewRNG(6), 0, 1)
		x := tensor.Randn(tensor.NewRNG(7), 2, 3, 5)
		err := tensor.GradCheck(func(in ...*tensor.Tensor) *tensor.Tensor {
			h.LoraA["default"].Weight, h.LoraB["default"].Weight = in[0], in[1]
			h.SeqA["default"].Weight, h.SeqB["default"].Weight = in[2], in[3]
			return model.Fc.Forward(x)
		}, []*tensor.Tensor{h.LoraA["default"].Weight, h.LoraB["default"].Weight, h.SeqA["default"].Weight, h.SeqB["default"].Weight},
			tensor.GradCheckOptions{})
		if err != nil {
			t.Fatalf("%T: %v", layer, err)
		}
	}
}

// TestHydraMergeSaveLoad checks merge/unmerge, the saved layout and config,
// the round trip, the trainable count, two adapters merged one after the
// other, and the refusals.
func TestHydraMergeSaveLoad(t *testing.T) {
	cfg := NewHydraConfig(2, 4, "query", "c_proj")
	saved := checkMergeSaveLoad(t, cfg, "base_model.model.layers.0.query.lora_seq_A.weight",
		"base_model.model.layers.1.c_proj.lora_seq_B.weight", "base_model.model.layers.1.c_proj.lora_A.weight")
	if saved["peft_type"] != "HYDRA" {
		t.Errorf("peft_type %v", saved["peft_type"])
	}

	model := newToy(1)
	m, err := Inject(model, "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	// 4 targets × r·(in + out + out + out) = 4·2·24.
	total, _ := nn.CountParameters(newToy(1))
	want := "trainable params: 192 || all params: " + strconv.Itoa(total+192) + " || trainable%: "
	if line := m.TrainableLine(); !strings.HasPrefix(line, want) {
		t.Errorf("line %q, want prefix %q", line, want)
	}
	if err := m.AddAdapter("two", NewHydraConfig(1, 2, "query")); err != nil {
		t.Fatal(err)
	}
	if err := m.SetActive("default", "two"); err != nil {
		t.Fatal(err)
	}
	perturbAdapter(t, m, "default", 8)
	perturbAdapter(t, m, "two", 9)
	x := toyInput(3)
	out := model.Forward(x)
	before := snap(model)
	if err := m.Merge("two"); err != nil {
		t.Fatal(err)
	}
	if err := m.Merge("default"); err != nil {
		t.Fatal(err)
	}
	if d := relDiff(model.Forward(x), out); d > 1e-5 {
		t.Errorf("both merged: output differs by %v relative", d)
	}
	if err := m.Unmerge(); err != nil {
		t.Fatal(err)
	}
	for _, p := range nn.NamedParameters(model) {
		if d := relDiff(p.Tensor, tensor.New(before[p.Name].data, p.Tensor.Shape()...)); d > 1e-5 {
			t.Errorf("%s differs by %v relative after unmerge", p.Name, d)
		}
	}
	if err := m.SetActive("two"); err != nil {
		t.Fatal(err)
	}
	if h := model.Layers[0].Query.(*HydraLayer); h.SeqA["default"].Weight.RequiresGrad() || !h.SeqB["two"].Weight.RequiresGrad() {
		t.Error("SetActive did not freeze the inactive sequential branch or unfreeze the active one")
	}

	s := snap(model)
	if err := m.AddAdapter("lora", NewLoraConfig(1, 1, "query")); err == nil || !strings.Contains(err.Error(), "another method") {
		t.Errorf("LoRA on a Hydra module: %v", err)
	}
	bad := NewHydraConfig(1, 1, "value")
	bad.UseDoRA = true
	if err := m.AddAdapter("dora", bad); err == nil || !strings.Contains(err.Error(), "DoRA") {
		t.Errorf("Hydra with DoRA: %v", err)
	}
	s.same(t, model)
	if err := m.DeleteAdapter("two"); err != nil {
		t.Fatal(err)
	}
	if _, ok := model.Layers[0].Query.(*HydraLayer).SeqA["two"]; ok {
		t.Error("deleted adapter's sequential branch kept")
	}
}
