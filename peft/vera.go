package peft

import (
	"encoding/json"
	"fmt"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// VeraConfig configures a VeRA adapter (Kopiczko et al. 2024, PEFT's
// VeraConfig): one frozen random pair A (r, in_max), B (out_max, r), shared by
// every targeted layer and sliced to its widths, and per layer two trainable
// vectors, d (r, initialised to DInitial) and b (out, initialised to 0):
// y = W₀x + b ⊙ (B[:out]·(d ⊙ (A[:, :in]·dropout(x)))).
// A and B are Kaiming-uniform (gain √2) from ProjectionPRNGKey; in_max and
// out_max are the largest widths over the targets. NewVeraConfig fills
// PEFT's defaults.
type VeraConfig struct {
	R             int // rank r (PEFT's default 256); ≥ 1
	TargetModules []string
	TargetRegex   string
	// ProjectionPRNGKey seeds A and B (and the dropout). graft's generator is
	// not torch's: an adapter saved without its projections loads only in
	// graft.
	ProjectionPRNGKey uint64
	// SaveProjection saves A and B with the adapter (keys
	// "base_model.vera_A", "base_model.vera_B"), as PEFT does by default.
	SaveProjection bool
	Dropout        float64 // vera_dropout, in [0, 1)
	DInitial       float64 // d_initial: the initial value of every d (PEFT's 0.1)
	ModulesToSave  []string
	Bias           string // "none" ("" too)
	// TaskType and BaseModelNameOrPath are recorded in adapter_config.json.
	TaskType            string
	BaseModelNameOrPath string
}

// NewVeraConfig returns PEFT's defaults (SaveProjection, DInitial 0.1) with
// the given rank and targets.
func NewVeraConfig(r int, targets ...string) VeraConfig {
	return VeraConfig{R: r, TargetModules: targets, SaveProjection: true, DInitial: 0.1, Bias: "none"}
}

// PeftType returns "VERA".
func (c VeraConfig) PeftType() string { return "VERA" }

// Targets returns the modules the adapter targets.
func (c VeraConfig) Targets() Target { return Target{Modules: c.TargetModules, Regex: c.TargetRegex} }

// SavedModules returns ModulesToSave.
func (c VeraConfig) SavedModules() []string { return c.ModulesToSave }

// Validate checks the settings that do not depend on a module.
func (c VeraConfig) Validate() error {
	if _, err := c.Targets().compile(); err != nil {
		return err
	}
	if c.R < 1 {
		return fmt.Errorf("peft: VeRA rank %d must be at least 1", c.R)
	}
	if c.Dropout < 0 || c.Dropout >= 1 {
		return fmt.Errorf("peft: VeRA dropout %g: want a probability in [0, 1)", c.Dropout)
	}
	return checkNoBias("VeRA", c.Bias)
}

// Prepare refuses: a VeRA adapter's projections are sized over all its
// targets, so it is added through Inject, AddAdapter or Load, which bind them
// first.
func (c VeraConfig) Prepare(name string, _ nn.Layer, _ string, _ int) (*Plan, error) {
	return nil, fmt.Errorf("peft: module %q: a VeRA adapter is added through the Model (its projections are shared by all targets)", name)
}

// bindShared draws the shared projections for the targets.
func (c VeraConfig) bindShared(targets []nn.NamedModule, _ string) (Method, error) {
	in, out, err := largestAffine(targets)
	if err != nil {
		return nil, err
	}
	rng := tensor.NewRNG(c.ProjectionPRNGKey)
	a := nn.KaimingUniform(tensor.Zeros(c.R, in), rng, 0, "fan_in", "leaky_relu")
	b := nn.KaimingUniform(tensor.Zeros(out, c.R), rng, 0, "fan_in", "leaky_relu")
	return veraBound{VeraConfig: c, a: a, b: b}, nil
}

// veraBound is a VeraConfig bound to its adapter's projections.
type veraBound struct {
	VeraConfig
	a, b *tensor.Tensor
}

// Prepare checks that the module can take the adapter and plans adding it.
func (c veraBound) Prepare(name string, current nn.Layer, adapter string, index int) (*Plan, error) {
	existing, _ := current.(*VeraLayer)
	base, aff, err := affineTarget(name, current, existing != nil, adapter)
	if err != nil {
		return nil, err
	}
	p := &Plan{Shapes: map[string][]int{"vera_lambda_b": {aff.out}, "vera_lambda_d": {c.R}}}
	if c.SaveProjection {
		p.Shared = map[string][]int{"vera_A": c.a.Shape(), "vera_B": c.b.Shape()}
	}
	p.Apply = func() nn.Layer {
		l := existing
		if l == nil {
			l = newVeraLayer(base, aff)
		}
		l.A[adapter], l.B[adapter] = c.a, c.b
		l.LambdaD[adapter] = tensor.Full(float32(c.DInitial), c.R)
		l.LambdaB[adapter] = tensor.Zeros(aff.out)
		if c.Dropout > 0 {
			l.Dropout[adapter] = nn.NewDropout(float32(c.Dropout), c.ProjectionPRNGKey*1_000_003+uint64(index)+1)
		}
		l.saveProjection[adapter] = c.SaveProjection
		l.order = append(l.order, adapter)
		return l
	}
	return p, nil
}

// VeraLayer is an affine layer (nn.Linear, gpt2.Conv1D) with VeRA adapters.
// Its parameters are named as PEFT's: base_layer.weight,
// vera_lambda_b.<adapter> (out), vera_lambda_d.<adapter> (r); the shared
// projections vera_A.<adapter> and vera_B.<adapter> are buffers (frozen, not
// counted as parameters), the same tensors in every layer of the adapter.
type VeraLayer struct {
	Base    nn.Layer                  `nn:"base_layer"`
	Dropout map[string]*nn.Dropout    `nn:"vera_dropout"`
	LambdaB map[string]*tensor.Tensor `nn:"vera_lambda_b"`
	LambdaD map[string]*tensor.Tensor `nn:"vera_lambda_d"`
	A       map[string]*tensor.Tensor `nn:"vera_A,buffer"`
	B       map[string]*tensor.Tensor `nn:"vera_B,buffer"`

	bankLayer
	saveProjection map[string]bool
}

func newVeraLayer(base nn.Layer, aff affine) *VeraLayer {
	l := &VeraLayer{Base: base, Dropout: map[string]*nn.Dropout{}, LambdaB: map[string]*tensor.Tensor{},
		LambdaD: map[string]*tensor.Tensor{}, A: map[string]*tensor.Tensor{}, B: map[string]*tensor.Tensor{},
		saveProjection: map[string]bool{}}
	l.aff = aff
	l.bank = func(n string) (bank, bool) {
		d, ok := l.LambdaD[n]
		if !ok {
			return bank{}, false
		}
		return bank{a: l.A[n], b: l.B[n], d: d, v: l.LambdaB[n], s: 1, dropout: l.Dropout[n]}, true
	}
	return l
}

// Forward applies the base layer and the active adapters that are not merged.
func (l *VeraLayer) Forward(x *tensor.Tensor) *tensor.Tensor { return l.forward(l.Base, x) }

// AdapterName implements nn.Adapter.
func (l *VeraLayer) AdapterName(param string) string { return adapterOfParam(param, "base_layer") }

// BaseLayer returns the wrapped layer.
func (l *VeraLayer) BaseLayer() nn.Layer { return l.Base }

// SetActive activates the named adapters it holds; their vectors train, the
// others' are frozen. The projections never train.
func (l *VeraLayer) SetActive(names []string) {
	l.setActive(names, func(n string, on bool) { setTrainable(on, l.LambdaB[n], l.LambdaD[n]) })
}

// DeleteAdapter removes an adapter; it reports whether any remain.
func (l *VeraLayer) DeleteAdapter(name string) bool {
	for _, m := range []map[string]*tensor.Tensor{l.LambdaB, l.LambdaD, l.A, l.B} {
		delete(m, name)
	}
	delete(l.Dropout, name)
	delete(l.saveProjection, name)
	return l.remove(name)
}

// DeltaWeight returns the named adapter's update diag(b)·B·diag(d)·A as
// (out, in).
func (l *VeraLayer) DeltaWeight(name string) (*tensor.Tensor, error) {
	return l.deltaWeight("VeRA", name)
}

// Unwrap returns the base layer, with the active adapters merged when merge
// is set.
func (l *VeraLayer) Unwrap(merge bool) (nn.Layer, error) {
	return unwrapMerged(l, l.active, l.Base, merge)
}

// AdapterTensors returns vera_lambda_b and vera_lambda_d of the adapter.
func (l *VeraLayer) AdapterTensors(adapter string) []nn.NamedTensor {
	if _, ok := l.LambdaD[adapter]; !ok {
		return nil
	}
	return []nn.NamedTensor{{Name: "vera_lambda_b", Tensor: l.LambdaB[adapter]}, {Name: "vera_lambda_d", Tensor: l.LambdaD[adapter]}}
}

// sharedTensors returns vera_A and vera_B when the adapter saves them.
func (l *VeraLayer) sharedTensors(adapter string) []nn.NamedTensor {
	if !l.saveProjection[adapter] {
		return nil
	}
	return []nn.NamedTensor{{Name: "vera_A", Tensor: l.A[adapter]}, {Name: "vera_B", Tensor: l.B[adapter]}}
}

// veraJSON is adapter_config.json for VeRA, in PEFT's keys.
type veraJSON struct {
	commonJSON
	R                 int             `json:"r"`
	TargetModules     json.RawMessage `json:"target_modules"`
	ProjectionPRNGKey uint64          `json:"projection_prng_key"`
	SaveProjection    bool            `json:"save_projection"`
	VeraDropout       float64         `json:"vera_dropout"`
	DInitial          float64         `json:"d_initial"`
	FanInFanOut       bool            `json:"fan_in_fan_out"`
	Bias              string          `json:"bias"`
	ModulesToSave     []string        `json:"modules_to_save"`
	InitWeights       bool            `json:"init_weights"`
}

// MarshalJSON writes the configuration as PEFT's adapter_config.json.
func (c VeraConfig) MarshalJSON() ([]byte, error) {
	tj, err := targetJSON(c.Targets())
	if err != nil {
		return nil, err
	}
	return json.Marshal(veraJSON{commonJSON: newCommonJSON(c.PeftType(), c.TaskType, c.BaseModelNameOrPath),
		R: c.R, TargetModules: tj, ProjectionPRNGKey: c.ProjectionPRNGKey, SaveProjection: c.SaveProjection, VeraDropout: c.Dropout,
		DInitial: c.DInitial, Bias: orNone(c.Bias), ModulesToSave: c.ModulesToSave, InitWeights: true})
}

func parseVera(data []byte) (Method, error) {
	var j veraJSON
	if err := decodeConfig(data, &j); err != nil {
		return nil, err
	}
	tg, err := parseTargetJSON(j.TargetModules)
	if err != nil {
		return nil, err
	}
	c := VeraConfig{R: j.R, TargetModules: tg.Modules, TargetRegex: tg.Regex, ProjectionPRNGKey: j.ProjectionPRNGKey,
		SaveProjection: j.SaveProjection, Dropout: j.VeraDropout, DInitial: j.DInitial, ModulesToSave: j.ModulesToSave, Bias: j.Bias}
	c.TaskType, c.BaseModelNameOrPath = j.recorded()
	return c, nil
}

func orNone(bias string) string {
	if bias == "" {
		return "none"
	}
	return bias
}
