package peft

import (
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/graftml/graft/internal/testenv"
	"github.com/graftml/graft/models/gpt2"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/safetensors"
	"github.com/graftml/graft/tensor"
)

// TestDoraForwardByHand checks DoRA's initial magnitude and its output
// b + m/‖W + s·B·A‖ ⊙ (W + s·B·A)·x on numbers worked out by hand, for a
// Linear and the same layer stored as a Conv1D ((in, out) weight).
func TestDoraForwardByHand(t *testing.T) {
	w := []float32{1, 2, 0, -1, 0, 3} // (out 2, in 3)
	x := tensor.New([]float32{1, 1, 2}, 1, 3)
	for _, layer := range linearAndConv1D(w, []float32{0.5, -0.5}, 2, 3) {
		model := &single{Fc: layer}
		m, err := Inject(model, "", LoraConfig{R: 1, Alpha: 3, UseDoRA: true, TargetModules: []string{"fc"}})
		if err != nil {
			t.Fatal(err)
		}
		l := model.Fc.(*LoraLayer)
		mag := l.Magnitude["default"].Weight
		// B = 0: m = row norms of W, √5 and √10, and the output is the base's.
		if d := mag.Data(); math.Abs(float64(d[0])-math.Sqrt(5)) > 1e-6 || math.Abs(float64(d[1])-math.Sqrt(10)) > 1e-6 {
			t.Fatalf("%T: initial magnitude %v, want (√5, √10)", layer, d)
		}
		// W₀x + b = (3.5, 4.5).
		if got := model.Fc.Forward(x).Data(); math.Abs(float64(got[0])-3.5) > 1e-6 || math.Abs(float64(got[1])-4.5) > 1e-6 {
			t.Fatalf("%T: initial output %v, want (3.5, 4.5)", layer, got)
		}
		l.LoraA["default"].Weight.CopyFrom(tensor.New([]float32{1, 0, -1}, 1, 3))
		l.LoraB["default"].Weight.CopyFrom(tensor.New([]float32{2, -1}, 2, 1))
		mag.CopyFrom(tensor.New([]float32{2, 3}, 2))
		// W + 3·B·A = ((7, 2, −6), (−4, 0, 6)), row norms √89 and √52;
		// (W + 3BA)·x = (−3, 8); y = b + m/‖·‖ ⊙ (−3, 8).
		want := []float64{0.5 - 2*3/math.Sqrt(89), -0.5 + 3*8/math.Sqrt(52)}
		got := model.Fc.Forward(x).Data()
		for i := range want {
			if math.Abs(float64(got[i])-want[i]) > 1e-5 {
				t.Fatalf("%T: got %v, want %v", layer, got, want)
			}
		}
		if err := m.Merge(); err != nil {
			t.Fatal(err)
		}
		// W′ = m/‖W + ΔW‖ ⊙ (W + ΔW).
		merged := []float64{14 / math.Sqrt(89), 4 / math.Sqrt(89), -12 / math.Sqrt(89), -12 / math.Sqrt(52), 0, 18 / math.Sqrt(52)}
		wt := l.aff.weight
		if l.aff.fanInFanOut {
			wt = wt.T()
		}
		for i, v := range merged {
			if math.Abs(float64(wt.Clone().Data()[i])-v) > 1e-5 {
				t.Fatalf("%T: merged weight %v, want %v", layer, wt.Clone().Data(), merged)
			}
		}
		got = model.Fc.Forward(x).Data()
		for i := range want {
			if math.Abs(float64(got[i])-want[i]) > 1e-5 {
				t.Fatalf("%T merged: got %v, want %v", layer, got, want)
			}
		}
	}
}

// TestDoraGradients checks the gradients of A, B and m. m's are finite
// differences of the layer (the norm does not depend on m). A's and B's
// follow PEFT, which detaches ‖W + s·B·A‖: they are checked against finite
// differences, in float64, of the same formula with the norm held at its
// value for the current A and B, and shown to differ from the layer's own
// finite differences (which move the norm too).
func TestDoraGradients(t *testing.T) {
	for _, layer := range []nn.Layer{nn.NewLinear(5, 4, true, tensor.NewRNG(2)), gpt2.NewConv1D(5, 4, 0.5, tensor.NewRNG(3))} {
		model := &single{Fc: layer}
		if _, err := Inject(model, "", LoraConfig{R: 2, Alpha: 3, UseDoRA: true, TargetModules: []string{"fc"}, Seed: 4}); err != nil {
			t.Fatal(err)
		}
		l := model.Fc.(*LoraLayer)
		nn.NormalInit(l.LoraB["default"].Weight, tensor.NewRNG(5), 0, 1)
		a, b, mag := l.LoraA["default"].Weight, l.LoraB["default"].Weight, l.Magnitude["default"].Weight
		x := tensor.Randn(tensor.NewRNG(6), 3, 5)
		if err := tensor.GradCheck(func(in ...*tensor.Tensor) *tensor.Tensor {
			l.Magnitude["default"].Weight = in[0]
			return model.Fc.Forward(x)
		}, []*tensor.Tensor{mag}, tensor.GradCheckOptions{}); err != nil {
			t.Fatalf("%T magnitude: %v", layer, err)
		}
		l.Magnitude["default"].Weight = mag

		// Loss Σ c⊙y with fixed random weights c.
		c := tensor.Randn(tensor.NewRNG(7), 3, 4)
		a.ZeroGrad()
		b.ZeroGrad()
		model.Fc.Forward(x).Mul(c).Sum().Backward()
		norm := l.doraNorm("default")
		w := l.aff.weightOutIn()
		s := l.Scaling["default"]
		loss := func(av, bv []float64) float64 {
			var sum float64
			for n := 0; n < 3; n++ {
				xn := toF64(x.Data()[n*5 : n*5+5])
				ax := make([]float64, 2)
				for k := range ax {
					for i := 0; i < 5; i++ {
						ax[k] += av[k*5+i] * xn[i]
					}
				}
				for o := 0; o < 4; o++ {
					v := 0.0
					for i := 0; i < 5; i++ {
						v += w[o*5+i] * xn[i]
					}
					for k := 0; k < 2; k++ {
						v += s * bv[o*2+k] * ax[k]
					}
					sum += float64(c.Data()[n*4+o]) * float64(mag.Data()[o]) / norm[o] * v
				}
			}
			return sum
		}
		av, bv := toF64(a.Data()), toF64(b.Data())
		const eps = 1e-6
		for _, p := range []struct {
			name string
			v    []float64
			grad []float32
		}{{"A", av, a.GradData()}, {"B", bv, b.GradData()}} {
			for i := range p.v {
				old := p.v[i]
				p.v[i] = old + eps
				up := loss(av, bv)
				p.v[i] = old - eps
				down := loss(av, bv)
				p.v[i] = old
				fd := (up - down) / (2 * eps)
				if math.Abs(fd-float64(p.grad[i])) > 1e-4*(1+math.Abs(fd)) {
					t.Fatalf("%T %s[%d]: autodiff %v, finite differences of the detached formula %v", layer, p.name, i, p.grad[i], fd)
				}
			}
		}
		// Moving B moves the norm too: the layer's own finite differences
		// differ from the detached gradient.
		if err := tensor.GradCheck(func(in ...*tensor.Tensor) *tensor.Tensor {
			l.LoraB["default"].Weight = in[0]
			return model.Fc.Forward(x)
		}, []*tensor.Tensor{b}, tensor.GradCheckOptions{}); err == nil {
			t.Errorf("%T: the gradient of B matches the undetached norm's finite differences", layer)
		}
		l.LoraB["default"].Weight = b
	}
}

// TestDoraMergeSaveLoad checks merge/unmerge, the saved layout (magnitude
// without ".weight", use_dora true), the round trip, the in-memory names
// and the trainable count.
func TestDoraMergeSaveLoad(t *testing.T) {
	cfg := NewLoraConfig(2, 4, "query", "c_proj")
	cfg.UseDoRA = true
	saved := checkMergeSaveLoad(t, cfg, "base_model.model.layers.0.query.lora_magnitude_vector",
		"base_model.model.layers.1.c_proj.lora_magnitude_vector", "base_model.model.layers.1.c_proj.lora_A.weight")
	if saved["use_dora"] != true {
		t.Errorf("use_dora %v, want true", saved["use_dora"])
	}
	if _, ok := saved["use_mixer"]; ok {
		t.Error("use_mixer written for an adapter without a mixer")
	}
	model := newToy(1)
	m, err := Inject(model, "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range m.Summary().Params {
		if p.Name == "layers.0.c_proj.lora_magnitude_vector.default.weight" {
			found = p.Adapter == "default" && p.Trainable
		}
	}
	if !found {
		t.Error("no trainable layers.0.c_proj.lora_magnitude_vector.default.weight attributed to default")
	}
	// 4 targets × (r·(in+out) + out) = 4·(2·12 + 6).
	total, _ := nn.CountParameters(newToy(1))
	want := "trainable params: 120 || all params: " + strconv.Itoa(total+120) + " || trainable%: "
	if line := m.TrainableLine(); !strings.HasPrefix(line, want) {
		t.Errorf("line %q, want prefix %q", line, want)
	}
	// Deactivated, the magnitude is frozen.
	if err := m.AddAdapter("other", NewLoraConfig(1, 1, "query")); err != nil {
		t.Fatal(err)
	}
	if err := m.SetActive("other"); err != nil {
		t.Fatal(err)
	}
	if model.Layers[0].Query.(*LoraLayer).Magnitude["default"].Weight.RequiresGrad() {
		t.Error("inactive DoRA magnitude still trainable")
	}
}

// TestTorchDora compares graft's DoRA forward and the gradients of A, B and
// m with PEFT's DoraLinearLayer formula written in torch (testdata/dora_ref.py,
// which reads graft's saved adapter), on a Linear and a Conv1D. The base
// weights go to torch in (out, in) layout: the toy mixes both layouts, and
// the saved fan_in_fan_out is one flag for the whole adapter.
func TestTorchDora(t *testing.T) {
	python := testenv.RequirePython(t, "torch")
	dir := t.TempDir()
	cfg := LoraConfig{R: 2, Alpha: 3, UseDoRA: true, TargetModules: []string{"query", "c_proj"}}
	m, err := Inject(newToy(1), "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	perturbAdapter(t, m, DefaultAdapter, 5)
	if err := m.SaveAdapter(filepath.Join(dir, "adapter"), DefaultAdapter); err != nil {
		t.Fatal(err)
	}
	x := tensor.Randn(tensor.NewRNG(9), 3, toyDim)
	c := tensor.Randn(tensor.NewRNG(10), 3, toyDim)
	in := []safetensors.Entry{{Name: "x", Shape: x.Shape(), Data: x.Data()}, {Name: "c", Shape: c.Shape(), Data: c.Data()}}
	ours := map[string]*tensor.Tensor{}
	for _, nm := range m.Tuners() {
		l := nm.Module.(*LoraLayer)
		w := make([]float32, l.aff.out*l.aff.in)
		copy64(w, l.aff.weightOutIn())
		in = append(in, safetensors.Entry{Name: nm.Name + ".weight", Shape: []int{l.aff.out, l.aff.in}, Data: w})
		for _, p := range nn.NamedParameters(l.Base) {
			if p.Name == "bias" {
				in = append(in, safetensors.Entry{Name: nm.Name + ".bias", Shape: p.Tensor.Shape(), Data: p.Tensor.Data()})
			}
		}
		a, b, mag := l.LoraA["default"].Weight, l.LoraB["default"].Weight, l.Magnitude["default"].Weight
		a.ZeroGrad()
		b.ZeroGrad()
		mag.ZeroGrad()
		y := l.Forward(x)
		y.Mul(c).Sum().Backward()
		ours[nm.Name+".y"] = y
		ours[nm.Name+".grad_A"] = tensor.New(a.GradData(), a.Shape()...)
		ours[nm.Name+".grad_B"] = tensor.New(b.GradData(), b.Shape()...)
		ours[nm.Name+".grad_m"] = tensor.New(mag.GradData(), mag.Shape()...)
	}
	if err := safetensors.Save(filepath.Join(dir, "in.safetensors"), in, nil); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, filepath.Join("testdata", "dora_ref.py"), filepath.Join(dir, "adapter"),
		filepath.Join(dir, "in.safetensors"), filepath.Join(dir, "out.safetensors"))
	cmd.Env = append(cmd.Environ(), "OMP_NUM_THREADS=2", "PYTHONPATH="+filepath.Join("..", "models", "internal", "reftest"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	ref, _, err := safetensors.Load(filepath.Join(dir, "out.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ref) != len(ours) {
		t.Fatalf("torch computed %d tensors, graft %d", len(ref), len(ours))
	}
	for _, e := range ref {
		got := ours[e.Name]
		if got == nil {
			t.Fatalf("torch computed unknown tensor %q", e.Name)
		}
		if d := relDiff(got, tensor.New(e.Data, e.Shape...)); d > 1e-5 {
			t.Errorf("%s: graft and torch differ by %v relative", e.Name, d)
		}
	}
}
