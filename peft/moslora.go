package peft

import (
	"math"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// mixerKey is the saved name of a MoSLoRA mixer relative to the module. PEFT
// has no MoSLoRA; the name is the one the MoSLoRA authors' fork of PEFT uses
// for the mixer ("lora_AB"), and adapter_config.json records the option as
// the graft-specific field "use_mixer" (PEFT ignores it and would load the
// adapter as plain LoRA without the mixer, so graft's MoSLoRA files are for
// graft).
const mixerKey = "lora_AB.weight"

// newMixer returns MoSLoRA's r×r mixer M as a bias-free Linear (applied to
// A·x, so its weight is M), initialised Kaiming-uniform (a = √5) like A: the
// MoSLoRA paper finds Kaiming-uniform and orthogonal initialisations about
// equal and graft takes the one LoRA already uses. B = 0 keeps ΔW = 0 at
// the start whatever M is.
func newMixer(r int, rng *tensor.RNG) *nn.Linear {
	m := &nn.Linear{Weight: tensor.Zeros(r, r)}
	nn.KaimingUniform(m.Weight, rng, math.Sqrt(5), "fan_in", "leaky_relu")
	m.Weight.SetRequiresGrad(true)
	return m
}

// mixed returns B·M (out, r) for B (out, r) and M (r, r), in float64.
func mixed(b, m []float64, out, r int) []float64 { return lowRank(m, b, out, r, r, 1) }
