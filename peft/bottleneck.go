package peft

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// Placements of a bottleneck adapter (BottleneckConfig.Placement).
const (
	// PlacementSequential puts the adapter after the target layer's output:
	// y = h + s·W_up σ(W_down h + b_down) + s·b_up with h = f(x).
	PlacementSequential = "sequential"
	// PlacementParallel runs the adapter beside the target layer on its
	// input: y = f(x) + s·(W_up σ(W_down x + b_down) + b_up).
	PlacementParallel = "parallel"
)

// bottleneckActivations are the non-linearities a bottleneck adapter takes:
// nn.Activate's names and AdapterHub's "swish" (SiLU).
var bottleneckActivations = []string{"relu", "leaky_relu", "gelu", "gelu_tanh", "sigmoid", "tanh", "softplus", "silu", "swish", "identity"}

// BottleneckConfig configures a bottleneck adapter (Houlsby et al. 2019,
// Pfeiffer et al. 2021, in AdapterHub's conventions): a down projection to
// d/ReductionFactor units, a non-linearity and an up projection back,
// added to the target layer's output, sequentially (after the layer, on its
// output) or in parallel (beside the layer, on its input), scaled by s.
// W_down is Kaiming-uniform (a = √5) and W_up and both biases start at zero,
// so the adapted model starts equal to the base (InitStd > 0 draws W_up from
// N(0, InitStd²) instead, Houlsby's near-identity start).
//
// The adapter is not part of Hugging Face PEFT; graft saves it in the same
// layout with peft_type "BOTTLENECK": adapter_config.json holds peft_type,
// target_modules, reduction_factor, non_linearity, placement, scaling,
// learned_scaling, init_std, modules_to_save, task_type,
// base_model_name_or_path and inference_mode; adapter_model.safetensors holds
// "base_model.model.<module>.adapter_down.weight" (bottleneck, d_in),
// ".adapter_down.bias", ".adapter_up.weight" (d_out, bottleneck),
// ".adapter_up.bias" and, with learned scaling, ".adapter_scale" (1).
//
// A bottleneck adapter is nonlinear and cannot be merged into the base
// weights: Merge and MergeAndUnload report an error naming the method.
type BottleneckConfig struct {
	// TargetModules lists module names matched exactly or as a dotted suffix;
	// TargetRegex is instead a regular expression over the whole name.
	// Exactly one is set. Targets must report their widths (nn.Linear,
	// gpt2.Conv1D).
	TargetModules []string
	TargetRegex   string
	// ReductionFactor divides the adapter's input width (the layer's output
	// width when sequential, its input width when parallel) to give the
	// bottleneck width, rounded down; 0 means AdapterHub's 16.
	ReductionFactor int
	// NonLinearity is σ: "relu" ("" too), "swish", "gelu", "tanh", … (see
	// nn.Activate).
	NonLinearity string
	// Placement is PlacementSequential ("" too) or PlacementParallel.
	Placement string
	// Scaling is s (0 means 1); with LearnedScaling s is a trained scalar
	// starting at Scaling (scaled parallel adapters).
	Scaling        float64
	LearnedScaling bool
	// InitStd, when positive, draws W_up from N(0, InitStd²) instead of
	// zeros.
	InitStd float64
	// ModulesToSave are modules trained whole and saved with the adapter.
	ModulesToSave []string
	// TaskType and BaseModelNameOrPath are recorded in adapter_config.json.
	TaskType            string
	BaseModelNameOrPath string
	Seed                uint64 // seeds the initialisation
}

// HoulsbyConfig returns AdapterHub's Houlsby set-up (DoubleSeqBnConfig) for
// an architecture's module names, arch "bert" or "gpt2": sequential
// adapters after each block's attention output projection and after its
// feed-forward output projection (BERT attention.output.dense and
// output.dense, GPT-2 attn.c_proj and mlp.c_proj), reduction factor 16,
// swish.
func HoulsbyConfig(arch string) (BottleneckConfig, error) {
	c := BottleneckConfig{ReductionFactor: 16, NonLinearity: "swish", Placement: PlacementSequential}
	switch arch {
	case "bert":
		c.TargetModules = []string{"attention.output.dense", "output.dense"}
	case "gpt2":
		c.TargetModules = []string{"attn.c_proj", "mlp.c_proj"}
	default:
		return c, fmt.Errorf("peft: Houlsby adapters: architecture %q: want \"bert\" or \"gpt2\"", arch)
	}
	return c, nil
}

// PfeifferConfig returns AdapterHub's Pfeiffer set-up (SeqBnConfig) for an
// architecture's module names, arch "bert" or "gpt2": one sequential
// adapter after each block's feed-forward output projection (BERT
// layer.<i>.output.dense, leaving attention.output.dense alone; GPT-2
// mlp.c_proj), reduction factor 16, ReLU.
func PfeifferConfig(arch string) (BottleneckConfig, error) {
	c := BottleneckConfig{ReductionFactor: 16, NonLinearity: "relu", Placement: PlacementSequential}
	switch arch {
	case "bert":
		c.TargetRegex = `(?:.*\.)?layer\.\d+\.output\.dense`
	case "gpt2":
		c.TargetModules = []string{"mlp.c_proj"}
	default:
		return c, fmt.Errorf("peft: Pfeiffer adapters: architecture %q: want \"bert\" or \"gpt2\"", arch)
	}
	return c, nil
}

// PeftType returns "BOTTLENECK" (graft's own; PEFT has no such method).
func (c BottleneckConfig) PeftType() string { return "BOTTLENECK" }

// Targets returns the modules the adapter targets.
func (c BottleneckConfig) Targets() Target {
	return Target{Modules: c.TargetModules, Regex: c.TargetRegex}
}

// SavedModules returns ModulesToSave.
func (c BottleneckConfig) SavedModules() []string { return c.ModulesToSave }

func (c BottleneckConfig) reduction() int {
	if c.ReductionFactor == 0 {
		return 16
	}
	return c.ReductionFactor
}

func (c BottleneckConfig) placement() string {
	if c.Placement == "" {
		return PlacementSequential
	}
	return c.Placement
}

func (c BottleneckConfig) activation() string {
	switch c.NonLinearity {
	case "":
		return "relu"
	case "swish":
		return "silu"
	}
	return c.NonLinearity
}

func (c BottleneckConfig) scaling() float64 { return orDefault(c.Scaling, 1) }

// Validate checks the settings that do not depend on a module.
func (c BottleneckConfig) Validate() error {
	if _, err := c.Targets().compile(); err != nil {
		return err
	}
	if c.ReductionFactor < 0 {
		return fmt.Errorf("peft: bottleneck reduction factor %d must be positive", c.ReductionFactor)
	}
	if c.NonLinearity != "" && !slices.Contains(bottleneckActivations, c.NonLinearity) {
		return fmt.Errorf("peft: bottleneck non-linearity %q: want one of %q", c.NonLinearity, bottleneckActivations)
	}
	if p := c.placement(); p != PlacementSequential && p != PlacementParallel {
		return fmt.Errorf("peft: bottleneck placement %q: want %q or %q", c.Placement, PlacementSequential, PlacementParallel)
	}
	if math.IsNaN(c.Scaling) || math.IsInf(c.Scaling, 0) || c.InitStd < 0 || math.IsNaN(c.InitStd) {
		return fmt.Errorf("peft: bottleneck scaling %g and init std %g must be finite, the std not negative", c.Scaling, c.InitStd)
	}
	return nil
}

// widths returns the adapter's input and output widths and its bottleneck
// width for a layer with the given widths.
func (c BottleneckConfig) widths(name string, in, out int) (int, int, int, error) {
	dIn := out
	if c.placement() == PlacementParallel {
		dIn = in
	}
	b := dIn / c.reduction()
	if b < 1 {
		return 0, 0, 0, fmt.Errorf("peft: module %q: reduction factor %d leaves no bottleneck unit for its %d features", name, c.reduction(), dIn)
	}
	return dIn, out, b, nil
}

// Prepare checks that the module can take a bottleneck adapter and returns
// the plan that adds it (see Method).
func (c BottleneckConfig) Prepare(name string, current nn.Layer, adapter string, index int) (*Plan, error) {
	existing, _ := current.(*BottleneckLayer)
	base, err := tunerBase(name, current, existing != nil, adapter)
	if err != nil {
		return nil, err
	}
	f, ok := base.(features)
	if !ok {
		return nil, fmt.Errorf("peft: module %q is a %T, which does not report its widths (InFeatures, OutFeatures): a bottleneck adapter cannot size itself", name, base)
	}
	dIn, dOut, b, err := c.widths(name, f.InFeatures(), f.OutFeatures())
	if err != nil {
		return nil, err
	}
	shapes := map[string][]int{"adapter_down.weight": {b, dIn}, "adapter_down.bias": {b},
		"adapter_up.weight": {dOut, b}, "adapter_up.bias": {dOut}}
	if c.LearnedScaling {
		shapes["adapter_scale"] = []int{1}
	}
	seed := c.Seed*1_000_003 + uint64(index)
	return &Plan{
		Shapes: shapes,
		Apply: func() nn.Layer {
			l := existing
			if l == nil {
				l = &BottleneckLayer{Base: base, Down: map[string]*nn.Linear{}, Up: map[string]*nn.Linear{},
					Scale: map[string]*tensor.Tensor{}, Scaling: map[string]float64{}, Placement: map[string]string{},
					Activation: map[string]string{}, in: f.InFeatures(), out: f.OutFeatures()}
			}
			rng := tensor.NewRNG(seed)
			down := &nn.Linear{Weight: tensor.Zeros(b, dIn), Bias: tensor.Zeros(b)}
			up := &nn.Linear{Weight: tensor.Zeros(dOut, b), Bias: tensor.Zeros(dOut)}
			nn.KaimingUniform(down.Weight, rng, math.Sqrt(5), "fan_in", "leaky_relu")
			if c.InitStd > 0 {
				nn.NormalInit(up.Weight, rng, 0, c.InitStd)
			}
			for _, p := range nn.Parameters(down) {
				p.SetRequiresGrad(true)
			}
			for _, p := range nn.Parameters(up) {
				p.SetRequiresGrad(true)
			}
			l.Down[adapter], l.Up[adapter] = down, up
			if c.LearnedScaling {
				l.Scale[adapter] = tensor.New([]float32{float32(c.scaling())}, 1).SetRequiresGrad(true)
			} else {
				l.Scaling[adapter] = c.scaling()
			}
			l.Placement[adapter] = c.placement()
			l.Activation[adapter] = c.activation()
			l.order = append(l.order, adapter)
			return l
		},
	}, nil
}

// BottleneckLayer is a layer with bottleneck adapters. Forward applies the
// base layer, then the active adapters in the order added: a parallel one
// adds s·A(x) on the layer's input x, a sequential one adds s·A(y) on the
// output so far y (active sequential adapters stack); an active fusion adds
// its fused output over its adapters' outputs (each on x or y as placed),
// whether or not those adapters are active. Parameters:
// base_layer.…, adapter_down.<adapter>.weight/.bias,
// adapter_up.<adapter>.weight/.bias, with learned scaling
// adapter_scale.<adapter>, and for a fusion adapter_fusion.<fusion>.….
type BottleneckLayer struct {
	Base  nn.Layer                  `nn:"base_layer"`
	Down  map[string]*nn.Linear     `nn:"adapter_down"`
	Up    map[string]*nn.Linear     `nn:"adapter_up"`
	Scale map[string]*tensor.Tensor `nn:"adapter_scale"` // learned s
	// Fusion holds the AdapterFusion layers (see FusionConfig), which count
	// among the layer's adapters.
	Fusion map[string]*AdapterFusion `nn:"adapter_fusion"`
	// Scaling, Placement and Activation hold each adapter's fixed s (when
	// not learned), placement and nn.Activate name.
	Scaling    map[string]float64 `nn:"-"`
	Placement  map[string]string  `nn:"-"`
	Activation map[string]string  `nn:"-"`

	adapterSet
	in, out int
}

// adapt returns s·(W_up σ(W_down h + b_down) + b_up) for the named adapter.
func (l *BottleneckLayer) adapt(name string, h *tensor.Tensor) *tensor.Tensor {
	z := l.Up[name].Forward(nn.Activate(l.Activation[name], l.Down[name].Forward(h), 0.01))
	if s := l.Scale[name]; s != nil {
		return z.Mul(s)
	}
	return z.Scale(float32(l.Scaling[name]))
}

// Forward applies the base layer and the active adapters.
func (l *BottleneckLayer) Forward(x *tensor.Tensor) *tensor.Tensor {
	y := l.Base.Forward(x)
	for _, n := range l.applied() {
		if f := l.Fusion[n]; f != nil {
			var ups []*tensor.Tensor
			for _, a := range f.Adapters {
				if l.Down[a] != nil {
					ups = append(ups, l.adapt(a, l.input(a, x, y)))
				}
			}
			if len(ups) > 0 {
				y = y.Add(f.fuse(y, ups))
			}
			continue
		}
		y = y.Add(l.adapt(n, l.input(n, x, y)))
	}
	return y
}

// input returns what the named adapter reads: the layer's input x when
// parallel, the output so far y when sequential.
func (l *BottleneckLayer) input(name string, x, y *tensor.Tensor) *tensor.Tensor {
	if l.Placement[name] == PlacementParallel {
		return x
	}
	return y
}

// AdapterName implements nn.Adapter.
func (l *BottleneckLayer) AdapterName(param string) string {
	return adapterOfParam(param, "base_layer")
}

// BaseLayer returns the wrapped layer.
func (l *BottleneckLayer) BaseLayer() nn.Layer { return l.Base }

// params returns the named adapter's parameters.
func (l *BottleneckLayer) params(name string) []*tensor.Tensor {
	if f := l.Fusion[name]; f != nil {
		return nn.Parameters(f)
	}
	ps := append(nn.Parameters(l.Down[name]), nn.Parameters(l.Up[name])...)
	if s := l.Scale[name]; s != nil {
		ps = append(ps, s)
	}
	return ps
}

// SetActive activates the named adapters it holds and freezes the others.
func (l *BottleneckLayer) SetActive(names []string) {
	l.setActive(names, func(n string, on bool) { setTrainable(on, l.params(n)...) })
}

// DeleteAdapter removes an adapter; it reports whether any remain.
func (l *BottleneckLayer) DeleteAdapter(name string) bool {
	delete(l.Down, name)
	delete(l.Up, name)
	delete(l.Scale, name)
	delete(l.Scaling, name)
	delete(l.Placement, name)
	delete(l.Activation, name)
	delete(l.Fusion, name)
	return l.remove(name)
}

// Merge reports an error when asked to merge an adapter the layer holds: a
// bottleneck adapter is nonlinear and has no weight update to fold in.
func (l *BottleneckLayer) Merge(names []string) error {
	for _, n := range names {
		if l.Fusion[n] != nil {
			return fmt.Errorf("AdapterFusion %q cannot be merged into the base weights: its attention over bottleneck adapters is not linear", n)
		}
		if slices.Contains(l.order, n) {
			return fmt.Errorf("bottleneck adapter %q cannot be merged into the base weights: W_up σ(W_down h) is not linear in h", n)
		}
	}
	return nil
}

// Unmerge does nothing: nothing is ever merged.
func (l *BottleneckLayer) Unmerge() error { return nil }

// MergedAdapters returns nil: bottleneck adapters are never merged.
func (l *BottleneckLayer) MergedAdapters() []string { return nil }

// Unwrap returns the base layer; with merge it reports the error Merge does
// when adapters are active.
func (l *BottleneckLayer) Unwrap(merge bool) (nn.Layer, error) {
	if merge && !l.disabled {
		if err := l.Merge(l.active); err != nil {
			return nil, err
		}
	}
	return l.Base, nil
}

// AdapterTensors returns the adapter's tensors under their saved names.
func (l *BottleneckLayer) AdapterTensors(adapter string) []nn.NamedTensor {
	if f := l.Fusion[adapter]; f != nil {
		var out []nn.NamedTensor
		for _, p := range nn.NamedParameters(f) {
			out = append(out, nn.NamedTensor{Name: "adapter_fusion." + p.Name, Tensor: p.Tensor})
		}
		return out
	}
	d, ok := l.Down[adapter]
	if !ok {
		return nil
	}
	u := l.Up[adapter]
	out := []nn.NamedTensor{{Name: "adapter_down.weight", Tensor: d.Weight}, {Name: "adapter_down.bias", Tensor: d.Bias},
		{Name: "adapter_up.weight", Tensor: u.Weight}, {Name: "adapter_up.bias", Tensor: u.Bias}}
	if s := l.Scale[adapter]; s != nil {
		out = append(out, nn.NamedTensor{Name: "adapter_scale", Tensor: s})
	}
	return out
}

// InFeatures returns the base layer's input width.
func (l *BottleneckLayer) InFeatures() int { return l.in }

// OutFeatures returns the base layer's output width.
func (l *BottleneckLayer) OutFeatures() int { return l.out }

// bottleneckJSON is adapter_config.json for a bottleneck adapter.
type bottleneckJSON struct {
	commonJSON
	TargetModules   json.RawMessage `json:"target_modules"`
	ReductionFactor int             `json:"reduction_factor"`
	NonLinearity    string          `json:"non_linearity"`
	Placement       string          `json:"placement"`
	Scaling         float64         `json:"scaling"`
	LearnedScaling  bool            `json:"learned_scaling"`
	InitStd         float64         `json:"init_std"`
	ModulesToSave   []string        `json:"modules_to_save"`
}

// MarshalJSON writes the configuration as adapter_config.json with
// peft_type "BOTTLENECK" (defaults written out).
func (c BottleneckConfig) MarshalJSON() ([]byte, error) {
	tj, err := targetJSON(c.Targets())
	if err != nil {
		return nil, err
	}
	nl := c.NonLinearity
	if nl == "" {
		nl = "relu"
	}
	return json.Marshal(bottleneckJSON{commonJSON: newCommonJSON(c.PeftType(), c.TaskType, c.BaseModelNameOrPath),
		TargetModules: tj, ReductionFactor: c.reduction(), NonLinearity: nl, Placement: c.placement(), Scaling: c.scaling(),
		LearnedScaling: c.LearnedScaling, InitStd: c.InitStd, ModulesToSave: c.ModulesToSave})
}

func parseBottleneck(data []byte) (BottleneckConfig, error) {
	var j bottleneckJSON
	if err := decodeConfig(data, &j); err != nil {
		return BottleneckConfig{}, err
	}
	t, err := parseTargets(j.TargetModules, "target_modules")
	if err != nil {
		return BottleneckConfig{}, err
	}
	c := BottleneckConfig{TargetModules: t.Modules, TargetRegex: t.Regex, ReductionFactor: j.ReductionFactor, NonLinearity: j.NonLinearity,
		Placement: j.Placement, Scaling: j.Scaling, LearnedScaling: j.LearnedScaling, InitStd: j.InitStd, ModulesToSave: j.ModulesToSave}
	c.TaskType, c.BaseModelNameOrPath = j.recorded()
	return c, nil
}
