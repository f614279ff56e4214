package peft

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/models/bert"
	"github.com/graftml/graft/models/gpt2"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// setBottleneck gives an adapter the tiny weights of the hand computations:
// width 1, W_down = (1, -1), b_down = 0.5, W_up = (2, -1)ᵀ, b_up = (0.1, 0.2).
func setBottleneck(l *BottleneckLayer, name string) {
	l.Down[name].Weight.CopyFrom(tensor.New([]float32{1, -1}, 1, 2))
	l.Down[name].Bias.CopyFrom(tensor.New([]float32{0.5}, 1))
	l.Up[name].Weight.CopyFrom(tensor.New([]float32{2, -1}, 2, 1))
	l.Up[name].Bias.CopyFrom(tensor.New([]float32{0.1, 0.2}, 2))
}

// TestBottleneckForwardByHand checks the sequential and parallel forwards on
// numbers worked out by hand, the start equal to the base, and that merging
// is refused with the model unchanged.
func TestBottleneckForwardByHand(t *testing.T) {
	x := tensor.New([]float32{1, 1}, 1, 2)
	// Base: W = ((1, 2), (0, -1)), b = (0.5, 0): y = (3.5, -1).
	base := []float32{3.5, -1}
	cases := []struct {
		cfg  BottleneckConfig
		want []float32
	}{
		// Sequential, s = 0.5: W_down y + b_down = 3.5 + 1 + 0.5 = 5, ReLU 5,
		// W_up·5 + b_up = (10.1, -4.8), y + s·(…) = (8.55, -3.4).
		{BottleneckConfig{TargetModules: []string{"fc"}, ReductionFactor: 2, Scaling: 0.5}, []float32{8.55, -3.4}},
		// Parallel, s = 2: W_down x + b_down = 0.5, ReLU 0.5, W_up·0.5 + b_up =
		// (1.1, -0.3), y + 2·(…) = (5.7, -1.6).
		{BottleneckConfig{TargetModules: []string{"fc"}, ReductionFactor: 2, Scaling: 2, Placement: PlacementParallel}, []float32{5.7, -1.6}},
		// Sequential with tanh and a learned scale starting at 0.5.
		{BottleneckConfig{TargetModules: []string{"fc"}, ReductionFactor: 2, Scaling: 0.5, LearnedScaling: true, NonLinearity: "tanh"},
			[]float32{3.5 + 0.5*(2*0.99990920+0.1), -1 + 0.5*(-0.99990920+0.2)}},
	}
	for _, c := range cases {
		model := &single{Fc: &nn.Linear{Weight: tensor.New([]float32{1, 2, 0, -1}, 2, 2), Bias: tensor.New([]float32{0.5, 0}, 2)}}
		m, err := Inject(model, "", c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, "at init", model.Forward(x).Data(), widen(base), 0)
		l := model.Fc.(*BottleneckLayer)
		setBottleneck(l, "default")
		closeTo(t, c.cfg.Placement+" adapted", model.Forward(x).Data(), widen(c.want), 1e-5)

		before := snap(model)
		err = m.Merge()
		if err == nil || !strings.Contains(err.Error(), "bottleneck") || !strings.Contains(err.Error(), `"fc"`) {
			t.Errorf("merge: %v", err)
		}
		if _, err := m.MergeAndUnload(); err == nil || !strings.Contains(err.Error(), "bottleneck") {
			t.Errorf("merge and unload: %v", err)
		}
		before.same(t, model)
		if model.Fc != nn.Layer(l) {
			t.Fatal("the wrapper was taken out")
		}
		// Unload without merging gives the base back.
		if _, err := m.Unload(); err != nil {
			t.Fatal(err)
		}
		closeTo(t, "unloaded", model.Forward(x).Data(), widen(base), 0)
	}
}

// single.Forward lets the tests call the model itself.
func (s *single) Forward(x *tensor.Tensor) *tensor.Tensor { return s.Fc.Forward(x) }

// TestBottleneckGradients checks every adapter parameter's gradient by
// finite differences, with a sequential adapter and a scaled parallel one
// (learned s) active together.
func TestBottleneckGradients(t *testing.T) {
	model := &single{Fc: nn.NewLinear(6, 4, true, tensor.NewRNG(1))}
	m, err := Inject(model, "seq", BottleneckConfig{TargetModules: []string{"fc"}, ReductionFactor: 2, NonLinearity: "tanh", InitStd: 0.5, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	par := BottleneckConfig{TargetModules: []string{"fc"}, ReductionFactor: 3, NonLinearity: "swish", Placement: PlacementParallel,
		LearnedScaling: true, Scaling: 0.7, InitStd: 0.5, Seed: 3}
	if err := m.AddAdapter("par", par); err != nil {
		t.Fatal(err)
	}
	if err := m.SetActive("seq", "par"); err != nil {
		t.Fatal(err)
	}
	l := model.Fc.(*BottleneckLayer)
	if l.Down["par"].Weight.Dim(0) != 2 || l.Down["par"].Weight.Dim(1) != 6 || l.Down["seq"].Weight.Dim(1) != 4 {
		t.Fatalf("widths: parallel down %v, sequential down %v", l.Down["par"].Weight.Shape(), l.Down["seq"].Weight.Shape())
	}
	var ps []*tensor.Tensor
	for _, n := range []string{"seq", "par"} {
		nn.NormalInit(l.Down[n].Bias, tensor.NewRNG(4), 0, 0.3)
		nn.NormalInit(l.Up[n].Bias, tensor.NewRNG(5), 0, 0.3)
		ps = append(ps, l.params(n)...)
	}
	x := tensor.Randn(tensor.NewRNG(6), 3, 6)
	err = tensor.GradCheck(func(in ...*tensor.Tensor) *tensor.Tensor {
		for i, p := range ps {
			copy(p.Data(), in[i].Data())
		}
		return model.Forward(x)
	}, ps, tensor.GradCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Trainable: seq 4·2+2 + 2·4+4 = 22, par 6·2+2 + 2·4+4 + 1 = 27.
	if got := m.Summary().Trainable; got != 22+27 {
		t.Errorf("trainable %d, want 49", got)
	}
}

// TestBottleneckSaveLoad checks the saved keys, shapes and config and that a
// loaded adapter gives identical outputs.
func TestBottleneckSaveLoad(t *testing.T) {
	dir := t.TempDir()
	model := newToy(1)
	cfg := BottleneckConfig{TargetModules: []string{"c_proj"}, ReductionFactor: 3, NonLinearity: "gelu", Placement: PlacementParallel,
		LearnedScaling: true, Scaling: 4, InitStd: 0.1, TaskType: "SEQ_CLS"}
	m, err := Inject(model, "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SaveAdapter(dir, "default"); err != nil {
		t.Fatal(err)
	}
	x := toyInput(2)
	want := model.Forward(x)
	var got []string
	for n, s := range savedShapes(t, dir) {
		got = append(got, n+tensor.FormatShape(s))
	}
	slices.Sort(got)
	var wantKeys []string
	for _, i := range []string{"0", "1"} {
		p := "base_model.model.layers." + i + ".c_proj."
		wantKeys = append(wantKeys, p+"adapter_down.bias(2)", p+"adapter_down.weight(2,6)", p+"adapter_scale(1)",
			p+"adapter_up.bias(6)", p+"adapter_up.weight(6,2)")
	}
	if !slices.Equal(got, wantKeys) {
		t.Errorf("keys %q\nwant %q", got, wantKeys)
	}
	data, _ := os.ReadFile(filepath.Join(dir, ConfigFile))
	var js map[string]any
	if err := json.Unmarshal(data, &js); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"peft_type": "BOTTLENECK", "reduction_factor": 3.0, "non_linearity": "gelu", "placement": "parallel",
		"scaling": 4.0, "learned_scaling": true, "init_std": 0.1, "task_type": "SEQ_CLS", "inference_mode": true} {
		if js[k] != v {
			t.Errorf("%s = %v, want %v", k, js[k], v)
		}
	}
	fresh := newToy(1)
	if _, err := Load(fresh, dir, ""); err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(fresh.Forward(x), want); d != 0 {
		t.Errorf("loaded model's output differs by %v", d)
	}
	base := newToy(1).Forward(x)
	if d := maxAbsDiff(want, base); d == 0 {
		t.Error("the adapter (W_up drawn with std 0.1) does not change the output")
	}
}

// TestBottleneckBadInput checks errors naming the module and numbers, with
// the model unchanged.
func TestBottleneckBadInput(t *testing.T) {
	cases := []struct {
		cfg  BottleneckConfig
		want string
	}{
		{BottleneckConfig{TargetModules: []string{"value"}, ReductionFactor: 7}, `module "layers.0.value": reduction factor 7 leaves no bottleneck unit for its 6 features`},
		{BottleneckConfig{TargetModules: []string{"value"}, NonLinearity: "cube"}, `non-linearity "cube"`},
		{BottleneckConfig{TargetModules: []string{"value"}, Placement: "diagonal"}, `placement "diagonal"`},
		{BottleneckConfig{TargetModules: []string{"value"}, ReductionFactor: -2}, `reduction factor -2`},
		{BottleneckConfig{TargetModules: []string{"valeu"}}, `"valeu" matches no module name; closest names: "value"`},
	}
	for _, c := range cases {
		model := newToy(1)
		before := snap(model)
		_, err := Inject(model, "", c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
		before.same(t, model)
	}
	if _, err := HoulsbyConfig("t5"); err == nil || !strings.Contains(err.Error(), `"t5"`) {
		t.Errorf("Houlsby t5: %v", err)
	}
}

// TestBottleneckPresets checks which modules the Houlsby and Pfeiffer
// presets adapt in BERT-base and GPT-2 small, and the parameter counts:
// a sequential adapter on a 768-wide output with reduction 16 (48 units)
// has 2·768·48 + 48 + 768 = 74,544 parameters.
func TestBottleneckPresets(t *testing.T) {
	if testing.Short() {
		t.Skip("builds GPT-2 small and BERT-base")
	}
	const perAdapter = 2*768*48 + 48 + 768
	for _, arch := range []string{"bert", "gpt2"} {
		for _, preset := range []string{"houlsby", "pfeiffer"} {
			var model nn.Module
			var err error
			if arch == "bert" {
				model, err = bert.New(bert.Base(), nil)
			} else {
				model, err = gpt2.New(gpt2.Small(), nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			total, _ := nn.CountParameters(model)
			cfg, err := HoulsbyConfig(arch)
			if preset == "pfeiffer" {
				cfg, err = PfeifferConfig(arch)
			}
			if err != nil {
				t.Fatal(err)
			}
			m, err := Inject(model, "", cfg)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, nm := range m.Tuners() {
				names = append(names, nm.Name)
			}
			perLayer := map[string][]string{
				"bert/houlsby":  {"encoder.layer.3.attention.output.dense", "encoder.layer.3.output.dense"},
				"bert/pfeiffer": {"encoder.layer.3.output.dense"},
				"gpt2/houlsby":  {"h.3.attn.c_proj", "h.3.mlp.c_proj"},
				"gpt2/pfeiffer": {"h.3.mlp.c_proj"},
			}[arch+"/"+preset]
			if len(names) != 12*len(perLayer) {
				t.Fatalf("%s %s: %d adapted modules %q", arch, preset, len(names), names)
			}
			var layer3 []string
			for _, n := range names {
				if strings.Contains(n, ".3.") {
					layer3 = append(layer3, n)
				}
			}
			if !slices.Equal(layer3, perLayer) {
				t.Errorf("%s %s: block 3 adapts %q, want %q", arch, preset, layer3, perLayer)
			}
			s := m.Summary()
			want := 12 * len(perLayer) * perAdapter
			if s.Trainable != want || s.Total != total+want {
				t.Errorf("%s %s: %s, want %d trainable", arch, preset, m.TrainableLine(), want)
			}
			t.Logf("%s %s: %s", arch, preset, m.TrainableLine())
		}
	}
}
