package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Rand is the source of randomness graft's operations take explicitly. Both
// math/rand and math/rand/v2 *Rand values satisfy it, as does *RNG.
type Rand interface {
	Float64() float64
	NormFloat64() float64
	Uint64() uint64
	Perm(n int) []int
	Shuffle(n int, swap func(i, j int))
}

// RNG is a seeded random source whose state can be saved and restored
// (MarshalBinary/UnmarshalBinary), so a resumed training run draws the same
// numbers an uninterrupted one would.
type RNG struct {
	*rand.Rand
	src *rand.PCG
}

// NewRNG returns a generator seeded with seed.
func NewRNG(seed uint64) *RNG {
	src := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
	return &RNG{Rand: rand.New(src), src: src}
}

// MarshalBinary returns the generator's state.
func (r *RNG) MarshalBinary() ([]byte, error) { return r.src.MarshalBinary() }

// UnmarshalBinary restores a state returned by MarshalBinary.
func (r *RNG) UnmarshalBinary(b []byte) error {
	if err := r.src.UnmarshalBinary(b); err != nil {
		return fmt.Errorf("rng: restoring state: %w", err)
	}
	return nil
}

// Randn returns a tensor of independent standard normal draws.
func Randn(r Rand, shape ...int) *Tensor { return Normal(r, 0, 1, shape...) }

// Normal returns a tensor of independent draws from N(mean, std²).
func Normal(r Rand, mean, std float32, shape ...int) *Tensor {
	t := Zeros(shape...)
	for i := range t.data {
		t.data[i] = mean + std*float32(r.NormFloat64())
	}
	return t
}

// Uniform returns a tensor of independent draws from U[lo, hi).
func Uniform(r Rand, lo, hi float32, shape ...int) *Tensor {
	t := Zeros(shape...)
	for i := range t.data {
		t.data[i] = lo + (hi-lo)*float32(r.Float64())
	}
	return t
}

// Bernoulli returns a tensor of independent 0/1 draws that are 1 with probability p.
func Bernoulli(r Rand, p float32, shape ...int) *Tensor {
	if p < 0 || p > 1 || math.IsNaN(float64(p)) {
		panic(fmt.Sprintf("bernoulli: probability %v is outside [0, 1]", p))
	}
	t := Zeros(shape...)
	for i := range t.data {
		if r.Float64() < float64(p) {
			t.data[i] = 1
		}
	}
	return t
}
