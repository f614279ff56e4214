package merge

import (
	"math"

	"github.com/graftml/graft/tensor"
)

// ModelStock is Model Stock (Jang et al., 2024): per tensor, the fine-tuned
// models' mean is pulled towards the base by how much their task vectors
// agree. With k models and cos θ the cosine between their task vectors (the
// mean over pairs for k > 2), t = k·cos θ / (1 + (k−1)·cos θ) and the merged
// tensor is t·mean(θ_ft) + (1−t)·θ_base, i.e. the task vector t·mean(δ).
// Agreeing fine-tunes (cos θ = 1) keep their mean; orthogonal ones fall back
// to the base. A negative mean cosine, or a zero task vector, counts as 0
// (t = 0, the base), which the paper's derivation (fine-tunes scattered
// around one centre) does not cover. The method is meant for fine-tunes of
// one task from different seeds; on different tasks it stays near the base.
type ModelStock struct{}

// Name returns "Model Stock".
func (ModelStock) Name() string { return "Model Stock" }

// MergeTensor returns t times the mean of the task vectors of the
// parameter called name; it needs at least two.
func (ModelStock) MergeTensor(name string, base *tensor.Tensor, deltas []*tensor.Tensor) (*tensor.Tensor, error) {
	if err := needDeltas("Model Stock", name, base, deltas, 2); err != nil {
		return nil, err
	}
	k := float64(len(deltas))
	cos := math.Max(0, meanPairwiseCosine(deltas))
	t := k * cos / (1 + (k-1)*cos)
	out := make([]float64, deltas[0].Len())
	for _, d := range deltas {
		for j, v := range d.Data() {
			out[j] += float64(v)
		}
	}
	for j := range out {
		out[j] *= t / k
	}
	return tensor.FromFloat64(out, deltas[0].Shape()...), nil
}
