package tta

import (
	"fmt"
	"strings"

	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/tensor"
)

// Optim says how a method updates its parameters on each test batch.
type Optim struct {
	// Name is "adam" (the default) or "sgd".
	Name string
	// LR is the learning rate (0: the method's default).
	LR float64
	// Momentum is SGD's momentum (0: 0.9; negative: none). Adam ignores it.
	Momentum float64
	// Steps is the number of updates per batch (0: 1).
	Steps int
}

// withDefaults fills the zero fields of o, lr being the method's default
// learning rate, and checks the result.
func (o Optim) withDefaults(method string, lr float64) (Optim, error) {
	o.Name = strings.ToLower(o.Name)
	if o.Name == "" {
		o.Name = "adam"
	}
	if o.Name != "adam" && o.Name != "sgd" {
		return o, fmt.Errorf("tta.%s: optimiser %q is neither \"adam\" nor \"sgd\"", method, o.Name)
	}
	if o.LR == 0 {
		o.LR = lr
	}
	if !(o.LR > 0) {
		return o, fmt.Errorf("tta.%s: learning rate %g must be positive", method, o.LR)
	}
	o.Momentum = orDefault(o.Momentum, 0.9)
	if o.Momentum >= 1 {
		return o, fmt.Errorf("tta.%s: momentum %g must be below 1", method, o.Momentum)
	}
	if o.Steps == 0 {
		o.Steps = 1
	}
	if o.Steps < 0 {
		return o, fmt.Errorf("tta.%s: steps %d must be positive", method, o.Steps)
	}
	return o, nil
}

// orDefault returns def for v = 0 (unset), 0 for a negative v (none) and v
// otherwise: the convention of the options whose zero value means the
// default and whose negative values turn something off.
func orDefault[T int | float64](v, def T) T {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// build returns a fresh optimiser over params.
func (o Optim) build(params []*tensor.Tensor) (optim.Optimizer, error) {
	if o.Name == "sgd" {
		return optim.NewSGD(params, optim.SGDConfig{LR: o.LR, Momentum: o.Momentum})
	}
	return optim.NewAdam(params, optim.AdamConfig{LR: o.LR})
}
