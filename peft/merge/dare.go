package merge

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"

	"github.com/graftml/graft/tensor"
)

// DARERescale says how DARE rescales the entries it keeps.
type DARERescale int

const (
	// RescaleInverseDensity (the default) multiplies the kept entries by
	// 1/Density, as the DARE paper and Hugging Face PEFT do. It is the
	// default because it keeps every entry's expectation: E[τ̃] = τ over the
	// random mask, whatever the mask turns out to be.
	RescaleInverseDensity DARERescale = iota
	// RescaleL1 multiplies the kept entries of each task vector by
	// ‖τ‖₁ / ‖m⊙τ‖₁, so that its L1 norm is kept exactly for the mask drawn
	// (mergekit's norm-preserving rescale). Where the mask dropped every
	// non-zero entry there is nothing to rescale and the result is 0.
	RescaleL1
	// RescaleNone keeps the surviving entries as they are (the paper's
	// ablation: dropping without rescaling).
	RescaleNone
)

// String returns "1/density", "L1" or "none".
func (r DARERescale) String() string {
	switch r {
	case RescaleInverseDensity:
		return "1/density"
	case RescaleL1:
		return "L1"
	case RescaleNone:
		return "none"
	}
	return fmt.Sprintf("DARERescale(%d)", int(r))
}

// dareDefaultDensity is the keep probability DARE uses when Density is 0.
const dareDefaultDensity = 0.5

// DARE is drop-and-rescale (Yu et al., "Language models are Super Mario"):
// each entry of each task vector is kept with probability Density (dropped
// with probability p = 1 − Density) and the kept entries are rescaled; the
// results are summed with their weights and scaled by λ, as in task
// arithmetic.
//
// The masks come from a random stream derived from Seed and the parameter's
// name, so the same seed gives the same masks, two parameters never share a
// mask, and each task vector of a parameter gets its own mask. The mask of
// the i-th task vector depends only on Seed, the name, i and the tensor's
// size: adding a model to the end of the list leaves the others' masks as
// they were.
//
// The zero value keeps half the entries (Density 0.5: the paper drops 90% of
// the delta parameters of large language models and finds that smaller
// models tolerate less dropping; graft's models are small), rescales by
// 1/Density, uses seed 0, weights 1 and λ = 1.
type DARE struct {
	// Weights holds one weight per task vector; nil means 1 for each.
	Weights []float64
	// Lambda scales the merged task vector; 0 means 1.
	Lambda float64
	// Density is the probability of keeping an entry, 1 − p, in (0, 1];
	// 0 means 0.5.
	Density float64
	// Seed seeds the random masks; the zero value is seed 0.
	Seed uint64
	// Rescale picks the rescaling of the kept entries; the zero value is
	// RescaleInverseDensity.
	Rescale DARERescale
}

// Name returns "DARE".
func (DARE) Name() string { return "DARE" }

// MergeTensor drops and rescales each task vector of the parameter called
// name and returns λ times their weighted sum.
func (m DARE) MergeTensor(name string, base *tensor.Tensor, deltas []*tensor.Tensor) (*tensor.Tensor, error) {
	s, err := dropAndRescale(m.Name(), name, base, deltas, m.Weights, m.Lambda, m.Density, m.Seed, m.Rescale)
	if err != nil {
		return nil, err
	}
	return s.weightedSum(), nil
}

// DARETIES is DARE followed by TIES's sign election and disjoint mean: each
// task vector is dropped and rescaled as DARE does (instead of TIES's
// magnitude trim), then a sign is elected per entry and only the agreeing
// entries are averaged, under the same Convention and ElectByCount as TIES,
// and scaled by λ.
//
// The zero value keeps half the entries, rescales by 1/Density, uses seed 0,
// weights 1, λ = 1, the mergekit convention and sign election by sum.
type DARETIES struct {
	// Weights holds one weight per task vector; nil means 1 for each.
	Weights []float64
	// Lambda scales the merged task vector; 0 means 1.
	Lambda float64
	// Density is the probability of keeping an entry, in (0, 1]; 0 means
	// 0.5, as for DARE.
	Density float64
	// Seed seeds the random masks, as for DARE.
	Seed uint64
	// Rescale picks the rescaling of the kept entries, as for DARE.
	Rescale DARERescale
	// Convention picks how weights enter sign election and the mean, as for
	// TIES; the zero value is ConventionMergekit.
	Convention TIESConvention
	// ElectByCount elects the sign from the number of positive versus
	// negative entries instead of their sum, as for TIES.
	ElectByCount bool
}

// Name returns "DARE-TIES".
func (DARETIES) Name() string { return "DARE-TIES" }

// MergeTensor drops and rescales each task vector of the parameter called
// name, elects the signs and returns λ times the disjoint mean.
func (m DARETIES) MergeTensor(name string, base *tensor.Tensor, deltas []*tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkConvention(m.Name(), m.Convention); err != nil {
		return nil, err
	}
	s, err := dropAndRescale(m.Name(), name, base, deltas, m.Weights, m.Lambda, m.Density, m.Seed, m.Rescale)
	if err != nil {
		return nil, err
	}
	return s.scaled(disjointMerge(s, m.Convention, m.ElectByCount)), nil
}

// dropAndRescale checks the arguments of DARE or DARE-TIES, copies the task
// vectors and applies a random mask of keep probability density to each,
// rescaled as asked.
func dropAndRescale(method, name string, base *tensor.Tensor, deltas []*tensor.Tensor, weights []float64, lambda, density float64, seed uint64, rescale DARERescale) (*taskSet, error) {
	if density == 0 {
		density = dareDefaultDensity
	}
	if err := densityError(method, density); err != nil {
		return nil, err
	}
	if rescale < RescaleInverseDensity || rescale > RescaleNone {
		return nil, fmt.Errorf("merge: %s: rescale %d is none of RescaleInverseDensity, RescaleL1, RescaleNone", method, int(rescale))
	}
	s, err := readTaskSet(method, name, base, deltas, weights, lambda)
	if err != nil {
		return nil, err
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	r := rand.New(rand.NewPCG(seed, h.Sum64()))
	for _, d := range s.deltas {
		var before, after float64
		for j, v := range d {
			before += math.Abs(v)
			if r.Float64() >= density {
				d[j] = 0
			}
			after += math.Abs(d[j])
		}
		factor := 1.0
		switch rescale {
		case RescaleInverseDensity:
			factor = 1 / density
		case RescaleL1:
			if after > 0 {
				factor = before / after
			}
		}
		for j := range d {
			d[j] *= factor
		}
	}
	return s, nil
}
