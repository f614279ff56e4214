package tta

import (
	"fmt"
	"math"

	"github.com/graftml/graft/models"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/tensor"
)

// CoTTAOptions are the settings of NewCoTTA. Zero values take the paper's
// settings.
type CoTTAOptions struct {
	// Optim updates the student (default Adam, learning rate 1e-3, one step
	// per batch).
	Optim Optim
	// EMA is the teacher's momentum α in θ' ← αθ' + (1−α)θ (0: 0.999); it
	// must lie in [0, 1].
	EMA float64
	// RestoreProb is the probability p with which each weight element is
	// reset to its source value after every step (0: 0.01; negative: never);
	// it must be at most 1.
	RestoreProb float64
	// Threshold is the confidence of the source model below which a
	// sample's teacher prediction is averaged over augmentations
	// (0: 0.92, the paper's CIFAR-10 value; negative: never augment; above 1:
	// always).
	Threshold float64
	// Augmentations is the number N of augmented copies averaged (0: 32).
	Augmentations int
	// Augment returns a randomly augmented copy of the batch x, drawing from
	// r (nil: DefaultAugment, small shifts and noise that suit digits).
	Augment func(x *tensor.Tensor, r *tensor.RNG) *tensor.Tensor
	// Seed seeds the augmentations and the restore masks.
	Seed uint64
}

// CoTTA is continual test-time adaptation (Wang et al. 2022): a student is
// trained on each batch towards the predictions of a teacher, its
// exponential moving average; where the source model is unsure the teacher's
// prediction is averaged over augmented copies of the input; after each
// step every weight element of the student returns to its source value with
// a small probability (stochastic restore). Adapt returns the teacher's
// predictions. All batch norms normalise with batch statistics.
type CoTTA struct {
	*adaptable
	teacher, anchor *adaptable
	opt             CoTTAOptions
	optim           Optim
	optimizer       optim.Optimizer
	params          []*tensor.Tensor // the student's trainable parameters
	sourceParams    []*tensor.Tensor // their source values
	teacherParams   []*tensor.Tensor
	rng             *tensor.RNG
}

// NewCoTTA returns CoTTA on copies of m, or an error for invalid options.
func NewCoTTA(m models.Classifier, opt CoTTAOptions) (*CoTTA, error) {
	o, err := opt.Optim.withDefaults("NewCoTTA", 1e-3)
	if err != nil {
		return nil, err
	}
	if opt.EMA == 0 {
		opt.EMA = 0.999
	}
	opt.RestoreProb = orDefault(opt.RestoreProb, 0.01)
	if opt.Threshold == 0 {
		opt.Threshold = 0.92
	}
	if opt.Augmentations == 0 {
		opt.Augmentations = 32
	}
	if opt.Augment == nil {
		opt.Augment = DefaultAugment
	}
	if err := checkUnit("NewCoTTA", "EMA momentum", opt.EMA); err != nil {
		return nil, err
	}
	if err := checkUnit("NewCoTTA", "restore probability", opt.RestoreProb); err != nil {
		return nil, err
	}
	if math.IsNaN(opt.Threshold) || opt.Augmentations < 0 {
		return nil, fmt.Errorf("tta.NewCoTTA: threshold %g and augmentations %d must be a number and not negative", opt.Threshold, opt.Augmentations)
	}
	c := &CoTTA{opt: opt, optim: o}
	for _, a := range []**adaptable{&c.adaptable, &c.teacher, &c.anchor} {
		if *a, err = newAdaptable("CoTTA", m, false); err != nil {
			return nil, err
		}
		(*a).setNorms(normBatch, 0)
	}
	c.params = nn.TrainableParameters(c.model)
	if len(c.params) == 0 {
		return nil, fmt.Errorf("tta.NewCoTTA: model %T has no trainable parameters", m)
	}
	c.sourceParams = make([]*tensor.Tensor, len(c.params))
	for i, p := range c.params {
		c.sourceParams[i] = p.Clone()
	}
	c.teacherParams = nn.TrainableParameters(c.teacher.model)
	return c, c.Reset()
}

// Adapt takes the student's steps on x, updates the teacher and restores
// weights, and returns the teacher's predictions (log-probabilities).
func (c *CoTTA) Adapt(x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkBatch("CoTTA", x, len(c.norms) > 0); err != nil {
		return nil, err
	}
	var target *tensor.Tensor
	for s := 0; s < c.optim.Steps; s++ {
		target = c.teacherProbs(x)
		logits := c.model.Forward(x)
		loss := target.Mul(logits.LogSoftmax(1)).Sum(1).Mean().Neg()
		step(c.optimizer, loss)
		if err := EMAUpdate(c.teacherParams, c.params, c.opt.EMA); err != nil {
			return nil, err
		}
		if err := StochasticRestore(c.params, c.sourceParams, c.opt.RestoreProb, c.rng); err != nil {
			return nil, err
		}
	}
	return target.AddScalar(1e-12).Log(), nil
}

// Teacher returns the teacher, the exponential moving average of the
// student (Model).
func (c *CoTTA) Teacher() models.Classifier { return c.teacher.model }

// teacherProbs returns the teacher's class probabilities of x, averaged over
// augmentations for the rows the source model is unsure of.
func (c *CoTTA) teacherProbs(x *tensor.Tensor) *tensor.Tensor {
	defer tensor.NoGrad()()
	probs := c.teacher.model.Forward(x).Softmax(1)
	conf := c.anchor.model.Forward(x).Softmax(1).Max(1).Data()
	unsure := false
	for _, v := range conf {
		unsure = unsure || float64(v) < c.opt.Threshold
	}
	if !unsure || c.opt.Augmentations == 0 {
		return probs
	}
	avg := tensor.ZerosLike(probs)
	for a := 0; a < c.opt.Augmentations; a++ {
		avg = avg.Add(c.teacher.model.Forward(c.opt.Augment(x, c.rng)).Softmax(1))
	}
	avg = avg.Scale(1 / float32(c.opt.Augmentations))
	out, k := probs.Clone(), probs.Dim(1)
	od, ad := out.Data(), avg.Data()
	for i, v := range conf {
		if float64(v) < c.opt.Threshold {
			copy(od[i*k:(i+1)*k], ad[i*k:(i+1)*k])
		}
	}
	return out
}

// Reset restores the source parameters in student and teacher, restarts the
// random draws from the seed and starts a fresh optimiser.
func (c *CoTTA) Reset() error {
	for _, a := range []*adaptable{c.adaptable, c.teacher} {
		if err := a.reset(); err != nil {
			return err
		}
	}
	c.rng = tensor.NewRNG(c.opt.Seed)
	var err error
	c.optimizer, err = c.optim.build(c.params)
	return err
}

// EMAUpdate moves each teacher parameter towards the student's:
// θ' ← αθ' + (1−α)θ, element by element. It returns an error when the lists
// or shapes differ or α is outside [0, 1].
func EMAUpdate(teacher, student []*tensor.Tensor, alpha float64) error {
	if err := checkUnit("EMAUpdate", "alpha", alpha); err != nil {
		return err
	}
	if err := sameTensors("EMAUpdate", teacher, student); err != nil {
		return err
	}
	for i, t := range teacher {
		td, sd := t.Data(), student[i].Data()
		for j := range td {
			td[j] = float32(alpha*float64(td[j]) + (1-alpha)*float64(sd[j]))
		}
	}
	return nil
}

// StochasticRestore resets each element of params to its value in source
// with probability p, drawing one uniform number per element from r. It
// returns an error when the lists or shapes differ or p is outside [0, 1].
func StochasticRestore(params, source []*tensor.Tensor, p float64, r tensor.Rand) error {
	if err := checkUnit("StochasticRestore", "probability", p); err != nil {
		return err
	}
	if err := sameTensors("StochasticRestore", params, source); err != nil {
		return err
	}
	if p == 0 {
		return nil
	}
	for i, t := range params {
		td, sd := t.Data(), source[i].Data()
		for j := range td {
			if r.Float64() < p {
				td[j] = sd[j]
			}
		}
	}
	return nil
}

// sameTensors returns an error unless a and b are lists of tensors of equal
// shapes.
func sameTensors(fn string, a, b []*tensor.Tensor) error {
	if len(a) != len(b) {
		return fmt.Errorf("tta.%s: %d tensors and %d tensors", fn, len(a), len(b))
	}
	for i := range a {
		if !tensor.SameShape(a[i], b[i]) {
			return fmt.Errorf("tta.%s: tensor %d has shapes %s and %s", fn, i, tensor.FormatShape(a[i].Shape()), tensor.FormatShape(b[i].Shape()))
		}
	}
	return nil
}

// DefaultAugment returns a random perturbation of x drawn from r that
// keeps the class of small images and feature vectors: each example's values
// are scaled by a factor in [0.9, 1.1] (a contrast change for images) and
// Gaussian noise of 5% of x's standard deviation is added. It neither flips
// nor shifts: on 8×8 digits a one-pixel shift already changes predictions.
func DefaultAugment(x *tensor.Tensor, r *tensor.RNG) *tensor.Tensor {
	n := x.Dim(0)
	scale := make([]float32, n)
	for i := range scale {
		scale[i] = float32(0.9 + 0.2*r.Float64())
	}
	shape := make([]int, x.Dims())
	for i := range shape {
		shape[i] = 1
	}
	shape[0] = n
	std := x.Var(false).Sqrt().Item()
	return x.Mul(tensor.New(scale, shape...)).Add(tensor.Randn(r, x.Shape()...).Scale(0.05 * std))
}
