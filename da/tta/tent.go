package tta

import (
	"github.com/graftml/graft/models"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/tensor"
)

// TentOptions are the settings of NewTent.
type TentOptions struct {
	// Optim is the update of the batch-norm affine parameters. Default Adam
	// with learning rate 1e-2, one step per batch. The paper uses Adam at
	// 1e-3 for CIFAR (SGD, momentum 0.9, at 0.00025 for ImageNet) over
	// thousands of batches; a small model on a stream of tens of batches
	// needs larger steps: on the digits stream of the tests, 1e-2 adds about
	// half a point over test-batch normalisation alone, 1e-3 nothing.
	Optim Optim
}

// Tent is test entropy minimisation (Wang et al. 2021): on each batch, the
// batch norms normalise with the batch's own statistics and their affine
// parameters (weight, bias) take a gradient step on the mean entropy of the
// predictions. Every other parameter stays at its source value.
type Tent struct {
	*adaptable
	opt       Optim
	optimizer optim.Optimizer
}

// NewTent returns Tent on a copy of m. It returns an error when m has no
// batch norm or opt is invalid.
func NewTent(m models.Classifier, opt TentOptions) (*Tent, error) {
	o, err := opt.Optim.withDefaults("NewTent", 1e-2)
	if err != nil {
		return nil, err
	}
	a, err := newAdaptable("Tent", m, true)
	if err != nil {
		return nil, err
	}
	a.setNorms(normBatch, 0)
	nn.Freeze(a.model)
	for _, p := range a.normParameters() {
		p.SetRequiresGrad(true)
	}
	t := &Tent{adaptable: a, opt: o}
	return t, t.Reset()
}

// Adapt takes the entropy steps on x and returns the logits of the last
// forward pass, the one the last step was computed from (as the reference
// implementation does).
func (t *Tent) Adapt(x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkBatch("Tent", x, true); err != nil {
		return nil, err
	}
	var logits *tensor.Tensor
	for s := 0; s < t.opt.Steps; s++ {
		logits = t.model.Forward(x)
		step(t.optimizer, nn.Entropy(logits))
	}
	return logits.Detach(), nil
}

// Reset restores the source parameters and starts a fresh optimiser.
func (t *Tent) Reset() error {
	if err := t.reset(); err != nil {
		return err
	}
	var err error
	t.optimizer, err = t.opt.build(t.normParameters())
	return err
}

// step takes one optimiser step down loss.
func step(o optim.Optimizer, loss *tensor.Tensor) {
	o.ZeroGrad()
	loss.Backward()
	o.Step()
}
