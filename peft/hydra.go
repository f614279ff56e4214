package peft

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// HydraConfig configures a Hydra adapter (Kim et al. 2023): a LoRA branch
// parallel to the layer plus a sequential low-rank branch that re-mixes the
// frozen layer's output,
//
//	y = base(x) + s·B_p·A_p·dropout(x) + s·B_s·A_s·base(x),
//
// with A_p (r, in), B_p (out, r), A_s (r, out), B_s (out, r) and base(x) =
// W·x + b. Both branches share the rank, alpha and scaling s of the embedded
// LoraConfig (R, Alpha, UseRSLoRA, RankPattern, AlphaPattern, Dropout on the
// parallel branch's input, targets, ModulesToSave, Init InitKaiming or
// InitGaussian for both A's); B_p = B_s = 0 at the start. UseDoRA, UseMixer
// and InitPiSSA are refused. PEFT has no Hydra: graft saves it with
// peft_type "HYDRA" and LoRA's other adapter_config.json fields, the
// parallel branch under LoRA's names (lora_A.weight, lora_B.weight) and the
// sequential one as lora_seq_A.weight and lora_seq_B.weight.
type HydraConfig struct {
	LoraConfig
}

// NewHydraConfig returns a Hydra configuration with PEFT's LoRA defaults and
// the given rank, alpha and target modules.
func NewHydraConfig(r int, alpha float64, targets ...string) HydraConfig {
	return HydraConfig{NewLoraConfig(r, alpha, targets...)}
}

// PeftType returns "HYDRA" (graft's own; PEFT has no Hydra).
func (c HydraConfig) PeftType() string { return "HYDRA" }

// Validate checks the LoRA settings and refuses those Hydra does not take.
func (c HydraConfig) Validate() error {
	if c.UseDoRA || c.UseMixer || c.Init == InitPiSSA {
		return fmt.Errorf("peft: Hydra takes neither DoRA, a MoSLoRA mixer nor PiSSA initialisation (use_dora %v, use_mixer %v, init %q)", c.UseDoRA, c.UseMixer, c.Init)
	}
	return c.LoraConfig.Validate()
}

// MarshalJSON writes LoRA's adapter_config.json fields with peft_type
// "HYDRA".
func (c HydraConfig) MarshalJSON() ([]byte, error) {
	data, err := c.LoraConfig.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var j map[string]any
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, err
	}
	j["peft_type"] = c.PeftType()
	return json.Marshal(j)
}

// parseHydra reads a Hydra adapter_config.json.
func parseHydra(data []byte) (Method, error) {
	c, err := parseLora(data)
	if err != nil {
		return nil, err
	}
	return HydraConfig{c}, nil
}

// Prepare checks that the module can take a Hydra adapter and returns the
// plan that adds it (see Method): LoRA's plan for the parallel branch plus
// the sequential branch's factors.
func (c HydraConfig) Prepare(name string, current nn.Layer, adapter string, index int) (*Plan, error) {
	existing, _ := current.(*HydraLayer)
	if t, ok := current.(Tuner); ok && existing == nil {
		return nil, fmt.Errorf("peft: module %q already holds adapters of another method (%T)", name, t)
	}
	var inner nn.Layer = current
	if existing != nil {
		inner = existing.LoraLayer
	}
	plan, err := c.LoraConfig.Prepare(name, inner, adapter, index)
	if err != nil {
		return nil, err
	}
	r := plan.Shapes["lora_A.weight"][0]
	out := plan.Shapes["lora_B.weight"][0]
	plan.Shapes["lora_seq_A.weight"] = []int{r, out}
	plan.Shapes["lora_seq_B.weight"] = []int{out, r}
	rng := tensor.NewRNG(c.Seed*1_000_003 + uint64(index) + 1<<40)
	applyLora := plan.Apply
	plan.Apply = func() nn.Layer {
		l := applyLora().(*LoraLayer)
		h := existing
		if h == nil {
			h = &HydraLayer{LoraLayer: l, SeqA: map[string]*nn.Linear{}, SeqB: map[string]*nn.Linear{}, mergedDeltas: map[string]hydraDelta{}}
		}
		a := &nn.Linear{Weight: tensor.Zeros(r, out)}
		if c.Init == InitGaussian {
			nn.NormalInit(a.Weight, rng, 0, 1/float64(r))
		} else {
			nn.KaimingUniform(a.Weight, rng, math.Sqrt(5), "fan_in", "leaky_relu")
		}
		b := &nn.Linear{Weight: tensor.Zeros(out, r)}
		a.Weight.SetRequiresGrad(true)
		b.Weight.SetRequiresGrad(true)
		h.SeqA[adapter], h.SeqB[adapter] = a, b
		return h
	}
	return plan, nil
}

// hydraDelta is a merged Hydra adapter's change to the base weight (out, in)
// and bias (out).
type hydraDelta struct{ weight, bias []float64 }

// HydraLayer is an affine layer with Hydra adapters: a LoraLayer (the base
// layer and the parallel branches, named as LoRA's) plus the sequential
// branches lora_seq_A.<adapter>.weight (r, out) and
// lora_seq_B.<adapter>.weight (out, r). Forward returns base(x) + Σ
// [s·B_p·A_p·dropout(x) + s·B_s·A_s·base(x)] over the active, unmerged
// adapters, base(x) the base layer's output (bias included; with merged
// adapters in it, when some are merged).
type HydraLayer struct {
	*LoraLayer
	SeqA map[string]*nn.Linear `nn:"lora_seq_A"`
	SeqB map[string]*nn.Linear `nn:"lora_seq_B"`

	mergedDeltas map[string]hydraDelta
}

// Forward applies the base layer and the active adapters that are not merged.
func (h *HydraLayer) Forward(x *tensor.Tensor) *tensor.Tensor {
	base := h.Base.Forward(x)
	if h.disabled {
		return base
	}
	y := base
	for _, name := range h.active {
		if slices.Contains(h.merged, name) {
			continue
		}
		in := x
		if d := h.LoraDropout[name]; d != nil {
			in = d.Forward(in)
		}
		s := float32(h.Scaling[name])
		y = y.Add(h.LoraB[name].Forward(h.LoraA[name].Forward(in)).Scale(s))
		y = y.Add(h.SeqB[name].Forward(h.SeqA[name].Forward(base)).Scale(s))
	}
	return y
}

// SetActive activates the named adapters it holds and freezes the others.
func (h *HydraLayer) SetActive(names []string) {
	h.LoraLayer.SetActive(names)
	for _, n := range h.order {
		on := slices.Contains(names, n)
		h.SeqA[n].Weight.SetRequiresGrad(on)
		h.SeqB[n].Weight.SetRequiresGrad(on)
	}
}

// DeleteAdapter removes an adapter; it reports whether any remain.
func (h *HydraLayer) DeleteAdapter(name string) bool {
	delete(h.SeqA, name)
	delete(h.SeqB, name)
	return h.LoraLayer.DeleteAdapter(name)
}

// AdapterTensors returns lora_A.weight, lora_B.weight, lora_seq_A.weight
// and lora_seq_B.weight of the adapter.
func (h *HydraLayer) AdapterTensors(adapter string) []nn.NamedTensor {
	ts := h.LoraLayer.AdapterTensors(adapter)
	if ts == nil {
		return nil
	}
	return append(ts, nn.NamedTensor{Name: "lora_seq_A.weight", Tensor: h.SeqA[adapter].Weight},
		nn.NamedTensor{Name: "lora_seq_B.weight", Tensor: h.SeqB[adapter].Weight})
}

// bias returns the base layer's bias, or nil.
func (h *HydraLayer) bias() *tensor.Tensor {
	for _, p := range nn.NamedParameters(h.Base) {
		if p.Name == "bias" && p.Tensor.Dims() == 1 && p.Tensor.Dim(0) == h.aff.out {
			return p.Tensor
		}
	}
	return nil
}

// unmergedBase returns the base weight (out, in) and bias (out; nil without
// one) with the merged adapters taken out, in float64.
func (h *HydraLayer) unmergedBase() (w, b []float64) {
	w = h.aff.weightOutIn()
	if bt := h.bias(); bt != nil {
		b = toF64(bt.Data())
	}
	for _, n := range h.merged {
		d := h.mergedDeltas[n]
		for i, v := range d.weight {
			w[i] -= v
		}
		for i := range b {
			b[i] -= d.bias[i]
		}
	}
	return w, b
}

// hydraDelta returns the named adapter's change to the unmerged weight and
// bias: ΔW = s·B_p·A_p + s·B_s·A_s·W and Δb = s·B_s·A_s·b, so that
// (W + ΔW)·x + b + Δb is the adapted output exactly.
func (h *HydraLayer) hydraDelta(name string) hydraDelta {
	w, b := h.unmergedBase()
	out, in := h.aff.out, h.aff.in
	sa := toF64(h.SeqA[name].Weight.Data())
	r := len(sa) / out
	bs := toF64(h.SeqB[name].Weight.Data())
	s := h.Scaling[name]
	// A_s·W (r, in), then s·B_s·(A_s·W) plus the parallel branch's s·B_p·A_p.
	aw := lowRank(w, sa, r, in, out, 1)
	dw := lowRank(aw, bs, out, in, r, s)
	for i, v := range h.delta(name) {
		dw[i] += v
	}
	var db []float64
	if b != nil { // s·B_s·(A_s·b)
		ab := make([]float64, r)
		for k := 0; k < r; k++ {
			for o := 0; o < out; o++ {
				ab[k] += sa[k*out+o] * b[o]
			}
		}
		db = lowRank(ab, bs, out, 1, r, s)
	}
	return hydraDelta{weight: dw, bias: db}
}

// Merge adds the named adapters' changes to the base weight and bias.
func (h *HydraLayer) Merge(names []string) error {
	for _, n := range names {
		if _, ok := h.SeqA[n]; !ok || slices.Contains(h.merged, n) {
			continue
		}
		d := h.hydraDelta(n)
		h.aff.addDelta(d.weight, 1)
		if bt := h.bias(); bt != nil {
			addTo(bt.Data(), d.bias, 1)
		}
		h.mergedDeltas[n] = d
		h.merged = append(h.merged, n)
	}
	return nil
}

// Unmerge subtracts every merged adapter's change, last merged first.
func (h *HydraLayer) Unmerge() error {
	for len(h.merged) > 0 {
		n := h.merged[len(h.merged)-1]
		d := h.mergedDeltas[n]
		h.aff.addDelta(d.weight, -1)
		if bt := h.bias(); bt != nil {
			addTo(bt.Data(), d.bias, -1)
		}
		delete(h.mergedDeltas, n)
		h.merged = h.merged[:len(h.merged)-1]
	}
	return nil
}

func addTo(dst []float32, d []float64, sign float64) {
	for i, v := range d {
		dst[i] = float32(float64(dst[i]) + sign*v)
	}
}

// Unwrap returns the base layer, with the active adapters merged when merge
// is set.
func (h *HydraLayer) Unwrap(merge bool) (nn.Layer, error) {
	if merge {
		if err := h.Merge(h.active); err != nil {
			return nil, err
		}
	}
	return h.Base, nil
}

// DeltaWeight returns the named adapter's change to the weight,
// s·B_p·A_p + s·B_s·A_s·W (W without merged adapters), in the base weight's
// layout; the bias changes by s·B_s·A_s·b besides.
func (h *HydraLayer) DeltaWeight(name string) (*tensor.Tensor, error) {
	if _, ok := h.SeqA[name]; !ok {
		return nil, fmt.Errorf("peft: the layer holds no Hydra adapter %q (it holds %q)", name, h.order)
	}
	return h.aff.deltaTensor(h.hydraDelta(name).weight), nil
}

// deltaTensor returns delta (out, in) as a tensor in the layer's weight
// layout.
func (a affine) deltaTensor(delta []float64) *tensor.Tensor {
	t := tensor.Zeros(a.weight.Shape()...)
	affine{weight: t, in: a.in, out: a.out, fanInFanOut: a.fanInFanOut}.addDelta(delta, 1)
	return t
}
