package optim

import (
	"fmt"
	"math"

	"github.com/graftml/graft/internal/parallel"

	"github.com/graftml/graft/tensor"
)

// Defaults used where an AdamConfig field is zero (PyTorch's defaults).
const (
	DefaultAdamLR           = 1e-3
	DefaultBeta1            = 0.9
	DefaultBeta2            = 0.999
	DefaultEps              = 1e-8
	DefaultAdamWWeightDecay = 0.01
)

// AdamConfig holds the hyper-parameters of Adam and AdamW. Zero fields take
// PyTorch's defaults: LR 1e-3, Betas (0.9, 0.999), Eps 1e-8, and for
// NewAdamW a WeightDecay of 0.01 (use NewAdam for none: the two coincide
// without weight decay).
type AdamConfig struct {
	// LR is the learning rate of NewAdam/NewAdamW's single group
	// (NewAdamGroups/NewAdamWGroups take it from each group).
	LR float64
	// Betas are the decay rates of the first and second moment estimates,
	// each in [0, 1); {0, 0} selects {0.9, 0.999}.
	Betas [2]float64
	// Eps is added to the denominator for numerical stability.
	Eps float64
	// WeightDecay is the single group's weight decay: an L2 penalty added to
	// the gradient for Adam, decoupled decay p ← p − lr·wd·p for AdamW.
	WeightDecay float64
	// AMSGrad uses the maximum of past second-moment estimates.
	AMSGrad bool
	// Maximize ascends the objective instead of descending it.
	Maximize bool
}

// Adam is the Adam optimiser or, built by NewAdamW, AdamW with decoupled
// weight decay, computed as torch.optim.Adam and AdamW do (t is the
// parameter's update count):
//
//	g ← ∇ + wd·p                  (Adam)     p ← p·(1 − lr·wd)   (AdamW)
//	m ← β1·m + (1−β1)·g
//	v ← β2·v + (1−β2)·g²          (AMSGrad: v̂ ← max(v̂, v), used below for v)
//	p ← p − lr/(1−β1^t) · m / (√v/√(1−β2^t) + eps)
type Adam struct {
	base
	cfg       AdamConfig
	decoupled bool
}

// NewAdam returns Adam over params as one group with cfg.LR and
// cfg.WeightDecay (an L2 penalty).
func NewAdam(params []*tensor.Tensor, cfg AdamConfig) (*Adam, error) {
	return newAdamSingle("Adam", params, cfg, false)
}

// NewAdamW returns AdamW over params as one group with cfg.LR and
// cfg.WeightDecay (decoupled; 0 means 0.01).
func NewAdamW(params []*tensor.Tensor, cfg AdamConfig) (*Adam, error) {
	if cfg.WeightDecay == 0 {
		cfg.WeightDecay = DefaultAdamWWeightDecay
	}
	return newAdamSingle("AdamW", params, cfg, true)
}

// NewAdamGroups returns Adam over parameter groups, each with its own
// learning rate and L2 weight decay; cfg.LR and cfg.WeightDecay must be 0.
func NewAdamGroups(groups []ParamGroup, cfg AdamConfig) (*Adam, error) {
	return newAdam("Adam", groups, cfg, false)
}

// NewAdamWGroups returns AdamW over parameter groups, each with its own
// learning rate and decoupled weight decay (used as given, 0 included);
// cfg.LR and cfg.WeightDecay must be 0.
func NewAdamWGroups(groups []ParamGroup, cfg AdamConfig) (*Adam, error) {
	return newAdam("AdamW", groups, cfg, true)
}

func newAdamSingle(kind string, params []*tensor.Tensor, cfg AdamConfig, decoupled bool) (*Adam, error) {
	if cfg.LR == 0 {
		cfg.LR = DefaultAdamLR
	}
	groups := []ParamGroup{{Params: params, LR: cfg.LR, WeightDecay: cfg.WeightDecay}}
	cfg.LR, cfg.WeightDecay = 0, 0
	return newAdam(kind, groups, cfg, decoupled)
}

func newAdam(kind string, groups []ParamGroup, cfg AdamConfig, decoupled bool) (*Adam, error) {
	if cfg.LR != 0 || cfg.WeightDecay != 0 {
		return nil, fmt.Errorf("optim: %s with parameter groups: AdamConfig.LR (%v) and WeightDecay (%v) are not used; set each group's LR and WeightDecay", kind, cfg.LR, cfg.WeightDecay)
	}
	if cfg.Betas == [2]float64{} {
		cfg.Betas = [2]float64{DefaultBeta1, DefaultBeta2}
	}
	if cfg.Eps == 0 {
		cfg.Eps = DefaultEps
	}
	if err := validateAdam(kind, cfg); err != nil {
		return nil, err
	}
	b, err := newBase(kind, groups)
	if err != nil {
		return nil, err
	}
	return &Adam{base: b, cfg: cfg, decoupled: decoupled}, nil
}

func validateAdam(kind string, cfg AdamConfig) error {
	for i, beta := range cfg.Betas {
		if !(beta >= 0 && beta < 1) {
			return fmt.Errorf("optim: %s: invalid beta%d %v (must be in [0, 1))", kind, i+1, beta)
		}
	}
	return checkNonNeg(kind, "eps", cfg.Eps)
}

// Kind returns "Adam" or "AdamW".
func (o *Adam) Kind() string { return o.kind }

// Config returns the optimiser's hyper-parameters with defaults filled in
// (LR and WeightDecay are per group).
func (o *Adam) Config() AdamConfig { return o.cfg }

// Step updates every parameter that has a gradient.
func (o *Adam) Step() {
	b1, b2 := o.cfg.Betas[0], o.cfg.Betas[1]
	beta1, oneMinusBeta1 := float32(b1), float32(1-b1)
	beta2, oneMinusBeta2 := float32(b2), float32(1-b2)
	eps := float32(o.cfg.Eps)
	for _, g := range o.groups {
		wd := float32(g.WeightDecay)
		l2 := g.WeightDecay != 0 && !o.decoupled
		decay := float32(1 - g.LR*g.WeightDecay)
		for _, p := range g.Params {
			grad := p.GradData()
			if grad == nil {
				continue
			}
			w := p.Data()
			s := o.get(p)
			s.step++
			m := s.buffer(slotExpAvg, len(w))
			v := s.buffer(slotExpAvgSq, len(w))
			var vmax []float32
			if o.cfg.AMSGrad {
				vmax = s.buffer(slotMaxExpAvgSq, len(w))
			}
			t := float64(s.step)
			bc1 := 1 - math.Pow(b1, t)
			bc2 := 1 - math.Pow(b2, t)
			u := adamUpdate{
				beta1: beta1, oneMinusBeta1: oneMinusBeta1, beta2: beta2, oneMinusBeta2: oneMinusBeta2,
				eps: eps, wd: wd, l2: l2, maximize: o.cfg.Maximize,
				negStepSize: float32(-(g.LR / bc1)), bc2Sqrt: float32(math.Sqrt(bc2)),
			}
			u.decoupled, u.decay = o.decoupled && g.WeightDecay != 0, decay
			u.applyAll(w, grad, m, v, vmax)
		}
	}
}

// adamCost is the work of one Adam update relative to a simple element-wise op.
const adamCost = 8

// window returns s[lo:hi], or nil for a nil s.
func window(s []float32, lo, hi int) []float32 {
	if s == nil {
		return nil
	}
	return s[lo:hi]
}

// adamUpdate holds one parameter's Adam constants for a step.
type adamUpdate struct {
	beta1, oneMinusBeta1, beta2, oneMinusBeta2 float32
	eps, wd, negStepSize, bc2Sqrt              float32
	decay                                      float32 // w ← decay·w first when decoupled
	decoupled, l2, maximize                    bool
}

// applyAll is apply over whole parameters, split across goroutines when
// large (a separate function, so that small parameters allocate nothing).
func (u adamUpdate) applyAll(w, grad, m, v, vmax []float32) {
	if !parallel.Worth(len(w), adamCost) {
		u.apply(w, grad, m, v, vmax)
		return
	}
	parallel.For(len(w), adamCost, func(lo, hi int) {
		u.apply(w[lo:hi], grad[lo:hi], m[lo:hi], v[lo:hi], window(vmax, lo, hi))
	})
}

// apply updates the weights w in place from their gradients and moments (vmax
// nil unless AMSGrad). The common case — no L2 term, no maximising, no
// AMSGrad — runs its own loop without branches; both loops do the same
// float32 arithmetic.
func (u adamUpdate) apply(w, grad, m, v, vmax []float32) {
	if u.decoupled {
		for i := range w {
			w[i] *= u.decay
		}
	}
	if !u.l2 && !u.maximize && vmax == nil {
		m, v, w := m[:len(grad)], v[:len(grad)], w[:len(grad)]
		for i, d := range grad {
			m[i] = m[i]*u.beta1 + u.oneMinusBeta1*d
			v[i] = v[i]*u.beta2 + u.oneMinusBeta2*d*d
			denom := float32(math.Sqrt(float64(v[i])))/u.bc2Sqrt + u.eps
			w[i] += u.negStepSize * (m[i] / denom)
		}
		return
	}
	for i, d := range grad {
		if u.maximize {
			d = -d
		}
		if u.l2 {
			d += u.wd * w[i]
		}
		m[i] = m[i]*u.beta1 + u.oneMinusBeta1*d
		v[i] = v[i]*u.beta2 + u.oneMinusBeta2*d*d
		vi := v[i]
		if vmax != nil {
			if vi > vmax[i] || vi != vi { // torch.maximum propagates NaN
				vmax[i] = vi
			}
			vi = vmax[i]
		}
		denom := float32(math.Sqrt(float64(vi)))/u.bc2Sqrt + u.eps
		w[i] += u.negStepSize * (m[i] / denom)
	}
}

func (o *Adam) hyper() map[string]float64 {
	return map[string]float64{
		"beta1":    o.cfg.Betas[0],
		"beta2":    o.cfg.Betas[1],
		"eps":      o.cfg.Eps,
		"amsgrad":  boolf(o.cfg.AMSGrad),
		"maximize": boolf(o.cfg.Maximize),
	}
}

// State returns a deep copy of the optimiser's state: per parameter its
// update count, "exp_avg", "exp_avg_sq" and with AMSGrad "max_exp_avg_sq"
// (once it has been updated).
func (o *Adam) State() *State { return o.snapshot(o.hyper()) }

// LoadState replaces the optimiser's state, hyper-parameters included, with
// a copy of s; on error nothing changes.
func (o *Adam) LoadState(s *State) error {
	if err := o.checkKind(s); err != nil {
		return err
	}
	vals, err := hyperValues(o.kind, s.Hyper, "beta1", "beta2", "eps", "amsgrad", "maximize")
	if err != nil {
		return err
	}
	cfg := AdamConfig{Betas: [2]float64{vals[0], vals[1]}, Eps: vals[2], AMSGrad: vals[3] != 0, Maximize: vals[4] != 0}
	if err := validateAdam(o.kind, cfg); err != nil {
		return fmt.Errorf("load state: %w", err)
	}
	allowed := map[string]bool{SlotExpAvg: true, SlotExpAvgSq: true}
	if cfg.AMSGrad {
		allowed[SlotMaxExpAvgSq] = true
	}
	err = o.restore(s, allowed, func(i int, ps ParamState) error {
		if len(ps.Slots) == 0 {
			return nil
		}
		for name := range allowed {
			if _, ok := ps.Slots[name]; !ok {
				return fmt.Errorf("optim: %s: load state: parameter %d lacks %q", o.kind, i, name)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	o.cfg = cfg
	return nil
}

// String describes the optimiser and its groups.
func (o *Adam) String() string {
	return o.describe(fmt.Sprintf("betas (%g, %g), eps %g, amsgrad %v", o.cfg.Betas[0], o.cfg.Betas[1], o.cfg.Eps, o.cfg.AMSGrad))
}
