package peft

import (
	"fmt"
	"strings"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
)

// LoraPlusGroups returns the parameter groups of LoRA+ (Hayou et al. 2024)
// for an optimiser such as optim.NewAdamWGroups: "groupA" (every trainable
// parameter but those below) at lr with weightDecay, "groupB" (the LoRA B
// matrices) at lr·ratio with weightDecay, and "groupB_no_decay" (trainable
// one-dimensional parameters, such as biases) at lr·ratio without decay, as
// PEFT's create_loraplus_optimizer groups them. Empty groups are left out.
func (m *Model) LoraPlusGroups(lr, ratio, weightDecay float64) ([]optim.ParamGroup, error) {
	if err := m.usable(); err != nil {
		return nil, err
	}
	if !(lr > 0) || !(ratio > 0) {
		return nil, fmt.Errorf("peft: LoRA+ needs a positive learning rate and ratio, got lr %g and ratio %g", lr, ratio)
	}
	groups := []optim.ParamGroup{
		{Name: "groupA", LR: lr, WeightDecay: weightDecay},
		{Name: "groupB", LR: lr * ratio, WeightDecay: weightDecay},
		{Name: "groupB_no_decay", LR: lr * ratio},
	}
	for _, p := range nn.NamedParameters(m.model) {
		if !p.Tensor.RequiresGrad() {
			continue
		}
		g := 0
		switch {
		case strings.Contains(p.Name, ".lora_B.") || strings.HasPrefix(p.Name, "lora_B."):
			g = 1
		case p.Tensor.Dims() == 1:
			g = 2
		}
		groups[g].Params = append(groups[g].Params, p.Tensor)
	}
	var out []optim.ParamGroup
	for _, g := range groups {
		if len(g.Params) > 0 {
			out = append(out, g)
		}
	}
	return out, nil
}
