package nn

import (
	"fmt"
	"math"

	"github.com/graftml/graft/tensor"
)

// Reduction says how a loss combines per-example values.
type Reduction int

const (
	// Mean averages (weighted, where a loss has weights) — the default.
	Mean Reduction = iota
	// Sum adds the per-example losses.
	Sum
	// None returns the per-example losses.
	None
	// BatchMean divides the total by the batch size (the first dimension), as
	// KL divergence should be reduced.
	BatchMean
)

// String names the reduction as PyTorch's reduction argument does.
func (r Reduction) String() string {
	switch r {
	case Mean:
		return "mean"
	case Sum:
		return "sum"
	case None:
		return "none"
	case BatchMean:
		return "batchmean"
	}
	return fmt.Sprintf("Reduction(%d)", int(r))
}

func reduce(op string, losses *tensor.Tensor, r Reduction) *tensor.Tensor {
	switch r {
	case Mean:
		return losses.Mean()
	case Sum:
		return losses.Sum()
	case None:
		return losses
	case BatchMean:
		if losses.Dims() == 0 {
			return losses
		}
		return losses.Sum().Scale(1 / float32(losses.Dim(0)))
	}
	panic(fmt.Sprintf("%s: unknown reduction %v", op, r))
}

// CrossEntropyOptions tunes CrossEntropy; the zero value is PyTorch's default.
type CrossEntropyOptions struct {
	LabelSmoothing float32   // ε in [0, 1): target = (1−ε)·one-hot + ε/C
	Weight         []float32 // per-class weights (nil: all 1)
	Reduction      Reduction // Mean (weighted by the targets' class weights), Sum or None
}

// CrossEntropy returns the cross-entropy between logits (…, C) — classes on
// the last axis — and integer labels, one per row. Negative labels (PyTorch's
// ignore index −100, or any negative) are ignored. It is log-softmax followed
// by the negative log-likelihood, with optional label smoothing and class
// weights, reduced as PyTorch's F.cross_entropy, computed as one fused
// operation (tensor.CrossEntropyLabels).
func CrossEntropy(logits *tensor.Tensor, labels []int, opts ...CrossEntropyOptions) *tensor.Tensor {
	var opt CrossEntropyOptions
	if len(opts) > 0 {
		opt = opts[0]
	}
	return tensor.CrossEntropyLabels(logits, labels, opt.Weight, opt.LabelSmoothing, opt.Reduction.String())
}

// NLLLoss returns the negative log-likelihood of labels under log-probabilities
// (…, C), with the same options and ignore rule as CrossEntropy except label
// smoothing, which it ignores.
func NLLLoss(logProbs *tensor.Tensor, labels []int, opts ...CrossEntropyOptions) *tensor.Tensor {
	var opt CrossEntropyOptions
	if len(opts) > 0 {
		opt = opts[0]
	}
	return classLoss("nll_loss", logProbs, labels, opt)
}

// classLoss implements NLLLoss over log-probabilities; it ignores opt.LabelSmoothing.
func classLoss(op string, logp *tensor.Tensor, labels []int, opt CrossEntropyOptions) *tensor.Tensor {
	if logp.Dims() == 0 {
		panic(fmt.Sprintf("%s: logits must have a class axis, got a scalar", op))
	}
	classes := logp.Dim(-1)
	rows := logp.Len() / max(classes, 1)
	if len(labels) != rows {
		panic(fmt.Sprintf("%s: %d labels for logits %s (%d rows)", op, len(labels), tensor.FormatShape(logp.Shape()), rows))
	}
	if opt.Weight != nil && len(opt.Weight) != classes {
		panic(fmt.Sprintf("%s: %d class weights for %d classes", op, len(opt.Weight), classes))
	}
	classW := func(c int) float32 {
		if opt.Weight == nil {
			return 1
		}
		return opt.Weight[c]
	}
	lp := logp.Reshape(rows, classes)
	idx := tensor.Zeros(rows, 1)
	rowW := tensor.Zeros(rows) // weight of each row's target, 0 if ignored
	var total float32
	for i, y := range labels {
		if y < 0 {
			continue
		}
		if y >= classes {
			panic(fmt.Sprintf("%s: label %d at position %d is outside [0, %d)", op, y, i, classes))
		}
		idx.Data()[i] = float32(y)
		rowW.Data()[i] = classW(y)
		total += classW(y)
	}
	losses := lp.Gather(1, idx).Reshape(rows).Mul(rowW).Neg()
	switch opt.Reduction {
	case Mean:
		if total == 0 {
			return losses.Sum().Scale(float32(0) / total) // NaN, as PyTorch when every label is ignored
		}
		return losses.Sum().Scale(1 / total)
	case Sum:
		return losses.Sum()
	case None:
		return losses.Reshape(logp.Shape()[:logp.Dims()-1]...)
	}
	panic(fmt.Sprintf("%s: reduction %v is not mean, sum or none", op, opt.Reduction))
}

// MSELoss returns the mean squared error between pred and target (same shape), reduced as asked (default Mean).
func MSELoss(pred, target *tensor.Tensor, reduction ...Reduction) *tensor.Tensor {
	sameShape("mse_loss", pred, target)
	return reduce("mse_loss", pred.Sub(target).Square(), pick(reduction))
}

// L1Loss returns the mean absolute error between pred and target (same shape).
func L1Loss(pred, target *tensor.Tensor, reduction ...Reduction) *tensor.Tensor {
	sameShape("l1_loss", pred, target)
	return reduce("l1_loss", pred.Sub(target).Abs(), pick(reduction))
}

// BCEWithLogits returns the binary cross-entropy of targets in [0, 1] under
// sigmoid(logits), computed stably as max(x,0) − x·y + log(1+e^(−|x|)).
// posWeight (nil or broadcastable to the logits) weights the positive term, as PyTorch's pos_weight.
func BCEWithLogits(logits, targets, posWeight *tensor.Tensor, reduction ...Reduction) *tensor.Tensor {
	sameShape("binary_cross_entropy_with_logits", logits, targets)
	x, y := logits, targets
	// log(1+e^(−|x|)) + max(−x, 0) = softplus(−x) = −log σ(x)
	negLogSig := x.Neg().Softplus()
	var losses *tensor.Tensor
	if posWeight == nil {
		losses = x.Sub(x.Mul(y)).Add(negLogSig)
	} else {
		// (1−y)·x + (1 + (pw−1)·y)·softplus(−x)
		lw := posWeight.AddScalar(-1).Mul(y).AddScalar(1)
		losses = tensor.Ones(1).Sub(y).Mul(x).Add(lw.Mul(negLogSig))
	}
	return reduce("binary_cross_entropy_with_logits", losses, pick(reduction))
}

// KLDiv returns KL(p ‖ q) = Σ p·(log p − log q) given log q and p (same
// shape), as PyTorch's F.kl_div(logQ, p); entries with p = 0 contribute 0.
// Use BatchMean for the mathematically correct per-example mean.
func KLDiv(logQ, p *tensor.Tensor, reduction ...Reduction) *tensor.Tensor {
	sameShape("kl_div", logQ, p)
	logP := p.Clamp(1e-30, math.MaxFloat32).Log() // p·log p is 0 where p = 0
	return reduce("kl_div", p.Mul(logP.Sub(logQ)), pick(reduction))
}

// Entropy returns the Shannon entropy −Σ softmax·log-softmax of the logits
// over the last axis, averaged over the rows (reduction as asked; default Mean).
func Entropy(logits *tensor.Tensor, reduction ...Reduction) *tensor.Tensor {
	logp := logits.LogSoftmax(-1)
	h := logp.Exp().Mul(logp).Sum(-1).Neg()
	return reduce("entropy", h, pick(reduction))
}

// Accuracy returns the fraction of rows of logits (…, C) whose argmax equals
// the label; negative labels are skipped. It returns NaN when no label counts.
func Accuracy(logits *tensor.Tensor, labels []int) float64 {
	pred := logits.Reshape(-1, logits.Dim(-1)).Argmax(1).Ints()
	if len(pred) != len(labels) {
		panic(fmt.Sprintf("accuracy: %d labels for %d rows of logits %s", len(labels), len(pred), tensor.FormatShape(logits.Shape())))
	}
	correct, n := 0, 0
	for i, y := range labels {
		if y < 0 {
			continue
		}
		n++
		if pred[i] == y {
			correct++
		}
	}
	return float64(correct) / float64(n)
}

func pick(r []Reduction) Reduction {
	if len(r) == 0 {
		return Mean
	}
	return r[0]
}

func sameShape(op string, a, b *tensor.Tensor) {
	if !tensor.SameShape(a, b) {
		panic(fmt.Sprintf("%s: input %s and target %s differ in shape", op, tensor.FormatShape(a.Shape()), tensor.FormatShape(b.Shape())))
	}
}
