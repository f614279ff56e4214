package tensor

import (
	"fmt"

	"github.com/graftml/graft/tensor/gemm"
)

// The two halves of multi-head scaled dot-product attention, computed on the
// projections' own layout: heads side by side in the last axis, (N, L, H·E).
// Each head's matrices are read and written in place through the GEMM's
// leading dimension, so no head is ever copied out (split) or back (merged),
// and the scale, mask and softmax are applied to each head's score block
// while it is still in cache.

// attentionHeads checks q (N, L, D) and k (N, S, D) for AttentionWeights and
// returns the sizes.
func attentionHeads(op string, q, k *Tensor, heads int) (n, l, s, e int) {
	if len(q.shape) != 3 || len(k.shape) != 3 || q.shape[0] != k.shape[0] || q.shape[2] != k.shape[2] {
		panic(fmt.Sprintf("%s: query %s and key %s must be (batch, length, width) with the same batch and width", op, FormatShape(q.shape), FormatShape(k.shape)))
	}
	if heads <= 0 || q.shape[2]%heads != 0 {
		panic(fmt.Sprintf("%s: width %d is not divisible by %d heads", op, q.shape[2], heads))
	}
	return q.shape[0], q.shape[1], k.shape[1], q.shape[2] / heads
}

// maskStrides returns the strides that broadcast mask to (n, h, l, s): 0 along
// the axes where the mask has size 1 (or is missing on the left).
func maskStrides(op string, mask *Tensor, dims [4]int) [4]int {
	var st [4]int
	ms := mask.shape
	if len(ms) > 4 {
		panic(fmt.Sprintf("%s: mask %s has more than 4 axes", op, FormatShape(ms)))
	}
	stride := 1
	for i := 3; i >= 0; i-- {
		j := len(ms) - 4 + i
		if j < 0 {
			continue
		}
		switch ms[j] {
		case dims[i]:
			st[i] = stride
		case 1:
		default:
			panic(fmt.Sprintf("%s: mask %s does not broadcast to the scores (%d,%d,%d,%d)", op, FormatShape(ms), dims[0], dims[1], dims[2], dims[3]))
		}
		stride *= ms[j]
	}
	return st
}

// AttentionWeights returns the attention weights softmax(scale·q·kᵀ + mask)
// of every head, (N, H, L, S), for queries q (N, L, H·E) and keys k (N, S, H·E)
// laid out as the projections give them: head h is columns h·E…(h+1)·E−1.
// mask, if not nil, is added to the scores before the softmax and must
// broadcast to (N, H, L, S): 0 where attending is allowed, −Inf where not. The
// mask is a constant: it may not require gradients. A row whose scores are
// all −Inf is NaN, as in Softmax.
func AttentionWeights(q, k *Tensor, heads int, scale float32, mask *Tensor) *Tensor {
	const op = "attention_weights"
	n, l, s, e := attentionHeads(op, q, k, heads)
	d := heads * e
	var ms [4]int
	if mask != nil {
		if mask.requiresGrad {
			panic(fmt.Sprintf("%s: the mask %s requires gradients; a mask is a constant here (add a learned bias to the scores with MatMul and Softmax instead)", op, FormatShape(mask.shape)))
		}
		ms = maskStrides(op, mask, [4]int{n, heads, l, s})
	}
	out := newOutputUninit([]int{n, heads, l, s})
	w := out.data
	parallelFor(n*heads, 2*l*s*e+8*l*s, func(lo, hi int) {
		for item := lo; item < hi; item++ {
			b, h := item/heads, item%heads
			block := w[item*l*s : (item+1)*l*s]
			if l == 0 || s == 0 {
				continue
			}
			gemm.Sgemm(false, true, l, s, e, scale, q.data[b*l*d+h*e:], d, k.data[b*s*d+h*e:], d, 0, block, s)
			for i := 0; i < l; i++ {
				row := block[i*s : (i+1)*s]
				if mask != nil {
					mrow := b*ms[0] + h*ms[1] + i*ms[2]
					for j := range row {
						row[j] += mask.data[mrow+j*ms[3]]
					}
				}
				smRow(row, row, false)
			}
		}
	})
	return record(op, out, func(g []float32) {
		gq, gk := gradOf(q), gradOf(k)
		parallelFor(n*heads, 6*l*s*e, func(lo, hi int) {
			ds := getBuffer(l * s)
			defer putBuffer(ds)
			for item := lo; item < hi; item++ {
				b, h := item/heads, item%heads
				off := item * l * s
				clear(ds)
				for i := 0; i < l; i++ {
					r := off + i*s
					smRowBackward(ds[i*s:(i+1)*s], g[r:r+s], w[r:r+s], nil, false)
				}
				qo, ko := b*l*d+h*e, b*s*d+h*e
				if gq != nil {
					gemm.Sgemm(false, false, l, e, s, scale, ds, s, k.data[ko:], d, 1, gq[qo:], d)
				}
				if gk != nil {
					gemm.Sgemm(true, false, s, e, l, scale, ds, s, q.data[qo:], d, 1, gk[ko:], d)
				}
			}
		})
	}, q, k)
}

// AttentionContext returns every head's weighted sum of values, merged back
// into the projections' layout: for weights (N, H, L, S) from
// AttentionWeights and values v (N, S, H·E) it returns (N, L, H·E), head h in
// columns h·E…(h+1)·E−1 — what an attention layer's output projection takes.
func AttentionContext(weights, v *Tensor) *Tensor {
	const op = "attention_context"
	ws := weights.shape
	if len(ws) != 4 || len(v.shape) != 3 || ws[0] != v.shape[0] || ws[3] != v.shape[1] || ws[1] <= 0 || v.shape[2]%ws[1] != 0 {
		panic(fmt.Sprintf("%s: weights %s must be (batch, heads, length, keys) and values %s (batch, keys, width) with the width divisible by the heads", op, FormatShape(ws), FormatShape(v.shape)))
	}
	n, heads, l, s := ws[0], ws[1], ws[2], ws[3]
	d := v.shape[2]
	e := d / heads
	out := newOutput([]int{n, l, d})
	parallelFor(n*heads, 2*l*s*e, func(lo, hi int) {
		for item := lo; item < hi; item++ {
			b, h := item/heads, item%heads
			if l > 0 && e > 0 {
				gemm.Sgemm(false, false, l, e, s, 1, weights.data[item*l*s:], max(s, 1), v.data[b*s*d+h*e:], d, 0, out.data[b*l*d+h*e:], d)
			}
		}
	})
	return record(op, out, func(g []float32) {
		gw, gv := gradOf(weights), gradOf(v)
		parallelFor(n*heads, 4*l*s*e, func(lo, hi int) {
			for item := lo; item < hi; item++ {
				b, h := item/heads, item%heads
				if l == 0 || s == 0 || e == 0 {
					continue
				}
				wo, vo, oo := item*l*s, b*s*d+h*e, b*l*d+h*e
				if gw != nil {
					gemm.Sgemm(false, true, l, s, e, 1, g[oo:], d, v.data[vo:], d, 1, gw[wo:], s)
				}
				if gv != nil {
					gemm.Sgemm(true, false, s, e, l, 1, weights.data[wo:], s, g[oo:], d, 1, gv[vo:], d)
				}
			}
		})
	}, weights, v)
}
