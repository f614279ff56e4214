package da

import (
	"fmt"

	"github.com/graftml/graft/tensor"
)

// weightOr1 returns w, or 1 for the zero value.
func weightOr1(w float64) float32 {
	if w == 0 {
		return 1
	}
	return float32(w)
}

// stepHasBatches checks that a step carries both feature batches (and, when
// logits are wanted, both logit batches).
func stepHasBatches(name string, s Step, logits bool) error {
	if s.SourceFeatures == nil || s.TargetFeatures == nil {
		return fmt.Errorf("da.%s: the step has no source or target features", name)
	}
	if logits && (s.SourceLogits == nil || s.TargetLogits == nil) {
		return fmt.Errorf("da.%s: the step has no source or target logits", name)
	}
	return nil
}

// MMDAlignment aligns the source and target features by their (multi-kernel)
// squared MMD: Loss = Weight · MMD(features_s, features_t).
type MMDAlignment struct {
	// Weight multiplies the loss (0: 1).
	Weight float64
	// Options picks the estimator and the kernels (zero value: biased
	// estimator, DAN's kernel family).
	Options MMDOptions
}

// Name returns "MMD".
func (a MMDAlignment) Name() string { return "MMD" }

// Parameters returns nil: MMD owns no parameters.
func (a MMDAlignment) Parameters() []*tensor.Tensor { return nil }

// Loss returns Weight · MMD² between the step's source and target features.
func (a MMDAlignment) Loss(s Step) (*tensor.Tensor, error) {
	if err := stepHasBatches("MMDAlignment", s, false); err != nil {
		return nil, err
	}
	m, err := MMD(s.SourceFeatures, s.TargetFeatures, a.Options)
	if err != nil {
		return nil, err
	}
	return m.Scale(weightOr1(a.Weight)), nil
}

// DANAlignment is Deep Adaptation Networks (Long et al. 2015): multi-kernel
// MMD on each task-specific layer, summed. A Step carries two such layers —
// the features the head sees and the head's output — so DAN here is MK-MMD
// on the features plus, with LogitsWeight > 0, MK-MMD on the softmax of the
// logits; the original's MMD on several hidden fully connected layers needs
// those activations, which a Step does not carry (use JointMMD or MMD on
// them directly).
type DANAlignment struct {
	// Weight multiplies the whole loss (0: 1).
	Weight float64
	// LogitsWeight weighs the MMD on the softmax outputs relative to the
	// features' (0: left out).
	LogitsWeight float64
	// Options picks the estimator and the kernels for both layers (zero
	// value: biased estimator, DAN's family 2^-2..2^2 times the mean
	// squared distance).
	Options MMDOptions
}

// Name returns "DAN".
func (a DANAlignment) Name() string { return "DAN" }

// Parameters returns nil: DAN owns no parameters.
func (a DANAlignment) Parameters() []*tensor.Tensor { return nil }

// Loss returns Weight · (MMD²(features) + LogitsWeight · MMD²(softmax)).
func (a DANAlignment) Loss(s Step) (*tensor.Tensor, error) {
	if err := stepHasBatches("DANAlignment", s, a.LogitsWeight != 0); err != nil {
		return nil, err
	}
	m, err := MMD(s.SourceFeatures, s.TargetFeatures, a.Options)
	if err != nil {
		return nil, err
	}
	if a.LogitsWeight != 0 {
		ml, err := MMD(s.SourceLogits.Softmax(1), s.TargetLogits.Softmax(1), a.Options)
		if err != nil {
			return nil, err
		}
		m = m.Add(ml.Scale(float32(a.LogitsWeight)))
	}
	return m.Scale(weightOr1(a.Weight)), nil
}

// CORALAlignment is Deep CORAL (Sun & Saenko 2016): Loss = Weight ·
// ‖C_s − C_t‖²_F/(4d²) on the features. The value is tiny at realistic
// widths (around 1e-7 at the start for d = 256), so with the default weight 1
// it barely acts; weights of 1e2 to 1e4 are typical.
type CORALAlignment struct {
	// Weight multiplies the loss (0: 1).
	Weight float64
}

// Name returns "CORAL".
func (a CORALAlignment) Name() string { return "CORAL" }

// Parameters returns nil: CORAL owns no parameters.
func (a CORALAlignment) Parameters() []*tensor.Tensor { return nil }

// Loss returns Weight · CORAL(features_s, features_t).
func (a CORALAlignment) Loss(s Step) (*tensor.Tensor, error) {
	if err := stepHasBatches("CORALAlignment", s, false); err != nil {
		return nil, err
	}
	c, err := CORAL(s.SourceFeatures, s.TargetFeatures)
	if err != nil {
		return nil, err
	}
	return c.Scale(weightOr1(a.Weight)), nil
}

// JANKernels are the kernels of the JAN reference implementation: DAN's
// family on the features and one Gaussian of bandwidth 0.92 on the softmax
// outputs.
var JANKernels = []Kernels{{}, {Sigmas: []float64{0.92}}}

// JMMDAlignment is Joint Adaptation Networks (Long et al. 2017): the joint
// MMD of the features and the softmax outputs, under the product of a
// kernel on each.
type JMMDAlignment struct {
	// Weight multiplies the loss (0: 1).
	Weight float64
	// Options picks the estimator and the kernels of the two layers,
	// features then softmax outputs (nil Kernels: JANKernels).
	Options JMMDOptions
}

// Name returns "JAN".
func (a JMMDAlignment) Name() string { return "JAN" }

// Parameters returns nil: JMMD as implemented here owns no parameters (the
// adversarial variant JAN-A is not provided).
func (a JMMDAlignment) Parameters() []*tensor.Tensor { return nil }

// Loss returns Weight · JMMD((features, softmax)_s, (features, softmax)_t).
func (a JMMDAlignment) Loss(s Step) (*tensor.Tensor, error) {
	if err := stepHasBatches("JMMDAlignment", s, true); err != nil {
		return nil, err
	}
	opt := a.Options
	if opt.Kernels == nil {
		opt.Kernels = JANKernels
	}
	m, err := JointMMD(
		[]*tensor.Tensor{s.SourceFeatures, s.SourceLogits.Softmax(1)},
		[]*tensor.Tensor{s.TargetFeatures, s.TargetLogits.Softmax(1)}, opt)
	if err != nil {
		return nil, err
	}
	return m.Scale(weightOr1(a.Weight)), nil
}

// Compile-time checks that the discrepancy objectives are Alignments.
var (
	_ Alignment = MMDAlignment{}
	_ Alignment = DANAlignment{}
	_ Alignment = CORALAlignment{}
	_ Alignment = JMMDAlignment{}
)
