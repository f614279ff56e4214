package tensor

import (
	"fmt"
	"math"

	"github.com/graftml/graft/tensor/internal/vexp"
)

// CrossEntropyLabels returns the cross-entropy between logits (…, C), classes
// on the last axis, and one integer class label per row, as PyTorch's
// F.cross_entropy: labelSmoothing ε in [0, 1) replaces the one-hot target by
// (1−ε)·one-hot + ε/C, classWeight (nil: all 1, else one per class) weights
// each class's term, and negative labels (PyTorch's ignore index −100) mark
// rows that do not count. reduction is "mean" (the sum over counted rows
// divided by the sum of their labels' weights; NaN when no row counts), "sum",
// or "none" (the per-row losses, shape logits.Shape()[:Dims−1], 0 for ignored
// rows). It is log-softmax followed by the negative log-likelihood, computed
// in one pass per row without the log-probabilities; the gradient with
// respect to the logits is g·(A·softmax − target weights) per row.
func CrossEntropyLabels(logits *Tensor, labels []int, classWeight []float32, labelSmoothing float32, reduction string) *Tensor {
	const op = "cross_entropy"
	nd := len(logits.shape)
	if nd == 0 {
		panic(fmt.Sprintf("%s: logits must have a class axis, got a scalar", op))
	}
	classes := logits.shape[nd-1]
	rows := len(logits.data) / max(classes, 1)
	if len(labels) != rows {
		panic(fmt.Sprintf("%s: %d labels for logits %s (%d rows)", op, len(labels), FormatShape(logits.shape), rows))
	}
	if classWeight != nil && len(classWeight) != classes {
		panic(fmt.Sprintf("%s: %d class weights for %d classes", op, len(classWeight), classes))
	}
	if labelSmoothing < 0 || labelSmoothing >= 1 {
		panic(fmt.Sprintf("%s: label smoothing %v is outside [0, 1)", op, labelSmoothing))
	}
	if reduction != "mean" && reduction != "sum" && reduction != "none" {
		panic(fmt.Sprintf("%s: reduction %v is not mean, sum or none", op, reduction))
	}
	w := func(c int) float64 {
		if classWeight == nil {
			return 1
		}
		return float64(classWeight[c])
	}
	// total is the mean's divisor, wAll = Σ_c w_c the weight of the uniform part.
	var total, wAll float64
	for i, y := range labels {
		if y >= classes {
			panic(fmt.Sprintf("%s: label %d at position %d is outside [0, %d)", op, y, i, classes))
		}
		if y >= 0 {
			total += w(y)
		}
	}
	for c := range classes {
		wAll += w(c)
	}
	eps, perClass := float64(labelSmoothing), float64(labelSmoothing)/float64(classes)

	// Per counted row: the maximum m, the log-sum-exp ls of x − m, and
	// loss = (1−ε)·w_y·(m + ls − x_y) + ε/C·Σ_c w_c·(m + ls − x_c).
	rmax, rlse, loss := make([]float32, rows), make([]float64, rows), make([]float64, rows)
	labelledRows(labels, classes, func(r, y int, e []float32) {
		x := logits.data[r*classes : (r+1)*classes]
		m := vexp.Max(x)
		ls := math.Log(vexp.ExpSum(e, x, m))
		rmax[r], rlse[r] = m, ls
		lz := float64(m) + ls
		l := (1 - eps) * w(y) * (lz - float64(x[y]))
		if eps > 0 {
			var sx float64
			for c, v := range x {
				sx += w(c) * float64(v)
			}
			l += perClass * (wAll*lz - sx)
		}
		loss[r] = l
	})

	var out *Tensor
	if reduction == "none" {
		out = newOutputUninit(logits.shape[:nd-1])
		for r, l := range loss {
			out.data[r] = float32(l)
		}
	} else {
		var s float64
		for _, l := range loss {
			s += l
		}
		if reduction == "mean" {
			s /= total
		}
		out = newOutputUninit(nil)
		out.data[0] = float32(s)
	}
	return record(op, out, func(g []float32) {
		gx := gradOf(logits)
		if gx == nil {
			return
		}
		labelledRows(labels, classes, func(r, y int, e []float32) {
			var gr float64
			switch reduction {
			case "none":
				gr = float64(g[r])
			case "sum":
				gr = float64(g[0])
			default:
				gr = float64(g[0]) / total
			}
			// d loss/dx_c = A·softmax_c − (1−ε)·w_y·[c = y] − ε/C·w_c with
			// A = (1−ε)·w_y + ε/C·Σw, and softmax = exp(x − m)·exp(−ls).
			x, dst := logits.data[r*classes:(r+1)*classes], gx[r*classes:(r+1)*classes]
			vexp.ExpSum(e, x, rmax[r])
			wy := w(y)
			scale := float32(gr * ((1-eps)*wy + perClass*wAll) * math.Exp(-rlse[r]))
			k := float32(gr * perClass)
			switch {
			case k == 0:
				for c, v := range e {
					dst[c] += scale * v
				}
			case classWeight == nil:
				for c, v := range e {
					dst[c] += scale*v - k
				}
			default:
				for c, v := range e {
					dst[c] += scale*v - k*classWeight[c]
				}
			}
			dst[y] -= float32(gr * (1 - eps) * wy)
		})
	}, logits)
}

// labelledRows calls f, in parallel, for every row r of a (rows, classes)
// logits matrix whose label y is not ignored (negative), with a scratch row e
// of its own per goroutine.
func labelledRows(labels []int, classes int, f func(r, y int, e []float32)) {
	parallelFor(len(labels), 3*classes, func(lo, hi int) {
		e := make([]float32, classes)
		for r := lo; r < hi; r++ {
			if y := labels[r]; y >= 0 {
				f(r, y, e)
			}
		}
	})
}
