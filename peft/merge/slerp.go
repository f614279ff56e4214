package merge

import (
	"fmt"
	"math"

	"github.com/graftml/graft/tensor"
)

// DefaultSLERPThreshold is the cosine above which (in absolute value) SLERP
// interpolates linearly when its Threshold is 0: the two models then point
// along one line (to within 1.8°), where the spherical formula divides by
// sin ω ≈ 0. It is mergekit's threshold.
const DefaultSLERPThreshold = 0.9995

// SLERP interpolates spherically between two fine-tuned models of one base,
// parameter by parameter: with θ_0 = base + δ_0, θ_1 = base + δ_1 and ω the
// angle between them (measured on the tensors normalised to unit norm),
// θ = sin((1−t)ω)/sin ω · θ_0 + sin(tω)/sin ω · θ_1, applied to the
// unnormalised tensors, so the norm is interpolated along with the
// direction. When the two are nearly colinear (|cos ω| above Threshold) or
// one is zero it falls back to linear interpolation (1−t)·θ_0 + t·θ_1. A
// nil base counts as zero, so that SLERP interpolates the task vectors
// themselves.
type SLERP struct {
	// T is the interpolation parameter in [0, 1]: 0 gives the first model
	// (the zero value), 1 the second, 0.5 the midpoint along the arc.
	T float64
	// Threshold is the |cos ω| above which SLERP interpolates linearly, in
	// (0, 1] (0: DefaultSLERPThreshold).
	Threshold float64
}

// Name returns "SLERP".
func (SLERP) Name() string { return "SLERP" }

// MergeTensor returns the task vector of the spherical interpolation
// between the two models' values of the parameter called name.
func (s SLERP) MergeTensor(name string, base *tensor.Tensor, deltas []*tensor.Tensor) (*tensor.Tensor, error) {
	if len(deltas) != 2 {
		return nil, fmt.Errorf("merge: SLERP interpolates between 2 models, got %d for %q", len(deltas), name)
	}
	if err := needDeltas("SLERP", name, base, deltas, 2); err != nil {
		return nil, err
	}
	if !(s.T >= 0 && s.T <= 1) {
		return nil, fmt.Errorf("merge: SLERP t %v is outside [0, 1]", s.T)
	}
	thr := s.Threshold
	if thr == 0 {
		thr = DefaultSLERPThreshold
	}
	if !(thr > 0 && thr <= 1) {
		return nil, fmt.Errorf("merge: SLERP threshold %v is outside (0, 1]", s.Threshold)
	}
	n := deltas[0].Len()
	b := make([]float64, n)
	if base != nil {
		for j, v := range base.Data() {
			b[j] = float64(v)
		}
	}
	th0, th1 := make([]float64, n), make([]float64, n)
	var d01, d00, d11 float64
	for j := range b {
		th0[j] = b[j] + float64(deltas[0].Data()[j])
		th1[j] = b[j] + float64(deltas[1].Data()[j])
		d01 += th0[j] * th1[j]
		d00 += th0[j] * th0[j]
		d11 += th1[j] * th1[j]
	}
	c0, c1 := 1-s.T, s.T
	if d00 > 0 && d11 > 0 {
		if cos := d01 / math.Sqrt(d00*d11); math.Abs(cos) <= thr {
			omega := math.Acos(cos)
			c0 = math.Sin((1-s.T)*omega) / math.Sin(omega)
			c1 = math.Sin(s.T*omega) / math.Sin(omega)
		}
	}
	out := make([]float64, n)
	for j := range out {
		out[j] = c0*th0[j] + c1*th1[j] - b[j]
	}
	return tensor.FromFloat64(out, deltas[0].Shape()...), nil
}
