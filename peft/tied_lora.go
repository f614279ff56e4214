package peft

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// TiedLoraConfig configures a Tied-LoRA adapter (Renduchintala et al. 2024),
// a graft method with peft_type "TIED_LORA" (PEFT has none): one pair
// A (r, in_max), B (out_max, r) shared by every targeted layer and sliced to
// its widths, and per layer two scaling vectors u (r) and v (out):
// y = W₀x + s·v ⊙ (B[:out]·(u ⊙ (A[:, :in]·dropout(x)))), s = Alpha/R,
// i.e. ΔW_l = s·diag(v_l)·B·diag(u_l)·A. TrainA, TrainB, TrainU and TrainV
// choose which parts train (the paper's grid; NewTiedLoraConfig trains all).
//
// A starts Kaiming-uniform (a = √5) and u at 1. With B trained, B starts at 0
// and v at 1; with B frozen, B starts Kaiming-uniform and v at 0 (so v must
// train). Either way ΔW starts at 0.
//
// The adapter's config is saved as adapter_config.json with keys r,
// lora_alpha, lora_dropout, target_modules, train_A, train_B, train_u,
// train_v; the weights as "base_model.model.<module>.tied_lora_u",
// "….tied_lora_v" and, once, "base_model.tied_lora_A",
// "base_model.tied_lora_B".
type TiedLoraConfig struct {
	R             int     // rank r; ≥ 1
	Alpha         float64 // s = Alpha/R; > 0
	TargetModules []string
	TargetRegex   string
	TrainA        bool
	TrainB        bool
	TrainU        bool
	TrainV        bool
	Dropout       float64 // on the adapter's input, in [0, 1)
	ModulesToSave []string
	Bias          string // "none" ("" too)
	// TaskType and BaseModelNameOrPath are recorded in adapter_config.json.
	TaskType            string
	BaseModelNameOrPath string
	Seed                uint64 // seeds A, B and the dropout
}

// NewTiedLoraConfig returns a configuration training A, B, u and v.
func NewTiedLoraConfig(r int, alpha float64, targets ...string) TiedLoraConfig {
	return TiedLoraConfig{R: r, Alpha: alpha, TargetModules: targets, TrainA: true, TrainB: true, TrainU: true, TrainV: true, Bias: "none"}
}

// PeftType returns "TIED_LORA".
func (c TiedLoraConfig) PeftType() string { return "TIED_LORA" }

// Targets returns the modules the adapter targets.
func (c TiedLoraConfig) Targets() Target {
	return Target{Modules: c.TargetModules, Regex: c.TargetRegex}
}

// SavedModules returns ModulesToSave.
func (c TiedLoraConfig) SavedModules() []string { return c.ModulesToSave }

// Validate checks the settings that do not depend on a module.
func (c TiedLoraConfig) Validate() error {
	if _, err := c.Targets().compile(); err != nil {
		return err
	}
	if c.R < 1 {
		return fmt.Errorf("peft: Tied-LoRA rank %d must be at least 1", c.R)
	}
	if !(c.Alpha > 0) {
		return fmt.Errorf("peft: Tied-LoRA lora_alpha %g must be positive", c.Alpha)
	}
	if c.Dropout < 0 || c.Dropout >= 1 {
		return fmt.Errorf("peft: Tied-LoRA dropout %g: want a probability in [0, 1)", c.Dropout)
	}
	if !c.TrainB && !c.TrainV {
		return fmt.Errorf("peft: Tied-LoRA with B and v both frozen: the update starts at 0 and would stay there")
	}
	return checkNoBias("Tied-LoRA", c.Bias)
}

// Prepare refuses: a Tied-LoRA adapter's A and B are sized over all its
// targets, so it is added through Inject, AddAdapter or Load.
func (c TiedLoraConfig) Prepare(name string, _ nn.Layer, _ string, _ int) (*Plan, error) {
	return nil, fmt.Errorf("peft: module %q: a Tied-LoRA adapter is added through the Model (its A and B are shared by all targets)", name)
}

// bindShared draws the shared A and B for the targets.
func (c TiedLoraConfig) bindShared(targets []nn.NamedModule, _ string) (Method, error) {
	in, out, err := largestAffine(targets)
	if err != nil {
		return nil, err
	}
	rng := tensor.NewRNG(c.Seed)
	a := nn.KaimingUniform(tensor.Zeros(c.R, in), rng, math.Sqrt(5), "fan_in", "leaky_relu")
	b := tensor.Zeros(out, c.R)
	if !c.TrainB {
		nn.KaimingUniform(b, rng, math.Sqrt(5), "fan_in", "leaky_relu")
	}
	return tiedBound{TiedLoraConfig: c, a: a, b: b}, nil
}

// tiedBound is a TiedLoraConfig bound to its adapter's A and B.
type tiedBound struct {
	TiedLoraConfig
	a, b *tensor.Tensor
}

// Prepare checks that the module can take the adapter and plans adding it.
func (c tiedBound) Prepare(name string, current nn.Layer, adapter string, index int) (*Plan, error) {
	existing, _ := current.(*TiedLoraLayer)
	base, aff, err := affineTarget(name, current, existing != nil, adapter)
	if err != nil {
		return nil, err
	}
	return &Plan{
		Shapes: map[string][]int{"tied_lora_u": {c.R}, "tied_lora_v": {aff.out}},
		Shared: map[string][]int{"tied_lora_A": c.a.Shape(), "tied_lora_B": c.b.Shape()},
		Apply: func() nn.Layer {
			l := existing
			if l == nil {
				l = newTiedLoraLayer(base, aff)
			}
			l.A[adapter], l.B[adapter] = c.a, c.b
			l.U[adapter] = tensor.Ones(c.R)
			if c.TrainB {
				l.V[adapter] = tensor.Ones(aff.out)
			} else {
				l.V[adapter] = tensor.Zeros(aff.out)
			}
			if c.Dropout > 0 {
				l.Dropout[adapter] = nn.NewDropout(float32(c.Dropout), c.Seed*1_000_003+uint64(index)+1)
			}
			l.Scaling[adapter] = c.Alpha / float64(c.R)
			l.train[adapter] = [4]bool{c.TrainA, c.TrainB, c.TrainU, c.TrainV}
			l.order = append(l.order, adapter)
			return l
		},
	}, nil
}

// TiedLoraLayer is an affine layer (nn.Linear, gpt2.Conv1D) with Tied-LoRA
// adapters. Its parameters are base_layer.weight, tied_lora_A.<adapter>,
// tied_lora_B.<adapter> (the same tensors in every layer of the adapter, so
// a model lists and counts them once, under the first layer's name),
// tied_lora_u.<adapter> (r) and tied_lora_v.<adapter> (out).
type TiedLoraLayer struct {
	Base    nn.Layer                  `nn:"base_layer"`
	Dropout map[string]*nn.Dropout    `nn:"tied_lora_dropout"`
	A       map[string]*tensor.Tensor `nn:"tied_lora_A"`
	B       map[string]*tensor.Tensor `nn:"tied_lora_B"`
	U       map[string]*tensor.Tensor `nn:"tied_lora_u"`
	V       map[string]*tensor.Tensor `nn:"tied_lora_v"`
	Scaling map[string]float64        `nn:"-"` // s per adapter

	bankLayer
	train map[string][4]bool // TrainA, TrainB, TrainU, TrainV
}

func newTiedLoraLayer(base nn.Layer, aff affine) *TiedLoraLayer {
	l := &TiedLoraLayer{Base: base, Dropout: map[string]*nn.Dropout{}, A: map[string]*tensor.Tensor{},
		B: map[string]*tensor.Tensor{}, U: map[string]*tensor.Tensor{}, V: map[string]*tensor.Tensor{},
		Scaling: map[string]float64{}, train: map[string][4]bool{}}
	l.aff = aff
	l.bank = func(n string) (bank, bool) {
		u, ok := l.U[n]
		if !ok {
			return bank{}, false
		}
		return bank{a: l.A[n], b: l.B[n], d: u, v: l.V[n], s: l.Scaling[n], dropout: l.Dropout[n]}, true
	}
	return l
}

// Forward applies the base layer and the active adapters that are not merged.
func (l *TiedLoraLayer) Forward(x *tensor.Tensor) *tensor.Tensor { return l.forward(l.Base, x) }

// AdapterName implements nn.Adapter.
func (l *TiedLoraLayer) AdapterName(param string) string { return adapterOfParam(param, "base_layer") }

// BaseLayer returns the wrapped layer.
func (l *TiedLoraLayer) BaseLayer() nn.Layer { return l.Base }

// SetActive activates the named adapters it holds: the parts their
// configuration trains get gradients; every other adapter is frozen.
func (l *TiedLoraLayer) SetActive(names []string) {
	l.setActive(names, func(n string, on bool) {
		tr := l.train[n]
		for i, t := range []*tensor.Tensor{l.A[n], l.B[n], l.U[n], l.V[n]} {
			setTrainable(on && tr[i], t)
		}
	})
}

// DeleteAdapter removes an adapter; it reports whether any remain.
func (l *TiedLoraLayer) DeleteAdapter(name string) bool {
	for _, m := range []map[string]*tensor.Tensor{l.A, l.B, l.U, l.V} {
		delete(m, name)
	}
	delete(l.Dropout, name)
	delete(l.Scaling, name)
	delete(l.train, name)
	return l.remove(name)
}

// DeltaWeight returns the named adapter's update s·diag(v)·B·diag(u)·A as
// (out, in).
func (l *TiedLoraLayer) DeltaWeight(name string) (*tensor.Tensor, error) {
	return l.deltaWeight("Tied-LoRA", name)
}

// Unwrap returns the base layer, with the active adapters merged when merge
// is set.
func (l *TiedLoraLayer) Unwrap(merge bool) (nn.Layer, error) {
	return unwrapMerged(l, l.active, l.Base, merge)
}

// AdapterTensors returns tied_lora_u and tied_lora_v of the adapter.
func (l *TiedLoraLayer) AdapterTensors(adapter string) []nn.NamedTensor {
	if _, ok := l.U[adapter]; !ok {
		return nil
	}
	return []nn.NamedTensor{{Name: "tied_lora_u", Tensor: l.U[adapter]}, {Name: "tied_lora_v", Tensor: l.V[adapter]}}
}

// sharedTensors returns tied_lora_A and tied_lora_B.
func (l *TiedLoraLayer) sharedTensors(adapter string) []nn.NamedTensor {
	if _, ok := l.A[adapter]; !ok {
		return nil
	}
	return []nn.NamedTensor{{Name: "tied_lora_A", Tensor: l.A[adapter]}, {Name: "tied_lora_B", Tensor: l.B[adapter]}}
}

// tiedJSON is adapter_config.json for Tied-LoRA.
type tiedJSON struct {
	commonJSON
	R             int             `json:"r"`
	LoraAlpha     float64         `json:"lora_alpha"`
	LoraDropout   float64         `json:"lora_dropout"`
	TargetModules json.RawMessage `json:"target_modules"`
	TrainA        bool            `json:"train_A"`
	TrainB        bool            `json:"train_B"`
	TrainU        bool            `json:"train_u"`
	TrainV        bool            `json:"train_v"`
	Bias          string          `json:"bias"`
	ModulesToSave []string        `json:"modules_to_save"`
	Seed          uint64          `json:"seed"`
}

// MarshalJSON writes the configuration as adapter_config.json.
func (c TiedLoraConfig) MarshalJSON() ([]byte, error) {
	tj, err := targetJSON(c.Targets())
	if err != nil {
		return nil, err
	}
	return json.Marshal(tiedJSON{commonJSON: newCommonJSON(c.PeftType(), c.TaskType, c.BaseModelNameOrPath),
		R: c.R, LoraAlpha: c.Alpha, LoraDropout: c.Dropout, TargetModules: tj, TrainA: c.TrainA, TrainB: c.TrainB,
		TrainU: c.TrainU, TrainV: c.TrainV, Bias: orNone(c.Bias), ModulesToSave: c.ModulesToSave, Seed: c.Seed})
}

func parseTiedLora(data []byte) (Method, error) {
	var j tiedJSON
	if err := decodeConfig(data, &j); err != nil {
		return nil, err
	}
	tg, err := parseTargetJSON(j.TargetModules)
	if err != nil {
		return nil, err
	}
	c := TiedLoraConfig{R: j.R, Alpha: j.LoraAlpha, Dropout: j.LoraDropout, TargetModules: tg.Modules, TargetRegex: tg.Regex,
		TrainA: j.TrainA, TrainB: j.TrainB, TrainU: j.TrainU, TrainV: j.TrainV, Bias: j.Bias, ModulesToSave: j.ModulesToSave, Seed: j.Seed}
	c.TaskType, c.BaseModelNameOrPath = j.recorded()
	return c, nil
}
