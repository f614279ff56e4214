package peft

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// IA3Config configures an (IA)³ adapter (Liu et al. 2022): a learned vector
// l, initialised to ones, rescales each target layer. On an ordinary target
// (keys, values) it scales the layer's output, y = l ⊙ f(x); on a
// feed-forward target it scales the layer's input, y = f(l ⊙ x). Field names
// follow PEFT's IA3Config; the saved tensor is
// "base_model.model.<module>.ia3_l", shaped (out, 1), or (1, in) on
// feed-forward targets, as PEFT stores it.
type IA3Config struct {
	// TargetModules lists module names matched exactly or as a dotted suffix,
	// or is {"all-linear"}; TargetRegex is instead a regular expression over
	// the whole name. Exactly one is set.
	TargetModules []string
	TargetRegex   string
	// FeedforwardModules are the targets whose input is scaled (exact name or
	// dotted suffix; with a TargetModules list each must be one of its
	// entries, as PEFT requires); FeedforwardRegex is instead a regular
	// expression over the whole name. At most one is set.
	FeedforwardModules []string
	FeedforwardRegex   string
	// ModulesToSave are modules trained whole and saved with the adapter.
	ModulesToSave []string
	// TaskType and BaseModelNameOrPath are recorded in adapter_config.json.
	TaskType            string
	BaseModelNameOrPath string
}

// NewIA3Config returns an IA3Config with the given targets (exact names or
// dotted suffixes) of which feedforward are scaled at their input.
func NewIA3Config(targets, feedforward []string) IA3Config {
	return IA3Config{TargetModules: targets, FeedforwardModules: feedforward}
}

// PeftType returns "IA3".
func (c IA3Config) PeftType() string { return "IA3" }

// Targets returns the modules the adapter targets.
func (c IA3Config) Targets() Target {
	return Target{Modules: c.TargetModules, Regex: c.TargetRegex}
}

// SavedModules returns ModulesToSave.
func (c IA3Config) SavedModules() []string { return c.ModulesToSave }

// Validate checks the settings that do not depend on a module.
func (c IA3Config) Validate() error {
	if _, err := c.Targets().compile(); err != nil {
		return err
	}
	if c.FeedforwardRegex != "" && len(c.FeedforwardModules) > 0 {
		return fmt.Errorf("peft: IA3 feed-forward modules: give a list or a regular expression, not both (%q and %q)", c.FeedforwardModules, c.FeedforwardRegex)
	}
	if c.FeedforwardRegex != "" {
		if _, err := regexp.Compile(c.FeedforwardRegex); err != nil {
			return fmt.Errorf("peft: IA3 feed-forward regular expression %q: %v", c.FeedforwardRegex, err)
		}
	}
	if c.TargetRegex == "" && !c.Targets().allLinear() {
		for _, f := range c.FeedforwardModules {
			if !slices.Contains(c.TargetModules, f) {
				return fmt.Errorf("peft: IA3 feed-forward module %q is not one of the target modules %q", f, c.TargetModules)
			}
		}
	}
	return nil
}

// feedforward reports whether the module called name is a feed-forward
// target.
func (c IA3Config) feedforward(name string) bool {
	if c.FeedforwardRegex != "" {
		return regexp.MustCompile(`^(?:` + c.FeedforwardRegex + `)$`).MatchString(name)
	}
	for _, f := range c.FeedforwardModules {
		if matchSuffix(name, f) {
			return true
		}
	}
	return false
}

// Prepare checks that the module can take an IA3 adapter and returns the
// plan that adds it (see Method).
func (c IA3Config) Prepare(name string, current nn.Layer, adapter string, index int) (*Plan, error) {
	existing, _ := current.(*IA3Layer)
	base, aff, err := affineTarget(name, current, existing != nil, adapter)
	if err != nil {
		return nil, err
	}
	ff := c.feedforward(name)
	shape := []int{aff.out, 1}
	if ff {
		shape = []int{1, aff.in}
	}
	return &Plan{
		Shapes: map[string][]int{"ia3_l": shape},
		Apply: func() nn.Layer {
			l := existing
			if l == nil {
				l = &IA3Layer{Base: base, IA3L: map[string]*tensor.Tensor{}, Feedforward: map[string]bool{}, affineWidths: affineWidths{aff}, bias: biasOf(base)}
			}
			l.IA3L[adapter] = tensor.Ones(shape...).SetRequiresGrad(true)
			l.Feedforward[adapter] = ff
			l.order = append(l.order, adapter)
			return l
		},
	}, nil
}

// biasOf returns a layer's one-dimensional parameter "bias", or nil.
func biasOf(layer nn.Layer) *tensor.Tensor {
	for _, p := range nn.NamedParameters(layer) {
		if p.Name == "bias" && p.Tensor.Dims() == 1 {
			return p.Tensor
		}
	}
	return nil
}

// IA3Layer is an affine layer (nn.Linear, gpt2.Conv1D) with IA3 adapters:
// Forward returns (Π lₒ) ⊙ base((Π lᵢ) ⊙ x) over the active, unmerged
// adapters, lₒ those scaling the output and lᵢ the feed-forward ones scaling
// the input. Parameters are named as PEFT's: base_layer.weight,
// ia3_l.<adapter>.
type IA3Layer struct {
	Base nn.Layer                  `nn:"base_layer"`
	IA3L map[string]*tensor.Tensor `nn:"ia3_l"`
	// Feedforward says, per adapter, whether its vector scales the input.
	Feedforward map[string]bool `nn:"-"`

	adapterSet
	affineWidths
	bias *tensor.Tensor
	// saved holds the base weight and bias from before the first merge:
	// Unmerge restores them exactly instead of dividing by the vectors.
	saved [][]float32
}

// Forward applies the active, unmerged adapters around the base layer.
func (l *IA3Layer) Forward(x *tensor.Tensor) *tensor.Tensor {
	var in, out []*tensor.Tensor
	for _, n := range l.applied() {
		if l.Feedforward[n] {
			in = append(in, l.IA3L[n].Reshape(l.aff.in))
		} else {
			out = append(out, l.IA3L[n].Reshape(l.aff.out))
		}
	}
	for _, v := range in {
		x = x.Mul(v)
	}
	y := l.Base.Forward(x)
	for _, v := range out {
		y = y.Mul(v)
	}
	return y
}

// AdapterName implements nn.Adapter: "ia3_l.<name>" belongs to adapter name.
func (l *IA3Layer) AdapterName(param string) string { return adapterOfParam(param, "base_layer") }

// BaseLayer returns the wrapped layer.
func (l *IA3Layer) BaseLayer() nn.Layer { return l.Base }

// SetActive activates the named adapters it holds and freezes the others.
func (l *IA3Layer) SetActive(names []string) {
	l.setActive(names, func(n string, on bool) { setTrainable(on, l.IA3L[n]) })
}

// DeleteAdapter removes an adapter; it reports whether any remain.
func (l *IA3Layer) DeleteAdapter(name string) bool {
	delete(l.IA3L, name)
	delete(l.Feedforward, name)
	return l.remove(name)
}

// Merge multiplies the named adapters' vectors into the base weight: an
// output vector scales the weight's output rows and the bias, an input
// vector the weight's input columns.
func (l *IA3Layer) Merge(names []string) error {
	for _, n := range names {
		v, ok := l.IA3L[n]
		if !ok || slices.Contains(l.merged, n) {
			continue
		}
		if l.saved == nil {
			l.saved = [][]float32{slices.Clone(l.aff.weight.Data())}
			if l.bias != nil {
				l.saved = append(l.saved, slices.Clone(l.bias.Data()))
			}
		}
		w, s := l.aff.weight.Data(), v.Data()
		for o := 0; o < l.aff.out; o++ {
			for i := 0; i < l.aff.in; i++ {
				k := o*l.aff.in + i
				if l.aff.fanInFanOut {
					k = i*l.aff.out + o
				}
				if l.Feedforward[n] {
					w[k] *= s[i]
				} else {
					w[k] *= s[o]
				}
			}
		}
		if l.bias != nil && !l.Feedforward[n] {
			b := l.bias.Data()
			for o := range b {
				b[o] *= s[o]
			}
		}
		l.merged = append(l.merged, n)
	}
	return nil
}

// Unmerge restores the base weight and bias from before the first merge,
// exactly.
func (l *IA3Layer) Unmerge() error {
	if l.saved != nil {
		copy(l.aff.weight.Data(), l.saved[0])
		if l.bias != nil {
			copy(l.bias.Data(), l.saved[1])
		}
	}
	l.saved, l.merged = nil, nil
	return nil
}

// Unwrap returns the base layer, with the active adapters merged when merge
// is set.
func (l *IA3Layer) Unwrap(merge bool) (nn.Layer, error) {
	return unwrapMerged(l, l.active, l.Base, merge)
}

// AdapterTensors returns the adapter's vector under PEFT's name "ia3_l".
func (l *IA3Layer) AdapterTensors(adapter string) []nn.NamedTensor {
	v, ok := l.IA3L[adapter]
	if !ok {
		return nil
	}
	return []nn.NamedTensor{{Name: "ia3_l", Tensor: v}}
}

// ia3JSON is adapter_config.json for IA3, in PEFT's keys.
type ia3JSON struct {
	commonJSON
	TargetModules      json.RawMessage `json:"target_modules"`
	FeedforwardModules json.RawMessage `json:"feedforward_modules"`
	FanInFanOut        bool            `json:"fan_in_fan_out"`
	ModulesToSave      []string        `json:"modules_to_save"`
	InitIA3Weights     bool            `json:"init_ia3_weights"`
}

// MarshalJSON writes the configuration as PEFT's adapter_config.json for IA3.
func (c IA3Config) MarshalJSON() ([]byte, error) {
	tj, err := targetJSON(c.Targets())
	if err != nil {
		return nil, err
	}
	fj, err := targetJSON(Target{Modules: c.FeedforwardModules, Regex: c.FeedforwardRegex})
	if err != nil {
		return nil, err
	}
	return json.Marshal(ia3JSON{commonJSON: newCommonJSON(c.PeftType(), c.TaskType, c.BaseModelNameOrPath),
		TargetModules: tj, FeedforwardModules: fj, ModulesToSave: c.ModulesToSave, InitIA3Weights: true})
}

func parseIA3(data []byte) (IA3Config, error) {
	var j ia3JSON
	if err := decodeConfig(data, &j); err != nil {
		return IA3Config{}, err
	}
	t, err := parseTargets(j.TargetModules, "target_modules")
	if err != nil {
		return IA3Config{}, err
	}
	f, err := parseTargets(j.FeedforwardModules, "feedforward_modules")
	if err != nil {
		return IA3Config{}, err
	}
	c := IA3Config{TargetModules: t.Modules, TargetRegex: t.Regex, FeedforwardModules: f.Modules, FeedforwardRegex: f.Regex, ModulesToSave: j.ModulesToSave}
	c.TaskType, c.BaseModelNameOrPath = j.recorded()
	return c, nil
}
