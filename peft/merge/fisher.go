package merge

import (
	"errors"
	"fmt"
	"math"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/train"
	"github.com/graftml/graft/tensor"
)

// The ways EstimateFisher chooses the label y of each example.
const (
	// FisherSampled draws y from the model's own predictive distribution
	// p(y|x), once per example: the true Fisher's Monte Carlo estimate.
	FisherSampled = "sampled"
	// FisherExpected takes the expectation over y exactly, Σ_y p(y|x)
	// (∇ log p(y|x))², at one backward pass per class.
	FisherExpected = "expected"
	// FisherEmpirical uses the dataset's labels: the "empirical Fisher",
	// which is not the Fisher information of the model but is cheap and
	// common.
	FisherEmpirical = "empirical"
)

// FisherOptions are the settings of EstimateFisher.
type FisherOptions struct {
	// Labels chooses each example's label: FisherSampled ("" too, the
	// default, as in Matena & Raffel's Fisher merging), FisherExpected or
	// FisherEmpirical.
	Labels string
	// Examples is how many examples to use, drawn at random without
	// replacement (0 or at least the dataset's size: all of them).
	Examples int
	// Seed draws the examples and the sampled labels.
	Seed uint64
}

// EstimateFisher returns the diagonal Fisher information of a classifier,
// F = E_x E_y[(∇_θ log p(y|x))²] with p = softmax(model.Forward(x)), one
// tensor per parameter of the model (frozen ones included), named as
// nn.NamedParameters names them, ready for Fisher. The expectation over x
// is the mean over the examples of ds (one backward pass per example); the
// label follows opt.Labels. The model should be in evaluation mode (nn.Eval)
// so that dropout and batch statistics do not enter; its parameters'
// gradients and requires-grad flags are restored afterwards.
func EstimateFisher(model nn.Layer, ds train.Dataset, opt FisherOptions) ([]nn.NamedTensor, error) {
	switch opt.Labels {
	case "", FisherSampled, FisherExpected, FisherEmpirical:
	default:
		return nil, fmt.Errorf("merge: Fisher labels %q is not %q, %q or %q", opt.Labels, FisherSampled, FisherExpected, FisherEmpirical)
	}
	if model == nil || ds == nil {
		return nil, errors.New("merge: EstimateFisher needs a model and a dataset")
	}
	if opt.Examples < 0 {
		return nil, fmt.Errorf("merge: Fisher examples %d is negative", opt.Examples)
	}
	n := ds.Len()
	if n == 0 {
		return nil, errors.New("merge: EstimateFisher got an empty dataset")
	}
	if !tensor.GradEnabled() {
		return nil, errors.New("merge: EstimateFisher needs gradients, but they are disabled (tensor.NoGrad)")
	}
	rng := tensor.NewRNG(opt.Seed)
	idx := rng.Perm(n)
	if opt.Examples > 0 && opt.Examples < n {
		idx = idx[:opt.Examples]
	}
	params := nn.NamedParameters(model)
	restore := takeGradients(params)
	defer restore()

	sums := make([][]float64, len(params))
	for i, p := range params {
		sums[i] = make([]float64, p.Tensor.Len())
	}
	// accumulate adds weight·(∇ log p(y|x))² for one example and label.
	accumulate := func(x *tensor.Tensor, y int, weight float64) {
		for _, p := range params {
			p.Tensor.ZeroGrad()
		}
		model.Forward(x).LogSoftmax(1).Slice(1, y, y+1).Sum().Backward()
		for i, p := range params {
			g := p.Tensor.Grad()
			if g == nil {
				continue
			}
			for j, v := range g.Data() {
				sums[i][j] += weight * float64(v) * float64(v)
			}
		}
	}
	for _, e := range idx {
		b := ds.Batch([]int{e})
		var probs []float64
		tensor.WithNoGrad(func() { probs = model.Forward(b.X).Softmax(1).Float64s() })
		switch opt.Labels {
		case FisherEmpirical:
			if len(b.Labels) != 1 {
				return nil, errors.New("merge: the empirical Fisher needs a labelled dataset")
			}
			if y := b.Labels[0]; y < 0 || y >= len(probs) {
				return nil, fmt.Errorf("merge: label %d of example %d is outside the model's %d classes", y, e, len(probs))
			}
			accumulate(b.X, b.Labels[0], 1)
		case FisherExpected:
			for y, p := range probs {
				if p > 0 {
					accumulate(b.X, y, p)
				}
			}
		default:
			accumulate(b.X, sampleIndex(rng, probs), 1)
		}
	}
	out := make([]nn.NamedTensor, len(params))
	for i, p := range params {
		for j := range sums[i] {
			sums[i][j] /= float64(len(idx))
		}
		out[i] = nn.NamedTensor{Name: p.Name, Tensor: tensor.FromFloat64(sums[i], p.Tensor.Shape()...)}
	}
	return out, nil
}

// takeGradients makes every parameter require gradients, and returns a
// function that puts back their flags and accumulated gradients.
func takeGradients(params []nn.NamedTensor) (restore func()) {
	req := make([]bool, len(params))
	grads := make([]*tensor.Tensor, len(params))
	for i, p := range params {
		req[i] = p.Tensor.RequiresGrad()
		if g := p.Tensor.Grad(); g != nil {
			grads[i] = g.Clone()
		}
		p.Tensor.SetRequiresGrad(true)
	}
	return func() {
		for i, p := range params {
			p.Tensor.SetGrad(grads[i])
			p.Tensor.SetRequiresGrad(req[i])
		}
	}
}

// sampleIndex draws an index with the given probabilities.
func sampleIndex(rng *tensor.RNG, probs []float64) int {
	u := rng.Float64()
	var c float64
	for i, p := range probs {
		c += p
		if u < c {
			return i
		}
	}
	return len(probs) - 1
}

// DefaultFisherEpsilon is the Fisher information Fisher adds to every entry
// when its Epsilon is 0.
const DefaultFisherEpsilon = 1e-8

// Fisher is Fisher-weighted averaging (Matena & Raffel, 2022): each entry
// of the merged parameter is the average of the fine-tuned models' values
// weighted by their diagonal Fisher information,
// θ* = Σ_i w_i (F_i + ε) θ_i / Σ_i w_i (F_i + ε), with θ_i = base + δ_i; so
// its task vector is Σ_i w_i (F_i + ε) δ_i / Σ_i w_i (F_i + ε). Where every
// Fisher is zero (a parameter no example moves) it is the plain weighted
// average.
type Fisher struct {
	// Fishers holds one diagonal Fisher per fine-tuned model, in the order
	// of the models, as EstimateFisher returns it (a tensor per parameter,
	// found by name).
	Fishers [][]nn.NamedTensor
	// Weights holds one weight ≥ 0 per model (nil: all 1).
	Weights []float64
	// Epsilon is added to every Fisher entry (0: DefaultFisherEpsilon).
	Epsilon float64
}

// Name returns "Fisher".
func (Fisher) Name() string { return "Fisher" }

// MergeTensor returns the Fisher-weighted average of the task vectors of
// the parameter called name.
func (f Fisher) MergeTensor(name string, base *tensor.Tensor, deltas []*tensor.Tensor) (*tensor.Tensor, error) {
	if err := needDeltas("Fisher", name, base, deltas, 1); err != nil {
		return nil, err
	}
	if len(f.Fishers) != len(deltas) {
		return nil, fmt.Errorf("merge: Fisher has %d Fishers for %d models", len(f.Fishers), len(deltas))
	}
	w, err := modelWeights("Fisher", f.Weights, len(deltas))
	if err != nil {
		return nil, err
	}
	eps := f.Epsilon
	if eps == 0 {
		eps = DefaultFisherEpsilon
	}
	if eps < 0 || math.IsNaN(eps) || math.IsInf(eps, 0) {
		return nil, fmt.Errorf("merge: Fisher epsilon %v is not a finite value ≥ 0", f.Epsilon)
	}
	num := make([]float64, deltas[0].Len())
	den := make([]float64, len(num))
	for k, d := range deltas {
		fk, err := findFisher(f.Fishers[k], name, k, d)
		if err != nil {
			return nil, err
		}
		fd := fk.Data()
		for j, x := range d.Data() {
			c := w[k] * (float64(fd[j]) + eps)
			num[j] += c * float64(x)
			den[j] += c
		}
	}
	for j := range num {
		if den[j] == 0 {
			return nil, fmt.Errorf("merge: Fisher weights %v sum to 0", f.Weights)
		}
		num[j] /= den[j]
	}
	return tensor.FromFloat64(num, deltas[0].Shape()...), nil
}

// findFisher returns model k's Fisher of the parameter called name, which
// must have the task vector's shape and no negative entries.
func findFisher(fishers []nn.NamedTensor, name string, k int, like *tensor.Tensor) (*tensor.Tensor, error) {
	for _, e := range fishers {
		if e.Name != name {
			continue
		}
		if e.Tensor == nil || !tensor.SameShape(e.Tensor, like) {
			return nil, fmt.Errorf("merge: Fisher of model %d for %q has shape %s, the parameter %s", k, name,
				shapeString(e.Tensor), tensor.FormatShape(like.Shape()))
		}
		for _, v := range e.Tensor.Data() {
			if v < 0 || math.IsNaN(float64(v)) {
				return nil, fmt.Errorf("merge: Fisher of model %d for %q has the entry %v, want ≥ 0", k, name, v)
			}
		}
		return e.Tensor, nil
	}
	return nil, fmt.Errorf("merge: Fisher of model %d has no entry for %q", k, name)
}
