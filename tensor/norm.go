package tensor

import (
	"fmt"
	"math"
	"slices"
)

// normCheckParam panics unless p is nil or has exactly the given shape.
func normCheckParam(op, name string, p *Tensor, shape []int, x *Tensor) {
	if p != nil && !slices.Equal(p.shape, shape) {
		panic(fmt.Sprintf("%s: %s %s does not match shape %s expected for input %s", op, name, FormatShape(p.shape), FormatShape(shape), FormatShape(x.shape)))
	}
}

// normData returns p's values, or nil for a nil tensor.
func normData(p *Tensor) []float32 {
	if p == nil {
		return nil
	}
	return p.data
}

// normAffine writes out = (x − mean)·rstd·weight + bias plane by plane: x has
// `planes` contiguous planes of s values, plane p belongs to channel p mod c
// (which picks weight and bias, either may be nil) and uses the statistics at
// index stat(p).
func normAffine(out, x []float32, planes, c, s int, mean, rstd []float32, weight, bias *Tensor, stat func(p int) int) {
	w, b := normData(weight), normData(bias)
	parallelWork(planes, planes*s, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			ch, r := p%c, stat(p)
			m, a := mean[r], rstd[r]
			if w != nil {
				a *= w[ch]
			}
			var sh float32
			if b != nil {
				sh = b[ch]
			}
			yr := out[p*s : (p+1)*s]
			for j, v := range x[p*s : (p+1)*s] {
				yr[j] = (v-m)*a + sh
			}
		}
	})
}

// normRowStats computes, for each of rows contiguous rows of length d, the
// mean (as mean + meanLo, see normMoments) and 1/√(biased variance + eps).
func normRowStats(x []float32, rows, d int, eps float32) (mean, meanLo, rstd []float32) {
	mean, meanLo, rstd = make([]float32, rows), make([]float32, rows), make([]float32, rows)
	parallelWork(rows, rows*d, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			mean[r], meanLo[r], rstd[r] = normMoments(x[r*d:(r+1)*d], eps)
		}
	})
	return mean, meanLo, rstd
}

// normMoments returns the mean of xs as the float32 nearest to it plus the
// float32 nearest to the remainder, so that (x − mean) − meanLo is x minus
// the mean to float32 precision even when the mean is large against the
// spread, and 1/√(biased variance + eps). One pass accumulates Σd and Σd² in
// float64 with d = x − xs[0]: shifting by a sample keeps the sums of the
// order of the spread, so Σd²/n − (Σd/n)² does not cancel catastrophically.
func normMoments(xs []float32, eps float32) (mean, meanLo, rstd float32) {
	x0 := float64(xs[0])
	var s, ss float64
	for _, v := range xs {
		d := float64(v) - x0
		s += d
		ss += d * d
	}
	n := float64(len(xs))
	md := s / n
	m := x0 + md
	mean = float32(m)
	return mean, float32(m - float64(mean)), float32(1 / math.Sqrt(max(ss/n-md*md, 0)+float64(eps)))
}

// normBlocks is the number of row blocks whose partial weight and bias
// gradients LayerNorm's backward accumulates separately (so that parallel
// workers do not share them) and then adds in block order, for a result that
// does not depend on the number of workers.
const normBlocks = 32

// LayerNorm normalises x over its last normDims axes to zero mean and unit
// (biased) variance, then multiplies by weight and adds bias, both of the
// normalised shape x.Shape()[x.Dims()−normDims:] (either may be nil), as
// torch.nn.functional.layer_norm. Forward and backward are fused: the mean and
// 1/√(var+eps) of each row are computed once (in float64) and reused.
func LayerNorm(x, weight, bias *Tensor, normDims int, eps float32) *Tensor {
	const op = "layer_norm"
	nd := len(x.shape)
	if normDims < 1 || normDims > nd {
		panic(fmt.Sprintf("%s: cannot normalise the last %d axes of input %s", op, normDims, FormatShape(x.shape)))
	}
	ns := x.shape[nd-normDims:]
	normCheckParam(op, "weight", weight, ns, x)
	normCheckParam(op, "bias", bias, ns, x)
	d, rows := 1, 1
	for _, v := range ns {
		d *= v
	}
	for _, v := range x.shape[:nd-normDims] {
		rows *= v
	}
	if d == 0 {
		return record(op, Zeros(x.shape...), func([]float32) {}, x, weight, bias)
	}
	w, b := normData(weight), normData(bias)
	out := newOutputUninit(x.shape)
	mean, meanLo, rstd := make([]float32, rows), make([]float32, rows), make([]float32, rows)
	parallelWork(rows, 2*rows*d, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := x.data[r*d:(r+1)*d], out.data[r*d:(r+1)*d]
			m, ml, rs := normMoments(xr, eps)
			mean[r], meanLo[r], rstd[r] = m, ml, rs
			switch {
			case w != nil && b != nil:
				for j, v := range xr {
					yr[j] = ((v-m)-ml)*rs*w[j] + b[j]
				}
			case w != nil:
				for j, v := range xr {
					yr[j] = ((v - m) - ml) * rs * w[j]
				}
			case b != nil:
				for j, v := range xr {
					yr[j] = ((v-m)-ml)*rs + b[j]
				}
			default:
				for j, v := range xr {
					yr[j] = ((v - m) - ml) * rs
				}
			}
		}
	})
	return record(op, out, func(g []float32) {
		gx, gw, gb := gradOf(x), gradOf(weight), gradOf(bias)
		// Each block of rows adds g·x̂ and g into its own partial sums pw, pb.
		nb := min(rows, normBlocks)
		var pw, pb []float32
		if gw != nil {
			pw = getZeroedBuffer(nb * d)
			defer putBuffer(pw)
		}
		if gb != nil {
			pb = getZeroedBuffer(nb * d)
			defer putBuffer(pb)
		}
		passes := 1
		if gx != nil {
			passes = 2
		}
		parallelWork(nb, passes*rows*d, func(lo, hi int) {
			for blk := lo; blk < hi; blk++ {
				var bw, bb []float32
				if pw != nil {
					bw = pw[blk*d : (blk+1)*d]
				}
				if pb != nil {
					bb = pb[blk*d : (blk+1)*d]
				}
				for r := blk * rows / nb; r < (blk+1)*rows/nb; r++ {
					layerNormRowBackward(x.data[r*d:(r+1)*d], g[r*d:(r+1)*d], gx, r*d, w, bw, bb, mean[r], meanLo[r], rstd[r])
				}
			}
		})
		for blk := range nb {
			if gw != nil {
				for j, v := range pw[blk*d : (blk+1)*d] {
					gw[j] += v
				}
			}
			if gb != nil {
				for j, v := range pb[blk*d : (blk+1)*d] {
					gb[j] += v
				}
			}
		}
	}, x, weight, bias)
}

// layerNormRowBackward back-propagates g through one row xr of LayerNorm
// with statistics m + ml and rs: it adds the input gradient into
// gx[off:off+len(xr)] (unless gx is nil) and g·x̂ and g into the partial
// weight and bias gradients bw and bb (unless nil); w is the weight or nil.
// One pass reads the row for the two sums and the partials, one more writes
// the input gradient.
func layerNormRowBackward(xr, gr, gx []float32, off int, w, bw, bb []float32, m, ml, rs float32) {
	// dx = rs·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) with dx̂ = g·w.
	var sa, sb float64
	gr = gr[:len(xr)]
	if w != nil && bw != nil && bb != nil { // the usual case, without branches
		w, bw, bb = w[:len(xr)], bw[:len(xr)], bb[:len(xr)]
		for j, v := range xr {
			xh := ((v - m) - ml) * rs
			gv := gr[j]
			bw[j] += gv * xh
			bb[j] += gv
			gv *= w[j]
			sa += float64(gv)
			sb += float64(gv * xh)
		}
	} else {
		for j, v := range xr {
			xh := ((v - m) - ml) * rs
			gv := gr[j]
			if bw != nil {
				bw[j] += gv * xh
			}
			if bb != nil {
				bb[j] += gv
			}
			if w != nil {
				gv *= w[j]
			}
			sa += float64(gv)
			sb += float64(gv * xh)
		}
	}
	if gx == nil {
		return
	}
	n := float64(len(xr))
	ma, mb := float32(sa/n), float32(sb/n)
	dst := gx[off : off+len(xr)]
	if w == nil {
		for j, v := range xr {
			dst[j] += rs * (gr[j] - ma - ((v-m)-ml)*rs*mb)
		}
		return
	}
	w = w[:len(xr)]
	for j, v := range xr {
		dst[j] += rs * (gr[j]*w[j] - ma - ((v-m)-ml)*rs*mb)
	}
}

// RMSNorm returns x / √(mean(x², last axis) + eps) · weight, the root-mean-
// square normalisation of LLaMA-style models (torch.nn.functional.rms_norm
// over the last axis); weight has the size of the last axis or is nil.
func RMSNorm(x, weight *Tensor, eps float32) *Tensor {
	const op = "rms_norm"
	nd := len(x.shape)
	if nd == 0 {
		panic(fmt.Sprintf("%s: input %s needs at least one axis", op, FormatShape(x.shape)))
	}
	d := x.shape[nd-1]
	normCheckParam(op, "weight", weight, x.shape[nd-1:], x)
	rows := 1
	for _, v := range x.shape[:nd-1] {
		rows *= v
	}
	out := Zeros(x.shape...)
	if d == 0 {
		return record(op, out, func([]float32) {}, x, weight)
	}
	w := normData(weight)
	rstd := make([]float32, rows)
	parallelWork(rows, rows*d, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := x.data[r*d:(r+1)*d], out.data[r*d:(r+1)*d]
			var ss float64
			for _, v := range xr {
				ss += float64(v) * float64(v)
			}
			rs := float32(1 / math.Sqrt(ss/float64(d)+float64(eps)))
			rstd[r] = rs
			if w == nil {
				for j, v := range xr {
					yr[j] = v * rs
				}
				continue
			}
			for j, v := range xr {
				yr[j] = v * rs * w[j]
			}
		}
	})
	return record(op, out, func(g []float32) {
		gx, gw := gradOf(x), gradOf(weight)
		if gx != nil {
			parallelWork(rows, 2*rows*d, func(lo, hi int) {
				for r := lo; r < hi; r++ {
					rs := rstd[r]
					xr, gr, dst := x.data[r*d:(r+1)*d], g[r*d:(r+1)*d], gx[r*d:(r+1)*d]
					// dx = rs·(u − x·rs²·mean(u·x)) with u = g·w.
					var s float64
					for j, v := range xr {
						u := gr[j]
						if w != nil {
							u *= w[j]
						}
						s += float64(u) * float64(v)
					}
					c := rs * rs * float32(s/float64(d))
					for j, v := range xr {
						u := gr[j]
						if w != nil {
							u *= w[j]
						}
						dst[j] += rs * (u - v*c)
					}
				}
			})
		}
		if gw != nil {
			parallelWork(d, rows*d, func(lo, hi int) {
				dw := gw[lo:hi]
				for r := 0; r < rows; r++ {
					rs := rstd[r]
					xr, gr := x.data[r*d+lo:r*d+hi], g[r*d+lo:r*d+hi]
					for j, v := range xr {
						dw[j] += gr[j] * v * rs
					}
				}
			})
		}
	}, x, weight)
}

// BatchNorm normalises x per channel (axis 1) as torch.nn.functional.batch_norm:
// x is (N,C), (N,C,L), (N,C,H,W) or has more spatial axes; runningMean,
// runningVar, weight and bias have shape (C) and may be nil (the running
// statistics are required in evaluation mode).
//
// In training mode x is normalised with the batch mean and biased batch
// variance over N and the spatial axes, and runningMean/runningVar are updated
// in place as running = (1−momentum)·running + momentum·batch, using the
// unbiased batch variance for runningVar; no gradient flows into the running
// statistics. In evaluation mode x is normalised with the running statistics.
// The result is then scaled by weight and shifted by bias.
func BatchNorm(x, runningMean, runningVar, weight, bias *Tensor, training bool, momentum, eps float32) *Tensor {
	const op = "batch_norm"
	if len(x.shape) < 2 {
		panic(fmt.Sprintf("%s: input %s must have a batch and a channel axis (N,C,…)", op, FormatShape(x.shape)))
	}
	n, c := x.shape[0], x.shape[1]
	s := 1
	for _, v := range x.shape[2:] {
		s *= v
	}
	cs := []int{c}
	normCheckParam(op, "running_mean", runningMean, cs, x)
	normCheckParam(op, "running_var", runningVar, cs, x)
	normCheckParam(op, "weight", weight, cs, x)
	normCheckParam(op, "bias", bias, cs, x)
	cnt := n * s
	if training && cnt <= 1 {
		panic(fmt.Sprintf("%s: expected more than 1 value per channel when training, got input %s", op, FormatShape(x.shape)))
	}
	if !training && (runningMean == nil || runningVar == nil) {
		panic(fmt.Sprintf("%s: running_mean and running_var are required in evaluation mode (input %s)", op, FormatShape(x.shape)))
	}
	mean, rstd := make([]float32, c), make([]float32, c)
	if training {
		parallelWork(c, n*c*s, func(lo, hi int) {
			for ch := lo; ch < hi; ch++ {
				var sum float64
				for i := 0; i < n; i++ {
					for _, v := range x.data[(i*c+ch)*s : (i*c+ch+1)*s] {
						sum += float64(v)
					}
				}
				m := sum / float64(cnt)
				var ss float64
				for i := 0; i < n; i++ {
					for _, v := range x.data[(i*c+ch)*s : (i*c+ch+1)*s] {
						d := float64(v) - m
						ss += d * d
					}
				}
				mean[ch], rstd[ch] = float32(m), float32(1/math.Sqrt(ss/float64(cnt)+float64(eps)))
				mom := float64(momentum)
				if runningMean != nil {
					rm := &runningMean.data[ch]
					*rm = float32((1-mom)*float64(*rm) + mom*m)
				}
				if runningVar != nil {
					rv := &runningVar.data[ch]
					*rv = float32((1-mom)*float64(*rv) + mom*ss/float64(cnt-1))
				}
			}
		})
	} else {
		copy(mean, runningMean.data)
		for ch, v := range runningVar.data {
			rstd[ch] = float32(1 / math.Sqrt(float64(v)+float64(eps)))
		}
	}
	out := Zeros(x.shape...)
	normAffine(out.data, x.data, n*c, c, s, mean, rstd, weight, bias, func(p int) int { return p % c })
	w := normData(weight)
	return record(op, out, func(g []float32) {
		gx, gw, gb := gradOf(x), gradOf(weight), gradOf(bias)
		parallelWork(c, 2*n*c*s, func(lo, hi int) {
			for ch := lo; ch < hi; ch++ {
				m, rs := mean[ch], rstd[ch]
				// sg = Σ g and sgx = Σ g·x̂ over the channel.
				var sg, sgx float64
				for i := 0; i < n; i++ {
					xr, gr := x.data[(i*c+ch)*s:(i*c+ch+1)*s], g[(i*c+ch)*s:(i*c+ch+1)*s]
					for j, v := range xr {
						sg += float64(gr[j])
						sgx += float64(gr[j] * (v - m) * rs)
					}
				}
				if gw != nil {
					gw[ch] += float32(sgx)
				}
				if gb != nil {
					gb[ch] += float32(sg)
				}
				if gx == nil {
					continue
				}
				a := rs
				if w != nil {
					a *= w[ch]
				}
				// Training: dx = w·rs·(g − mean(g) − x̂·mean(g·x̂)); eval: dx = w·rs·g.
				var mg, mgx float32
				if training {
					mg, mgx = float32(sg/float64(cnt)), float32(sgx/float64(cnt))
				}
				for i := 0; i < n; i++ {
					xr, gr := x.data[(i*c+ch)*s:(i*c+ch+1)*s], g[(i*c+ch)*s:(i*c+ch+1)*s]
					dst := gx[(i*c+ch)*s : (i*c+ch+1)*s]
					if !training {
						for j, v := range gr {
							dst[j] += a * v
						}
						continue
					}
					for j, v := range xr {
						dst[j] += a * (gr[j] - mg - (v-m)*rs*mgx)
					}
				}
			}
		})
	}, x, weight, bias)
}

// GroupNorm splits the channels (axis 1) of x (N,C,…) into groups and
// normalises each (sample, group) over its channels and spatial positions to
// zero mean and unit (biased) variance, then scales and shifts each channel by
// weight and bias of shape (C) (either may be nil), as
// torch.nn.functional.group_norm. C must be divisible by groups.
func GroupNorm(x, weight, bias *Tensor, groups int, eps float32) *Tensor {
	const op = "group_norm"
	if len(x.shape) < 2 {
		panic(fmt.Sprintf("%s: input %s must have a batch and a channel axis (N,C,…)", op, FormatShape(x.shape)))
	}
	n, c := x.shape[0], x.shape[1]
	if groups < 1 || c%groups != 0 {
		panic(fmt.Sprintf("%s: input %s has %d channels, which groups %d does not divide", op, FormatShape(x.shape), c, groups))
	}
	cs := []int{c}
	normCheckParam(op, "weight", weight, cs, x)
	normCheckParam(op, "bias", bias, cs, x)
	s := 1
	for _, v := range x.shape[2:] {
		s *= v
	}
	cg := c / groups
	rows, d := n*groups, cg*s
	out := Zeros(x.shape...)
	if d == 0 {
		return record(op, out, func([]float32) {}, x, weight, bias)
	}
	mean, _, rstd := normRowStats(x.data, rows, d, eps)
	normAffine(out.data, x.data, n*c, c, s, mean, rstd, weight, bias, func(p int) int { return p/c*groups + p%c/cg })
	w := normData(weight)
	return record(op, out, func(g []float32) {
		gx, gw, gb := gradOf(x), gradOf(weight), gradOf(bias)
		// sg[n,c] = Σ g and sgx[n,c] = Σ g·x̂ over the spatial positions.
		sg, sgx := make([]float64, n*c), make([]float64, n*c)
		parallelWork(n*c, 2*n*c*s, func(lo, hi int) {
			for p := lo; p < hi; p++ {
				r := p/c*groups + p%c/cg
				m, rs := mean[r], rstd[r]
				gr := g[p*s : (p+1)*s]
				var a, bb float64
				for j, v := range x.data[p*s : (p+1)*s] {
					a += float64(gr[j])
					bb += float64(gr[j] * (v - m) * rs)
				}
				sg[p], sgx[p] = a, bb
			}
		})
		for p := 0; p < n*c; p++ {
			if gw != nil {
				gw[p%c] += float32(sgx[p])
			}
			if gb != nil {
				gb[p%c] += float32(sg[p])
			}
		}
		if gx == nil {
			return
		}
		// dx = rs·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) per (sample, group), dx̂ = g·w.
		parallelWork(rows, 2*n*c*s, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				m, rs := mean[r], rstd[r]
				p0 := r/groups*c + r%groups*cg
				var sa, sb float64
				for ci := 0; ci < cg; ci++ {
					wc := float64(1)
					if w != nil {
						wc = float64(w[p0%c+ci])
					}
					sa += wc * sg[p0+ci]
					sb += wc * sgx[p0+ci]
				}
				ma, mb := float32(sa/float64(d)), float32(sb/float64(d))
				for ci := 0; ci < cg; ci++ {
					p := p0 + ci
					wc := float32(1)
					if w != nil {
						wc = w[p%c]
					}
					gr, dst := g[p*s:(p+1)*s], gx[p*s:(p+1)*s]
					for j, v := range x.data[p*s : (p+1)*s] {
						dst[j] += rs * (gr[j]*wc - ma - (v-m)*rs*mb)
					}
				}
			}
		})
	}, x, weight, bias)
}
