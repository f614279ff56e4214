package peft

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// HRAConfig configures an HRA adapter (Householder reflection adaptation,
// Yuan et al. 2024; PEFT's HRAConfig): the layer's weight becomes
// W′ = W·H with H = Π_{i<r} (I − 2 u_i u_iᵀ/‖u_i‖²), r reflections of the
// input space whose vectors U = [u_0 … u_{r−1}] (in, r) train. H is
// orthogonal, so merging computes W′ and unmerging restores W = W′·Hᵀ.
// HRAOrthogonality is the optional penalty on the reflection planes.
type HRAConfig struct {
	R             int // number of reflections r (PEFT's default 8); ≥ 1
	TargetModules []string
	TargetRegex   string
	// RandomInit draws every u_i Kaiming-uniform (PEFT's init_weights false).
	// By default (init_weights true) an even r draws r/2 vectors and repeats
	// each, so that the reflections cancel in pairs and H starts as I; an
	// odd r cannot, and draws all r.
	RandomInit    bool
	ModulesToSave []string
	Bias          string // "none" ("" too)
	// TaskType and BaseModelNameOrPath are recorded in adapter_config.json.
	TaskType            string
	BaseModelNameOrPath string
	Seed                uint64 // seeds the initialisation
}

// NewHRAConfig returns PEFT's defaults with the given number of reflections
// and targets.
func NewHRAConfig(r int, targets ...string) HRAConfig {
	return HRAConfig{R: r, TargetModules: targets, Bias: "none"}
}

// PeftType returns "HRA".
func (c HRAConfig) PeftType() string { return "HRA" }

// Targets returns the modules the adapter targets.
func (c HRAConfig) Targets() Target { return Target{Modules: c.TargetModules, Regex: c.TargetRegex} }

// SavedModules returns ModulesToSave.
func (c HRAConfig) SavedModules() []string { return c.ModulesToSave }

// Validate checks the settings that do not depend on a module.
func (c HRAConfig) Validate() error {
	if _, err := c.Targets().compile(); err != nil {
		return err
	}
	if c.R < 1 {
		return fmt.Errorf("peft: HRA needs at least one reflection, got r = %d", c.R)
	}
	return checkNoBias("HRA", c.Bias)
}

// Prepare checks that the module can take an HRA adapter and plans adding it.
func (c HRAConfig) Prepare(name string, current nn.Layer, adapter string, index int) (*Plan, error) {
	existing, _ := current.(*HRALayer)
	base, aff, err := affineTarget(name, current, existing != nil, adapter)
	if err != nil {
		return nil, err
	}
	seed := c.Seed*1_000_003 + uint64(index)
	return &Plan{
		Shapes: map[string][]int{"hra_u": {aff.in, c.R}},
		Apply: func() nn.Layer {
			l := existing
			if l == nil {
				l = &HRALayer{Base: base, U: map[string]*tensor.Tensor{}, affineWidths: affineWidths{aff}}
			}
			l.U[adapter] = hraInit(aff.in, c.R, !c.RandomInit, tensor.NewRNG(seed))
			l.order = append(l.order, adapter)
			return l
		},
	}, nil
}

// hraInit returns U (in, r) as PEFT initialises it: Kaiming-uniform
// (a = √5), with each of r/2 columns repeated when symmetric and r is even.
func hraInit(in, r int, symmetric bool, rng *tensor.RNG) *tensor.Tensor {
	if !symmetric || r%2 != 0 {
		return nn.KaimingUniform(tensor.Zeros(in, r), rng, math.Sqrt(5), "fan_in", "leaky_relu")
	}
	half := nn.KaimingUniform(tensor.Zeros(in, r/2), rng, math.Sqrt(5), "fan_in", "leaky_relu").Data()
	u := tensor.Zeros(in, r)
	d := u.Data()
	for i := 0; i < in; i++ {
		for j := 0; j < r; j++ {
			d[i*r+j] = half[i*(r/2)+j/2]
		}
	}
	return u
}

// HRALayer is an affine layer (nn.Linear, gpt2.Conv1D) with HRA adapters:
// Forward computes base(H·x) = W·H·x + bias, applying the reflections to the
// input. Its parameters are named as PEFT's: base_layer.weight and
// hra_u.<adapter> (in, r).
type HRALayer struct {
	Base nn.Layer                  `nn:"base_layer"`
	U    map[string]*tensor.Tensor `nn:"hra_u"`

	adapterSet
	affineWidths
}

// unitColumns returns U with each column divided by its norm.
func unitColumns(u *tensor.Tensor) *tensor.Tensor { return u.Div(u.Square().SumKeep(0).Sqrt()) }

// Forward applies the active, unmerged adapters' reflections to the input
// (the last adapter's last reflection first, so that the weight is
// W·H_first·H_second…) and then the base layer.
func (l *HRALayer) Forward(x *tensor.Tensor) *tensor.Tensor {
	applied := l.applied()
	for a := len(applied) - 1; a >= 0; a-- {
		u := unitColumns(l.U[applied[a]])
		for i := u.Dim(1) - 1; i >= 0; i-- {
			ui := u.Slice(1, i, i+1).T() // (1, in)
			x = x.Sub(tensor.Linear(x, ui, nil).Mul(ui).Scale(2))
		}
	}
	return l.Base.Forward(x)
}

// AdapterName implements nn.Adapter.
func (l *HRALayer) AdapterName(param string) string { return adapterOfParam(param, "base_layer") }

// BaseLayer returns the wrapped layer.
func (l *HRALayer) BaseLayer() nn.Layer { return l.Base }

// SetActive activates the named adapters it holds and freezes the others.
func (l *HRALayer) SetActive(names []string) {
	l.setActive(names, func(n string, on bool) { setTrainable(on, l.U[n]) })
}

// DeleteAdapter removes an adapter; it reports whether any remain.
func (l *HRALayer) DeleteAdapter(name string) bool {
	delete(l.U, name)
	return l.remove(name)
}

// unitVectors returns the adapter's unit reflection vectors in float64.
func (l *HRALayer) unitVectors(name string) [][]float64 {
	u := l.U[name]
	in, r := u.Dim(0), u.Dim(1)
	d := u.Data()
	vs := make([][]float64, r)
	for j := range vs {
		v := make([]float64, in)
		norm := 0.0
		for i := range v {
			v[i] = float64(d[i*r+j])
			norm += v[i] * v[i]
		}
		norm = math.Sqrt(norm)
		for i := range v {
			v[i] /= norm
		}
		vs[j] = v
	}
	return vs
}

// reflectRows multiplies each row w of the (out, in) matrix by the
// reflections on the right, w ← w·(I − 2vvᵀ), in the order given.
func reflectRows(w []float64, in int, vs [][]float64) {
	for o := 0; o*in < len(w); o++ {
		row := w[o*in : (o+1)*in]
		for _, v := range vs {
			dot := 0.0
			for i, x := range row {
				dot += x * v[i]
			}
			for i := range row {
				row[i] -= 2 * dot * v[i]
			}
		}
	}
}

// transform replaces the base weight W by W·H (inverse: W·Hᵀ).
func (l *HRALayer) transform(name string, inverse bool) {
	vs := l.unitVectors(name)
	if inverse {
		slices.Reverse(vs)
	}
	w := l.aff.weightOutIn()
	nw := slices.Clone(w)
	reflectRows(nw, l.aff.in, vs)
	for i := range nw {
		nw[i] -= w[i]
	}
	l.aff.addDelta(nw, 1)
}

// Reflection returns the named adapter's orthogonal H (in, in).
func (l *HRALayer) Reflection(name string) (*tensor.Tensor, error) {
	if _, ok := l.U[name]; !ok {
		return nil, fmt.Errorf("peft: the layer holds no HRA adapter %q (it holds %q)", name, l.order)
	}
	in := l.aff.in
	h := make([]float64, in*in)
	for i := 0; i < in; i++ {
		h[i*in+i] = 1
	}
	reflectRows(h, in, l.unitVectors(name))
	return tensor.FromFloat64(h, in, in), nil
}

// Merge replaces the base weight W by W·H for each named adapter in turn.
func (l *HRALayer) Merge(names []string) error {
	for _, n := range l.toMerge(names) {
		l.transform(n, false)
		l.merged = append(l.merged, n)
	}
	return nil
}

// Unmerge undoes the merges, last first: W ← W·Hᵀ.
func (l *HRALayer) Unmerge() error {
	for len(l.merged) > 0 {
		n := l.merged[len(l.merged)-1]
		l.transform(n, true)
		l.merged = l.merged[:len(l.merged)-1]
	}
	return nil
}

// Unwrap returns the base layer, with the active adapters merged when merge
// is set.
func (l *HRALayer) Unwrap(merge bool) (nn.Layer, error) {
	return unwrapMerged(l, l.active, l.Base, merge)
}

// AdapterTensors returns hra_u of the adapter.
func (l *HRALayer) AdapterTensors(adapter string) []nn.NamedTensor {
	u, ok := l.U[adapter]
	if !ok {
		return nil
	}
	return []nn.NamedTensor{{Name: "hra_u", Tensor: u}}
}

// HRAOrthogonality returns the penalty λ·Σ ‖ÛᵀÛ − I‖²_F over the layers
// holding the named HRA adapter, Û being U with unit columns (the
// reflections depend only on the directions): a scalar tensor to add to the
// loss, which pushes the reflection planes towards orthogonality.
func HRAOrthogonality(m *Model, adapter string, lambda float64) (*tensor.Tensor, error) {
	var total *tensor.Tensor
	for _, nm := range m.Tuners() {
		l, ok := nm.Module.(*HRALayer)
		if !ok || l.U[adapter] == nil {
			continue
		}
		u := unitColumns(l.U[adapter])
		p := u.T().MatMul(u).Sub(tensor.Eye(u.Dim(1))).Square().Sum()
		if total == nil {
			total = p
		} else {
			total = total.Add(p)
		}
	}
	if total == nil {
		return nil, fmt.Errorf("peft: no layer holds an HRA adapter %q (the model has %q)", adapter, m.Adapters())
	}
	return total.Scale(float32(lambda)), nil
}

// hraJSON is adapter_config.json for HRA, in PEFT's keys.
type hraJSON struct {
	commonJSON
	R             int             `json:"r"`
	ApplyGS       bool            `json:"apply_GS"`
	TargetModules json.RawMessage `json:"target_modules"`
	InitWeights   bool            `json:"init_weights"`
	Bias          string          `json:"bias"`
	ModulesToSave []string        `json:"modules_to_save"`
}

// MarshalJSON writes the configuration as PEFT's adapter_config.json.
func (c HRAConfig) MarshalJSON() ([]byte, error) {
	tj, err := targetJSON(c.Targets())
	if err != nil {
		return nil, err
	}
	return json.Marshal(hraJSON{commonJSON: newCommonJSON(c.PeftType(), c.TaskType, c.BaseModelNameOrPath),
		R: c.R, TargetModules: tj, InitWeights: !c.RandomInit, Bias: orNone(c.Bias), ModulesToSave: c.ModulesToSave})
}

func parseHRA(data []byte) (Method, error) {
	j := hraJSON{InitWeights: true}
	if err := decodeConfig(data, &j); err != nil {
		return nil, err
	}
	if j.ApplyGS {
		return nil, fmt.Errorf("peft: adapter config: HRA with apply_GS (Gram-Schmidt) is not supported")
	}
	tg, err := parseTargetJSON(j.TargetModules)
	if err != nil {
		return nil, err
	}
	c := HRAConfig{R: j.R, TargetModules: tg.Modules, TargetRegex: tg.Regex, RandomInit: !j.InitWeights, Bias: j.Bias, ModulesToSave: j.ModulesToSave}
	c.TaskType, c.BaseModelNameOrPath = j.recorded()
	return c, nil
}
