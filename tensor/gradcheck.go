package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// GradCheckOptions tunes GradCheck; zero fields take the defaults shown.
type GradCheckOptions struct {
	Eps  float64 // finite-difference step (default 1e-3)
	Atol float64 // absolute tolerance (default 1e-3)
	Rtol float64 // relative tolerance (default 1e-2)
	Seed uint64  // seed of the random projection of the output (default 1)
}

// GradCheck verifies the gradients autodiff computes for f against central
// finite differences. f maps the inputs to a tensor of any shape; it is reduced
// to a scalar by a fixed random projection so every output element is tested.
// Every input that requires gradients is checked element by element. The
// projection sums in float64. GradCheck returns nil or an error describing the
// worst mismatch (input, index, analytic and numeric values).
func GradCheck(f func(inputs ...*Tensor) *Tensor, inputs []*Tensor, opt GradCheckOptions) error {
	if opt.Eps == 0 {
		opt.Eps = 1e-3
	}
	if opt.Atol == 0 {
		opt.Atol = 1e-3
	}
	if opt.Rtol == 0 {
		opt.Rtol = 1e-2
	}
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	for _, in := range inputs {
		in.ZeroGrad()
	}
	out := f(inputs...)
	r := rand.New(rand.NewPCG(opt.Seed, 7))
	proj := make([]float64, len(out.data))
	for i := range proj {
		proj[i] = r.Float64()*2 - 1
	}
	projected := func() float64 {
		defer NoGrad()()
		y := f(inputs...)
		var s float64
		for i, v := range y.data {
			s += float64(v) * proj[i]
		}
		return s
	}
	if !out.requiresGrad {
		return fmt.Errorf("gradcheck: the output does not require grad")
	}
	p := make([]float32, len(proj))
	for i, v := range proj {
		p[i] = float32(v)
	}
	out.BackwardWith(Wrap(p, out.shape...))
	worst, worstMsg := 0.0, ""
	for k, in := range inputs {
		if !in.requiresGrad {
			continue
		}
		for i := range in.data {
			orig := in.data[i]
			in.data[i] = orig + float32(opt.Eps)
			plus := projected()
			in.data[i] = orig - float32(opt.Eps)
			minus := projected()
			in.data[i] = orig
			h := float64(orig+float32(opt.Eps)) - float64(orig-float32(opt.Eps))
			numeric := (plus - minus) / h
			var analytic float64
			if in.grad != nil {
				analytic = float64(in.grad[i])
			}
			diff := math.Abs(analytic - numeric)
			allowed := opt.Atol + opt.Rtol*max(math.Abs(analytic), math.Abs(numeric))
			if excess := diff / allowed; excess > 1 && excess > worst || math.IsNaN(diff) && worst < math.Inf(1) {
				if math.IsNaN(diff) {
					excess = math.Inf(1)
				}
				worst = excess
				worstMsg = fmt.Sprintf("gradcheck: input %d %s element %d: analytic %.6g, numeric %.6g", k, FormatShape(in.shape), i, analytic, numeric)
			}
		}
	}
	if worstMsg != "" {
		return fmt.Errorf("%s", worstMsg)
	}
	return nil
}
