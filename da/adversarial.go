package da

import (
	"fmt"
	"math"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// GradReverse is the gradient reversal layer of Ganin & Lempitsky: the
// identity in the forward pass, −lambda times the incoming gradient in the
// backward pass. Placed between a feature extractor and a domain
// discriminator, it lets one minimisation train the discriminator to tell
// the domains apart while pushing the features to confuse it.
func GradReverse(x *tensor.Tensor, lambda float64) *tensor.Tensor {
	l := float32(lambda)
	return tensor.Custom("grad_reverse", x.Detach(), []*tensor.Tensor{x},
		func(g *tensor.Tensor) []*tensor.Tensor { return []*tensor.Tensor{g.Scale(-l)} })
}

// DefaultGamma is the steepness γ of DANN's schedule λ_p = 2/(1+exp(−γp)) − 1.
const DefaultGamma = 10

// DANNLambda returns DANN's adaptation factor λ_p = 2/(1+exp(−10p)) − 1 at
// training progress p in [0, 1]: 0 at the start, rising to about 1, so the
// domain signal reaches the features only once the discriminator has begun
// to learn.
func DANNLambda(p float64) float64 { return DANNLambdaGamma(p, DefaultGamma) }

// DANNLambdaGamma is DANNLambda with steepness gamma in place of 10.
func DANNLambdaGamma(p, gamma float64) float64 {
	return 2/(1+math.Exp(-gamma*p)) - 1
}

// Scheduled is implemented by alignments whose strength follows training
// progress; Fit records Coefficient(p) as the λ curve of its Result.
type Scheduled interface {
	// Coefficient returns the factor applied at progress p in [0, 1].
	Coefficient(p float64) float64
}

// DiscriminatorConfig describes a domain discriminator: an MLP from features
// to one logit, "source" (1) against "target" (0).
type DiscriminatorConfig struct {
	// Hidden are the widths of the hidden layers (nil: DANN's {1024, 1024};
	// an empty non-nil slice gives a logistic regression).
	Hidden []int
	// Activation is the nonlinearity after each hidden layer (default "relu").
	Activation string
	// Dropout after each hidden activation, in [0, 1) (0: none; DANN's
	// discriminator uses 0.5).
	Dropout float32
	// Seed initialises the weights and the dropout masks.
	Seed uint64
}

// Discriminator is a domain classifier: it maps (N, D) features to (N, 1)
// logits of "this example comes from the source domain".
type Discriminator struct {
	// Net is the MLP from features to the domain logit.
	Net *nn.Sequential
	in  int
}

// NewDiscriminator returns a discriminator over features of width in.
func NewDiscriminator(in int, cfg DiscriminatorConfig) (*Discriminator, error) {
	if in <= 0 {
		return nil, fmt.Errorf("da: discriminator input width %d must be positive", in)
	}
	hidden := cfg.Hidden
	if hidden == nil {
		hidden = []int{1024, 1024}
	}
	for i, h := range hidden {
		if h <= 0 {
			return nil, fmt.Errorf("da: discriminator hidden width %d (entry %d of %v) must be positive", h, i, hidden)
		}
	}
	if cfg.Dropout < 0 || cfg.Dropout >= 1 {
		return nil, fmt.Errorf("da: discriminator dropout %g is outside [0, 1)", cfg.Dropout)
	}
	act := cfg.Activation
	if act == "" {
		act = "relu"
	}
	sizes := append(append([]int{in}, hidden...), 1)
	var net *nn.Sequential
	if err := advCatch(func() { net = nn.NewMLP(sizes, act, cfg.Dropout, tensor.NewRNG(cfg.Seed)) }); err != nil {
		return nil, fmt.Errorf("da: discriminator: %v", err)
	}
	return &Discriminator{Net: net, in: in}, nil
}

// advCatch runs f and turns a panic into an error.
func advCatch(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	f()
	return nil
}

// Forward returns the (N, 1) domain logits of features x (N, D).
func (d *Discriminator) Forward(x *tensor.Tensor) *tensor.Tensor { return d.Net.Forward(x) }

// Parameters returns the discriminator's trainable parameters.
func (d *Discriminator) Parameters() []*tensor.Tensor { return nn.TrainableParameters(d.Net) }

// check reports features the discriminator cannot take.
func (d *Discriminator) check(side string, x *tensor.Tensor) error {
	return checkFeatures("the discriminator", side, x, d.in)
}

// checkFeatures reports side's features x unless they are a non-empty
// (N, width) batch, the input of who (a discriminator, CDAN).
func checkFeatures(who, side string, x *tensor.Tensor, width int) error {
	if x == nil || x.Dims() != 2 || x.Dim(0) == 0 {
		return fmt.Errorf("da: %s needs both domains; the %s features are %s, want (N>0, %d)", who, side, shapeOf(x), width)
	}
	if x.Dim(1) != width {
		return fmt.Errorf("da: %s features %s do not match %s's input width %d", side, shapeOf(x), who, width)
	}
	return nil
}

// shapeOf returns x's shape as FormatShape writes it, or "nil".
func shapeOf(x *tensor.Tensor) string {
	if x == nil {
		return "nil"
	}
	return tensor.FormatShape(x.Shape())
}

// domainBCE is the binary cross-entropy of the domain logits ls (source,
// label sourceLabel) and lt (target, label 1−sourceLabel), each domain's
// examples averaged with weights ws, wt (nil: uniform) and the two domain
// means averaged: with uniform weights and equal batches it is the mean BCE
// over the concatenated batch. lt may be nil (a single-domain term, as in
// ADDA's encoder loss).
func domainBCE(ls, lt *tensor.Tensor, sourceLabel float32, ws, wt *tensor.Tensor) *tensor.Tensor {
	side := func(l *tensor.Tensor, label float32, w *tensor.Tensor) *tensor.Tensor {
		n := l.Dim(0)
		losses := nn.BCEWithLogits(l, tensor.Full(label, n, 1), nil, nn.None).Reshape(n)
		if w == nil {
			return losses.Mean()
		}
		return losses.Mul(w).Sum().Scale(1 / float32(advSum(w)))
	}
	s := side(ls, sourceLabel, ws)
	if lt == nil {
		return s
	}
	return s.Add(side(lt, 1-sourceLabel, wt)).Scale(0.5)
}

func advSum(t *tensor.Tensor) float64 {
	s := 0.0
	for _, v := range t.Data() {
		s += float64(v)
	}
	return s
}

// DomainLoss returns the discriminator's loss: binary cross-entropy of its
// logits on source features (label 1) and target features (label 0), the
// mean over each domain, averaged over the two. It errs when either domain
// is missing or empty.
func (d *Discriminator) DomainLoss(source, target *tensor.Tensor) (*tensor.Tensor, error) {
	if err := d.check("source", source); err != nil {
		return nil, err
	}
	if err := d.check("target", target); err != nil {
		return nil, err
	}
	return domainBCE(d.Forward(source), d.Forward(target), 1, nil, nil), nil
}

// ConfusionLoss returns ADDA's inverted-label GAN loss for the target
// encoder: the binary cross-entropy of the discriminator's logits on target
// features against the label "source" (1). Minimising it over the encoder
// makes target features look like source features.
func (d *Discriminator) ConfusionLoss(target *tensor.Tensor) (*tensor.Tensor, error) {
	if err := d.check("target", target); err != nil {
		return nil, err
	}
	return domainBCE(d.Forward(target), nil, 1, nil, nil), nil
}

// DANNConfig configures DANN's domain-adversarial alignment.
type DANNConfig struct {
	// Weight multiplies the domain loss (0: 1).
	Weight float64
	// Discriminator configures the domain classifier.
	Discriminator DiscriminatorConfig
	// Gamma is the steepness of the schedule λ_p = 2/(1+exp(−γp)) − 1 of
	// the reversed gradient (0: 10).
	Gamma float64
	// Constant reverses the gradient with λ = 1 throughout instead of the
	// schedule.
	Constant bool
}

// DANN is domain-adversarial training (Ganin et al., 2016): a domain
// discriminator on the features, trained through a gradient reversal layer
// so that the feature extractor learns features the discriminator cannot
// tell apart. It is an Alignment: Loss is Weight·BCE(D(GRL_λp(features)),
// domain), and the discriminator's parameters train with the model's.
type DANN struct {
	// Discriminator is the domain classifier.
	Discriminator *Discriminator
	cfg           DANNConfig
}

// NewDANN returns DANN's alignment for features of width featureDim.
func NewDANN(featureDim int, cfg DANNConfig) (*DANN, error) {
	if err := advCheckWeight(cfg.Weight, cfg.Gamma); err != nil {
		return nil, err
	}
	d, err := NewDiscriminator(featureDim, cfg.Discriminator)
	if err != nil {
		return nil, err
	}
	return &DANN{Discriminator: d, cfg: cfg}, nil
}

func advCheckWeight(weight, gamma float64) error {
	if weight < 0 || math.IsNaN(weight) || math.IsInf(weight, 0) {
		return fmt.Errorf("da: weight %g must be a finite non-negative number", weight)
	}
	if gamma < 0 || math.IsNaN(gamma) || math.IsInf(gamma, 0) {
		return fmt.Errorf("da: gamma %g must be a finite non-negative number", gamma)
	}
	return nil
}

// advSchedule is λ_p for the Gamma and Constant settings shared by
// DANN and CDAN.
func advSchedule(p, gamma float64, constant bool) float64 {
	if constant {
		return 1
	}
	if gamma == 0 {
		gamma = DefaultGamma
	}
	return DANNLambdaGamma(p, gamma)
}

func advWeight(w float64) float64 {
	if w == 0 {
		return 1
	}
	return w
}

// Name returns "DANN".
func (a *DANN) Name() string { return "DANN" }

// Coefficient returns the gradient reversal factor λ_p at progress p.
func (a *DANN) Coefficient(p float64) float64 {
	return advSchedule(p, a.cfg.Gamma, a.cfg.Constant)
}

// Parameters returns the discriminator's parameters.
func (a *DANN) Parameters() []*tensor.Tensor { return a.Discriminator.Parameters() }

// Loss returns Weight·BCE of the discriminator on the reversed source and
// target features of s.
func (a *DANN) Loss(s Step) (*tensor.Tensor, error) {
	lambda := a.Coefficient(s.Progress)
	d := a.Discriminator
	if err := d.check("source", s.SourceFeatures); err != nil {
		return nil, err
	}
	if err := d.check("target", s.TargetFeatures); err != nil {
		return nil, err
	}
	ls := d.Forward(GradReverse(s.SourceFeatures, lambda))
	lt := d.Forward(GradReverse(s.TargetFeatures, lambda))
	return domainBCE(ls, lt, 1, nil, nil).Scale(float32(advWeight(a.cfg.Weight))), nil
}
