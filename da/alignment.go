package da

import "github.com/graftml/graft/tensor"

// Step is what an Alignment sees at one training step: the features and
// logits of a source batch and of a target batch, computed by the model
// being adapted, the source labels, and how far training has come.
type Step struct {
	// SourceFeatures (Ns, D) and TargetFeatures (Nt, D) are the
	// representations the classification head sees.
	SourceFeatures, TargetFeatures *tensor.Tensor
	// SourceLogits (Ns, K) and TargetLogits (Nt, K) are the head's outputs.
	SourceLogits, TargetLogits *tensor.Tensor
	// SourceLabels are the Ns class labels of the source batch.
	SourceLabels []int
	// Progress is the fraction of training done, p in [0, 1]; schedules
	// such as DANN's λ_p = 2/(1+exp(−10p)) − 1 are functions of it.
	Progress float64
}

// Alignment is a domain-alignment objective trained together with the
// source classification loss: the training loop minimises
// CrossEntropy(SourceLogits, SourceLabels) + Loss(step) over the model's
// parameters and the alignment's own Parameters. Adversarial objectives
// (DANN, CDAN) own a domain discriminator and reverse its gradient into the
// features; discrepancy objectives (MMD, CORAL) own no parameters.
type Alignment interface {
	// Name names the method in tables and legends, e.g. "DANN" or "MMD".
	Name() string
	// Loss returns the alignment's scalar loss for one step, already
	// multiplied by its weight. It returns an error for inputs it cannot
	// use (an empty batch, mismatched widths), naming the value.
	Loss(s Step) (*tensor.Tensor, error)
	// Parameters returns the trainable parameters the alignment owns, nil
	// for none.
	Parameters() []*tensor.Tensor
}
