package da

import (
	"fmt"
	"math"

	"github.com/graftml/graft/tensor"
)

// MaxMultilinearDim is the largest width D·K of the multilinear map f⊗g
// CDAN uses by default; beyond it CDAN switches to the randomized map, as
// Long et al. recommend.
const MaxMultilinearDim = 4096

// CDANConfig configures conditional domain-adversarial alignment.
type CDANConfig struct {
	// Weight multiplies the domain loss (0: 1).
	Weight float64
	// Discriminator configures the domain classifier (its input width is
	// set by the map).
	Discriminator DiscriminatorConfig
	// Gamma and Constant set the gradient reversal schedule as in DANNConfig.
	Gamma    float64
	Constant bool
	// Entropy turns on entropy conditioning (CDAN+E): each example's domain
	// loss is weighted by w = 1 + exp(−H(g)), normalised to sum to one within
	// each domain, so confidently classified examples count more.
	Entropy bool
	// Map chooses the conditioning: "multilinear" (f⊗g, width D·K),
	// "randomized" ((R_f f) ⊙ (R_g g)/√d with fixed Gaussian R_f, R_g) or ""
	// (multilinear when D·K ≤ MaxMultilinearDim, randomized otherwise).
	Map string
	// RandomDim is the width d of the randomized map (0: 1024).
	RandomDim int
	// Seed draws the randomized map's matrices; the discriminator has its
	// own seed in Discriminator.
	Seed uint64
}

// CDAN is conditional domain-adversarial training (Long et al., 2018): the
// discriminator sees the features conditioned on the classifier's
// predictions, f⊗g with g = softmax(logits) (held fixed, as TLlib does),
// through a gradient reversal layer on f. It is an Alignment.
type CDAN struct {
	// Discriminator is the domain classifier over the conditioned features.
	Discriminator *Discriminator
	cfg           CDANConfig
	featureDim    int
	classes       int
	rf, rg        *tensor.Tensor // randomized map, nil for multilinear
}

// NewCDAN returns CDAN's alignment for features of width featureDim and
// classes classes.
func NewCDAN(featureDim, classes int, cfg CDANConfig) (*CDAN, error) {
	if featureDim <= 0 || classes <= 0 {
		return nil, fmt.Errorf("da: CDAN needs a positive feature width and class count, got %d and %d", featureDim, classes)
	}
	if err := advCheckWeight(cfg.Weight, cfg.Gamma); err != nil {
		return nil, err
	}
	a := &CDAN{cfg: cfg, featureDim: featureDim, classes: classes}
	in := featureDim * classes
	switch cfg.Map {
	case "":
		if in > MaxMultilinearDim {
			cfg.Map = "randomized"
		} else {
			cfg.Map = "multilinear"
		}
	case "multilinear", "randomized":
	default:
		return nil, fmt.Errorf("da: CDAN map %q is not \"multilinear\", \"randomized\" or \"\"", cfg.Map)
	}
	if cfg.Map == "randomized" {
		if cfg.RandomDim < 0 {
			return nil, fmt.Errorf("da: CDAN RandomDim %d must be positive", cfg.RandomDim)
		}
		if cfg.RandomDim == 0 {
			cfg.RandomDim = 1024
		}
		r := tensor.NewRNG(cfg.Seed)
		a.rf = tensor.Randn(r, featureDim, cfg.RandomDim)
		a.rg = tensor.Randn(r, classes, cfg.RandomDim)
		in = cfg.RandomDim
	}
	a.cfg = cfg
	d, err := NewDiscriminator(in, cfg.Discriminator)
	if err != nil {
		return nil, err
	}
	a.Discriminator = d
	return a, nil
}

// Name returns "CDAN" or, with entropy conditioning, "CDAN+E".
func (a *CDAN) Name() string {
	if a.cfg.Entropy {
		return "CDAN+E"
	}
	return "CDAN"
}

// Coefficient returns the gradient reversal factor λ_p at progress p.
func (a *CDAN) Coefficient(p float64) float64 {
	return advSchedule(p, a.cfg.Gamma, a.cfg.Constant)
}

// Parameters returns the discriminator's parameters.
func (a *CDAN) Parameters() []*tensor.Tensor { return a.Discriminator.Parameters() }

// Condition returns the conditioned features the discriminator sees for
// features f (N, D) and class probabilities g (N, K): the flattened outer
// products f_i g_iᵀ (N, D·K), or the randomized map (N, RandomDim).
func (a *CDAN) Condition(f, g *tensor.Tensor) *tensor.Tensor {
	n := f.Dim(0)
	if a.rf == nil {
		return f.Unsqueeze(2).Mul(g.Unsqueeze(1)).Reshape(n, a.featureDim*a.classes)
	}
	d := a.rf.Dim(1)
	return f.MatMul(a.rf).Mul(g.MatMul(a.rg)).Scale(float32(1 / math.Sqrt(float64(d))))
}

// EntropyWeights returns CDAN+E's weights 1 + exp(−H(softmax(logits))) of
// the rows of logits (N, K), normalised to sum to one; they carry no
// gradient.
func EntropyWeights(logits *tensor.Tensor) *tensor.Tensor {
	var w []float32
	tensor.WithNoGrad(func() {
		p := logits.Softmax(-1).Data()
		k := logits.Dim(1)
		n := logits.Dim(0)
		w = make([]float32, n)
		total := 0.0
		for i := 0; i < n; i++ {
			h := 0.0
			for _, v := range p[i*k : (i+1)*k] {
				if v > 0 {
					h -= float64(v) * math.Log(float64(v))
				}
			}
			wi := 1 + math.Exp(-h)
			w[i] = float32(wi)
			total += wi
		}
		for i := range w {
			w[i] = float32(float64(w[i]) / total)
		}
	})
	return tensor.New(w, len(w))
}

// Loss returns Weight·BCE of the discriminator on the reversed, conditioned
// source and target features of s (entropy-weighted per domain for CDAN+E).
func (a *CDAN) Loss(s Step) (*tensor.Tensor, error) {
	if err := a.checkStep("source", s.SourceFeatures, s.SourceLogits); err != nil {
		return nil, err
	}
	if err := a.checkStep("target", s.TargetFeatures, s.TargetLogits); err != nil {
		return nil, err
	}
	lambda := a.Coefficient(s.Progress)
	side := func(f, logits *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor) {
		g := logits.Detach().Softmax(-1)
		h := a.Condition(GradReverse(f, lambda), g)
		var w *tensor.Tensor
		if a.cfg.Entropy {
			w = EntropyWeights(logits)
		}
		return a.Discriminator.Forward(h), w
	}
	ls, ws := side(s.SourceFeatures, s.SourceLogits)
	lt, wt := side(s.TargetFeatures, s.TargetLogits)
	return domainBCE(ls, lt, 1, ws, wt).Scale(float32(advWeight(a.cfg.Weight))), nil
}

func (a *CDAN) checkStep(side string, f, logits *tensor.Tensor) error {
	if err := checkFeatures("CDAN", side, f, a.featureDim); err != nil {
		return err
	}
	if logits == nil || logits.Dims() != 2 || logits.Dim(0) != f.Dim(0) || logits.Dim(1) != a.classes {
		return fmt.Errorf("da: CDAN %s logits are %s, want (%d, %d)", side, shapeOf(logits), f.Dim(0), a.classes)
	}
	return nil
}
