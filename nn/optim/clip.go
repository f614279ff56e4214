package optim

import (
	"math"

	"github.com/graftml/graft/tensor"
)

// ClipGradNorm rescales the gradients of params so that their total L2 norm
// (over all gradients together) is at most maxNorm, as
// torch.nn.utils.clip_grad_norm_ does: when the norm exceeds maxNorm every
// gradient is multiplied by maxNorm/(norm+1e-6). Parameters without a gradient
// are ignored. It returns the norm before clipping; a NaN or infinite norm is
// returned as is and the gradients are left unscaled, for the caller to notice.
func ClipGradNorm(params []*tensor.Tensor, maxNorm float64) float64 {
	norm := GradNorm(params)
	if !finite(norm) {
		return norm
	}
	coef := maxNorm / (norm + 1e-6)
	if coef < 1 {
		c := float32(coef)
		for _, p := range params {
			g := p.GradData()
			for i := range g {
				g[i] *= c
			}
		}
	}
	return norm
}

// GradNorm returns the total L2 norm of the gradients of params (those
// without a gradient count as zero) without changing them.
func GradNorm(params []*tensor.Tensor) float64 {
	var sum float64
	for _, p := range params {
		for _, v := range p.GradData() {
			sum += float64(v) * float64(v)
		}
	}
	return math.Sqrt(sum)
}

// ClipGradValue clamps every gradient element of params into [−clip, clip],
// as torch.nn.utils.clip_grad_value_ does. NaN elements stay NaN.
func ClipGradValue(params []*tensor.Tensor, clip float64) {
	hi := float32(math.Abs(clip))
	lo := -hi
	for _, p := range params {
		g := p.GradData()
		for i, v := range g {
			if v > hi {
				g[i] = hi
			} else if v < lo {
				g[i] = lo
			}
		}
	}
}
