package da

import (
	"fmt"

	"github.com/graftml/graft/tensor"
)

// Ramp multiplies an alignment's loss by DANN's progressive schedule
// λ_p = 2/(1+exp(−γp)) − 1, which rises from 0 at the start of training to
// about 1 at the end, as the progressive trade-off of JAN and DAN's
// re-implementations does for discrepancy losses. A model trained from
// scratch needs it: at full weight from step 1, MMD is minimised fastest by
// collapsing the features before the classifier has learned anything (seen
// on MNIST→UCI and MNIST→MNIST-M: source accuracy at chance). Fit records
// λ_p as the run's Lambda curve.
type Ramp struct {
	// Alignment is the ramped objective.
	Alignment Alignment
	// Gamma is the schedule's steepness γ (0: 10, DANN's).
	Gamma float64
}

// Name is the ramped alignment's name.
func (r Ramp) Name() string {
	if r.Alignment == nil {
		return "ramp"
	}
	return r.Alignment.Name()
}

// Coefficient is λ_p at training progress p.
func (r Ramp) Coefficient(p float64) float64 {
	g := r.Gamma
	if g == 0 {
		g = DefaultGamma
	}
	return DANNLambdaGamma(p, g)
}

// Loss is λ_p times the ramped alignment's loss.
func (r Ramp) Loss(s Step) (*tensor.Tensor, error) {
	if r.Alignment == nil {
		return nil, fmt.Errorf("da: Ramp has no Alignment to ramp")
	}
	if r.Gamma < 0 {
		return nil, fmt.Errorf("da: Ramp's Gamma = %g is negative", r.Gamma)
	}
	l, err := r.Alignment.Loss(s)
	if err != nil {
		return nil, err
	}
	return l.Scale(float32(r.Coefficient(s.Progress))), nil
}

// Parameters are the ramped alignment's parameters.
func (r Ramp) Parameters() []*tensor.Tensor {
	if r.Alignment == nil {
		return nil
	}
	return r.Alignment.Parameters()
}
