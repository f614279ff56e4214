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

type single struct{ Fc nn.Layer }

// TestLoraForwardByHand checks y = W₀x + b + (α/r)·B·A·x on numbers worked
// out by hand, for a Linear and the same layer stored as a Conv1D.
func TestLoraForwardByHand(t *testing.T) {
	w := []float32{1, 2, 0, -1, 0, 3} // (out 2, in 3)
	lin := &nn.Linear{Weight: tensor.New(w, 2, 3), Bias: tensor.New([]float32{0.5, -0.5}, 2)}
	conv := &gpt2.Conv1D{Weight: tensor.New(w, 2, 3).T().Clone(), Bias: tensor.New([]float32{0.5, -0.5}, 2)}
	x := tensor.New([]float32{1, 1, 2}, 1, 3)
	// W₀x + b = (1+2+0+0.5, -1+0+6-0.5) = (3.5, 4.5).
	// A = (1, 0, -1): A·x = -1. B = (2, -1)ᵀ: B·A·x = (-2, 1). s = α/r = 3/1.
	want := []float32{3.5 - 6, 4.5 + 3}
	for _, layer := range []nn.Layer{lin, conv} {
		model := &single{Fc: layer}
		m, err := Inject(model, "", LoraConfig{R: 1, Alpha: 3, TargetModules: []string{"fc"}})
		if err != nil {
			t.Fatal(err)
		}
		l := model.Fc.(*LoraLayer)
		l.LoraA["default"].Weight.CopyFrom(tensor.New([]float32{1, 0, -1}, 1, 3))
		l.LoraB["default"].Weight.CopyFrom(tensor.New([]float32{2, -1}, 2, 1))
		got := model.Fc.Forward(x).Data()
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-6 {
				t.Fatalf("%T: got %v, want %v", layer, got, want)
			}
		}
		if err := m.Merge(); err != nil {
			t.Fatal(err)
		}
		// Merged weight W₀ + 3·B·A: row 0 (1+6, 2, 0-6), row 1 (-1-3, 0, 3+3).
		merged := []float32{7, 2, -6, -4, 0, 6}
		wt := l.aff.weight
		if l.aff.fanInFanOut {
			wt = wt.T()
		}
		for i, v := range merged {
			if math.Abs(float64(wt.Data()[i]-v)) > 1e-6 {
				t.Fatalf("%T: merged weight %v, want %v", layer, wt.Data(), merged)
			}
		}
		got = model.Fc.Forward(x).Data()
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-5 {
				t.Fatalf("%T merged: got %v, want %v", layer, got, want)
			}
		}
	}
}

// TestLoraNames checks the in-memory names and the summary's attribution.
func TestLoraNames(t *testing.T) {
	model := newToy(1)
	m, err := Inject(model, "", NewLoraConfig(2, 4, "query", "c_proj"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	s := m.Summary()
	for _, p := range s.Params {
		names[p.Name] = p.Adapter
		if p.Trainable != (p.Adapter != "") {
			t.Errorf("%s: trainable %v but adapter %q", p.Name, p.Trainable, p.Adapter)
		}
	}
	for _, n := range []string{"layers.0.query.base_layer.weight", "layers.1.c_proj.base_layer.bias"} {
		if a, ok := names[n]; !ok || a != "" {
			t.Errorf("%s: present %v, adapter %q", n, ok, a)
		}
	}
	for _, n := range []string{"layers.0.query.lora_A.default.weight", "layers.1.c_proj.lora_B.default.weight"} {
		if a, ok := names[n]; !ok || a != "default" {
			t.Errorf("%s: present %v, adapter %q", n, ok, a)
		}
	}
	if _, ok := names["layers.0.value.weight"]; !ok {
		t.Error("value was wrapped")
	}
	// 4 targets × r·(in+out) = 4·2·12.
	total, _ := nn.CountParameters(newToy(1))
	want := "trainable params: 96 || all params: " + strconv.Itoa(total+96) + " || trainable%: "
	if line := m.TrainableLine(); !strings.HasPrefix(line, want) {
		t.Errorf("line %q, want prefix %q", line, want)
	}
}

// TestLoraGradients checks the gradients of A and B by finite differences,
// through a Linear and a Conv1D, with rsLoRA scaling.
func TestLoraGradients(t *testing.T) {
	for _, layer := range []nn.Layer{nn.NewLinear(5, 4, true, tensor.NewRNG(2)), gpt2.NewConv1D(5, 4, 0.5, tensor.NewRNG(3))} {
		model := &single{Fc: layer}
		if _, err := Inject(model, "", LoraConfig{R: 2, Alpha: 3, UseRSLoRA: true, TargetModules: []string{"fc"}, Seed: 4}); err != nil {
			t.Fatal(err)
		}
		l := model.Fc.(*LoraLayer)
		if s := l.Scaling["default"]; math.Abs(s-3/math.Sqrt2) > 1e-12 {
			t.Fatalf("rsLoRA scaling %v", s)
		}
		nn.NormalInit(l.LoraB["default"].Weight, tensor.NewRNG(5), 0, 1)
		a, b := l.LoraA["default"].Weight, l.LoraB["default"].Weight
		x := tensor.Randn(tensor.NewRNG(6), 3, 5)
		err := tensor.GradCheck(func(in ...*tensor.Tensor) *tensor.Tensor {
			l.LoraA["default"].Weight, l.LoraB["default"].Weight = in[0], in[1]
			return model.Fc.Forward(x)
		}, []*tensor.Tensor{a, b}, tensor.GradCheckOptions{})
		if err != nil {
			t.Fatalf("%T: %v", layer, err)
		}
	}
}

// TestLoraInits checks the statistics of Kaiming and Gaussian A, B = 0, and
// that PiSSA leaves the output unchanged with s·B·A the best rank-r part.
func TestLoraInits(t *testing.T) {
	model := &single{Fc: nn.NewLinear(64, 48, false, tensor.NewRNG(1))}
	if _, err := Inject(model, "", LoraConfig{R: 16, Alpha: 16, TargetModules: []string{"fc"}}); err != nil {
		t.Fatal(err)
	}
	l := model.Fc.(*LoraLayer)
	bound := 1 / math.Sqrt(64) // Kaiming-uniform with a = √5: gain √(1/3), bound gain·√(3/fan_in)
	maxA := 0.0
	for _, v := range l.LoraA["default"].Weight.Data() {
		maxA = math.Max(maxA, math.Abs(float64(v)))
	}
	if maxA > bound || maxA < 0.9*bound {
		t.Errorf("Kaiming A: max |a| %v, want just under %v", maxA, bound)
	}
	for _, v := range l.LoraB["default"].Weight.Data() {
		if v != 0 {
			t.Fatal("B is not zero")
		}
	}

	g := &single{Fc: nn.NewLinear(64, 48, false, tensor.NewRNG(1))}
	if _, err := Inject(g, "", LoraConfig{R: 16, Alpha: 16, Init: InitGaussian, TargetModules: []string{"fc"}}); err != nil {
		t.Fatal(err)
	}
	var ss float64
	ad := g.Fc.(*LoraLayer).LoraA["default"].Weight.Data()
	for _, v := range ad {
		ss += float64(v) * float64(v)
	}
	if std := math.Sqrt(ss / float64(len(ad))); math.Abs(std-1.0/16) > 0.006 {
		t.Errorf("gaussian A: std %v, want 1/r = %v", std, 1.0/16)
	}

	p := &single{Fc: nn.NewLinear(12, 10, true, tensor.NewRNG(7))}
	x := tensor.Randn(tensor.NewRNG(8), 5, 12)
	before := p.Fc.Forward(x)
	w0 := p.Fc.(*nn.Linear).Weight.Clone()
	if _, err := Inject(p, "", LoraConfig{R: 3, Alpha: 6, Init: InitPiSSA, TargetModules: []string{"fc"}}); err != nil {
		t.Fatal(err)
	}
	pl := p.Fc.(*LoraLayer)
	if d := relDiff(p.Fc.Forward(x), before); d > 1e-5 {
		t.Errorf("PiSSA changed the output by %v", d)
	}
	// The residual's spectral content: ‖W_res‖² = Σ_{k>r} σ_k², so
	// ‖W₀‖² = ‖s·B·A‖² + ‖W_res‖² (the parts are orthogonal).
	delta, _ := pl.DeltaWeight("default")
	sq := func(t *tensor.Tensor) float64 { return float64(t.Square().Sum().Item()) }
	if got, want := sq(delta)+sq(pl.aff.weight), sq(w0); math.Abs(got-want) > 1e-4*want {
		t.Errorf("PiSSA: ‖sBA‖²+‖W_res‖² = %v, ‖W₀‖² = %v", got, want)
	}
	if sq(delta) < 0.3*sq(w0) {
		t.Errorf("PiSSA: the top-3 part holds only %v of %v", sq(delta), sq(w0))
	}
}

// TestRankAlphaPattern checks per-module overrides.
func TestRankAlphaPattern(t *testing.T) {
	model := newToy(1)
	cfg := NewLoraConfig(2, 4, "query", "value")
	cfg.RankPattern = map[string]int{`layers\.1\.query`: 4}
	cfg.AlphaPattern = map[string]float64{"value": 1}
	if _, err := Inject(model, "", cfg); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		l       nn.Layer
		r       int
		scaling float64
	}{{model.Layers[0].Query, 2, 2}, {model.Layers[1].Query, 4, 1}, {model.Layers[1].Value, 2, 0.5}}
	for i, c := range cases {
		l := c.l.(*LoraLayer)
		if r := l.LoraA["default"].Weight.Dim(0); r != c.r || l.Scaling["default"] != c.scaling {
			t.Errorf("case %d: r %d scaling %v, want %d %v", i, r, l.Scaling["default"], c.r, c.scaling)
		}
	}
}
