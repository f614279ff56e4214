package peft

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// FusionConfig configures AdapterFusion (Pfeiffer et al. 2021, in
// AdapterHub's conventions) over bottleneck adapters already on the target
// modules: with y the layer's output and uᵢ = sᵢ·Aᵢ(·) each fused adapter's
// output, the fused output is
//
//	y + Σᵢ pᵢ·(W_v uᵢ + b_v),  p = softmax_i((W_q y + b_q)·(W_k uᵢ + b_k) / T).
//
// W_q and W_k start as N(0, 0.02²), W_v at the identity with 10⁻⁶ off the
// diagonal, the biases at zero. Active alone, only the fusion layer trains:
// the fused adapters stay frozen. FusionPenalty gives the regulariser
// pulling W_v towards the identity; AnnealFusion lowers T.
//
// Saved with peft_type "BOTTLENECK_FUSION" (graft's own): adapter_config.json
// holds peft_type, target_modules, adapters, temperature, anneal_steps,
// reg_weight, task_type, base_model_name_or_path and inference_mode; the
// weights are "base_model.model.<module>.adapter_fusion.query.weight" (d, d),
// ".query.bias" (d) and the same for key and value. Loading it needs the fused
// adapters on the model first. Like the adapters, it cannot be merged.
type FusionConfig struct {
	// TargetModules or TargetRegex select the modules, as for the adapters.
	TargetModules []string
	TargetRegex   string
	// Adapters are the bottleneck adapters fused, each present on every
	// target.
	Adapters []string
	// Temperature is T's starting value (0 means 1); with AnnealSteps > 0,
	// each AnnealFusion call lowers it by (Temperature − 1)/AnnealSteps, down
	// to 1.
	Temperature float64
	AnnealSteps int
	// RegWeight weights ‖I − W_v‖² in FusionPenalty; 0 means AdapterHub's
	// 0.01.
	RegWeight float64
	// TaskType and BaseModelNameOrPath are recorded in adapter_config.json.
	TaskType            string
	BaseModelNameOrPath string
	Seed                uint64 // seeds W_q and W_k
}

// PeftType returns "BOTTLENECK_FUSION" (graft's own).
func (c FusionConfig) PeftType() string { return "BOTTLENECK_FUSION" }

// Targets returns the modules the fusion targets.
func (c FusionConfig) Targets() Target {
	return Target{Modules: c.TargetModules, Regex: c.TargetRegex}
}

// SavedModules returns nil: a fusion saves no module whole.
func (c FusionConfig) SavedModules() []string { return nil }

func (c FusionConfig) temperature() float64 { return orDefault(c.Temperature, 1) }

func (c FusionConfig) regWeight() float64 { return orDefault(c.RegWeight, 0.01) }

// Validate checks the settings that do not depend on a module.
func (c FusionConfig) Validate() error {
	if _, err := c.Targets().compile(); err != nil {
		return err
	}
	if len(c.Adapters) == 0 {
		return fmt.Errorf("peft: AdapterFusion needs the names of the adapters it fuses")
	}
	for i, a := range c.Adapters {
		if slices.Contains(c.Adapters[:i], a) {
			return fmt.Errorf("peft: AdapterFusion lists adapter %q twice", a)
		}
	}
	if t := c.temperature(); !(t >= 1) || math.IsInf(t, 0) {
		return fmt.Errorf("peft: AdapterFusion temperature %g: want a finite value of at least 1", c.Temperature)
	}
	if c.AnnealSteps < 0 || c.RegWeight < 0 || math.IsNaN(c.RegWeight) {
		return fmt.Errorf("peft: AdapterFusion anneal steps %d and regulariser weight %g must not be negative", c.AnnealSteps, c.RegWeight)
	}
	return nil
}

// Prepare checks that the module holds every fused adapter and returns the
// plan that adds the fusion layer (see Method).
func (c FusionConfig) Prepare(name string, current nn.Layer, adapter string, index int) (*Plan, error) {
	l, ok := current.(*BottleneckLayer)
	if !ok {
		return nil, fmt.Errorf("peft: AdapterFusion on module %q: it holds no bottleneck adapters (a %T); add them first", name, current)
	}
	if slices.Contains(l.order, adapter) {
		return nil, fmt.Errorf("peft: module %q already holds an adapter named %q", name, adapter)
	}
	for _, a := range c.Adapters {
		if !slices.Contains(l.order, a) {
			return nil, fmt.Errorf("peft: AdapterFusion on module %q: it holds no adapter %q (it holds %q)", name, a, l.order)
		}
		if l.Fusion[a] != nil {
			return nil, fmt.Errorf("peft: AdapterFusion on module %q: %q is itself a fusion", name, a)
		}
	}
	d := l.out
	shapes := map[string][]int{}
	for _, p := range []string{"query", "key", "value"} {
		shapes["adapter_fusion."+p+".weight"] = []int{d, d}
		shapes["adapter_fusion."+p+".bias"] = []int{d}
	}
	seed := c.Seed*1_000_003 + uint64(index)
	return &Plan{
		Shapes: shapes,
		Apply: func() nn.Layer {
			rng := tensor.NewRNG(seed)
			f := &AdapterFusion{Query: nn.NewLinear(d, d, true, rng), Key: nn.NewLinear(d, d, true, rng), Value: nn.NewLinear(d, d, true, rng),
				Adapters: slices.Clone(c.Adapters), T: c.temperature(), RegWeight: c.regWeight()}
			nn.NormalInit(f.Query.Weight, rng, 0, 0.02)
			nn.NormalInit(f.Key.Weight, rng, 0, 0.02)
			v := f.Value.Weight.Data()
			for i := range v {
				v[i] = 1e-6
				if i%(d+1) == 0 {
					v[i] = 1
				}
			}
			for _, b := range []*tensor.Tensor{f.Query.Bias, f.Key.Bias, f.Value.Bias} {
				b.Fill(0)
			}
			if c.AnnealSteps > 0 {
				f.step = (c.temperature() - 1) / float64(c.AnnealSteps)
			}
			for _, p := range nn.Parameters(f) {
				p.SetRequiresGrad(true)
			}
			if l.Fusion == nil {
				l.Fusion = map[string]*AdapterFusion{}
			}
			l.Fusion[adapter] = f
			l.order = append(l.order, adapter)
			return l
		},
	}, nil
}

// AdapterFusion is the fusion layer of one module (see FusionConfig): query,
// key and value projections over the fused adapters' outputs.
type AdapterFusion struct {
	Query *nn.Linear `nn:"query"`
	Key   *nn.Linear `nn:"key"`
	Value *nn.Linear `nn:"value"`
	// Adapters are the fused adapters; T is the current temperature and
	// RegWeight the weight of the regulariser.
	Adapters  []string `nn:"-"`
	T         float64  `nn:"-"`
	RegWeight float64  `nn:"-"`

	step float64 // T's decrease per AnnealFusion call
}

// fuse returns Σᵢ pᵢ·(W_v uᵢ + b_v) with p the softmax over the adapters of
// (W_q y + b_q)·(W_k uᵢ + b_k) / T.
func (f *AdapterFusion) fuse(y *tensor.Tensor, ups []*tensor.Tensor) *tensor.Tensor {
	ax := y.Dims() - 1
	q := f.Query.Forward(y)
	scores := make([]*tensor.Tensor, len(ups))
	values := make([]*tensor.Tensor, len(ups))
	for i, u := range ups {
		scores[i] = q.Mul(f.Key.Forward(u)).SumKeep(ax)
		values[i] = f.Value.Forward(u)
	}
	p := tensor.Concat(ax, scores...).Scale(float32(1 / f.T)).Softmax(ax)
	var ctx *tensor.Tensor
	for i, v := range values {
		term := v.Mul(p.Slice(ax, i, i+1))
		if ctx == nil {
			ctx = term
		} else {
			ctx = ctx.Add(term)
		}
	}
	return ctx
}

// penalty returns RegWeight·‖I − W_v‖².
func (f *AdapterFusion) penalty() *tensor.Tensor {
	d := f.Value.Weight.Dim(0)
	return tensor.Eye(d).Sub(f.Value.Weight).Square().Sum().Scale(float32(f.RegWeight))
}

// activeFusions returns the fusion layers of the model's active fusions.
func activeFusions(m *Model) []*AdapterFusion {
	var out []*AdapterFusion
	for _, nm := range m.Tuners() {
		if l, ok := nm.Module.(*BottleneckLayer); ok && !l.disabled {
			for _, n := range l.active {
				if f := l.Fusion[n]; f != nil {
					out = append(out, f)
				}
			}
		}
	}
	return out
}

// FusionPenalty returns the regulariser of the active fusion layers, Σ
// RegWeight·‖I − W_v‖² (AdapterHub's), a scalar to add to the loss; zero
// when no fusion is active.
func FusionPenalty(m *Model) *tensor.Tensor {
	total := tensor.Scalar(0)
	for _, f := range activeFusions(m) {
		total = total.Add(f.penalty())
	}
	return total
}

// AnnealFusion lowers the temperature of the active fusion layers by one
// step, (Temperature − 1)/AnnealSteps, stopping at 1; call it once per
// training step. Fusions without annealing keep their temperature.
func AnnealFusion(m *Model) {
	for _, f := range activeFusions(m) {
		f.T = math.Max(f.T-f.step, 1)
	}
}

// fusionJSON is adapter_config.json for AdapterFusion.
type fusionJSON struct {
	commonJSON
	TargetModules json.RawMessage `json:"target_modules"`
	Adapters      []string        `json:"adapters"`
	Temperature   float64         `json:"temperature"`
	AnnealSteps   int             `json:"anneal_steps"`
	RegWeight     float64         `json:"reg_weight"`
}

// MarshalJSON writes the configuration as adapter_config.json with
// peft_type "BOTTLENECK_FUSION".
func (c FusionConfig) MarshalJSON() ([]byte, error) {
	tj, err := targetJSON(c.Targets())
	if err != nil {
		return nil, err
	}
	return json.Marshal(fusionJSON{commonJSON: newCommonJSON(c.PeftType(), c.TaskType, c.BaseModelNameOrPath),
		TargetModules: tj, Adapters: c.Adapters, Temperature: c.temperature(), AnnealSteps: c.AnnealSteps, RegWeight: c.regWeight()})
}

func parseFusion(data []byte) (FusionConfig, error) {
	var j fusionJSON
	if err := decodeConfig(data, &j); err != nil {
		return FusionConfig{}, err
	}
	t, err := parseTargets(j.TargetModules, "target_modules")
	if err != nil {
		return FusionConfig{}, err
	}
	c := FusionConfig{TargetModules: t.Modules, TargetRegex: t.Regex, Adapters: j.Adapters, Temperature: j.Temperature,
		AnnealSteps: j.AnnealSteps, RegWeight: j.RegWeight}
	c.TaskType, c.BaseModelNameOrPath = j.recorded()
	return c, nil
}
