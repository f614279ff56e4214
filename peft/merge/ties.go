package merge

import (
	"fmt"
	"math"

	"github.com/graftml/graft/tensor"
)

// TIESConvention says how TIES and DARE-TIES treat the weights in sign
// election and in the disjoint mean. The reference tools disagree; with all
// weights equal to 1 both conventions give the same merge (the paper's).
type TIESConvention int

const (
	// ConventionMergekit (the default) elects each entry's sign from the
	// weighted contributions w_i·τ̂_i and averages the agreeing entries
	// with their weights: Σ_agree w_i τ̂_i / Σ_agree w_i, as mergekit does.
	// It is the default because it is a weighted mean: the weights say how
	// much each model counts, in the vote and in the average alike, so
	// scaling all weights by c changes nothing (λ alone sets the size of the
	// merge), a model of weight 0 has no influence at all, and with equal
	// weights it is exactly the paper's disjoint mean. (With negative
	// weights the agreeing weights can sum to 0; such an entry is 0.)
	ConventionMergekit TIESConvention = iota
	// ConventionPEFT elects the sign from the unweighted trimmed task vectors
	// τ̂_i and divides the weighted sum of the agreeing entries by their
	// count: Σ_agree w_i τ̂_i / |agree|, as Hugging Face PEFT does. Weights
	// then scale each model's contribution without giving it a larger vote;
	// a model of weight 0 still votes and still counts in the divisor.
	ConventionPEFT
)

// String returns "mergekit" or "PEFT".
func (c TIESConvention) String() string {
	switch c {
	case ConventionMergekit:
		return "mergekit"
	case ConventionPEFT:
		return "PEFT"
	}
	return fmt.Sprintf("TIESConvention(%d)", int(c))
}

// tiesDefaultDensity is the fraction TIES keeps when Density is 0: the
// top 20% of the paper.
const tiesDefaultDensity = 0.2

// TIES is TIES-merging (Yadav et al., "Resolving interference when merging
// models"): trim each task vector to its largest-magnitude entries, elect a
// sign per entry, and average only the entries that agree with it (the
// disjoint mean), scaled by λ.
//
// Trimming keeps k = round(Density·n) entries of each n-entry task vector,
// and at least one. (PEFT and mergekit take ⌊Density·n⌋, which keeps nothing
// of a tensor with fewer than 1/Density entries.) Entries of equal magnitude
// at the cut are kept in order of their flat index, lower first, so exactly k
// are kept and the result is deterministic.
//
// Where the vote is a tie — the elected sign is 0 — the merged entry is 0.
// (Both reference tools elect + on an exact tie.) Entries that are 0 after
// trimming agree with no sign: they neither count in the divisor nor carry a
// weight.
//
// The zero value keeps 20% per tensor, weights 1, λ = 1, the mergekit
// convention and sign election by sum.
type TIES struct {
	// Weights holds one weight per task vector; nil means 1 for each.
	Weights []float64
	// Lambda scales the merged task vector; 0 means 1.
	Lambda float64
	// Density is the fraction of each task vector's entries kept by
	// magnitude, in (0, 1]; 0 means 0.2, the paper's setting.
	Density float64
	// Convention picks how weights enter sign election and the mean; the
	// zero value is ConventionMergekit.
	Convention TIESConvention
	// ElectByCount elects the sign from the number of positive versus
	// negative entries (PEFT's "frequency", mergekit's "count") instead of
	// from the sum of the entries (PEFT's "total", mergekit's "sum").
	ElectByCount bool
}

// Name returns "TIES".
func (TIES) Name() string { return "TIES" }

// MergeTensor trims each task vector of the parameter called name, elects
// the signs and returns λ times the disjoint mean.
func (m TIES) MergeTensor(name string, base *tensor.Tensor, deltas []*tensor.Tensor) (*tensor.Tensor, error) {
	density := m.Density
	if density == 0 {
		density = tiesDefaultDensity
	}
	if err := densityError(m.Name(), density); err != nil {
		return nil, err
	}
	if err := checkConvention(m.Name(), m.Convention); err != nil {
		return nil, err
	}
	s, err := readTaskSet(m.Name(), name, base, deltas, m.Weights, m.Lambda)
	if err != nil {
		return nil, err
	}
	n := len(s.deltas[0])
	k := min(max(int(math.Round(density*float64(n))), 1), n)
	for _, d := range s.deltas {
		for i, kept := range largestMask(d, k) {
			if !kept {
				d[i] = 0
			}
		}
	}
	return s.scaled(disjointMerge(s, m.Convention, m.ElectByCount)), nil
}

// checkConvention returns an error for a TIESConvention that is not one of
// the constants.
func checkConvention(method string, c TIESConvention) error {
	if c != ConventionMergekit && c != ConventionPEFT {
		return fmt.Errorf("merge: %s: convention %d is neither ConventionMergekit nor ConventionPEFT", method, int(c))
	}
	return nil
}

// disjointMerge elects a sign per entry from the set's (already sparsified)
// task vectors and returns the mean of the agreeing entries under the
// convention, before λ. An entry with elected sign 0, or whose agreeing
// weights sum to 0, is 0.
func disjointMerge(s *taskSet, c TIESConvention, byCount bool) []float64 {
	out := make([]float64, len(s.deltas[0]))
	for j := range out {
		// The value each model votes with: w_i·τ̂_i under mergekit's
		// convention, τ̂_i under PEFT's.
		vote := func(i int) float64 {
			if c == ConventionMergekit {
				return s.weights[i] * s.deltas[i][j]
			}
			return s.deltas[i][j]
		}
		var tally float64
		for i := range s.deltas {
			if byCount {
				tally += entrySign(vote(i))
			} else {
				tally += vote(i)
			}
		}
		elected := entrySign(tally)
		if elected == 0 {
			continue
		}
		var sum, divisor float64
		for i, d := range s.deltas {
			if entrySign(vote(i)) != elected {
				continue
			}
			sum += s.weights[i] * d[j]
			if c == ConventionMergekit {
				divisor += s.weights[i]
			} else {
				divisor++
			}
		}
		if divisor != 0 {
			out[j] = sum / divisor
		}
	}
	return out
}

// entrySign returns −1, 0 or 1.
func entrySign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}
