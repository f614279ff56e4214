package optim

import (
	"fmt"

	"github.com/graftml/graft/tensor"
)

// SGDConfig holds stochastic gradient descent's hyper-parameters; the zero
// value of every field but LR is PyTorch's default.
type SGDConfig struct {
	// LR is the learning rate of NewSGD's single group (required there;
	// NewSGDGroups takes it from each group).
	LR float64
	// Momentum is the momentum factor (0: plain SGD).
	Momentum float64
	// Dampening scales the gradient added to the momentum buffer by 1−Dampening.
	Dampening float64
	// WeightDecay is the L2 penalty of NewSGD's single group, added to the
	// gradient as WeightDecay·p (NewSGDGroups takes it from each group).
	WeightDecay float64
	// Nesterov enables Nesterov momentum (needs Momentum > 0 and Dampening 0).
	Nesterov bool
	// Maximize ascends the objective instead of descending it.
	Maximize bool
}

// SGD is stochastic gradient descent with optional momentum, dampening,
// Nesterov momentum and L2 weight decay, as torch.optim.SGD computes it:
//
//	g ← ∇ + wd·p
//	b ← g on a parameter's first update, else μ·b + (1−dampening)·g
//	g ← g + μ·b (Nesterov) or b
//	p ← p − lr·g
type SGD struct {
	base
	cfg SGDConfig
}

// NewSGD returns SGD over params as one group with cfg.LR and cfg.WeightDecay.
func NewSGD(params []*tensor.Tensor, cfg SGDConfig) (*SGD, error) {
	if cfg.LR == 0 {
		return nil, fmt.Errorf("optim: SGD: a learning rate is required (SGDConfig.LR is 0)")
	}
	return NewSGDGroups([]ParamGroup{{Params: params, LR: cfg.LR, WeightDecay: cfg.WeightDecay}}, SGDConfig{
		Momentum: cfg.Momentum, Dampening: cfg.Dampening, Nesterov: cfg.Nesterov, Maximize: cfg.Maximize,
	})
}

// NewSGDGroups returns SGD over parameter groups, each with its own learning
// rate and weight decay; cfg.LR and cfg.WeightDecay must be 0 (each group
// carries its own).
func NewSGDGroups(groups []ParamGroup, cfg SGDConfig) (*SGD, error) {
	if cfg.LR != 0 || cfg.WeightDecay != 0 {
		return nil, fmt.Errorf("optim: SGD with parameter groups: SGDConfig.LR (%v) and WeightDecay (%v) are not used; set each group's LR and WeightDecay", cfg.LR, cfg.WeightDecay)
	}
	if err := validateSGD(cfg); err != nil {
		return nil, err
	}
	b, err := newBase("SGD", groups)
	if err != nil {
		return nil, err
	}
	return &SGD{base: b, cfg: cfg}, nil
}

func validateSGD(cfg SGDConfig) error {
	if err := checkNonNeg("SGD", "momentum", cfg.Momentum); err != nil {
		return err
	}
	if !finite(cfg.Dampening) {
		return fmt.Errorf("optim: SGD: invalid dampening %v", cfg.Dampening)
	}
	if cfg.Nesterov && (cfg.Momentum <= 0 || cfg.Dampening != 0) {
		return fmt.Errorf("optim: SGD: Nesterov momentum requires a momentum > 0 and zero dampening (momentum %v, dampening %v)", cfg.Momentum, cfg.Dampening)
	}
	return nil
}

// Config returns the optimiser's hyper-parameters (LR and WeightDecay are per group).
func (o *SGD) Config() SGDConfig { return o.cfg }

// Step updates every parameter that has a gradient.
func (o *SGD) Step() {
	mom := float32(o.cfg.Momentum)
	damp := float32(1 - o.cfg.Dampening)
	for _, g := range o.groups {
		negLR := float32(-g.LR)
		wd := float32(g.WeightDecay)
		decay := g.WeightDecay != 0
		for _, p := range g.Params {
			grad := p.GradData()
			if grad == nil {
				continue
			}
			w := p.Data()
			s := o.get(p)
			s.step++
			var buf []float32
			first := false
			if o.cfg.Momentum != 0 {
				first = s.slots[slotMomentum] == nil
				buf = s.buffer(slotMomentum, len(w))
			}
			for i, d := range grad {
				if o.cfg.Maximize {
					d = -d
				}
				if decay {
					d += wd * w[i]
				}
				if buf != nil {
					if first {
						buf[i] = d
					} else {
						buf[i] = buf[i]*mom + damp*d
					}
					if o.cfg.Nesterov {
						d += mom * buf[i]
					} else {
						d = buf[i]
					}
				}
				w[i] += negLR * d
			}
		}
	}
}

func (o *SGD) hyper() map[string]float64 {
	return map[string]float64{
		"momentum":  o.cfg.Momentum,
		"dampening": o.cfg.Dampening,
		"nesterov":  boolf(o.cfg.Nesterov),
		"maximize":  boolf(o.cfg.Maximize),
	}
}

// State returns a deep copy of the optimiser's state: per parameter its
// update count and "momentum_buffer" (once it has one).
func (o *SGD) State() *State { return o.snapshot(o.hyper()) }

// LoadState replaces the optimiser's state, hyper-parameters included, with
// a copy of s; on error nothing changes.
func (o *SGD) LoadState(s *State) error {
	if err := o.checkKind(s); err != nil {
		return err
	}
	vals, err := hyperValues("SGD", s.Hyper, "momentum", "dampening", "nesterov", "maximize")
	if err != nil {
		return err
	}
	cfg := SGDConfig{Momentum: vals[0], Dampening: vals[1], Nesterov: vals[2] != 0, Maximize: vals[3] != 0}
	if err := validateSGD(cfg); err != nil {
		return fmt.Errorf("load state: %w", err)
	}
	allowed := map[string]bool{SlotMomentumBuffer: true}
	err = o.restore(s, allowed, func(int, ParamState) error { return nil })
	if err != nil {
		return err
	}
	o.cfg = cfg
	return nil
}

// String describes the optimiser and its groups.
func (o *SGD) String() string {
	return o.describe(fmt.Sprintf("momentum %g, dampening %g, nesterov %v", o.cfg.Momentum, o.cfg.Dampening, o.cfg.Nesterov))
}
