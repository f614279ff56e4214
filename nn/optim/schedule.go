package optim

import (
	"fmt"
	"math"
)

// Schedule gives the learning-rate multiplier for each update: the update
// with 0-based index step (the number of updates before it) uses
// LR = BaseLR·Factor(step) in every group. Schedules are pure functions of
// step, so a resumed run only needs the step count.
//
// The schedules of this package have a Validate method that train.Run calls;
// a Factor on an invalid schedule returns a harmless value instead of panicking.
type Schedule interface {
	Factor(step int) float64
}

// Apply sets every group's LR to its BaseLR times s.Factor(step). A nil
// schedule leaves the learning rates alone.
func Apply(opt Optimizer, s Schedule, step int) {
	if opt == nil || s == nil {
		return
	}
	f := s.Factor(step)
	for _, g := range opt.Groups() {
		g.LR = g.BaseLR * f
	}
}

// ValidateSchedule returns s's Validate error when it has a Validate method.
func ValidateSchedule(s Schedule) error {
	if v, ok := s.(interface{ Validate() error }); ok {
		return v.Validate()
	}
	return nil
}

// ScheduleFunc adapts a function to the Schedule interface:
//
//	optim.ScheduleFunc(func(step int) float64 { return 1 / math.Sqrt(float64(step+1)) })
type ScheduleFunc func(step int) float64

// Factor returns f(step).
func (f ScheduleFunc) Factor(step int) float64 { return f(step) }

// Constant keeps every group at its base learning rate.
type Constant struct{}

// Factor returns 1.
func (Constant) Factor(int) float64 { return 1 }

// Validate returns nil: a constant schedule is always valid.
func (Constant) Validate() error { return nil }

// StepDecay multiplies the learning rate by Gamma every Every updates
// (PyTorch's StepLR counted in updates): Gamma^⌊step/Every⌋.
type StepDecay struct {
	Every int
	Gamma float64
}

// Factor returns Gamma^⌊step/Every⌋ (1 if Every ≤ 0).
func (s StepDecay) Factor(step int) float64 {
	if s.Every <= 0 || step < 0 {
		return 1
	}
	return math.Pow(s.Gamma, float64(step/s.Every))
}

// Validate reports a non-positive period or a negative or non-finite gamma.
func (s StepDecay) Validate() error {
	if s.Every <= 0 {
		return fmt.Errorf("optim: StepDecay: Every must be > 0, got %d", s.Every)
	}
	if !finite(s.Gamma) || s.Gamma < 0 {
		return fmt.Errorf("optim: StepDecay: invalid Gamma %v (must be a finite number ≥ 0)", s.Gamma)
	}
	return nil
}

// cosine is the half-cosine from 1 at progress 0 to min at progress 1.
func cosine(progress, floor float64) float64 {
	progress = math.Max(0, math.Min(1, progress))
	return floor + (1-floor)*0.5*(1+math.Cos(math.Pi*progress))
}

// warm is the linear warm-up factor step/warmup used by Warmup, WarmupCosine
// and WarmupLinear (the convention of Hugging Face transformers: the first
// update uses factor 0).
func warm(step, warmup int) float64 {
	return float64(max(step, 0)) / float64(warmup)
}

func checkMin(kind string, floor float64) error {
	if !finite(floor) || floor < 0 || floor > 1 {
		return fmt.Errorf("optim: %s: Min must be in [0, 1], got %v", kind, floor)
	}
	return nil
}

// Cosine anneals the multiplier from 1 to Min over Total updates along half a
// cosine, Min + (1−Min)·(1+cos(π·step/Total))/2, and stays at Min afterwards
// (PyTorch's CosineAnnealingLR with eta_min = Min·base LR).
type Cosine struct {
	Total int
	Min   float64
}

// Factor returns the multiplier for update step.
func (s Cosine) Factor(step int) float64 {
	if s.Total <= 0 {
		return s.Min
	}
	return cosine(float64(step)/float64(s.Total), s.Min)
}

// Validate reports a non-positive Total or a Min outside [0, 1].
func (s Cosine) Validate() error {
	if s.Total <= 0 {
		return fmt.Errorf("optim: Cosine: Total must be > 0, got %d", s.Total)
	}
	return checkMin("Cosine", s.Min)
}

// Warmup raises the multiplier linearly from 0 to 1 over the first Steps
// updates (step/Steps) and keeps it at 1 afterwards.
type Warmup struct {
	Steps int
}

// Factor returns min(1, step/Steps).
func (s Warmup) Factor(step int) float64 {
	if step >= s.Steps {
		return 1
	}
	return warm(step, s.Steps)
}

// Validate reports a negative number of warm-up steps.
func (s Warmup) Validate() error {
	if s.Steps < 0 {
		return fmt.Errorf("optim: Warmup: Steps must be ≥ 0, got %d", s.Steps)
	}
	return nil
}

// WarmupCosine warms up linearly over Warmup updates, then anneals along half
// a cosine to Min at update Total and stays there — Hugging Face's
// get_cosine_schedule_with_warmup when Min is 0.
type WarmupCosine struct {
	Warmup, Total int
	Min           float64
}

// Factor returns the multiplier for update step.
func (s WarmupCosine) Factor(step int) float64 {
	if step < s.Warmup {
		return warm(step, s.Warmup)
	}
	return cosine(float64(step-s.Warmup)/float64(max(1, s.Total-s.Warmup)), s.Min)
}

// Validate reports a negative Warmup, a Total not above Warmup, or a Min outside [0, 1].
func (s WarmupCosine) Validate() error {
	if s.Warmup < 0 || s.Total <= s.Warmup {
		return fmt.Errorf("optim: WarmupCosine: need 0 ≤ Warmup < Total, got Warmup %d, Total %d", s.Warmup, s.Total)
	}
	return checkMin("WarmupCosine", s.Min)
}

// WarmupLinear warms up linearly over Warmup updates, then decays linearly to
// Min at update Total and stays there — Hugging Face's
// get_linear_schedule_with_warmup when Min is 0.
type WarmupLinear struct {
	Warmup, Total int
	Min           float64
}

// Factor returns the multiplier for update step.
func (s WarmupLinear) Factor(step int) float64 {
	if step < s.Warmup {
		return warm(step, s.Warmup)
	}
	rest := math.Max(0, float64(s.Total-step)/float64(max(1, s.Total-s.Warmup)))
	return s.Min + (1-s.Min)*rest
}

// Validate reports a negative Warmup, a Total not above Warmup, or a Min outside [0, 1].
func (s WarmupLinear) Validate() error {
	if s.Warmup < 0 || s.Total <= s.Warmup {
		return fmt.Errorf("optim: WarmupLinear: need 0 ≤ Warmup < Total, got Warmup %d, Total %d", s.Warmup, s.Total)
	}
	return checkMin("WarmupLinear", s.Min)
}

// DANNDecay is the annealing of Ganin & Lempitsky's domain-adversarial
// training, μ_p = μ0/(1+α·p)^β with training progress p = step/Total (held
// at 1 after Total). Zero Alpha and Beta take the paper's 10 and 0.75.
type DANNDecay struct {
	Total       int
	Alpha, Beta float64
}

func (s DANNDecay) params() (alpha, beta float64) {
	alpha, beta = s.Alpha, s.Beta
	if alpha == 0 {
		alpha = 10
	}
	if beta == 0 {
		beta = 0.75
	}
	return alpha, beta
}

// Factor returns 1/(1+α·p)^β for p = step/Total clamped to [0, 1].
func (s DANNDecay) Factor(step int) float64 {
	alpha, beta := s.params()
	p := 1.0
	if s.Total > 0 {
		p = math.Max(0, math.Min(1, float64(step)/float64(s.Total)))
	}
	return 1 / math.Pow(1+alpha*p, beta)
}

// Validate reports a non-positive Total or a negative Alpha or Beta.
func (s DANNDecay) Validate() error {
	if s.Total <= 0 {
		return fmt.Errorf("optim: DANNDecay: Total must be > 0, got %d", s.Total)
	}
	if !finite(s.Alpha) || s.Alpha < 0 || !finite(s.Beta) || s.Beta < 0 {
		return fmt.Errorf("optim: DANNDecay: Alpha and Beta must be finite and ≥ 0, got %v and %v", s.Alpha, s.Beta)
	}
	return nil
}
