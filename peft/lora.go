package peft

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// LoRA initialisations of A and B (LoraConfig.Init).
const (
	InitKaiming  = "kaiming"  // A Kaiming-uniform (a = √5), B = 0: PEFT's default (init_lora_weights true)
	InitGaussian = "gaussian" // A ~ N(0, 1/r), B = 0
	InitPiSSA    = "pissa"    // A, B from the top-r singular triplets of W; the base keeps the residual
)

// LoraConfig configures a LoRA adapter: y = W₀x + s·B·A·dropout(x) with A
// (r, in), B (out, r) and s = Alpha/R (Alpha/√R with UseRSLoRA). Field names
// follow PEFT's LoraConfig; NewLoraConfig fills PEFT's defaults.
type LoraConfig struct {
	R       int     // rank r (PEFT's default 8); 1 ≤ r ≤ min(in, out)
	Alpha   float64 // lora_alpha (PEFT's default 8); > 0
	Dropout float64 // lora_dropout on the adapter's input, in [0, 1)
	// TargetModules lists module names matched exactly or as a dotted suffix,
	// or is {"all-linear"}; TargetRegex is instead a regular expression over
	// the whole name. Exactly one is set.
	TargetModules []string
	TargetRegex   string
	UseRSLoRA     bool // s = Alpha/√R instead of Alpha/R
	// UseDoRA adds DoRA's magnitude vector (see LoraLayer.Magnitude).
	UseDoRA bool
	// UseMixer makes the adapter MoSLoRA's: ΔW = s·B·M·A with a trainable
	// r×r mixer M between the factors (see LoraLayer.Mixer).
	UseMixer bool
	Init     string // InitKaiming (""), InitGaussian or InitPiSSA
	// RankPattern and AlphaPattern override R and Alpha for modules whose
	// name (or a dotted suffix of it) a key, read as a regular expression,
	// matches; the longest matching key wins.
	RankPattern  map[string]int
	AlphaPattern map[string]float64
	// ModulesToSave are modules (exact name or dotted suffix) trained whole
	// and saved with the adapter, such as a classifier head.
	ModulesToSave []string
	Bias          string // "none" ("" too): LoRA adds no bias
	// TaskType and BaseModelNameOrPath are recorded in adapter_config.json.
	TaskType            string
	BaseModelNameOrPath string
	Seed                uint64 // seeds the initialisation and the dropout
}

// NewLoraConfig returns PEFT's defaults with the given rank, alpha and
// target modules (exact names or dotted suffixes, or "all-linear").
func NewLoraConfig(r int, alpha float64, targets ...string) LoraConfig {
	return LoraConfig{R: r, Alpha: alpha, TargetModules: targets, Bias: "none"}
}

// PeftType returns "LORA".
func (c LoraConfig) PeftType() string { return "LORA" }

// Targets returns the modules the adapter targets.
func (c LoraConfig) Targets() Target {
	return Target{Modules: c.TargetModules, Regex: c.TargetRegex}
}

// SavedModules returns ModulesToSave.
func (c LoraConfig) SavedModules() []string { return c.ModulesToSave }

// Validate checks the settings that do not depend on a module.
func (c LoraConfig) Validate() error {
	if _, err := c.Targets().compile(); err != nil {
		return err
	}
	switch c.Init {
	case "", InitKaiming, InitGaussian, InitPiSSA:
	default:
		return fmt.Errorf("peft: LoRA init %q: want %q, %q or %q", c.Init, InitKaiming, InitGaussian, InitPiSSA)
	}
	if c.Bias != "" && c.Bias != "none" {
		return fmt.Errorf("peft: LoRA bias %q: only \"none\" is supported", c.Bias)
	}
	if c.Dropout < 0 || c.Dropout >= 1 {
		return fmt.Errorf("peft: LoRA dropout %g: want a probability in [0, 1)", c.Dropout)
	}
	for k := range c.RankPattern {
		if _, err := patternKey([]string{k}, ""); err != nil {
			return err
		}
	}
	for k := range c.AlphaPattern {
		if _, err := patternKey([]string{k}, ""); err != nil {
			return err
		}
	}
	return nil
}

// rankAlpha returns the rank and alpha for the module called name.
func (c LoraConfig) rankAlpha(name string) (int, float64, error) {
	r, alpha := c.R, c.Alpha
	if k, err := patternKey(mapKeys(c.RankPattern), name); err != nil {
		return 0, 0, err
	} else if k != "" {
		r = c.RankPattern[k]
	}
	if k, err := patternKey(mapKeys(c.AlphaPattern), name); err != nil {
		return 0, 0, err
	} else if k != "" {
		alpha = c.AlphaPattern[k]
	}
	return r, alpha, nil
}

func mapKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Scaling returns s for the given rank and alpha: alpha/r, or alpha/√r with
// UseRSLoRA.
func (c LoraConfig) Scaling(r int, alpha float64) float64 {
	if c.UseRSLoRA {
		return alpha / math.Sqrt(float64(r))
	}
	return alpha / float64(r)
}

// Prepare checks that the module can take a LoRA adapter of this
// configuration and returns the plan that adds it (see Method).
func (c LoraConfig) Prepare(name string, current nn.Layer, adapter string, index int) (*Plan, error) {
	existing, _ := current.(*LoraLayer)
	if t, ok := current.(Tuner); ok && existing == nil {
		return nil, fmt.Errorf("peft: module %q already holds adapters of another method (%T)", name, t)
	}
	base := current
	if existing != nil {
		base = existing.Base
		if slices.Contains(existing.order, adapter) {
			return nil, fmt.Errorf("peft: module %q already holds an adapter named %q", name, adapter)
		}
	}
	aff, err := affineOf(name, base)
	if err != nil {
		return nil, err
	}
	r, alpha, err := c.rankAlpha(name)
	if err != nil {
		return nil, err
	}
	if r < 1 || r > min(aff.in, aff.out) {
		return nil, fmt.Errorf("peft: module %q (%d in, %d out): LoRA rank %d must be between 1 and %d", name, aff.in, aff.out, r, min(aff.in, aff.out))
	}
	if !(alpha > 0) {
		return nil, fmt.Errorf("peft: module %q: lora_alpha %g must be positive", name, alpha)
	}
	s := c.Scaling(r, alpha)
	var pissaA, pissaB, residual []float64
	if c.Init == InitPiSSA {
		if existing != nil && len(existing.merged) > 0 {
			return nil, fmt.Errorf("peft: module %q: PiSSA initialisation needs the base weight without merged adapters", name)
		}
		if pissaA, pissaB, residual, err = pissa(aff, r, s); err != nil {
			return nil, fmt.Errorf("peft: module %q: %v", name, err)
		}
	}
	seed := c.Seed*1_000_003 + uint64(index)
	shapes := map[string][]int{"lora_A.weight": {r, aff.in}, "lora_B.weight": {aff.out, r}}
	if c.UseMixer {
		shapes[mixerKey] = []int{r, r}
	}
	if c.UseDoRA {
		shapes[magnitudeKey] = []int{aff.out}
	}
	return &Plan{
		Shapes: shapes,
		Apply: func() nn.Layer {
			l := existing
			if l == nil {
				l = newLoraLayer(base, aff)
			}
			rng := tensor.NewRNG(seed)
			a := &nn.Linear{Weight: tensor.Zeros(r, aff.in)}
			b := &nn.Linear{Weight: tensor.Zeros(aff.out, r)}
			switch c.Init {
			case "", InitKaiming:
				nn.KaimingUniform(a.Weight, rng, math.Sqrt(5), "fan_in", "leaky_relu")
			case InitGaussian:
				nn.NormalInit(a.Weight, rng, 0, 1/float64(r))
			case InitPiSSA:
				copy64(a.Weight.Data(), pissaA)
				copy64(b.Weight.Data(), pissaB)
				aff.addDelta(residual, -1)
			}
			a.Weight.SetRequiresGrad(true)
			b.Weight.SetRequiresGrad(true)
			l.LoraA[adapter], l.LoraB[adapter] = a, b
			if c.Dropout > 0 {
				l.LoraDropout[adapter] = nn.NewDropout(float32(c.Dropout), seed+1)
			}
			l.Scaling[adapter] = s
			if c.UseMixer {
				l.Mixer[adapter] = newMixer(r, rng)
			}
			if c.UseDoRA {
				l.initMagnitude(adapter)
			}
			l.order = append(l.order, adapter)
			return l
		},
	}, nil
}

func copy64(dst []float32, src []float64) {
	for i, v := range src {
		dst[i] = float32(v)
	}
}

// pissa returns PiSSA's A (r, in) and B (out, r), scaled so that s·B·A is
// the rank-r truncated SVD of W, and that product (out, in), which is taken
// out of the base weight.
func pissa(aff affine, r int, s float64) (a, b, delta []float64, err error) {
	w := mat.NewDense(aff.out, aff.in, aff.weightOutIn())
	var svd mat.SVD
	if !svd.Factorize(w, mat.SVDThin) {
		return nil, nil, nil, fmt.Errorf("PiSSA: the SVD of the (%d, %d) weight did not converge", aff.out, aff.in)
	}
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	sv := svd.Values(nil)
	a = make([]float64, r*aff.in)
	b = make([]float64, aff.out*r)
	for k := 0; k < r; k++ {
		root := math.Sqrt(sv[k] / s)
		for i := 0; i < aff.in; i++ {
			a[k*aff.in+i] = root * v.At(i, k)
		}
		for o := 0; o < aff.out; o++ {
			b[o*r+k] = root * u.At(o, k)
		}
	}
	return a, b, lowRank(a, b, aff.out, aff.in, r, s), nil
}

// lowRank returns s·B·A (out, in) in float64.
func lowRank(a, b []float64, out, in, r int, s float64) []float64 {
	d := make([]float64, out*in)
	for o := 0; o < out; o++ {
		row := d[o*in : (o+1)*in]
		for k := 0; k < r; k++ {
			f := s * b[o*r+k]
			for i, av := range a[k*in : (k+1)*in] {
				row[i] += f * av
			}
		}
	}
	return d
}

// LoraLayer is an affine layer (nn.Linear, gpt2.Conv1D) with LoRA adapters:
// Forward returns base(x) + Σ s·B·A·dropout(x) over the active, unmerged
// adapters. Its parameters are named as PEFT's: base_layer.weight,
// lora_A.<adapter>.weight, lora_B.<adapter>.weight.
//
// A MoSLoRA adapter (LoraConfig.UseMixer) adds the r×r mixer
// lora_AB.<adapter>.weight: its term is s·B·M·A·dropout(x). A DoRA adapter
// (LoraConfig.UseDoRA) adds lora_magnitude_vector.<adapter>.weight, m: its
// term makes the output b + g⊙(W + ΔW)·x, g = m/‖W + ΔW‖ per output
// feature with the norm detached (see doraTerm).
type LoraLayer struct {
	Base        nn.Layer                  `nn:"base_layer"`
	LoraDropout map[string]*nn.Dropout    `nn:"lora_dropout"`
	LoraA       map[string]*nn.Linear     `nn:"lora_A"`
	LoraB       map[string]*nn.Linear     `nn:"lora_B"`
	Mixer       map[string]*nn.Linear     `nn:"lora_AB"`               // MoSLoRA's M (r, r)
	Magnitude   map[string]*DoraMagnitude `nn:"lora_magnitude_vector"` // DoRA's m
	Scaling     map[string]float64        `nn:"-"`                     // s per adapter
	doraNorms   map[string][]float64      // ‖W + ΔW‖ of merged DoRA adapters

	aff      affine
	order    []string // adapters in the order added
	active   []string
	disabled bool
	merged   []string
	// weigh, when set (mixed batches, X-LoRA), replaces the active set: it
	// names the adapters to apply to x and gives each term's weight,
	// broadcastable to the output.
	weigh func(x *tensor.Tensor) ([]string, []*tensor.Tensor)
}

func newLoraLayer(base nn.Layer, aff affine) *LoraLayer {
	return &LoraLayer{Base: base, LoraDropout: map[string]*nn.Dropout{}, LoraA: map[string]*nn.Linear{},
		LoraB: map[string]*nn.Linear{}, Mixer: map[string]*nn.Linear{}, Magnitude: map[string]*DoraMagnitude{},
		Scaling: map[string]float64{}, doraNorms: map[string][]float64{}, aff: aff}
}

// Forward applies the base layer and the active adapters that are not merged
// (or, while a mixed batch or an X-LoRA gate is set on the layer, the
// adapters it weighs, each term times its weight).
func (l *LoraLayer) Forward(x *tensor.Tensor) *tensor.Tensor {
	y := l.Base.Forward(x)
	if l.disabled {
		return y
	}
	if l.weigh != nil {
		names, ws := l.weigh(x)
		for i, name := range names {
			y = y.Add(l.term(name, x).Mul(ws[i]))
		}
		return y
	}
	for _, name := range l.active {
		if slices.Contains(l.merged, name) {
			continue
		}
		y = y.Add(l.term(name, x))
	}
	return y
}

// term returns the named adapter's additive contribution to the output:
// s·B·A·dropout(x) (with MoSLoRA's mixer, or DoRA's rescaled form).
func (l *LoraLayer) term(name string, x *tensor.Tensor) *tensor.Tensor {
	h := x
	if d := l.LoraDropout[name]; d != nil {
		h = d.Forward(h)
	}
	z := l.LoraA[name].Forward(h)
	if mx := l.Mixer[name]; mx != nil {
		z = mx.Forward(z)
	}
	z = l.LoraB[name].Forward(z)
	if l.Magnitude[name] != nil {
		return l.doraTerm(name, h, z)
	}
	return z.Scale(float32(l.Scaling[name]))
}

// AdapterName implements nn.Adapter: "lora_A.<name>.weight" belongs to
// adapter name, base_layer's parameters to none.
func (l *LoraLayer) AdapterName(param string) string { return adapterOfParam(param, "base_layer") }

// BaseLayer returns the wrapped layer.
func (l *LoraLayer) BaseLayer() nn.Layer { return l.Base }

// AdapterNames lists the adapters in the order added.
func (l *LoraLayer) AdapterNames() []string { return slices.Clone(l.order) }

// SetActive activates the named adapters it holds and freezes the others.
func (l *LoraLayer) SetActive(names []string) {
	l.active = l.active[:0]
	for _, n := range l.order {
		on := slices.Contains(names, n)
		if on {
			l.active = append(l.active, n)
		}
		for _, t := range l.AdapterTensors(n) {
			t.Tensor.SetRequiresGrad(on)
		}
	}
}

// SetEnabled switches the adapters on or off.
func (l *LoraLayer) SetEnabled(on bool) { l.disabled = !on }

// DeleteAdapter removes an adapter; it reports whether any remain.
func (l *LoraLayer) DeleteAdapter(name string) bool {
	delete(l.LoraA, name)
	delete(l.LoraB, name)
	delete(l.LoraDropout, name)
	delete(l.Mixer, name)
	delete(l.Magnitude, name)
	delete(l.Scaling, name)
	l.order = slices.DeleteFunc(l.order, func(n string) bool { return n == name })
	l.active = slices.DeleteFunc(l.active, func(n string) bool { return n == name })
	return len(l.order) > 0
}

// Delta returns the adapter's weight update s·B·A as (out, in) float64.
func (l *LoraLayer) delta(name string) []float64 {
	a, b := l.LoraA[name].Weight, l.LoraB[name].Weight
	r := a.Dim(0)
	bm := toF64(b.Data())
	if mx := l.Mixer[name]; mx != nil {
		bm = mixed(bm, toF64(mx.Weight.Data()), l.aff.out, r)
	}
	return lowRank(toF64(a.Data()), bm, l.aff.out, l.aff.in, r, l.Scaling[name])
}

// DeltaWeight returns the named adapter's update s·B·A (s·B·M·A for
// MoSLoRA; for DoRA the low-rank part, before the magnitude's rescaling) in
// the base weight's layout ((out, in), or (in, out) for fan_in_fan_out
// layers).
func (l *LoraLayer) DeltaWeight(name string) (*tensor.Tensor, error) {
	if _, ok := l.LoraA[name]; !ok {
		return nil, fmt.Errorf("peft: the layer holds no adapter %q (it holds %q)", name, l.order)
	}
	return l.aff.deltaTensor(l.delta(name)), nil
}

func toF64(x []float32) []float64 {
	d := make([]float64, len(x))
	for i, v := range x {
		d[i] = float64(v)
	}
	return d
}

// Merge adds the named adapters' updates to the base weight.
func (l *LoraLayer) Merge(names []string) error {
	for _, n := range names {
		if _, ok := l.LoraA[n]; !ok || slices.Contains(l.merged, n) {
			continue
		}
		if l.Magnitude[n] != nil {
			l.doraMerge(n)
		} else {
			l.aff.addDelta(l.delta(n), 1)
		}
		l.merged = append(l.merged, n)
	}
	return nil
}

// Unmerge subtracts every merged adapter's update from the base weight.
func (l *LoraLayer) Unmerge() error {
	for len(l.merged) > 0 {
		n := l.merged[len(l.merged)-1]
		if l.Magnitude[n] != nil {
			l.doraUnmerge(n)
		} else {
			l.aff.addDelta(l.delta(n), -1)
		}
		l.merged = l.merged[:len(l.merged)-1]
	}
	return nil
}

// MergedAdapters lists the merged adapters.
func (l *LoraLayer) MergedAdapters() []string { return slices.Clone(l.merged) }

// Unwrap returns the base layer, with the active adapters merged when merge
// is set.
func (l *LoraLayer) Unwrap(merge bool) (nn.Layer, error) {
	if merge {
		if err := l.Merge(l.active); err != nil {
			return nil, err
		}
	}
	return l.Base, nil
}

// AdapterTensors returns lora_A.weight and lora_B.weight of the adapter,
// and lora_AB.weight (MoSLoRA) and lora_magnitude_vector (DoRA) where it has
// them.
func (l *LoraLayer) AdapterTensors(adapter string) []nn.NamedTensor {
	a, ok := l.LoraA[adapter]
	if !ok {
		return nil
	}
	ts := []nn.NamedTensor{{Name: "lora_A.weight", Tensor: a.Weight}, {Name: "lora_B.weight", Tensor: l.LoraB[adapter].Weight}}
	if mx := l.Mixer[adapter]; mx != nil {
		ts = append(ts, nn.NamedTensor{Name: mixerKey, Tensor: mx.Weight})
	}
	if mg := l.Magnitude[adapter]; mg != nil {
		ts = append(ts, nn.NamedTensor{Name: magnitudeKey, Tensor: mg.Weight})
	}
	return ts
}

// InFeatures returns the base layer's input width.
func (l *LoraLayer) InFeatures() int { return l.aff.in }

// OutFeatures returns the base layer's output width.
func (l *LoraLayer) OutFeatures() int { return l.aff.out }
