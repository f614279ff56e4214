package peft

import (
	"fmt"
	"slices"
	"sort"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// XLoraOptions configures a mixture of LoRA experts (see NewXLora).
type XLoraOptions struct {
	// Experts are trained LoRA adapters on the same target modules (at
	// least two), frozen while the gate trains.
	Experts []string
	// Sigmoid makes λ = sigmoid(logits), each expert weighed on its own,
	// instead of the softmax over the experts.
	Sigmoid bool
	// TopK, when 0 < TopK < len(Experts), keeps the TopK largest logits of
	// each token and zeroes the other experts' weights (the softmax is taken
	// over the kept ones).
	TopK int
	// Seed seeds the gates' weights, N(0, 0.01²); the biases start at zero,
	// so that the softmax starts uniform.
	Seed uint64
}

// XLora is a mixture of LoRA experts with a learned token-level gate, in the
// spirit of X-LoRA (Buehler & Buehler 2024): with h the input that a target
// module receives in a first pass of the model with every adapter off (the
// base model's hidden state entering that layer), a gate per target module
// gives per-token weights λ = softmax(G h + g) (or sigmoid; optionally
// top-k), and the second pass computes, at each target,
//
//	y = W x + Σᵢ λᵢ sᵢ Bᵢ Aᵢ x
//
// over the frozen experts (no other adapter applies in either pass). Only
// the gates train (Parameters). The gates are
// per module rather than X-LoRA's one scaling head over the last hidden
// state; Forward runs both passes. The gates live outside the model's module
// tree: they are not in the Model's summary or saved adapters.
type XLora struct {
	model   *Model
	opt     XLoraOptions
	modules []string
	layers  []*LoraLayer
	gates   []*nn.Linear
	last    []*tensor.Tensor
}

// NewXLora builds the gates over m's experts and freezes the experts. The
// experts must be LoRA adapters, unmerged, each held by the same modules.
func NewXLora(m *Model, opt XLoraOptions) (*XLora, error) {
	if err := m.usable(); err != nil {
		return nil, err
	}
	k := len(opt.Experts)
	if k < 2 {
		return nil, fmt.Errorf("peft: X-LoRA needs at least two experts, got %q", opt.Experts)
	}
	if opt.TopK < 0 || opt.TopK > k {
		return nil, fmt.Errorf("peft: X-LoRA top-k %d: want 0 (all) to %d experts", opt.TopK, k)
	}
	for i, e := range opt.Experts {
		if _, ok := m.methods[e]; !ok {
			return nil, fmt.Errorf("peft: X-LoRA: no adapter named %q (the model has %q)", e, m.names)
		}
		if slices.Contains(opt.Experts[:i], e) {
			return nil, fmt.Errorf("peft: X-LoRA: expert %q is listed twice", e)
		}
	}
	if _, err := m.loraLayers(opt.Experts, "X-LoRA"); err != nil {
		return nil, err
	}
	x := &XLora{model: m, opt: opt}
	rng := tensor.NewRNG(opt.Seed)
	for _, nm := range m.Tuners() {
		l, ok := nm.Module.(*LoraLayer)
		if !ok {
			continue
		}
		var held, missing []string
		for _, e := range opt.Experts {
			if slices.Contains(l.order, e) {
				held = append(held, e)
			} else {
				missing = append(missing, e)
			}
		}
		if len(held) == 0 {
			continue
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("peft: X-LoRA: module %q holds experts %q but not %q: the experts must share their targets", nm.Name, held, missing)
		}
		g := nn.NewLinear(l.aff.in, k, true, rng)
		nn.NormalInit(g.Weight, rng, 0, 0.01)
		g.Bias.Fill(0)
		for _, p := range nn.Parameters(g) {
			p.SetRequiresGrad(true)
		}
		x.modules = append(x.modules, nm.Name)
		x.layers = append(x.layers, l)
		x.gates = append(x.gates, g)
	}
	for _, l := range x.layers {
		for _, e := range opt.Experts {
			for _, t := range l.AdapterTensors(e) {
				t.Tensor.SetRequiresGrad(false)
			}
		}
	}
	return x, nil
}

// Modules lists the target modules, in model order; Gate(i) is the gate of
// Modules()[i].
func (x *XLora) Modules() []string { return slices.Clone(x.modules) }

// Gate returns the gate of the i-th module: a Linear from the module's input
// width to one logit per expert, in the order of XLoraOptions.Experts.
func (x *XLora) Gate(i int) *nn.Linear { return x.gates[i] }

// LastWeights returns, per module (as Modules), the weights λ (…, experts)
// the gate gave in the last Forward (its first call, for a module run more
// than once).
func (x *XLora) LastWeights() []*tensor.Tensor { return slices.Clone(x.last) }

// Parameters returns the gates' parameters, the only ones that train.
func (x *XLora) Parameters() []*tensor.Tensor {
	var ps []*tensor.Tensor
	for _, g := range x.gates {
		ps = append(ps, nn.Parameters(g)...)
	}
	return ps
}

// Forward runs the model twice on in: with the adapters off, recording each
// target's input, then with each target's gate weighing the experts from
// that recorded input. The model must be an nn.Layer.
func (x *XLora) Forward(in *tensor.Tensor) (*tensor.Tensor, error) {
	if err := x.model.usable(); err != nil {
		return nil, err
	}
	layer, ok := x.model.model.(nn.Layer)
	if !ok {
		return nil, fmt.Errorf("peft: X-LoRA: the model (%T) has no Forward", x.model.model)
	}
	if merged := x.model.Merged(); len(merged) > 0 {
		return nil, fmt.Errorf("peft: X-LoRA: adapters %q are merged into the base weights: unmerge them first", merged)
	}
	if x.model.disabled {
		return nil, fmt.Errorf("peft: X-LoRA: the adapters are disabled")
	}
	seen := make([][]*tensor.Tensor, len(x.layers))
	defer x.model.offOtherTuners()()
	// LoRA layers without experts apply none of their adapters.
	all, _ := x.model.loraLayers(nil, "X-LoRA")
	for _, l := range all {
		if !slices.Contains(x.layers, l) {
			l.weigh = func(*tensor.Tensor) ([]string, []*tensor.Tensor) { return nil, nil }
			defer func() { l.weigh = nil }()
		}
	}
	defer func() {
		for _, l := range x.layers {
			l.weigh = nil
		}
	}()
	for i, l := range x.layers {
		l.weigh = func(h *tensor.Tensor) ([]string, []*tensor.Tensor) {
			seen[i] = append(seen[i], h.Detach())
			return nil, nil
		}
	}
	layer.Forward(in)
	calls := make([]int, len(x.layers))
	x.last = make([]*tensor.Tensor, len(x.layers))
	for i, l := range x.layers {
		l.weigh = func(h *tensor.Tensor) ([]string, []*tensor.Tensor) {
			if calls[i] >= len(seen[i]) {
				panic(fmt.Sprintf("peft: X-LoRA: module %q ran more often in the second pass than in the first", x.modules[i]))
			}
			lam := x.weights(i, seen[i][calls[i]])
			if calls[i] == 0 {
				x.last[i] = lam.Detach() // kept for inspection beyond the step
			}
			calls[i]++
			ws := make([]*tensor.Tensor, len(x.opt.Experts))
			ax := lam.Dims() - 1
			for e := range ws {
				ws[e] = lam.Slice(ax, e, e+1)
			}
			return x.opt.Experts, ws
		}
	}
	return layer.Forward(in), nil
}

// weights returns λ (…, experts) of the i-th module for its first-pass
// input h.
func (x *XLora) weights(i int, h *tensor.Tensor) *tensor.Tensor {
	logits := x.gates[i].Forward(h)
	k := len(x.opt.Experts)
	ax := logits.Dims() - 1
	var keep *tensor.Tensor
	if x.opt.TopK > 0 && x.opt.TopK < k {
		keep = topKMask(logits.Data(), k, x.opt.TopK, logits.Shape())
	}
	if x.opt.Sigmoid {
		lam := logits.Sigmoid()
		if keep != nil {
			lam = lam.Mul(keep)
		}
		return lam
	}
	if keep != nil {
		// Dropped experts get −∞ (as −10⁹): their softmax weight is 0.
		off := keep.Data()
		d := make([]float32, len(off))
		for j, v := range off {
			if v == 0 {
				d[j] = -1e9
			}
		}
		logits = logits.Add(tensor.New(d, logits.Shape()...))
	}
	return logits.Softmax(ax)
}

// topKMask returns 1 at the k largest of each row of n logits, 0 elsewhere.
func topKMask(logits []float32, n, k int, shape []int) *tensor.Tensor {
	mask := make([]float32, len(logits))
	idx := make([]int, n)
	for r := 0; r < len(logits); r += n {
		row := logits[r : r+n]
		for j := range idx {
			idx[j] = j
		}
		sort.SliceStable(idx, func(a, b int) bool { return row[idx[a]] > row[idx[b]] })
		for _, j := range idx[:k] {
			mask[r+j] = 1
		}
	}
	return tensor.New(mask, shape...)
}
