package merge

import "github.com/graftml/graft/tensor"

// TaskArithmetic merges task vectors by their weighted sum, scaled:
// τ = λ·Σ_i w_i τ_i (Ilharco et al., "Editing models with task arithmetic").
// A negative λ or weight subtracts a task (forgetting). The zero value adds
// the task vectors with weight 1 each and λ = 1.
type TaskArithmetic struct {
	// Weights holds one weight per task vector; nil means 1 for each.
	Weights []float64
	// Lambda scales the merged task vector; 0 means 1.
	Lambda float64
}

// Name returns "task arithmetic".
func (TaskArithmetic) Name() string { return "task arithmetic" }

// MergeTensor returns λ·Σ_i w_i τ_i for the parameter called name.
func (m TaskArithmetic) MergeTensor(name string, base *tensor.Tensor, deltas []*tensor.Tensor) (*tensor.Tensor, error) {
	s, err := readTaskSet(m.Name(), name, base, deltas, m.Weights, m.Lambda)
	if err != nil {
		return nil, err
	}
	return s.weightedSum(), nil
}
