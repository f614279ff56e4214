package peft

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/internal/testenv"
	"github.com/graftml/graft/models/gpt2"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/safetensors"
	"github.com/graftml/graft/tensor"
)

func tinyGPT2(t *testing.T, seed uint64) *gpt2.Model {
	t.Helper()
	cfg := gpt2.Small()
	cfg.VocabSize, cfg.NPositions, cfg.NEmbd, cfg.NLayer, cfg.NHead = 20, 8, 8, 2, 2
	m, err := gpt2.New(cfg, tensor.NewRNG(seed))
	if err != nil {
		t.Fatal(err)
	}
	nn.Eval(m)
	return m
}

// TestSaveLoadRoundTrip saves an adapter with a head saved whole, loads it
// into a fresh model and compares outputs and the files' layout.
func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	model := newToy(1)
	cfg := NewLoraConfig(2, 5, "query", "c_proj")
	cfg.ModulesToSave = []string{"classifier"}
	cfg.TaskType, cfg.BaseModelNameOrPath = "SEQ_CLS", "toy"
	m, err := Inject(model, "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	randomiseB(t, m, "default", 3)
	m.Module().(*toy).Classifier.(*ModulesToSave).Copies["default"].(*nn.Linear).Bias.Data()[1] = 7
	if err := m.SaveAdapter(dir, "default"); err != nil {
		t.Fatal(err)
	}
	x := toyInput(2)
	want := model.Forward(x)

	f, err := safetensors.Open(filepath.Join(dir, WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	keys := f.Names()
	f.Close()
	wantKeys := []string{
		"base_model.model.classifier.bias", "base_model.model.classifier.weight",
		"base_model.model.layers.0.c_proj.lora_A.weight", "base_model.model.layers.0.c_proj.lora_B.weight",
		"base_model.model.layers.0.query.lora_A.weight", "base_model.model.layers.0.query.lora_B.weight",
		"base_model.model.layers.1.c_proj.lora_A.weight", "base_model.model.layers.1.c_proj.lora_B.weight",
		"base_model.model.layers.1.query.lora_A.weight", "base_model.model.layers.1.query.lora_B.weight",
	}
	slices.Sort(keys)
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("keys %q, want %q", keys, wantKeys)
	}
	var js map[string]any
	data, _ := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err := json.Unmarshal(data, &js); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"peft_type": "LORA", "r": 2.0, "lora_alpha": 5.0, "bias": "none", "fan_in_fan_out": true,
		"use_rslora": false, "use_dora": false, "task_type": "SEQ_CLS", "base_model_name_or_path": "toy", "inference_mode": true,
		"init_lora_weights": true, "lora_dropout": 0.0} {
		if js[k] != v {
			t.Errorf("%s = %v, want %v", k, js[k], v)
		}
	}
	if tm, _ := json.Marshal(js["target_modules"]); string(tm) != `["c_proj","query"]` {
		t.Errorf("target_modules %s", tm)
	}

	fresh := newToy(1)
	lm, err := Load(fresh, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(fresh.Forward(x), want); d != 0 {
		t.Errorf("loaded model's output differs by %v", d)
	}
	if lm.Summary().Trainable != m.Summary().Trainable {
		t.Errorf("trainable %d after load, %d before", lm.Summary().Trainable, m.Summary().Trainable)
	}
	// A second adapter loaded beside the first, then activated alone.
	if err := lm.LoadAdapter(dir, "again"); err != nil {
		t.Fatal(err)
	}
	if err := lm.SetActive("again"); err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(fresh.Forward(x), want); d != 0 {
		t.Errorf("second copy's output differs by %v", d)
	}
}

// TestLoadMismatch checks that an adapter that does not fit is refused with
// the module and shapes named, leaving the model unchanged.
func TestLoadMismatch(t *testing.T) {
	dir := t.TempDir()
	m, err := Inject(&single{Fc: nn.NewLinear(6, 4, true, tensor.NewRNG(1))}, "", NewLoraConfig(2, 2, "fc"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SaveAdapter(dir, "default"); err != nil {
		t.Fatal(err)
	}
	other := &single{Fc: nn.NewLinear(5, 4, true, tensor.NewRNG(1))}
	before := snap(other)
	_, err = Load(other, dir, "")
	if err == nil {
		t.Fatal("a (2, 6) A loaded into a 5-input layer")
	}
	for _, w := range []string{`module "fc"`, "lora_A.weight has shape (2,6) in the file, the model needs (2,5)"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	before.same(t, other)
	if _, ok := other.Fc.(*nn.Linear); !ok {
		t.Error("fc replaced after the error")
	}
}

// TestTorchReadsAdapter has PyTorch parse graft's safetensors file by hand,
// check the PEFT layout and compute LoRA forwards from its tensors, for
// Linear (BERT-like naming) and Conv1D (GPT-2, fan_in_fan_out) layers.
func TestTorchReadsAdapter(t *testing.T) {
	python := testenv.RequirePython(t, "torch")
	cases := []struct {
		name   string
		model  nn.Module
		cfg    LoraConfig
		inDims int
	}{
		{"linear", newToy(1), LoraConfig{R: 2, Alpha: 3, TargetModules: []string{"query", "value"}}, toyDim},
		{"conv1d", tinyGPT2(t, 1), LoraConfig{R: 3, Alpha: 6, UseRSLoRA: true, TargetModules: []string{"c_attn"}}, 8},
	}
	for _, c := range cases {
		dir := t.TempDir()
		m, err := Inject(c.model, "", c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		randomiseB(t, m, "default", 5)
		if err := m.SaveAdapter(filepath.Join(dir, "adapter"), "default"); err != nil {
			t.Fatal(err)
		}
		x := tensor.Randn(tensor.NewRNG(9), 3, c.inDims)
		var in []safetensors.Entry
		in = append(in, safetensors.Entry{Name: "x", Shape: x.Shape(), Data: x.Data()})
		ours := map[string]*tensor.Tensor{}
		for _, nm := range m.Tuners() {
			l := nm.Module.(*LoraLayer)
			for _, p := range nn.NamedParameters(l.Base) {
				in = append(in, safetensors.Entry{Name: nm.Name + "." + p.Name, Shape: p.Tensor.Shape(), Data: p.Tensor.Data()})
			}
			ours[nm.Name] = l.Forward(x)
		}
		if err := safetensors.Save(filepath.Join(dir, "in.safetensors"), in, nil); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(python, filepath.Join("testdata", "lora_ref.py"), filepath.Join(dir, "adapter"),
			filepath.Join(dir, "in.safetensors"), filepath.Join(dir, "out.safetensors"))
		cmd.Env = append(cmd.Environ(), "OMP_NUM_THREADS=2", "PYTHONPATH="+filepath.Join("..", "models", "internal", "reftest"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", c.name, err, out)
		}
		ref, _, err := safetensors.Load(filepath.Join(dir, "out.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		if len(ref) != len(ours) {
			t.Fatalf("%s: torch computed %d modules, graft has %d", c.name, len(ref), len(ours))
		}
		for _, e := range ref {
			got := ours[e.Name]
			if got == nil {
				t.Fatalf("%s: torch computed unknown module %q", c.name, e.Name)
			}
			if d := relDiff(got, tensor.New(e.Data, e.Shape...)); d > 1e-5 {
				t.Errorf("%s %s: graft and torch differ by %v relative", c.name, e.Name, d)
			}
		}
	}
}

// TestFanInFanOutWhateverTheMethod checks that adapting a Conv1D (weight
// stored (in, out)) writes fan_in_fan_out true for every method, and that
// adapting only (out, in) Linears writes false.
func TestFanInFanOutWhateverTheMethod(t *testing.T) {
	for _, c := range []struct {
		name   string
		method Method
		want   bool
	}{
		{"ia3 on c_proj", NewIA3Config([]string{"c_proj"}, nil), true},
		{"vera on c_proj", NewVeraConfig(2, "c_proj"), true},
		{"hydra on c_proj", NewHydraConfig(2, 4, "c_proj"), true},
		{"lora on c_proj", NewLoraConfig(2, 4, "c_proj"), true},
		{"ia3 on query", NewIA3Config([]string{"query"}, nil), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := Inject(newToy(1), "default", c.method)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := m.SaveAdapter(dir, "default"); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(filepath.Join(dir, ConfigFile))
			if err != nil {
				t.Fatal(err)
			}
			var cfg struct {
				FanInFanOut bool `json:"fan_in_fan_out"`
			}
			if err := json.Unmarshal(raw, &cfg); err != nil {
				t.Fatal(err)
			}
			if cfg.FanInFanOut != c.want {
				t.Errorf("fan_in_fan_out = %v, want %v", cfg.FanInFanOut, c.want)
			}
		})
	}
}
