package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/graftml/graft/tensor"
)

// unfusedCrossEntropy is cross-entropy composed of separate ops: LogSoftmax,
// NLLLoss and, for label smoothing, the weighted sum of the log-probabilities.
func unfusedCrossEntropy(logits *tensor.Tensor, labels []int, opt CrossEntropyOptions) *tensor.Tensor {
	lp := logits.LogSoftmax(-1)
	eps := opt.LabelSmoothing
	if eps == 0 {
		return NLLLoss(lp, labels, opt)
	}
	classes := logits.Dim(-1)
	cw, keep := tensor.Ones(classes), tensor.Zeros(len(labels))
	if opt.Weight != nil {
		cw = tensor.New(opt.Weight, classes)
	}
	var total float32
	for i, y := range labels {
		if y >= 0 {
			keep.Data()[i] = 1
			total += cw.Data()[y]
		}
	}
	smooth := lp.Mul(cw).Sum(1).Mul(keep).Neg().Scale(eps / float32(classes))
	nll := NLLLoss(lp, labels, CrossEntropyOptions{Weight: opt.Weight, Reduction: None}).Scale(1 - eps)
	losses := nll.Add(smooth)
	switch opt.Reduction {
	case Sum:
		return losses.Sum()
	case None:
		return losses
	}
	return losses.Sum().Scale(1 / total)
}

// TestCrossEntropyMatchesUnfused compares the fused CrossEntropy with the
// composition of LogSoftmax and NLLLoss (plus the smoothing term), values and
// logits' gradients. The composition rounds each log-probability to float32
// (2⁻²⁴ relatively) before reducing in float32, the fused op reduces in
// float64 with exponentials within 2 ulp: the losses agree within
// 2⁻²⁰·(1 + |loss|), the gradients within 2⁻²⁰ of the largest gradient.
func TestCrossEntropyMatchesUnfused(t *testing.T) {
	r := tensor.NewRNG(11)
	logits := tensor.Normal(r, 0, 4, 64, 100).SetRequiresGrad(true)
	labels := make([]int, 64)
	for i := range labels {
		labels[i] = (i * 13) % 100
		if i%9 == 8 {
			labels[i] = -100
		}
	}
	weight := make([]float32, 100)
	for c := range weight {
		weight[c] = 0.25 + float32(c%4)*0.5
	}
	for _, red := range []Reduction{Mean, Sum, None} {
		for _, wt := range [][]float32{nil, weight} {
			for _, eps := range []float32{0, 0.1} {
				opt := CrossEntropyOptions{LabelSmoothing: eps, Weight: wt, Reduction: red}
				name := fmt.Sprintf("%v weighted %v ε %v", red, wt != nil, eps)
				grads := [2][]float32{}
				vals := [2][]float32{}
				for i, f := range []func(*tensor.Tensor, []int, ...CrossEntropyOptions) *tensor.Tensor{
					CrossEntropy,
					func(x *tensor.Tensor, l []int, o ...CrossEntropyOptions) *tensor.Tensor {
						return unfusedCrossEntropy(x, l, o[0])
					},
				} {
					logits.ZeroGrad()
					out := f(logits, labels, opt)
					vals[i] = append([]float32(nil), out.Data()...)
					out.Sum().Backward()
					grads[i] = append([]float32(nil), logits.GradData()...)
				}
				if len(vals[0]) != len(vals[1]) {
					t.Fatalf("%s: %d values, unfused %d", name, len(vals[0]), len(vals[1]))
				}
				for i, v := range vals[0] {
					if w := float64(vals[1][i]); math.Abs(float64(v)-w) > 0x1p-20*(1+math.Abs(w)) {
						t.Errorf("%s: loss[%d] = %v, unfused %v", name, i, v, w)
					}
				}
				var gmax float64
				for _, g := range grads[1] {
					gmax = max(gmax, math.Abs(float64(g)))
				}
				for i, g := range grads[0] {
					if w := float64(grads[1][i]); math.Abs(float64(g)-w) > 0x1p-20*gmax {
						t.Fatalf("%s: gradient[%d] = %v, unfused %v (largest %v)", name, i, g, w, gmax)
					}
				}
			}
		}
	}
}
