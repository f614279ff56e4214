package merge

import (
	"fmt"

	"github.com/graftml/graft/tensor"
)

// Breadcrumbs is Model Breadcrumbs (Davari and Belilovsky, "Model
// breadcrumbs"): in each task vector of each tensor, drop the Beta fraction
// of entries with the largest magnitudes (outliers) and the Gamma fraction
// with the smallest, then sum what is left with the weights and scale by λ.
//
// Of an n-entry tensor, ⌊Beta·n⌋ outliers and ⌊Gamma·n⌋ small entries are
// dropped. So where Beta·n < 1 no outlier is dropped and the tensor keeps all
// but its smallest entries. (mergekit instead returns an all-zero tensor when
// its outlier count rounds to 0, which happens for tensors of fewer than
// about 100 entries.) Entries of equal magnitude are ranked by flat index,
// the lower index counting as the larger, so the cuts are deterministic.
//
// The zero value drops nothing, which is task arithmetic with weights 1 and
// λ = 1; set Beta and Gamma (for example 0.01 and 0.1) to make it Breadcrumbs.
type Breadcrumbs struct {
	// Weights holds one weight per task vector; nil means 1 for each.
	Weights []float64
	// Lambda scales the merged task vector; 0 means 1.
	Lambda float64
	// Beta is the fraction of largest-magnitude entries dropped per tensor,
	// in [0, 1).
	Beta float64
	// Gamma is the fraction of smallest-magnitude entries dropped per tensor,
	// in [0, 1); Beta + Gamma must be below 1.
	Gamma float64
}

// Name returns "Breadcrumbs".
func (Breadcrumbs) Name() string { return "Breadcrumbs" }

// MergeTensor masks each task vector of the parameter called name and
// returns λ times their weighted sum.
func (m Breadcrumbs) MergeTensor(name string, base *tensor.Tensor, deltas []*tensor.Tensor) (*tensor.Tensor, error) {
	if !(m.Beta >= 0 && m.Beta < 1) {
		return nil, fmt.Errorf("merge: %s: beta %v is outside [0, 1)", m.Name(), m.Beta)
	}
	if !(m.Gamma >= 0 && m.Gamma < 1) {
		return nil, fmt.Errorf("merge: %s: gamma %v is outside [0, 1)", m.Name(), m.Gamma)
	}
	if m.Beta+m.Gamma >= 1 {
		return nil, fmt.Errorf("merge: %s: beta %v + gamma %v is not below 1: nothing would be left", m.Name(), m.Beta, m.Gamma)
	}
	s, err := readTaskSet(m.Name(), name, base, deltas, m.Weights, m.Lambda)
	if err != nil {
		return nil, err
	}
	n := len(s.deltas[0])
	top, bottom := fractionCount(m.Beta, n), fractionCount(m.Gamma, n)
	for _, d := range s.deltas {
		outlier, notSmall := largestMask(d, top), largestMask(d, n-bottom)
		for i := range d {
			if outlier[i] || !notSmall[i] {
				d[i] = 0
			}
		}
	}
	return s.weightedSum(), nil
}
