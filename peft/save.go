package peft

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/safetensors"
	"github.com/graftml/graft/tensor"
)

// File names and the key prefix of a saved adapter, as PEFT writes them.
const (
	ConfigFile  = "adapter_config.json"
	WeightsFile = "adapter_model.safetensors"
	KeyPrefix   = "base_model.model."
)

// loraJSON is adapter_config.json for LoRA, in PEFT's keys.
type loraJSON struct {
	PeftType            string             `json:"peft_type"`
	TaskType            *string            `json:"task_type"`
	BaseModelNameOrPath *string            `json:"base_model_name_or_path"`
	Revision            *string            `json:"revision"`
	InferenceMode       bool               `json:"inference_mode"`
	R                   int                `json:"r"`
	LoraAlpha           float64            `json:"lora_alpha"`
	LoraDropout         float64            `json:"lora_dropout"`
	TargetModules       json.RawMessage    `json:"target_modules"`
	Bias                string             `json:"bias"`
	FanInFanOut         bool               `json:"fan_in_fan_out"`
	UseRSLoRA           bool               `json:"use_rslora"`
	UseDoRA             bool               `json:"use_dora"`
	UseMixer            bool               `json:"use_mixer,omitempty"` // graft's MoSLoRA
	ModulesToSave       []string           `json:"modules_to_save"`
	InitLoraWeights     json.RawMessage    `json:"init_lora_weights"`
	RankPattern         map[string]int     `json:"rank_pattern"`
	AlphaPattern        map[string]float64 `json:"alpha_pattern"`
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// MarshalJSON writes the configuration as PEFT's adapter_config.json:
// target_modules as a (sorted) list, or as the regular expression string;
// init_lora_weights true for Kaiming, else the init's name.
func (c LoraConfig) MarshalJSON() ([]byte, error) {
	var targets any = c.TargetRegex
	if c.TargetRegex == "" {
		ts := slices.Clone(c.TargetModules)
		sort.Strings(ts)
		targets = ts
		if c.Targets().allLinear() {
			targets = AllLinear
		}
	}
	tj, err := json.Marshal(targets)
	if err != nil {
		return nil, err
	}
	var init any = true
	if c.Init != "" && c.Init != InitKaiming {
		init = c.Init
	}
	ij, _ := json.Marshal(init)
	bias := c.Bias
	if bias == "" {
		bias = "none"
	}
	j := loraJSON{PeftType: c.PeftType(), TaskType: optString(c.TaskType), BaseModelNameOrPath: optString(c.BaseModelNameOrPath),
		R: c.R, LoraAlpha: c.Alpha, LoraDropout: c.Dropout, TargetModules: tj, Bias: bias, UseRSLoRA: c.UseRSLoRA,
		UseDoRA: c.UseDoRA, UseMixer: c.UseMixer, ModulesToSave: c.ModulesToSave, InitLoraWeights: ij, RankPattern: c.RankPattern, AlphaPattern: c.AlphaPattern}
	if j.RankPattern == nil {
		j.RankPattern = map[string]int{}
	}
	if j.AlphaPattern == nil {
		j.AlphaPattern = map[string]float64{}
	}
	return json.Marshal(j)
}

// parsers read an adapter_config.json's contents for each peft_type graft
// knows.
var parsers = map[string]func(data []byte) (Method, error){
	"LORA":              func(d []byte) (Method, error) { return parseLora(d) },
	"HYDRA":             func(d []byte) (Method, error) { return parseHydra(d) },
	"VERA":              func(d []byte) (Method, error) { return parseVera(d) },
	"HRA":               func(d []byte) (Method, error) { return parseHRA(d) },
	"TIED_LORA":         func(d []byte) (Method, error) { return parseTiedLora(d) },
	"IA3":               func(d []byte) (Method, error) { return parseIA3(d) },
	"BOTTLENECK":        func(d []byte) (Method, error) { return parseBottleneck(d) },
	"BOTTLENECK_FUSION": func(d []byte) (Method, error) { return parseFusion(d) },
}

// ParseConfig reads an adapter_config.json's contents into the method its
// peft_type names (peft_type "LORA" gives a LoraConfig).
func ParseConfig(data []byte) (Method, error) {
	var head struct {
		PeftType string `json:"peft_type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("peft: adapter config: %v", err)
	}
	parse, ok := parsers[head.PeftType]
	if head.PeftType == "PROMPT_TUNING" || head.PeftType == "PREFIX_TUNING" {
		return nil, fmt.Errorf("peft: adapter config: peft_type %q is a prompt-learning method: use ParsePromptConfig, LoadPrompt", head.PeftType)
	}
	if !ok {
		known := slices.Sorted(maps.Keys(parsers))
		return nil, fmt.Errorf("peft: adapter config: peft_type %q is not supported (graft reads %s)", head.PeftType, strings.Join(known, ", "))
	}
	return parse(data)
}

func parseLora(data []byte) (LoraConfig, error) {
	var j loraJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return LoraConfig{}, fmt.Errorf("peft: adapter config: %v", err)
	}
	c := LoraConfig{R: j.R, Alpha: j.LoraAlpha, Dropout: j.LoraDropout, Bias: j.Bias, UseRSLoRA: j.UseRSLoRA,
		UseDoRA: j.UseDoRA, UseMixer: j.UseMixer,
		ModulesToSave: j.ModulesToSave, RankPattern: j.RankPattern, AlphaPattern: j.AlphaPattern}
	if j.TaskType != nil {
		c.TaskType = *j.TaskType
	}
	if j.BaseModelNameOrPath != nil {
		c.BaseModelNameOrPath = *j.BaseModelNameOrPath
	}
	if err := json.Unmarshal(j.TargetModules, &c.TargetModules); err != nil {
		if err := json.Unmarshal(j.TargetModules, &c.TargetRegex); err != nil {
			return LoraConfig{}, fmt.Errorf("peft: adapter config: target_modules %s: want a list or a string", j.TargetModules)
		}
		if c.TargetRegex == AllLinear {
			c.TargetRegex, c.TargetModules = "", []string{AllLinear}
		}
	}
	var b bool
	var s string
	switch {
	case len(j.InitLoraWeights) == 0 || string(j.InitLoraWeights) == "null":
	case json.Unmarshal(j.InitLoraWeights, &b) == nil:
		// true is Kaiming; false (PEFT: B random too) only matters before training.
	case json.Unmarshal(j.InitLoraWeights, &s) == nil:
		c.Init = s
		if strings.HasPrefix(s, "pissa") {
			c.Init = InitPiSSA
		}
	}
	return c, nil
}

// SaveAdapter writes the named adapter to dir (created if needed) in PEFT's
// layout: adapter_config.json and adapter_model.safetensors with keys
// "base_model.model.<module>.lora_A.weight" (no adapter name) and, for
// modules saved whole, "base_model.model.<module>.<param>".
func (m *Model) SaveAdapter(dir, adapter string) error {
	if err := m.usable(); err != nil {
		return err
	}
	method, ok := m.methods[adapter]
	if !ok {
		return fmt.Errorf("peft: no adapter named %q (the model has %q)", adapter, m.names)
	}
	var entries []safetensors.Entry
	fanIn := false
	for _, nm := range m.Tuners() {
		t := nm.Module.(Tuner)
		tensors := t.AdapterTensors(adapter)
		for _, nt := range tensors {
			entries = append(entries, safetensors.Entry{Name: KeyPrefix + nm.Name + "." + nt.Name, Shape: nt.Tensor.Shape(), Data: nt.Tensor.Data()})
		}
		// Any adapted layer storing its weight as (in, out), as GPT-2's
		// Conv1D does, makes the adapter fan_in_fan_out, whatever the method.
		if fo, ok := t.BaseLayer().(fanInFanOut); ok && len(tensors) > 0 && fo.FanInFanOut() {
			fanIn = true
		}
	}
	for _, nt := range sharedEntries(m.Tuners(), adapter) {
		entries = append(entries, safetensors.Entry{Name: SharedKeyPrefix + nt.Name, Shape: nt.Tensor.Shape(), Data: nt.Tensor.Data()})
	}
	return writeAdapter(dir, adapter, method, entries, func(cfg map[string]any) error {
		if _, ok := cfg["fan_in_fan_out"]; ok {
			cfg["fan_in_fan_out"] = fanIn
		}
		return m.recordBase(adapter, cfg)
	})
}

// writeAdapter writes an adapter as PEFT's save_pretrained does: dir/
// adapter_config.json, the method's configuration with inference_mode set
// (and whatever edit adds), and dir/adapter_model.safetensors holding entries.
func writeAdapter(dir, adapter string, method json.Marshaler, entries []safetensors.Entry, edit func(cfg map[string]any) error) error {
	cj, err := json.Marshal(method)
	if err != nil {
		return fmt.Errorf("peft: save %q: %v", adapter, err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(cj, &cfg); err != nil {
		return fmt.Errorf("peft: save %q: %v", adapter, err)
	}
	cfg["inference_mode"] = true
	if edit != nil {
		if err := edit(cfg); err != nil {
			return err
		}
	}
	out, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("peft: save %q: %v", adapter, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("peft: save %q: %v", adapter, err)
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), append(out, '\n'), 0o644); err != nil {
		return fmt.Errorf("peft: save %q: %v", adapter, err)
	}
	return safetensors.Save(filepath.Join(dir, WeightsFile), entries, map[string]string{"format": "pt"})
}

// Save writes every adapter as PEFT's save_pretrained does: "default" in dir
// itself, any other adapter in dir/<name>.
func (m *Model) Save(dir string) error {
	for _, n := range m.names {
		d := dir
		if n != DefaultAdapter {
			d = filepath.Join(dir, n)
		}
		if err := m.SaveAdapter(d, n); err != nil {
			return err
		}
	}
	return nil
}

// Load adapts model with the adapter saved in dir (PEFT's
// PeftModel.from_pretrained), named adapter ("" for "default") and active.
// Tensors that do not fit the modules the configuration targets — missing,
// unexpected or of another shape — are an error naming the module and the
// shapes, and model is left unchanged. An adapter initialised with PiSSA
// expects the residual base weights it was trained on.
func Load(model nn.Module, dir, adapter string) (*Model, error) {
	m := &Model{model: model, methods: map[string]Method{}}
	if err := m.load(dir, adapter, true); err != nil {
		return nil, err
	}
	return m, nil
}

// LoadAdapter adds the adapter saved in dir under the given name, inactive;
// on error nothing changes (see Load).
func (m *Model) LoadAdapter(dir, adapter string) error {
	if err := m.usable(); err != nil {
		return err
	}
	return m.load(dir, adapter, false)
}

func (m *Model) load(dir, adapter string, activate bool) error {
	if adapter == "" {
		adapter = DefaultAdapter
	}
	data, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		return fmt.Errorf("peft: load adapter: %v", err)
	}
	method, err := ParseConfig(data)
	if err != nil {
		return fmt.Errorf("%v (in %s)", err, filepath.Join(dir, ConfigFile))
	}
	if err := m.checkBase(dir, data, method); err != nil {
		return err
	}
	if lc, ok := method.(LoraConfig); ok && lc.Init == InitPiSSA {
		lc.Init = InitKaiming // the saved factors replace the initialisation; the base stays as it is
		method = lc
	}
	entries, _, err := safetensors.Load(filepath.Join(dir, WeightsFile))
	if err != nil {
		return fmt.Errorf("peft: load adapter: %v", err)
	}
	byName := map[string]safetensors.Entry{}
	for _, e := range entries {
		byName[e.Name] = e
	}
	check := func(planned []plannedModule) error {
		var problems []string
		expected := map[string]bool{}
		for _, p := range planned {
			keys := mapKeys(p.plan.Shapes)
			for _, k := range keys {
				key := KeyPrefix + p.name + "." + k
				expected[key] = true
				e, ok := byName[key]
				switch {
				case !ok:
					problems = append(problems, fmt.Sprintf("module %q: %s is missing", p.name, key))
				case !slices.Equal(e.Shape, p.plan.Shapes[k]):
					problems = append(problems, fmt.Sprintf("module %q: %s has shape %s in the file, the model needs %s",
						p.name, k, tensor.FormatShape(e.Shape), tensor.FormatShape(p.plan.Shapes[k])))
				}
			}
			for _, k := range mapKeys(p.plan.Shared) {
				key := SharedKeyPrefix + k
				if expected[key] {
					continue
				}
				expected[key] = true
				e, ok := byName[key]
				switch {
				case !ok:
					problems = append(problems, fmt.Sprintf("%s (shared by the adapted modules) is missing", key))
				case !slices.Equal(e.Shape, p.plan.Shared[k]):
					problems = append(problems, fmt.Sprintf("%s has shape %s in the file, the model needs %s",
						key, tensor.FormatShape(e.Shape), tensor.FormatShape(p.plan.Shared[k])))
				}
			}
		}
		for _, e := range entries {
			if !expected[e.Name] {
				problems = append(problems, fmt.Sprintf("%s matches no adapted module", e.Name))
			}
		}
		if len(problems) > 0 {
			if len(problems) > 8 {
				problems = append(problems[:8], fmt.Sprintf("and %d more", len(problems)-8))
			}
			return fmt.Errorf("peft: load adapter %s: %s", dir, strings.Join(problems, "; "))
		}
		return nil
	}
	if err := m.add(adapter, method, activate, check); err != nil {
		return err
	}
	for _, nm := range m.Tuners() {
		for _, nt := range nm.Module.(Tuner).AdapterTensors(adapter) {
			copy(nt.Tensor.Data(), byName[KeyPrefix+nm.Name+"."+nt.Name].Data)
		}
	}
	for _, nt := range sharedEntries(m.Tuners(), adapter) {
		copy(nt.Tensor.Data(), byName[SharedKeyPrefix+nt.Name].Data)
	}
	return nil
}
